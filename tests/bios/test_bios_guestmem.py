"""The BIOS on guestmem address spaces (the real AddressSpace / MemoryRegion / RAMBlock code):
the reference VGA's ports and legacy window as ``io`` regions, RAM and the LFB as ``ram``
regions, so every BIOS access takes the dispatch path the real machine uses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

guestmem = pytest.importorskip("guestmem")

from bios_refvga import LFB, VRAM_SIZE, RefVGA  # noqa: E402
from bios_trace_player import play, read_png  # noqa: E402

from guestmem import (AccessConstraints, AddressSpace, MemoryRegion,  # noqa: E402
                      MemoryRegionOps, RAMList, io_root)

HERE = Path(__file__).resolve().parent
SAMPLE = ["bios_text_mode03", "bios_gfx_mode12", "bios_gfx_mode13", "bios_gfx_mode04",
          "bios_vbe_112_24bpp", "bios_vbe_102_planar", "bios_text_user_font",
          "bios_text_scroll", "bios_info_blocks_mode13", "bios_vbe_edid", "bios_boot_screen"]


class GuestmemMachine:
    def __init__(self) -> None:
        self.ram_list = RAMList()
        vga = self.vga = RefVGA()
        sysmem = MemoryRegion.container("system", 1 << 32)
        ram = MemoryRegion.ram("pc.ram", 32 << 20, ram_list=self.ram_list)
        sysmem.add_subregion(0, ram)
        vram = MemoryRegion.ram("vga.vram", VRAM_SIZE, ram_list=self.ram_list)
        vga.vram = np.asarray(vram.get_ram_ptr())  # the LFB is VRAM itself
        from guestmem import DIRTY_MEMORY_VGA
        vram.set_log(True, DIRTY_MEMORY_VGA)
        sysmem.add_subregion(LFB, vram)
        byte = AccessConstraints(min_access_size=1, max_access_size=1)
        window = MemoryRegion.io("vga-lowmem", 0x20000, MemoryRegionOps(
            read=lambda off, size: vga.mem_readb(off),
            write=lambda off, val, size: vga.mem_writeb(off, val), impl=byte))
        sysmem.add_subregion(0xA0000, window, priority=1)
        io = io_root()
        ports = vga.io
        io.add_subregion(0x3B0, MemoryRegion.io("vga", 0x30, MemoryRegionOps(
            read=lambda off, size: ports.ldub(0x3B0 + off),
            write=lambda off, val, size: ports.stb(0x3B0 + off, val), impl=byte)))
        word = AccessConstraints(min_access_size=1, max_access_size=2, unaligned=True)
        # index at 0x1CE, data at 0x1CF, both taking 16-bit accesses (QEMU's vbe_portio_list)
        io.add_subregion(0x1CE, MemoryRegion.io("vbe", 3, MemoryRegionOps(
            read=lambda off, size: ports.lduw_le(0x1CE + off),
            write=lambda off, val, size: ports.stw_le(0x1CE + off, val),
            valid=word, impl=word)))
        self.address_space_memory = AddressSpace(sysmem, "memory")
        self.address_space_io = AddressSpace(io, "I/O")
        self.lfb_addr = LFB


@pytest.mark.parametrize("name", SAMPLE)
def test_bios_on_guestmem_matches_qemu(name):
    m = GuestmemMachine()
    play(json.loads((HERE / "traces" / f"{name}.json").read_text()), m)
    got = m.vga.render()
    want = read_png(HERE / "golden" / f"{name}.png")
    assert got.shape == want.shape
    diff = np.any(got != want, axis=2)
    assert not diff.any(), f"{int(diff.sum())} pixels differ"


def test_bios_writes_mark_vram_dirty_through_the_lfb():
    from guestmem import DIRTY_MEMORY_VGA
    m = GuestmemMachine()
    from vgaemu.bios import Registers, VGABios
    bios = VGABios(m)
    bios.int10(Registers(ax=0x4F02, bx=0x4112))
    block = m.ram_list.blocks[-1]
    m.ram_list.dirty.reset_dirty_range(block.offset, block.used_length, DIRTY_MEMORY_VGA)
    bios.int10(Registers(ax=0x0E41, bx=0x000F))
    assert m.ram_list.dirty.get_dirty(block.offset, 4096 * 16, DIRTY_MEMORY_VGA)
    assert not m.ram_list.dirty.get_dirty(block.offset + (8 << 20), 4096, DIRTY_MEMORY_VGA)
