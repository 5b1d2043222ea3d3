"""The loopback capture server, driven by a real HTTP client; the two wire-log formats."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_harness_recorded import agent_of

from orgconda.harness.agent import parse_agent
from orgconda.harness.capture import (
    CaptureServer,
    WireRequest,
    empty_repodata,
    format_wire_log,
    parse_wire_log,
    repodata_subdir,
)

AGENT = (
    "conda/26.7.1 requests/2.34.2 CPython/3.11.7 aau/0.8.1 c/SND9ZXQLUT4hiDAiwSTVyx "
    "s/VxukTUgq6iXS7myFOkEo51 e/7XxelTk5o5cRmcLBLD0WxA i/AcmeConda-2026_11 o/acme-corp"
)


def fetch(url: str, method: str = "GET", agent: str | None = AGENT) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, method=method)
    if agent is not None:
        request.add_header("User-Agent", agent)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), ""


def test_server_records_the_user_agent_and_answers_like_a_channel() -> None:
    with CaptureServer() as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        status, body, kind = fetch(server.url + "linux-64/repodata.json")
        assert status == 200 and kind == "application/json"
        assert json.loads(body) == empty_repodata("linux-64")
        assert json.loads(body) == {
            "info": {"subdir": "linux-64"},
            "packages": {},
            "packages.conda": {},
        }
        assert fetch(server.url + "noarch/repodata.json.zst")[0] == 404
        assert fetch(server.url + "noarch/repodata_shards.msgpack.zst")[0] == 404
        assert fetch(server.url + "internal/noarch/repodata.json")[0] == 200
        assert fetch(server.url + "noarch/repodata.json", method="HEAD")[:2] == (200, b"")
        assert fetch(server.url + "x", agent=None)[0] == 404
        recorded = server.requests
    assert [(r.method, r.path) for r in recorded] == [
        ("GET", "/linux-64/repodata.json"),
        ("GET", "/noarch/repodata.json.zst"),
        ("GET", "/noarch/repodata_shards.msgpack.zst"),
        ("GET", "/internal/noarch/repodata.json"),
        ("HEAD", "/noarch/repodata.json"),
        ("GET", "/x"),
    ]
    assert [r.user_agent for r in recorded[:5]] == [AGENT] * 5
    assert recorded[5].user_agent is not None and "Python-urllib" in recorded[5].user_agent


def test_server_stops_and_frees_its_port() -> None:
    server = CaptureServer().start()
    url = server.url
    server.stop()
    server.stop()  # idempotent
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        fetch(url + "noarch/repodata.json")


def test_server_stops_itself_after_its_lifetime() -> None:
    server = CaptureServer(lifetime=0.2).start()
    deadline = time.monotonic() + 5
    while server.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.running


@pytest.mark.parametrize(
    ("path", "subdir"),
    [
        ("/linux-64/repodata.json", "linux-64"),
        ("/internal/osx-arm64/repodata.json?x=1", "osx-arm64"),
        ("/repodata.json", None),
        ("/noarch/repodata.json.zst", None),
        ("/noarch/current_repodata.json", None),
    ],
)
def test_repodata_subdir(path: str, subdir: str | None) -> None:
    assert repodata_subdir(path) == subdir


def test_parse_recorded_loopback_log(fixtures_dir: Path) -> None:
    requests = parse_wire_log((fixtures_dir / "locked" / "wire.txt").read_text())
    assert len(requests) == 8
    assert {r.method for r in requests} == {"GET"}
    assert requests[0].path == "/linux-64/repodata_shards.msgpack.zst"
    assert {r.path for r in requests} >= {"/noarch/repodata.json", "/linux-64/repodata.json"}
    agents = {r.user_agent for r in requests}
    assert len(agents) == 1
    info = parse_agent(agent_of(fixtures_dir, "locked"))
    wire = parse_agent(agents.pop() or "")
    assert wire.masked() == info.masked() and wire.values("s") != info.values("s")


def test_parse_recorded_proxyspy_log(fixtures_dir: Path) -> None:
    requests = parse_wire_log((fixtures_dir / "locked" / "wire-proxyspy.txt").read_text())
    assert len(requests) == 6  # the CONNECT tunnels are not requests
    assert {r.method for r in requests} == {"GET"}
    assert all(r.path.startswith("/internal/") for r in requests)
    agents = {r.user_agent for r in requests}
    assert len(agents) == 1
    agent = parse_agent(agents.pop() or "")
    assert agent.token_keys() == ["c", "s", "e", "i", "o", "m"]
    assert agent.values("o") == ["acme-corp"]


def test_log_format_round_trip() -> None:
    requests = [
        WireRequest("GET", "/noarch/repodata.json", AGENT),
        WireRequest("HEAD", "/linux-64/repodata.json", None),
    ]
    text = format_wire_log(
        requests,
        command="conda search ...",
        address="127.0.0.1:1",
        exit_code=1,
        stdout="Loading channels: done\n",
        stderr="PackagesNotFoundInChannelsError\n\n  - nosuchpkg\n",
    )
    assert "# conda exit code: 1" in text and "# requests received: 2" in text
    assert parse_wire_log(text) == requests
