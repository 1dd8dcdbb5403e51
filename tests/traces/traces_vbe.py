"""Traces of Bochs VBE (DISPI): depths, virtual screens, banks, the MMIO BAR, VBE BIOS calls.
"""

from __future__ import annotations

from trace_ops import (
    SCRATCH,
    SCRATCH_ES,
    SCRATCH_OFF,
    banked_write,
    cursor_off,
    dac,
    dispi,
    dump,
    fill,
    h,
    int10,
    lfb_fill,
    lfb_write,
    pix,
    pix_bytes,
    put_text,
    trace,
    vbe_set,
    write,
    writeb,
    writel,
    writew,
)


# ---------------------------------------------------------------------------------------------
# Bochs VBE (DISPI)
# ---------------------------------------------------------------------------------------------
def vbe_rgb_test(bpp, W, H, via_lfb=True):
    """Bands of red/green/blue/grey ramps and white/black stripes in direct colour."""
    ops = []
    bypp = (bpp + 7) // 8
    pitch = W * bypp
    band = H // 8
    # ramps: one row blob per band, replicated by writing it on each line of the band
    ramps = []
    for k, (mr, mg, mb) in enumerate([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)]):
        row = b"".join(pix_bytes(bpp, (x * 255 // (W - 1)) * mr, (x * 255 // (W - 1)) * mg,
                                 (x * 255 // (W - 1)) * mb) for x in range(W))
        ramps.append(row)
    for k, row in enumerate(ramps):
        for y in range(k * band, k * band + band, 6):    # every 6th line: keeps traces small
            ops.append(lfb_write(y * pitch, row))
    # solid rectangles
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
              (255, 255, 255), (128, 64, 32)]
    cw = W // 8
    for i, c in enumerate(colors):
        v = pix(bpp, *c)
        for y in range(4 * band + 8, 6 * band):
            off = y * pitch + i * cw * bypp
            if bypp == 3:
                ops.append(lfb_write(off, pix_bytes(bpp, *c) * (cw - 8)))
            else:
                ops.append(lfb_fill(off, (cw - 8) * bypp, v, unit=bypp))
    return ops


@trace
def t_vbe_8bpp_640x480(ops):
    """DISPI 640x480x8 with LFB: the DAC (6-bit) holds a custom palette; bands written through
    the LFB and a pattern through the bank window."""
    ops += vbe_set(640, 480, 8)
    ops += dac(0, [(i // 4, (i * 2) % 64, 63 - i // 4) for i in range(256)])
    for y in range(0, 240):
        ops.append(lfb_fill(y * 640, 640, (y % 256) * 0x01010101, unit=4))
    row = bytes(x & 0xFF for x in range(640))
    st = {}
    for y in range(240, 480, 2):
        ops += banked_write(y * 640, row, st)


@trace
def t_vbe_8bpp_dac8(ops):
    """DISPI 800x600x8 with the 8-bit DAC flag (enable 0x61): DAC values are taken as 8 bits."""
    ops += vbe_set(800, 600, 8, enable=0x61)
    ops += dac(0, [(i, 255 - i, (i * 3) & 255) for i in range(256)])
    for y in range(600):
        ops.append(lfb_fill(y * 800, 800, ((y * 256) // 600) * 0x01010101, unit=4))


@trace
def t_vbe_15bpp_800x600(ops):
    """DISPI 800x600x15 (x1R5G5B5): ramps and colour rectangles through the LFB."""
    ops += vbe_set(800, 600, 15) + vbe_rgb_test(15, 800, 600)


@trace
def t_vbe_16bpp_1024x768(ops):
    """DISPI 1024x768x16 (R5G6B5): ramps and colour rectangles through the LFB."""
    ops += vbe_set(1024, 768, 16) + vbe_rgb_test(16, 1024, 768)


@trace
def t_vbe_24bpp_640x480(ops):
    """DISPI 640x480x24 (B,G,R bytes): ramps and rectangles through the LFB."""
    ops += vbe_set(640, 480, 24) + vbe_rgb_test(24, 640, 480)


@trace
def t_vbe_32bpp_1024x768(ops):
    """DISPI 1024x768x32: ramps, rectangles and a diagonal of dword stores through the LFB."""
    ops += vbe_set(1024, 768, 32) + vbe_rgb_test(32, 1024, 768)
    for i in range(0, 768, 2):
        ops.append({"op": "writel", "lfb": h((i * 1024 + i) * 4), "val": "0xFFFFFF"})


@trace
def t_vbe_32bpp_320x200(ops):
    """DISPI 320x200x32: a small direct-colour mode; per-pixel gradient rows."""
    ops += vbe_set(320, 200, 32)
    for y in range(0, 200, 2):
        row = b"".join(pix_bytes(32, x * 255 // 319, y * 255 // 199, 128) for x in range(320))
        ops.append(lfb_write(y * 320 * 4, row))


def vbe_virtual(bpp, xres, yres, vw, xo, yo):
    bypp = (bpp + 7) // 8
    pitch = vw * bypp
    ops = vbe_set(xres, yres, bpp, virt_w=vw)
    if bpp == 8:
        ops += dac(0, [((i * 7) % 64, (i * 3) % 64, i % 64) for i in range(256)])
    # a grid of tiles over the whole virtual area (yres + yo lines)
    for y in range(0, yres + yo, 4):
        row = bytearray()
        for tx in range(0, vw, 32):
            c = ((tx // 32) * 37 + (y // 32) * 91) & 0xFF
            rgb = ((c * 5) & 255, (c * 11) & 255, (c * 3) & 255)
            px = bytes([c]) if bpp == 8 else pix_bytes(bpp, *rgb)
            row += px * min(32, vw - tx)
        if y % 32 == 0:
            row = bytearray(b"\xff" * len(row))
        ops.append(lfb_write(y * pitch, row))
    ops += dispi(8, xo) + dispi(9, yo)
    return ops


@trace
def t_vbe_virtual_8bpp(ops):
    """Virtual width 1024 at 640x480x8, x offset 64, y offset 40 (start = 40*1024 + 64)."""
    ops += vbe_virtual(8, 640, 480, 1024, 64, 40)


@trace
def t_vbe_virtual_16bpp(ops):
    """Virtual width 1000 at 640x400x16, x offset 100, y offset 30."""
    ops += vbe_virtual(16, 640, 400, 1000, 100, 30)


@trace
def t_vbe_virtual_32bpp(ops):
    """Virtual width 800 at 512x384x32, x offset 33, y offset 17 (odd offsets are fine at 32 bpp)."""
    ops += vbe_virtual(32, 512, 384, 800, 33, 17)


@trace
def t_vbe_virtual_24bpp(ops):
    """Virtual width 704 at 640x360x24, x offset 20, y offset 8."""
    ops += vbe_virtual(24, 640, 360, 704, 20, 8)


@trace
def t_vbe_virtual_15bpp(ops):
    """Virtual width 960 at 800x600x15, x offset 80, y offset 24."""
    ops += vbe_virtual(15, 800, 600, 960, 80, 24)


@trace
def t_vbe_32bpp_1600x1200(ops):
    """DISPI 1600x1200x32 (the largest mode the design names): frame, quadrants and a grid of
    dword stores through the LFB."""
    W, H = 1600, 1200
    ops += vbe_set(W, H, 32)
    for y in range(0, H, 8):
        for q, col in enumerate((0x00C00000, 0x0000C000, 0x000000C0, 0x00C0C0C0)):
            if (y < H // 2) == (q < 2):
                x0 = (q % 2) * (W // 2)
                ops.append(lfb_fill((y * W + x0) * 4, (W // 2) * 4, col, unit=4))
    for x in range(0, W, 100):
        for y in range(0, H, 50):
            ops.append({"op": "writel", "lfb": h((y * W + x) * 4), "val": "0xFFFFFF"})
    ops.append(lfb_fill(0, W * 4, 0x00FFFF00, unit=4))
    ops.append(lfb_fill((H - 1) * W * 4, W * 4, 0x00FFFF00, unit=4))


@trace
def t_vbe_xoffset_unaligned(ops):
    """x offset 6 at 8 bpp: the start address is kept in 4-byte units (QEMU's
    vbe_start_addr >> 2), so the picture starts at offset 4, not 6."""
    ops += vbe_virtual(8, 320, 200, 512, 6, 3)


@trace
def t_vbe_bank_16bpp(ops):
    """800x600x16 drawn only through the 64 KiB bank window (DISPI index 5) at A0000."""
    ops += vbe_set(800, 600, 16, enable=0x01)
    st = {}
    for y in range(0, 600, 6):
        row = b"".join(pix_bytes(16, (x * 255) // 799, (y * 255) // 599, ((x ^ y) & 0xFF)) for x in range(0, 800))
        ops += banked_write(y * 1600, row, st)


@trace
def t_vbe_bank_24bpp(ops):
    """640x480x24 through the bank window: 3-byte pixels straddle the 64 KiB bank boundaries."""
    ops += vbe_set(640, 480, 24, enable=0x01)
    st = {}
    for y in range(0, 480, 5):
        row = b"".join(pix_bytes(24, (x * 255) // 639, 255 - (y * 255) // 479, 96 if (x // 40 + y // 40) % 2 else 200) for x in range(640))
        ops += banked_write(y * 1920, row, st)


@trace
def t_vbe_bank_32bpp_fill(ops):
    """640x480x32: bands through the bank window with rep stosd fills (as the oracle's sample)."""
    ops += vbe_set(640, 480, 32, enable=0x01)
    W = 640
    bank = None
    for y0, y1, col in [(0, 120, 0xFF0000), (120, 240, 0x00FF00), (240, 360, 0x0000FF), (360, 480, 0x808080)]:
        start, end = y0 * W * 4, y1 * W * 4
        while start < end:
            b = start >> 16
            if b != bank:
                ops += dispi(5, b)
                bank = b
            n = min(end, (b + 1) << 16) - start
            ops.append(fill(0xA0000 + (start & 0xFFFF), n, col, unit=4))
            start += n


VGA_MMIO = 0xFEBF0000  # BAR2 of -vga std as SeaBIOS maps it under -M pc -nodefaults


def mmio_dispi(idx, val):
    """A DISPI register write through the MMIO BAR ("bochs dispi interface" at 0x500)."""
    return writew(VGA_MMIO + 0x500 + 2 * idx, val)


@trace
def t_vbe_mmio_bar(ops):
    """The card programmed through its MMIO BAR (vga-pci.c) instead of ports: DISPI registers
    at 0x500 (640x480x32 -> 320x200), the framebuffer byte order at 0x604 (big-endian: 32 bpp
    shows bytes x,R,G,B, 16 bpp is read big-endian with zero low bits; a byte write there is
    refused), VGA ports at 0x400 (DAC entry 0 red); a byte write sets a whole DISPI register
    (8 bpp); an unaligned word at 0x501 is two byte stores (TCG), the second sets XRES 160."""
    ops.append(int10(0x4F02, bx=0x4142))
    ops.append(lfb_fill(0, 640 * 480 * 4, 0x00FF8000, unit=4))
    ops.append(lfb_fill(0, 640 * 20 * 4, 0x000000FF, unit=4))
    ops.append(dump("le32"))
    ops += [mmio_dispi(1, 320), mmio_dispi(2, 200), dump("small")]
    ops += [writel(VGA_MMIO + 0x604, 0xBEBEBEBE), dump("be32")]
    ops += [writeb(VGA_MMIO + 0x604, 0x1E)]
    ops += [mmio_dispi(3, 16)]
    ops += [lfb_fill(y * 640, 640, 0xF8001F07 if y < 100 else 0x07E0FFFF, unit=4)
            for y in range(0, 200, 2)]
    ops += [dump("be16"), writel(VGA_MMIO + 0x604, 0x1E1E1E1E)]
    ops += [writeb(VGA_MMIO + 0x408, 0), writeb(VGA_MMIO + 0x409, 63),
            writeb(VGA_MMIO + 0x409, 0), writeb(VGA_MMIO + 0x409, 0)]
    ops += [writeb(VGA_MMIO + 0x506, 8), writew(VGA_MMIO + 0x501, 0xA000)]


@trace
def t_vbe_bios_modes(ops):
    """VBE through the BIOS: AX=4F02h BX=4101h (640x480x8, LFB) drawn and dumped, then
    BX=4112h (SeaVGABIOS's 640x480x24) drawn with 3-byte pixels on every other line."""
    ops.append(int10(0x4F02, bx=0x4101))
    for y in range(480):
        ops.append(lfb_fill(y * 640, 640, (y // 2) * 0x01010101, unit=4))
    ops.append(dump("m101"))
    ops.append(int10(0x4F02, bx=0x4112))
    for y in range(0, 480, 2):
        c = (255, 128, 0) if y < 240 else (0, 128, 255)
        ops.append(lfb_write(y * 640 * 3, pix_bytes(24, *c) * 640))


@trace
def t_vbe_bios_noclear_bank(ops):
    """AX=4F02h BX=0111h (640x480x16 without LFB: bank window) drawn through banks via the
    DISPI bank register, then BX=C111h (no-clear + LFB) keeps the picture."""
    ops.append(int10(0x4F02, bx=0x0111))
    st = {}
    for y in range(0, 480, 4):
        row = pix_bytes(16, y // 2, 255 - y // 2, 128) * 640
        ops += banked_write(y * 1280, row, st)
    ops.append(dump("banked"))
    ops.append(int10(0x4F02, bx=0xC111))


@trace
def t_vbe_then_text(ops):
    """DISPI 800x600x32 then int10 AX=0003h: the BIOS disables DISPI and text mode returns."""
    ops += vbe_set(800, 600, 32)
    ops.append(lfb_fill(0, 800 * 600 * 4 // 8, 0x00FF00FF, unit=4))
    ops.append(dump("vbe"))
    ops += [int10(0x0003), cursor_off(), put_text(1, 1, "back in text mode", 0x1E)]


@trace
def t_vbe_mode_switches(ops):
    """Geometry changes between VBE modes without clearing (enable 0xC1, noclear): the same
    memory shown at 640x480x32 then 1280x480x16 then 1600x1200x8."""
    ops += vbe_set(640, 480, 32)
    for y in range(0, 480, 1):
        ops.append(lfb_fill(y * 2560, 2560, [0x00FF0000, 0x0000FF00, 0x000000FF, 0x00FFFFFF][(y // 30) % 4], unit=4))
    ops.append(dump("a640"))
    ops += vbe_set(1280, 480, 16, enable=0xC1)
    ops.append(dump("b1280"))
    ops += dac(0, [(0, 0, 32)]) + dac(255, [(63, 63, 0)])
    ops += vbe_set(1600, 1200, 8, enable=0xC1)


@trace
def t_vbe_bios_functions(ops):
    """VBE services beyond 4F02h: 1024x768x8 (4105h), 4F08h DAC width 8, 4F09h palette from
    ES:DI (B,G,R,pad), 4F06h scan line length 1280 pixels, 4F07h display start (64, 32)."""
    ops.append(int10(0x4F02, bx=0x4105))
    ops.append(int10(0x4F08, bx=0x0800))
    pal = b"".join(bytes([(i * 3) & 255, (i * 5) & 255, 255 - i, 0]) for i in range(256))
    ops.append(write(SCRATCH, pal))
    ops.append(int10(0x4F09, bx=0x0000, cx=256, dx=0, es=SCRATCH_ES, di=SCRATCH_OFF))
    ops.append(int10(0x4F06, bx=0x0000, cx=1280))
    for y in range(0, 820, 2):
        row = bytes(((x // 16) + (y // 16) * 3) & 0xFF for x in range(1280))
        ops.append(lfb_write(y * 1280, row))
    ops.append(dump("pitch"))
    ops.append(int10(0x4F07, bx=0x0000, cx=64, dx=32))
