"""The CPU's migration section (QEMU's vmstate_x86_cpu, cut down to real mode): registers,
materialised flags, segment descriptor caches (so unreal mode survives), control and
descriptor-table registers, the halt state, pending interrupts (and NMI) and the A20 gate.

Translations are not state: a loaded CPU starts with an empty TB cache and TLB, as QEMU's
destination does, and retranslates from the migrated RAM.
"""

from __future__ import annotations

from vgaemu.migration.errors import MigrationError
from vgaemu.migration.vmstate import Section

from .state import ARITH, FLAGS_FIXED

VERSION = 1
_U32 = 0xFFFFFFFF
#: field -> how many 32-bit values it holds
_LISTS = {"regs": 8, "seg_sel": 6, "seg_base": 6, "seg_limit": 6, "seg_flags": 6, "cr": 5}


def _save(cpu, a20) -> dict:
    return {
        "regs": list(cpu.regs), "eip": cpu.eip, "eflags": cpu.get_eflags(),
        "seg_sel": list(cpu.seg_sel), "seg_base": list(cpu.seg_base),
        "seg_limit": list(cpu.seg_limit), "seg_flags": list(cpu.seg_flags),
        "cr": list(cpu.cr), "gdtr": list(cpu.gdtr), "idtr": list(cpu.idtr),
        "hflags": cpu.hflags, "halted": cpu.halted, "pending_irqs": list(cpu.pending_irqs),
        "nmi_pending": cpu.nmi_pending, "nmi_blocked": cpu.nmi_blocked,
        "a20_mask": cpu.a20_mask, "port92": a20.port92, "kbc_output": a20.kbc_output,
        "insns": cpu._done,
    }


def _u32(state: dict, name: str) -> int:
    v = state.get(name)
    if type(v) is not int or not 0 <= v <= _U32:
        raise MigrationError(f"cpu section: {name} {v!r} is not a 32-bit value")
    return v


def _check(state: dict, version: int) -> None:
    for name, n in _LISTS.items():
        v = state.get(name)
        if not isinstance(v, list) or len(v) != n:
            raise MigrationError(f"cpu section: {name} must be a list of {n} values, got {v!r}")
        for x in v:
            if type(x) is not int or not 0 <= x <= _U32:
                raise MigrationError(f"cpu section: {name} holds {x!r}, not a 32-bit value")
    for name in ("eip", "eflags", "hflags", "a20_mask", "port92", "kbc_output", "insns"):
        _u32(state, name)
    for name in ("gdtr", "idtr"):
        v = state.get(name)
        if not (isinstance(v, list) and len(v) == 2 and all(type(x) is int and x >= 0 for x in v)):
            raise MigrationError(f"cpu section: {name} {v!r} is not [base, limit]")
    if state["a20_mask"] not in (0xFFFFFFFF, 0xFFEFFFFF):
        raise MigrationError(f"cpu section: a20_mask {state['a20_mask']:#x} is not an A20 mask")
    if type(state.get("halted")) is not bool:
        raise MigrationError(f"cpu section: halted {state.get('halted')!r} is not a bool")
    for name in ("nmi_pending", "nmi_blocked"):   # absent in streams from before NMIs
        if type(state.get(name, False)) is not bool:
            raise MigrationError(f"cpu section: {name} {state.get(name)!r} is not a bool")
    irqs = state.get("pending_irqs")
    if not isinstance(irqs, list) or not all(type(v) is int and 0 <= v < 256 for v in irqs):
        raise MigrationError(f"cpu section: pending_irqs {irqs!r} are not interrupt vectors")


def _load(cpu, a20, state: dict, version: int) -> None:
    cpu.regs = list(state["regs"])
    cpu.eip = state["eip"]
    flags = state["eflags"]
    cpu.eflags_rest = (flags & ~ARITH) | FLAGS_FIXED
    cpu.cc = (0, flags & ARITH, 0, 0, 0)
    cpu.seg_sel = list(state["seg_sel"])
    cpu.seg_base = list(state["seg_base"])
    cpu.seg_limit = list(state["seg_limit"])
    cpu.seg_flags = list(state["seg_flags"])
    cpu.cr = list(state["cr"])
    cpu.gdtr = tuple(state["gdtr"])
    cpu.idtr = tuple(state["idtr"])
    cpu.a20_mask = state["a20_mask"]
    cpu.hflags = state["hflags"]
    cpu.halted = state["halted"]
    cpu.pending_irqs[:] = state["pending_irqs"]
    cpu.nmi_pending = state.get("nmi_pending", False)
    cpu.nmi_blocked = state.get("nmi_blocked", False)
    cpu._done = state["insns"]
    a20.port92 = state["port92"]
    a20.kbc_output = state["kbc_output"]
    # The RAM under every translation was just replaced.
    cpu.tb_cache.flush()
    cpu.tlb.flush()


def cpu_section(cpu, a20) -> Section:
    """The "cpu" section of `cpu` and its A20 gate, for machine.vmstate."""
    return Section("cpu", VERSION, lambda: _save(cpu, a20),
                   lambda state, version: _load(cpu, a20, state, version), _check)
