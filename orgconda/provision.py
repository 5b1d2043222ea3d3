"""A private build toolchain (constructor + conda-standalone + python) when constructor is not
on PATH, made with py-rattler: solve, download (verified), install.

It lives in the user cache, one environment per (pins, host platform, channels)::

    <cache>/toolchains/<key>/env/                       the environment (bin/constructor ...)
    <cache>/toolchains/<key>/orgconda-toolchain.json    manifest: every file's size and sha256
    <cache>/toolchains/<key>.lock                       held while it is checked or built

An environment is built in ``.staging-<key>-<pid>/`` (installed for its final path), its
manifest written last, then renamed into place in one step: a crash leaves a staging folder,
never a half-made environment at the final path. Every use checks the manifest against the
files (presence and size; sha256 with ``full=True``); a damaged one is moved aside and rebuilt
from the package cache. Two builds at once: the second waits for the lock, then reuses.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from . import binaries
from .condafetch import FetchError, PackageRef, PackageStore, download, make_client, run_async
from .condafetch import network_hint as _network_hint
from .condafetch import sha256_file as _sha256
from .netconfig import NetSettings
from .progress import Progress
from .standalone import host_standalone
from .toolchain import Pins

MARKER = "orgconda-toolchain.json"
MANIFEST_FORMAT = 1
LOCK_TIMEOUT = 900.0  # seconds; a first provisioning downloads ~100 MB


class ProvisionBusy(FetchError):
    """Another build holds the toolchain's lock for longer than we wait."""


@dataclass(frozen=True)
class ToolSource:
    """Where one tool comes from (a plan line; nothing done yet)."""

    tool: str  # "constructor" or "conda-standalone"
    kind: str  # "path", "cache" (provisioned earlier), "provision" (to be made), "missing"
    path: Path | None  # the executable (for "provision": where it will be)
    detail: str

    def describe(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.tool}: {self.kind}{where} ({self.detail})"


@dataclass(frozen=True)
class ToolPaths:
    """The tools a build runs."""

    constructor: Path
    conda_standalone: Path
    prefix: Path | None  # the provisioned environment; None when the tools came from PATH
    seconds: float = 0.0  # time spent provisioning (0 when reused or from PATH)

    @classmethod
    def on_path(cls, constructor: Path) -> ToolPaths:
        """constructor found on PATH, with the conda-standalone of its own environment."""
        return cls(constructor, host_standalone(constructor), None)

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with the provisioned environment's executables first on PATH."""
        out = dict(base)
        if self.prefix is not None:
            dirs = [str(bin_dir(self.prefix))]
            if sys.platform == "win32":
                dirs += [str(self.prefix), str(self.prefix / "Library" / "bin")]
            out["PATH"] = os.pathsep.join([*dirs, base.get("PATH", "")]).rstrip(os.pathsep)
        return out


def bin_dir(prefix: Path, *, windows: bool = sys.platform == "win32") -> Path:
    return prefix / ("Scripts" if windows else "bin")


def constructor_in(prefix: Path, *, windows: bool = sys.platform == "win32") -> Path:
    return bin_dir(prefix, windows=windows) / ("constructor.exe" if windows else "constructor")


@dataclass(frozen=True)
class EnvRequest:
    """What to provision: the specs to solve, and what the result must contain."""

    label: str  # readable part of the environment's key
    specs: tuple[str, ...]
    required: tuple[str, ...] = ()  # paths (relative to the prefix) that must be files
    host_executables: tuple[str, ...] = ()  # must be native executables of the host


def toolchain_request(pins: Pins, *, windows: bool = sys.platform == "win32") -> EnvRequest:
    """The build toolchain: exactly environment.yml's pins."""
    ctor = constructor_in(Path(), windows=windows).as_posix()
    exe = "standalone_conda/conda.exe"
    return EnvRequest(
        label=f"constructor-{pins.constructor}_standalone-{pins.conda_standalone}",
        specs=pins.specs(),
        required=(ctor, exe),
        host_executables=(exe,),
    )


def env_key(request: EnvRequest, host: str, channels: Sequence[str]) -> str:
    """Readable and unique: the label, the host and a hash of everything solved from."""
    basis = json.dumps(
        {"specs": request.specs, "host": host, "channels": list(channels)}, sort_keys=True
    )
    digest = hashlib.sha256(basis.encode()).hexdigest()[:10]
    return f"{request.label}_{host}_{digest}"


def env_root(cache_root: Path, request: EnvRequest, host: str, channels: Sequence[str]) -> Path:
    return cache_root / "toolchains" / env_key(request, host, channels)


def tool_sources(
    pins: Pins,
    *,
    host: str,
    channels: Sequence[str],
    cache_root: Path,
    path: str | None = None,
    allow_provision: bool = True,
) -> dict[str, ToolSource]:
    """Where constructor and conda-standalone come from (reads PATH and the cache only)."""
    found = shutil.which("constructor", path=path)
    if found is not None:
        ctor = Path(found)
        exe = host_standalone(ctor)
        standalone = (
            ToolSource("conda-standalone", "path", exe, "beside constructor")
            if exe.is_file()
            else ToolSource(
                "conda-standalone",
                "missing",
                None,
                f"constructor at {ctor} has no standalone_conda/conda.exe beside it; install "
                "conda-standalone into that environment",
            )
        )
        return {
            "constructor": ToolSource("constructor", "path", ctor, "on PATH"),
            "conda-standalone": standalone,
        }
    root = env_root(cache_root, toolchain_request(pins), host, channels)
    prefix = root / "env"
    paths = {
        "constructor": constructor_in(prefix),
        "conda-standalone": prefix / "standalone_conda" / "conda.exe",
    }
    versions = {"constructor": pins.constructor, "conda-standalone": pins.conda_standalone}
    if (root / MARKER).is_file():
        kind, detail = "cache", "provisioned earlier; checked before use"
    elif allow_provision:
        kind, detail = "provision", f"not on PATH; solved and installed from {', '.join(channels)}"
    else:
        kind, detail = "missing", "not on PATH and provisioning is off (--no-provision)"
    return {
        tool: ToolSource(
            tool,
            kind,
            paths[tool] if kind != "missing" else None,
            f"{versions[tool]}, {detail}",
        )
        for tool in ("constructor", "conda-standalone")
    }


def verify_env(root: Path, *, full: bool = False) -> list[str]:
    """Problems with a provisioned environment (empty when it is whole)."""
    try:
        manifest = json.loads((root / MARKER).read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("format") != MANIFEST_FORMAT:
            return [f"{root / MARKER}: unknown format {manifest.get('format')!r}"]
    except FileNotFoundError:
        return [f"{root}: no {MARKER} (an interrupted or incomplete provisioning)"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{root / MARKER}: unreadable ({exc})"]
    problems: list[str] = []
    prefix = root / "env"
    for rel, (size, digest) in files.items():
        path = prefix / rel
        try:
            actual = path.lstat().st_size
        except OSError:
            problems.append(f"missing: {path}")
            continue
        if path.is_symlink():
            continue  # recorded for presence; its target is checked as its own entry
        if actual != size:
            problems.append(f"size changed: {path} ({actual} bytes, expected {size})")
        elif full and _sha256(path) != digest:
            problems.append(f"content changed: {path} (sha256 differs from the manifest)")
        if len(problems) >= 10:
            break
    return problems


def provision(
    pins: Pins,
    *,
    host: str,
    channels: Sequence[str],
    settings: NetSettings,
    cache_root: Path,
    progress: Progress | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    full_check: bool = False,
) -> ToolPaths:
    """The build toolchain at environment.yml's pins, reused or (re)built (effects)."""
    start = time.monotonic()
    root, built = provision_env(
        toolchain_request(pins),
        host=host,
        channels=channels,
        settings=settings,
        cache_root=cache_root,
        progress=progress,
        lock_timeout=lock_timeout,
        full_check=full_check,
    )
    return _paths(root, seconds=time.monotonic() - start if built else 0.0)


def provision_env(
    request: EnvRequest,
    *,
    host: str,
    channels: Sequence[str],
    settings: NetSettings,
    cache_root: Path,
    progress: Progress | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    full_check: bool = False,
) -> tuple[Path, bool]:
    """(environment root, whether it was built now): reuse a whole one, else (re)build it."""
    progress = progress or Progress()
    root = env_root(cache_root, request, host, channels)
    root.parent.mkdir(parents=True, exist_ok=True)
    lock_path = root.with_name(root.name + ".lock")
    lock = FileLock(str(lock_path), timeout=lock_timeout)
    waited = time.monotonic()
    try:
        lock.acquire()
    except Timeout as exc:
        raise ProvisionBusy(
            f"another orgconda build has held {lock_path} for {lock_timeout:.0f} s while "
            f"provisioning the toolchain in {root}. Wait for it and run again; if no build is "
            "running, delete that lock file"
        ) from exc
    try:
        if time.monotonic() - waited > 1:
            progress.note(f"waited {time.monotonic() - waited:.0f} s for {lock_path}")
        problems = verify_env(root, full=full_check) if root.exists() else ["absent"]
        if not problems:
            return root, False
        if root.exists():
            progress.note(f"the provisioned environment {root} is damaged; rebuilding it:")
            for line in problems:
                progress.note(f"  {line}")
            _discard(root)
        for stale in root.parent.glob(f".staging-{root.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted build
        _build(root, request, host, channels, settings, cache_root, progress)
        return root, True
    finally:
        lock.release()


def _paths(root: Path, *, seconds: float) -> ToolPaths:
    prefix = root / "env"
    return ToolPaths(
        constructor=constructor_in(prefix),
        conda_standalone=prefix / "standalone_conda" / "conda.exe",
        prefix=prefix,
        seconds=seconds,
    )


def _discard(root: Path) -> None:
    trash = root.with_name(f".trash-{root.name}-{os.getpid()}")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(root, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _solve(
    request: EnvRequest,
    host: str,
    channels: Sequence[str],
    settings: NetSettings,
    cache_root: Path,
) -> list[Any]:
    from rattler import Channel, Gateway, MatchSpec, Subdir, VirtualPackage, solve

    def factory() -> Any:
        gateway = Gateway(cache_dir=cache_root / "repodata", client=make_client(settings))
        return solve(
            sources=[Channel(c) for c in channels],
            specs=[MatchSpec(s) for s in request.specs],
            gateway=gateway,
            platforms=[Subdir(host), Subdir("noarch")],
            virtual_packages=VirtualPackage.detect(),
        )

    try:
        return list(run_async(factory))
    except Exception as exc:
        raise FetchError(
            f"cannot provision {', '.join(request.specs)} from "
            f"{', '.join(channels)} for {host}: {_short(exc)}\n{_network_hint(settings)}\n"
            "Or install it yourself: conda env create -f environment.yml"
        ) from exc


def _build(
    root: Path,
    request: EnvRequest,
    host: str,
    channels: Sequence[str],
    settings: NetSettings,
    cache_root: Path,
    progress: Progress,
) -> None:
    from rattler import Subdir, install

    progress.note(f"provisioning {', '.join(request.specs)} in {root}")
    records = _solve(request, host, channels, settings, cache_root)
    refs = [PackageRef.from_record(r) for r in records]
    archives = download(refs, PackageStore(cache_root), settings, progress)
    staging = root.with_name(f".staging-{root.name}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    prefix, final_prefix = staging / "env", root / "env"
    for rec, ref in zip(records, refs, strict=True):
        rec.url = archives[ref.key].as_uri()  # install from the verified file, not the network
    try:
        run_async(
            lambda: install(
                records,
                prefix,
                cache_dir=staging / ".extracted",
                platform=Subdir(host),
                alternative_target_prefix=final_prefix,
                execute_link_scripts=False,
                show_progress=False,
                requested_specs=None,
            )
        )
        shutil.rmtree(staging / ".extracted", ignore_errors=True)
        for rel in request.required:
            if not (prefix / rel).is_file():
                raise FetchError(f"the provisioned environment has no {rel}")
        for rel in request.host_executables:
            binaries.check_executable(prefix / rel, host, what=f"provisioned {rel}")
        manifest = {
            "format": MANIFEST_FORMAT,
            "specs": list(request.specs),
            "host": host,
            "channels": list(channels),
            "packages": [r.to_json() for r in refs],
            "files": _inventory(prefix),
        }
        (staging / MARKER).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(staging, root)
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"installing the build toolchain failed: {_short(exc)}") from exc
    progress.note(f"provisioned {root / 'env'}")


def _inventory(prefix: Path) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for path in sorted(prefix.rglob("*")):
        if path.is_symlink():
            out[path.relative_to(prefix).as_posix()] = (path.lstat().st_size, "")
        elif path.is_file():
            out[path.relative_to(prefix).as_posix()] = (path.stat().st_size, _sha256(path))
    return out


def _short(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " / ".join(lines[:6]) or type(exc).__name__
