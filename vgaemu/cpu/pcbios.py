"""The system BIOS ROM (QEMU's ``pc.bios`` seen through its ``isa-bios`` window below 1 MiB,
vgaemu.pc.memmap): the
real-mode interrupt vector table points into it, at small stubs that trap to Python and
then IRET as guest code.

A guest therefore reaches the machine's VGA BIOS (:mod:`vgaemu.bios`, the same object the
scripted guests call) with a plain ``int 10h`` through IVT entry 10h, and a program that
reads, hooks or chains a vector sees the far pointers a PC has.  Every other vector points
at an IRET, as SeaBIOS's default handlers do.

A stub is ``0F FF nn CF``: ``0F FF`` is UD0 (an undefined opcode on every x86), which the
translator treats as "BIOS service nn" only when it executes from this ROM; anywhere else it
is an ordinary invalid instruction.
"""

from __future__ import annotations

import struct

from vgaemu.bios.registers import Registers

#: The 64 KiB of the BIOS at F000:0000 (the top of ``isa-bios``) the stubs live in.
BIOS_ADDR = 0xF0000
BIOS_SIZE = 0x10000
BIOS_SEG = BIOS_ADDR >> 4
#: SeaBIOS's default interrupt handler (entry_iret_official) is at F000:FF53.
IRET_OFFSET = 0xFF53
STUB_BASE = 0x1000
#: The vectors with a Python service behind them on every machine.
SERVICES = (0x10,)
#: Where :meth:`PCBios.register` puts stubs longer than four bytes.
LONG_STUB_BASE = 0x2000
LONG_STUB_END = 0x8000


def stub_offset(vector: int) -> int:
    return STUB_BASE + 4 * vector


def stub_code(vector: int, before: bytes = b"", after: bytes = b"") -> bytes:
    """A stub's guest code: ``before``, the trap to service ``vector``, ``after``, IRET."""
    return bytes(before) + bytes((0x0F, 0xFF, vector)) + bytes(after) + b"\xCF"


class PCBios:
    """The IVT of one machine and the stubs it points at, in the machine's ``pc.bios``
    ROM (``machine.firmware.bios``), written through the ``isa-bios`` window at F000:0000."""

    def __init__(self, machine):
        self.machine = machine
        #: vector -> (offset of its stub in the ROM, the Python service)
        self.vectors = {v: (stub_offset(v), None) for v in SERVICES}
        self._long_stub_next = LONG_STUB_BASE
        self.region = machine.firmware.bios
        image = bytearray(BIOS_SIZE)
        image[IRET_OFFSET] = 0xCF
        for v in SERVICES:
            image[stub_offset(v):stub_offset(v) + 4] = bytes((0x0F, 0xFF, v, 0xCF))
        machine.address_space_memory.write_rom(BIOS_ADDR, bytes(image))
        self.install_ivt()

    def install_ivt(self) -> None:
        """Point all 256 vectors at the default IRET and the serviced ones at their stubs
        (what SeaBIOS's ivt_init leaves for a boot sector), keeping vectors the VGA BIOS
        set (1Fh/43h fonts)."""
        ivt = bytearray(struct.pack("<HH", IRET_OFFSET, BIOS_SEG) * 256)
        for v, (off, _) in self.vectors.items():
            struct.pack_into("<HH", ivt, 4 * v, off, BIOS_SEG)
        keep = self.machine.read(0, 0x400)
        for v in (0x1F, 0x43):
            if keep[4 * v:4 * v + 4] != b"\0\0\0\0":
                ivt[4 * v:4 * v + 4] = keep[4 * v:4 * v + 4]
        self.machine.write(0, bytes(ivt))

    def register(self, vector: int, handler, code: bytes | None = None) -> int:
        """Put a Python service behind ``vector`` (a platform's INT 13h, 16h...):
        ``handler(cpu)`` runs when the stub's trap executes, with SS:SP at the IRET frame.
        ``code`` is the stub's guest code (``stub_code()`` builds it) when it must do more
        than trap and IRET -- chain INT 1Ch, send an EOI, enable interrupts to wait.
        Points the IVT entry at the stub; returns the stub's offset in the ROM."""
        from .cpu import CPUError
        if isinstance(vector, bool) or not isinstance(vector, int) or not 0 <= vector <= 0xFF:
            raise CPUError(f"BIOS vector {vector!r}: expected 0..0xFF")
        if code is None:
            off = stub_offset(vector)
            code = bytes((0x0F, 0xFF, vector, 0xCF))
        else:
            off = self._long_stub_next
            if off + len(code) > LONG_STUB_END:
                raise CPUError("the BIOS ROM's stub area is full")
            self._long_stub_next += (len(code) + 15) & ~15
        self.machine.address_space_memory.write_rom(BIOS_ADDR + off, bytes(code))
        self.vectors[vector] = (off, handler)
        self.machine.write(4 * vector, struct.pack("<HH", off, BIOS_SEG))
        return off

    def write_rom_bytes(self, offset: int, data: bytes) -> None:
        """Firmware data in the ROM (a table a service points the guest at)."""
        self.machine.address_space_memory.write_rom(BIOS_ADDR + offset, bytes(data))

    def service(self, cpu, vector: int) -> None:
        """Run BIOS service ``vector`` for the guest: registers in and out, and the returned
        FLAGS become the caller's through the IRET frame (SeaBIOS's ``struct bregs``)."""
        entry = self.vectors.get(vector)
        if entry is not None and entry[1] is not None:
            entry[1](cpu)
            return
        if vector != 0x10:
            from .cpu import CPUError
            raise CPUError(f"no BIOS service for INT {vector:02X}h")
        R = cpu.regs
        ss = cpu.seg_base[2]
        sp = R[4] & 0xFFFF
        fl_addr = ss + ((sp + 4) & 0xFFFF)
        flags = cpu._ld(fl_addr, 2)
        regs = Registers(ax=R[0] & 0xFFFF, bx=R[3] & 0xFFFF, cx=R[1] & 0xFFFF,
                         dx=R[2] & 0xFFFF, si=R[6] & 0xFFFF, di=R[7] & 0xFFFF,
                         bp=R[5] & 0xFFFF, es=cpu.seg_sel[0], ds=cpu.seg_sel[3], flags=flags)
        self.machine.bios.handle_10(regs)   # in place: ``regs`` is this call's own
        out = regs
        R[0] = R[0] & 0xFFFF0000 | out.ax
        R[3] = R[3] & 0xFFFF0000 | out.bx
        R[1] = R[1] & 0xFFFF0000 | out.cx
        R[2] = R[2] & 0xFFFF0000 | out.dx
        R[6] = R[6] & 0xFFFF0000 | out.si
        R[7] = R[7] & 0xFFFF0000 | out.di
        R[5] = R[5] & 0xFFFF0000 | out.bp
        cpu.load_seg(0, out.es)
        cpu.load_seg(3, out.ds)
        if out.flags != flags:
            cpu._st(fl_addr, 2, out.flags)
