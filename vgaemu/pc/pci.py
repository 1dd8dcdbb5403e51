"""PCI bus 0 of QEMU's ``pc`` machine and configuration mechanism #1 (ports 0xCF8/0xCFC).

Facts from QEMU's hw/pci/pci_host.c, hw/pci/pci.c and a dump of the configuration space
QEMU 7.2 + SeaBIOS 1.16 leave behind (tests/vgaemu/pc/data/README.md):

- 0xCF8 (``pci-conf-idx``, 4 ports): only a 32-bit write at 0xCF8 itself sets the address
  register (enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2); a read of
  any size at any of the four ports returns the register's low bytes (QEMU's
  ``pci_host_config_read`` ignores the offset).
- 0xCFC-0xCFF (``pci-conf-data``): with bit 31 clear reads give all-ones and writes are
  dropped; otherwise the access goes to register ``(address | port & 3) & 0xFF`` of the
  addressed function.  A function nobody implements reads all-ones.
- Each function has 256 bytes of configuration space with a writable mask and a
  write-1-to-clear mask (``pci_init_wmask``/``pci_init_w1cmask``): the command register's
  I/O, memory, bus master, SERR and INTx-disable bits, cache line size, interrupt line and
  all of the device-specific area 0x40-0xFF are writable; status error bits are W1C.
- A memory BAR's writable bits are ``~(size - 1)``, so writing all-ones reads back the size
  mask with the type bits.  After every write to the command register or a BAR the BAR
  mappings are recomputed (``pci_update_mappings``/``pci_bar_address``): a BAR is mapped
  only while the command register's memory-space bit is set (the ROM BAR also needs its
  enable bit), at a non-zero base whose last byte stays below 4 GiB; otherwise its region
  leaves ``address_space_memory``.  Moves are MemoryRegion moves in one transaction, so the
  CPU's map listener flushes its TLB.

The device-specific registers of the i440FX (PAM, SMRAM) and PIIX3 (PIRQ routing, ...)
hold the values SeaBIOS programs and can be written, but have no effect: vgaemu maps its
BIOS ROMs directly and routes no PCI interrupts.
"""

from __future__ import annotations

from collections.abc import Callable

from guestmem.region import (AccessConstraints, MemoryRegion, MemoryRegionOps,
                             memory_region_transaction)

from vgaemu.errors import ConfigError

PCI_CONFIG_SPACE_SIZE = 0x100
PCI_CONFIG_HEADER_SIZE = 0x40

PCI_VENDOR_ID = 0x00
PCI_DEVICE_ID = 0x02
PCI_COMMAND = 0x04
PCI_STATUS = 0x06
PCI_REVISION_ID = 0x08
PCI_CLASS_PROG = 0x09
PCI_CLASS_DEVICE = 0x0A
PCI_CACHE_LINE_SIZE = 0x0C
PCI_HEADER_TYPE = 0x0E
PCI_BASE_ADDRESS_0 = 0x10
PCI_SUBSYSTEM_VENDOR_ID = 0x2C
PCI_SUBSYSTEM_ID = 0x2E
PCI_ROM_ADDRESS = 0x30
PCI_INTERRUPT_LINE = 0x3C
PCI_INTERRUPT_PIN = 0x3D

PCI_COMMAND_IO = 0x0001
PCI_COMMAND_MEMORY = 0x0002
PCI_COMMAND_MASTER = 0x0004
PCI_COMMAND_SERR = 0x0100
PCI_COMMAND_INTX_DISABLE = 0x0400
#: Status bits a guest clears by writing one (pci_init_w1cmask).
PCI_STATUS_W1C = 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000
PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80
PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08
PCI_ROM_ADDRESS_ENABLE = 0x01
#: The expansion ROM BAR is QEMU's region number 6 (PCI_ROM_SLOT).
PCI_ROM_SLOT = 6
#: What SeaBIOS's command register setup leaves on a device with memory BARs
#: (pci_bios_init_device: I/O, memory, SERR).
SEABIOS_COMMAND = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR

#: QEMU's IDs: subsystem of every emulated device that has no own (docs/specs/pci-ids.rst).
PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1AF4
PCI_SUBDEVICE_ID_QEMU = 0x1100

CONFIG_ADDRESS_PORT = 0xCF8
CONFIG_DATA_PORT = 0xCFC
CONFIG_ENABLE = 1 << 31


def pci_devfn(slot: int, function: int) -> int:
    return (slot & 0x1F) << 3 | (function & 7)


def pci_bdf_str(bus: int, devfn: int) -> str:
    return f"{bus:02x}:{devfn >> 3:02x}.{devfn & 7}"


class PCIBar:
    """One memory BAR (or the expansion ROM BAR): the region it maps, at what priority,
    where it is mapped now (``address``, None = unmapped) and who follows its moves."""

    __slots__ = ("index", "region", "size", "prefetchable", "priority", "address",
                 "on_move")

    def __init__(self, index, region, size, prefetchable, priority, on_move):
        self.index = index
        self.region = region
        self.size = size
        self.prefetchable = prefetchable
        self.priority = priority
        self.address: int | None = None
        self.on_move = on_move

    @property
    def config_offset(self) -> int:
        return PCI_ROM_ADDRESS if self.index == PCI_ROM_SLOT else PCI_BASE_ADDRESS_0 + 4 * self.index


class PCIDevice:
    """A PCI function: 256 bytes of configuration space with QEMU's writable and
    write-1-to-clear masks, and its memory BARs.

    ``class_code`` is the 16-bit base class + subclass (0x0300 = VGA), ``prog_if`` the
    programming interface byte.  The initial values of the other registers are what SeaBIOS
    leaves (``command``), and ``extra`` bytes preset the device-specific area.
    """

    def __init__(self, name: str, devfn: int, *, vendor_id: int, device_id: int,
                 class_code: int, revision: int = 0, prog_if: int = 0,
                 subsystem: tuple[int, int] = (PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
                                               PCI_SUBDEVICE_ID_QEMU),
                 multifunction: bool = False, command: int = SEABIOS_COMMAND,
                 status: int = 0, extra: dict[int, int] | None = None) -> None:
        for what, v, hi in (("devfn", devfn, 0xFF), ("vendor_id", vendor_id, 0xFFFE),
                            ("device_id", device_id, 0xFFFF), ("class_code", class_code, 0xFFFF),
                            ("revision", revision, 0xFF), ("prog_if", prog_if, 0xFF)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                raise ConfigError(f"PCI device {name!r}: {what} {v!r}: expected 0..0x{hi:x}")
        self.name = name
        self.devfn = devfn
        self.bus: PCIBus | None = None
        self.config = bytearray(PCI_CONFIG_SPACE_SIZE)
        self.wmask = bytearray(PCI_CONFIG_SPACE_SIZE)
        self.w1cmask = bytearray(PCI_CONFIG_SPACE_SIZE)
        c = self.config
        c[0:2] = vendor_id.to_bytes(2, "little")
        c[2:4] = device_id.to_bytes(2, "little")
        c[PCI_REVISION_ID] = revision
        c[PCI_CLASS_PROG] = prog_if
        c[PCI_CLASS_DEVICE:PCI_CLASS_DEVICE + 2] = class_code.to_bytes(2, "little")
        c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION if multifunction else 0
        c[PCI_SUBSYSTEM_VENDOR_ID:PCI_SUBSYSTEM_VENDOR_ID + 2] = subsystem[0].to_bytes(2, "little")
        c[PCI_SUBSYSTEM_ID:PCI_SUBSYSTEM_ID + 2] = subsystem[1].to_bytes(2, "little")
        c[PCI_COMMAND:PCI_COMMAND + 2] = command.to_bytes(2, "little")
        c[PCI_STATUS:PCI_STATUS + 2] = status.to_bytes(2, "little")
        # pci_init_wmask / pci_init_w1cmask
        wm = (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR
              | PCI_COMMAND_INTX_DISABLE)
        self.wmask[PCI_COMMAND:PCI_COMMAND + 2] = wm.to_bytes(2, "little")
        self.wmask[PCI_CACHE_LINE_SIZE] = 0xFF
        self.wmask[PCI_INTERRUPT_LINE] = 0xFF
        self.wmask[PCI_CONFIG_HEADER_SIZE:] = b"\xFF" * (PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE)
        self.w1cmask[PCI_STATUS:PCI_STATUS + 2] = PCI_STATUS_W1C.to_bytes(2, "little")
        for off, v in (extra or {}).items():
            if not PCI_CONFIG_HEADER_SIZE <= off < PCI_CONFIG_SPACE_SIZE or not 0 <= v <= 0xFF:
                raise ConfigError(f"PCI device {name!r}: preset byte {off!r}={v!r}: expected "
                                  f"an offset 0x40..0xff and a byte")
            c[off] = v
        self.bars: dict[int, PCIBar] = {}

    # ------------------------------------------------------------------ identity
    def _word(self, off: int) -> int:
        return self.config[off] | self.config[off + 1] << 8

    @property
    def vendor_id(self) -> int:
        return self._word(PCI_VENDOR_ID)

    @property
    def device_id(self) -> int:
        return self._word(PCI_DEVICE_ID)

    @property
    def class_code(self) -> int:
        return self._word(PCI_CLASS_DEVICE)

    @property
    def command(self) -> int:
        return self._word(PCI_COMMAND)

    @property
    def bdf(self) -> str:
        return pci_bdf_str(0, self.devfn)

    # ------------------------------------------------------------------ BARs
    def register_bar(self, index: int, region: MemoryRegion, *, size: int | None = None,
                     prefetchable: bool = False, address: int | None = None,
                     on_move: Callable[[int | None], None] | None = None) -> PCIBar:
        """pci_register_bar for a 32-bit memory BAR (``index`` 0-5, or PCI_ROM_SLOT for
        the expansion ROM).  ``region`` is mapped in the bus's memory space: if it already
        is (the machine mapped it before the bus existed), its address and priority are the
        BAR's initial ones; otherwise ``address`` is programmed (and mapped when the
        command register allows).  ``size`` (default: the region's, rounded up to a power
        of two) is what sizing reports.  ``on_move(address or None)`` follows the BAR."""
        if isinstance(index, bool) or index not in (0, 1, 2, 3, 4, 5, PCI_ROM_SLOT):
            raise ConfigError(f"PCI device {self.name!r}: BAR {index!r}: expected 0..5 or "
                              f"{PCI_ROM_SLOT} (the ROM)")
        if index in self.bars:
            raise ConfigError(f"PCI device {self.name!r}: BAR {index} is already registered")
        if size is None:
            size = 1 << max(region.size - 1, 0).bit_length()
        if size < 16 or size & (size - 1) or size > 1 << 31 or size < region.size:
            raise ConfigError(f"PCI device {self.name!r}: BAR {index} size {size!r}: expected a "
                              f"power of two, 16 bytes..2 GiB, covering region {region.name!r}")
        if index == PCI_ROM_SLOT and size < 0x800:
            raise ConfigError(f"PCI device {self.name!r}: ROM BAR size {size:#x}: at least 2 KiB")
        mapped = region.container is not None
        if mapped:
            address = region.addr
            priority = region.priority
        else:
            priority = 1
        if address is not None and (not 0 <= address <= 0xFFFFFFFF or address & (size - 1)):
            raise ConfigError(f"PCI device {self.name!r}: BAR {index} address {address!r}: "
                              f"expected a {size:#x}-aligned 32-bit address")
        bar = PCIBar(index, region, size, prefetchable, priority, on_move)
        bar.address = address if mapped else None
        off = bar.config_offset
        type_bits = PCI_BASE_ADDRESS_MEM_PREFETCH if prefetchable and index != PCI_ROM_SLOT else 0
        wmask = ~(size - 1) & 0xFFFFFFFF
        if index == PCI_ROM_SLOT:
            wmask |= PCI_ROM_ADDRESS_ENABLE
        self.wmask[off:off + 4] = wmask.to_bytes(4, "little")
        if mapped and index == PCI_ROM_SLOT:
            type_bits |= PCI_ROM_ADDRESS_ENABLE
        self.config[off:off + 4] = ((address or 0) | type_bits).to_bytes(4, "little")
        self.bars[index] = bar
        if self.bus is not None:
            self.update_mappings()
        return bar

    def _bar_address(self, bar: PCIBar) -> int | None:
        """pci_bar_address: where ``bar`` must be mapped now, or None."""
        if not self.command & PCI_COMMAND_MEMORY:
            return None
        off = bar.config_offset
        raw = int.from_bytes(self.config[off:off + 4], "little")
        if bar.index == PCI_ROM_SLOT and not raw & PCI_ROM_ADDRESS_ENABLE:
            return None
        base = raw & ~(bar.size - 1) & 0xFFFFFFFF
        last = base + bar.size - 1
        if base == 0 or last >= 0xFFFFFFFF:
            return None
        return base

    def update_mappings(self) -> None:
        """pci_update_mappings: move, map or unmap every BAR whose address changed."""
        space = self.bus.memory if self.bus is not None else None
        if space is None:
            return
        changes = []
        for bar in self.bars.values():
            new = self._bar_address(bar)
            if new != bar.address:
                changes.append((bar, new))
        if not changes:
            return
        with memory_region_transaction():
            for bar, new in changes:
                mr = bar.region
                if mr.container is not None:
                    mr.container.del_subregion(mr)
                if new is not None:
                    space.add_subregion(new, mr, priority=bar.priority)
                bar.address = new
        for bar, new in changes:
            if bar.on_move is not None:
                bar.on_move(new)

    # ------------------------------------------------------------------ config access
    def config_read(self, addr: int, size: int) -> int:
        """pci_default_read_config."""
        return int.from_bytes(self.config[addr:addr + size], "little")

    def config_write(self, addr: int, value: int, size: int) -> None:
        """pci_default_write_config: masked bytes, W1C bits, then the BAR mappings when
        the command register, a BAR or the ROM BAR was touched."""
        c, wm, w1c = self.config, self.wmask, self.w1cmask
        for i in range(size):
            a = addr + i
            b = value >> (8 * i) & 0xFF
            c[a] = (c[a] & ~wm[a] | b & wm[a]) & ~(b & w1c[a]) & 0xFF
        end = addr + size
        if (addr < PCI_COMMAND + 2 and end > PCI_COMMAND
                or addr < PCI_BASE_ADDRESS_0 + 24 and end > PCI_BASE_ADDRESS_0
                or addr < PCI_ROM_ADDRESS + 4 and end > PCI_ROM_ADDRESS):
            self.update_mappings()

    def __repr__(self) -> str:
        return (f"<PCIDevice {self.name} {self.bdf} {self.vendor_id:04x}:{self.device_id:04x} "
                f"class {self.class_code:04x}>")


class PCIBus:
    """Bus 0 behind an i440FX-like host: the functions by devfn, the memory space their
    BARs live in, and configuration mechanism #1 on ``io`` (QEMU's ``pci-conf-idx`` and
    ``pci-conf-data`` regions)."""

    def __init__(self, memory: MemoryRegion, io: MemoryRegion | None = None) -> None:
        self.memory = memory
        self.devices: dict[int, PCIDevice] = {}
        #: the host's CONFIG_ADDRESS register (QEMU PCIHostState.config_reg)
        self.config_reg = 0
        if io is not None:
            any_size = AccessConstraints(1, 4)
            io.add_subregion(CONFIG_ADDRESS_PORT, MemoryRegion.io("pci-conf-idx", 4, MemoryRegionOps(
                read=self._conf_read, write=self._conf_write, valid=any_size, impl=any_size)))
            io.add_subregion(CONFIG_DATA_PORT, MemoryRegion.io("pci-conf-data", 4, MemoryRegionOps(
                read=self._data_read, write=self._data_write, valid=any_size, impl=any_size)))

    def add(self, device: PCIDevice) -> PCIDevice:
        if device.devfn in self.devices:
            raise ConfigError(f"PCI slot {pci_bdf_str(0, device.devfn)} is taken by "
                              f"{self.devices[device.devfn].name!r}; cannot add {device.name!r}")
        if device.bus is not None:
            raise ConfigError(f"PCI device {device.name!r} is already on a bus")
        if device.devfn & 7 and device.devfn & ~7 not in self.devices:
            raise ConfigError(f"PCI device {device.name!r} at {pci_bdf_str(0, device.devfn)}: "
                              f"function 0 of that slot must exist first")
        device.bus = self
        self.devices[device.devfn] = device
        device.update_mappings()
        return device

    def find(self, bus: int, devfn: int) -> PCIDevice | None:
        """pci_find_device: the function at ``bus``/``devfn`` (only bus 0 exists).  A
        function other than 0 is visible only when function 0 says it is multi-function."""
        if bus != 0:
            return None
        dev = self.devices.get(devfn)
        if dev is None or not devfn & 7:
            return dev
        f0 = self.devices.get(devfn & ~7)
        if f0 is None or not f0.config[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MULTI_FUNCTION:
            return None
        return dev

    def functions(self):
        """Every visible function in bus/devfn order (what a scan finds)."""
        return [d for fn, d in sorted(self.devices.items()) if self.find(0, fn) is d]

    def by_name(self, name: str) -> PCIDevice:
        for d in self.devices.values():
            if d.name == name:
                return d
        raise KeyError(name)

    # ------------------------------------------------------------------ host-side access
    def config_read(self, bus: int, devfn: int, reg: int, size: int) -> int:
        """pci_data_read: a function's register, all-ones where there is no function."""
        dev = self.find(bus, devfn)
        if dev is None:
            return (1 << (8 * size)) - 1
        reg &= PCI_CONFIG_SPACE_SIZE - 1
        size = min(size, PCI_CONFIG_SPACE_SIZE - reg)
        return dev.config_read(reg, size)

    def config_write(self, bus: int, devfn: int, reg: int, value: int, size: int) -> None:
        """pci_data_write: writes to a missing function are dropped."""
        dev = self.find(bus, devfn)
        if dev is None:
            return
        reg &= PCI_CONFIG_SPACE_SIZE - 1
        size = min(size, PCI_CONFIG_SPACE_SIZE - reg)
        dev.config_write(reg, value & ((1 << (8 * size)) - 1), size)

    # ------------------------------------------------------------------ 0xCF8 / 0xCFC
    def _conf_read(self, offset: int, size: int) -> int:
        return self.config_reg

    def _conf_write(self, offset: int, value: int, size: int) -> None:
        if offset == 0 and size == 4:
            self.config_reg = value & 0xFFFFFFFF

    def _data_read(self, offset: int, size: int) -> int:
        addr = self.config_reg
        if not addr & CONFIG_ENABLE:
            return 0xFFFFFFFF
        addr |= offset & 3
        return self.config_read(addr >> 16 & 0xFF, addr >> 8 & 0xFF, addr & 0xFF, size)

    def _data_write(self, offset: int, value: int, size: int) -> None:
        addr = self.config_reg
        if addr & CONFIG_ENABLE:
            addr |= offset & 3
            self.config_write(addr >> 16 & 0xFF, addr >> 8 & 0xFF, addr & 0xFF, value, size)


# ---------------------------------------------------------------------------------------
# The functions of QEMU's ``pc`` machine with ``-vga std``, as SeaBIOS leaves them.

#: The DMA engine's IDs: 1af4:10f0 is the first of the IDs docs/specs/pci-ids.rst leaves
#: "available for experimental usage without registration"; class 0880 = other system
#: peripheral (it is no 8237-compatible DMA controller, class 0801).
DMA_ENGINE_VENDOR_ID = 0x1AF4
DMA_ENGINE_DEVICE_ID = 0x10F0
DMA_ENGINE_CLASS = 0x0880
#: Where SeaBIOS puts the std VGA's expansion ROM BAR under QEMU 7.2 pc (not enabled).
VGA_ROM_BAR_ADDR = 0xFEBE0000
#: Where the small BARs begin (the DMA engine's registers at 0xFEB00000).
LOW_BARS_START = 0xFEB00000

#: i440FX registers SeaBIOS programs: DRAMC-area byte 0x57, PAM0-PAM6 (0x59-0x5F) and
#: SMRAM (0x72) -- read back from QEMU 7.2 after SeaBIOS 1.16's POST.
I440FX_SEABIOS_BYTES = {0x57: 0x10, 0x59: 0x10, 0x5A: 0x11, 0x5B: 0x11, 0x5C: 0x11,
                        0x5D: 0x11, 0x5E: 0x11, 0x5F: 0x33, 0x72: 0x0A}
#: PIIX3 registers as QEMU's reset and SeaBIOS leave them: IORT, XBCS, PIRQA-D routing,
#: TOM, MBIRQ0, MBDMA0/1, PCSC, SMICNTL, SMIREQ.
PIIX3_SEABIOS_BYTES = {0x4C: 0x4D, 0x4E: 0x03, 0x60: 0x0A, 0x61: 0x0A, 0x62: 0x0B,
                       0x63: 0x0B, 0x69: 0x02, 0x70: 0x80, 0x76: 0x0C, 0x77: 0x0C,
                       0x78: 0x02, 0xA0: 0x08, 0xA8: 0x0F}
PCI_STATUS_DEVSEL_MEDIUM = 0x0200


def pc_pci_bus(machine) -> PCIBus:
    """Bus 0 of ``machine`` with the i440FX host bridge (00:00.0), the PIIX3 ISA bridge
    (00:01.0), the std VGA (00:02.0: BAR0 = VRAM as the LFB, BAR2 = the MMIO block, ROM
    BAR = the VGA BIOS) and the DMA engine (00:03.0, BAR0 = its registers), with config
    0xCF8/0xCFC on the machine's I/O space.  BAR moves update ``machine.vga.lfb_addr``,
    ``machine.vga.mmio_addr`` and ``machine.dma.base``."""
    bus = PCIBus(machine.system_memory, machine.system_io)
    bus.add(PCIDevice("i440FX", pci_devfn(0, 0), vendor_id=0x8086, device_id=0x1237,
                      class_code=0x0600, revision=0x02, extra=I440FX_SEABIOS_BYTES))
    bus.add(PCIDevice("PIIX3", pci_devfn(1, 0), vendor_id=0x8086, device_id=0x7000,
                      class_code=0x0601, multifunction=True, status=PCI_STATUS_DEVSEL_MEDIUM,
                      extra=PIIX3_SEABIOS_BYTES))
    vga = machine.vga
    dev = PCIDevice("VGA", pci_devfn(2, 0), vendor_id=0x1234, device_id=0x1111,
                    class_code=0x0300, revision=0x02)

    def lfb_moved(addr):
        if addr is not None:
            vga.lfb_addr = addr

    def mmio_moved(addr):
        if addr is not None:
            vga.mmio_addr = addr

    size = vga.vram_mr.size
    if vga.vram_mr.container is not None and vga.vram_mr.addr & (size - 1):
        # A BAR is aligned to its size: a VRAM over 16 MiB cannot sit at 0xFD000000.  Put
        # it where a top-down allocator like SeaBIOS's does: the highest aligned base that
        # ends below the small BARs at 0xFEB00000.
        vga.vram_mr.set_address((LOW_BARS_START - size) & ~(size - 1))
        vga.lfb_addr = vga.vram_mr.addr
    dev.register_bar(0, vga.vram_mr, prefetchable=True, on_move=lfb_moved)
    dev.register_bar(2, vga.mmio_mr, on_move=mmio_moved)
    rom = getattr(machine, "vga_rom", None)
    if rom is not None:
        dev.register_bar(PCI_ROM_SLOT, MemoryRegion.alias("vga.rom-bar", rom, 0, rom.size),
                         address=VGA_ROM_BAR_ADDR)
    bus.add(dev)
    engine = getattr(machine, "dma", None)
    if engine is not None and engine.mmio.container is not None:
        dma_dev = PCIDevice("dma-engine", pci_devfn(3, 0), vendor_id=DMA_ENGINE_VENDOR_ID,
                            device_id=DMA_ENGINE_DEVICE_ID, class_code=DMA_ENGINE_CLASS,
                            revision=0x01)

        def dma_moved(addr):
            if addr is not None:
                engine.base = addr

        dma_dev.register_bar(0, engine.mmio, on_move=dma_moved)
        bus.add(dma_dev)
    return bus
