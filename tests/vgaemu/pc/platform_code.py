"""Guest code and a bare PC platform shared by the platform tests: a boot sector's snippet
assembled at 0000:7C00 on a Machine with a PCPlatform (no BIOS POST)."""

from __future__ import annotations

import io

from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform

from .asm import nasm

PIC_INIT = """
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
"""

#: an IRQ 0 handler that writes 'i' to the debug console (and leaves it in AL)
IRQ0_SAYS_I = """
irq0:
    mov al, 'i'
    out 0xe9, al
    mov al, 0x20
    out 0x20, al
    iret
"""


def boot(src, **kw):
    m = Machine()
    out = io.BytesIO()
    pc = PCPlatform(m, output=out, **kw)
    code = nasm(src)
    m.write(0x7C00, code)
    return m, pc, out, code
