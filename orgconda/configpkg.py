"""The org configuration as a conda package (issue 6): ``<slug>-conda-config``.

A ``noarch: generic`` package that installs the org condarc as ``condarc.d/<slug>.yml`` and a
record of it as ``etc/orgconda/config.json``. Installers list it in ``specs`` and its name in
``aggressive_update_packages``, so publishing a new build to the internal channel reconfigures
existing installs the next time conda changes their base environment.

Where the settings live: with the package, construct.yaml gets no ``condarc:`` at all. conda
reads ``<prefix>/.condarc`` before ``<prefix>/condarc.d/*.yml``, and the first file wins a
``#!final`` contest, so a baked copy (even of the telemetry line alone) would pin the value of
the day of install forever; list settings such as ``aggressive_update_packages`` merge across
files, so a baked list would outlive the package's. The settings live in exactly one place.

Layout: ``build/org-config/recipe/`` (meta.yaml, build.sh, bld.bat, files/ as in the prefix),
``build/org-config/conda-build.log``, and the channel ``dist/channel/`` (``noarch/*.conda``
plus its index), ready to upload.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jinja2
import yaml

from . import render, stage
from .errors import BuildError, ProfileError, UsageError
from .profile import Profile, load_profile
from .render import RenderError, RenderOptions
from .runner import Runner, format_command

RECIPE_TEMPLATES = render.REPO / "recipes" / "org-config"
BUILD_SCRIPTS = ("build.sh", "bld.bat")
RENDERED_DIR = "org-config"  # build/org-config/
RECIPE_DIR = "recipe"  # build/org-config/recipe/
LOG_NAME = "conda-build.log"  # build/org-config/conda-build.log
CHANNEL_DIR = "channel"  # dist/channel/
CONFIG_JSON = "etc/orgconda/config.json"
CONFIG_FORMAT = 1
PACKAGE_EXTS = (".conda", ".tar.bz2")

# conda's naming rules (CEP "Names in conda packages and channels"): lowercase ASCII letters,
# digits and `-` `_` `.`; starting with a letter or digit; no two separators in a row.
_NAME = re.compile(r"^[a-z0-9]([a-z0-9]|[-_.](?=[a-z0-9]))*$")
_NAME_MAX = 128
# A conda version after mapping: components split at `.` and `_`, each non-empty, from
# lowercase letters and digits (conda compares versions case-insensitively).
_VERSION_COMPONENT = re.compile(r"^[a-z0-9]+$")


@dataclass(frozen=True)
class ConfigPackage:
    """Everything about one build of the package, computed purely from the profile."""

    name: str
    version: str
    build_number: int
    build_string: str  # h<content hash>_<build number>
    condarc_file: str  # condarc.d/<slug>.yml, relative to the prefix
    condarc: str  # the text it ships, byte for byte
    files: Mapping[str, str | Path]  # prefix-relative path -> text, or a file to copy

    @property
    def condarc_sha256(self) -> str:
        return hashlib.sha256(self.condarc.encode("utf-8")).hexdigest()

    @property
    def stem(self) -> str:
        """The package file name without its extension."""
        return f"{self.name}-{self.version}-{self.build_string}"

    @property
    def spec(self) -> str:
        """Exactly this build, for construct.yaml's ``specs`` (one line, no trailing `]`)."""
        return f"{self.name} =={self.version} {self.build_string}"


# --- rules ------------------------------------------------------------------------------


def conda_version(installer_version: str) -> str:
    """The conda package version for an installer version.

    conda-build refuses `-` in versions; conda itself reads `1.0-rc1` as `1.0_rc1` (its
    VersionOrder turns dashes into underscores), so that is the mapping, and the result is
    lowercased like conda's comparison. Ordering follows conda's rules: `2026.11_rc1` sorts
    before `2026.11`, and `2026.11_1` after it.
    """
    return installer_version.replace("-", "_").lower()


def package_problems(profile: Profile) -> list[str]:
    """Every reason conda, conda-build or this package's layout would refuse the profile."""
    cp = profile.config_package
    out = []
    derived = "slug" not in _dict(profile.raw.get("config_package"))
    # a derived slug is not in the file: point at the config_package section instead
    where = ("config_package",) if derived else ("config_package", "slug")
    origin = (
        f" (derived from telemetry.org_token {profile.telemetry.org_token!r}; set "
        "config_package.slug to choose another)"
        if derived
        else ""
    )
    name = cp.name
    if len(name) > _NAME_MAX or not _NAME.match(name):
        why = _name_problem(name)
        out.append(
            _at(
                profile,
                ("config_package", "slug"),
                f"the package name {name!r}{origin} is not a valid conda package name: {why}; "
                "use lowercase letters and digits with single `-` or `_` between them, "
                "e.g. slug: acme-corp",
                line_of=where,
            )
        )
    version = conda_version(profile.version)
    bad = [c for c in re.split(r"[._]", version) if not _VERSION_COMPONENT.match(c)]
    if bad:
        out.append(
            _at(
                profile,
                ("installer", "version"),
                f"{profile.version!r} cannot be a conda package version (as {version!r} it has "
                "an empty component: two separators in a row, or one at the start or end); "
                "the configuration package takes the installer version, so use single `.` or "
                '`_` between parts (e.g. "2026.11.1"), or set config_package.enabled: false',
            )
        )
    ca = profile.condarc.ca_certificate
    if ca is not None and f"etc/orgconda/{ca.name}" == CONFIG_JSON:
        out.append(
            _at(
                profile,
                ("condarc", "ca_certificate"),
                f"the file name {ca.name!r} clashes with {CONFIG_JSON}; rename the certificate",
            )
        )
    return out


def _name_problem(name: str) -> str:
    if len(name) > _NAME_MAX:
        return f"longer than {_NAME_MAX} characters"
    if name != name.lower():
        return "it has uppercase letters"
    if re.search(r"[^a-z0-9._-]", name):
        return "it has characters other than a-z 0-9 - _ ."
    if re.search(r"[-_.]{2}", name):
        return "it has two separators in a row"
    return "it must start with a letter or digit"


def describe(profile: Profile) -> ConfigPackage:
    """The package for ``profile`` (pure); ProfileError lists every rule it breaks."""
    problems = package_problems(profile)
    if problems:
        raise ProfileError(_display(profile.path), problems)
    cp = profile.config_package
    name = cp.name
    version = conda_version(profile.version)
    condarc = render.render_condarc(profile, org_settings=True, extra_aggressive=(name,))
    if profile.telemetry.locked and "#!final" not in condarc:
        raise RenderError("the locked org condarc lost its #!final marker")
    condarc_file = f"condarc.d/{cp.slug}.yml"
    record = {
        "format": CONFIG_FORMAT,
        "profile": profile.name,
        "installer_version": profile.version,
        "name": name,
        "version": version,
        "build_number": cp.build_number,
        "condarc_file": condarc_file,
        "condarc_sha256": hashlib.sha256(condarc.encode("utf-8")).hexdigest(),
    }
    files: dict[str, str | Path] = {
        condarc_file: condarc,
        CONFIG_JSON: json.dumps(record, indent=2) + "\n",
    }
    if profile.condarc.ca_certificate is not None:
        # condarc's ssl_verify names ${CONDA_ROOT}/etc/orgconda/<file>: ship the file with it,
        # so rotating the certificate is a package update like any other setting.
        ca = profile.condarc.ca_certificate
        files[f"{render.CA_PREFIX_DIR}/{ca.name}"] = ca
    digest = _content_hash(name, version, cp.build_number, _about(profile), files)
    return ConfigPackage(
        name=name,
        version=version,
        build_number=cp.build_number,
        build_string=f"h{digest[:8]}_{cp.build_number}",
        condarc_file=condarc_file,
        condarc=condarc,
        files=files,
    )


def _content_hash(
    name: str, version: str, number: int, about: Mapping[str, str], files: Mapping[str, str | Path]
) -> str:
    """A hash of everything that ends up in the package, so the build string (and the file
    name) changes whenever the content does."""
    doc = {
        "name": name,
        "version": version,
        "build_number": number,
        "about": dict(about),
        "files": {path: _sha256(content) for path, content in sorted(files.items())},
        "scripts": {s: _sha256(RECIPE_TEMPLATES / s) for s in BUILD_SCRIPTS},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _sha256(content: str | Path) -> str:
    data = content.read_bytes() if isinstance(content, Path) else content.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _about(profile: Profile) -> dict[str, str]:
    return {
        "summary": f"{profile.company} conda configuration for {profile.name}",
        "description": (
            f"Installs condarc.d/{profile.config_package.slug}.yml (the organization's conda "
            f"settings) and {CONFIG_JSON}. Installers list this package in "
            "aggressive_update_packages, so conda updates it whenever it changes the base "
            "environment."
        ),
    }


# --- the recipe -------------------------------------------------------------------------


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(RECIPE_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["yaml_scalar"] = render.yaml_scalar
    return env


def render_recipe(profile: Profile, pkg: ConfigPackage) -> dict[str, str | Path]:
    """The recipe folder's files (relative name -> text, or a file to copy); checked."""
    try:
        text = (
            _env()
            .get_template("meta.yaml.j2")
            .render(
                profile_path=render._rel(profile.path),
                name=pkg.name,
                version=pkg.version,
                build_number=pkg.build_number,
                build_string=pkg.build_string,
                shipped=sorted(pkg.files),
                **_about(profile),
            )
        )
    except jinja2.UndefinedError as exc:
        raise RenderError(f"recipes/org-config/meta.yaml.j2: {exc}") from exc
    text = text.lstrip("\n").rstrip("\n") + "\n"
    check_meta_yaml(text, profile, pkg)
    tree: dict[str, str | Path] = {"meta.yaml": text}
    for script in BUILD_SCRIPTS:
        tree[script] = RECIPE_TEMPLATES / script
    for path, content in pkg.files.items():
        tree[f"files/{path}"] = content
    return tree


_SELECTOR = re.compile(r"\s+# \[(unix|win)\]$")


def meta_yaml_hazards(text: str) -> list[str]:
    """Lines conda-build would misread. It runs its own Jinja pass first, takes any line
    ending in `[...]` as a selector, and parses a command line containing `: ` or ` #` as
    YAML of its own."""
    out = []
    for marker in ("{{", "{%", "{#"):
        if marker in text:
            out.append(f"contains {marker!r}, which conda-build's Jinja pass would evaluate")
    for no, line in enumerate(text.splitlines(), 1):
        body = _SELECTOR.sub("", line)
        if body.rstrip().endswith("]"):
            out.append(f"line {no} ends with `]` (conda-build reads it as a selector): {line!r}")
        item = body.strip()
        if item.startswith("- ") and (": " in item[2:] or " #" in item[2:]):
            out.append(f"line {no} is a command with `: ` or ` #` (misparsed): {line!r}")
        if item.startswith("script:"):
            out.append(f"line {no}: no `script:` here; build.sh / bld.bat do the work")
    return out


def check_meta_yaml(text: str, profile: Profile, pkg: ConfigPackage) -> dict[str, Any]:
    problems = meta_yaml_hazards(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"the rendered meta.yaml is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError("the rendered meta.yaml did not render to a mapping")
    want = {"name": pkg.name, "version": pkg.version}
    if data.get("package") != want or data.get("build", {}).get("number") != pkg.build_number:
        raise RenderError(f"the rendered meta.yaml lost its identity: {data.get('package')!r}")
    if problems:
        raise ProfileError(
            f"{_display(profile.path)} (rendered into the config package's meta.yaml)",
            [*problems, "fix the profile value that produced it (installer.company, ...)"],
        )
    return data


def recipe_dir(build_dir: Path) -> Path:
    return build_dir / RENDERED_DIR / RECIPE_DIR


def write_recipe(tree: Mapping[str, str | Path], build_dir: Path) -> Path:
    """Replace build/org-config/recipe/ atomically; return it."""
    (path,) = stage.stage_platforms({RECIPE_DIR: tree}, build_dir / RENDERED_DIR)
    return path


# --- the channel ------------------------------------------------------------------------


def channel_dir(dist_dir: Path) -> Path:
    return dist_dir / CHANNEL_DIR


def channel_url(channel: Path) -> str:
    return channel.resolve().as_uri()


def path_from_url(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise UsageError(f"{url} is not a local (file://) channel")
    return Path(url2pathname(parsed.path))


def conda_build_argv(exe: str, recipe: Path, channel: Path) -> list[str]:
    """``conda build`` for the rendered recipe, offline: the only channel it may read is the
    output folder itself (the recipe has no requirements), so neither the network nor the
    builder's own condarc channels are involved, and about.json records only that channel.
    ``--no-include-recipe``: the recipe folder holds a second copy of every shipped file plus
    build-machine paths, and nobody needs it to install the package."""
    return [
        exe,
        str(recipe),
        "--output-folder",
        str(channel),
        "--no-anaconda-upload",
        "--no-include-recipe",
        "--override-channels",
        "--channel",
        channel_url(channel),
    ]


def existing_builds(channel: Path, name: str) -> list[tuple[str, str, int, Path]]:
    """(version, build string, build number, file) of every build of ``name`` in the channel."""
    out: list[tuple[str, str, int, Path]] = []
    noarch = channel / "noarch"
    if not noarch.is_dir():
        return out
    for path in sorted(noarch.iterdir()):
        ext = next((e for e in PACKAGE_EXTS if path.name.endswith(e)), None)
        if ext is None:
            continue
        parts = path.name[: -len(ext)].rsplit("-", 2)
        if len(parts) != 3 or parts[0] != name:
            continue
        number = parts[2].rsplit("_", 1)[-1]
        if number.isdigit():
            out.append((parts[1], parts[2], int(number), path))
    return out


def indexed(channel: Path, filename: str) -> dict[str, Any] | None:
    """The repodata record of ``filename`` in the channel's noarch index, if any."""
    try:
        repodata = json.loads((channel / "noarch" / "repodata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("packages.conda", "packages"):
        record = (repodata.get(key) or {}).get(filename)
        if isinstance(record, dict):
            return record
    return None


def reusable_build(profile: Profile, pkg: ConfigPackage, channel: Path) -> Path | None:
    """The already built, indexed file of exactly this package, if the channel has one.

    Refuses (ProfileError) a channel that already holds the same version and build number
    with other content, or a higher build number of the same version: a published build must
    never change, and installs that have the higher build would never take this one."""
    problems = []
    reuse = None
    for version, build, number, path in existing_builds(channel, pkg.name):
        if version != pkg.version:
            continue
        if number == pkg.build_number and build == pkg.build_string:
            if indexed(channel, path.name):
                reuse = path
        elif number == pkg.build_number:
            problems.append(
                f"{_rel(path)} is build {number} of {pkg.version} with a different "
                "configuration; a build that may have been published must never change: "
                f"bump config_package.build_number to {number + 1} (or delete that file if it "
                "was never uploaded)"
            )
        elif number > pkg.build_number:
            problems.append(
                f"{_rel(path)} is build {number} of {pkg.version}, newer than build "
                f"{pkg.build_number}: installs that have it would never take this one; set "
                f"config_package.build_number to {number + 1} or more"
            )
    if problems:
        raise ProfileError(
            _display(profile.path),
            [_at(profile, ("config_package", "build_number"), p) for p in dict.fromkeys(problems)],
        )
    return reuse


def _ensure_channel(channel: Path) -> None:
    """An empty but valid channel, so `--channel` pointing at it works on the first build;
    conda-build's own indexing replaces this repodata.json with the real one."""
    noarch = channel / "noarch"
    noarch.mkdir(parents=True, exist_ok=True)
    repodata = noarch / "repodata.json"
    if not repodata.exists():
        empty = {
            "info": {"subdir": "noarch"},
            "packages": {},
            "packages.conda": {},
            "repodata_version": 1,
        }
        stage.atomic_write_text(repodata, json.dumps(empty, indent=2) + "\n")


def build_package(
    profile: Profile, pkg: ConfigPackage, recipe: Path, channel: Path, runner: Runner, log: Path
) -> tuple[Path, bool]:
    """Build ``pkg`` into ``channel`` with the real conda-build; (file, whether it was built).

    An identical, indexed build already in the channel is reused rather than rebuilt:
    conda-build would make a different file with the same name, which must never happen to a
    package that may have been uploaded."""
    existing = reusable_build(profile, pkg, channel)
    if existing is not None:
        runner.log(f"{pkg.name}: reusing {_rel(existing)} (same content, already indexed)")
        return existing, False
    exe = runner.which("conda-build")
    _ensure_channel(channel)
    log.unlink(missing_ok=True)
    runner.run(
        conda_build_argv(exe, recipe, channel),
        log_path=log,
        label=f"conda-build ({pkg.name})",
    )
    for ext in PACKAGE_EXTS:
        path = channel / "noarch" / f"{pkg.stem}{ext}"
        if path.is_file():
            record = indexed(channel, path.name)
            if record is None or record.get("build_number") != pkg.build_number:
                raise BuildError(
                    f"conda-build wrote {path} but {channel / 'noarch' / 'repodata.json'} does "
                    f"not list it; the channel is not ready to upload (see {log})"
                )
            return path, True
    raise BuildError(
        f"conda-build exited 0 but wrote no {pkg.stem}.conda into {channel / 'noarch'}; see {log}"
    )


# --- hooks called by `render` and `build` -----------------------------------------------


def render_inputs(
    profile: Profile, options: RenderOptions, build_dir: Path, dist_dir: Path | None = None
) -> tuple[RenderOptions, Mapping[str, Mapping[str, str | Path]]]:
    """Render the recipe (returned as build/org-config/recipe/, for the caller to stage with
    the platforms) and point the installers at the
    package: its local channel first in ``channels`` (``dist_dir``, default ``dist/`` beside
    ``build_dir``), the exact build in ``specs``, no org settings in construct.yaml, and a
    ``channels_remap`` to ``publish_channel`` so installs record the internal channel. Writes
    nothing; conda-build is not needed here."""
    if not profile.config_package.enabled:
        return options, {}
    pkg = describe(profile)
    recipe = {
        f"{RECIPE_DIR}/{name}": content for name, content in render_recipe(profile, pkg).items()
    }
    url = channel_url(channel_dir(dist_dir if dist_dir is not None else build_dir.parent / "dist"))
    publish = profile.config_package.publish_channel
    remap = ((url, publish),) if publish else ()
    return (
        dataclasses.replace(
            options,
            extra_channels=(url, *options.extra_channels),
            extra_channels_remap=(*remap, *options.extra_channels_remap),
            extra_specs=(*options.extra_specs, pkg.spec),
            org_settings_in_condarc=False,
        ),
        # staged by render_to_disk together with the platforms: all written, or none
        {RENDERED_DIR: recipe},
    )


def plan_line(profile: Profile, options: RenderOptions, build_dir: Path) -> str | None:
    """The package's line in the printed build plan (it is built before the installers)."""
    if not uses_package(profile, options):
        return None
    pkg = describe(profile)
    channel = path_from_url(options.extra_channels[0])
    reuse = reusable_build(profile, pkg, channel)
    if reuse is not None:
        return f"  reuse {pkg.name}: {_rel(reuse)} is this exact build, already indexed"
    argv = conda_build_argv("conda-build", recipe_dir(build_dir), channel)
    return f"  build {pkg.name} (conda-build, before the installers) $ {format_command(argv)}"


def uses_package(profile: Profile, options: RenderOptions) -> bool:
    return profile.config_package.enabled and any(
        s.split()[0] == profile.config_package.name for s in options.extra_specs
    )


def build_before_installers(
    profile: Profile, options: RenderOptions, args: argparse.Namespace, runner: Runner
) -> None:
    """Build the package into the local channel construct.yaml names (the first extra channel,
    set by ``render_inputs``), unless that channel already holds this exact build."""
    if not uses_package(profile, options):
        return
    pkg = describe(profile)
    build_dir = Path(args.build_dir)
    channel = path_from_url(options.extra_channels[0])
    build_package(
        profile, pkg, recipe_dir(build_dir), channel, runner, build_dir / RENDERED_DIR / LOG_NAME
    )


def adjust_expectations(
    profile: Profile, options: RenderOptions, expect: dict[str, Any]
) -> dict[str, Any]:
    """With the package, the org condarc in effect is the package's file, and the verifier
    also checks the package, its condarc.d file and config.json."""
    if not uses_package(profile, options):
        return expect
    pkg = describe(profile)
    out = dict(expect)
    out["condarc"] = yaml.safe_load(pkg.condarc)
    out["condarc_sha256"] = pkg.condarc_sha256
    out["config_package"] = {
        "name": pkg.name,
        "version": pkg.version,
        "build_number": pkg.build_number,
        "condarc_file": pkg.condarc_file,
        "condarc_sha256": pkg.condarc_sha256,
    }
    return out


# --- `python build.py config-package` ---------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--build-dir", type=Path, default=render.REPO / "build", help="default: build/"
    )
    parser.add_argument(
        "--dist-dir",
        type=Path,
        default=render.REPO / "dist",
        help="the package goes to DIST/channel/ (default: dist/)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="render the recipe and print the command only"
    )


def run(args: argparse.Namespace) -> int:
    """Build only the configuration package, to publish a configuration change without
    rebuilding installers. Exit codes as for `build`: 2 bad profile, 3 conda-build missing,
    4 conda-build failed."""
    profile = load_profile(args.profile, args.set)
    if not profile.config_package.enabled:
        raise UsageError(
            f"config_package.enabled is false in {_display(profile.path)}, so installers do "
            "not carry the package and publishing one would change nothing; set it to true"
        )
    pkg = describe(profile)
    recipe = write_recipe(render_recipe(profile, pkg), args.build_dir)
    channel = channel_dir(args.dist_dir)
    log = args.build_dir / RENDERED_DIR / LOG_NAME
    _say(f"rendered {_rel(recipe / 'meta.yaml')}  ({pkg.name} {pkg.version} {pkg.build_string})")
    if args.dry_run:
        reusable = reusable_build(profile, pkg, channel)
        if reusable is not None:
            _say(f"would reuse {_rel(reusable)} (same content, already indexed)")
        else:
            _say(f"would run: {format_command(conda_build_argv('conda-build', recipe, channel))}")
        return 0
    path, built = build_package(profile, pkg, recipe, channel, Runner(), log)
    if built:
        _say(f"built {_rel(path)}  (log: {_rel(log)})")
    else:
        _say(
            f"{_rel(path)} already holds this configuration; nothing to build (to publish a "
            "change, change the profile and bump config_package.build_number)"
        )
    publish = profile.config_package.publish_channel or "your internal channel"
    _say(f"next: upload {_rel(path)} to {publish}")
    _say("(README: Changing configuration on existing installs)")
    return 0


# --- helpers ----------------------------------------------------------------------------


def _say(text: str) -> None:
    print(text, file=sys.stdout, flush=True)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at(
    profile: Profile,
    path: Sequence[str],
    message: str,
    line_of: Sequence[str] | None = None,
) -> str:
    """`a.b` (line N): message -- the profile loader's format."""
    line = _line(profile.path, tuple(line_of or path))
    at = f" (line {line})" if line else ""
    return f"`{'.'.join(path)}`{at}: {message}"


def _line(path: Path, keys: tuple[str, ...]) -> int | None:
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return line
        found = next(((k, v) for k, v in node.value if k.value == key), None)
        if found is None:
            return line
        line, node = found[0].start_mark.line + 1, found[1]
    return line


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _rel(path: Path) -> str:
    return _display(path)
