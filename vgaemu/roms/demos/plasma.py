"""Mode 13h plasma: every pixel of every line changes every frame.

The worst case for dirty tracking: all 16 pages of the 320x200 screen are written each
frame, so the display loop redraws all 200 lines anyway (compare with sprites.py, where
only a few lines change).  Run: vgaemu run plasma  (or: vgaemu profile plasma --frames 120)
"""

import numpy as np

W, H = 320, 200
VGA_WINDOW = 0xA0000


def palette():
    """256 colours around a smooth loop: blue -> magenta -> orange -> cyan -> blue (6-bit DAC)."""
    t = np.arange(256) / 256 * 2 * np.pi
    r = 32 + 31 * np.sin(t)
    g = 32 + 31 * np.sin(t + 2 * np.pi / 3)
    b = 32 + 31 * np.sin(t + 4 * np.pi / 3)
    return np.stack([r, g, b], axis=1).astype(np.uint8) & 0x3F


def main(guest):
    guest.set_mode(0x13)          # INT 10h AH=00h: 320x200, 256 colours, chain-4
    guest.set_dac(0, palette())   # all 256 DAC entries through ports 0x3C8/0x3C9
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    t = 0.0
    while True:
        v = (np.sin(x / 16 + t) + np.sin(y / 11 - t * 1.3)
             + np.sin((x + y) / 23 + t * 0.7) + np.sin(np.hypot(x - 160, y - 100) / 9 - t * 2))
        guest.write(VGA_WINDOW, ((v + 4) * 32).astype(np.uint8))  # one 64000-byte store
        t += 0.08
        yield  # one frame
