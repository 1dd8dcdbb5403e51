"""Register access for BIOS services entered through a trap stub: the caller's registers
are the CPU's, and the caller's FLAGS live in the IRET frame at SS:SP (SeaBIOS's
``struct bregs``), so a service reports CF/ZF by editing that frame."""

from __future__ import annotations

CF = 0x0001
ZF = 0x0040
IF_FLAG = 0x0200


def ax(cpu) -> int:
    return cpu.regs[0] & 0xFFFF


def set16(cpu, i: int, v: int) -> None:
    cpu.regs[i] = cpu.regs[i] & 0xFFFF0000 | v & 0xFFFF


def set_ah(cpu, v: int) -> None:
    cpu.regs[0] = cpu.regs[0] & 0xFFFF00FF | (v & 0xFF) << 8


def set_al(cpu, v: int) -> None:
    cpu.regs[0] = cpu.regs[0] & 0xFFFFFF00 | v & 0xFF


def _frame_flags_addr(cpu) -> int:
    return cpu.seg_base[2] + ((cpu.regs[4] + 4) & 0xFFFF)


def frame_flags(cpu) -> int:
    return cpu._ld(_frame_flags_addr(cpu), 2)


def set_frame_flag(cpu, bit: int, on: bool) -> None:
    a = _frame_flags_addr(cpu)
    fl = cpu._ld(a, 2)
    cpu._st(a, 2, (fl | bit) if on else (fl & ~bit))


def ok(cpu, ah: int | None = 0) -> None:
    """Success: CF clear (and AH = ``ah`` unless None)."""
    if ah is not None:
        set_ah(cpu, ah)
    set_frame_flag(cpu, CF, False)


def fail(cpu, ah: int) -> None:
    """Failure: CF set, AH = the BIOS status code."""
    set_ah(cpu, ah)
    set_frame_flag(cpu, CF, True)


def wait(cpu, stub_start: int) -> None:
    """Block the caller: re-run the stub (which starts with STI) once something wakes the
    CPU from the halt -- an interrupt, or the platform's wake()."""
    cpu.eip = stub_start
    cpu.halted = True
