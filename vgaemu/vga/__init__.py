"""The VGA device: VRAM, the legacy window, the register ports, Bochs VBE and the display.

Built like QEMU's ``-vga std`` (hw/display/vga.c vga_common_init / vga_init, vga-pci.c):

- ``vga.vram``: one RAM region (RAMBlock-backed) with DIRTY_MEMORY_VGA logging on; the
  machine maps it as the linear framebuffer, so plain RAM writes there set the dirty bits
  the display loop reads, with no VGA code running;
- ``vga-lowmem``: the 128 KiB ``io`` region at 0xA0000 doing planar access (vram.py),
  overlapping RAM with priority 1; while chain 4 makes it a plain linear window, an alias
  ``vga.chain4`` of VRAM is mapped over it with priority 2 (QEMU's chain4_alias) and kept in
  step with GR6, SR2, SR4, the graphics controller and the VBE bank;
- the ``vga`` port regions (0x3B4-0x3B5, 0x3BA, 0x3C0-0x3CF, 0x3D4-0x3D5, 0x3DA) and ``vbe``
  (0x1CE-0x1D1) in the I/O space (regs.py, vbe.py);
- ``vga.mmio``: BAR2, the same registers as MMIO at 0xFEBF0000 plus the framebuffer byte
  order (mmio.py);
- the display loop (display.py) reading only the register file and VRAM.
"""

from __future__ import annotations

import os
import re

from guestmem import DIRTY_MEMORY_VGA, AccessConstraints, MemoryRegion, MemoryRegionOps
from guestmem.region import memory_region_transaction

from vgaemu.bios.data import load_tables
from vgaemu.clock import VirtualClock
from vgaemu.compat import Compat
from vgaemu.errors import ConfigError
from vgaemu.vga.display import VGADisplay
from vgaemu.vga.regs import QEMU_DIFFERENCES as REGS_DIFFERENCES
from vgaemu.vga.regs import VBE_PORT_BASE, VBE_PORT_COUNT, VGA_PORT_RANGES, VGARegisters
from vgaemu.vga.state import VBE_DISPI_LFB_PHYSICAL_ADDRESS, VGAState
from vgaemu.vga.mmio import VGA_MMIO_ADDR, build_mmio_bar
from vgaemu.vga.vbe import BochsVBE
from vgaemu.vga.vram import LEGACY_BASE, LEGACY_SIZE, Chain4Window, PlanarMemory
from vgaemu.vga.vram import QEMU_DIFFERENCES as VRAM_DIFFERENCES

MiB = 1 << 20
VGA_DEFAULT_VRAM = 16 * MiB
#: vga_common_init clamps vgamem_mb to 1..512 and rounds it up to a power of two.
VGA_VRAM_MIN_MB, VGA_VRAM_MAX_MB = 1, 512

#: Every hardware-vs-QEMU 7.2 difference on the register/memory side: (what, QEMU function).
QEMU_DIFFERENCES = REGS_DIFFERENCES + VRAM_DIFFERENCES

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_vram_size(value: str | int) -> int:
    """VRAM size in bytes from ``"16M"``, ``"8MiB"``, ``"1G"`` or a byte count.

    Like QEMU's vgamem_mb the size is whole MiB from 1 to 512, rounded up to a power of
    two ("12M" gives 16 MiB, as vga_common_init's pow2ceil); anything else is an error.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"VRAM size {value!r}: expected a string like '16M' or a byte count")
    if isinstance(value, int):
        size = value
    else:
        m = _SIZE_RE.match(value)
        if not m:
            raise ConfigError(f"VRAM size {value!r}: expected a number with an optional K/M/G "
                              "suffix, such as '16M'")
        size = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]
    if size <= 0 or size % MiB:
        raise ConfigError(f"VRAM size {value!r} ({size} bytes): expected a whole number of MiB "
                          f"({VGA_VRAM_MIN_MB}M..{VGA_VRAM_MAX_MB}M)")
    mb = size // MiB
    if not VGA_VRAM_MIN_MB <= mb <= VGA_VRAM_MAX_MB:
        raise ConfigError(f"VRAM size {value!r}: expected {VGA_VRAM_MIN_MB}M..{VGA_VRAM_MAX_MB}M")
    return (1 << (mb - 1).bit_length()) * MiB


class VGA:
    """One standard VGA with Bochs VBE extensions, on a guestmem RAMList.

    ``realize(system_memory, system_io)`` maps it into a machine; until then the regions
    exist but are unmapped (tests may drive ``ports`` / ``window`` directly).
    """

    def __init__(
        self,
        *,
        ram_list,
        vram_size: str | int = VGA_DEFAULT_VRAM,
        clock: VirtualClock | None = None,
        compat: Compat | None = None,
    ) -> None:
        self.vram_size = parse_vram_size(vram_size)
        if compat is not None and not isinstance(compat, Compat):
            raise ConfigError(f"compat={compat!r}: expected a vgaemu.Compat")
        self.compat = compat if compat is not None else Compat.hardware()
        self.clock = clock if clock is not None else VirtualClock()
        self.vram_mr = MemoryRegion.ram("vga.vram", self.vram_size, ram_list=ram_list)
        self.vram_mr.set_log(True, DIRTY_MEMORY_VGA)
        self.vram = self.vram_mr.get_ram_ptr()
        self.state = VGAState(vram=self.vram)

        self.window = PlanarMemory(self.state, set_dirty=self.vram_mr.dirty_setter(),
                                   compat=self.compat)
        self.vbe = BochsVBE(self.state, vbe_size=self.vram_size,
                            memory_access_changed=self.update_memory_access,
                            clear_vram=self._clear_vram)
        self.ports = VGARegisters(self.state, vbe=self.vbe, clock=self.clock,
                                  compat=self.compat,
                                  memory_access_changed=self.update_memory_access)

        byte_io = AccessConstraints(1, 4, unaligned=True)
        self.lowmem = MemoryRegion.io("vga-lowmem", LEGACY_SIZE, MemoryRegionOps(
            read=self.window.read, write=self.window.write, valid=byte_io, impl=byte_io,
            read_block=self.window.read_block, write_block=self.window.write_block))
        self.port_regions: list[tuple[int, MemoryRegion]] = []
        for base, count in VGA_PORT_RANGES:
            rd, wr = self.ports.port_ops(base, count)
            self.port_regions.append((base, MemoryRegion.io("vga", count, MemoryRegionOps(
                read=rd, write=wr, valid=byte_io, impl=byte_io))))
        rd, wr = self.ports.vbe_ops()
        self.vbe_region = MemoryRegion.io("vbe", VBE_PORT_COUNT, MemoryRegionOps(
            read=rd, write=wr, valid=byte_io, impl=byte_io))
        self.mmio_mr = build_mmio_bar(self.ports, self.vbe, self.state, load_tables().edid)
        self.mmio_addr: int | None = None

        self._legacy_space: MemoryRegion | None = None
        self._chain4: tuple[Chain4Window, MemoryRegion] | None = None
        self.lfb_addr: int | None = None
        self.ports.reset()

        self.display = VGADisplay(self.state, self.vram_mr, self.clock, compat=self.compat)

    # ------------------------------------------------------------------ wiring
    def realize(self, system_memory: MemoryRegion, system_io: MemoryRegion,
                lfb_addr: int = VBE_DISPI_LFB_PHYSICAL_ADDRESS,
                mmio_addr: int = VGA_MMIO_ADDR) -> None:
        """Map the legacy window, the ports, the LFB and the MMIO BAR (QEMU vga_init + the
        PCI BARs 0 and 2)."""
        with memory_region_transaction():
            system_memory.add_subregion(LEGACY_BASE, self.lowmem, priority=1)
            for base, mr in self.port_regions:
                system_io.add_subregion(base, mr)
            system_io.add_subregion(VBE_PORT_BASE, self.vbe_region)
            system_memory.add_subregion(lfb_addr, self.vram_mr, priority=1)
            system_memory.add_subregion(mmio_addr, self.mmio_mr, priority=1)
            self.mmio_addr = mmio_addr
            self._legacy_space = system_memory
            self.lfb_addr = lfb_addr
            self.update_memory_access()

    def update_memory_access(self) -> None:
        """Map, move or drop the ``vga.chain4`` alias (QEMU vga_update_memory_access).

        Called after every SR/GR write and VBE bank/enable change, so the alias never
        serves an access that the planar path would answer differently.
        """
        s = self.state
        if self._chain4 is not None:
            s.plane_updated = 0xF  # writes through the alias were not seen: assume all planes
        if self._legacy_space is None:
            return
        want = self.window.chain4_window()
        # Most SR/GR writes (a planar program's bit mask, every time) leave the alias as it
        # is: no transaction then, so no FlatView work and no lock.
        if (self._chain4[0] if self._chain4 is not None else None) == want:
            return
        with memory_region_transaction():
            if self._chain4 is not None:
                self._legacy_space.del_subregion(self._chain4[1])
                self._chain4 = None
            if want is not None:
                alias = MemoryRegion.alias("vga.chain4", self.vram_mr, want.offset, want.size)
                self._legacy_space.add_subregion(want.base, alias, priority=2)
                self._chain4 = (want, alias)
        s.has_chain4_alias = self._chain4 is not None

    def _clear_vram(self, length: int) -> None:
        length = min(length, self.vram_size)
        if length > 0:
            self.vram[:length] = 0
            self.vram_mr.set_dirty(0, length)

    def reset(self) -> None:
        """Power-on state (QEMU vga_common_reset); VRAM contents are kept, as in QEMU."""
        self.ports.reset()
        self.update_memory_access()
        self.display.invalidate()

    # ------------------------------------------------------------------ display facade
    def update_display(self):
        return self.display.update_display()

    def invalidate(self) -> None:
        self.display.invalidate()

    @property
    def surface(self):
        return self.display.surface

    def screendump(self, path: str | os.PathLike) -> None:
        self.display.screendump(path)

    def _repr_png_(self) -> bytes:
        """Jupyter shows the VGA as its current screen."""
        from vgaemu.notebook import png_bytes

        return png_bytes(self.display.surface)

    @property
    def has_chain4_alias(self) -> bool:
        return self._chain4 is not None


__all__ = ["VGA", "QEMU_DIFFERENCES", "parse_vram_size", "VGA_DEFAULT_VRAM"]
