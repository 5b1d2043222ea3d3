"""A real conda channel on loopback, made in the test: real package files (conda-package-handling
writes the ``.conda`` archives, with ``info/index.json`` and ``info/paths.json`` as conda-build
writes them), a real ``repodata.json`` (py-rattler's indexer), served by a local HTTP server on
127.0.0.1 that records every request. Nothing leaves the machine.

Also: a recording HTTP forward proxy, an HTTPS server with a CA made in the test, and small real
executables written per their format's specification (ELF, Mach-O thin and fat, PE).
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import shutil
import ssl
import struct
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orgconda.condafetch import run_async

_PLATFORM = {
    "linux-64": ("linux", "x86_64"),
    "linux-aarch64": ("linux", "aarch64"),
    "osx-64": ("osx", "x86_64"),
    "osx-arm64": ("osx", "arm64"),
    "win-64": ("win", "x86_64"),
}


def make_package(
    channel: Path,
    name: str,
    version: str,
    build: str,
    subdir: str,
    files: Mapping[str, bytes],
    *,
    depends: Iterable[str] = (),
    noarch: str | None = None,
    track_features: str | None = None,
    build_number: int = 0,
    executables: Iterable[str] = (),
    placeholders: Mapping[str, str] = {},
) -> Path:
    """Write ``<channel>/<subdir>/<name>-<version>-<build>.conda``. ``placeholders`` maps a
    text file to the build prefix it contains (conda rewrites it to the install prefix)."""
    import conda_package_handling.api as cph

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    out = channel / subdir
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        root = Path(td)
        paths = []
        for rel, data in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            if rel in executables or rel.startswith("bin/"):
                p.chmod(0o755)
            entry: dict[str, object] = {
                "_path": rel,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
            }
            if rel in placeholders:
                entry |= {"prefix_placeholder": placeholders[rel], "file_mode": "text"}
            paths.append(entry)
        info = root / "info"
        info.mkdir()
        index: dict[str, object] = {
            "name": name,
            "version": version,
            "build": build,
            "build_number": build_number,
            "depends": list(depends),
            "license": "BSD-3-Clause",
            "subdir": subdir,
            "timestamp": 1_780_000_000_000,
        }
        if noarch:
            index["noarch"] = noarch
        elif subdir in _PLATFORM:
            index["platform"], index["arch"] = _PLATFORM[subdir]
        if track_features:
            index["track_features"] = track_features
        (info / "index.json").write_text(json.dumps(index, indent=1))
        (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}))
        (info / "files").write_text("".join(f"{rel}\n" for rel in files))
        if placeholders:
            (info / "has_prefix").write_text(
                "".join(f"{ph} text {rel}\n" for rel, ph in placeholders.items())
            )
        file_list = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        fn = f"{name}-{version}-{build}.conda"
        cph.create(str(root), file_list, fn, out_folder=str(out))
    return out / fn


def index_channel(channel: Path) -> None:
    """Write every subdir's repodata.json with py-rattler's indexer (plain JSON only)."""
    from rattler.index import index_fs

    for sub in channel.iterdir():
        if sub.is_dir():
            (sub / "repodata.json").unlink(missing_ok=True)
    run_async(lambda: index_fs(channel, write_zst=False, write_shards=False, force=True))
    shutil.rmtree(channel / ".tmp", ignore_errors=True)


def repodata(channel: Path, subdir: str) -> dict[str, dict[str, object]]:
    data = json.loads((channel / subdir / "repodata.json").read_text())
    return {**data.get("packages", {}), **data.get("packages.conda", {})}


@dataclass
class Request:
    method: str
    path: str


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> None:
        with self.server.lock:
            self.server.requests.append(Request(self.command, self.path))

    def do_GET(self) -> None:
        self._record()
        body = self.server.replace.get(self.path.split("?")[0])
        if body is None:
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._record()
        super().do_HEAD()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path) -> None:
        self.requests: list[Request] = []
        self.replace: dict[str, bytes] = {}
        self.lock = threading.Lock()

        def handler(*args: object, **kwargs: object) -> _Handler:
            return _Handler(*args, directory=str(directory), **kwargs)  # type: ignore[arg-type]

        super().__init__(("127.0.0.1", 0), handler)  # type: ignore[arg-type]


class ChannelServer:
    """Serve ``directory`` at ``self.url``; ``requests`` lists what was asked, ``replace`` maps
    a path to other bytes to serve (a tampered file)."""

    def __init__(self, directory: Path, *, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(directory)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Request]:
        with self._server.lock:
            return list(self._server.requests)

    @property
    def replace(self) -> dict[str, bytes]:
        return self._server.replace

    def package_downloads(self) -> list[str]:
        return [r.path for r in self.requests if r.method == "GET" and r.path.endswith(".conda")]

    def clear(self) -> None:
        with self._server.lock:
            self._server.requests.clear()

    def __enter__(self) -> ChannelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward("GET")

    def do_HEAD(self) -> None:
        self._forward("HEAD")

    def _forward(self, method: str) -> None:
        with self.server.lock:
            self.server.seen.append(self.path)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(urllib.request.Request(self.path, method=method), timeout=10) as r:
                body, status = r.read(), r.status
        except urllib.error.HTTPError as exc:
            body, status = b"", exc.code
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method == "GET":
            self.wfile.write(body)


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class RecordingProxy:
    """A plain-HTTP forward proxy on loopback that records the absolute URLs it forwards."""

    def __init__(self) -> None:
        self._server = _ProxyServer()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def seen(self) -> list[str]:
        with self._server.lock:
            return list(self._server.seen)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def make_ca_and_server_cert(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA (PEM at the returned path) and a server context whose certificate it signed, for
    127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orgconda test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = directory / "test-ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem = directory / "server.pem"
    key_pem = directory / "server.key"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    return ca_pem, ctx


# ------------------------------------------------------------ executables, per their specs

CPU_TYPE_X86_64 = 0x01000007
CPU_TYPE_ARM64 = 0x0100000C


def elf_executable(machine: int, *, bits: int = 64, little: bool = True, e_type: int = 2) -> bytes:
    """An ELF header (System V gABI) with one PT_LOAD program header: the smallest file the
    format calls an executable."""
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if little else 2, 1, 0]) + bytes(8)
    if bits == 64:
        header = ident + struct.pack(
            order + "HHIQQQIHHHHHH", e_type, machine, 1, 0x400078, 64, 0, 0, 64, 56, 1, 64, 0, 0
        )
        phdr = struct.pack(order + "IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x80, 0x80, 0x1000)
    else:
        header = ident + struct.pack(
            order + "HHIIIIIHHHHHH", e_type, machine, 1, 0x8048054, 52, 0, 0, 52, 32, 1, 40, 0, 0
        )
        phdr = struct.pack(order + "IIIIIIII", 1, 0, 0x8048000, 0x8048000, 0x60, 0x60, 5, 0x1000)
    return header + phdr


def macho_executable(cputype: int, *, filetype: int = 2) -> bytes:
    """A 64-bit little-endian Mach-O (``<mach-o/loader.h>``): ``mach_header_64`` and one
    ``LC_UUID`` load command."""
    subtype = 3 if cputype == CPU_TYPE_X86_64 else 0  # CPU_SUBTYPE_X86_64_ALL / ARM64_ALL
    uuid_cmd = struct.pack("<II16s", 0x1B, 24, bytes(range(16)))
    header = struct.pack(
        "<IiiIIIII", 0xFEEDFACF, cputype, subtype, filetype, 1, len(uuid_cmd), 0x00200085, 0
    )
    return header + uuid_cmd


def fat_macho(*slices: tuple[int, bytes]) -> bytes:
    """A universal binary (``<mach-o/fat.h>``): ``fat_header``, ``fat_arch`` entries (big-
    endian), each slice aligned to 2^12."""
    align = 12
    offset = 1 << align
    table = b""
    body = b""
    for cputype, data in slices:
        table += struct.pack(">iiIII", cputype, 0, offset + len(body), len(data), align)
        body += data + bytes((-len(data)) % (1 << align))
    head = struct.pack(">II", 0xCAFEBABE, len(slices)) + table
    return head + bytes(offset - len(head)) + body


def pe_executable(machine: int, *, pe32_plus: bool = True, dll: bool = False) -> bytes:
    """A PE image (Microsoft PE/COFF specification): MS-DOS header with ``e_lfanew``, the
    ``PE\\0\\0`` signature, the COFF file header and a zeroed optional header of its size."""
    lfanew = 0x40
    dos = b"MZ" + bytes(0x3A) + struct.pack("<I", lfanew)
    opt_size = 240 if pe32_plus else 224
    chars = 0x0002 | 0x0020 | (0x2000 if dll else 0)
    coff = struct.pack("<HHIIIHH", machine, 0, 0, 0, 0, opt_size, chars)
    optional = struct.pack("<H", 0x20B if pe32_plus else 0x10B) + bytes(opt_size - 2)
    return dos + b"PE\0\0" + coff + optional
