"""What one verification saw, and the folder layout it is recorded in.

A live run writes every output into one folder with the same file names as the recorded
real installs in ``shared/fixtures/real-install/<case>/`` (``conda-info.json``,
``wire.txt`` ...), plus a few files of its own (``install-result.json``,
``token-files.json``, ``hook-record.json``). ``load_observation`` reads such a folder, so
the checks run on a live install and on the recorded fixtures through the same code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from .capture import WireLogFacts, WireRequest, parse_wire_log, wire_log_facts

# Observation field -> file name in the recorded layout.
FILES: dict[str, str] = {
    "info": "conda-info.json",
    "info_run2": "conda-info-run2.json",
    "info_text": "conda-info.txt",
    "show_sources": "config-show-sources.txt",
    "disabled_by_env": "disabled-by-env.json",
    "disabled_by_user_condarc": "disabled-by-user-condarc.json",
    "wire": "wire.txt",
    "conda_list": "conda-list.json",
    "aau_meta": "conda-meta-aau.json",
    "host": "host.json",
    "install": "install-result.json",
    "tokens": "token-files.json",
    "hook_record": "hook-record.json",
    "config_files": "config-package-files.json",
    "ssl_verify": "conda-config-ssl-verify.json",  # conda config --show ssl_verify --json
    "https_wire": "wire-https.txt",  # conda search against the loopback HTTPS server
    "ca_files": "ca-files.json",
}
WIRE_ALTERNATIVES = ("wire.txt", "wire-proxyspy.txt")
STEPS_FILE = "steps.json"  # field -> why its output is missing (a failed or skipped step)
# A step's reason starting with these: the step did not run, on purpose or because the
# install failed; the checks on it say so instead of failing.
NOT_REQUESTED = "not requested"
NOT_RUN_INSTALL = "not run: the install failed"


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    username: str
    prefix: str
    home: str


@dataclass(frozen=True)
class InstallResult:
    installer_type: str  # sh | exe | pkg
    command: str
    returncode: int | None
    seconds: float | None
    conda_found: bool
    history_found: bool
    hook_record_found: bool
    log_errors: tuple[str, ...] = ()  # error lines from the installer's own log (.exe)
    output_tail: str = ""
    installer_sha256: str | None = None
    prefix_note: str = ""


@dataclass(frozen=True)
class TokenFiles:
    env_token: str | None  # <prefix>/etc/aau_token (None: missing)
    client_token: str | None  # ~/.conda/aau_token in the throwaway HOME
    machine_token: str | None  # raw content of <token_dir>/machine_token
    machine_token_path: str = ""

    @property
    def machine_token_value(self) -> str | None:
        """First non-blank line, without surrounding whitespace (what the plugin reads)."""
        if self.machine_token is None:
            return None
        for line in self.machine_token.splitlines():
            if line.strip():
                return line.strip()
        return ""


@dataclass(frozen=True)
class ConfigPackageFiles:
    record: Mapping[str, Any] | None  # <prefix>/etc/orgconda/config.json
    condarc_path: str  # <prefix>/<condarc_file>
    condarc_sha256: str | None  # None: the file does not exist


@dataclass(frozen=True)
class CaFiles:
    """The bundled CA on disk: at the expected place, and where ssl_verify points."""

    expected_path: str  # <prefix>/<expect path>
    expected_sha256: str | None  # None: no file there
    ssl_verify: str | None  # the value conda reported, when it is a string
    ssl_verify_sha256: str | None  # of the file ssl_verify names; None: no such file


@dataclass(frozen=True)
class HttpsProbe:
    """``conda search`` against the loopback HTTPS server: what arrived, and the TLS facts."""

    requests: tuple[WireRequest, ...]
    facts: WireLogFacts


@dataclass(frozen=True)
class Observation:
    prefix: str
    host: HostFacts | None = None
    install: InstallResult | None = None
    info: Mapping[str, Any] | None = None
    info_run2: Mapping[str, Any] | None = None
    info_text: str | None = None
    show_sources: str | None = None
    disabled_by_env: Mapping[str, Any] | None = None
    disabled_by_user_condarc: Mapping[str, Any] | None = None
    wire: tuple[WireRequest, ...] | None = None
    conda_list: tuple[Mapping[str, Any], ...] | None = None
    aau_meta: Mapping[str, Any] | None = None
    hook_record: Mapping[str, Any] | None = None
    tokens: TokenFiles | None = None
    config_files: ConfigPackageFiles | None = None
    ssl_verify: Mapping[str, Any] | None = None
    https_wire: HttpsProbe | None = None
    ca_files: CaFiles | None = None
    problems: Mapping[str, str] = field(default_factory=dict)

    def missing(self, name: str) -> str:
        """Why the output behind field ``name`` is absent."""
        why = self.problems.get(name)
        if why:
            return f"not observed: {why}"
        return f"not observed: no {FILES.get(name, name)} was recorded"


@dataclass(frozen=True)
class SourceBlock:
    """One ``==> source <==`` block of ``conda config --show-sources``."""

    source: str
    settings: Mapping[str, Any] | None  # None: the block's YAML did not parse
    text: str


def parse_show_sources(text: str) -> list[SourceBlock]:
    blocks: list[SourceBlock] = []
    source: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if source is None:
            return
        body = "\n".join(lines)
        try:
            parsed = yaml.safe_load(body) if body.strip() else {}
        except yaml.YAMLError:
            parsed = None
        settings = parsed if isinstance(parsed, Mapping) else None
        blocks.append(SourceBlock(source, settings, body))

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("==> ") and stripped.endswith(" <=="):
            flush()
            source, lines = stripped[4:-4], []
        elif source is not None:
            lines.append(line)
    flush()
    return blocks


def normalize_path(path: str) -> str:
    """Compare paths from conda output and from this process alike on every OS."""
    text = path.replace("\\", "/").rstrip("/")
    if len(text) >= 2 and text[1] == ":":  # a Windows drive path: case-insensitive
        text = text.lower()
    return text


def path_within(path: str, root: str) -> bool:
    p, r = normalize_path(path), normalize_path(root)
    return p == r or p.startswith(r + "/")


def is_absolute(path: str) -> bool:
    """Absolute on POSIX (``/x``) or on Windows (``C:\\x``, ``\\\\server\\share``)."""
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()


def join_prefix(prefix: str, relative: str) -> str:
    sep = "\\" if "\\" in prefix and "/" not in prefix else "/"
    return prefix.rstrip("/\\") + sep + relative.replace("/", sep)


def _read_json(path: Path, problems: dict[str, str], name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems[name] = f"{path.name} could not be read as JSON: {exc}"
        return None


def _mapping(value: Any, problems: dict[str, str], name: str) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    problems[name] = f"{FILES[name]} is not a JSON object"
    return None


def load_observation(directory: Path, *, prefix: str | None = None) -> Observation:
    """Read a recorded-layout folder. Absent files leave their field None, with the reason
    from ``steps.json`` when the live run wrote one."""
    problems: dict[str, str] = {}
    steps = directory / STEPS_FILE
    if steps.is_file():
        recorded = _read_json(steps, problems, "steps")
        if isinstance(recorded, Mapping):
            problems.update({str(k): str(v) for k, v in recorded.items()})

    def json_of(name: str) -> Any:
        path = directory / FILES[name]
        return _read_json(path, problems, name) if path.is_file() else None

    def text_of(name: str) -> str | None:
        path = directory / FILES[name]
        return path.read_text(encoding="utf-8") if path.is_file() else None

    host_raw = _mapping(json_of("host"), problems, "host")
    host = (
        HostFacts(
            hostname=str(host_raw.get("hostname", "")),
            username=str(host_raw.get("username", "")),
            prefix=str(host_raw.get("prefix", "")),
            home=str(host_raw.get("home", "")),
        )
        if host_raw is not None
        else None
    )
    info = _mapping(json_of("info"), problems, "info")
    if prefix is None:
        prefix = host.prefix if host and host.prefix else None
    if prefix is None and info is not None:
        prefix = str(info.get("root_prefix", ""))

    wire: tuple[WireRequest, ...] | None = None
    for name in WIRE_ALTERNATIVES:
        path = directory / name
        if path.is_file():
            wire = tuple(parse_wire_log(path.read_text(encoding="utf-8")))
            break

    conda_list_raw = json_of("conda_list")
    conda_list = None
    if isinstance(conda_list_raw, list):
        conda_list = tuple(p for p in conda_list_raw if isinstance(p, Mapping))
    elif conda_list_raw is not None:
        problems["conda_list"] = f"{FILES['conda_list']} is not a JSON list"

    install_raw = _mapping(json_of("install"), problems, "install")
    install = None
    if install_raw is not None:
        install = InstallResult(
            installer_type=str(install_raw.get("installer_type", "")),
            command=str(install_raw.get("command", "")),
            returncode=install_raw.get("returncode"),
            seconds=install_raw.get("seconds"),
            conda_found=bool(install_raw.get("conda_found")),
            history_found=bool(install_raw.get("history_found")),
            hook_record_found=bool(install_raw.get("hook_record_found")),
            log_errors=tuple(str(x) for x in install_raw.get("log_errors") or ()),
            output_tail=str(install_raw.get("output_tail", "")),
            installer_sha256=install_raw.get("installer_sha256"),
            prefix_note=str(install_raw.get("prefix_note", "")),
        )

    tokens_raw = _mapping(json_of("tokens"), problems, "tokens")
    tokens = None
    if tokens_raw is not None:
        tokens = TokenFiles(
            env_token=tokens_raw.get("env_token"),
            client_token=tokens_raw.get("client_token"),
            machine_token=tokens_raw.get("machine_token"),
            machine_token_path=str(tokens_raw.get("machine_token_path", "")),
        )

    https_wire = None
    https_path = directory / FILES["https_wire"]
    if https_path.is_file():
        text = https_path.read_text(encoding="utf-8")
        https_wire = HttpsProbe(tuple(parse_wire_log(text)), wire_log_facts(text))

    ca_raw = _mapping(json_of("ca_files"), problems, "ca_files")
    ca_files = None
    if ca_raw is not None:
        ca_files = CaFiles(
            expected_path=str(ca_raw.get("expected_path", "")),
            expected_sha256=ca_raw.get("expected_sha256"),
            ssl_verify=ca_raw.get("ssl_verify"),
            ssl_verify_sha256=ca_raw.get("ssl_verify_sha256"),
        )

    config_raw = _mapping(json_of("config_files"), problems, "config_files")
    config_files = None
    if config_raw is not None:
        record = config_raw.get("record")
        config_files = ConfigPackageFiles(
            record=record if isinstance(record, Mapping) else None,
            condarc_path=str(config_raw.get("condarc_path", "")),
            condarc_sha256=config_raw.get("condarc_sha256"),
        )

    return Observation(
        prefix=prefix or "",
        host=host,
        install=install,
        info=info,
        info_run2=_mapping(json_of("info_run2"), problems, "info_run2"),
        info_text=text_of("info_text"),
        show_sources=text_of("show_sources"),
        disabled_by_env=_mapping(json_of("disabled_by_env"), problems, "disabled_by_env"),
        disabled_by_user_condarc=_mapping(
            json_of("disabled_by_user_condarc"), problems, "disabled_by_user_condarc"
        ),
        wire=wire,
        conda_list=conda_list,
        aau_meta=_mapping(json_of("aau_meta"), problems, "aau_meta"),
        hook_record=_mapping(json_of("hook_record"), problems, "hook_record"),
        tokens=tokens,
        config_files=config_files,
        ssl_verify=_mapping(json_of("ssl_verify"), problems, "ssl_verify"),
        https_wire=https_wire,
        ca_files=ca_files,
        problems=problems,
    )
