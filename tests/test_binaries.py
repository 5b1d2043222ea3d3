"""Executable header checks on real files: this machine's own executables, Windows launchers
that pip ships (real PE images for x86_64, arm64 and i386), and small Mach-O/ELF/PE files
written here per each format's specification."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from loopchannel import (
    CPU_TYPE_ARM64,
    CPU_TYPE_X86_64,
    elf_executable,
    fat_macho,
    macho_executable,
    pe_executable,
)

from orgconda import platforms
from orgconda.binaries import TARGET_NEEDS, check_executable, identify, needs
from orgconda.errors import UsageError

HOST = platforms.host_subdir()
EM_X86_64, EM_AARCH64, EM_386 = 62, 183, 3
PE_AMD64, PE_ARM64, PE_I386 = 0x8664, 0xAA64, 0x014C


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def pip_launcher(name: str) -> Path:
    spec = importlib.util.find_spec("pip")
    if spec is None or spec.origin is None:
        pytest.skip("pip is not installed here; its Windows launchers are the real PE files")
    path = Path(spec.origin).parent / "_vendor" / "distlib" / name
    if not path.is_file():
        pytest.skip(f"this pip has no {name} (the real PE launcher this test reads)")
    return path


@pytest.mark.skipif(HOST is None, reason="this host is not a conda platform")
def test_this_machines_own_python_matches_the_host_and_nothing_else() -> None:
    exe = Path(sys.executable).resolve()
    assert HOST is not None
    info = check_executable(exe, HOST, what="python")
    assert info.executable and TARGET_NEEDS[HOST][1] in info.cpus
    for other in TARGET_NEEDS:
        if TARGET_NEEDS[other][1] in info.cpus and TARGET_NEEDS[other][0] == info.format:
            continue  # the host's own platform, or a universal binary's other slice
        with pytest.raises(UsageError, match=other):
            check_executable(exe, other, what="python")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /bin/sh, an ELF file")
def test_bin_sh_is_an_elf_for_this_cpu(tmp_path: Path) -> None:
    sh = Path(shutil.which("sh") or "/bin/sh").resolve()
    info = identify(sh)
    assert info.format == "ELF" and info.executable
    if HOST is not None:
        assert info.cpus == (TARGET_NEEDS[HOST][1],)
    with pytest.raises(UsageError) as err:
        check_executable(sh, "osx-arm64")
    text = str(err.value)
    assert str(sh) in text
    assert "is an ELF 64-bit" in text
    assert "osx-arm64 needs a Mach-O executable for arm64" in text
    assert err.value.exit_code == 2


def test_real_pe_launchers_from_pip() -> None:
    amd64, arm64, i386 = (pip_launcher(n) for n in ("t64.exe", "t64-arm.exe", "t32.exe"))
    assert check_executable(amd64, "win-64").cpus == ("x86_64",)
    with pytest.raises(UsageError, match=r"a PE 64-bit executable for arm64, but win-64 needs"):
        check_executable(arm64, "win-64")
    with pytest.raises(UsageError, match=r"a PE 32-bit executable for i386"):
        check_executable(i386, "win-64")
    with pytest.raises(UsageError, match=r"linux-64 needs an ELF executable for x86_64"):
        check_executable(amd64, "linux-64")


@pytest.mark.parametrize(
    ("subdir", "data", "ok"),
    [
        ("linux-64", elf_executable(EM_X86_64), True),
        ("linux-aarch64", elf_executable(EM_AARCH64), True),
        ("linux-64", elf_executable(EM_AARCH64), False),
        ("linux-aarch64", elf_executable(EM_X86_64), False),
        ("linux-64", elf_executable(EM_X86_64, bits=32), False),  # x32, not x86_64
        ("linux-64", elf_executable(EM_386, bits=32), False),
        ("linux-64", elf_executable(EM_X86_64, e_type=1), False),  # an object file
        ("osx-64", macho_executable(CPU_TYPE_X86_64), True),
        ("osx-arm64", macho_executable(CPU_TYPE_ARM64), True),
        ("osx-arm64", macho_executable(CPU_TYPE_X86_64), False),
        ("osx-64", macho_executable(CPU_TYPE_ARM64), False),
        ("osx-arm64", macho_executable(CPU_TYPE_ARM64, filetype=6), False),  # a dylib
        ("win-64", pe_executable(PE_AMD64), True),
        ("win-64", pe_executable(PE_AMD64, dll=True), False),
        ("win-64", pe_executable(PE_ARM64), False),
        ("win-64", pe_executable(PE_I386, pe32_plus=False), False),
        ("osx-arm64", elf_executable(EM_AARCH64), False),
        ("linux-64", pe_executable(PE_AMD64), False),
    ],
)
def test_headers_written_per_spec(tmp_path: Path, subdir: str, data: bytes, ok: bool) -> None:
    path = write(tmp_path, "conda.exe", data)
    if ok:
        assert check_executable(path, subdir).executable
    else:
        with pytest.raises(UsageError) as err:
            check_executable(path, subdir)
        assert needs(subdir) in str(err.value)
        assert str(path) in str(err.value)


def test_fat_binary_serves_each_slice_it_contains(tmp_path: Path) -> None:
    fat = write(
        tmp_path,
        "universal",
        fat_macho(
            (CPU_TYPE_X86_64, macho_executable(CPU_TYPE_X86_64)),
            (CPU_TYPE_ARM64, macho_executable(CPU_TYPE_ARM64)),
        ),
    )
    info = identify(fat)
    assert info.cpus == ("x86_64", "arm64") and info.executable
    check_executable(fat, "osx-64")
    check_executable(fat, "osx-arm64")
    intel_only = write(
        tmp_path, "intel", fat_macho((CPU_TYPE_X86_64, macho_executable(CPU_TYPE_X86_64)))
    )
    with pytest.raises(UsageError, match="slices for x86_64, but osx-arm64 needs"):
        check_executable(intel_only, "osx-arm64")


def test_fat_header_that_lies_about_its_slice_is_refused(tmp_path: Path) -> None:
    # The table says arm64, the slice at that offset is an x86_64 executable.
    lying = write(tmp_path, "lying", fat_macho((CPU_TYPE_ARM64, macho_executable(CPU_TYPE_X86_64))))
    with pytest.raises(UsageError, match="damaged or truncated Mach-O"):
        check_executable(lying, "osx-arm64")


def test_scripts_text_and_empty_files_are_refused(tmp_path: Path) -> None:
    script = write(tmp_path, "conda.exe", b'#!/bin/sh\nexec conda "$@"\n')
    with pytest.raises(UsageError, match=r"a script \(#!/bin/sh\), not a native executable"):
        check_executable(script, "linux-64")
    with pytest.raises(UsageError, match="an empty file"):
        check_executable(write(tmp_path, "empty", b""), "osx-64")
    with pytest.raises(UsageError, match="not an ELF, Mach-O or PE"):
        check_executable(write(tmp_path, "text", b"hello world\n" * 10), "win-64")
    with pytest.raises(UsageError, match="cannot read it"):
        check_executable(tmp_path / "absent", "win-64")


def test_java_class_file_is_not_a_fat_binary(tmp_path: Path) -> None:
    # 0xcafebabe then minor 0, major 65 (Java 21): read as a fat header it would claim 65 slices.
    klass = write(tmp_path, "A.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + bytes(64))
    assert identify(klass).format == "other"
