"""`python build.py`: the command line. Only ``main`` prints errors and picks exit codes.

Exit codes: 0 success; 1 verification failed; 2 bad profile or bad arguments;
3 a required tool (constructor, or the installer runner for verify) is missing; 4 a build
step failed.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, execute, platforms, render
from .channels import channel_flag_problems
from .errors import OrgcondaError, ProfileError, UsageError
from .profile import Profile, load_profile
from .resolve import RunOptions, resolve
from .runner import Runner

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("build", "render", "verify", "matrix", "config-package", "lock", "diff")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        type=Path,
        default=REPO / "construct" / "org.yaml",
        help="the org profile (default: construct/org.yaml)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _set_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a profile field, e.g. --set installer.version=2026.12 (repeatable; "
        "dotted fields, list items as specs.extra[0]; VALUE is read as YAML)",
    )


def _render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="SUBDIR",
        help="only this platform (repeatable; default: all of the profile's platforms)",
    )
    p.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="URL",
        help="replace the profile's channels for this build (repeatable); "
        "the installed condarc keeps the org's channels",
    )
    p.add_argument("--build-dir", type=Path, default=REPO / "build", help="default: build/")


def parser(command: str | None = None) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="build.py",
        description="Build organization-branded conda installers from one profile.",
        epilog="With no command, `build` runs. Exit codes: 0 ok, 1 verify failed, "
        "2 bad profile/arguments, 3 missing tool, 4 build step failed.",
    )
    top.add_argument("--version", action="version", version=f"orgconda {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="render, then run constructor for every buildable platform")
    _common(b)
    _render_args(b)
    b.add_argument(
        "--conda-exe",
        action="append",
        default=[],
        metavar="SUBDIR=PATH",
        help="the conda-standalone for a target platform (repeatable; by default build fetches "
        "the one each cross-built .sh target needs)",
    )
    b.add_argument("--dist-dir", type=Path, default=REPO / "dist", help="default: dist/")
    b.add_argument(
        "--jobs", type=int, default=execute.default_jobs(), help="platforms built in parallel"
    )
    b.add_argument(
        "--installer-type",
        action="append",
        default=[],
        choices=("sh", "pkg", "exe"),
        help="only installers of this type (repeatable; default: the profile's types)",
    )
    b.add_argument(
        "--no-provision",
        action="store_true",
        help="when constructor is not on PATH, stop (exit 3) instead of provisioning a private "
        "toolchain with py-rattler",
    )
    b.add_argument(
        "--locked",
        action="store_true",
        help="build each platform exactly from its lock (<profile dir>/locks/<subdir>.txt, "
        "written by `lock`); refuse a lock the profile has changed since",
    )
    b.add_argument(
        "--offline",
        action="store_true",
        help="do not look the configuration package up in config_package.publish_channel",
    )
    b.add_argument(
        "--dry-run",
        action="store_true",
        help="render build/ and print the plan; run, download and publish nothing",
    )

    r = sub.add_parser("render", help="write build/<subdir>/construct.yaml for each platform")
    _common(r)
    _render_args(r)
    r.add_argument(
        "--dry-run", action="store_true", help="render and check in memory; write nothing"
    )

    # Each command's module is imported only when that command runs (or asks for --help),
    # so `render` starts fast and does not load the verifier.
    v = sub.add_parser("verify", help="install each installer silently and check its User-Agent")
    m = sub.add_parser("matrix", help="print the CI matrix for the profile as JSON")
    c = sub.add_parser("config-package", help="build only the org configuration package")
    lk = sub.add_parser("lock", help="solve each platform and write locks/<subdir>.txt")
    df = sub.add_parser("diff", help="package changes between two builds or two lock sets")
    for p in (m, c, lk):
        _common(p)
    for p in (b, r, m, c, lk):
        _set_arg(p)
    # verify reads what to expect from the manifest, not from a profile (issue 17)
    v.add_argument("--debug", action="store_true", help="show tracebacks")
    if command == "verify":
        from .harness import command as verify_command

        verify_command.add_arguments(v)
    elif command == "matrix":
        from . import matrix

        matrix.add_arguments(m)
    elif command == "config-package":
        from .configpkg import command as configpkg_command

        configpkg_command.add_arguments(c)
    elif command == "lock":
        from . import lockcmd

        lockcmd.add_arguments(lk)
    elif command == "diff":
        from . import diff

        diff.add_arguments(df)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (
        args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")
    ):
        args_list.insert(0, "build")
    args = parser(args_list[0]).parse_args(args_list)
    try:
        return dispatch(args)
    except OrgcondaError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "render":
        return cmd_render(args)
    if args.command == "build":
        return cmd_build(args)
    if args.command == "verify":
        from .harness import command as verify_command

        return verify_command.run(args)
    if args.command == "matrix":
        from . import matrix

        return matrix.run(args)
    if args.command == "config-package":
        from .configpkg import command as configpkg_command

        return configpkg_command.run(args)
    if args.command == "lock":
        from . import lockcmd

        return lockcmd.run(args)
    if args.command == "diff":
        from . import diff

        return diff.run(args)
    raise UsageError(f"unknown command {args.command!r}; choose from {', '.join(COMMANDS)}")


def _say(text: str) -> None:
    print(text, flush=True)


def _schema() -> tuple[Path | None, dict[str, Any] | None]:
    path = render.find_construct_schema()
    return path, (render.load_schema(path) if path else None)


def _report_render(result: execute.RenderResult) -> None:
    for r, d in zip(result.rendered, result.directories, strict=True):
        types = ", ".join(f".{t}" for t in r.installer_types)
        _say(f"rendered {_rel(d / 'construct.yaml')}  ({types}; {len(r.files)} files)")
    if result.config_channel is not None:
        _say(f"rendered {_rel(result.config_channel)}/  (the configuration package, indexed)")
    if result.schema is None:
        _say(
            "note: constructor's construct.schema.json was not found (no constructor installed "
            f"and {render.SCHEMA_ENV} unset), so the rendered files were checked for YAML and "
            "selector hazards but not against the schema"
        )
    else:
        _say(f"validated against {result.schema}")
    _say(f"{len(result.rendered)} platform(s) in {result.seconds * 1000:.0f} ms")


def _options(args: argparse.Namespace, **more: Any) -> RunOptions:
    return RunOptions(build_dir=args.build_dir, channels=tuple(args.channel), **more)


def _load(args: argparse.Namespace) -> Profile:
    """The profile with --set applied and the --channel values checked, every problem of
    both reported at once (exit 2); the profile's notes printed."""
    flag_problems = channel_flag_problems(args.channel)
    try:
        profile = load_profile(args.profile, args.set)
    except ProfileError as exc:
        if flag_problems:
            raise UsageError("\n".join([str(exc), *flag_problems])) from None
        raise
    if flag_problems:
        raise UsageError("\n".join(flag_problems))
    for note in profile.notes:
        _say(f"note: {note}")
    return profile


def cmd_render(args: argparse.Namespace) -> int:
    profile = _load(args)
    resolved = resolve(profile, render.select_platforms(profile, args.platform), _options(args))
    if args.dry_run:
        path, schema = _schema()
        rendered = render.render_platforms(resolved, schema)
        for r in rendered:
            _say(f"would write {_rel(args.build_dir / r.subdir / 'construct.yaml')}")
        _say(f"{len(rendered)} platform(s) checked{f' against {path}' if path else ''}")
        return 0
    _report_render(execute.render_to_disk(resolved))
    return 0


def parse_conda_exes(values: Sequence[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for value in values:
        subdir, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"--conda-exe {value!r}: use SUBDIR=PATH, e.g. osx-arm64=conda.exe")
        if subdir not in platforms.BY_SUBDIR:
            raise UsageError(
                f"--conda-exe {value!r}: {subdir!r} is not a platform; "
                f"choose from {', '.join(platforms.SUBDIRS)}"
            )
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"--conda-exe {value!r}: {path} is not a file")
        out[subdir] = p.resolve()
    return out


def _locks(profile: Profile, subdirs: Sequence[str], channels: tuple[str, ...]) -> dict[str, Any]:
    """Every platform's lock, current for the profile (one error listing every problem)."""
    from .lockcmd import current_lock
    from .lockfile import LockError

    locks, problems = {}, []
    for subdir in subdirs:
        try:
            locks[subdir] = current_lock(profile, subdir, channels)
        except LockError as exc:
            problems.append(str(exc))
    if problems:
        raise LockError("\n".join(problems))
    return locks


def cmd_build(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    from . import plan as plan_mod
    from . import tools as tools_mod
    from .configpkg.inspect import config_step, constructor_cache_dirs

    profile = _load(args)
    subdirs = render.select_platforms(profile, args.platform)
    flags = parse_conda_exes(args.conda_exe)
    host = platforms.host_subdir()
    dist = args.dist_dir
    runner = Runner()
    wanted = tuple(args.installer_type)
    sh = [s for s in tools_mod.sh_targets(profile.installer_types, subdirs)]
    if wanted and "sh" not in wanted:
        sh = []
    tool_plan = tools_mod.plan_tools(
        subdirs,
        sh,
        host=host,
        channels=tuple(args.channel) or profile.channels,
        flags=flags,
        profile_constraint=getattr(profile, "specs_conda_standalone", None),
        allow_provision=not args.no_provision,
        offline=args.offline,
        runner=runner,
    )
    steps, skipped = plan_mod.installer_steps(
        profile,
        subdirs,
        build_root=args.build_dir,
        host=host,
        standalones=tool_plan.standalones,
        dist_root=dist,
        staging_root=dist / execute.STAGING,
        wanted_types=wanted,
    )
    # Render only the installer types this host builds (constructor has no flag to pick one
    # type); platforms it cannot build at all are rendered in full.
    options = _options(
        args,
        installer_types={s.subdir: s.installer_types for s in steps},
        locks=_locks(profile, subdirs, tuple(args.channel)) if args.locked else {},
        script_env={s: tool_plan.script_env(s) for s in subdirs if tool_plan.script_env(s)},
    )
    resolved = resolve(profile, subdirs, options)
    result = execute.render_to_disk(resolved, constructor=tool_plan.constructor)
    _report_render(result)
    config = config_step(
        resolved,
        dist,
        cache_dirs=constructor_cache_dirs(),
        check_published=not args.dry_run and not args.offline,
    )
    plan = plan_mod.Plan(
        host=host,
        render_dirs=(
            *result.directories,
            *((result.config_channel,) if result.config_channel else ()),
        ),
        config=config,
        installers=steps,
        skipped=skipped,
        dist_root=dist,
        tools=tuple(tool_plan.lines()),
    )
    _say("")
    _say(plan.describe())
    if args.dry_run:
        return 0
    if not plan.installers:
        raise UsageError(
            "this host can build none of the selected installers (see the plan above); "
            "use the CI workflow for .pkg (macOS) and .exe (Windows) installers"
        )
    prepared = tools_mod.prepare_tools(tool_plan, runner, locked=args.locked)

    def done(o: execute.StepOutcome) -> None:
        state = "failed" if o.error else f"done in {o.seconds:.1f} s"
        _say(f"{o.step.subdir}: constructor {state} (log: {_rel(o.step.log)})")

    outcomes = execute.execute(
        plan, resolved, runner, jobs=args.jobs, prepared=prepared, on_done=done
    )
    _say("")
    _say(execute.summary_table(outcomes, dist))
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
