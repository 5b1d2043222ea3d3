"""The ``verify`` subcommand: ``orgconda/cli.py`` creates the subparser and calls these two."""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Mapping
from pathlib import Path

from ..errors import UsageError
from ..platforms import host_subdir
from ..runner import Runner
from . import host as host_state
from .expect import Overrides
from .install import DEFAULT_TIMEOUT, Verification, VerifyOptions, preflight
from .plan import plan_targets
from .report import VerifyRun, summary_text, write_reports

PROFILE_REFUSED = (
    "verify takes no --profile: it checks what the build promised, read from "
    "<dist>/manifest.json (written by `build --profile ...`), or from --expect-org, "
    "--expect-installer and --locked/--unlocked for an installer built elsewhere"
)


class _RefuseProfile(argparse.Action):
    """``verify --profile`` used to be accepted and ignored; now it says why it is wrong."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(PROFILE_REFUSED)


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
    parser.add_argument(
        "--allow-dirty-host",
        action="store_true",
        help="go on when token or condarc files sit in the system locations (/etc/conda, "
        "/var/lib/conda, C:\\ProgramData\\conda) or CONDA_*/ANACONDA_ANON_USAGE_* variables "
        "are set; they are listed in the report",
    )
    parser.add_argument(
        "--https-cert",
        type=Path,
        metavar="CERT",
        help="PEM server certificate for 127.0.0.1 signed by the bundled CA: the installed "
        "conda must reach a loopback HTTPS server using it (check ca.https); needs --https-key",
    )
    parser.add_argument(
        "--https-key", type=Path, metavar="KEY", help="the unencrypted PEM key of --https-cert"
    )
    parser.add_argument("--profile", nargs="?", action=_RefuseProfile, help=argparse.SUPPRESS)


def https_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The server context of the HTTPS probe, or None without the options."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--https-cert and --https-key go together: give both, or neither")
    for flag, path in (("--https-cert", cert), ("--https-key", key)):
        if not path.is_file():
            raise UsageError(f"{flag} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise UsageError(
            f"--https-cert {cert} with --https-key {key} cannot serve HTTPS: {exc}; give a PEM "
            "certificate and its unencrypted PEM key"
        ) from exc
    return context


def run(
    args: argparse.Namespace,
    *,
    environ: Mapping[str, str] | None = None,
    system_root: Path | None = None,
) -> int:
    """Verify; 0 when every check passed, 1 otherwise. UsageError (2) for bad input or a
    host that would distort the result, MissingToolError (3) when the installer's runner
    (bash, cmd, installer) is missing. ``environ`` and ``system_root`` are for tests: the
    environment verify was started with, and a folder standing for the file system root
    (the system locations /etc/conda ... are looked up under it)."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    environ = dict(os.environ if environ is None else environ)
    context = https_context(args.https_cert, args.https_key)
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
    windows = os.name == "nt"
    dirs = host_state.system_dirs(environ, windows=windows, root=system_root)
    findings = host_state.find_distortions(dirs, environ)
    if findings and not args.allow_dirty_host:
        raise host_state.dirty_host_error(findings)
    options = VerifyOptions(
        report_dir=report_dir,
        keep=args.keep,
        timeout=args.timeout,
        https_context=context,
        system_dirs=tuple(dirs),
    )
    reports = [
        Verification(target, options, runner, environ=environ, windows=windows).run()
        for target in plan.targets
    ]
    verify_run = VerifyRun(
        host=host, installers=reports, skipped=plan.skipped, host_findings=findings
    )
    paths = write_reports(report_dir, verify_run)
    sys.stdout.write(summary_text(verify_run, paths))
    return 0 if verify_run.ok else 1
