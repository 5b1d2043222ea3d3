"""Locks: what one platform's solve depends on, its hash, the solve itself (py-rattler).

``solve_inputs`` collects everything that changes a platform's solve (the profile's specs,
the channels or their ``--channel`` override, ``channels_remap``, channel priority, the
virtual packages assumed for the target); ``inputs_sha256`` hashes it. ``build.py lock``
writes that hash into each lock, and ``lock_problem`` recomputes it at build time, so a
build from a lock refuses when the profile moved on since the lock was written.

Why py-rattler and not the build host's conda (``CONDA_SUBDIR=... conda create --dry-run``):
conda derives virtual packages from the machine it runs on (``__glibc`` from the host's
libc, ``__archspec`` from the host CPU for the native subdir, ``__osx`` dropped when not on
macOS), so the same profile locks differently on a laptop and on CI. py-rattler solves any
subdir on any host against exactly the virtual packages given here, needs no conda
installation (it is a wheel on PyPI), and reads the same channels and repodata.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BuildError, UsageError
from .lockfile import Lock, Package, format_lock, package_from_url
from .profile import Profile

INPUTS_FORMAT = 1
CHANNEL_PRIORITY = "strict"
SOLVER = "py-rattler"

# The systems a lock assumes for each target: the oldest that conda-forge's current builds
# support (glibc 2.28 sysroot, macOS 10.13 for Intel and 11.0 for Apple silicon), so the solve
# picks current builds and the installer runs wherever conda-forge's packages run. __archspec
# is the generic machine, as conda itself reports it when solving for another subdir.
# Override per lock with `build.py lock --virtual-package`.
DEFAULT_VIRTUAL_PACKAGES: Mapping[str, tuple[str, ...]] = {
    "linux-64": ("__archspec=1=x86_64", "__glibc=2.28=0", "__linux=4.18=0", "__unix=0=0"),
    "linux-aarch64": ("__archspec=1=aarch64", "__glibc=2.28=0", "__linux=4.18=0", "__unix=0=0"),
    "osx-64": ("__archspec=1=x86_64", "__osx=10.13=0", "__unix=0=0"),
    "osx-arm64": ("__archspec=1=arm64", "__osx=11.0=0", "__unix=0=0"),
    "win-64": ("__archspec=1=x86_64", "__win=0=0"),
}


class SolveError(BuildError):
    """A platform could not be solved (unsatisfiable, or a channel could not be read): exit 4."""


@dataclass(frozen=True)
class SolveInputs:
    """Everything that changes one platform's solve; ``sha256`` is what a lock records."""

    subdir: str
    specs: tuple[str, ...]
    channels: tuple[str, ...]
    channels_from: str  # "profile" or "--channel"
    channels_remap: tuple[tuple[str, str], ...]
    virtual_packages: tuple[str, ...]
    channel_priority: str = CHANNEL_PRIORITY
    # conda's default (add_pip_as_python_dependency: true), so constructor's own solve ships
    # pip with python; without it a lock of the same specs had one package fewer (measured).
    pip_with_python: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "format": INPUTS_FORMAT,
            "subdir": self.subdir,
            "specs": list(self.specs),
            "channels": list(self.channels),
            "channels_from": self.channels_from,
            "channels_remap": [list(r) for r in self.channels_remap],
            "channel_priority": self.channel_priority,
            "virtual_packages": list(self.virtual_packages),
            "add_pip_as_python_dependency": self.pip_with_python,
        }

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def solve_channels(self) -> tuple[str, ...]:
        """What the solver reads: the channels, then each channels_remap source (as
        constructor 3.16.3's fcp.py appends them)."""
        return tuple(dict.fromkeys([*self.channels, *(src for src, _ in self.channels_remap)]))


def solve_inputs(
    profile: Profile,
    subdir: str,
    channels: Sequence[str] = (),
    virtual_packages: Sequence[str] | None = None,
) -> SolveInputs:
    """The inputs of ``subdir``'s solve. ``channels``: the ``--channel`` override, if any."""
    vps = DEFAULT_VIRTUAL_PACKAGES[subdir] if virtual_packages is None else virtual_packages
    return SolveInputs(
        subdir=subdir,
        specs=tuple(profile.specs),
        channels=tuple(channels) or tuple(profile.channels),
        channels_from="--channel" if channels else "profile",
        channels_remap=tuple(profile.channels_remap),
        virtual_packages=tuple(sorted(vps)),
    )


def parse_virtual_packages(values: Sequence[str], subdirs: Sequence[str]) -> dict[str, list[str]]:
    """Apply ``--virtual-package [SUBDIR:]NAME=VERSION[=BUILD]`` to the default sets.

    Without ``SUBDIR:`` a value replaces that name on every selected platform that has it by
    default, or is added to all of them when none has it (``__cuda=12.4``).
    """
    import rattler

    out = {s: list(DEFAULT_VIRTUAL_PACKAGES[s]) for s in subdirs}
    for value in values:
        target, sep, spec = value.rpartition(":")
        name, _, rest = spec.partition("=")
        version, _, build = rest.partition("=")
        fix = "use [SUBDIR:]NAME=VERSION[=BUILD], e.g. __glibc=2.17 or osx-64:__osx=11.0"
        if not name.startswith("__") or not version:
            raise UsageError(f"--virtual-package {value!r}: {fix}")
        try:
            rattler.Version(version)
        except Exception:
            raise UsageError(f"--virtual-package {value!r}: {version!r} is not a version") from None
        if sep and target not in subdirs:
            raise UsageError(
                f"--virtual-package {value!r}: {target!r} is not one of the platforms being "
                f"locked ({', '.join(subdirs)})"
            )
        chosen = [target] if sep else subdirs
        having = [s for s in chosen if any(_vp_name(v) == name for v in out[s])]
        entry = f"{name}={version}={build or '0'}"
        for s in having or chosen:
            out[s] = [v for v in out[s] if _vp_name(v) != name] + [entry]
    return out


def _vp_name(entry: str) -> str:
    return entry.split("=", 1)[0]


# --- solving ----------------------------------------------------------------------------


def solver_version() -> str:
    return f"{SOLVER} {importlib.metadata.version('py-rattler')}"


def solve_all(
    inputs: Sequence[SolveInputs], cache_dir: Path | None = None
) -> dict[str, tuple[Package, ...]]:
    """Solve every platform (concurrently, one repodata gateway); SolveError lists failures.

    Repodata comes over the network through py-rattler's HTTP client, which honours
    HTTPS_PROXY / HTTP_PROXY / NO_PROXY and reads credentials from rattler's store
    (RATTLER_AUTH_FILE); ``file://`` channels are read from disk.
    """
    results = asyncio.run(_solve_all(inputs, cache_dir))
    failures = [
        f"{i.subdir}: {r}" for i, r in zip(inputs, results, strict=True) if isinstance(r, str)
    ]
    if failures:
        raise SolveError(
            f"could not solve {len(failures)} of {len(inputs)} platform(s); no lock was "
            "written.\n" + "\n".join(failures)
        )
    return {i.subdir: r for i, r in zip(inputs, results, strict=True) if isinstance(r, tuple)}


async def _solve_all(
    inputs: Sequence[SolveInputs], cache_dir: Path | None
) -> list[tuple[Package, ...] | str]:
    """Each platform's packages, or the explanation of its failure (a string).

    The gateway must be gone before the event loop closes: py-rattler's background fetches
    hold it, and one still alive at interpreter exit crashed the process (SIGSEGV, measured
    in about 1 run in 8 after a failed fetch). So no exception (whose traceback would keep
    the gateway referenced) leaves this function.
    """
    import gc

    import rattler

    gateway = rattler.Gateway(cache_dir=cache_dir) if cache_dir else rattler.Gateway()
    jobs = [_solve_one(i, gateway) for i in inputs]
    raw = await asyncio.gather(*jobs, return_exceptions=True)
    results: list[tuple[Package, ...] | str] = [
        _explain(r, i) if isinstance(r, BaseException) else r
        for i, r in zip(inputs, raw, strict=True)
    ]
    del raw, jobs, gateway
    gc.collect()
    return results


async def _solve_one(inputs: SolveInputs, gateway: Any) -> tuple[Package, ...]:
    import rattler

    records = await rattler.solve(
        sources=list(inputs.solve_channels),
        specs=list(inputs.specs),
        gateway=gateway,
        platforms=[rattler.Subdir(inputs.subdir), rattler.Subdir("noarch")],
        virtual_packages=[_virtual_package(v) for v in inputs.virtual_packages],
        channel_priority=rattler.ChannelPriority.Strict,
        add_pip_as_python_dependency=inputs.pip_with_python,
    )
    return tuple(_package(r, inputs) for r in records)


def _virtual_package(entry: str) -> Any:
    import rattler

    name, version, build = [*entry.split("="), "0", "0"][:3]
    return rattler.GenericVirtualPackage(
        rattler.PackageName(name), rattler.Version(version), rattler.BuildString(build or "0")
    )


def _package(record: Any, inputs: SolveInputs) -> Package:
    if record.sha256 is None:
        raise SolveError(
            f"{record.url}: the channel's repodata has no sha256 for this package, and a lock "
            "needs one; re-index the channel (conda-index and rattler-index write sha256)"
        )
    return package_from_url(
        record.url,
        sha256=bytes(record.sha256).hex(),
        md5=bytes(record.md5).hex() if record.md5 is not None else None,
        license=record.license,
        depends=tuple(record.depends),
    )


def _explain(exc: BaseException, inputs: SolveInputs) -> str:
    lines = [line.rstrip() for line in str(exc).strip().splitlines() if line.strip()]
    text = " " + lines[0] if len(lines) == 1 else "\n".join(["", *("    " + x for x in lines)])
    kind = type(exc).__name__
    if kind == "SolverError":
        return (
            f"the specs cannot be satisfied from {', '.join(inputs.solve_channels)}:{text}\n"
            f"  specs: {', '.join(inputs.specs)}; virtual packages: "
            f"{', '.join(inputs.virtual_packages)} (change one with --virtual-package)"
        )
    if kind in ("GatewayError", "FetchRepoDataError", "ChannelError", "InvalidChannelError"):
        return (
            f"could not read the channels ({', '.join(inputs.solve_channels)}):{text}\n"
            "  check the URL (`channels` in the profile, or --channel), the network, and "
            "HTTPS_PROXY if you are behind a proxy"
        )
    if isinstance(exc, SolveError):
        return str(exc)
    return f"{kind}:{text}"


# --- lock text and the check at build time -------------------------------------------------


def lock_text(inputs: SolveInputs, packages: Sequence[Package], profile: Profile) -> str:
    """The bytes of one lock file: a reviewable header, then ``@EXPLICIT`` and the packages."""
    comments = [
        f"orgconda lock for {inputs.subdir}: the exact packages `python build.py build --locked` "
        "installs.",
        f"Written by `python build.py lock` from {profile.path.name}. Commit it and review "
        "its changes; do not edit it",
        "by hand: change the profile, then run `python build.py lock` again.",
        "",
    ]
    header = [
        ("platform", inputs.subdir),
        ("inputs-sha256", inputs.sha256),
        ("specs", json.dumps(list(inputs.specs))),
        ("channels", json.dumps(list(inputs.channels))),
        ("channels-from", inputs.channels_from),
        ("channels-remap", json.dumps([list(r) for r in inputs.channels_remap])),
        ("channel-priority", inputs.channel_priority),
        ("virtual-packages", json.dumps(list(inputs.virtual_packages))),
        ("add-pip-as-python-dependency", json.dumps(inputs.pip_with_python)),
        ("solver", solver_version()),
        ("packages", str(len(packages))),
    ]
    return format_lock(header, comments, packages)


def recorded_virtual_packages(lock: Lock) -> tuple[str, ...] | None:
    try:
        value = json.loads(lock.header.get("virtual-packages", ""))
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def lock_problem(
    lock: Lock, profile: Profile, subdir: str, channels: Sequence[str] = ()
) -> str | None:
    """None when ``lock`` is current for ``profile``'s ``subdir``; else what changed and the fix.

    ``channels`` is the build's ``--channel`` override (empty: the profile's channels). The
    virtual packages are the ones the lock recorded (chosen when it was written).
    """
    vps = recorded_virtual_packages(lock)
    fix = (
        f"run `python build.py lock{_flags(subdir, channels, vps)}` to solve again, review the "
        "changes and commit them"
    )
    if lock.platform != subdir:
        return f"{lock.path} is the lock for {lock.platform}, not {subdir}; {fix}"
    current = solve_inputs(profile, subdir, channels, vps)
    if current.sha256 == lock.inputs_sha256:
        return None
    recorded = {
        "specs": (lock.header.get("specs"), json.dumps(list(current.specs))),
        "channels": (lock.header.get("channels"), json.dumps(list(current.channels))),
        "channels-from": (lock.header.get("channels-from"), current.channels_from),
        "channels-remap": (
            lock.header.get("channels-remap"),
            json.dumps([list(r) for r in current.channels_remap]),
        ),
        "channel-priority": (lock.header.get("channel-priority"), current.channel_priority),
        "add-pip-as-python-dependency": (
            lock.header.get("add-pip-as-python-dependency"),
            json.dumps(current.pip_with_python),
        ),
    }
    changed = [
        f"{key} {was} in the lock, {now} now" for key, (was, now) in recorded.items() if was != now
    ]
    what = "; ".join(changed) if changed else "its recorded inputs do not match its hash"
    return f"{lock.path} is out of date for {profile.path.name} ({what}); {fix}"


def _flags(subdir: str, channels: Sequence[str], vps: Sequence[str] | None) -> str:
    """The `lock` options that solve ``subdir`` as before: the build's channels, and the
    virtual packages the lock was written with where they differ from the defaults."""
    defaults = set(DEFAULT_VIRTUAL_PACKAGES.get(subdir, ()))
    kept = [v for v in vps or () if v not in defaults]
    return (
        "".join(f" --channel {c}" for c in channels)
        + f" --platform {subdir}"
        + "".join(f" --virtual-package {subdir}:{v}" for v in kept)
    )


def write_locks(texts: Mapping[Path, str]) -> dict[Path, str]:
    """Write every lock, or none: all go to temporary files first, then each is renamed.

    Returns ``{path: "new" | "updated" | "unchanged"}``.
    """
    import os
    import tempfile

    states: dict[Path, str] = {}
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in texts.items():
            old = path.read_bytes() if path.is_file() else None
            states[path] = (
                "new" if old is None else ("unchanged" if old == text.encode() else "updated")
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
        temps = []
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
    return states


def timed_solve(
    inputs: Sequence[SolveInputs], cache_dir: Path | None = None
) -> tuple[dict[str, tuple[Package, ...]], float]:
    start = time.perf_counter()
    solved = solve_all(inputs, cache_dir)
    return solved, time.perf_counter() - start
