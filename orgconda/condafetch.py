"""Conda packages onto the build machine without conda: channels, repodata, downloads, cache.

py-rattler reads repodata (its gateway: sharded, zstd or plain ``repodata.json``, with HTTP
caching) and streams package files; orgconda hashes every byte it receives and keeps a package
only when its sha256 equals the channel's. The HTTP client is built from the build machine's
conda settings (``netconfig``), so downloads use the proxies and CAs constructor's solve uses.

The cache lives under the user's cache directory (``ORGCONDA_CACHE_DIR`` overrides), never in
the repository::

    <cache>/pkgs/<subdir>/<name>/<version>-<build>/<sha256>/<file>         the verified archive
    <cache>/pkgs/<subdir>/<name>/<version>-<build>/<sha256>/record.json    written last
    <cache>/repodata/                                                      py-rattler's cache

``record.json`` (name, version, build, sha256, size, URL, channel ...) is the index: a package
that is pinned and cached is found without asking the channel, so a warm cache works offline.
An entry whose archive does not hash to its sha256 is removed and fetched again.

py-rattler 0.28 runs a tokio runtime in background threads; a Python object it still holds when
the interpreter finalizes can crash the process at exit (pyo3-async-runtimes issue 40). Every
call therefore goes through ``run_async``, which lets those threads settle before returning.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .errors import MissingToolError
from .netconfig import NetSettings
from .progress import Progress
from .stage import sha256_file

CACHE_ENV = "ORGCONDA_CACHE_DIR"
SETTLE_SECONDS = 0.05
CONCURRENT_DOWNLOADS = 4
T = TypeVar("T")
_ENV_LOCK = threading.Lock()


class FetchError(MissingToolError):
    """A package needed for the build could not be obtained (exit 3: the tool is missing)."""


class ChecksumMismatch(FetchError):
    """A downloaded file's bytes do not hash to the sha256 its channel lists."""


def default_cache_dir(env: dict[str, str] | None = None) -> Path:
    """``$ORGCONDA_CACHE_DIR``, else the platform's user cache directory for orgconda:
    ``$XDG_CACHE_HOME/orgconda`` or ``~/.cache/orgconda`` (Linux), ``~/Library/Caches/orgconda``
    (macOS), ``%LOCALAPPDATA%\\orgconda\\Cache`` (Windows)."""
    env = dict(os.environ) if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("orgconda", appauthor=False))


@dataclass(frozen=True)
class PackageRef:
    """One package file as its channel lists it."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    filename: str
    url: str
    channel: str
    sha256: str
    size: int | None = None
    track_features: tuple[str, ...] = ()
    timestamp: int = 0  # milliseconds since the epoch, 0 when unknown

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def key(self) -> str:
        return f"{self.subdir}/{self.name}/{self.version}-{self.build}/{self.sha256}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackageRef:
        data = dict(data)
        data["track_features"] = tuple(data.get("track_features") or ())
        return cls(**data)

    @classmethod
    def from_record(cls, rec: Any) -> PackageRef:
        """From a py-rattler RepoDataRecord; FetchError when the channel gives no sha256."""
        if rec.sha256 is None:
            raise FetchError(
                f"{rec.url}: the channel lists no sha256 for this package; orgconda checks "
                "every download against its sha256 and cannot use it"
            )
        stamp = rec.timestamp
        return cls(
            name=rec.name.normalized,
            version=str(rec.version),
            build=str(rec.build),
            build_number=int(rec.build_number),
            subdir=str(rec.subdir),
            filename=str(rec.file_name),
            url=str(rec.url),
            channel=str(rec.channel).rstrip("/"),
            sha256=rec.sha256.hex(),
            size=rec.size,
            track_features=tuple(rec.track_features or ()),
            timestamp=int(stamp.timestamp() * 1000) if stamp is not None else 0,
        )


def preference(ref: PackageRef) -> tuple[Any, ...]:
    """Sort key, best last: no track_features (conda-standalone's ``onedir`` variant carries
    one), then the highest version, build number and timestamp."""
    from rattler import Version

    return (not ref.track_features, Version(ref.version), ref.build_number, ref.timestamp)


class PackageStore:
    """The package cache: content-addressed entries, each complete or absent."""

    def __init__(self, cache_root: Path) -> None:
        self.cache_root = cache_root
        self.root = cache_root / "pkgs"

    def entry(self, ref: PackageRef) -> Path:
        return self.root / ref.key

    def archive(self, ref: PackageRef) -> Path:
        return self.entry(ref) / ref.filename

    def has(self, ref: PackageRef) -> bool:
        """Present with the right size (cheap, for planning); ``verified`` hashes it."""
        path = self.archive(ref)
        try:
            size = path.stat().st_size
        except OSError:
            return False
        return (self.entry(ref) / "record.json").is_file() and ref.size in (None, size)

    def verified(self, ref: PackageRef) -> Path | None:
        """The archive when its bytes hash to ``ref.sha256``; a damaged entry is removed."""
        if not self.has(ref):
            return None
        path = self.archive(ref)
        if sha256_file(path) == ref.sha256:
            return path
        shutil.rmtree(self.entry(ref), ignore_errors=True)
        return None

    def cached(self, subdir: str, name: str) -> list[PackageRef]:
        """Every complete entry for ``name`` in ``subdir``, from the record files (no hashing)."""
        refs = []
        for record in sorted((self.root / subdir / name).glob("*/*/record.json")):
            try:
                ref = PackageRef.from_json(json.loads(record.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue  # a damaged record is as good as absent
            if self.has(ref):
                refs.append(ref)
        return refs

    def add(self, ref: PackageRef, tmp: Path) -> Path:
        """Move a verified temporary file into place, then write the record (last)."""
        entry = self.entry(ref)
        entry.mkdir(parents=True, exist_ok=True)
        final = self.archive(ref)
        os.replace(tmp, final)
        record = entry / f".record.{os.getpid()}.{threading.get_ident()}.tmp"
        record.write_text(json.dumps(ref.to_json(), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(record, entry / "record.json")
        return final


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run one py-rattler coroutine to completion, then let its runtime threads settle."""

    async def main() -> T:
        return await factory()

    try:
        return asyncio.run(main())
    finally:
        gc.collect()
        time.sleep(SETTLE_SECONDS)


def make_client(settings: NetSettings) -> Any:
    """A py-rattler HTTP client with the build machine's proxies and CA trust."""
    from rattler.config import Config
    from rattler.networking import Client

    toml: list[str] = []
    if settings.ssl_verify is False:
        toml.append("tls-no-verify = true")
    elif settings.ssl_verify == "truststore":
        toml.append('tls-root-certs = "system"')
    if settings.proxies or settings.no_proxy:
        toml.append("[proxy-config]")
        for scheme in ("http", "https"):
            if scheme in settings.proxies:
                toml.append(f"{scheme} = {json.dumps(settings.proxies[scheme])}")
        if settings.no_proxy:
            toml.append(f"non-proxy-hosts = {json.dumps(list(settings.no_proxy))}")
    config = Config.from_toml("\n".join(toml) + "\n")
    # The TLS backend loads its roots when the client is built; SSL_CERT_FILE/SSL_CERT_DIR name
    # the CA bundle then, and only then (the process environment is restored at once).
    names = ("SSL_CERT_FILE", "SSL_CERT_DIR")
    with _ENV_LOCK:
        saved = {n: os.environ.get(n) for n in names}
        try:
            if settings.ca_bundle and settings.ssl_verify is not False:
                is_dir = Path(settings.ca_bundle).is_dir()
                os.environ.pop("SSL_CERT_FILE" if is_dir else "SSL_CERT_DIR", None)
                os.environ["SSL_CERT_DIR" if is_dir else "SSL_CERT_FILE"] = settings.ca_bundle
            return Client.from_config(config, max_retries=settings.max_retries)
        finally:
            for n, v in saved.items():
                if v is None:
                    os.environ.pop(n, None)
                else:
                    os.environ[n] = v


def network_hint(settings: NetSettings) -> str:
    lines = settings.describe()
    where = "; ".join(lines) if lines else "no proxy or CA settings found in condarc files"
    return (
        f"network settings in use: {where}. Fix: check the connection, proxy_servers / "
        "HTTPS_PROXY and ssl_verify (a CA bundle) in your condarc or environment"
    )


def query(
    channels: Sequence[str],
    subdirs: Sequence[str],
    specs: Sequence[str],
    settings: NetSettings,
    cache_root: Path,
) -> list[PackageRef]:
    """Every record matching ``specs`` in ``channels`` (URLs) for ``subdirs`` (network)."""
    from rattler import Channel, Gateway, MatchSpec, Subdir

    if settings.offline:
        raise FetchError(
            f"offline is set ({settings.origins.get('offline')}): the package index of "
            f"{', '.join(channels)} cannot be read, and the cache has no match for "
            f"{', '.join(specs)} ({', '.join(subdirs)})"
        )

    def factory() -> Awaitable[Any]:
        gateway = Gateway(cache_dir=cache_root / "repodata", client=make_client(settings))
        return gateway.query(
            [Channel(c) for c in channels],
            [Subdir(s) for s in subdirs],
            [MatchSpec(s) for s in specs],
            recursive=False,
            channel_relations="disabled",
        )

    try:
        result = run_async(factory)
    except Exception as exc:  # py-rattler raises its own exception types
        raise FetchError(
            f"cannot read the package index of {', '.join(channels)} for "
            f"{', '.join(subdirs)}: {_first_lines(exc)}\n{network_hint(settings)}"
        ) from exc
    return [PackageRef.from_record(r) for recs in result for r in recs]


def download(
    refs: Iterable[PackageRef],
    store: PackageStore,
    settings: NetSettings,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Each package's verified archive, by ``ref.key``; only missing ones are downloaded."""
    refs = list(dict.fromkeys(refs))
    out: dict[str, Path] = {}
    todo: list[PackageRef] = []
    for ref in refs:
        path = store.verified(ref)
        if path is None:
            todo.append(ref)
        else:
            out[ref.key] = path
    if not todo:
        return out
    if settings.offline:
        names = ", ".join(r.filename for r in todo)
        raise FetchError(
            f"offline is set ({settings.origins.get('offline')}) and these packages are not "
            f"in the cache {store.root}: {names}"
        )
    progress = progress or Progress()
    progress.begin(len(todo), sum(r.size or 0 for r in todo))
    ok = False
    try:
        out.update(run_async(lambda: _download_all(todo, store, settings, progress)))
        ok = True
    finally:
        progress.end(ok)
    return out


async def _download_all(
    todo: Sequence[PackageRef], store: PackageStore, settings: NetSettings, progress: Progress
) -> dict[str, Path]:
    from rattler.package_streaming import download_to_writer

    client = make_client(settings)
    gate = asyncio.Semaphore(CONCURRENT_DOWNLOADS)

    async def one(ref: PackageRef) -> tuple[str, Path]:
        async with gate:
            entry = store.entry(ref)
            entry.mkdir(parents=True, exist_ok=True)
            tmp = entry / f".{ref.filename}.{os.getpid()}.{id(ref)}.part"
            digest = hashlib.sha256()
            progress.file_started(ref.filename, ref.size, ref.url)
            try:
                with open(tmp, "wb") as fh:
                    sink = _Sink(fh, digest, progress)
                    try:
                        await download_to_writer(client, ref.url, sink)
                    except Exception as exc:
                        raise FetchError(
                            f"downloading {ref.url} failed: {_first_lines(exc)}\n"
                            f"{network_hint(settings)}"
                        ) from exc
                actual = digest.hexdigest()
                if actual != ref.sha256:
                    raise ChecksumMismatch(
                        f"{ref.url}: the downloaded file does not match the channel's checksum "
                        f"(sha256 expected {ref.sha256}, got {actual}, {sink.size} bytes); it was "
                        "discarded. The channel or a proxy served other bytes than its index "
                        "lists: nothing was installed from it"
                    )
                path = store.add(ref, tmp)
            finally:
                tmp.unlink(missing_ok=True)
            progress.file_done(ref.filename)
            return ref.key, path

    results = await asyncio.gather(*(one(r) for r in todo))
    return dict(results)


class _Sink:
    """The writer py-rattler streams into: file, hash and progress in one pass."""

    def __init__(self, fh: Any, digest: Any, progress: Progress) -> None:
        self.fh, self.digest, self.progress, self.size = fh, digest, progress, 0

    def write(self, data: bytes) -> int:
        self.fh.write(data)
        self.digest.update(data)
        self.size += len(data)
        self.progress.advance(len(data))
        return len(data)


def _first_lines(exc: BaseException, n: int = 4) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " / ".join(line.strip() for line in text.splitlines()[:n] if line.strip())
