"""Guests for the migration tests: they write RAM, every DIMM, VRAM and run the DMA engine
continuously, one batch per frame."""

from __future__ import annotations

import numpy as np

PAGE = 4096


def busy_writer(pages_per_frame: int = 64, seed: int = 1):
    """A guest dirtying ``pages_per_frame`` random RAM pages, a DIMM page, a mode 13h band of
    VRAM and (by DMA) a band of the LFB every frame."""

    def main(guest):
        machine = guest.machine
        rng = np.random.default_rng(seed)
        guest.set_mode(0x13)
        ram_pages = (machine.memory.ram_size - 0x200000) // PAGE
        k = 0
        while True:
            for p in rng.integers(0, ram_pages, pages_per_frame):
                guest.write(0x200000 + int(p) * PAGE + (k % 4000), bytes([k & 0xFF, 0x5A]) * 48)
            for d in machine.memory.dimms:
                guest.write(d.addr + int(rng.integers(0, d.size // PAGE)) * PAGE, bytes([k & 0xFF]) * 512)
            guest.write(0xA0000 + (k * 320) % 64000, bytes([(k * 7) & 0xFF]) * 320)
            guest.dma.copy(0x200000 + (k % 64) * PAGE, guest.lfb_base + ((k * 1280) % 60000), 1280)
            k += 1
            guest.frame()
    return main
