"""The ``verify`` subcommand: ``orgconda/cli.py`` creates the subparser and calls these two."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from ..platforms import host_subdir
from ..runner import Runner
from .expect import Overrides
from .install import DEFAULT_TIMEOUT, Verification, VerifyOptions, preflight
from .plan import plan_targets
from .report import VerifyRun, summary_text, write_reports


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "installers",
        nargs="*",
        type=Path,
        metavar="INSTALLER",
        help="installer files to verify (default: every installer in the manifest that "
        "this host can run)",
    )
    parser.add_argument(
        "--dist",
        "--dist-dir",  # the name `build` uses
        dest="dist",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "dist",  # the same default as `build`
        help="the build output holding manifest.json (default: dist/)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where the reports and recorded outputs go (default: <dist>/verify)",
    )
    parser.add_argument(
        "--expect-org", metavar="TOKEN", help="expected o/ token (replaces the manifest's)"
    )
    parser.add_argument(
        "--expect-installer",
        metavar="TOKEN",
        help="expected i/ token (replaces the manifest's)",
    )
    lock = parser.add_mutually_exclusive_group()
    lock.add_argument(
        "--locked",
        dest="locked",
        action="store_const",
        const=True,
        default=None,
        help="expect anaconda_anon_usage pinned with #!final: user opt-outs are ignored",
    )
    lock.add_argument(
        "--unlocked",
        dest="locked",
        action="store_const",
        const=False,
        help="expect the user opt-outs (env var, ~/.condarc) to turn the tokens off",
    )
    parser.add_argument(
        "--allow-pkg",
        action="store_true",
        help="also verify .pkg installers (installs into your real home and runs conda "
        "init: for disposable CI machines)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary prefix and home for inspection",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit for each step (install, each conda command; default {DEFAULT_TIMEOUT:g})",
    )


def run(args: argparse.Namespace) -> int:
    """Verify; 0 when every check passed, 1 otherwise. UsageError (2) for bad input,
    MissingToolError (3) when the installer's runner (bash, cmd, installer) is missing."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    dist: Path = args.dist
    report_dir: Path = args.report_dir if args.report_dir is not None else dist / "verify"
    host = host_subdir()
    plan = plan_targets(
        dist=dist,
        installers=list(args.installers),
        overrides=Overrides(
            org_token=args.expect_org,
            installer_token=args.expect_installer,
            locked=args.locked,
        ),
        host=host,
        allow_pkg=args.allow_pkg,
    )
    runner = Runner()
    preflight(plan.targets, runner)
    options = VerifyOptions(report_dir=report_dir, keep=args.keep, timeout=args.timeout)
    reports = [Verification(target, options, runner).run() for target in plan.targets]
    verify_run = VerifyRun(host=host, installers=reports, skipped=plan.skipped)
    paths = write_reports(report_dir, verify_run)
    sys.stdout.write(summary_text(verify_run, paths))
    return 0 if verify_run.ok else 1
