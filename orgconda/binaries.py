"""What an executable is, from its header: ELF, Mach-O (thin or fat) or PE, and for which CPU.

Every executable handed to constructor must match the installer's target platform; a wrong one
would be packed into the installer and fail only on the user's machine. The check reads the
fixed header fields each format's specification defines (ELF: System V gABI ``e_ident``,
``e_type``, ``e_machine``; Mach-O: ``<mach-o/loader.h>`` ``mach_header(_64)`` and
``<mach-o/fat.h>`` ``fat_header``/``fat_arch(_64)``; PE: the MS-DOS stub's ``e_lfanew``, the
``PE\\0\\0`` signature, the COFF header's ``Machine`` and ``Characteristics`` and the optional
header's magic). A few dozen bytes at known offsets answer the question, so this is ``struct``
rather than a binary-analysis library (lief, the one that covers all three formats, is a 12 MB
C++ extension per Python version that parses whole binaries).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError

# What each target subdir needs: (format, CPU name as used in messages).
TARGET_NEEDS: dict[str, tuple[str, str]] = {
    "linux-64": ("ELF", "x86_64"),
    "linux-aarch64": ("ELF", "aarch64"),
    "osx-64": ("Mach-O", "x86_64"),
    "osx-arm64": ("Mach-O", "arm64"),
    "win-64": ("PE", "x86_64"),
}

_ELF_MACHINES = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
    40: "arm",
    62: "x86_64",
    183: "aarch64",
    243: "riscv",
}
_ELF_TYPES = {1: "relocatable object", 2: "executable", 3: "shared object/PIE", 4: "core dump"}
_MACHO_CPUS = {
    7: "i386",
    0x01000007: "x86_64",
    12: "arm",
    0x0100000C: "arm64",
    0x0200000C: "arm64_32",
    18: "ppc",
    0x01000012: "ppc64",
}
_MACHO_FILETYPES = {1: "object", 2: "executable", 6: "dylib", 8: "bundle"}
_PE_MACHINES = {
    0x014C: "i386",
    0x8664: "x86_64",
    0x01C4: "arm",
    0xAA64: "arm64",
    0xA641: "arm64ec",
}
_MACHO_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
_FAT_MAX_ARCHS = 20  # Java class files share 0xcafebabe; their major version is >= 45


@dataclass(frozen=True)
class ExeInfo:
    """What a file is. ``cpus`` is empty when it is no executable at all."""

    format: str  # "ELF", "Mach-O", "PE", or "other"
    cpus: tuple[str, ...]  # one per slice of a fat Mach-O
    executable: bool  # an executable image (not an object file, library, core dump, script)
    description: str  # for messages: "an ELF 64-bit executable for x86_64"


def identify(path: Path) -> ExeInfo:
    """Read ``path``'s header. OSError when it cannot be read."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
        if head[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
            return _fat(fh, head)
    return identify_bytes(head)


def identify_bytes(head: bytes) -> ExeInfo:
    """Classify the first bytes of a file (4 KiB is plenty for every format here)."""
    if head[:4] == b"\x7fELF":
        return _elf(head)
    if head[:4] in _MACHO_MAGICS:
        return _macho_thin(head)
    if head[:2] == b"MZ":
        return _pe(head)
    if head[:2] == b"#!":
        line = head.split(b"\n", 1)[0][:80].decode("utf-8", "replace")
        return ExeInfo("other", (), False, f"a script ({line}), not a native executable")
    if not head:
        return ExeInfo("other", (), False, "an empty file")
    return ExeInfo("other", (), False, "not an ELF, Mach-O or PE executable")


def _bad(fmt: str, why: str) -> ExeInfo:
    return ExeInfo(fmt, (), False, f"a damaged or truncated {fmt} file ({why})")


def _elf(head: bytes) -> ExeInfo:
    if len(head) < 20:
        return _bad("ELF", "header shorter than 20 bytes")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        return _bad("ELF", f"EI_CLASS {ei_class}, EI_DATA {ei_data}")
    order = "<" if ei_data == 1 else ">"
    e_type, e_machine = struct.unpack_from(order + "HH", head, 16)
    bits = 32 if ei_class == 1 else 64
    cpu = _ELF_MACHINES.get(e_machine, f"e_machine {e_machine}")
    if cpu == "x86_64" and bits == 32:
        cpu = "x32"  # the x32 ABI: not runnable as linux-64's x86_64
    if cpu == "aarch64" and (bits == 32 or order == ">"):
        cpu = "aarch64 (ILP32 or big-endian)"
    kind = _ELF_TYPES.get(e_type, f"e_type {e_type}")
    executable = e_type in (2, 3)
    return ExeInfo("ELF", (cpu,), executable, f"an ELF {bits}-bit {kind} for {cpu}")


def _macho_thin(head: bytes) -> ExeInfo:
    if len(head) < 28:
        return _bad("Mach-O", "header shorter than 28 bytes")
    order = "<" if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") else ">"
    bits = 64 if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf") else 32
    cputype, _sub, filetype = struct.unpack_from(order + "iiI", head, 4)
    cpu = _MACHO_CPUS.get(cputype, f"cputype {cputype:#x}")
    kind = _MACHO_FILETYPES.get(filetype, f"filetype {filetype}")
    return ExeInfo("Mach-O", (cpu,), filetype == 2, f"a Mach-O {bits}-bit {kind} for {cpu}")


def _fat(fh: BinaryIO, head: bytes) -> ExeInfo:
    """A universal binary: every slice's own header is read too, and must agree."""
    wide = head[3] == 0xBF  # FAT_MAGIC_64: 64-bit offsets
    if len(head) < 8:
        return _bad("Mach-O", "fat header shorter than 8 bytes")
    (count,) = struct.unpack_from(">I", head, 4)
    if not 0 < count <= _FAT_MAX_ARCHS:
        return ExeInfo("other", (), False, "not an ELF, Mach-O or PE executable")
    size = 32 if wide else 20
    if len(head) < 8 + count * size:
        return _bad("Mach-O", "fat header lists more slices than it holds")
    cpus: list[str] = []
    executable = True
    for i in range(count):
        at = 8 + i * size
        if wide:
            cputype, _sub, offset, _length = struct.unpack_from(">iiQQ", head, at)
        else:
            cputype, _sub, offset, _length = struct.unpack_from(">iiII", head, at)
        fh.seek(offset)
        inner = identify_bytes(fh.read(32))
        cpu = _MACHO_CPUS.get(cputype, f"cputype {cputype:#x}")
        if inner.format != "Mach-O" or inner.cpus != (cpu,):
            return _bad("Mach-O", f"slice {i} at offset {offset} is {inner.description}")
        executable = executable and inner.executable
        cpus.append(cpu)
    kind = "executable" if executable else "file (not every slice is an executable)"
    desc = f"a universal (fat) Mach-O {kind} with slices for {', '.join(cpus)}"
    return ExeInfo("Mach-O", tuple(cpus), executable, desc)


def _pe(head: bytes) -> ExeInfo:
    if len(head) < 0x40:
        return _bad("PE", "MS-DOS header shorter than 64 bytes")
    (lfanew,) = struct.unpack_from("<I", head, 0x3C)
    if lfanew + 26 > len(head) or head[lfanew : lfanew + 4] != b"PE\0\0":
        return ExeInfo("other", (), False, "an MS-DOS program without a PE header")
    machine, _n, _t, _p, _s, _o, chars = struct.unpack_from("<HHIIIHH", head, lfanew + 4)
    (magic,) = struct.unpack_from("<H", head, lfanew + 24)
    bits = {0x10B: "32-bit", 0x20B: "64-bit"}.get(magic, f"optional-header magic {magic:#x}")
    cpu = _PE_MACHINES.get(machine, f"machine {machine:#06x}")
    if cpu == "x86_64" and magic != 0x20B:
        cpu = f"x86_64 with a {bits} optional header"
    dll = bool(chars & 0x2000)
    image = bool(chars & 0x0002)
    kind = "DLL" if dll else ("executable" if image else "non-executable image")
    return ExeInfo("PE", (cpu,), image and not dll, f"a PE {bits} {kind} for {cpu}")


def needs(subdir: str) -> str:
    """What ``subdir`` needs, for messages: "osx-arm64 needs a Mach-O executable for arm64"."""
    fmt, cpu = TARGET_NEEDS[subdir]
    return f"{subdir} needs {'an' if fmt == 'ELF' else 'a'} {fmt} executable for {cpu}"


def mismatch(info: ExeInfo, subdir: str) -> str | None:
    """Why ``info`` cannot serve ``subdir``; None when it can."""
    fmt, cpu = TARGET_NEEDS[subdir]
    need = needs(subdir)
    if info.format != fmt or cpu not in info.cpus:
        return f"it is {info.description}, but {need}"
    if not info.executable:
        return f"it is {info.description}, not an executable; {need}"
    return None


def check_executable(path: Path, subdir: str, *, what: str = "conda-standalone") -> ExeInfo:
    """The header of ``path`` must match ``subdir``; UsageError (exit 2) naming the file, what
    it is and what the target needs."""
    if subdir not in TARGET_NEEDS:
        raise UsageError(f"no executable check is defined for the platform {subdir!r}")
    label = f"{what}{path}" if what.endswith("=") else f"{what} {path}"
    try:
        info = identify(path)
    except OSError as exc:
        raise UsageError(f"{label}: cannot read it: {exc.strerror or exc}") from exc
    why = mismatch(info, subdir)
    if why is not None:
        raise UsageError(
            f"{label} cannot be used for {subdir}: {why}.\n"
            f"fix: use the conda-standalone built for {subdir} (the `conda-standalone` package "
            f"of the {subdir} subdir, file standalone_conda/conda.exe)"
        )
    return info
