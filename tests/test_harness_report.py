"""Report writers: JSON parses, JUnit XML parses with one testcase per check."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from test_harness_recorded import (
    agent_of,
    install_result,
    locked_expectation,
    locked_observation,
    with_agent,
)

from orgconda.harness.checks import run_checks
from orgconda.harness.expect import describe
from orgconda.harness.install import InstallerReport
from orgconda.harness.plan import Skipped
from orgconda.harness.report import (
    VerifyRun,
    json_report,
    junit_xml,
    summary_text,
    write_reports,
)


def make_report(fixtures_dir: Path, *, broken: bool) -> InstallerReport:
    obs = locked_observation(fixtures_dir)
    if broken:
        agent = agent_of(fixtures_dir, "locked").replace(" o/acme-corp", "")
        obs = with_agent(obs, "info", agent)
    expect = locked_expectation(fixtures_dir)
    checks = run_checks(obs, expect)
    if broken:
        checks = [*checks, replace(checks[0], id="x.skipped", skipped=True, detail="why")]
    return InstallerReport(
        installer="dist/linux-64/AcmeConda-2026.11-Linux-x86_64.sh",
        installer_type="sh",
        platform="linux-64",
        prefix="/tmp/ocv-x/prefix",
        prefix_note="space-free",
        outputs_dir="dist/verify/AcmeConda-2026.11-Linux-x86_64.sh",
        kept=False,
        seconds=12.3,
        expect=describe(expect),
        checks=checks,
        notes=[],
    )


def test_reports_of_a_passing_and_a_failing_installer(fixtures_dir: Path, tmp_path: Path) -> None:
    good = make_report(fixtures_dir, broken=False)
    bad = replace(make_report(fixtures_dir, broken=True), installer="dist/other/Bad.sh")
    run = VerifyRun(
        host="linux-64",
        installers=[good, bad],
        skipped=[Skipped("win-64/AcmeConda.exe", "cannot run here")],
    )
    assert good.ok and not bad.ok and not run.ok
    paths = write_reports(tmp_path / "verify", run)

    data = json.loads(paths.json.read_text())
    assert data["format"] == 1 and data["ok"] is False and data["host"] == "linux-64"
    first, second = data["installers"]
    assert first["ok"] is True and first["counts"]["fail"] == 0
    assert [c["id"] for c in first["checks"]] == [c.id for c in good.checks]
    assert {c["status"] for c in second["checks"] if c["id"] in ("agent.o", "wire.matches")} == {
        "fail"
    }
    assert first["expect"]["org_token"] == "acme-corp"
    assert data["skipped"] == [{"installer": "win-64/AcmeConda.exe", "reason": "cannot run here"}]

    root = ET.parse(paths.junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "AcmeConda-2026.11-Linux-x86_64.sh",
        "Bad.sh",
        "win-64/AcmeConda.exe",
    ]
    for suite, report in zip(suites, (good, bad), strict=False):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [c.id for c in report.checks]
        failed = {c.get("name") for c in cases if c.find("failure") is not None}
        assert failed == {c.id for c in report.checks if c.status == "fail"}
        assert suite.get("failures") == str(len(failed))
    bad_cases = {c.get("name"): c for c in suites[1].findall("testcase")}
    failure = bad_cases["agent.o"].find("failure")
    assert failure is not None and "expected: o/acme-corp exactly once" in (failure.text or "")
    assert bad_cases["x.skipped"].find("skipped") is not None
    assert suites[2].find("testcase/skipped") is not None
    assert root.get("failures") == suites[1].get("failures")

    summary = paths.summary.read_text()
    assert "PASSED" in summary and "FAILED" in summary
    assert "FAIL agent.o" in summary and "expected: o/acme-corp exactly once" in summary
    assert "win-64/AcmeConda.exe: not verified here" in summary
    assert summary.rstrip().splitlines()[-2].startswith("RESULT: ")


def test_json_and_junit_of_an_all_green_run(fixtures_dir: Path) -> None:
    run = VerifyRun(host="linux-64", installers=[make_report(fixtures_dir, broken=False)])
    assert run.ok and json_report(run)["ok"] is True
    root = ET.fromstring(junit_xml(run).split("\n", 1)[1])
    assert root.get("failures") == "0"
    assert int(root.get("tests") or 0) == len(run.installers[0].checks)


def test_empty_run_is_not_ok() -> None:
    assert not VerifyRun(host=None, installers=[]).ok


def test_summary_prints_the_reason_of_a_skip_and_groups_not_run(fixtures_dir: Path) -> None:
    """issue 17: `SKIP installer.sha256: skipped` said nothing; issue 17 item 8: one cause."""
    obs = locked_observation(fixtures_dir)
    report = make_report(fixtures_dir, broken=False)
    checks = run_checks(obs, locked_expectation(fixtures_dir, sha256=None))
    text = summary_text(VerifyRun(host="linux-64", installers=[replace(report, checks=checks)]))
    assert "  SKIP installer.sha256: no manifest entry for this installer\n" in text
    assert "  SKIP ca.bundled: no bundled CA expected" in text
    assert "skipped\n" not in text
    failed_install = replace(obs, install=install_result(fixtures_dir, returncode=1))
    checks = run_checks(failed_install, locked_expectation(fixtures_dir))
    broken = replace(report, checks=checks)
    text = summary_text(VerifyRun(host="linux-64", installers=[broken]))
    assert "FAILED - 1 passed, 1 failed, 2 skipped, 26 not run" in text
    assert "  NOT RUN (the install failed): plugin.installed, plugin.variant, " in text
    assert "FAIL agent.o" not in text and "RESULT: 1 check(s) failed" in text
    data = json_report(VerifyRun(host="linux-64", installers=[broken]))
    entry = data["installers"][0]
    assert entry["counts"] == {"pass": 1, "fail": 1, "skip": 28, "not_run": 26}
    assert entry["ok"] is False
    by = {c["id"]: c for c in entry["checks"]}
    assert by["agent.o"]["not_run"] is True and by["agent.o"]["status"] == "skip"
    assert by["ca.https"]["not_run"] is False  # skipped for its own reason
