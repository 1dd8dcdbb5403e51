"""The VGA BIOS (INT 10h) of vgaemu: SeaVGABIOS's services, high-level, data in vgaemu/roms/.

    from vgaemu.bios import VGABios, Registers
    bios = VGABios(machine)
    bios.int10(Registers(ax=0x0013))      # set mode 13h, exactly as QEMU's BIOS does
"""

from .registers import BIOSError, Registers, linear
from .vgabios import VGABios

__all__ = ["VGABios", "Registers", "BIOSError", "linear"]
