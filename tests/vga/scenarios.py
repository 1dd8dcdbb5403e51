"""The display scenarios shared by the VGA tests: each mode programmed register by register.

Each scenario is a list of oracle trace ops (port writes, memory writes), so the same program
also runs in real QEMU (``shared/oracle/oracle.py``).
"""

from __future__ import annotations

import numpy as np

from tests.vga.vgaprog import (
    dac_ops,
    ega_palette,
    font,
    font_load_ops,
    mode_ops,
    outb,
    vbe_ops,
)


def crtc(index: int, value: int) -> list[dict]:
    return [outb(0x3D4, index), outb(0x3D5, value)]


def attr(index: int, value: int) -> list[dict]:
    return [{"op": "inb", "port": 0x3DA}, outb(0x3C0, index), outb(0x3C0, value), outb(0x3C0, 0x20)]


def seq(index: int, value: int) -> list[dict]:
    return [outb(0x3C4, index), outb(0x3C5, value)]


def write(addr: int, data: bytes | np.ndarray) -> dict:
    return {"op": "write", "addr": addr, "data": bytes(np.asarray(data, dtype=np.uint8)).hex()}


def lfb(offset: int, data: bytes | np.ndarray) -> dict:
    return {"op": "write", "lfb": offset, "data": bytes(np.asarray(data, dtype=np.uint8)).hex()}


def default_256_palette() -> list[tuple[int, int, int]]:
    """A palette with distinct, recognisable colours: 16 EGA, a grey ramp, hue ramps."""
    pal = [ega_palette()[i] for i in (0, 1, 2, 3, 4, 5, 20, 7, 56, 57, 58, 59, 60, 61, 62, 63)]
    pal += [(i * 4 + 3 * (i > 7), ) * 3 for i in range(16)]
    for i in range(224):
        h = i % 56
        r = (h * 9) % 64
        g = (63 - h * 7) % 64
        b = (i * 2) % 64
        pal.append((r, g, b))
    return pal


# ---------------------------------------------------------------------------------------
# text

TEXT_LINES = [
    (0, 0, 0x1F, " vgaemu text mode 80x25 -- 9-dot cells, 8x16 font, 16 colours "),
    (2, 2, 0x07, "Foreground:"),
    (6, 2, 0x07, "Background (bit 7 = blink on hardware, bright background in QEMU):"),
    (15, 2, 0x0E, "Box drawing: 9th column repeats for C0-DF (hardware) or B0-DF (QEMU)"),
    (18, 2, 0x8C, "This line blinks on hardware (attribute 8Ch)"),
]


def text_screen_ops(cols: int, rows: int) -> list[dict]:
    cells = np.zeros((rows, cols, 2), dtype=np.uint8)
    cells[:, :, 0] = 0x20
    cells[:, :, 1] = 0x07
    for row, col, a, s in TEXT_LINES:
        s = s[:cols - col]
        cells[row, col:col + len(s), 0] = np.frombuffer(s.encode(), dtype=np.uint8)
        cells[row, col:col + len(s), 1] = a
    if rows > 4:
        for i in range(16):  # 16 foreground colours on black
            cells[3, 2 + i * 3:4 + i * 3, 0] = 0xDB
            cells[3, 2 + i * 3:4 + i * 3, 1] = i
    for i in range(16):  # 16 background colours with white text
        if 2 + i * 3 + 2 < cols:
            cells[7, 2 + i * 3:4 + i * 3, 0] = ord("A") + i
            cells[7, 2 + i * 3:4 + i * 3, 1] = (i << 4) | 0x0F
    for c in range(256):  # every glyph
        r, x = 9 + c // 64, 4 + c % 64
        if x < cols:
            cells[r, x] = (c, 0x0A if c & 1 else 0x0B)
    box = [0xC9, 0xCD, 0xCD, 0xCB, 0xCD, 0xBB, 0xB0, 0xB1, 0xB2, 0xDB, 0xC4, 0xC5, 0xDF, 0xDC]
    cells[13, 4:4 + len(box), 0] = box
    cells[13, 4:4 + len(box), 1] = 0x1E
    cells[14, 4:4 + 30, 0] = 0xC4
    cells[14, 4:4 + 30, 1] = 0x0F
    return [write(0xB8000, cells.reshape(-1))]


def text_ops(mode: int, cols: int, rows: int) -> list[dict]:
    ops = mode_ops(mode)
    ops += dac_ops(0, ega_palette())
    ops += font_load_ops(font(16), 16)
    ops += text_screen_ops(cols, rows)
    ops += crtc(0x0A, 0x0D) + crtc(0x0B, 0x0E)
    pos = 20 * cols + 10
    ops += crtc(0x0E, pos >> 8) + crtc(0x0F, pos & 0xFF)
    return ops


# ---------------------------------------------------------------------------------------
# graphics

def ega_dac() -> list[dict]:
    return dac_ops(0, ega_palette())


def planar_ops(mode: int, width: int, height: int) -> list[dict]:
    """Coloured bands and stripes through the map mask: every plane combination shows."""
    ops = mode_ops(mode) + ega_dac()
    bpl = width // 8
    planes = np.zeros((4, height, bpl), dtype=np.uint8)
    y = np.arange(height)[:, None]
    x = np.arange(bpl)[None, :]
    # 16 vertical bands, shifted per quarter of the screen
    colour = (x * 16 // bpl + (y // (height // 4)) * 5) & 15
    for p in range(4):
        planes[p] = np.where((colour >> p) & 1, 0xFF, 0x00)
    planes[:, :, ::7] ^= np.uint8(0x81)  # thin stripes: pixel-level detail
    diag = (y + x * 8) % 97 < 3
    planes[0][diag[:, :] & True] = 0xAA
    for p in range(4):
        ops += seq(2, 1 << p)
        ops.append(write(0xA0000, planes[p].reshape(-1)))
    ops += seq(2, 0x0F)
    return ops


def cga_ops() -> list[dict]:
    ops = mode_ops(0x04) + ega_dac()
    rows = np.zeros((200, 80), dtype=np.uint8)
    y = np.arange(200)[:, None]
    x = np.arange(80)[None, :]
    col = (x // 20 + y // 50) & 3
    rows[:] = (col * 0x55).astype(np.uint8)
    rows[:, ::9] = 0x1B  # pixels 0,1,2,3 in one byte
    rows[::10, :] = 0xE4
    even = rows[0::2].reshape(-1)
    odd = rows[1::2].reshape(-1)
    return ops + [write(0xB8000, even), write(0xBA000, odd)]


def mode13_image() -> np.ndarray:
    y = np.arange(200)[:, None]
    x = np.arange(320)[None, :]
    img = ((x // 2 + y) & 0xFF).astype(np.uint8)
    img[90:110, 100:220] = 4
    img[:, 0] = 15
    img[199, :] = 14
    return img


def mode13_ops() -> list[dict]:
    return (mode_ops(0x13) + dac_ops(0, default_256_palette())
            + [write(0xA0000, mode13_image().reshape(-1))])


def modex_ops() -> list[dict]:
    ops = mode_ops("X") + dac_ops(0, default_256_palette())
    y = np.arange(240)[:, None]
    x = np.arange(320)[None, :]
    img = (((x ^ y) & 0x3F) + 32).astype(np.uint8)
    img[::30, :] = 15
    img[:, ::40] = 12
    for p in range(4):
        ops += seq(2, 1 << p)
        ops.append(write(0xA0000, img[:, p::4].reshape(-1)))
    return ops + seq(2, 0x0F)


def split_ops() -> list[dict]:
    """Mode 12h with the line-compare split: the top shows VRAM from a start address of 80*100
    (panned down 100 lines), the bottom (after scanline 299) restarts at address 0."""
    ops = planar_ops(0x12, 640, 480)
    start = 80 * 100
    ops += crtc(0x0C, start >> 8) + crtc(0x0D, start & 0xFF)
    lc = 299
    ops += crtc(0x18, lc & 0xFF)
    ops += crtc(0x07, (0x3E & ~0x10) | ((lc >> 4) & 0x10))  # line compare bit 8
    ops += crtc(0x09, (lc >> 3) & 0x40)  # line compare bit 9; max scan line 0
    return ops


# ---------------------------------------------------------------------------------------
# VBE

def vbe_pattern(width: int, height: int) -> np.ndarray:
    """R, G, B (8 bit) ramps with a grid: (height, width, 3)."""
    y = np.arange(height)[:, None]
    x = np.arange(width)[None, :]
    r = (x * 255 // max(width - 1, 1)) + 0 * y
    g = (y * 255 // max(height - 1, 1)) + 0 * x
    b = ((x + y) * 2) & 0xFF
    img = np.stack([r, g, b], axis=-1).astype(np.uint8)
    img[::32, :] = 255
    img[:, ::32] = 255
    img[height // 4:height // 4 + 40, width // 4:width // 4 + 60] = (255, 0, 0)
    return img


def vbe_ops_for(width: int, height: int, bpp: int) -> list[dict]:
    # The palette address source (AR index bit 5) is on, as the BIOS leaves it at boot.
    ops = [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(width, height, bpp)
    img = vbe_pattern(width, height)
    r, g, b = (img[..., i].astype(np.uint32) for i in range(3))
    if bpp == 32:
        data = np.stack([b, g, r, np.zeros_like(r)], axis=-1).astype(np.uint8)
    elif bpp == 24:
        data = np.stack([b, g, r], axis=-1).astype(np.uint8)
    elif bpp == 16:
        v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        data = v.astype("<u2").view(np.uint8)
    elif bpp == 15:
        v = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
        data = v.astype("<u2").view(np.uint8)
    else:
        ops += dac_ops(0, default_256_palette())
        data = ((img[..., 0] >> 3) ^ (img[..., 1] >> 2)).astype(np.uint8)
    ops.append(lfb(0, data.reshape(-1)))
    return ops


SCENARIOS = {
    "text80": lambda: text_ops(0x03, 80, 25),
    "text40": lambda: text_ops(0x01, 40, 25),
    "mode04": cga_ops,
    "mode0d": lambda: planar_ops(0x0D, 320, 200),
    "mode10": lambda: planar_ops(0x10, 640, 350),
    "mode12": lambda: planar_ops(0x12, 640, 480),
    "mode13": mode13_ops,
    "modex": modex_ops,
    "split12": split_ops,
    "vbe640x480x8": lambda: vbe_ops_for(640, 480, 8),
    "vbe640x480x15": lambda: vbe_ops_for(640, 480, 15),
    "vbe640x480x16": lambda: vbe_ops_for(640, 480, 16),
    "vbe640x480x24": lambda: vbe_ops_for(640, 480, 24),
    "vbe640x480x32": lambda: vbe_ops_for(640, 480, 32),
    "vbe1024x768x32": lambda: vbe_ops_for(1024, 768, 32),
}

