"""Mode 13h palette cycling: the picture is drawn once, then only the DAC changes.

Not one byte of video memory is written after the first frame, yet every frame is a full
redraw: a DAC change recolours every pixel, so the display loop cannot use the dirty
bitmap (QEMU's ``full_update`` on a palette change).  ``vgaemu profile palette_cycle``
shows that cost next to plasma.py, which writes all of VRAM every frame.
"""

import numpy as np

W, H = 320, 200
VGA_WINDOW = 0xA0000


def rainbow(n):
    """n 6-bit RGB colours around the hue circle."""
    h = np.arange(n) / n * 6
    r = np.clip(np.abs(h - 3) - 1, 0, 1)
    g = np.clip(2 - np.abs(h - 2), 0, 1)
    b = np.clip(2 - np.abs(h - 4), 0, 1)
    return (np.stack([r, g, b], axis=1) * 63).astype(np.uint8)


def main(guest):
    guest.set_mode(0x13)
    y, x = np.mgrid[0:H, 0:W]
    cx, cy = x - W / 2, (y - H / 2) * 1.2
    # A tunnel: colour index from angle and inverse distance; entries 1..255 cycle, 0 stays black.
    angle = (np.arctan2(cy, cx) / (2 * np.pi) + 0.5) * 255
    depth = 2048 / (np.hypot(cx, cy) + 8)
    picture = (1 + (angle + depth).astype(np.int64) % 255).astype(np.uint8)
    picture[np.hypot(cx, cy) < 12] = 0
    guest.write(VGA_WINDOW, picture)   # the only VRAM write of the run
    colours = rainbow(255)
    shift = 0
    while True:
        guest.set_dac(1, np.roll(colours, shift, axis=0))   # 765 port writes, no VRAM writes
        shift += 3
        yield
