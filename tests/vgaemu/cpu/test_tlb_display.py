"""CPU stores into video memory always reach the next update_display: the guest sets mode
13h through INT 10h, then a loop stores pixels all over the window (which chain-4 serves
straight from VRAM through TLB write entries) while frames run between slices.  After every
frame the incremental picture must equal a full redraw of the same VRAM -- a store that
slipped past the dirty bits would leave a stale pixel."""

import numpy as np
import pytest

from vgaemu.machine import Machine

PROGRAM = bytes.fromhex(
    "B81300"      # 7C00 mov ax, 13h
    "CD10"        # 7C03 int 10h
    "B800A0"      # 7C05 mov ax, A000h
    "8EC0"        # 7C08 mov es, ax
    "31FF"        # 7C0A xor di, di
    "B001"        # 7C0C mov al, 1
    "268805"      # 7C0E mov [es:di], al
    "81C7C50C"    # 7C11 add di, 0CC5h
    "FEC0"        # 7C15 inc al
    "EBF5")       # 7C17 jmp 7C0E


@pytest.mark.parametrize("tb_cache", [True, False], ids=["tb", "no-tb-cache"])
def test_every_cpu_store_reaches_the_next_frame(tb_cache):
    m = Machine(memory="1M", vram="1M", tb_cache=tb_cache)
    cpu = m.cpu
    m.write(0x7C00, PROGRAM)
    cpu.eip = 0x7C00
    cpu.run(max_instructions=7)  # through the mode set, ES and the registers
    assert m.vga.has_chain4_alias
    m.frame()
    rng = np.random.default_rng(3)
    direct = 0
    for _ in range(12):
        cpu.run(max_instructions=int(rng.integers(1, 300)))
        direct += sum(vpn in cpu.tlb.write_pages for vpn in range(0xA0, 0xB0))
        m.frame()
        incremental = np.array(m.vga.surface, copy=True)
        m.vga.invalidate()
        m.vga.update_display()
        assert np.array_equal(incremental, m.vga.surface), "a CPU store missed the display"
    c = cpu.counters.total
    assert c.notdirty_writes >= 12  # each frame's first store to a page marked it again
    assert direct  # the window's pages did get direct write entries between frames
