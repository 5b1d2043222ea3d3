"""conda's ``@EXPLICIT`` format: the lock files ``build.py lock`` writes, and reading them back.

Pure: text in, dataclasses out (``read_lock`` reads one file). One line per package,
``<url>#sha256:<hex>`` (conda 26.7's explicit parser, ``conda.misc._get_url_pattern``, takes
``#<md5>``, ``#<sha256>`` or ``#sha256:<sha256>``), after a header of ``# key: value`` comment
lines that conda skips. constructor's own ``lockfile`` output (``#<md5>`` lines) and
``conda list --explicit`` output parse with the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import UsageError

EXPLICIT_MARKER = "@EXPLICIT"
PACKAGE_EXTS = (".conda", ".tar.bz2")
LOCKS_DIR = "locks"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_TOKEN_PATH = re.compile(r"/t/[^/]+(?=/)")
_DEP_NAME = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_HEADER = re.compile(r"^#\s*([A-Za-z0-9][A-Za-z0-9 _.-]*?)\s*:\s?(.*)$")


class LockError(UsageError):
    """A lock or explicit file is missing, unreadable or malformed (exit code 2)."""


@dataclass(frozen=True)
class Package:
    """One conda package as a lock, constructor's outputs or ``conda list`` describe it."""

    name: str
    version: str
    build: str
    subdir: str  # the package's own subdir: the target platform or noarch
    channel: str  # base URL without the subdir (or a channel name when no URL is known)
    url: str | None = None
    sha256: str | None = None
    md5: str | None = None
    license: str | None = None
    depends: tuple[str, ...] = ()

    @property
    def fn(self) -> str:
        if self.url:
            return self.url.rsplit("/", 1)[-1]
        return f"{self.name}-{self.version}-{self.build}.conda"

    @property
    def package_type(self) -> str:
        """``conda`` or ``tar.bz2``: the file format (the purl ``type`` qualifier)."""
        return "tar.bz2" if self.fn.endswith(".tar.bz2") else "conda"

    @property
    def dist_name(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


@dataclass(frozen=True)
class ExplicitFile:
    """A parsed ``@EXPLICIT`` text: its ``# key: value`` header lines and its packages."""

    header: Mapping[str, str]
    packages: tuple[Package, ...]


@dataclass(frozen=True)
class Lock:
    """A lock written by ``build.py lock``: one platform, every package with its sha256."""

    path: Path
    platform: str
    inputs_sha256: str
    header: Mapping[str, str] = field(repr=False)
    packages: tuple[Package, ...]


# --- URLs and file names ----------------------------------------------------------------


def strip_auth(url: str) -> str:
    """``url`` without ``user:password@`` and without an anaconda.org ``/t/<token>`` part."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, _TOKEN_PATH.sub("", parts.path), "", ""))


def split_filename(fn: str) -> tuple[str, str, str]:
    """``name-version-build.conda`` -> (name, version, build); ValueError when not a package."""
    stem = next((fn[: -len(ext)] for ext in PACKAGE_EXTS if fn.endswith(ext)), None)
    if stem is None:
        raise ValueError(f"{fn!r} is not a conda package file name (.conda or .tar.bz2)")
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{fn!r} is not <name>-<version>-<build>{PACKAGE_EXTS[0]}")
    return parts[0], parts[1], parts[2]


def package_from_url(
    url: str,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    license: str | None = None,
    depends: Sequence[str] = (),
) -> Package:
    """A Package from ``<channel>/<subdir>/<file name>``; ValueError when the URL is not one."""
    clean = strip_auth(url)
    base, _, fn = clean.rpartition("/")
    channel, _, subdir = base.rpartition("/")
    if not channel or not subdir:
        raise ValueError(f"{url!r} is not <channel>/<subdir>/<package file>")
    name, version, build = split_filename(fn)
    return Package(
        name=name,
        version=version,
        build=build,
        subdir=subdir,
        channel=channel,
        url=clean,
        sha256=sha256,
        md5=md5,
        license=license,
        depends=tuple(depends),
    )


def dependency_name(spec: str) -> str | None:
    m = _DEP_NAME.match(spec)
    return m.group(1).lower() if m else None


def topological(packages: Iterable[Package]) -> list[Package]:
    """Dependencies before dependents, ties broken by name: a stable order.

    conda links the packages of an explicit file in file order and runs their post-link
    scripts in that order, so a dependency must come first (as in ``conda list --explicit``
    and constructor's own lockfile). Packages that depend on each other (python and pip,
    with conda's add_pip_as_python_dependency) come most-depended-on first, as conda orders
    python before pip.
    """
    by_name = {p.name.lower(): p for p in packages}
    deps = {
        n: {d for d in map(dependency_name, p.depends) if d in by_name and d != n}
        for n, p in by_name.items()
    }
    groups = _strongly_connected(deps)
    group_of = {n: i for i, group in enumerate(groups) for n in group}
    after = {i: {group_of[d] for n in g for d in deps[n]} - {i} for i, g in enumerate(groups)}
    dependents = {n: sum(n in ds for ds in deps.values()) for n in by_name}
    out: list[Package] = []
    done: set[int] = set()
    while len(done) < len(groups):
        i = min(
            (i for i in range(len(groups)) if i not in done and after[i] <= done),
            key=lambda i: min(groups[i]),
        )
        done.add(i)
        out += [by_name[n] for n in sorted(groups[i], key=lambda n: (-dependents[n], n))]
    return out


def _strongly_connected(deps: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of the dependency graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(n: str) -> None:
        index[n] = low[n] = len(index)
        stack.append(n)
        on_stack.add(n)
        for d in sorted(deps[n]):
            if d not in index:
                visit(d)
                low[n] = min(low[n], low[d])
            elif d in on_stack:
                low[n] = min(low[n], index[d])
        if low[n] == index[n]:
            group = set()
            while True:
                m = stack.pop()
                on_stack.discard(m)
                group.add(m)
                if m == n:
                    break
            out.append(group)

    for n in sorted(deps):
        if n not in index:
            visit(n)
    return out


# --- parsing ----------------------------------------------------------------------------


def parse_explicit(text: str, source: str) -> ExplicitFile:
    """Parse ``@EXPLICIT`` text; LockError naming ``source`` and the line on any problem."""
    header: dict[str, str] = {}
    packages: list[Package] = []
    seen_marker = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _HEADER.match(line)
            if m and not seen_marker:
                header.setdefault(m.group(1).strip().lower(), m.group(2).strip())
            continue
        if line == EXPLICIT_MARKER:
            seen_marker = True
            continue
        if not seen_marker:
            raise LockError(
                f"{source}: line {number}: {line[:80]!r} comes before the {EXPLICIT_MARKER} "
                f"line; this is not a conda explicit file (regenerate it with "
                "`python build.py lock`)"
            )
        packages.append(_package_line(line, source, number))
    if not seen_marker:
        raise LockError(
            f"{source}: no {EXPLICIT_MARKER} line; this is not a conda explicit file "
            "(regenerate it with `python build.py lock`)"
        )
    return ExplicitFile(header, tuple(packages))


def _package_line(line: str, source: str, number: int) -> Package:
    url, _, checksum = line.partition("#")
    sha256 = md5 = None
    if checksum.startswith("sha256:"):
        checksum = checksum[len("sha256:") :]
        if not _HEX64.match(checksum):
            raise LockError(f"{source}: line {number}: `#sha256:` needs 64 hex digits")
        sha256 = checksum
    elif _HEX64.match(checksum):
        sha256 = checksum
    elif _HEX32.match(checksum):
        md5 = checksum
    elif checksum:
        raise LockError(
            f"{source}: line {number}: {('#' + checksum)[:80]!r} is neither an md5 nor a "
            "`sha256:` checksum"
        )
    try:
        return package_from_url(url, sha256=sha256, md5=md5)
    except ValueError as exc:
        raise LockError(f"{source}: line {number}: {exc}") from None


def read_explicit(path: Path) -> ExplicitFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(f"{path}: cannot read it ({exc})") from None
    return parse_explicit(text, str(path))


def read_lock(path: Path) -> Lock:
    """Read a lock written by ``build.py lock``; LockError (exit 2) naming the file and the fix."""
    if not path.is_file():
        raise LockError(
            f"{path}: no lock file; run `python build.py lock` to write it (and commit it)"
        )
    parsed = read_explicit(path)
    platform = parsed.header.get("platform", "")
    digest = parsed.header.get("inputs-sha256", "")
    problems = []
    if not platform:
        problems.append("no `# platform:` header line")
    if not _HEX64.match(digest):
        problems.append("no `# inputs-sha256:` header line with 64 hex digits")
    unhashed = [p.fn for p in parsed.packages if p.sha256 is None]
    if unhashed:
        problems.append(f"packages without `#sha256:`: {', '.join(unhashed[:5])}")
    foreign = [p.fn for p in parsed.packages if p.subdir not in (platform, "noarch")]
    if platform and foreign:
        problems.append(f"packages for another platform than {platform}: {', '.join(foreign[:5])}")
    if not parsed.packages:
        problems.append("no packages")
    if problems:
        raise LockError(
            f"{path}: not a lock written by `python build.py lock` ({'; '.join(problems)}); "
            "run `python build.py lock` to write it again"
        )
    return Lock(path, platform, digest, parsed.header, parsed.packages)


# --- writing ----------------------------------------------------------------------------


def package_line(pkg: Package) -> str:
    if not pkg.url or not pkg.sha256:
        raise ValueError(f"{pkg.dist_name}: a lock line needs the URL and the sha256")
    return f"{pkg.url}#sha256:{pkg.sha256}"


def format_lock(
    header: Sequence[tuple[str, str]], comments: Sequence[str], pkgs: Sequence[Package]
) -> str:
    """A lock's text: comment lines, ``# key: value`` lines, the marker, a line a package."""
    lines = [f"# {c}" if c else "#" for c in comments]
    lines += [f"# {k}: {v}" for k, v in header]
    lines.append(EXPLICIT_MARKER)
    lines += [package_line(p) for p in topological(pkgs)]
    return "\n".join(lines) + "\n"


def explicit_text(lock: Lock, extra_lines: Sequence[str] = ()) -> str:
    """The explicit file constructor gets as ``environment_file`` for one platform.

    The lock's packages, in the lock's order, then ``extra_lines`` (for example the org
    configuration package built at build time, as ``<url>#sha256:<hex>``).
    """
    bad = [x for x in extra_lines if "\n" in x or "\r" in x or not x.strip()]
    if bad:
        raise ValueError(f"extra explicit lines must be single, non-empty lines: {bad!r}")
    lines = [
        f"# Generated by orgconda from {lock.path.name} ({lock.platform}); do not edit.",
        f"# platform: {lock.platform}",
        f"# inputs-sha256: {lock.inputs_sha256}",
        EXPLICIT_MARKER,
        *(package_line(p) for p in lock.packages),
        *(x.strip() for x in extra_lines),
    ]
    return "\n".join(lines) + "\n"


def lock_path(profile_path: Path, subdir: str, locks_dir: Path | None = None) -> Path:
    """Where the lock for ``subdir`` lives: ``<profile dir>/locks/<subdir>.txt`` by default."""
    return (locks_dir or profile_path.parent / LOCKS_DIR) / f"{subdir}.txt"
