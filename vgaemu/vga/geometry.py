"""Mode geometry: what the display loop derives from the VGA registers, once per change.

The registers are the model; a :class:`GraphicsGeometry` or :class:`TextGeometry` is its
compiled form (as a FlatView is for the MemoryRegion tree): the display loop rebuilds it only
when :func:`geometry_key` changes and reads it on every frame. The rules are QEMU 7.2's
(hw/display/vga.c: ``vga_get_resolution``, ``vga_get_offsets``, ``vga_get_text_resolution``,
the addressing loop of ``vga_draw_graphic``), with VRAM in QEMU's planar layout: plane ``p`` of
planar address ``a`` is VRAM byte ``4*a + p``, so chain-4 and VBE modes read VRAM linearly.

Where QEMU departs from VGA hardware the hardware rule is the default and the machine's
:class:`~vgaemu.compat.Compat` policy selects QEMU's, row by row (see :data:`HARDWARE_VS_QEMU`).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from guestmem import TARGET_PAGE_BITS

from ..compat import Compat
from .render import Drawer
from .state import (
    AR_MODE,
    AR_PEL,
    AR_PLANE_ENABLE,
    CR_H_DISP,
    CR_LINE_COMPARE,
    CR_MAX_SCAN,
    CR_MODE,
    CR_OFFSET,
    CR_OVERFLOW,
    CR_PRESET_ROW,
    CR_START_HI,
    CR_START_LO,
    CR_UNDERLINE,
    CR_V_DISP_END,
    CR_V_TOTAL,
    GR_MISC,
    GR_MODE,
    SR_CHARACTER_MAP,
    SR_CLOCK_MODE,
    VBE_DISPI_8BIT_DAC,
    VBE_DISPI_ENABLED,
    VBE_DISPI_INDEX_BPP,
    VBE_DISPI_INDEX_ENABLE,
    VBE_DISPI_INDEX_XRES,
    VBE_DISPI_INDEX_YRES,
    VGAState,
)

#: Largest text screen QEMU draws (CH_ATTR_SIZE in vga_int.h).
CH_ATTR_SIZE = 160 * 100
#: VGA hardware's CRTC addresses 64K planar locations (256 KiB of VRAM).
VGA_PLANAR_WRAP_BYTES = 256 * 1024


def crtc_wrap_bytes(s: VGAState) -> int:
    """Where the hardware CRTC's addresses wrap, in bytes of VRAM as laid out here.

    VRAM keeps QEMU's packed layout: chain-4 byte ``n`` is planar address ``n >> 2`` and
    odd/even byte ``n`` is ``n >> 1``, where the hardware stores them at ``n & ~3`` and
    ``n & ~1`` of a 64 KiB plane and the CRTC shifts its counter left by 2 (doubleword
    mode, CR14 bit 6) or 1 (word mode, CR17 bit 6 clear) to match. The shifted counter
    wraps at 64K, so in the packed layout doubleword mode wraps after 16K planar addresses
    (64 KiB of VRAM), word mode after 32K (128 KiB), byte mode after 64K (256 KiB).
    """
    if s.cr[CR_UNDERLINE] & 0x40:
        span = VGA_PLANAR_WRAP_BYTES // 4
    elif not s.cr[CR_MODE] & 0x40:
        span = VGA_PLANAR_WRAP_BYTES // 2
    else:
        span = VGA_PLANAR_WRAP_BYTES
    return min(s.vram_size, span)

#: Every way this renderer's default (hardware) behaviour differs from QEMU 7.2's; the
#: :class:`~vgaemu.compat.Compat` fields select the right-hand side.
HARDWARE_VS_QEMU = (
    ("text blink", "AR10 bit 3 set: attribute bit 7 blinks the character (16 frames on, 16 off) "
     "and the background has 8 colours", "never blinks; bit 7 is always background intensity"),
    ("9th column", "repeats column 8 for glyphs 0xC0-0xDF when AR10 bit 2 is set",
     "repeats it for 0xB0-0xDF"),
    ("40-column text", "9-dot cells doubled to 18 pixels (720x400 for mode 1)",
     "16-pixel cells (640x400)"),
    ("underline", "attribute fg=x001 bg=x000 draws the scanline CR14 in the foreground colour "
     "(mode 7)", "no underline"),
    ("cursor blink", "8 frames on, 8 off (1/16 of the frame rate), from virtual time",
     "toggles every 266 ms, starting visible at the first draw after a mode change"),
    ("PEL mask 0x3C6", "ANDed with every pixel's DAC index", "ignored"),
    ("horizontal pel panning AR13", "shifts graphics modes left by 0-7 dots "
     "and text left (9-dot text: AR13 = 8 is no shift, 0-7 shift 1-8 dots); AR10 bit 5 keeps "
     "the part below line compare unpanned",
     "ignored"),
    ("screen off SR1 bit 5", "blanks the display", "ignored"),
    ("text double scan CR9 bit 7", "each character scanline shown twice", "ignored"),
    ("CRTC address wrap (VGA modes)", "addresses wrap at the 64 KiB plane: 256 KiB of VRAM "
     "in byte mode, 128 KiB in word mode, 64 KiB in doubleword mode (mode 13h)",
     "wrap at the VRAM size (16 MiB)"),
    ("character rows (text)", "a last row cut by the vertical display end is shown in part",
     "whole rows only"),
    ("blank (AR index bit 5 clear)", "the overscan colour at the mode's size",
     "black at the last size; the console's placeholder if nothing was drawn yet"),
    ("preset row scan CR8 (text)", "the picture starts CR8 & 0x1F scanlines into the first "
     "character row (smooth scrolling)", "ignored"),
    ("line compare in text mode", "splits at the exact scanline; the lower part starts at "
     "address 0 with row scan 0", "splits between character rows (the row after the one "
     "that reaches line compare restarts at address 0)"),
    ("cursor skew CR0B bits 5-6", "the cursor appears 0-3 character positions to the right",
     "ignored"),
    ("graphics redraw", "every frame shows the current registers",
     "only full updates (mode, size, offsets, shift control, double scan, colours) and lines "
     "on dirty VRAM are redrawn: AR12, CR9 max scan line and CR17 changes leave it stale"),
    ("CR6 == 100 in text mode", "rows from the vertical display end as usual",
     "forces 100 rows (a hack for CGA 160x100)"),
)


#: The registers that decide the mode geometry (not the cursor, not the palette).
_CR_KEY = itemgetter(CR_H_DISP, CR_V_TOTAL, CR_OVERFLOW, CR_PRESET_ROW, CR_MAX_SCAN,
                     CR_START_HI, CR_START_LO,
                     CR_V_DISP_END, CR_OFFSET, CR_UNDERLINE, CR_MODE, CR_LINE_COMPARE)


#: VBE registers that shape the picture (not the bank: the bank window only moves writes).
_VBE_KEY = itemgetter(1, 2, 3, 4, 6, 8, 9)


def geometry_key(s: VGAState) -> tuple:
    """Everything the geometry depends on, cheap enough to compare on every frame."""
    return (_CR_KEY(s.cr), s.sr[SR_CLOCK_MODE], s.sr[SR_CHARACTER_MAP], s.gr[GR_MODE],
            s.gr[GR_MISC], s.ar_index & 0x20, s.ar[AR_MODE], s.ar[AR_PEL], s.ar[AR_PLANE_ENABLE],
            _VBE_KEY(s.vbe_regs), s.vbe_start_addr, s.vbe_line_offset,
            getattr(s, "big_endian_fb", False))


def key_registers(s: VGAState) -> tuple:
    """Copies of every register geometry_key reads (whole arrays, so that comparing them is
    a few memcmps): while :func:`same_key_registers` holds, geometry_key(s) is unchanged."""
    return (bytes(s.cr), bytes(s.sr), bytes(s.gr), bytes(s.ar), list(s.vbe_regs), s.ar_index,
            s.vbe_start_addr, s.vbe_line_offset, getattr(s, "big_endian_fb", False))


def same_key_registers(s: VGAState, regs: tuple) -> bool:
    """The registers are byte for byte those ``regs`` copied (a frame's first test: cheaper
    than building geometry_key, and equal keys follow)."""
    return (s.cr == regs[0] and s.sr == regs[1] and s.gr == regs[2] and s.ar == regs[3]
            and s.vbe_regs == regs[4] and s.ar_index == regs[5] and s.vbe_start_addr == regs[6]
            and s.vbe_line_offset == regs[7] and getattr(s, "big_endian_fb", False) == regs[8])


@dataclass(frozen=True, slots=True, eq=False)
class BlankGeometry:
    """The attribute controller's palette address source (AR index bit 5) is off, or the
    sequencer's screen-off bit is set: the display shows no picture."""

    kind: str = "blank"
    description: str = "blank"
    #: True when the screen shows the border: hardware's overscan colour, QEMU's
    #: vga_draw_blank. False: screen off (hardware sends black) or nothing drawable (QEMU
    #: leaves the surface as it was).
    border: bool = True
    #: False when there is nothing to draw and the last picture stays (QEMU returns early).
    draws: bool = True
    #: The size of the blank screen; 0 keeps the last size (QEMU's last_scr_width/height).
    width: int = 0
    height: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class GraphicsGeometry:
    kind: str
    #: Line drawer, after QEMU's vga_draw_line* (named for the modes it draws).
    drawer: Drawer
    #: Surface size (QEMU's display surface: doubled width for the 320-pixel planar modes).
    width: int
    height: int
    #: Bytes of VRAM one displayed line reads (QEMU's ``bwidth``).
    bwidth: int
    #: VRAM byte address of every displayed line, already wrapped with ``addr_mask``.
    line_addr: np.ndarray
    addr_mask: int
    #: Pixels doubled horizontally (the sequencer's dot-clock divide, QEMU's ``*d2`` drawers).
    double: bool
    #: Horizontal pel panning (pixels) per displayed line; None when there is none.
    pan: np.ndarray | None
    #: First/last VRAM page (relative to VRAM) each line touches; wraps when last < first.
    page0: np.ndarray
    page1: np.ndarray
    #: Page range of the dirty-bitmap snapshot covering every displayed byte.
    snap_page0: int
    snap_npages: int
    wraps: bool
    #: Which palette the pixels go through: 256 (DAC direct), 16 (attribute controller) or 0.
    palette: int
    plane_mask: int
    description: str


@dataclass(frozen=True, slots=True, eq=False)
class TextGeometry:
    kind: str
    cols: int
    rows: int
    #: Character cell size on the surface (after 9-dot, doubling and double scan).
    cw: int
    ch: int
    #: Glyph scanlines per cell (CR9 bits 0-4 + 1) and dots per glyph column (8 or 9).
    glyph_h: int
    glyph_w: int
    double_width: bool
    double_scan: bool
    #: Planar address of every cell, shape (rows, cols), wrapped with ``addr_mask``.
    cell_addr: np.ndarray
    addr_mask: int
    #: Planar base of the two fonts in plane 2 (attribute bit 3 clear / set).
    font_base: tuple[int, int]
    width: int
    height: int
    snap_page0: int
    snap_npages: int
    #: Pel panning in surface pixels per character row (None: no panning). The cells are
    #: then drawn one column wider (``cell_addr`` has cols + 1 columns) and shifted.
    pan: np.ndarray | None
    #: Preset row scan in surface lines.
    preset: int
    #: True when drawn rows are exactly the surface's rows (no panning, preset or
    #: mid-row split): cells are drawn straight into the surface.
    direct: bool
    #: Per drawn row: surface y of its first scanline, and the surface lines [lo, hi) it
    #: may cover (its pane of the line-compare split).
    row_y: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    description: str
    #: What makes QEMU's vga_draw_text redraw every cell (start address, line offset, line
    #: compare, font offsets, cells and cell size); other register changes redraw nothing.
    redraw_key: tuple = ()


def vbe_enabled(s: VGAState) -> bool:
    return bool(s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)


def dac_8bit(s: VGAState) -> bool:
    """QEMU's ``dac_8bit``: latched from the last write of the VBE enable register."""
    flag = getattr(s, "dac_8bit", None)
    if flag is None:
        return bool(s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
    return bool(flag)


def vga_line_compare(s: VGAState) -> int:
    cr = s.cr
    return cr[CR_LINE_COMPARE] | ((cr[CR_OVERFLOW] & 0x10) << 4) | ((cr[CR_MAX_SCAN] & 0x40) << 3)


def vga_vertical_display_end(s: VGAState) -> int:
    cr = s.cr
    ov = cr[CR_OVERFLOW]
    return (cr[CR_V_DISP_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1


def vbe_start_byte(s: VGAState) -> int:
    """The VBE display start in VRAM bytes (``vbe_start_addr`` is kept in bytes here).

    QEMU keeps it in dwords (offset / 4), so an x offset that is not a multiple of 4 bytes
    (24 bpp) starts the picture up to 3 bytes early. Bochs VBE exists only in emulators, so
    there is no hardware to follow: both modes do what QEMU does.
    """
    return int(s.vbe_start_addr) & ~3


def compute_geometry(s: VGAState, compat: Compat | None = None):
    """Derive the displayed mode from the registers (QEMU's vga_update_display decisions)
    under ``compat`` (default: the hardware's rules)."""
    if compat is None:
        compat = Compat.hardware()
    pas_off = not (s.ar_index & 0x20)
    screen_off = compat.screen_off and bool(s.sr[SR_CLOCK_MODE] & 0x20) and not vbe_enabled(s)
    if not (pas_off or screen_off):
        return _picture_geometry(s, compat)
    if pas_off and not compat.overscan_when_blank:
        return BlankGeometry()  # QEMU's vga_draw_blank: black, at the last size
    # The CRTC keeps its timing while the picture is off: the screen keeps the mode's size.
    inner = _picture_geometry(s, compat)
    if isinstance(inner, BlankGeometry):
        return inner
    if screen_off:
        return BlankGeometry(description="blank (screen off)", border=False,
                             width=inner.width, height=inner.height)
    return BlankGeometry(width=inner.width, height=inner.height)


def _picture_geometry(s: VGAState, compat: Compat):
    if vbe_enabled(s) or (s.gr[GR_MISC] & 1):
        return _graphics_geometry(s, compat)
    return _text_geometry(s, compat)


def _line_addresses(s: VGAState, height: int, start: int, line_offset: int, line_compare: int,
                    multi_scan: int, cga_mode: int) -> tuple[np.ndarray, np.ndarray]:
    """VRAM byte address of each displayed line, vectorised from vga_draw_graphic's loop.

    Per line ``y``: the row counter ``y1 = y // (multi_scan + 1)``; the address advances by
    ``line_offset`` after the last repetition of a row whose ``y1 & mask == mask`` (the CGA
    interleave of CR17 bits 0-1); after line ``line_compare`` it restarts from 0.
    Returns (addresses, y1).
    """
    y = np.arange(height, dtype=np.int64)
    rep = multi_scan + 1
    y1 = y // rep
    mask = (cga_mode & 3) ^ 3
    advance = ((y % rep) == multi_scan) & ((y1 & mask) == mask)
    before = np.zeros(height + 1, dtype=np.int64)
    np.cumsum(advance, out=before[1:])
    addr = start + line_offset * before[:height]
    if 0 <= line_compare < height - 1:
        after = np.arange(line_compare + 1, height)
        addr[after] = line_offset * (before[after] - before[line_compare + 1])
    if not (cga_mode & 1):
        shift = 14 + ((cga_mode >> 6) & 1)
        addr = (addr & ~(1 << shift)) | ((y1 & 1) << shift)
    if not (cga_mode & 2):
        addr = (addr & ~0x8000) | ((y1 & 2) << 14)
    return addr, y1


def _graphics_geometry(s: VGAState, compat: Compat) -> GraphicsGeometry | BlankGeometry:
    vram_size = s.vram_size
    cr = s.cr
    vbe = vbe_enabled(s)
    if vbe:
        width = int(s.vbe_regs[VBE_DISPI_INDEX_XRES])
        height = int(s.vbe_regs[VBE_DISPI_INDEX_YRES])
        bpp = int(s.vbe_regs[VBE_DISPI_INDEX_BPP])
        line_offset = int(s.vbe_line_offset)
        start = vbe_start_byte(s)
        line_compare = 65535
        # vbe_update_vgaregs: shift control 2 (0 for 4 bpp), no double scan, no CGA modes.
        shift_control = 0 if bpp == 4 else 2
        multi_scan = 0
        cga_mode = 3
        clock_div = False
        addr_mask = vram_size - 1
    else:
        width = (cr[CR_H_DISP] + 1) * 8
        height = vga_vertical_display_end(s)
        bpp = 0
        line_offset = cr[CR_OFFSET] << 3
        start = ((cr[CR_START_HI] << 8) | cr[CR_START_LO]) * 4
        line_compare = vga_line_compare(s)
        shift_control = (s.gr[GR_MODE] >> 5) & 3
        double_scan = cr[CR_MAX_SCAN] >> 7
        cga_mode = cr[CR_MODE]
        if cga_mode & 1:
            multi_scan = (((cr[CR_MAX_SCAN] & 0x1F) + 1) << double_scan) - 1
        else:
            multi_scan = double_scan  # QEMU: "in CGA modes, multi_scan is ignored"
        clock_div = bool(s.sr[SR_CLOCK_MODE] & 0x08)
        addr_mask = (crtc_wrap_bytes(s) if compat.planes_wrap_64k else vram_size) - 1
    if width <= 0 or height <= 0:
        return BlankGeometry(description="blank (no display area)", draws=False)

    plane_mask = s.ar[AR_PLANE_ENABLE] & 0x0F
    if shift_control == 0:
        drawer, bits, double, palette = Drawer.PLANAR_16_COLOUR, 4, clock_div, 16
    elif shift_control == 1:
        drawer, bits, double, palette = Drawer.CGA_4_COLOUR, 4, clock_div, 16
    elif bpp in (0, 4):  # a VBE bpp of 4 with shift control forced to 2 cannot happen
        drawer, bits, double, palette = Drawer.MODE_13H, 4, False, 256
    elif bpp == 8:
        drawer, bits, double, palette = Drawer.VBE_8BPP, 8, False, 256
    elif bpp in (15, 16, 24, 32):
        bits = {15: 16, 16: 16, 24: 24, 32: 32}[bpp]
        # QEMU's vga_draw_line*_be / byte-swapped shared surface for a big-endian framebuffer
        drawer = Drawer.direct_colour(bpp, bool(getattr(s, "big_endian_fb", False)))
        double, palette = False, 0
    else:
        drawer, bits, double, palette = Drawer.VBE_8BPP, 8, False, 256
    bwidth = (width * bits + 7) // 8
    disp_width = width * 2 if double else width

    addr, _ = _line_addresses(s, height, start, line_offset, line_compare, multi_scan, cga_mode)
    addr &= addr_mask
    pan = None
    if compat.pel_panning and not vbe:
        pan = _graphics_pan(s, drawer, double, height, line_compare)
    # A panned line also shows the first dots of the next address: 4 more VRAM bytes.
    last = (addr + bwidth - 1 + (4 if pan is not None else 0)) & addr_mask
    page0 = addr >> TARGET_PAGE_BITS
    page1 = last >> TARGET_PAGE_BITS
    wraps = bool((last < addr).any())
    if wraps:
        snap_page0, snap_npages = 0, (addr_mask + 1) >> TARGET_PAGE_BITS
    else:
        snap_page0 = int(page0.min())
        snap_npages = int(page1.max()) - snap_page0 + 1


    if vbe:
        desc = f"VBE {width}x{height}x{bpp}"
    else:
        desc = {Drawer.PLANAR_16_COLOUR: "VGA 16-colour planar",
                Drawer.CGA_4_COLOUR: "VGA CGA 4-colour",
                Drawer.MODE_13H: "VGA 256-colour"}[drawer] + f" {disp_width}x{height}"
    return GraphicsGeometry(
        kind="graphics", drawer=drawer, width=disp_width, height=height, bwidth=bwidth,
        line_addr=addr, addr_mask=addr_mask, double=double, pan=pan, page0=page0, page1=page1,
        snap_page0=snap_page0, snap_npages=snap_npages, wraps=wraps, palette=palette,
        plane_mask=plane_mask, description=desc)


def _graphics_pan(s: VGAState, drawer: Drawer, double: bool, height: int,
                  line_compare: int) -> np.ndarray | None:
    """Horizontal pel panning (AR13) in pixels of the surface, per displayed line.

    Hardware: 16/4-colour modes shift by AR13 & 7 dots; the 256-colour mode by (AR13 & 7) >> 1
    of its double-width pixels; AR10 bit 5 (pixel panning mode) resets panning to 0 below the
    line-compare split.
    """
    p = s.ar[AR_PEL] & 0x0F
    if drawer in (Drawer.PLANAR_16_COLOUR, Drawer.CGA_4_COLOUR):
        shift = (p & 7 if p < 8 else 0) * (2 if double else 1)
    else:  # mode 13h: 256-colour pixels are two dots wide
        shift = ((p & 7) >> 1) * 2 if p < 8 else 0
    if not shift:
        return None
    pan = np.full(height, shift, dtype=np.int64)
    if (s.ar[AR_MODE] & 0x20) and 0 <= line_compare < height - 1:
        pan[line_compare + 1:] = 0
    return pan


def _text_geometry(s: VGAState, compat: Compat) -> TextGeometry | BlankGeometry:
    cr = s.cr
    glyph_h = (cr[CR_MAX_SCAN] & 0x1F) + 1
    glyph_w = 8 if s.sr[SR_CLOCK_MODE] & 0x01 else 9
    double_width = bool(s.sr[SR_CLOCK_MODE] & 0x08)
    double_scan = bool(cr[CR_MAX_SCAN] & 0x80) and compat.text_double_scan
    if double_width:
        # QEMU: "NOTE: no 18 pixel wide"
        cw = glyph_w * 2 if compat.nine_dot_40_columns else 16
    else:
        cw = glyph_w
    ch = glyph_h * (2 if double_scan else 1)
    cols = cr[CR_H_DISP] + 1
    if compat.partial_text_rows:
        # the CRTC shows every scanline up to the vertical display end, so a last row that
        # does not fit (80x43 in 350 lines) is shown in part
        height = vga_vertical_display_end(s)
        rows = -(-height // ch)
    else:
        # vga_draw_text: whole character rows only (and its CGA 160x100 hack)
        rows = 100 if cr[CR_V_TOTAL] == 100 else vga_vertical_display_end(s) // ch
        height = rows * ch
    if rows * cols <= 1 or rows * cols > CH_ATTR_SIZE:
        return BlankGeometry(description=f"blank (text {cols}x{rows} out of range)",
                             draws=False)

    start = (cr[CR_START_HI] << 8) | cr[CR_START_LO]
    step = (cr[CR_OFFSET] << 3) // 4  # planar addresses per character row
    line_compare = vga_line_compare(s)
    vram_size = s.vram_size
    wrap = (crtc_wrap_bytes(s) if compat.planes_wrap_64k else vram_size) // 4
    # Preset row scan (CR8 bits 0-4): the first row starts that many scanlines into its
    # cells (smooth vertical scrolling).
    preset = 0
    if compat.preset_row_scan:
        preset = min(cr[CR_PRESET_ROW] & 0x1F, glyph_h - 1) * (2 if double_scan else 1)
    if compat.scanline_text_split:
        # Line compare: after scanline ``line_compare`` the CRTC restarts at address 0 and
        # row scan 0, at any scanline. So the picture is two panes of whole rows, each drawn
        # into a scratch buffer and copied with an offset.
        split = line_compare + 1 if line_compare < height - 1 else height
        na = -(-(split + preset) // ch)
        ra = np.arange(na, dtype=np.int64)
        nb = -(-(height - split) // ch) if split < height else 0
        rb = np.arange(nb, dtype=np.int64)
        row_addr = np.concatenate([start + step * ra, step * rb])
        row_y = np.concatenate([ra * ch - preset, split + rb * ch])
        row_lo = np.concatenate([np.zeros(na, np.int64), np.full(nb, split, np.int64)])
        row_hi = np.concatenate([np.full(na, split, np.int64), np.full(nb, height, np.int64)])
        below = na  # the first row of the lower pane
    else:
        # vga_draw_text: the row after the one whose scanlines reach line compare restarts
        # at address 0 -- the split moves in whole character rows.
        na = -(-(height + preset) // ch)
        r = np.arange(na, dtype=np.int64)
        row_addr = start + step * r
        line = r * ch - preset
        hit = np.nonzero((line < line_compare) & (line + ch >= line_compare))[0]
        below = int(hit[0]) + 1 if hit.size else na
        row_addr[below:] = step * (r[below:] - below)
        row_y = line
        row_lo = np.zeros(na, dtype=np.int64)
        row_hi = np.full(na, height, dtype=np.int64)
    # Horizontal pel panning: 9-dot text takes AR13 = 8 as no shift and 0-7 as 1-8 dots,
    # 8-dot text 0-7; one more cell per row is drawn to pan into. AR10 bit 5 leaves the
    # pane below the split unpanned.
    pan = None
    if compat.pel_panning:
        p = s.ar[AR_PEL] & 0x0F
        dots = ((p + 1) % 9 if p <= 8 else 0) if glyph_w == 9 else (p if p < 8 else 0)
        if dots:
            pan = np.full(row_addr.shape[0], dots * (cw // glyph_w if cw >= glyph_w else 1),
                          dtype=np.int64)
            if s.ar[AR_MODE] & 0x20:
                pan[below:] = 0
    direct = (pan is None and row_y.size == rows and rows * ch == height
              and bool((row_y == np.arange(rows) * ch).all()))
    drawn = cols + (1 if pan is not None else 0)
    cell_addr = (row_addr[:, None] + np.arange(drawn, dtype=np.int64)[None, :]) % wrap

    v = s.sr[SR_CHARACTER_MAP]
    font_a = ((((v >> 4) & 1) | ((v << 1) & 6)) * 8192) % wrap
    font_b = ((((v >> 5) & 1) | ((v >> 1) & 6)) * 8192) % wrap
    lo = min(int(cell_addr.min()), font_a, font_b)
    hi = max(int(cell_addr.max()) + 1, font_a + 8192, font_b + 8192)
    hi = min(hi * 4, vram_size)
    snap_page0 = (lo * 4) >> TARGET_PAGE_BITS
    snap_npages = ((hi - 1) >> TARGET_PAGE_BITS) - snap_page0 + 1
    return TextGeometry(
        kind="text", cols=cols, rows=rows, cw=cw, ch=ch, glyph_h=glyph_h, glyph_w=glyph_w,
        double_width=double_width, double_scan=double_scan, cell_addr=cell_addr,
        addr_mask=wrap - 1, font_base=(font_a, font_b), width=cols * cw, height=height,
        snap_page0=snap_page0, snap_npages=snap_npages, pan=pan, preset=preset, direct=direct,
        row_y=row_y, row_lo=row_lo, row_hi=row_hi,
        description=f"text {cols}x{rows} ({cw}x{ch} cells)",
        redraw_key=(start, cr[CR_OFFSET], line_compare, v & 0x3F, cols, rows, cw, glyph_h))
