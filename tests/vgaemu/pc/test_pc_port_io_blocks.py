"""IN and OUT in the middle of a translation block: the block runs on past them, and ends
right after one only when the access did what the CPU loop acts on between blocks (an
interrupt became deliverable, the mode changed), so guests see exactly what a CPU that
ended every block at port I/O showed them."""

from __future__ import annotations

from .asm import nasm
from .platform_code import IRQ0_SAYS_I, PIC_INIT, boot


def test_a_run_of_port_writes_is_one_block():
    """planar drawing: register writes back to back stay in one TB."""
    outs = "\n".join(f"    mov al, {i % 9}\n    out dx, al\n    inc al\n    out dx, al"
                     for i in range(10))
    m, pc, out, code = boot(f"    mov dx, 0x3ce\n{outs}\n    cli\n    hlt\n")
    pc.run_until(10**9)
    assert pc.stopped == "halted with interrupts disabled"
    assert m.cpu.counters.tbs_executed <= 3, m.cpu.counters.tbs_executed


def test_an_unmasking_out_is_followed_by_the_interrupt_at_once():
    """IRQ 0 waits masked; the OUT that unmasks it is the last instruction before the
    handler, though the block goes on after it."""
    src = PIC_INIT + """
    cli
    mov word [0x08*4], irq0
    mov word [0x08*4+2], 0
    mov al, 0xff
    out 0x21, al
%rep 9                   ; 9 x 65535 LOOPs, > 55 ms: the 18.2 Hz tick is pending in the
    mov cx, 0xffff       ; masked PIC
    loop $
%endrep
    sti
    nop
    mov al, 0xfe
    out 0x21, al          ; unmask IRQ 0: taken right after this instruction
    mov al, 'x'           ; the handler leaves AL = 'i': it must run before this line
    out 0xe9, al
    cli
    hlt
""" + IRQ0_SAYS_I
    m, pc, out, code = boot(src)
    pc.run_until(10**9)
    assert out.getvalue() == b"ix"


PIT_READS = """
    mov al, 0x34          ; channel 0, lo/hi, mode 2
    out 0x43, al
    xor al, al
    out 0x40, al
    out 0x40, al          ; count 65536
    mov cx, 40
warm: loop warm
    xor al, al
    out 0x43, al          ; latch channel 0
    in al, 0x40
    mov bl, al
    in al, 0x40
    mov bh, al
    nop
    nop
    nop
    nop
    nop
    nop
    xor al, al
    out 0x43, al
    in al, 0x40
    mov cl, al
    in al, 0x40
    mov ch, al
    cli
    hlt
"""


def test_port_reads_in_a_block_see_the_time_of_their_instruction():
    """The PIT read twice in one block, seven instructions apart: the same counts as a CPU
    that runs every instruction on its own."""
    results = []
    for tbs in (True, False):
        m, pc, out, code = boot(PIT_READS)
        m.cpu.use_tb_cache = tbs
        pc.run_until(10**9)
        assert pc.stopped
        regs = m.cpu.regs
        results.append((regs[3] & 0xFFFF, regs[1] & 0xFFFF, pc.instructions))
    assert results[0] == results[1]
    first, second, _ = results[0]
    assert first != second          # time went on between the reads


def test_a20_change_by_out_ends_the_block():
    """Port 92h switches A20 off in the middle of a block: the next access already wraps
    at 1 MiB (the rest of the block was translated for A20 on)."""
    src = """
    mov ax, 0xffff
    mov es, ax
    mov byte [es:0x10], 0x55   ; linear 0x100000 (A20 on, as SeaBIOS leaves it)
    mov byte [0], 0xaa
    in al, 0x92
    and al, 0xfd
    out 0x92, al               ; A20 off
    mov bl, [es:0x10]          ; wraps to linear 0
    cli
    hlt
"""
    m, pc, out, code = boot(src)
    pc.run_until(10**9)
    assert pc.stopped
    assert m.cpu.regs[3] & 0xFF == 0xAA
