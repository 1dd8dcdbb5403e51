"""The firmware regions of QEMU's ``pc`` machine (hw/i386/x86.c x86_bios_rom_init,
hw/i386/pc.c pc_memory_init), made right after the machine's RAM so their RAMBlocks get
QEMU's places in the ram_addr_t namespace: ``pc.ram``, ``pc.bios``, ``pc.rom``, then the
devices' (``vga.vram``, ``vga.rom``).

- ``pc.bios``: the 256 KiB system BIOS ROM (SeaBIOS's bios-256k.bin size) at the top of
  the 32-bit space, 0xFFFC0000, where the CPU's reset vector points;
- ``isa-bios``: an alias of its top 128 KiB at 0xE0000-0xFFFFF with priority 1 over RAM,
  so real-mode code sees the BIOS at F000:xxxx (the IVT's stubs, vgaemu.cpu.pcbios);
- ``pc.rom``: the 128 KiB option-ROM area 0xC0000-0xDFFFF, read-only, priority 1 over RAM;
  the VGA BIOS ROM (``vga.rom``), mapped later at the same priority, covers its first
  64 KiB (among equal priorities the newest region wins, as in QEMU).

QEMU's PAM registers later shadow these areas with RAM; vgaemu keeps the ROMs mapped
(the i440FX's PAM bytes are stored but have no effect, see vgaemu.pc.pci).
"""

from __future__ import annotations

from guestmem.region import MemoryRegion, memory_region_transaction

PC_BIOS_SIZE = 256 << 10
PC_BIOS_ADDR = (1 << 32) - PC_BIOS_SIZE
ISA_BIOS_SIZE = 128 << 10
ISA_BIOS_ADDR = 0x100000 - ISA_BIOS_SIZE
PC_ROM_MIN_VGA = 0xC0000
PC_ROM_SIZE = 0x20000
#: The VGA BIOS ROM goes over pc.rom's start (where SeaBIOS copies the ROM BAR's image).
VGA_ROM_PRIORITY = 1


class PCFirmwareRegions:
    """``pc.bios`` (+ its ``isa-bios`` alias) and ``pc.rom`` mapped into ``system_memory``."""

    def __init__(self, system_memory: MemoryRegion, ram_list) -> None:
        self.bios = MemoryRegion.rom("pc.bios", PC_BIOS_SIZE, ram_list=ram_list)
        self.option_rom = MemoryRegion.rom("pc.rom", PC_ROM_SIZE, ram_list=ram_list)
        self.isa_bios = MemoryRegion.alias("isa-bios", self.bios, PC_BIOS_SIZE - ISA_BIOS_SIZE,
                                           ISA_BIOS_SIZE)
        with memory_region_transaction():
            system_memory.add_subregion(PC_BIOS_ADDR, self.bios)
            system_memory.add_subregion(ISA_BIOS_ADDR, self.isa_bios, priority=1)
            system_memory.add_subregion(PC_ROM_MIN_VGA, self.option_rom, priority=1)
