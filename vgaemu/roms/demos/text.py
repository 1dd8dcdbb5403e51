"""Text mode 3 (80x25, 9-dot cells): colours, box drawing, blinking text and the cursor.

Text memory at 0xB8000 holds one 16-bit word per cell: character in the low byte,
attribute in the high byte (foreground bits 0-3, background bits 4-6, bit 7 = blink with
the attribute controller's blink enable, as the BIOS sets it).  Only the cells that change
(the frame counter, the spinner, blinking cells, the cursor) are redrawn each frame.
"""

import numpy as np

TEXT = 0xB8000
COLS, ROWS = 80, 25


#: Code page 437 glyphs 1-31 (Python's cp437 codec maps those bytes to control characters).
LOW_GLYPHS = {"☺": 1, "☻": 2, "♥": 3, "♦": 4, "♣": 5, "♠": 6, "♪": 13, "♫": 14, "☼": 15, "►": 16}


def cells(text, attr):
    """A row of cells: CP437 characters with one attribute."""
    codes = [LOW_GLYPHS.get(ch) or ch.encode("cp437")[0] for ch in text]
    chars = np.array(codes, dtype=np.uint16)
    return chars | np.uint16(attr << 8)


def put(guest, row, col, text, attr):
    guest.write(TEXT + 2 * (row * COLS + col), cells(text, attr))


def box(guest, top, left, height, width, attr, title=""):
    """A double-line box (glyphs 0xC9 0xCD 0xBB 0xBA 0xC8 0xBC): the line-graphics range
    whose 9th column repeats the 8th, so horizontal lines join up."""
    inner = width - 2
    put(guest, top, left, "╔" + "═" * inner + "╗", attr)
    for r in range(top + 1, top + height - 1):
        put(guest, r, left, "║" + " " * inner + "║", attr)
    put(guest, top + height - 1, left, "╚" + "═" * inner + "╝", attr)
    if title:
        put(guest, top, left + (width - len(title) - 2) // 2, f" {title} ", attr)


def main(guest):
    guest.set_mode(0x03)
    guest.fill(TEXT, COLS * ROWS * 2, 0x1720, unit=2)   # grey on blue, spaces
    box(guest, 1, 2, 23, 76, 0x1F, "vgaemu text mode")
    put(guest, 3, 6, "16 foreground colours on 8 backgrounds:", 0x1E)
    for bg in range(8):
        row = "".join(f"{fg:X}" for fg in range(16))
        guest.write(TEXT + 2 * ((5 + bg) * COLS + 6),
                    cells(" " + " ".join(row) + " ", 0) | np.uint16(bg << 12))
        for fg in range(16):   # recolour each digit with its own foreground
            guest.writeb(TEXT + 2 * ((5 + bg) * COLS + 7 + 2 * fg) + 1, bg << 4 | fg)
    box(guest, 4, 44, 9, 30, 0x1B, "shades")
    put(guest, 6, 47, "░░░░▒▒▒▒▓▓▓▓████", 0x1B)
    put(guest, 7, 47, "┌──┬──┐ ╓─╥─╖ ╒═╤═╕", 0x1A)
    put(guest, 8, 47, "├──┼──┤ ╟─╫─╢ ╞═╪═╡", 0x1A)
    put(guest, 9, 47, "└──┴──┘ ╙─╨─╜ ╘═╧═╛", 0x1A)
    put(guest, 10, 47, "♥ ♦ ♣ ♠ ☺ ☻ ♪ ♫ ☼ ►", 0x1C)
    put(guest, 15, 6, " BLINKING ", 0xCE)             # bit 7 set: blinks on hardware
    put(guest, 15, 18, "<- blinks (QEMU 7.2: bright background)", 0x17)
    put(guest, 17, 6, "Type here: ", 0x1F)
    guest.set_cursor_shape(12, 15)                  # a half-block cursor
    spinner = "|/-\\"
    frame = 0
    col = 17
    while True:
        put(guest, 21, 6, f"frame {frame:6d} {spinner[frame // 4 % 4]}", 0x1E)
        for key in guest.keys():                    # window key presses echo in the box
            if 32 <= key < 127 and col < 72:
                put(guest, 17, col, chr(key), 0x1F)
                col += 1
        guest.set_cursor(17, col)
        frame += 1
        yield
