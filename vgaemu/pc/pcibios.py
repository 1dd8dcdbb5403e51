"""The real-mode PCI BIOS, INT 1Ah AH=B1h (facts from SeaBIOS's src/pcibios.c), as DOS-era
programs use it to find their card and read its BARs.

Like SeaBIOS, every service goes through configuration mechanism #1, so it leaves the
address register at 0xCF8 pointing where it last looked.  Implemented: B101h installation
check, B102h find device, B103h find class code, B108h-B10Ah read and B10Bh-B10Dh write a
configuration byte/word/dword.  Anything else answers AH=81h (function not supported) with
CF set.  There is no protected-mode (BIOS32) entry point: B101h returns EDI = 0.
"""

from __future__ import annotations

from . import bregs as R
from .pci import CONFIG_ENABLE, PCI_REVISION_ID, PCI_VENDOR_ID, PCIBus

RET_FUNC_NOT_SUPPORTED = 0x81
RET_DEVICE_NOT_FOUND = 0x86
#: "PCI " in EDX after an installation check
PCI_SIGNATURE = 0x20494350
PCI_BIOS_VERSION = 0x0210


def config_read(bus: PCIBus, bdf: int, reg: int, size: int) -> int:
    """SeaBIOS's pci_config_read{b,w,l}: select the dword at 0xCF8, access 0xCFC + reg & 3."""
    bus._conf_write(0, CONFIG_ENABLE | (bdf & 0xFFFF) << 8 | reg & 0xFC, 4)
    return bus._data_read(reg & 3, size) & ((1 << (8 * size)) - 1)


def config_write(bus: PCIBus, bdf: int, reg: int, value: int, size: int) -> None:
    bus._conf_write(0, CONFIG_ENABLE | (bdf & 0xFFFF) << 8 | reg & 0xFC, 4)
    bus._data_write(reg & 3, value & ((1 << (8 * size)) - 1), size)


def _scan(bus: PCIBus):
    """SeaBIOS's foreachbdf over bus 0: functions that answer, in bdf order."""
    for dev in bus.functions():
        yield dev.devfn


def handle_1ab1(bus: PCIBus, cpu) -> None:
    regs = cpu.regs
    al = regs[0] & 0xFF
    bx = regs[3] & 0xFFFF
    di = regs[7] & 0xFFFF
    if al == 0x01:
        R.set_al(cpu, 0x01)            # configuration mechanism #1
        R.set16(cpu, 3, PCI_BIOS_VERSION)
        regs[1] = regs[1] & 0xFFFFFF00  # CL = last bus number (0)
        regs[2] = PCI_SIGNATURE
        regs[7] = 0
        R.ok(cpu)
    elif al in (0x02, 0x03):
        count = regs[6] & 0xFFFF
        if al == 0x02:
            want, reg, shift = (regs[1] & 0xFFFF) << 16 | regs[2] & 0xFFFF, PCI_VENDOR_ID, 0
        else:
            want, reg, shift = regs[1], PCI_REVISION_ID, 8   # ECX as SeaBIOS: all 32 bits
        for bdf in _scan(bus):
            if config_read(bus, bdf, reg, 4) >> shift != want:
                continue
            if count:
                count -= 1
                continue
            R.set16(cpu, 3, bdf)
            R.ok(cpu)
            return
        R.fail(cpu, RET_DEVICE_NOT_FOUND)
    elif al == 0x08:
        regs[1] = regs[1] & 0xFFFFFF00 | config_read(bus, bx, di, 1)
        R.ok(cpu)
    elif al == 0x09:
        R.set16(cpu, 1, config_read(bus, bx, di, 2))
        R.ok(cpu)
    elif al == 0x0A:
        regs[1] = config_read(bus, bx, di, 4)
        R.ok(cpu)
    elif al in (0x0B, 0x0C, 0x0D):
        size = {0x0B: 1, 0x0C: 2, 0x0D: 4}[al]
        config_write(bus, bx, di, regs[1], size)
        R.ok(cpu)
    else:
        R.fail(cpu, RET_FUNC_NOT_SUPPORTED)
