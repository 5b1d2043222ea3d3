"""The three reports of one ``verify`` run, all in the report folder (default dist/verify/):
``summary.txt`` (also printed), ``report.json`` and ``junit.xml`` (one testcase per check,
so CI shows each check by id)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .install import InstallerReport
from .plan import Skipped
from .result import CheckResult

REPORT_FORMAT = 1
SUMMARY_FILE = "summary.txt"
JSON_FILE = "report.json"
JUNIT_FILE = "junit.xml"
MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


@dataclass
class VerifyRun:
    host: str | None
    installers: list[InstallerReport]
    skipped: list[Skipped] = field(default_factory=list)
    host_findings: list[str] = field(default_factory=list)  # went on with --allow-dirty-host
    started: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def ok(self) -> bool:
        return bool(self.installers) and all(r.ok for r in self.installers)


@dataclass(frozen=True)
class ReportPaths:
    summary: Path
    json: Path
    junit: Path


def _counts(report: InstallerReport) -> dict[str, int]:
    """pass / fail / skip by status; ``not_run`` counts the skips that are "not run"."""
    counts = {"pass": 0, "fail": 0, "skip": 0, "not_run": 0}
    for check in report.checks:
        counts[check.status] += 1
        counts["not_run"] += check.not_run
    return counts


def _check_lines(check: CheckResult) -> list[str]:
    if check.status == "skip":  # the reason, as report.json has it
        return [f"  SKIP {check.id}: {check.detail or check.actual}"]
    lines = [f"  {MARK[check.status]} {check.id}: {check.actual}"]
    if check.status == "fail" and not check.actual.startswith("not observed"):
        lines.append(f"       expected: {check.expected}")
        if check.detail:
            lines.extend(f"       {d}" for d in check.detail.splitlines()[:12])
    return lines


def summary_text(run: VerifyRun, paths: ReportPaths | None = None) -> str:
    lines = [f"orgconda verify on {run.host or 'an unknown host'}"]
    if run.host_findings:
        lines.append("host not clean (went on with --allow-dirty-host):")
        lines.extend(f"  - {finding}" for finding in run.host_findings)
    for report in run.installers:
        c = _counts(report)
        verdict = "PASSED" if report.ok else "FAILED"
        skip_text = f"{c['skip'] - c['not_run']} skipped"
        if c["not_run"]:
            skip_text += f", {c['not_run']} not run"
        lines += [
            "",
            f"{report.name} ({report.installer_type}, {report.platform}): {verdict} - "
            f"{c['pass']} passed, {c['fail']} failed, {skip_text}, {report.seconds} s",
            f"  prefix: {report.prefix}",
            f"  note: {report.prefix_note}",
        ]
        not_run = [check for check in report.checks if check.not_run]
        for check in report.checks:
            if not check.not_run:
                lines.extend(_check_lines(check))
        if not_run:
            lines.append(
                f"  NOT RUN ({not_run[0].actual.removeprefix('not run: ')}): "
                + ", ".join(check.id for check in not_run)
            )
        lines.extend(f"  note: {n}" for n in report.notes)
        lines.append(f"  outputs: {report.outputs_dir}")
    for skipped in run.skipped:
        lines += ["", f"{skipped.installer}: not verified here - {skipped.reason}"]
    total_fail = sum(_counts(r)["fail"] for r in run.installers)
    lines += ["", "RESULT: " + ("all checks passed" if run.ok else f"{total_fail} check(s) failed")]
    if paths is not None:
        lines.append(f"reports: {paths.summary}, {paths.json}, {paths.junit}")
    return "\n".join(lines) + "\n"


def json_report(run: VerifyRun) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "ok": run.ok,
        "host": run.host,
        "started": run.started,
        "host_findings": list(run.host_findings),
        "installers": [
            {
                "installer": r.installer,
                "name": r.name,
                "type": r.installer_type,
                "platform": r.platform,
                "ok": r.ok,
                "prefix": r.prefix,
                "prefix_note": r.prefix_note,
                "kept": r.kept,
                "seconds": r.seconds,
                "outputs_dir": r.outputs_dir,
                "expect": r.expect,
                "counts": _counts(r),
                "timings": dict(r.timings),
                "checks": [
                    {
                        "id": c.id,
                        "status": c.status,
                        "not_run": c.not_run,
                        "ok": c.ok,
                        "expected": c.expected,
                        "actual": c.actual,
                        "detail": c.detail,
                    }
                    for c in r.checks
                ],
                "notes": list(r.notes),
            }
            for r in run.installers
        ],
        "skipped": [{"installer": s.installer, "reason": s.reason} for s in run.skipped],
    }


def _classname(name: str) -> str:
    return "verify." + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def junit_xml(run: VerifyRun) -> str:
    suites = ET.Element("testsuites", name="orgconda verify")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for report in run.installers:
        c = _counts(report)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.name,
            tests=str(len(report.checks)),
            failures=str(c["fail"]),
            errors="0",
            skipped=str(c["skip"]),
            time=f"{report.seconds:.1f}",
            timestamp=run.started,
            hostname=run.host or "",
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("installer", report.installer),
            ("type", report.installer_type),
            ("platform", report.platform),
            ("prefix", report.prefix),
            ("prefix_note", report.prefix_note),
        ):
            ET.SubElement(props, "property", name=key, value=value)
        for check in report.checks:
            case = ET.SubElement(
                suite, "testcase", classname=_classname(report.name), name=check.id, time="0"
            )
            text = f"expected: {check.expected}\nactual: {check.actual}"
            if check.detail:
                text += f"\n{check.detail}"
            if check.status == "fail":
                failure = ET.SubElement(case, "failure", message=check.actual[:500])
                failure.text = text
            elif check.status == "skip":
                reason = check.actual if check.not_run else check.detail or check.actual
                ET.SubElement(case, "skipped", message=reason[:500])
            else:
                ET.SubElement(case, "system-out").text = text
        totals["tests"] += len(report.checks)
        totals["failures"] += c["fail"]
        totals["skipped"] += c["skip"]
    for skipped in run.skipped:
        suite = ET.SubElement(
            suites, "testsuite", name=skipped.installer, tests="1", failures="0", skipped="1"
        )
        case = ET.SubElement(suite, "testcase", classname=_classname(skipped.installer))
        case.set("name", "install.completed")
        ET.SubElement(case, "skipped", message=skipped.reason)
        totals["tests"] += 1
        totals["skipped"] += 1
    for key, count in totals.items():
        suites.set(key, str(count))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(report_dir: Path, run: VerifyRun) -> ReportPaths:
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        summary=report_dir / SUMMARY_FILE,
        json=report_dir / JSON_FILE,
        junit=report_dir / JUNIT_FILE,
    )
    paths.json.write_text(json.dumps(json_report(run), indent=2) + "\n", encoding="utf-8")
    paths.junit.write_text(junit_xml(run), encoding="utf-8")
    paths.summary.write_text(summary_text(run, paths), encoding="utf-8")
    return paths
