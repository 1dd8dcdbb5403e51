"""The std VGA's MMIO BAR (BAR2, ``vga.mmio``): QEMU's hw/display/vga-pci.c.

QEMU's ``-vga std`` has a 4 KiB memory BAR besides the framebuffer; SeaBIOS puts it at
0xFEBF0000 under ``-machine pc -nodefaults``. A guest can program the whole card through it
without port I/O, so a trace that writes there must act as in QEMU:

=========  =====  ======================================================================
offset     size   region (QEMU name): behaviour
=========  =====  ======================================================================
0x000      0x180  ``edid``: the EDID blob, read-only
0x400      0x20   ``vga ioports remapped``: VGA ports 0x3C0-0x3DF; 1-4 byte accesses, a word
                  is two byte writes, low byte (the index) first
0x500      0x16   ``bochs dispi interface``: DISPI register ``offset / 2``, 16 bits wide;
                  every access sets the DISPI index, then reads/writes the data register
0x600      0x8    ``qemu extended regs``: 32-bit accesses only; 0x600 reads the size (8),
                  0x604 the framebuffer byte order (0xBEBEBEBE big, 0x1E1E1E1E little)
rest              ``vga.mmio`` itself (unassigned_io_ops): reads all-ones, writes ignored
=========  =====  ======================================================================

Accesses the ops do not accept (wrong size, unaligned) are dropped by the memory core
(memory_region_access_valid); x86 guests ignore the decode error.
"""

from __future__ import annotations

from guestmem import AccessConstraints, MemoryRegion, MemoryRegionOps
from guestmem.region import unassigned_io_ops

#: Where SeaBIOS maps BAR2 of the only PCI VGA under ``qemu-system-i386 -M pc -nodefaults``.
VGA_MMIO_ADDR = 0xFEBF0000
PCI_VGA_MMIO_SIZE = 0x1000
PCI_VGA_EDID_SIZE = 0x180
PCI_VGA_IOPORT_OFFSET, PCI_VGA_IOPORT_SIZE = 0x400, 0x3E0 - 0x3C0
PCI_VGA_BOCHS_OFFSET, PCI_VGA_BOCHS_SIZE = 0x500, 0x0B * 2
PCI_VGA_QEXT_OFFSET, PCI_VGA_QEXT_SIZE = 0x600, 8
PCI_VGA_QEXT_REG_SIZE, PCI_VGA_QEXT_REG_BYTEORDER = 0, 4
PCI_VGA_QEXT_BIG_ENDIAN, PCI_VGA_QEXT_LITTLE_ENDIAN = 0xBEBEBEBE, 0x1E1E1E1E


def build_mmio_bar(ports, vbe, state, edid: bytes = b"") -> MemoryRegion:
    """The ``vga.mmio`` region with its four subregions (pci_std_vga_mmio_region_init)."""
    mmio = MemoryRegion.io("vga.mmio", PCI_VGA_MMIO_SIZE, unassigned_io_ops)

    def ioport_read(offset: int, size: int) -> int:
        if size == 1:
            return ports.read(0x3C0 + offset)
        return ports.read(0x3C0 + offset) | (ports.read(0x3C1 + offset) << 8)

    def ioport_write(offset: int, value: int, size: int) -> None:
        ports.write(0x3C0 + offset, value & 0xFF)
        if size == 2:
            ports.write(0x3C1 + offset, (value >> 8) & 0xFF)

    def bochs_read(offset: int, size: int) -> int:
        vbe.write_index(offset >> 1)
        return vbe.read_data()

    def bochs_write(offset: int, value: int, size: int) -> None:
        vbe.write_index(offset >> 1)
        vbe.write_data(value & 0xFFFF)

    def qext_read(offset: int, size: int) -> int:
        if offset == PCI_VGA_QEXT_REG_SIZE:
            return PCI_VGA_QEXT_SIZE
        if offset == PCI_VGA_QEXT_REG_BYTEORDER:
            return PCI_VGA_QEXT_BIG_ENDIAN if state.big_endian_fb else PCI_VGA_QEXT_LITTLE_ENDIAN
        return 0

    def qext_write(offset: int, value: int, size: int) -> None:
        if offset == PCI_VGA_QEXT_REG_BYTEORDER:
            if value == PCI_VGA_QEXT_BIG_ENDIAN:
                state.big_endian_fb = True
            elif value == PCI_VGA_QEXT_LITTLE_ENDIAN:
                state.big_endian_fb = False

    blob = bytes(edid[:PCI_VGA_EDID_SIZE])

    def edid_read(offset: int, size: int) -> int:
        return int.from_bytes(blob[offset:offset + size].ljust(size, b"\0"), "little")

    def edid_write(offset: int, value: int, size: int) -> None:
        return None

    def io(name: str, size: int, read, write, valid: tuple, impl: tuple) -> MemoryRegion:
        return MemoryRegion.io(name, size, MemoryRegionOps(
            read=read, write=write, valid=AccessConstraints(*valid), impl=AccessConstraints(*impl)))

    subs = (
        (0, io("edid", PCI_VGA_EDID_SIZE, edid_read, edid_write, (1, 4), (1, 4))),
        (PCI_VGA_IOPORT_OFFSET, io("vga ioports remapped", PCI_VGA_IOPORT_SIZE,
                                   ioport_read, ioport_write, (1, 4), (1, 2))),
        (PCI_VGA_BOCHS_OFFSET, io("bochs dispi interface", PCI_VGA_BOCHS_SIZE,
                                  bochs_read, bochs_write, (1, 4), (2, 2))),
        (PCI_VGA_QEXT_OFFSET, io("qemu extended regs", PCI_VGA_QEXT_SIZE,
                                 qext_read, qext_write, (4, 4), (1, 4))),
    )
    for off, mr in subs:
        mmio.add_subregion(off, mr)
    return mmio
