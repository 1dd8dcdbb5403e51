"""Mode X: unchained 256 colours, two pages flipped with the CRTC start address, and a
status bar that stays put through line compare (the split screen).

Mode X is mode 13h with chain-4 off (sequencer reg 4), the CRTC in byte mode (regs 0x14,
0x17): pixel x lives in plane x & 3 at byte x / 4, so the four planes' 256 KiB hold several
320x200 pages. The guest draws the hidden page, then points the start address (CRTC 0x0C/
0x0D) at it. Below scanline LINE_COMPARE the CRTC restarts at address 0, where the status
bar lives, whatever page is showing.
"""

import numpy as np

from vgaemu.romfile import rom_path

VGA_WINDOW = 0xA0000
PITCH = 80                     # bytes per line in each plane
BAR_ROWS = 16                  # status bar: 16 pixel rows = 32 scanlines (double scan)
BAR_BASE = 0
PAGES = (2048, 2048 + 16000)   # two 320x200 pages, after the bar
LINE_COMPARE = 400 - 2 * BAR_ROWS - 1
FONT = np.unpackbits(np.frombuffer(rom_path("vgafont8.bin").read_bytes(), np.uint8)).reshape(256, 8, 8)


def crtc(guest, index, value):
    guest.outw(0x3D4, (value & 0xFF) << 8 | index)


def unchain(guest):
    guest.outw(0x3C4, 0x0604)          # SR4: chain-4 off, odd/even off
    crtc(guest, 0x14, 0x00)            # underline location: doubleword mode off
    crtc(guest, 0x17, 0xE3)            # mode control: byte mode
    guest.outw(0x3C4, 0x0F02)          # map mask: all planes, to clear all pages
    guest.fill(VGA_WINDOW, 0x10000, 0)


def set_line_compare(guest, line):
    """Line compare is 10 bits: CRTC 0x18, bit 8 in 0x07 bit 4, bit 9 in 0x09 bit 6."""
    guest.outb(0x3D4, 0x07)
    overflow = guest.inb(0x3D5)
    guest.outb(0x3D4, 0x09)
    maxscan = guest.inb(0x3D5)
    crtc(guest, 0x07, (overflow & ~0x10) | ((line >> 8) & 1) << 4)
    crtc(guest, 0x09, (maxscan & ~0x40) | ((line >> 9) & 1) << 6)
    crtc(guest, 0x18, line & 0xFF)


def show(guest, base):
    crtc(guest, 0x0C, base >> 8)
    crtc(guest, 0x0D, base & 0xFF)


def put_image(guest, base, img):
    """A 320-wide image into plane memory: column x to plane x & 3 (4 map-mask writes)."""
    for plane in range(4):
        guest.outw(0x3C4, (1 << plane) << 8 | 0x02)
        guest.write(VGA_WINDOW + base, np.ascontiguousarray(img[:, plane::4]))


def text_image(text, fg, bg, width=320, height=BAR_ROWS):
    img = np.full((height, width), bg, np.uint8)
    for i, ch in enumerate(text[: width // 8]):
        glyph = FONT[ord(ch)]
        cell = img[4:12, 8 * i: 8 * i + 8]
        cell[glyph == 1] = fg
    return img


def main(guest):
    guest.set_mode(0x13)
    unchain(guest)
    set_line_compare(guest, LINE_COMPARE)
    h = 200
    y, x = np.mgrid[0:h, 0:320]
    backdrop = (16 + (x // 20 + y // 20) % 2 * 8 + y // 25).astype(np.uint8)   # BIOS grey ramp
    balls = [[40.0, 50.0, 2.1, 1.3, 40], [200.0, 120.0, -1.7, 2.2, 44], [120.0, 30.0, 1.2, -2.6, 47]]
    frame = 0
    while True:
        page = PAGES[frame % 2]                # draw the page not on screen
        img = backdrop.copy()
        for b in balls:
            b[0] += b[2]
            b[1] += b[3]
            if not 12 <= b[0] <= 308:
                b[2] = -b[2]
            if not 12 <= b[1] <= 172:
                b[3] = -b[3]
            img[(x - b[0]) ** 2 + (y - b[1]) ** 2 < 144] = b[4]
        put_image(guest, page, img)
        show(guest, page)                      # flip
        put_image(guest, BAR_BASE, text_image(f" MODE X  page {frame % 2}  start 0x{page:04X}  frame {frame}",
                                              15, 1))
        frame += 1
        yield
