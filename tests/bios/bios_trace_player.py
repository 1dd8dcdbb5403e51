"""Play the subset of the oracle's trace format the BIOS traces use (int10 included)."""

from __future__ import annotations

import numpy as np

from vgaemu.bios import Registers, VGABios


def _num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def _addr(op, m):
    if "lfb" in op:
        lfb = getattr(m, "lfb_addr", None) or getattr(getattr(m, "vga", None), "lfb_addr", None)
        return (lfb or 0xFD000000) + _num(op["lfb"])
    return _num(op["addr"])


def play(ops, m, bios=None, boot=True):
    """Run ``ops`` on machine ``m``; first the boot screen QEMU shows when a trace starts."""
    if bios is None:
        bios = getattr(m, "bios", None)
        if not isinstance(bios, VGABios):
            bios = VGABios(m)
    if boot:
        bios.boot()
    mem, io = m.address_space_memory, m.address_space_io
    for op in ops:
        kind = op["op"]
        if kind == "int10":
            regs = {k: _num(op[k]) for k in ("ax", "bx", "cx", "dx", "si", "di", "bp", "es")
                    if k in op}
            bios.int10(Registers(**regs))
        elif kind == "outb":
            io.stb(_num(op["port"]), _num(op["val"]))
        elif kind == "outw":
            port, val = _num(op["port"]), _num(op["val"])
            io.stb(port, val & 0xFF)
            io.stb(port + 1, val >> 8)
        elif kind == "inb":
            io.ldub(_num(op["port"]))
        elif kind == "writeb":
            mem.stb(_addr(op, m), _num(op["val"]))
        elif kind == "writew":
            mem.stw_le(_addr(op, m), _num(op["val"]))
        elif kind == "fill":
            unit = _num(op.get("unit", 1))
            val = _num(op["val"]).to_bytes(unit, "little")
            data = val * (_num(op["len"]) // unit)
            addr = _addr(op, m)
            for i in range(0, len(data), 4096):
                mem.write(addr + i, data[i:i + 4096])
        elif kind == "write":
            mem.write(_addr(op, m), bytes.fromhex(op["data"]))
        elif kind in ("comment", "screendump"):
            pass
        else:
            raise AssertionError(f"op {kind!r} not supported by this test player")
    return bios


def read_png(path):
    import os
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame
    surf = pygame.image.load(str(path))
    return np.ascontiguousarray(np.transpose(pygame.surfarray.array3d(surf), (1, 0, 2)))
