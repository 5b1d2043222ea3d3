"""A conda-standalone for each target platform: which one, from where, checked, ready for
constructor.

Which version: the profile's ``specs.conda_standalone`` when set, else exactly the version of
the host's conda-standalone (the one beside the constructor that runs), else environment.yml's
pin. Where from: ``--conda-exe`` when given, else the cache, else the profile's channels.

``standalone_for`` plans (reads the cache, never the network); ``obtain`` does it (download,
verify, extract, header check). ``for_constructor`` says what constructor must be given for a
target it cannot run (see its docstring for why).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import binaries
from .condafetch import (
    FetchError,
    PackageRef,
    PackageStore,
    download,
    preference,
    query,
    sha256_file,
)
from .errors import UsageError
from .netconfig import NetSettings
from .progress import Progress
from .runner import Runner

NAME = "conda-standalone"
EXE_IN_PACKAGE = "standalone_conda/conda.exe"
# constructor names the payload after the file when it cannot run it; this name is the one it
# uses for an identified conda-standalone.
PAYLOAD_NAME = "_conda"
# conda-standalone's own switch for what ``--no-rc`` does (src/entry_point.py sets it for that
# flag): read no condarc file but $CONDARC. constructor exports script_env_variables at the top
# of a .sh installer, so every conda.exe call of the install sees it.
NO_RC_ENV = {"CONDA_RESTRICT_RC_SEARCH_PATH": "1"}
_EXACT = re.compile(r"^\s*(?:==)?\s*([0-9][A-Za-z0-9_.+!]*)\s*$")
_VERSION_OUT = re.compile(r"^conda\s+(\S+)\s*$")


@dataclass(frozen=True)
class StandaloneSource:
    """Where a target's conda-standalone comes from (a plan step; nothing fetched yet)."""

    subdir: str
    kind: str  # "flag" (--conda-exe), "cache" (no network needed), "download"
    constraint: str | None  # version constraint (None for --conda-exe)
    reason: str  # why this version
    channels: tuple[str, ...] = ()
    package: PackageRef | None = None  # the cached package ("cache"); best cached ("download")
    exe: Path | None = None  # --conda-exe path, or where the cached one is extracted

    def describe(self) -> str:
        if self.kind == "flag":
            return f"conda-standalone {self.subdir}: --conda-exe {self.exe}"
        if self.kind == "cache" and self.package is not None:
            return (
                f"conda-standalone {self.subdir}: cache, {self.package.dist} "
                f"({self.reason}) {self.exe}"
            )
        fallback = (
            f"; cached {self.package.dist} if the channel cannot be reached"
            if self.package is not None
            else ""
        )
        return (
            f"conda-standalone {self.subdir}: download {NAME} {self.constraint} from "
            f"{', '.join(self.channels)} ({self.reason}{fallback})"
        )


@dataclass(frozen=True)
class ConstructorExe:
    """What to hand constructor for one target's conda-standalone."""

    path: Path  # pass as --conda-exe
    foreign: bool  # constructor cannot run it on this host
    script_env: Mapping[str, str] = field(default_factory=dict)  # add to script_env_variables
    notes: tuple[str, ...] = ()


def is_exact(constraint: str) -> bool:
    return _EXACT.match(constraint) is not None


def spec_for(constraint: str, *, origin: str) -> str:
    """``conda-standalone <constraint>`` as a match spec; UsageError naming ``origin``."""
    from rattler import MatchSpec

    m = _EXACT.match(constraint)
    text = f"{NAME} =={m.group(1)}" if m else f"{NAME} {constraint.strip()}"
    try:
        MatchSpec(text)
    except Exception as exc:
        raise UsageError(
            f"{origin}: {constraint!r} is not a version constraint ({exc}); "
            "write e.g. `26.7.1`, `>=26.5,<27` or `26.*`"
        ) from exc
    return text


def choose_constraint(
    profile_constraint: str | None, host_version: str | None, pinned: str
) -> tuple[str, str]:
    """(constraint, reason): the profile's pin wins, then the host's version, then the pin."""
    if profile_constraint:
        return profile_constraint, f"profile specs.conda_standalone {profile_constraint}"
    if host_version:
        return f"=={host_version}", f"follows the host's conda-standalone {host_version}"
    return f"=={pinned}", f"environment.yml pins {pinned}"


def host_standalone(constructor: Path) -> Path:
    """Where the conda-standalone beside ``constructor`` (``<prefix>/bin/constructor`` or
    ``<prefix>\\Scripts\\constructor.exe``) lives: ``<prefix>/standalone_conda/conda.exe``."""
    return constructor.resolve().parent.parent / "standalone_conda" / "conda.exe"


def standalone_version(exe: Path, runner: Runner) -> str | None:
    """``conda.exe --version`` (``conda 26.7.1``) -> ``26.7.1``; None when it cannot tell."""
    if not exe.is_file():
        return None
    result = runner.run([str(exe), "--version"], check=False, timeout=120)
    for line in (result.stdout + "\n" + result.stderr).splitlines():
        m = _VERSION_OUT.match(line.strip())
        if m and result.returncode == 0:
            return m.group(1)
    return None


def host_version(kind: str, exe: Path | None, pinned: str, runner: Runner) -> str | None:
    """The host's conda-standalone version. ``kind``/``exe`` are the conda-standalone
    ``ToolSource``'s: beside constructor on PATH ("path") it says so itself (``--version``); a
    provisioned toolchain ("cache"/"provision") holds environment.yml's pin."""
    if kind == "path" and exe is not None:
        return standalone_version(exe, runner)
    if kind in ("cache", "provision"):
        return pinned
    return None


def plan_standalones(
    targets: Sequence[str],
    *,
    host: str | None,
    channels: Sequence[str],
    cache_root: Path,
    profile_constraint: str | None,
    host_version: str | None,
    pinned: str,
    flags: Mapping[str, Path] | None = None,
    offline: bool = False,
) -> dict[str, StandaloneSource]:
    """One plan step per target that needs a conda-standalone of its own: every target other
    than the host, and any target given ``--conda-exe`` (which always wins). Pure but for
    reading the cache."""
    flags = flags or {}
    constraint, reason = choose_constraint(profile_constraint, host_version, pinned)
    out: dict[str, StandaloneSource] = {}
    for subdir in targets:
        if subdir in flags:
            out[subdir] = standalone_for(subdir, channels, None, cache_root, flag=flags[subdir])
        elif subdir != host:
            out[subdir] = standalone_for(
                subdir, channels, constraint, cache_root, reason=reason, offline=offline
            )
    return out


def _matches(ref: PackageRef, spec: str) -> bool:
    from rattler import BuildString, MatchSpec, PackageRecord

    build = BuildString(ref.build)
    record = PackageRecord(ref.name, ref.version, build, ref.build_number, ref.subdir)
    return bool(MatchSpec(spec).matches(record))


def best_cached(
    store: PackageStore, subdir: str, spec: str, channels: Sequence[str]
) -> PackageRef | None:
    wanted = {c.rstrip("/") for c in channels}
    refs = [r for r in store.cached(subdir, NAME) if r.channel in wanted and _matches(r, spec)]
    return max(refs, key=preference) if refs else None


def exe_dir(cache_root: Path, ref: PackageRef) -> Path:
    return cache_root / "standalone" / ref.subdir / f"{ref.version}-{ref.build}-{ref.sha256[:16]}"


def standalone_for(
    subdir: str,
    channels: Sequence[str],
    constraint: str | None,
    cache_root: Path,
    *,
    flag: Path | None = None,
    reason: str = "",
    offline: bool = False,
) -> StandaloneSource:
    """Plan one target's conda-standalone (reads the cache; no network, nothing written).

    ``channels`` are URLs (``netconfig.resolve_channels``); ``constraint`` a version constraint
    (``choose_constraint``). An exact version that is cached is used without asking the
    channel; a range asks the channel for the newest match (falling back to the cache offline).
    """
    if flag is not None:
        return StandaloneSource(subdir, "flag", None, "--conda-exe", exe=flag)
    if not constraint:
        raise UsageError(f"no conda-standalone version constraint for {subdir}")
    spec = spec_for(constraint, origin="specs.conda_standalone")
    cached = best_cached(PackageStore(cache_root), subdir, spec, channels)
    if cached is not None and (is_exact(constraint) or offline):
        exe = exe_dir(cache_root, cached) / "standalone_conda" / PAYLOAD_NAME
        return StandaloneSource(subdir, "cache", constraint, reason, tuple(channels), cached, exe)
    return StandaloneSource(subdir, "download", constraint, reason, tuple(channels), cached)


def obtain(
    source: StandaloneSource,
    *,
    settings: NetSettings,
    cache_root: Path,
    progress: Progress | None = None,
) -> Path:
    """The conda-standalone executable for ``source.subdir``, header-checked, named the way
    constructor names an identified one (effects: may download and extract)."""
    if source.kind == "flag":
        assert source.exe is not None
        return prepare_given(source.exe, source.subdir, cache_root)
    store = PackageStore(cache_root)
    assert source.constraint is not None
    spec = spec_for(source.constraint, origin="specs.conda_standalone")
    ref = source.package if source.kind == "cache" else None
    if ref is None:
        ref = _resolve(source, spec, settings, cache_root, progress)
    archive = download([ref], store, settings, progress)[ref.key]
    return _extracted(ref, archive, cache_root)


def _resolve(
    source: StandaloneSource,
    spec: str,
    settings: NetSettings,
    cache_root: Path,
    progress: Progress | None,
) -> PackageRef:
    try:
        found = query(source.channels, [source.subdir], [spec], settings, cache_root)
    except FetchError:
        if source.package is None:
            raise
        (progress or Progress()).note(
            f"warning: the channel could not be reached; using the cached "
            f"{source.package.dist} for {source.subdir}"
        )
        return source.package
    found = [r for r in found if r.subdir == source.subdir and r.name == NAME]
    if not found:
        raise FetchError(
            f"no `{spec}` for {source.subdir} in {', '.join(source.channels)} "
            f"({source.reason}). Fix: add a channel that has it (e.g. conda-forge), set "
            f"specs.conda_standalone to an available version, or pass --conda-exe "
            f"{source.subdir}=PATH"
        )
    return max(found, key=preference)


def _extracted(ref: PackageRef, archive: Path, cache_root: Path) -> Path:
    """Unpack once per package; the executable is re-hashed against the record at every use."""
    from rattler.package_streaming import extract

    final = exe_dir(cache_root, ref)
    exe = final / "standalone_conda" / PAYLOAD_NAME
    marker = final / "extracted.json"
    try:
        if json.loads(marker.read_text(encoding="utf-8"))["sha256"] == sha256_file(exe):
            binaries.check_executable(exe, ref.subdir, what=f"{ref.filename}: {EXE_IN_PACKAGE}")
            return exe
    except (OSError, ValueError, KeyError):
        pass
    shutil.rmtree(final, ignore_errors=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        extract(archive, tmp)
        inner = tmp / EXE_IN_PACKAGE
        if not inner.is_file():
            raise FetchError(f"{ref.url}: the package has no {EXE_IN_PACKAGE}")
        binaries.check_executable(inner, ref.subdir, what=f"{ref.filename}: {EXE_IN_PACKAGE}")
        inner.chmod(inner.stat().st_mode | 0o111)
        _link_or_copy(inner, inner.with_name(PAYLOAD_NAME))
        digest = sha256_file(inner)
        (tmp / "extracted.json").write_text(
            json.dumps({"package": ref.to_json(), "sha256": digest}, indent=1), encoding="utf-8"
        )
        try:
            os.replace(tmp, final)
        except OSError:  # another build extracted it meanwhile
            if not (final / "extracted.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exe


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def prepare_given(exe: Path, subdir: str, cache_root: Path) -> Path:
    """A ``--conda-exe`` file: header-checked; when its name is not ``_conda``, a copy named
    ``_conda`` in the cache (keyed by its sha256) is what constructor gets."""
    if not exe.is_file():
        raise UsageError(f"--conda-exe {subdir}={exe}: no such file")
    binaries.check_executable(exe, subdir, what=f"--conda-exe {subdir}=")
    if exe.name == PAYLOAD_NAME:
        return exe
    digest = sha256_file(exe)
    target = cache_root / "standalone" / "given" / digest[:32] / PAYLOAD_NAME
    if not (target.is_file() and sha256_file(target) == digest):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{PAYLOAD_NAME}.{os.getpid()}.tmp")
        shutil.copy2(exe, tmp)
        os.replace(tmp, target)
    internal = exe.parent / "_internal"  # the onedir variant's libraries
    beside = target.parent / "_internal"
    if internal.is_dir() and not beside.exists():
        try:
            beside.symlink_to(internal.resolve(), target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege): a copy
            shutil.copytree(internal, beside)
    return target


def for_constructor(exe: Path, subdir: str, host: str | None) -> ConstructorExe:
    """How to pass ``exe`` to constructor for ``subdir`` on ``host`` (pure).

    constructor 3.16.3 identifies the conda-standalone by running ``conda.exe --version``. A
    binary for another platform cannot run, and then constructor (1) names the installer's
    payload after the file instead of ``_conda`` (the .sh installer extracts it to
    ``$PREFIX/<file name>`` and symlinks ``_conda`` to it) and (2) leaves ``--no-rc`` out of the
    installer's ``conda.exe install`` and virtual-package check, so those read every condarc
    file of the installing machine (``/etc/conda``, ``~/.condarc``, ``$CONDA_PREFIX`` ...). The
    file is therefore always named ``_conda`` (``obtain``/``prepare_given`` do that), and
    ``CONDA_RESTRICT_RC_SEARCH_PATH=1`` goes into the target's ``script_env_variables``:
    constructor exports those at the top of the .sh installer, and conda-standalone (25.7 and
    later) treats that variable exactly as ``--no-rc``. The installed prefix is then the same as
    a natively built one. .pkg installers (built on macOS only) do not export
    script_env_variables to their conda.exe calls; for them only the file name is fixed.
    """
    foreign = subdir != host
    if not foreign:
        return ConstructorExe(exe, False)
    notes = (
        f"constructor cannot run the {subdir} conda-standalone on {host}: it is passed as "
        f"{PAYLOAD_NAME} and CONDA_RESTRICT_RC_SEARCH_PATH=1 restores --no-rc at install",
    )
    return ConstructorExe(exe, True, dict(NO_RC_ENV), notes)
