"""Mode 12h (640x480, 16 colours, 4 planes) drawn the way DOS programs drew it.

* Write mode 2 + the bit mask: the CPU byte is a colour for all four planes at once; the bit
  mask (GR 8) picks which of the byte's 8 pixels change, the others keep the latches, so each
  pixel write first *reads* the byte to load the latches (read-modify-write).
* Write mode 3: the colour comes from set/reset (GR 0); the CPU byte, rotated and ANDed with
  the bit mask, says which pixels get it: one store fills up to 8 pixels of a span.
Recording note: the trace format has no memory-read op, so a recording of this demo carries
its latch-loading reads as comments (see vgaemu/guest.py).
"""

import math

import numpy as np

VGA_WINDOW = 0xA0000
PITCH = 80  # bytes per line: 640 pixels / 8


def gc(guest, index, value):
    """Graphics controller register: index to 0x3CE, value to 0x3CF, in one 16-bit OUT."""
    guest.outw(0x3CE, (value & 0xFF) << 8 | index)


def bands(guest):
    """16 colour bars with write mode 2, whole bytes (bit mask 0xFF: latches unused)."""
    gc(guest, 5, 2)
    gc(guest, 8, 0xFF)
    for c in range(16):
        for y in range(440 + c // 8 * 20, 460 + c // 8 * 20):
            guest.fill(VGA_WINDOW + y * PITCH + 2 + (c % 8) * 9, 9, c)


def pixel(guest, x, y, colour):
    """Write mode 2, one pixel: bit mask = that pixel's bit, latch load, store the colour."""
    addr = VGA_WINDOW + y * PITCH + (x >> 3)
    gc(guest, 8, 0x80 >> (x & 7))
    guest.readb(addr)          # loads the four latches: the other 7 pixels stay as they were
    guest.writeb(addr, colour)


def line(guest, x0, y0, x1, y1, colour):
    n = max(abs(x1 - x0), abs(y1 - y0))
    for i in range(n + 1):
        pixel(guest, x0 + (x1 - x0) * i // n, y0 + (y1 - y0) * i // n, colour)


def disc(guest, cx, cy, r, colour):
    """Write mode 3 spans: set/reset holds the colour, each CPU byte is the pixel mask."""
    gc(guest, 5, 3)
    gc(guest, 8, 0xFF)
    gc(guest, 0, colour)
    for y in range(cy - r, cy + r + 1):
        half = int(math.sqrt(max(r * r - (y - cy) ** 2, 0)) * 1.0)
        x0, x1 = cx - half, cx + half + 1
        bits = np.zeros(640, dtype=np.uint8)
        bits[x0:x1] = 1
        masks = np.packbits(bits)            # MSB = leftmost pixel, as the VGA shifts them out
        for b in np.flatnonzero(masks).tolist():
            addr = VGA_WINDOW + y * PITCH + b
            guest.readb(addr)                # latches keep the neighbours of the span's ends
            guest.writeb(addr, int(masks[b]))
    gc(guest, 5, 2)


def main(guest):
    guest.set_mode(0x12)
    bands(guest)
    for i, (cx, cy, r, c) in enumerate([(170, 150, 90, 1), (250, 210, 80, 4), (140, 260, 60, 14),
                                         (470, 180, 110, 2), (520, 270, 50, 13)]):
        disc(guest, cx, cy, r, c)
        yield
    gc(guest, 5, 2)
    spokes = 48
    for k in range(spokes):                  # a starburst, one spoke per frame
        a = 2 * math.pi * k / spokes
        line(guest, 470, 180, 470 + int(100 * math.cos(a)), 180 + int(100 * math.sin(a)),
             9 + k % 7)
        yield
    gc(guest, 8, 0xFF)
    gc(guest, 5, 0)
