"""The platform loop with the CPU: IRQ 0 through the PIC into a guest handler via the IVT,
icount virtual time, HLT skipping to the next event, debugcon/COM1 output, ending a run."""

from __future__ import annotations

import io

import pytest

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform
from vgaemu.pc.pit import PIT_FREQ

from .asm import nasm
from .platform_code import IRQ0_SAYS_I, PIC_INIT, boot

TICKER = PIC_INIT + f"""
    cli
    mov word [0x08*4], irq0
    mov word [0x08*4+2], 0
    mov al, 0x34
    out 0x43, al
    mov ax, {PIT_FREQ // 1000}
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
idle:
    hlt
    cmp word [count], 100
    jb idle
    mov al, 'K'
    out 0xe9, al
    cli
    hlt
irq0:
    inc word [count]
    push ax
    mov al, 0x20
    out 0x20, al
    pop ax
    iret
count: dw 0
"""


def test_pit_irq0_reaches_guest_handler_at_the_programmed_rate():
    m, pc, out, code = boot(TICKER)
    pc.run_until(10**9)
    assert pc.stopped == "halted with interrupts disabled"
    assert out.getvalue() == b"K"
    # 100 ticks at 1 kHz: the guest stops 100 ms of virtual time after it started
    assert 99_900_000 <= m.clock.now_ns < 100_100_000
    # HLT skipped the idle time: only a few instructions per tick were executed
    assert pc.instructions < 2000


def test_busy_loop_time_is_instruction_count():
    src = """
    mov cx, 1000
l:  loop l
    cli
    hlt
    """
    m, pc, out, code = boot(src, ips=1_000_000)
    pc.run_until(10**9)
    assert pc.stopped and pc.instructions == 1003
    assert m.clock.now_ns == 1003 * 1000


def test_irq_waits_for_sti_and_is_delivered_after_it():
    src = PIC_INIT + """
    cli
    mov word [0x08*4], irq0
    mov word [0x08*4+2], 0
    mov cx, 0xffff
busy: loop busy          ; ~6.5 ms: the default 18.2 Hz tick is not due yet
    mov cx, 0xffff
busy2: loop busy2
    mov cx, 0xffff
busy3: loop busy3
    mov cx, 0xffff
busy4: loop busy4
    mov cx, 0xffff
busy5: loop busy5
    mov cx, 0xffff
busy6: loop busy6
    mov cx, 0xffff
busy7: loop busy7
    mov cx, 0xffff
busy8: loop busy8
    mov cx, 0xffff
busy9: loop busy9        ; now > 55 ms: IRQ 0 is pending, IF is off
    mov al, 'a'
    out 0xe9, al
    sti
    nop
    cli
    hlt
""" + IRQ0_SAYS_I
    m, pc, out, code = boot(src)
    pc.run_until(10**9)
    assert out.getvalue() == b"ai"


def test_serial_com1_output_and_lsr():
    src = """
    mov dx, 0x3fd
w:  in al, dx
    test al, 0x20
    jz w
    mov dx, 0x3f8
    mov al, 'S'
    out dx, al
    in al, 0xe9
    out 0xe9, al
    cli
    hlt
"""
    m, pc, out, code = boot(src)
    pc.run_until(10**9)
    assert out.getvalue() == b"S\xe9"


def test_frames_advance_virtual_time_by_the_guests_instructions():
    src = "l: jmp l"
    m, pc, out, code = boot(src)
    for _ in range(3):
        pc.frame()
    assert pc.frame_index == 3
    assert m.clock.now_ns >= 3 * 10**9 // 60
    assert pc.instructions >= 3 * (10**9 // 60) // pc.ns_per_insn
    assert pc.stopped is None


def test_bad_options():
    m = Machine()
    with pytest.raises(ConfigError):
        PCPlatform(m, ips=0)
    PCPlatform(m, output=io.BytesIO())
    with pytest.raises(ConfigError, match="already"):
        PCPlatform(m)


def test_run_frames_runs_posted_work_between_frames(tmp_path):
    """The main-loop contract (vgaemu.mainloop): work another thread posts runs between
    frames, under the BQL, and a quit request ends the run."""
    import threading

    from vgaemu.frontends.headless import HeadlessSink
    from vgaemu.pc.boot import PC, run_frames
    from vgaemu.pc.disk import DiskImage

    img = tmp_path / "loop.img"
    img.write_bytes(nasm("l: jmp l\ntimes 510-($-$$) db 0\ndw 0xaa55\n"))
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy")], output=io.BytesIO())
    pc.boot()
    seen = []

    def poster():
        fut = pc.machine.post(lambda: seen.append(pc.platform.frame_index))
        fut.result(timeout=60)

        def quit_():
            pc.machine.loop.quit_requested = True
        pc.machine.post(quit_).result(timeout=60)

    t = threading.Thread(target=poster)
    t.start()
    n, why = run_frames(pc, HeadlessSink(), 10_000)
    t.join(timeout=60)
    assert why == "quit requested" and seen and n < 10_000
