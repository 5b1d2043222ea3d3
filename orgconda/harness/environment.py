"""Where a verification installs, and the environment everything runs in.

Pure apart from reading the account database, making the temporary folder and hashing
files: the clean environment (no conda variables, a throwaway HOME), the prefix and its note,
and small readers the recording steps share.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .observation import normalize_path, path_within

# PYTHON*: the installed conda's python runs as in a fresh shell. PYTHONPATH/PYTHONHOME would
# load other code; PYTHONDONTWRITEBYTECODE=1 (common in containers) makes every conda command
# compile its modules again: 2.8 instead of 0.7 CPU seconds per `conda info`.
SCRUB_PREFIXES = ("CONDA_", "ANACONDA_ANON_USAGE_", "_CE_", "MAMBA_", "PYTHON")
# Certificate bundles: requests takes REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE over conda's own
# ssl_verify (seen on the real toolchain: the bundled CA was then ignored), and OpenSSL reads
# SSL_CERT_FILE / SSL_CERT_DIR. A fresh user shell has none of them.
CA_BUNDLE_NAMES = frozenset(
    {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"}
)
SCRUB_NAMES = frozenset({"CONDARC", "MAMBARC", "XDG_CONFIG_HOME"}) | CA_BUNDLE_NAMES
PROXY_NAMES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"})
LOOPBACK = "127.0.0.1,localhost"
SPACE_FREE_NOTE = (
    "Unix: installed into a space-free temporary prefix, because constructor .sh installers "
    "with conda in base refuse a prefix containing a space (and constructor will not build "
    "one that allows it)"
)
SPACED_NOTE = "Windows: installed into a prefix whose path contains a space"
PKG_NOTE = (
    "macOS .pkg: installed with `installer -target CurrentUserHomeDirectory` into "
    "~/<name in lower case> (the location is fixed by the package); it is removed afterwards "
    "unless --keep"
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def scrubbed_env(environ: Mapping[str, str], home: Path, *, windows: bool) -> dict[str, str]:
    """The environment for the installer and the installed conda.

    Drops conda's own variables (CONDA_*, CONDARC, ...), the plugin's token variables,
    PYTHON* (PYTHONPATH, PYTHONHOME, PYTHONDONTWRITEBYTECODE ...), XDG_CONFIG_HOME (a token
    and condarc search location), certificate bundle variables (they would replace the
    bundled CA) and proxy variables (every request goes to loopback);
    drops PATH entries of other conda
    installations; points HOME (and USERPROFILE on Windows) at the throwaway home.
    ``ORGCONDA_*`` variables pass (the install-time hooks read them)."""
    upper_env = {k.upper(): v for k, v in environ.items()}  # Windows names ignore case
    roots = [upper_env.get(k, "") for k in ("CONDA_PREFIX", "CONDA_ROOT")]
    conda_exe = normalize_path(upper_env.get("CONDA_EXE", ""))
    if conda_exe:
        roots.append(conda_exe.rsplit("/", 2)[0])  # <root>/bin/conda -> <root>
    env: dict[str, str] = {}
    for key, value in environ.items():
        upper = key.upper()
        if upper in SCRUB_NAMES or upper in PROXY_NAMES or upper.startswith(SCRUB_PREFIXES):
            continue
        if upper == "PATH":
            sep = ";" if windows else ":"
            kept = [
                entry
                for entry in value.split(sep)
                if entry
                and normalize_path(entry).rsplit("/", 1)[-1].lower() != "condabin"
                and not any(root and path_within(entry, root) for root in roots)
            ]
            value = sep.join(kept)
        env[key] = value
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    return with_home(env, home, windows=windows)


def with_home(env: Mapping[str, str], home: Path, *, windows: bool) -> dict[str, str]:
    """``env`` with HOME (and USERPROFILE on Windows) pointing at ``home``."""
    changed = dict(env)
    changed["HOME"] = str(home)
    if windows:
        changed["USERPROFILE"] = str(home)
    return changed


def conda_executable(prefix: Path, *, windows: bool) -> Path:
    return prefix / "Scripts" / "conda.exe" if windows else prefix / "bin" / "conda"


def real_home() -> Path:
    """The user's home from the account database (where .pkg installs), not $HOME."""
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, AttributeError):
        return Path.home()


def pkg_prefix(name: str, home: Path | None = None) -> Path:
    if not _SAFE_NAME.match(name):
        raise UsageError(f"cannot derive the .pkg install location from the name {name!r}")
    return (home or real_home()) / name.lower()


def make_workdir(*, windows: bool) -> Path:
    base = Path(tempfile.gettempdir())
    if not windows and " " in str(base):
        base = Path("/tmp")  # the .sh installer refuses a prefix with a space
    return Path(tempfile.mkdtemp(prefix="ocv-", dir=base))


def prefix_for(work: Path, installer_type: str, name: str, *, windows: bool) -> tuple[Path, str]:
    """Where the installer goes, and the note the report shows about that choice."""
    if installer_type == "pkg":
        return pkg_prefix(name), PKG_NOTE
    if windows:
        return work / "Org Conda", SPACED_NOTE
    return work / "prefix", SPACE_FREE_NOTE


def first_token_file(directory: Path, name: str) -> Path:
    """``<dir>/<name>``, else the dotted ``<dir>/.<name>`` (the plugin reads both)."""
    plain = directory / name
    dotted = directory / f".{name}"
    return dotted if not plain.exists() and dotted.exists() else plain


def read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def read_json_file(path: Path) -> tuple[Any, str | None]:
    text = read_text(path)
    if text is None:
        return None, f"{path} does not exist"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{path} is not valid JSON: {exc}"


def username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return os.environ.get("USERNAME", os.environ.get("USER", ""))
