"""A loopback HTTP(S) server posing as a conda channel, and the two wire-log formats.

conda is pointed at ``http://127.0.0.1:<port>/`` with ``--override-channels``. The server
answers ``<subdir>/repodata.json`` with an empty valid repodata document, everything else
with 404, and records each request's method, path and User-Agent. It binds 127.0.0.1 on a
free port, so nothing leaves the machine, and it stops itself after ``lifetime`` seconds
even if the caller forgets to. Given an ``ssl.SSLContext`` it serves HTTPS instead: each
connection's TLS handshake runs in that connection's thread, handshakes that complete are
counted and those that fail are recorded with the SSL error (``ca.https`` reads both).

Logs: ``format_wire_log`` writes the recorder format of the recorded fixtures
(``METHOD PATH<TAB>User-Agent: <value>``, ``#`` comments); ``parse_wire_log`` reads that and
proxyspy's log (``[C->P] GET /path HTTP/1.1`` followed by ``  | User-Agent: ...`` lines).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

DEFAULT_LIFETIME = 1800.0
_SUBDIR = re.compile(r"^[A-Za-z0-9_.-]+$")
_RECORDER_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+)\t(?P<rest>.*)$")
_PROXYSPY_REQUEST = re.compile(r"\[C->P\] (?P<method>[A-Z]+) (?P<path>\S+) HTTP/\d(?:\.\d)?\s*$")
_PROXYSPY_HEADER = re.compile(r"^  \| (?P<name>[^:]+): ?(?P<value>.*)$")
_UA_PREFIX = "User-Agent: "
NO_AGENT = "(no User-Agent)"
HANDSHAKE_TIMEOUT = 30.0
_EXIT_CODE = re.compile(r"^# conda exit code: (?P<code>-?\d+)\s*$")
_TLS_OK = re.compile(r"^# tls handshakes completed: (?P<count>\d+)\s*$")
_TLS_FAILED = "# tls handshake failed: "
_STDOUT_MARK = "# --- conda stdout ---"
_STDERR_MARK = "# --- conda stderr ---"


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str
    user_agent: str | None


def empty_repodata(subdir: str) -> dict[str, object]:
    return {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {}}


def repodata_subdir(path: str) -> str | None:
    """The subdir when ``path`` asks for ``[<anything>/]<subdir>/repodata.json``."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    if len(parts) >= 2 and parts[-1] == "repodata.json" and _SUBDIR.match(parts[-2]):
        return parts[-2]
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as conda's requests session expects
    server: _Server

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        self.server.capture.record(
            WireRequest(self.command, self.path, self.headers.get("User-Agent"))
        )
        subdir = repodata_subdir(self.path)
        if subdir is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(empty_repodata(subdir)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are recorded, not printed


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, capture: CaptureServer, context: ssl.SSLContext | None) -> None:
        self.capture = capture
        self.context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's own thread: the TLS handshake happens here, so a slow or
        failing client never blocks the accepting thread."""
        if self.context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            # wrap_socket detaches `request`; on a failed handshake it closes what it made
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.capture.record_tls_error(f"{type(exc).__name__}: {exc}")
            return
        self.capture.record_handshake()
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()


class CaptureServer:
    """Use as a context manager: ``with CaptureServer() as server: ... server.url``.

    ``ssl_context`` (a server context holding the certificate and key) makes it HTTPS."""

    def __init__(
        self, lifetime: float = DEFAULT_LIFETIME, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.lifetime = lifetime
        self.ssl_context = ssl_context
        self._requests: list[WireRequest] = []
        self._tls_errors: list[str] = []
        self._handshakes = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    def record(self, request: WireRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def record_tls_error(self, error: str) -> None:
        with self._lock:
            self._tls_errors.append(error)

    def record_handshake(self) -> None:
        with self._lock:
            self._handshakes += 1

    @property
    def requests(self) -> list[WireRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def tls_errors(self) -> list[str]:
        """Failed TLS handshakes, each with its SSL error (HTTPS only)."""
        with self._lock:
            return list(self._tls_errors)

    @property
    def handshakes(self) -> int:
        """Completed TLS handshakes (HTTPS only)."""
        with self._lock:
            return self._handshakes

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the capture server is not running")
        return int(self._server.server_address[1])

    @property
    def scheme(self) -> str:
        return "http" if self.ssl_context is None else "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def start(self) -> CaptureServer:
        if self._server is not None:
            return self
        self._server = _Server(self, self.ssl_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="orgconda-capture",
            daemon=True,
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, thread, timer = self._server, self._thread, self._timer
            self._server = self._thread = self._timer = None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> CaptureServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def format_wire_log(
    requests: Sequence[WireRequest],
    *,
    command: str,
    address: str,
    exit_code: int | None,
    stdout: str = "",
    stderr: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The recorder format of ``fixtures/real-install/locked/wire.txt``; ``notes`` are more
    ``#`` lines after the header (the TLS facts of an HTTPS capture)."""
    lines = [
        "# User-Agent headers received by a loopback recorder "
        "(one line per request: METHOD PATH<TAB>User-Agent: <value>)",
        f"# command: {command}",
        "# environment: scrubbed (no CONDA_*, CONDARC, ANACONDA_ANON_USAGE_*, PYTHON*), "
        "throwaway HOME, CONDA_LOCAL_REPODATA_TTL=0",
        f"# recorder: {address}, answers <subdir>/repodata.json with an empty valid repodata "
        "document and 404 for anything else",
        f"# conda exit code: {exit_code}",
        f"# requests received: {len(requests)}",
        *(f"# {note}" for note in notes),
    ]
    for r in requests:
        agent = NO_AGENT if r.user_agent is None else f"{_UA_PREFIX}{r.user_agent}"
        lines.append(f"{r.method} {r.path}\t{agent}")
    lines.append("# --- conda stdout ---")
    lines.extend(f"# {line}".rstrip() for line in stdout.splitlines())
    lines.append("# --- conda stderr ---")
    lines.extend(f"# {line}".rstrip() for line in stderr.splitlines())
    return "\n".join(lines) + "\n"


def parse_wire_log(text: str) -> list[WireRequest]:
    """Requests from either log format, in order. proxyspy's CONNECT lines are tunnels,
    not requests, and are skipped."""
    found: list[WireRequest] = []
    pending: tuple[str, str] | None = None  # proxyspy request whose headers follow
    agent: str | None = None

    def flush() -> None:
        nonlocal pending, agent
        if pending is not None:
            found.append(WireRequest(pending[0], pending[1], agent))
        pending, agent = None, None

    for line in text.splitlines():
        header = _PROXYSPY_HEADER.match(line)
        if header is not None:
            if pending is not None and header.group("name").strip().lower() == "user-agent":
                agent = header.group("value")
            continue
        flush()
        if line.startswith("#"):
            continue
        recorded = _RECORDER_LINE.match(line)
        if recorded is not None:
            rest = recorded.group("rest")
            value = rest[len(_UA_PREFIX) :] if rest.startswith(_UA_PREFIX) else None
            found.append(WireRequest(recorded.group("method"), recorded.group("path"), value))
            continue
        proxied = _PROXYSPY_REQUEST.search(line)
        if proxied is not None and proxied.group("method") != "CONNECT":
            pending = (proxied.group("method"), proxied.group("path"))
    flush()
    return found


@dataclass(frozen=True)
class WireLogFacts:
    """The ``#`` lines of a recorder log: conda's exit code and output, the TLS facts."""

    exit_code: int | None
    handshakes: int | None  # None: not an HTTPS capture
    tls_errors: tuple[str, ...]
    stdout: tuple[str, ...]
    stderr: tuple[str, ...]


def tls_notes(handshakes: int, errors: Sequence[str]) -> list[str]:
    """The ``notes`` of ``format_wire_log`` for an HTTPS capture."""
    return [f"tls handshakes completed: {handshakes}"] + [
        f"tls handshake failed: {e}" for e in errors
    ]


def wire_log_facts(text: str) -> WireLogFacts:
    exit_code: int | None = None
    handshakes: int | None = None
    errors: list[str] = []
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    section: str | None = None
    for line in text.splitlines():
        if line == _STDOUT_MARK:
            section = "stdout"
        elif line == _STDERR_MARK:
            section = "stderr"
        elif section is not None and line.startswith("#"):
            out[section].append(line[2:] if line.startswith("# ") else line[1:])
        elif (code := _EXIT_CODE.match(line)) is not None:
            exit_code = int(code.group("code"))
        elif (count := _TLS_OK.match(line)) is not None:
            handshakes = int(count.group("count"))
        elif line.startswith(_TLS_FAILED):
            errors.append(line[len(_TLS_FAILED) :].strip())
    return WireLogFacts(
        exit_code, handshakes, tuple(errors), tuple(out["stdout"]), tuple(out["stderr"])
    )
