"""A small guest-physical bus for the TLB / TB-cache tests: RAM, a VGA-logged RAM (VRAM),
a ROM, an MMIO region that records its accesses, and an alias of RAM -- built on guestmem
directly, no CPU needed."""

from __future__ import annotations

from guestmem import (DIRTY_MEMORY_VGA, AddressSpace, MemoryRegion, MemoryRegionOps,
                      RAMList)

from vgaemu.cpu.counters import CPUCounters
from vgaemu.cpu.tb import TBCache
from vgaemu.cpu.tlb import SoftTLB

P = 4096
RAM_BASE, RAM_PAGES = 0x0, 64
VRAM_BASE, VRAM_PAGES = 0x100000, 16
ROM_BASE, ROM_PAGES = 0xF0000, 4
MMIO_BASE = RAM_PAGES * P  # right after RAM, so stores can cross into it
ALIAS_BASE, ALIAS_PAGES = 0x200000, 4  # shows RAM pages 0..3 again


class Bus:
    def __init__(self):
        self.ram_list = RAMList()
        self.root = MemoryRegion.container("system", 1 << 32)
        self.ram = MemoryRegion.ram("ram", RAM_PAGES * P, ram_list=self.ram_list)
        self.vram = MemoryRegion.ram("vram", VRAM_PAGES * P, ram_list=self.ram_list)
        self.vram.set_log(True, DIRTY_MEMORY_VGA)
        self.rom = MemoryRegion.rom("rom", ROM_PAGES * P, ram_list=self.ram_list)
        self.mmio_log: list = []
        self.mmio_regs = bytearray(P)
        self.mmio_write_hook = None
        ops = MemoryRegionOps(read=self._mmio_read, write=self._mmio_write)
        self.mmio = MemoryRegion.io("mmio", P, ops)
        self.alias = MemoryRegion.alias("ram-alias", self.ram, 0, ALIAS_PAGES * P)
        self.root.add_subregion(RAM_BASE, self.ram)
        self.root.add_subregion(VRAM_BASE, self.vram)
        self.root.add_subregion(ROM_BASE, self.rom)
        self.root.add_subregion(MMIO_BASE, self.mmio)
        self.root.add_subregion(ALIAS_BASE, self.alias)
        self.as_ = AddressSpace(self.root, "memory")
        self.dirty = self.ram_list.dirty
        self.counters = CPUCounters()
        self.tlb = SoftTLB(self.as_, self.counters)
        self.tb_cache = TBCache(self.as_, self.tlb, self.counters)

    def _mmio_read(self, off, size):
        self.mmio_log.append(("r", off, size))
        return int.from_bytes(self.mmio_regs[off:off + size], "little")

    def _mmio_write(self, off, value, size):
        self.mmio_log.append(("w", off, value, size))
        self.mmio_regs[off:off + size] = value.to_bytes(size, "little")
        if self.mmio_write_hook is not None:
            self.mmio_write_hook(off, value, size)

    def ram_addr(self, paddr: int) -> int:
        fr = self.as_.current_map().lookup(paddr)
        return paddr - fr.ram_addr_delta

    def host(self, paddr: int, n: int = 1) -> bytes:
        fr = self.as_.current_map().lookup(paddr)
        o = paddr - fr.host_delta
        return bytes(fr.host_mv[o:o + n])
