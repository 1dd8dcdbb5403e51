"""NMI on the PC platform (QMP inject-nmi's effect): taken through vector 2 whatever IF says,
it wakes a ``cli; hlt``, and a second NMI waits for the handler's IRET; migration keeps it."""

from __future__ import annotations

import io

from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform

from .asm import nasm

# The host injects an NMI whenever the guest writes 'W' (and once more on the first 'N' when
# the test asks); the NMI handler prints 'N', optionally halts, then prints 'x' and IRETs.
GUEST = """
    xor ax, ax
    mov ds, ax
    mov word [2*4], nmi
    mov word [2*4+2], 0
    mov al, 'W'
    out 0xe9, al
    cli
    hlt
    mov al, 'A'
    out 0xe9, al
    mov al, 'W'
    out 0xe9, al
    cli
    hlt
    mov al, 'B'
    out 0xe9, al
    cli
    hlt
nmi:
    mov al, 'N'
    out 0xe9, al
    {in_handler}
    mov al, 'x'
    out 0xe9, al
    iret
"""


def boot(in_handler="", nested=False):
    m = Machine()
    out = io.BytesIO()
    pc = PCPlatform(m, output=out)
    m.write(0x7C00, nasm(GUEST.format(in_handler=in_handler)))
    seen = []

    def host(b):
        seen.append(b)
        if b == ord("W") or (nested and b == ord("N") and seen.count(ord("N")) == 1):
            pc.inject_nmi()

    pc.debugcon.observers.append(host)
    return m, pc, out


def test_nmi_wakes_cli_hlt_and_returns_after_it():
    m, pc, out = boot()
    pc.run_until(10**9)
    assert out.getvalue() == b"WNxAWNxB"
    assert pc.stopped == "halted with interrupts disabled"
    assert not m.cpu.nmi_pending and not m.cpu.nmi_blocked
    # the handler ran with IF clear and IRET restored the caller's (clear) IF
    assert not m.cpu.eflags_rest & 0x200


def test_second_nmi_waits_for_the_handlers_iret():
    # the handler halts with IF clear: only an NMI could wake it, and one is pending, but
    # NMIs are blocked until the IRET, so the run ends there
    m, pc, out = boot(in_handler="cli\n    hlt", nested=True)
    pc.run_until(10**9)
    assert out.getvalue() == b"WN"
    assert pc.stopped == "halted with interrupts disabled"
    assert m.cpu.nmi_pending and m.cpu.nmi_blocked


def test_nmi_latched_in_the_handler_is_taken_right_after_iret():
    m, pc, out = boot(nested=True)
    pc.run_until(10**9)
    # the NMI raised in the first handler is latched and taken right after its IRET, before
    # the interrupted code goes on
    assert out.getvalue() == b"WNxNxAWNxB"
    assert not m.cpu.nmi_pending


def test_nmi_state_migrates():
    from vgaemu.cpu.vmstate import _check, _load, _save

    m = Machine()
    cpu = m.cpu
    cpu.nmi_pending, cpu.nmi_blocked = True, True
    state = _save(cpu, m.a20)
    assert state["nmi_pending"] is True and state["nmi_blocked"] is True
    cpu.nmi_pending = cpu.nmi_blocked = False
    _check(state, 1)
    _load(cpu, m.a20, state, 1)
    assert cpu.nmi_pending and cpu.nmi_blocked
    # a stream from before NMIs were modelled loads with none pending
    del state["nmi_pending"], state["nmi_blocked"]
    _check(state, 1)
    _load(cpu, m.a20, state, 1)
    assert not cpu.nmi_pending and not cpu.nmi_blocked
