"""`python build.py`: the command line. Only ``main`` prints errors and picks exit codes.

Exit codes: 0 success; 1 verification failed; 2 bad profile or bad arguments;
3 a required tool (constructor, conda, conda-build) is missing; 4 a build step failed.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import __version__, builder, platforms, render
from .channels import channel_flag_problems
from .errors import OrgcondaError, ProfileError, UsageError
from .plan import plan_build
from .profile import Profile, load_profile
from .render import RenderOptions
from .runner import INSTALL_HINTS, Runner

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("build", "render", "verify", "matrix", "config-package")


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
        help="conda-standalone for a target platform (repeatable; needed to cross-build .sh)",
    )
    b.add_argument("--dist-dir", type=Path, default=REPO / "dist", help="default: dist/")
    b.add_argument(
        "--jobs", type=int, default=builder.default_jobs(), help="platforms built in parallel"
    )
    b.add_argument("--dry-run", action="store_true", help="render and print the plan only")

    r = sub.add_parser("render", help="write build/<subdir>/construct.yaml for each platform")
    _common(r)
    _render_args(r)

    # Each command's module is imported only when that command runs (or asks for --help),
    # so `render` starts fast and does not load the verifier.
    v = sub.add_parser("verify", help="install each installer silently and check its User-Agent")
    m = sub.add_parser("matrix", help="print the CI matrix for the profile as JSON")
    c = sub.add_parser("config-package", help="build only the org configuration package")
    for p in (v, m, c):
        _common(p)
    for p in (b, r, m, c):
        _set_arg(p)
    if command == "verify":
        from .harness import command as verify_command

        verify_command.add_arguments(v)
    elif command == "matrix":
        from . import matrix

        matrix.add_arguments(m)
    elif command == "config-package":
        from . import configpkg

        configpkg.add_arguments(c)
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
        from . import configpkg

        return configpkg.run(args)
    raise UsageError(f"unknown command {args.command!r}; choose from {', '.join(COMMANDS)}")


def _say(text: str) -> None:
    print(text, flush=True)


def _render(
    profile: Profile,
    subdirs: Sequence[str],
    args: argparse.Namespace,
    installer_types: Mapping[str, tuple[str, ...]] | None = None,
    dist_dir: Path | None = None,
) -> RenderOptions:
    """Render (with the config package's inputs), write build/, report; the options used."""
    from . import configpkg

    options = RenderOptions(channels=tuple(args.channel), installer_types=installer_types or {})
    options, extra = configpkg.render_inputs(profile, options, args.build_dir, dist_dir=dist_dir)
    result = builder.render_to_disk(profile, subdirs, args.build_dir, options, extra)
    _report_render(result, [args.build_dir / k for k in extra if k not in subdirs])
    return options


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
    _render(profile, render.select_platforms(profile, args.platform), args)
    return 0


def _report_render(result: builder.RenderResult, other_dirs: Sequence[Path] = ()) -> None:
    for r, d in zip(result.rendered, result.directories, strict=True):
        types = ", ".join(f".{t}" for t in r.installer_types)
        _say(f"rendered {_rel(d / 'construct.yaml')}  ({types}; {len(r.files)} files)")
    for d in other_dirs:
        _say(f"rendered {_rel(d)}/")
    if result.schema is None:
        _say(
            "note: constructor's construct.schema.json was not found (no constructor installed "
            f"and {render.SCHEMA_ENV} unset), so the rendered files were checked for YAML and "
            "selector hazards but not against the schema"
        )
    else:
        _say(f"validated against {result.schema}")
    _say(f"{len(result.rendered)} platform(s) in {result.seconds * 1000:.0f} ms")


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


def cmd_build(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    profile = _load(args)
    subdirs = render.select_platforms(profile, args.platform)
    conda_exes = parse_conda_exes(args.conda_exe)
    host = platforms.host_subdir()
    plan = plan_build(
        profile,
        subdirs,
        host=host,
        conda_exes=conda_exes,
        build_root=args.build_dir,
        dist_root=args.dist_dir,
        staging_root=args.dist_dir / builder.STAGING,
    )
    from . import configpkg

    runner = Runner()
    # Render only the installer types this host builds (constructor has no flag to pick
    # one type); platforms it cannot build at all are rendered in full, so build/ always
    # holds every selected platform.
    options = _render(profile, subdirs, args, plan.buildable_types, dist_dir=args.dist_dir)
    _say("")
    package_step = configpkg.plan_line(profile, options, args.build_dir)
    _say(plan.describe([package_step] if package_step else []))
    if args.dry_run:
        return 0
    if not plan.steps:
        raise UsageError(
            "this host can build none of the selected installers (see the plan above); "
            "use the CI workflow, or pass --conda-exe SUBDIR=PATH to cross-build .sh installers"
        )
    runner.which("constructor", INSTALL_HINTS["constructor"])
    configpkg.build_before_installers(profile, options, args, runner)

    def done(o: builder.StepOutcome) -> None:
        state = "failed" if o.error else f"done in {o.seconds:.1f} s"
        _say(f"{o.step.subdir}: constructor {state} (log: {_rel(o.step.log)})")

    expect = render.expectations(profile)
    expect = configpkg.adjust_expectations(profile, options, expect)
    outcomes = builder.execute(
        plan,
        runner,
        jobs=args.jobs,
        dist_root=args.dist_dir,
        expect=expect,
        profile=profile,
        on_done=done,
    )
    _say("")
    _say(builder.summary_table(outcomes, args.dist_dir))
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
