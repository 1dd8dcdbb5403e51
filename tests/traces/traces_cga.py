"""Traces of the CGA-compatible modes 4, 5 and 6.
"""

from __future__ import annotations

from trace_ops import int10, set_cursor, teletype, trace, write, write_pixel


# ---------------------------------------------------------------------------------------------
# CGA-compatible modes 4, 5, 6
# ---------------------------------------------------------------------------------------------
def cga_row_addr(y, bytes_per_row=80):
    return 0xB8000 + (y & 1) * 0x2000 + (y >> 1) * bytes_per_row


def cga2_pattern():
    ops = []
    for y in range(200):
        row = bytearray(80)
        for xb in range(80):
            if y < 64:
                c = (xb // 20) & 3                      # four colour bars
                row[xb] = c * 0x55
            elif y < 128:
                row[xb] = 0x1B if (y & 1) else 0xE4      # pixel order 0,1,2,3 / 3,2,1,0
            else:
                row[xb] = 0xC0 >> (2 * ((xb + y) % 4)) if (xb + y) % 2 == 0 else 0xFF
        ops.append(write(cga_row_addr(y), row))
    return ops


@trace
def t_cga_mode4(ops):
    """Mode 4: 320x200x4 with the even/odd scan-line interleave (B8000 / BA000)."""
    ops += [int10(0x0004)] + cga2_pattern()


@trace
def t_cga_mode5(ops):
    """Mode 5: same memory as mode 4, the BIOS's alternate palette."""
    ops += [int10(0x0005)] + cga2_pattern()


@trace
def t_cga_mode6(ops):
    """Mode 6: 640x200x2 interleaved; stripes, checks and a diagonal."""
    ops += [int10(0x0006)]
    for y in range(200):
        row = bytearray(80)
        for xb in range(80):
            if y < 50:
                row[xb] = 0xFF if (xb // 5) % 2 else 0x00
            elif y < 100:
                row[xb] = 0xAA if (y & 1) else 0x55
            else:
                row[xb] = 0x80 >> ((y - 100) % 8) if xb == (y - 100) // 8 + 10 else (0x0F if xb % 8 == 0 else 0)
        ops.append(write(cga_row_addr(y), row))


@trace
def t_cga_palette_bios(ops):
    """Mode 4 with AH=0Bh: BH=1 BL=0 (palette 0: green/red/brown) and BH=0 BL=11h (blue
    background, intensity bit 4)."""
    ops += [int10(0x0004)] + cga2_pattern()[:64]
    ops += [int10(0x0B00, bx=0x0100), int10(0x0B00, bx=0x0011)]


@trace
def t_cga_write_pixel_text(ops):
    """Mode 4 with AH=0Ch pixels (plain and XOR with colour bit 7) and teletype text in colour 3."""
    ops += [int10(0x0004)]
    for i in range(100):
        ops.append(write_pixel(10 + i, 20 + i // 2, 1 + i % 3))
    for i in range(60):
        ops.append(write_pixel(40 + i, 60, 0x83))
    ops.append(set_cursor(20, 2))
    ops += teletype("CGA text", color=3)
    ops += teletype(" more", color=2)


@trace
def t_cga_mode6_text(ops):
    """Mode 6 teletype text (colour 1) and AH=0Ch pixels."""
    ops += [int10(0x0006)]
    ops += teletype("Mode 6: 640x200 two colours\r\n", color=1)
    for i in range(200):
        ops.append(write_pixel(100 + i * 2, 100 + (i % 50), 1))
