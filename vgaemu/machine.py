"""A PC-like machine built from guestmem: RAM, the VGA and the two address spaces.

Layout as QEMU's ``pc`` machine with ``-vga std`` (``info mtree``), RAMBlocks created in
its order (``-object`` backends, ``pc.ram``, ``pc.bios``, ``pc.rom``, ``vga.vram``,
``vga.rom``):

- ``system`` (container, 2^64 bytes): RAM through MachineMemory (``ram-below-4g`` alias of
  ``pc.ram`` at 0, device memory for pc-dimms when ``maxmem`` is given), ``vga-lowmem`` at
  0xA0000 with priority 1 over RAM (plus the ``vga.chain4`` alias, priority 2, while chain 4
  allows it), the firmware (vgaemu.pc.memmap: ``pc.bios`` 256 KiB at 0xFFFC0000, its top
  128 KiB as ``isa-bios`` at 0xE0000, ``pc.rom`` at 0xC0000-0xDFFFF), ``vga.rom`` (the VGA
  BIOS image, a ``rom`` region) at 0xC0000 over ``pc.rom``, ``vga.vram`` itself at
  0xFD000000 (the LFB, QEMU's BAR0), ``vga.mmio`` at 0xFEBF0000 (BAR2: EDID, VGA ports,
  DISPI registers, framebuffer byte order), ``dma-engine`` (the bus-master DMA engine's
  registers, :attr:`dma`) at 0xFEB00000 (the PC platform's PCI bus, vgaemu.pc.pci, can
  move these BARs);
- ``io`` (64 KiB, unassigned_io_ops: free ports read all-ones): the ``vga`` port ranges
  and ``vbe`` at 0x1CE, the A20 gate (``port92``, and the i8042's ``0x60``/``0x64``).
- the system BIOS the IVT points into (vgaemu.cpu.pcbios) lives in ``pc.bios``; the CPU
  (:attr:`cpu`) runs guest code from any RAM or ROM.

The VGA BIOS (:attr:`bios`, INT 10h) belongs to the machine; it runs its POST the first time
it is used, so a machine driven only through ports keeps the VGA's power-on registers.

Time is virtual: :attr:`clock` advances by one FRAME_NS per :meth:`frame`, so cursor and
blink phases and the retrace bit repeat exactly from run to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from guestmem import (AddressSpace, MemoryRegion, MemTxResult, RAMList, io_root,
                      memory_region_transaction)
from guestmem.errors import GuestMemError
from guestmem.mtree import mtree

from vgaemu import dma
from vgaemu.bios import VGABios
from vgaemu.bios.data import ROM_SEG
from vgaemu.clock import FRAME_NS, VirtualClock
from vgaemu.compat import Compat
from vgaemu.errors import ConfigError, MemoryAccessError, PortAccessError
from vgaemu.mainloop import MainLoop
from vgaemu.vga import VGA, VGA_DEFAULT_VRAM

#: QEMU's "system" region: the whole 64-bit physical address space.
SYSTEM_MEMORY_SIZE = 1 << 64
IO_SPACE_SIZE = 0x10000
_NO_VALUE = object()  # _check_port of an IN: no value to check (None is a bad OUT value)
#: Where the VGA BIOS image is mapped: the start of the PC's option ROM area (C000:0000).
VGA_ROM_ADDR = ROM_SEG << 4


def option_rom_size(image_size: int) -> int:
    """QEMU's pci_add_option_rom: the ROM region is the image rounded up to a power of two."""
    return 1 << max(image_size - 1, 0).bit_length()


class Machine:
    """``Machine(memory="64M", vram="16M", objects=(), devices=(), compat=Compat.hardware())``.

    ``memory``/``objects``/``devices`` take QEMU's ``-m``, ``-object`` and ``-device``
    syntax (guestmem.MachineMemory); ``vram`` is the VGA memory size ("16M", QEMU's
    vgamem_mb); ``compat`` says, row by row, where to follow VGA hardware and where QEMU 7.2
    (:class:`vgaemu.compat.Compat`); ``qemu_compat=True`` is ``compat=Compat.qemu_7_2()``.
    ``cpu`` is the machine's x86 CPU (:class:`vgaemu.cpu.X86CPU`); ``tb_cache=False`` makes
    it decode every instruction each time instead of caching translation blocks, and
    ``ud_on_unimplemented`` turns an unimplemented instruction into #UD (INT 6) in the guest
    instead of an UnimplementedInstruction error.  ``rtc_base`` is the date the RTC shows
    at virtual time 0 (QEMU's ``-rtc base=``: ``"2020-01-01T00:00:00"``, ``"utc"``,
    ``"localtime"``; default the fixed :data:`vgaemu.pc.rtc.DEFAULT_RTC_BASE`).
    """

    def __init__(
        self,
        memory: str | int = "64M",
        vram: str | int = VGA_DEFAULT_VRAM,
        objects: Iterable = (),
        devices: Iterable = (),
        *,
        compat: Compat | None = None,
        qemu_compat: bool = False,
        tb_cache: bool = True,
        ud_on_unimplemented: bool = False,
        rtc_base=None,
    ) -> None:
        from guestmem import MachineMemory

        self.compat = Compat.of(compat, qemu_compat)
        self.clock = VirtualClock()
        self.ram_list = RAMList()
        self.system_memory = MemoryRegion.container("system", SYSTEM_MEMORY_SIZE)
        self.system_io = io_root("io", IO_SPACE_SIZE)
        try:
            self.memory = MachineMemory(memory, ram_list=self.ram_list,
                                        system_memory=self.system_memory,
                                        objects=objects, devices=devices)
        except GuestMemError as e:
            raise ConfigError(f"memory configuration: {e}") from e
        # pc.bios / isa-bios / pc.rom right after the RAM, as pc_memory_init makes them
        from vgaemu.pc.memmap import VGA_ROM_PRIORITY, PCFirmwareRegions
        self.firmware = PCFirmwareRegions(self.system_memory, self.ram_list)
        self.vga = VGA(ram_list=self.ram_list, vram_size=vram, clock=self.clock,
                       compat=self.compat)
        self.vga.realize(self.system_memory, self.system_io)
        self.vga_rom = MemoryRegion.rom("vga.rom", option_rom_size(len(VGABios.rom_image())),
                                        ram_list=self.ram_list)
        self.system_memory.add_subregion(VGA_ROM_ADDR, self.vga_rom, priority=VGA_ROM_PRIORITY)
        self.address_space_memory = AddressSpace(self.system_memory, "memory")
        self.address_space_io = AddressSpace(self.system_io, "I/O")
        self.bios = VGABios(self, post=False)
        self.bios.load_rom(VGA_ROM_ADDR)
        self.dma = None
        # The devices' regions in one transaction: the FlatViews are rendered once at its
        # commit, not once per device (what they write meanwhile lands in RAM and ROM
        # mapped before it).
        with memory_region_transaction():
            self.dma = dma.attach(self)  # the bus-master DMA engine's MMIO block (vgaemu.dma)
            from vgaemu.cpu import X86CPU
            from vgaemu.cpu.a20 import A20Gate
            from vgaemu.cpu.pcbios import PCBios
            self.pc_bios = PCBios(self)
            self.cpu = X86CPU(self, tb_cache=tb_cache, ud_on_unimplemented=ud_on_unimplemented)
            self.a20 = A20Gate(self, self.cpu)
            from vgaemu.pc.i8042 import I8042
            self.i8042 = I8042(self)   # ports 0x60/0x64 and the keyboard (vgaemu.pc.i8042)
            from vgaemu.pc.rtc import MC146818RTC
            self.rtc = MC146818RTC(self, rtc_base)   # ports 0x70/0x71 (vgaemu.pc.rtc)
            self.rtc.init_memory_size(self.memory.below_4g_mem_size,
                                      self.memory.above_4g_mem_size)
        # The BQL, posted work, run state and events (vgaemu.mainloop), and the device-state
        # sections a migration saves (vgaemu.migration.vmstate).
        self.loop = MainLoop()
        self.bql = self.loop.bql
        from vgaemu.migration.vmstate import register_machine_sections

        self.vmstate = register_machine_sections(self)
        from vgaemu.cpu.vmstate import cpu_section

        self.vmstate.register(cpu_section(self.cpu, self.a20))
        self.vmstate.register(self.rtc.vmstate_section())
        from vgaemu.migration.precopy import MigrationState

        self.migration = MigrationState(self)
        self.incoming = None  # an IncomingMigration while started with -incoming
        self.incoming_autostart = True  # QEMU's autostart: `stop` during inmigrate clears it
        self.qmp_servers: list = []
        #: The last display update's UpdateStats (x-vgaemu-query-display).
        self.last_update = None

    # ------------------------------------------------------------------ main loop (BQL)
    def post(self, fn):
        """Run ``fn()`` between guest steps; returns a Future (see vgaemu.mainloop)."""
        return self.loop.post(fn)

    def run_pending(self) -> bool:
        """Call between guest steps: runs posted work, waits while stopped; False = quit."""
        return self.loop.run_pending()

    def driving(self):
        """``with machine.driving():`` around a guest run (holds the BQL)."""
        return self.loop.driving()

    def qmp_listen(self, address, *, wait: bool = False):
        """Serve QMP on ``address`` (``"unix:PATH"``, ``"tcp:HOST:PORT"``, a path, or a
        ``(host, port)`` pair) from a thread beside the guest; returns the QMPServer (its
        ``close()`` stops it). ``wait=True`` returns only once a client has connected."""
        from vgaemu.qmp.server import QMPServer

        server = QMPServer(self, address)
        server.start()
        self.qmp_servers.append(server)
        if wait:
            server.wait_for_client()
        return server

    def incoming_migration(self, uri: str | None = None):
        """Wait for a migration stream (``-incoming URI``; ``None`` = ``-incoming defer``,
        then QMP migrate-incoming gives the URI). With a URI this listens and returns the
        IncomingMigration; call its ``run()`` (blocking) or ``start_thread``."""
        from vgaemu.migration.incoming import IncomingMigration

        self.incoming = IncomingMigration(self, deferred=uri is None)
        if uri is not None:
            self.incoming.listen(uri)
        return self.incoming

    def reset(self) -> None:
        """System reset: the VGA returns to its power-on registers (QEMU vga_reset); RAM,
        VRAM contents and virtual time are kept."""
        self.vga.reset()

    # ------------------------------------------------------------------ time and display
    def frame(self):
        """Advance virtual time by one 60 Hz frame and run the display loop."""
        self.clock.advance(FRAME_NS)
        self.cpu.counters.end_frame()
        self.last_update = self.vga.update_display()
        return self.last_update

    def screendump(self, path) -> None:
        self.vga.screendump(path)

    # Jupyter: the screen, and the memory map and RAM blocks as tables (vgaemu/notebook.py).
    def _repr_png_(self) -> bytes:
        from vgaemu.notebook import png_bytes

        return png_bytes(self.vga.surface)

    def _repr_html_(self) -> str:
        from vgaemu.notebook import machine_html

        return machine_html(self)

    # ------------------------------------------------------------------ introspection
    def mtree(self, flatview: bool = False) -> str:
        """``info mtree`` (``-f`` with ``flatview``) of both address spaces."""
        return mtree([self.address_space_memory, self.address_space_io], flatview=flatview)

    # ------------------------------------------------------------------ port I/O
    def _check_port(self, port: int, size: int, value: Any = _NO_VALUE) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 0xFFFF:
            raise PortAccessError(f"I/O port {port!r}: expected an integer 0..0xFFFF")
        if size not in (1, 2, 4):
            raise PortAccessError(f"I/O access size {size!r}: expected 1, 2 or 4 bytes")
        if port + size > IO_SPACE_SIZE:
            raise PortAccessError(f"I/O port 0x{port:x} with size {size} runs past 0xFFFF")
        if value is not _NO_VALUE and (isinstance(value, bool) or not isinstance(value, int)
                                       or not 0 <= value < 1 << (8 * size)):
            raise PortAccessError(f"value {value!r} for a {size}-byte OUT to port 0x{port:x}: "
                                  f"expected 0..0x{(1 << (8 * size)) - 1:x}")

    def out(self, port: int, value: int, size: int = 1) -> None:
        self._check_port(port, size, value)
        res = self.address_space_io.write(port, value.to_bytes(size, "little"))
        if res != MemTxResult.OK:
            raise PortAccessError(f"OUT to port 0x{port:x} (size {size}) failed: {res!r}")

    def inp(self, port: int, size: int = 1) -> int:
        self._check_port(port, size)
        buf = bytearray(size)
        res = self.address_space_io.read(port, buf)
        if res != MemTxResult.OK:
            raise PortAccessError(f"IN from port 0x{port:x} (size {size}) failed: {res!r}")
        return int.from_bytes(buf, "little")

    def outb(self, port: int, value: int) -> None:
        self.out(port, value, 1)

    def outw(self, port: int, value: int) -> None:
        self.out(port, value, 2)

    def outl(self, port: int, value: int) -> None:
        self.out(port, value, 4)

    def inb(self, port: int) -> int:
        return self.inp(port, 1)

    def inw(self, port: int) -> int:
        return self.inp(port, 2)

    def inl(self, port: int) -> int:
        return self.inp(port, 4)

    # ------------------------------------------------------------------ memory
    def write(self, addr: int, data) -> None:
        """Guest-physical write; raises MemoryAccessError when no region takes it."""
        res = self.address_space_memory.write(addr, data)
        if res != MemTxResult.OK:  # (data was bytes-like, or write raised AccessError)
            raise MemoryAccessError(f"write of {memoryview(data).nbytes} bytes at "
                                    f"0x{addr:x}: {res!r}")

    def read(self, addr: int, n: int) -> bytes:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise MemoryAccessError(f"read length {n!r} at {addr!r}: expected an integer >= 0")
        try:
            buf = bytearray(n)
        except (OverflowError, MemoryError):
            raise MemoryAccessError(f"read of 0x{n:x} bytes at {addr!r}: no host buffer "
                                    "that large") from None
        res = self.address_space_memory.read(addr, buf)
        if res != MemTxResult.OK:
            raise MemoryAccessError(f"read of {n} bytes at 0x{addr:x}: {res!r}")
        return bytes(buf)
