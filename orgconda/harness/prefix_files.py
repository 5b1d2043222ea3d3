"""What the install and the first conda command left in the prefix and the throwaway HOME,
copied into the outputs folder after the conda commands: the hook's record, the token files,
the plugin's conda-meta record, the config package's files, the bundled CA, the host facts."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

from ..stage import sha256_file as sha256_of
from .environment import first_token_file, read_json_file, read_text, username
from .expect import Expectation
from .observation import FILES, join_prefix


def _write_json(outputs: Path, name: str, data: object) -> None:
    (outputs / FILES[name]).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _sha256_if_file(path: str | Path | None) -> str | None:
    if not path:
        return None
    candidate = Path(path)
    return sha256_of(candidate) if candidate.is_file() else None


def condarc_sha256(path: Path, prefix: Path, placeholder: str | None) -> str | None:
    """The installed condarc's sha256, with conda's prefix replacement undone when the
    package shipped a placeholder (conda writes the prefix with forward slashes on Windows)."""
    if placeholder is None or not path.is_file():
        return _sha256_if_file(path)
    data = path.read_bytes()
    for written in dict.fromkeys((str(prefix).replace("\\", "/"), str(prefix))):
        data = data.replace(written.encode("utf-8"), placeholder.encode("utf-8"))
    return hashlib.sha256(data).hexdigest()


def record_files(prefix: Path, home: Path, expect: Expectation, outputs: Path) -> dict[str, str]:
    """Write the files; return ``{name: why it is missing}`` for what could not be recorded."""
    problems: dict[str, str] = {}
    record_path = prefix / "etc" / "orgconda" / "install.json"
    record, why = read_json_file(record_path)
    if isinstance(record, dict):
        _write_json(outputs, "hook_record", record)
    else:
        problems["hook_record"] = why or f"{record_path} is not a JSON object"
    token_dir = prefix
    if isinstance(record, dict) and isinstance(record.get("token_dir"), str):
        token_dir = Path(record["token_dir"])
    machine = first_token_file(token_dir, "machine_token")
    _write_json(
        outputs,
        "tokens",
        {
            "env_token": read_text(prefix / "etc" / "aau_token"),
            "client_token": read_text(home / ".conda" / "aau_token"),
            "machine_token": read_text(machine),
            "machine_token_path": str(machine),
        },
    )
    metas = sorted((prefix / "conda-meta").glob("anaconda-anon-usage-*.json"))
    if metas:
        shutil.copyfile(metas[-1], outputs / FILES["aau_meta"])
    else:
        problems["aau_meta"] = "no conda-meta/anaconda-anon-usage-*.json in the prefix"
    cp = expect.config_package
    if cp is not None:
        config, _ = read_json_file(prefix / "etc" / "orgconda" / "config.json")
        condarc = prefix / cp.condarc_file
        _write_json(
            outputs,
            "config_files",
            {
                "record": config if isinstance(config, dict) else None,
                "condarc_path": str(condarc),
                "condarc_sha256": condarc_sha256(condarc, prefix, cp.prefix_placeholder),
            },
        )
    ca = expect.ca_certificate
    if ca is not None:
        shown, _ = read_json_file(outputs / FILES["ssl_verify"])
        value: Any = shown.get("ssl_verify") if isinstance(shown, dict) else None
        expected_path = join_prefix(str(prefix), ca.path)
        _write_json(
            outputs,
            "ca_files",
            {
                "expected_path": expected_path,
                "expected_sha256": _sha256_if_file(expected_path),
                "ssl_verify": value if isinstance(value, str) else None,
                "ssl_verify_sha256": _sha256_if_file(value) if isinstance(value, str) else None,
            },
        )
    _write_json(
        outputs,
        "host",
        {
            "hostname": socket.gethostname(),
            "username": username(),
            "prefix": str(prefix),
            "home": str(home),
        },
    )
    return problems
