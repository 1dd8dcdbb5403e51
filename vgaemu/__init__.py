"""vgaemu: a VGA/framebuffer emulator on guestmem, a Python model of QEMU's guest RAM core."""

__version__ = "0.1.0"
