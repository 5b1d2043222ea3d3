"""`build.py lock`: real py-rattler solves against a real channel on disk, the lock files'
bytes, the check at build time (``lock_problem``, ``current_lock``) and the errors."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path

import pytest
from condachannel import base_records, lock_profile, sha256_of, write_channel
from helpers import run_build_py

from orgconda import lock as lockmod
from orgconda.lockcmd import current_lock
from orgconda.lockfile import LockError, explicit_text, read_lock
from orgconda.profile import load_profile

LINE = re.compile(r"^(?P<url>\S+/(?P<subdir>[^/]+)/(?P<fn>[^/#]+))#sha256:(?P<sha>[0-9a-f]{64})$")


@pytest.fixture
def channel(tmp_path: Path) -> str:
    return write_channel(tmp_path / "channel", base_records())


def _lock(profile: Path, *args: str) -> tuple[int, str, str]:
    proc = run_build_py("lock", "--profile", str(profile), *args)
    return proc.returncode, proc.stdout, proc.stderr


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("@EXPLICIT\n", 1)[1].splitlines()


def test_lock_writes_one_explicit_file_per_platform(tmp_path: Path, channel: str) -> None:
    profile = lock_profile(tmp_path / "p", channel)
    code, out, err = _lock(profile)
    assert code == 0, err
    locks = tmp_path / "p" / "locks"
    assert sorted(p.name for p in locks.iterdir()) == [
        "linux-64.txt",
        "osx-arm64.txt",
        "win-64.txt",
    ]
    assert "locks/linux-64.txt: 6 packages (new)" in out

    text = (locks / "linux-64.txt").read_text(encoding="utf-8")
    header = dict(re.findall(r"^# ([a-z0-9-]+): (.*)$", text.split("@EXPLICIT")[0], re.M))
    assert header["platform"] == "linux-64"
    assert json.loads(header["specs"]) == [
        "python 3.12.*",
        "conda >=25.1",
        "anaconda-anon-usage >=0.8.1",
        "pip",
    ]
    assert json.loads(header["channels"]) == [channel]
    assert header["channels-from"] == "profile"
    assert header["solver"].startswith("py-rattler 0.")
    assert json.loads(header["virtual-packages"]) == [
        "__archspec=1=x86_64",
        "__glibc=2.28=0",
        "__linux=4.18=0",
        "__unix=0=0",
    ]
    assert header["add-pip-as-python-dependency"] == "true"
    assert re.fullmatch(r"[0-9a-f]{64}", header["inputs-sha256"])

    lines = _lines(locks / "linux-64.txt")
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    # every sha256 is the channel's record for that file; URLs are the channel's
    for m in parsed:
        assert m is not None
        assert m["sha"] == sha256_of(m["fn"])
        assert m["url"].startswith(channel + "/")
        assert m["subdir"] in ("linux-64", "noarch")
    names = [m["fn"].rsplit("-", 2)[0] for m in parsed if m]
    # dependencies first (conda links in file order), ties by name; python and pip depend on
    # each other (add_pip_as_python_dependency): python first, as conda orders them
    assert names == ["ca-certificates", "openssl", "python", "pip", "anaconda-anon-usage", "conda"]
    # glibc 2.28 is assumed: the python build that needs 2.34 is not chosen
    assert any("python-3.12.7-hc5c86c4_0_cpython.conda" in line for line in lines)


def test_pip_comes_with_python_as_in_condas_solve(tmp_path: Path, channel: str) -> None:
    """conda (and so constructor's own solve) adds pip to python's dependencies by default
    (add_pip_as_python_dependency): a lock of the same specs must hold it too."""
    profile = lock_profile(tmp_path / "p", channel, platforms=["linux-64"], extra=[])
    assert _lock(profile)[0] == 0
    lines = _lines(tmp_path / "p" / "locks" / "linux-64.txt")
    assert any("/noarch/pip-24.2-pyh8b19718_1.conda#" in line for line in lines)


def test_lock_is_byte_for_byte_stable(tmp_path: Path, channel: str) -> None:
    profile = lock_profile(tmp_path / "p", channel, platforms=["linux-64"])
    assert _lock(profile)[0] == 0
    first = (tmp_path / "p" / "locks" / "linux-64.txt").read_bytes()
    code, out, _ = _lock(profile)
    assert code == 0
    assert (tmp_path / "p" / "locks" / "linux-64.txt").read_bytes() == first
    assert "(unchanged)" in out


def test_virtual_package_override_changes_the_solve_and_is_recorded(
    tmp_path: Path, channel: str
) -> None:
    profile = lock_profile(tmp_path / "p", channel, platforms=["linux-64", "osx-arm64"])
    code, _, err = _lock(profile, "--virtual-package", "__glibc=2.34")
    assert code == 0, err
    linux = (tmp_path / "p" / "locks" / "linux-64.txt").read_text(encoding="utf-8")
    assert "python-3.12.8-h9e4cc4f_1_cpython.conda" in linux
    assert '"__glibc=2.34=0"' in linux
    osx = (tmp_path / "p" / "locks" / "osx-arm64.txt").read_text(encoding="utf-8")
    assert "__glibc" not in osx  # only platforms that have the package get the override
    assert '"__osx=11.0=0"' in osx

    # the lock keeps its virtual packages: still current, and the fix command repeats them
    profile_data = load_profile(profile)
    found = read_lock(tmp_path / "p" / "locks" / "linux-64.txt")
    assert lockmod.lock_problem(found, profile_data, "linux-64") is None
    problem = lockmod.lock_problem(found, profile_data, "linux-64", ["https://mirror.example/c"])
    assert problem is not None
    assert "--platform linux-64 --virtual-package linux-64:__glibc=2.34=0`" in problem


def test_osx_below_the_packages_floor_fails_naming_platform_and_package(
    tmp_path: Path, channel: str
) -> None:
    profile = lock_profile(tmp_path / "p", channel, platforms=["linux-64", "osx-arm64"])
    code, _, err = _lock(profile, "--virtual-package", "osx-arm64:__osx=10.9")
    assert code == 4
    assert "osx-arm64:" in err and "__osx" in err
    assert "linux-64:" not in err
    assert not (tmp_path / "p" / "locks").exists()  # all or nothing


def test_unsatisfiable_spec_exits_4_names_platform_and_writes_nothing(
    tmp_path: Path, channel: str
) -> None:
    directory = tmp_path / "p"
    profile = lock_profile(directory, channel, platforms=["linux-64"])
    assert _lock(profile)[0] == 0
    before = (directory / "locks" / "linux-64.txt").read_bytes()
    profile = lock_profile(directory, channel, platforms=["linux-64"], python="3.99.*")
    code, _, err = _lock(profile)
    assert code == 4
    assert "linux-64:" in err
    assert "python 3.99.*" in err
    assert "no lock was written" in err
    assert (directory / "locks" / "linux-64.txt").read_bytes() == before
    assert [p.name for p in (directory / "locks").iterdir()] == ["linux-64.txt"]  # no temp left


def test_missing_channel_exits_4_naming_the_channel(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere").as_uri()
    profile = lock_profile(tmp_path / "p", missing, platforms=["linux-64"])
    code, _, err = _lock(profile)
    assert code == 4
    assert missing in err
    assert "linux-64:" in err


def test_bad_arguments_exit_2(tmp_path: Path, channel: str) -> None:
    profile = lock_profile(tmp_path / "p", channel, platforms=["linux-64"])
    code, _, err = _lock(profile, "--platform", "osx-64")
    assert code == 2 and "--platform osx-64" in err
    code, _, err = _lock(profile, "--virtual-package", "glibc=2.17")
    assert code == 2 and "--virtual-package 'glibc=2.17'" in err
    code, _, err = _lock(profile, "--virtual-package", "win-64:__win=1")
    assert code == 2 and "not one of the platforms" in err
    assert not (tmp_path / "p" / "locks").exists()


def test_https_proxy_is_used_for_repodata(tmp_path: Path) -> None:
    """py-rattler's client goes through HTTPS_PROXY: a local listener sees the CONNECT."""
    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(30)

    def serve() -> None:
        try:
            while True:
                conn, _ = server.accept()
                with conn:
                    seen.append(conn.recv(4096).split(b"\r\n", 1)[0])
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{server.getsockname()[1]}"
    profile = lock_profile(tmp_path / "p", "https://conda.example.invalid/acme", ["linux-64"])
    env = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    proc = run_build_py("lock", "--profile", str(profile), env=env)
    server.close()
    assert proc.returncode == 4
    assert "https://conda.example.invalid/acme" in proc.stderr
    assert "HTTPS_PROXY" in proc.stderr
    assert b"CONNECT conda.example.invalid:443 HTTP/1.1" in seen


# --- the API for `build --locked` -------------------------------------------------------------


def test_current_lock_and_lock_problem(tmp_path: Path, channel: str) -> None:
    directory = tmp_path / "p"
    profile_path = lock_profile(directory, channel, platforms=["linux-64"])
    assert _lock(profile_path)[0] == 0
    profile = load_profile(profile_path)
    found = current_lock(profile, "linux-64")
    assert found.platform == "linux-64"
    assert [p.name for p in found.packages][:3] == ["ca-certificates", "openssl", "python"]
    python = next(p for p in found.packages if p.name == "python")
    assert (python.version, python.build, python.subdir) == (
        "3.12.7",
        "hc5c86c4_0_cpython",
        "linux-64",
    )
    assert python.channel == channel
    assert python.sha256 == sha256_of("python-3.12.7-hc5c86c4_0_cpython.conda")
    assert lockmod.lock_problem(found, profile, "linux-64") is None

    # the build overrides the channels: the lock was not made from them
    problem = lockmod.lock_problem(found, profile, "linux-64", ["https://mirror.example/cf"])
    assert problem is not None
    assert str(found.path) in problem
    assert "channels-from profile in the lock, --channel now" in problem
    assert "python build.py lock --channel https://mirror.example/cf --platform linux-64" in problem

    # the profile's specs changed since the lock was written
    lock_profile(directory, channel, platforms=["linux-64"], extra=["pip", "requests"])
    changed = load_profile(profile_path)
    problem = lockmod.lock_problem(found, changed, "linux-64")
    assert problem is not None
    assert "specs" in problem and '"requests"' in problem
    with pytest.raises(LockError) as info:
        current_lock(changed, "linux-64")
    assert info.value.exit_code == 2
    assert "python build.py lock" in str(info.value)


def test_lock_made_with_channel_override_matches_the_same_override(
    tmp_path: Path, channel: str
) -> None:
    profile_path = lock_profile(tmp_path / "p", "https://conda.acme.example/cf", ["linux-64"])
    code, _, err = _lock(profile_path, "--channel", channel)
    assert code == 0, err
    text = (tmp_path / "p" / "locks" / "linux-64.txt").read_text(encoding="utf-8")
    assert "# channels-from: --channel" in text
    profile = load_profile(profile_path)
    found = read_lock(tmp_path / "p" / "locks" / "linux-64.txt")
    assert lockmod.lock_problem(found, profile, "linux-64", [channel]) is None
    assert lockmod.lock_problem(found, profile, "linux-64") is not None


def test_check_option(tmp_path: Path, channel: str) -> None:
    directory = tmp_path / "p"
    profile = lock_profile(directory, channel, platforms=["linux-64", "win-64"])
    code, _, err = _lock(profile, "--check")
    assert code == 2
    assert "win-64.txt: no lock file; run `python build.py lock`" in err
    assert _lock(profile)[0] == 0
    code, out, _ = _lock(profile, "--check")
    assert code == 0 and "linux-64.txt: current (6 packages)" in out
    lock_profile(directory, channel, platforms=["linux-64", "win-64"], python="3.11.*")
    code, _, err = _lock(profile, "--check")
    assert code == 2
    assert "linux-64.txt is out of date" in err and "win-64.txt is out of date" in err


def test_explicit_text_for_constructor(tmp_path: Path, channel: str) -> None:
    profile = lock_profile(tmp_path / "p", channel, platforms=["win-64"])
    assert _lock(profile)[0] == 0
    found = read_lock(tmp_path / "p" / "locks" / "win-64.txt")
    extra = (
        "file:///dist/channel/noarch/acme-corp-conda-config-2026.11-h0_0.conda#sha256:" + "a" * 64
    )
    text = explicit_text(found, [extra])
    lines = text.splitlines()
    assert lines[lines.index("@EXPLICIT") + 1 :] == [*_lines(found.path), extra]
    assert all(line.startswith("#") for line in lines[: lines.index("@EXPLICIT")])
    with pytest.raises(ValueError):
        explicit_text(found, ["two\nlines"])


def test_read_lock_refuses_what_is_not_a_lock(tmp_path: Path, fixtures_dir: Path) -> None:
    from constructor_outputs import write_outputs

    # constructor's own lockfile output: md5 only, no inputs hash
    write_outputs(tmp_path / "out", fixtures_dir / "locked", kinds=("lockfile",))
    with pytest.raises(LockError) as info:
        read_lock(tmp_path / "out" / "lockfile.base.txt")
    message = str(info.value)
    assert "not a lock written by `python build.py lock`" in message
    assert "no `# inputs-sha256:` header line" in message
    assert "packages without `#sha256:`: anaconda-anon-usage-0.8.1-py_100.conda" in message
    assert info.value.exit_code == 2

    plain = tmp_path / "requirements.txt"
    plain.write_text("python 3.12.*\npip\n", encoding="utf-8")
    with pytest.raises(LockError) as info:
        read_lock(plain)
    assert "line 1: 'python 3.12.*' comes before the @EXPLICIT line" in str(info.value)

    bad = tmp_path / "bad.txt"
    bad.write_text(
        "@EXPLICIT\nhttps://x.example/c/noarch/a-1-0.conda#sha256:abc\n", encoding="utf-8"
    )
    with pytest.raises(LockError) as info:
        read_lock(bad)
    assert "line 2: `#sha256:` needs 64 hex digits" in str(info.value)
