#!/usr/bin/env python3
"""Write the INT 10h traces of tests/bios/traces/ (the oracle's trace format).

Each trace sets a mode through the BIOS and then uses BIOS services (text output, scrolling,
pixels, palettes, fonts, VBE). Their screenshots from real QEMU (SeaVGABIOS 1.16.2) are the
goldens in tests/bios/golden/ (``python3 tests/bios/make_bios_traces.py --goldens`` regenerates
them where QEMU is installed); tests/bios/test_bios_qemu.py replays them here pixel for pixel.
Every register a service reads is given explicitly, since the oracle leaves others as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRACES = HERE / "traces"
GOLDEN = HERE / "golden"
ORACLE = Path("/work/shared/oracle/oracle.py")


def i10(ax, **kw):
    op = {"op": "int10", "ax": f"0x{ax:04X}"}
    for k in ("bx", "cx", "dx", "si", "di", "bp", "es"):
        op[k] = f"0x{kw.get(k, 0):04X}"
    return op


def cursor_off():
    return i10(0x0100, cx=0x2000)


def tty(text, attr=0x0F):
    return [i10(0x0E00 | ord(c), bx=attr) for c in text]


def put(row, col, page=0):
    return i10(0x0200, bx=page << 8, dx=(row << 8) | col)


def wstr(addr, data: bytes):
    return {"op": "write", "addr": f"0x{addr:X}", "data": data.hex()}


HI = 0x100000  # data for ES:BP / ES:DX pointers: FFFF:0010 and up (A20 on)


def text_demo(cols=80):
    ops = [cursor_off()]
    ops += [put(0, 0)] + tty("Hello from INT 10h AH=0Eh\r\nline two\r\n")
    for a in range(16):
        ops.append(put(3, 2 * a))
        ops.append(i10(0x0900 | 0xDB, bx=a, cx=2))
    ops.append(put(4, 0))
    ops.append(i10(0x0900 | ord("x"), bx=0x1E, cx=cols + 5))  # wraps onto the next row
    ops.append(put(6, 3))
    ops.append(i10(0x0A00 | ord("#"), bx=0, cx=4))
    return ops


def gfx_demo(colors=(1, 2, 3, 4)):
    ops = [put(0, 0)] + tty("BIOS text in gfx\r\n", colors[0])
    ops += tty("second line ", colors[1])
    ops += [put(3, 1)] + [i10(0x0900 | ord("Q"), bx=colors[2], cx=3)]
    ops += [put(4, 1)] + [i10(0x0900 | ord("X"), bx=0x80 | colors[3], cx=2)]  # XOR
    for i in range(40):
        ops.append(i10(0x0C00 | colors[i % 4], bx=0, cx=10 + i, dx=60 + i // 2))
    return ops


def traces():
    t = {"bios_boot_screen": [{"op": "comment",
                               "text": "no mode set: the SeaBIOS boot screen, cursor on row 2"}]}
    for mode in (0, 1, 2, 3, 7):
        cols = 40 if mode < 2 else 80
        t[f"bios_text_mode{mode:02x}"] = [i10(mode)] + text_demo(cols)
    t["bios_text_mode03_cursor"] = [i10(0x0003), put(5, 10)] + tty("cursor here>")
    t["bios_text_cursor_shape"] = [i10(0x0003), i10(0x0100, cx=0x0007), put(2, 4)] + tty("big")
    for mode, colors in ((4, (1, 2, 3, 1)), (5, (1, 2, 3, 3)), (6, (1, 1, 1, 1)),
                         (0x0D, (1, 2, 14, 12)), (0x0E, (9, 10, 11, 12)), (0x0F, (1, 3, 1, 3)),
                         (0x10, (9, 10, 11, 12)), (0x11, (1, 1, 1, 1)), (0x12, (9, 10, 13, 14)),
                         (0x13, (40, 50, 60, 70))):
        t[f"bios_gfx_mode{mode:02x}"] = [i10(mode)] + gfx_demo(colors)
    # scrolling: text window up/down, graphics up/down
    scroll = [i10(0x0003), cursor_off()]
    for r in range(25):
        scroll += [put(r, 0)] + tty(f"row {r:02d} " + "abcdefghij" * 3, 0x07 + (r % 7))
    scroll += [i10(0x0603, bx=0x1E00, cx=0x0205, dx=0x0A30),
               i10(0x0702, bx=0x4F00, cx=0x0C10, dx=0x1440),
               i10(0x0600, bx=0x2A00, cx=0x1500, dx=0x184F)]
    t["bios_text_scroll"] = scroll
    gscroll = [i10(0x0012)]
    for r in range(12):
        gscroll += [put(r, 0)] + tty(f"graphics row {r}", 1 + r % 15)
    gscroll += [i10(0x0602, bx=0x0300, cx=0x0102, dx=0x0820),
                i10(0x0701, bx=0x0500, cx=0x0904, dx=0x0B18)]
    t["bios_gfx12_scroll"] = gscroll
    g13 = [i10(0x0013)]
    for r in range(10):
        g13 += [put(r, 0)] + tty(f"line {r}", 32 + r)
    g13 += [i10(0x0602, bx=0x2800, cx=0x0101, dx=0x0510)]
    t["bios_gfx13_scroll"] = g13
    g4 = [i10(0x0004)]
    for r in range(8):
        g4 += [put(r, 0)] + tty(f"cga {r}", 1 + r % 3)
    g4 += [i10(0x0601, bx=0x0200, cx=0x0000, dx=0x0410), i10(0x0B00, bx=0x0001),
           i10(0x0B00, bx=0x0101)]
    t["bios_gfx04_scroll_palette"] = g4
    # teletype scrolling the whole screen
    tt = [i10(0x0003), cursor_off()]
    for r in range(30):
        tt += tty(f"teletype line {r}\r\n", 0x07)
    t["bios_text_teletype_scroll"] = tt
    # 80x50 and 80x28 (8x14 font) and 40x25 with 8x8
    t["bios_text_80x50"] = [i10(0x0003), i10(0x1112, bx=0), cursor_off()] + \
        [x for r in range(0, 50, 7) for x in [put(r, r)] + tty(f"row {r} of 50")]
    t["bios_text_8x14"] = [i10(0x0003), i10(0x1111, bx=0), cursor_off()] + \
        [x for r in range(0, 28, 5) for x in [put(r, r)] + tty(f"8x14 row {r}")]
    t["bios_text_80x50_cursor"] = [i10(0x0003), i10(0x1112, bx=0), put(10, 10)] + tty("cur")
    # user font (AX=1100h from FFFF:0010) and write string with attributes (AH=13h)
    glyph = bytes([0xFF, 0x81, 0xBD, 0xA5, 0xA5, 0xBD, 0x81, 0xFF] * 2)
    font = glyph * 2
    t["bios_text_user_font"] = [wstr(HI, font), i10(0x0003), cursor_off(),
                                i10(0x1100, bx=0x1000, cx=2, dx=0x41, es=0xFFFF, bp=0x0010),
                                put(1, 1)] + tty("ABCA BAD")
    s = b"".join(bytes([ord(c), 0x10 + i]) for i, c in enumerate("Attributes!"))
    t["bios_text_write_string"] = [wstr(HI, b"Plain string" + s), i10(0x0003), cursor_off(),
                                   i10(0x1300, bx=0x001A, cx=12, dx=0x0203, es=0xFFFF, bp=0x10),
                                   i10(0x1303, bx=0x0000, cx=11, dx=0x0403, es=0xFFFF,
                                       bp=0x10 + 12),
                                   i10(0x1301, bx=0x004E, cx=12, dx=0x184A, es=0xFFFF, bp=0x10)]
    t["bios_gfx12_write_string"] = [wstr(HI, b"Graphic string"), i10(0x0012),
                                    i10(0x1301, bx=0x000E, cx=14, dx=0x0505, es=0xFFFF,
                                        bp=0x10)]
    # palette services
    pal = bytes([0, 4, 2, 6, 1, 5, 3, 7, 0x38, 0x3C, 0x3A, 0x3E, 0x39, 0x3D, 0x3B, 0x3F, 0x01])
    dac = bytes([63, 0, 0, 0, 63, 0, 0, 0, 63, 63, 63, 0])
    t["bios_palette_text"] = [wstr(HI, pal + dac), i10(0x0003), cursor_off()] + \
        [x for a in range(16) for x in (put(a, 0), i10(0x0900 | 0xDB, bx=a | (a << 4),
                                                         cx=20))] + \
        [i10(0x1002, es=0xFFFF, dx=0x10), i10(0x1012, bx=1, cx=4, es=0xFFFF, dx=0x10 + 17),
         i10(0x1000, bx=0x3F0E), i10(0x1010, bx=0x3F, dx=0x2000, cx=0x1030),
         i10(0x1001, bx=0x0300)]
    t["bios_palette_blink_off"] = [i10(0x0003), cursor_off(), put(0, 0),
                                   i10(0x0900 | ord("B"), bx=0xCE, cx=30),
                                   i10(0x1003, bx=0x0000)]
    t["bios_palette_gray"] = [i10(0x0013)] + \
        [i10(0x0C00 | c, bx=0, cx=c, dx=y) for c in range(0, 256, 3) for y in (10, 11, 12)] + \
        [i10(0x101B, bx=0, cx=256)]
    t["bios_palette_pages"] = [i10(0x0013)] + \
        [i10(0x0C00 | c, bx=0, cx=c, dx=20) for c in range(0, 64, 1)] + \
        [i10(0x1013, bx=0x0100), i10(0x1013, bx=0x0001), i10(0x1013, bx=0x0101)]
    t["bios_pelmask"] = [i10(0x0013)] + \
        [i10(0x0C00 | c, bx=0, cx=100 + c // 4, dx=50) for c in range(0, 256, 4)] + \
        [i10(0x1018, bx=0x0F)]
    t["bios_gray_mode"] = [i10(0x1200, bx=0x0033), i10(0x0003), cursor_off()] + text_demo()
    t["bios_nopalette_mode"] = [i10(0x0013), i10(0x1010, bx=0x07, dx=0x3F00, cx=0),
                                i10(0x1200, bx=0x0031), i10(0x0003), cursor_off()] + text_demo()
    # pages
    pg = [i10(0x0003), cursor_off()]
    for p in range(4):
        pg += [put(p, p * 2, page=p), i10(0x0900 | (ord("0") + p), bx=(p << 8) | 0x1F + p, cx=10)]
    pg += [i10(0x0502)]
    t["bios_text_page2"] = pg
    # no-clear mode set
    t["bios_noclear"] = [i10(0x0003), cursor_off(), put(3, 3)] + tty("kept") + \
        [i10(0x0083), cursor_off()]
    t["bios_noclear_gfx"] = [i10(0x0012)] + tty("kept in 12h") + [i10(0x0092)]
    # read pixel loads the latches: AH=0Dh then a write-mode-1 store copies them
    t["bios_readpixel_latches"] = [i10(0x0012), i10(0x0C0E, cx=8, dx=4), i10(0x0C09, cx=9, dx=4),
                                   i10(0x0D00, cx=8, dx=4),
                                   {"op": "outw", "port": "0x3CE", "val": "0x0105"},
                                   {"op": "writeb", "addr": "0xA0000", "val": "0"},
                                   {"op": "writeb", "addr": "0xA0050", "val": "0"},
                                   {"op": "outw", "port": "0x3CE", "val": "0x0005"}]
    # VBE
    for bx, name in ((0x4101, "vbe_101_8bpp"), (0x4111, "vbe_111_16bpp"),
                     (0x4112, "vbe_112_24bpp"), (0x4142, "vbe_142_32bpp"),
                     (0x4110, "vbe_110_15bpp"), (0x0102, "vbe_102_planar"),
                     (0x4100, "vbe_100_8bpp")):
        ops = [i10(0x4F02, bx=bx)]
        ops += [put(1, 2)] + tty("VBE text", 0x0E) + [put(2, 2)] + tty("white", 0x0F)
        ops += [i10(0x0C00 | (i % 16), bx=0, cx=20 + i, dx=100) for i in range(32)]
        t[f"bios_{name}"] = ops
    t["bios_vbe_display_start"] = [i10(0x4F02, bx=0x4101)] + tty("top line", 0x0F) + \
        [i10(0x4F07, bx=0, cx=0, dx=4)]
    t["bios_vbe_scanline"] = [i10(0x4F02, bx=0x4101), i10(0x4F06, bx=0, cx=800)] + \
        tty("wider lines", 0x0F)
    t["bios_vbe_8bit_dac"] = [i10(0x4F02, bx=0x4101), i10(0x4F08, bx=0x0800)] + \
        [i10(0x0C00 | c, bx=0, cx=c, dx=10) for c in range(0, 64)]
    t["bios_vbe_back_to_text"] = [i10(0x4F02, bx=0x4112), i10(0x0003), cursor_off()] + \
        tty("back in text")
    t["bios_vbe_mode13_via_4f02"] = [i10(0x4F02, bx=0x0013)] + tty("via 4F02", 0x0E)
    t["bios_vbe_bank"] = [i10(0x4F02, bx=0x0101), i10(0x4F05, bx=0, dx=1),
                          {"op": "fill", "addr": "0xA0000", "len": 6400, "val": "0x0F"}]
    # Info blocks written to ES:DI become visible when ES:DI points into mode 13h's window:
    # each row of 320 pixels shows the bytes a service stored there.
    def row(r):
        return r * 320
    info = [i10(0x0013),
            i10(0x4F00, es=0xA000, di=row(0)),
            i10(0x4F01, cx=0x0112, es=0xA000, di=row(2)),
            i10(0x4F01, cx=0x0101, es=0xA000, di=row(3)),
            i10(0x4F01, cx=0x0102, es=0xA000, di=row(4)),
            i10(0x4F01, cx=0x0003, es=0xA000, di=row(5)),
            i10(0x4F01, cx=0x0013, es=0xA000, di=row(6)),
            i10(0x4F01, cx=0x4144, es=0xA000, di=row(7)),
            i10(0x4F01, cx=0x0004, es=0xA000, di=row(8)),
            i10(0x1B00, bx=0, es=0xA000, di=row(9)),
            i10(0x1009, es=0xA000, dx=row(10)),
            i10(0x1017, bx=0, cx=100, es=0xA000, dx=row(11)),
            i10(0x1C01, cx=0x0007, es=0xA000, bx=row(14)),
            i10(0x4F04, dx=0x0001, cx=0x000F, es=0xA000, bx=row(18))]
    t["bios_info_blocks_mode13"] = info
    t["bios_info_blocks_vbe"] = [i10(0x4F02, bx=0x0101),
                                 i10(0x4F00, es=0xA000, di=0),
                                 i10(0x4F01, cx=0x0118, es=0xA000, di=640),
                                 i10(0x1B00, bx=0, es=0xA000, di=1280),
                                 i10(0x1C01, cx=0x0007, es=0xA000, bx=1920),
                                 i10(0x4F04, dx=0x0001, cx=0x000F, es=0xA000, bx=3200)]
    # graphics fonts: INT 43h from the caller (AX=1121h), ROM fonts with row counts
    uf = bytes([0x18, 0x3C, 0x7E, 0xFF, 0xFF, 0x7E, 0x3C, 0x18, 0x00, 0x00] * 1) * 256
    t["bios_gfx_user_font"] = [wstr(HI, uf), i10(0x0012),
                               i10(0x1121, bx=0x0000, cx=10, dx=0x0020, es=0xFFFF, bp=0x10),
                               put(2, 2)] + tty("diamonds", 0x0C) + \
        [i10(0x1123, bx=0x0002), put(20, 0)] + tty("8x8 font now, 25 rows", 0x0A) + \
        [i10(0x1122, bx=0x0001), put(12, 0)] + tty("8x14 font", 0x0B)
    t["bios_gfx13_8x16_font"] = [i10(0x0013), i10(0x1124, bx=0x0002), put(3, 1)] + \
        tty("tall 8x16 letters", 0x2C)
    # text fonts: custom 10-line font for 40 rows, second character block via AX=1103h
    tf = bytes([0x00, 0x7E, 0x42, 0x5A, 0x5A, 0x42, 0x7E, 0x00, 0xFF, 0x00]) * 3
    t["bios_text_font_10lines"] = [wstr(HI, tf), i10(0x0003), cursor_off(),
                                   i10(0x1110, bx=0x0A00, cx=3, dx=0x41, es=0xFFFF, bp=0x10)] + \
        [x for r in range(0, 40, 6) for x in [put(r, r)] + tty(f"row {r} ABC")]
    t["bios_text_second_charset"] = [i10(0x0003), cursor_off(), i10(0x1102, bx=0x0001),
                                     i10(0x1103, bx=0x0004)] + \
        [x for a in (0x07, 0x0F, 0x1E, 0x19) for x in [put(a & 0xF, 0),
                                                        i10(0x0900 | ord("W"), bx=a, cx=12)]]
    t["bios_text_font_reload_8x16"] = [i10(0x0003), cursor_off(), i10(0x1112, bx=0),
                                       i10(0x1114, bx=0)] + \
        [x for r in range(0, 25, 4) for x in [put(r, 0)] + tty(f"back to 25 rows: {r}")]
    # cursor emulation: scaled in 80x50, not scaled with emulation off (AX=1201h BL=34h)
    t["bios_cursor_emulation"] = [i10(0x0003), i10(0x0100, cx=0x0607), put(1, 1)] + tty("a")
    t["bios_cursor_emulation_off"] = [i10(0x1200, bx=0x0034), i10(0x0003),
                                      i10(0x0100, cx=0x0003), put(1, 1)] + tty("b") + \
        [i10(0x1201, bx=0x0034)]
    t["bios_cursor_80x50"] = [i10(0x0003), i10(0x1112, bx=0), i10(0x0100, cx=0x0007),
                              put(3, 3)] + tty("c")
    # graphics teletype scrolling the whole screen, AH=0Ah in graphics, CGA mode 6 scroll
    g = [i10(0x0012)]
    for r in range(31):
        g += tty(f"gfx teletype {r}\r\n", 1 + r % 15)
    t["bios_gfx12_teletype_scroll"] = g
    t["bios_gfx_0a_and_xor"] = [i10(0x000D), put(1, 1), i10(0x0A00 | ord("Z"), bx=0x0003, cx=5),
                                put(1, 1), i10(0x0900 | ord("O"), bx=0x0084, cx=3),
                                put(3, 0), i10(0x0900 | 0xDB, bx=0x000F, cx=40),
                                put(3, 2), i10(0x0900 | ord("X"), bx=0x008F, cx=4)]
    g6 = [i10(0x0006)]
    for r in range(25):
        g6 += [put(r, r)] + tty(f"mode6 {r}", 1)
    g6 += [i10(0x0604, bx=0x0000, cx=0x0305, dx=0x1030),
           i10(0x0702, bx=0x0100, cx=0x1200, dx=0x1818)]
    t["bios_gfx06_scroll"] = g6
    g13p = [i10(0x0013)]
    for r in range(25):
        g13p += [put(r, 0)] + tty(f"{r:02d}" + "#" * 20, 16 + r)
    g13p += [i10(0x0703, bx=0x3700, cx=0x0203, dx=0x1410)]
    t["bios_gfx13_scroll_down"] = g13p
    # pages in graphics and 40-column text
    t["bios_text40_page3"] = [i10(0x0001), cursor_off(), put(0, 0, page=3),
                              i10(0x0900 | ord("3"), bx=0x0300 | 0x4E, cx=30),
                              put(5, 5, page=0)] + tty("page zero") + [i10(0x0503)]
    t["bios_gfx0d_page1"] = [i10(0x000D), i10(0x0501), put(2, 2, page=1),
                             i10(0x0900 | ord("P"), bx=0x010E, cx=5)] + tty("tty", 0x0C)
    # palette: single entry, all registers + border, overscan, DAC blocks, color pages
    t["bios_palette_ega_regs"] = [i10(0x0010)] + \
        [x for c in range(16) for x in [put(c, 0), i10(0x0900 | 0xDB, bx=c, cx=30)]] + \
        [i10(0x1000, bx=0x3F01), i10(0x1000, bx=0x0902), i10(0x1000, bx=0x2403),
         i10(0x1000, bx=0x0F15)]
    t["bios_palette_page_mode16"] = [i10(0x0013)] + \
        [i10(0x0C00 | c, bx=0, cx=c * 4, dx=y) for c in range(64) for y in (30,)] + \
        [i10(0x1013, bx=0x0100), i10(0x1013, bx=0x0301), i10(0x0012)] + \
        [x for c in range(16) for x in [put(c, 0), i10(0x0900 | 0xDB, bx=c, cx=10)]] + \
        [i10(0x1013, bx=0x0000), i10(0x1013, bx=0x0201)]
    t["bios_cga_palette_border"] = [i10(0x0005), put(0, 0)] + tty("pal", 3) + \
        [i10(0x0B00, bx=0x0101), i10(0x0B00, bx=0x0014)]
    t["bios_vga_addressing_off"] = [i10(0x0003), cursor_off()] + tty("visible") + \
        [i10(0x1201, bx=0x0032), {"op": "fill", "addr": "0xB8000", "len": 64, "val": "0x4F41",
                                  "unit": 2}, i10(0x1200, bx=0x0032)]
    t["bios_vbe_get_start_and_window"] = [i10(0x4F02, bx=0x0105), i10(0x4F05, bx=0x0000, dx=3),
                                          {"op": "fill", "addr": "0xA0000", "len": 1024,
                                           "val": "0x28"},
                                          i10(0x4F07, bx=0x0080, cx=0, dx=200)]
    t["bios_vbe_scanline_bytes"] = [i10(0x4F02, bx=0x4111), i10(0x4F06, bx=0x0002, cx=2048)] + \
        tty("2048 bytes per line", 0x0E)
    t["bios_vbe_32bpp_scroll"] = [i10(0x4F02, bx=0x4142)] + \
        [x for r in range(32) for x in tty(f"vbe scroll {r}\r\n", 1 + r % 15)]
    t["bios_vbe_noclear"] = [i10(0x4F02, bx=0x4101), {"op": "fill", "lfb": 0, "len": 64000,
                                                        "val": "0x20"},
                             i10(0x4F02, bx=0xC101)]
    t["bios_mode_invalid"] = [i10(0x0003), cursor_off()] + tty("stays") + \
        [i10(0x0009), i10(0x4F02, bx=0x0199)]
    # every VBE mode the BIOS offers up to 1280x1024 (mode set alone: size, clear, palette)
    for mode in (0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x10D, 0x10E,
                 0x10F, 0x110, 0x111, 0x112, 0x113, 0x114, 0x115, 0x116, 0x117, 0x118,
                 0x119, 0x11A, 0x11B, 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146,
                 0x148, 0x149, 0x14A, 0x14B, 0x14C, 0x175, 0x178, 0x17B, 0x17E, 0x181,
                 0x18D, 0x190):
        t[f"bios_vbe_modeset_{mode:03x}"] = [i10(0x4F02, bx=0x4000 | mode)] + \
            tty("mode", 0x0F) + [i10(0x0C0F, bx=0, cx=100, dx=100)]
    # mode sets from states other modes left behind
    t["bios_mode_sequence"] = [i10(0x0013), i10(0x0003), i10(0x0007), i10(0x0012),
                               i10(0x4F02, bx=0x4118), i10(0x1201, bx=0x0030),
                               i10(0x0003), cursor_off()] + tty("after a sequence")
    t["bios_mode7_after_13"] = [i10(0x0013), i10(0x0007), cursor_off()] + text_demo()
    t["bios_mode_after_writeprotect"] = [i10(0x0003), {"op": "outw", "port": "0x3D4",
                                                       "val": "0x8E11"},
                                         i10(0x0012)] + gfx_demo((9, 10, 11, 12))
    t["bios_mode_after_dac8"] = [i10(0x4F02, bx=0x4101), i10(0x4F08, bx=0x0800),
                                 i10(0x0013)] + gfx_demo((40, 41, 42, 43))
    # EDID (AX=4F15h) made visible: a DAC palette with a unique colour per index, then the
    # 128-byte blocks stored into rows of mode 13h
    upal = bytes(b for i in range(256) for b in (i & 63, (i >> 6) & 3, 0))
    t["bios_vbe_edid"] = [wstr(HI, upal), i10(0x0013),
                          i10(0x1012, bx=0, cx=256, es=0xFFFF, dx=0x10),
                          i10(0x4F15, bx=0x0001, dx=0, es=0xA000, di=0),
                          i10(0x4F15, bx=0x0001, dx=1, es=0xA000, di=320),
                          i10(0x4F15, bx=0x0001, dx=2, es=0xA000, di=640)]
    # ROM and BDA contents made visible: AH=13h prints memory (ES:BP) as characters
    def dump(seg, off, n, row):
        return i10(0x1300, bx=0x000F, cx=n, dx=row << 8, es=seg, bp=off)
    t["bios_rom_tables_dump"] = [i10(0x0003), i10(0x1112, bx=0), cursor_off(),
                                 dump(0xC000, 0x0000, 3, 0), dump(0xC000, 0x001E, 3, 1),
                                 dump(0xC000, 0x6820, 28, 2), dump(0xC000, 0x5A30, 66, 3),
                                 dump(0xC000, 0x60E0, 1856, 5), dump(0x0000, 0x007C, 4, 30),
                                 dump(0x0000, 0x010C, 4, 31)]
    # AH=13h AL=2 reads (char, attribute) pairs: each byte shows as a glyph or as colours
    def dump2(seg, off, n, row):
        return i10(0x1302, bx=0x0000, cx=n, dx=row << 8, es=seg, bp=off)
    t["bios_rom_pairs_dump"] = [i10(0x0003), cursor_off(),
                                dump2(0xC000, 0x5C2A, 8, 0), dump2(0xC000, 0x5C2B, 8, 1),
                                dump2(0xC000, 0x99BF, 4, 2), dump2(0xC000, 0x99C0, 4, 3),
                                dump2(0xC000, 0x99C8, 4, 4), dump2(0xC000, 0x5A30, 32, 5)]
    # save/restore video state (AH=1Ch, VBE 4F04h) through a buffer at FFFF:0010
    t["bios_state_restore_text"] = [i10(0x0003), cursor_off()] + tty("saved text state") + \
        [i10(0x1010, bx=0x0001, dx=0x3F00, cx=0x2000),
         i10(0x1C01, cx=0x0007, es=0xFFFF, bx=0x0010), i10(0x0092),
         i10(0x0C0F, bx=0, cx=10, dx=10),
         i10(0x1C02, cx=0x0007, es=0xFFFF, bx=0x0010)]
    t["bios_state_restore_vbe"] = [i10(0x4F02, bx=0xC101)] + tty("vbe state", 0x0E) + \
        [i10(0x4F07, bx=0, cx=0, dx=2),
         i10(0x4F04, dx=0x0001, cx=0x000F, es=0xFFFF, bx=0x0010), i10(0x0083),
         i10(0x4F04, dx=0x0002, cx=0x000F, es=0xFFFF, bx=0x0010)]
    t["bios_bda_dump"] = [i10(0x0012), i10(0x0200, bx=0x0000, dx=0x0305), i10(0x0100, cx=0x0A0B),
                          i10(0x0003), i10(0x1111, bx=0), i10(0x0200, bx=0x0100, dx=0x0203),
                          i10(0x0501), i10(0x0500), cursor_off(),
                          dump(0x0040, 0x0049, 0x1E, 0), dump(0x0040, 0x0084, 7, 2),
                          dump(0x0040, 0x00A8, 4, 3), dump(0x0040, 0x00B9, 5, 4)]
    return t


def main(argv):
    TRACES.mkdir(exist_ok=True)
    GOLDEN.mkdir(exist_ok=True)
    ts = traces()
    for name, ops in ts.items():
        (TRACES / f"{name}.json").write_text("[\n" + ",\n".join(json.dumps(o) for o in ops)
                                             + "\n]\n")
    print(f"{len(ts)} traces in {TRACES}")
    if "--goldens" in argv:
        for name in ts:
            out = GOLDEN / f"{name}.png"
            subprocess.run([sys.executable, str(ORACLE), str(TRACES / f"{name}.json"),
                            str(out)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
