"""Text mode: character cells from planes 0/1, glyphs from plane 2, drawn cell by cell in numpy.

QEMU's vga_draw_text walks every cell in C and redraws those whose char/attribute word changed
(plus the cursor cell). Here the same test is one vectorised compare of the (rows, cols)
char/attr array against the last drawn one, and all changed cells are drawn in one gather of
glyph bitmaps + one ``np.where`` between foreground and background colours + one scatter into
the surface. Glyph bitmaps are derived from plane 2 only when plane 2 was written (QEMU's
``plane_updated`` bit 2) and the font bytes really differ.

Hardware behaviour by default; the :class:`~vgaemu.compat.Compat` fields ``blink``,
``ninth_column_c0_df``, ``underline``, ``cursor_skew`` and ``cursor_blink_frames`` select QEMU
7.2's (no character blink, bit 7 always background intensity, 9th column for 0xB0-0xDF, no
underline, no cursor skew, QEMU's cursor blink timer).
"""

from __future__ import annotations

import numpy as np

from ..clock import FRAME_NS
from ..compat import Compat
from .geometry import TextGeometry
from .state import (
    AR_MODE,
    CR_CURSOR_END,
    CR_CURSOR_HI,
    CR_CURSOR_LO,
    CR_CURSOR_START,
    CR_UNDERLINE,
    VGAState,
)

#: QEMU's VGA_TEXT_CURSOR_PERIOD_MS (1000 * 2 * 16 / 60, integer) -- the phase lasts half.
QEMU_CURSOR_PERIOD_MS = 1000 * 2 * 16 // 60
#: Hardware: the cursor blinks at 1/16 of the frame rate, characters at 1/32.
HW_CURSOR_FRAMES = 8
HW_BLINK_FRAMES = 16


_NONE = np.zeros(0, dtype=np.int64)

#: Up to this many changed cells (a typed character, the cursor moving) are drawn one by one:
#: a few scalar steps and two small numpy calls per cell cost less than the dozen calls of
#: the vectorised path, whose overhead does not shrink with the number of cells.
_FEW_CELLS = 8


class TextRenderer:
    """Per-display text state: glyph tables, the last drawn cells, cursor and blink phases."""

    def __init__(self, compat: Compat | None = None):
        self.compat = compat if compat is not None else Compat.hardware()
        self._font_raw: np.ndarray | None = None
        self._glyph_key: tuple | None = None
        self.glyphs: np.ndarray | None = None  # (2, 256, ch, cw) bool
        self._last: np.ndarray | None = None  # (rows, cols) int32 char | attr << 8; -1 = stale
        self._cursor_drawn: tuple | None = None  # (addr, start, end, visible) last drawn
        self._blink_on = True
        self._q_phase = False
        self._q_blink_time_ms = 0
        self._words: np.ndarray | None = None
        self._words_of: np.ndarray | None = None
        self._word_idx: np.ndarray | None = None  # cell_addr * 2 of _word_idx_of
        self._word_idx_of: TextGeometry | None = None

    # -- time ---------------------------------------------------------------------------
    def mode_changed(self, now_ns: int) -> None:
        """QEMU restarts its cursor timer when the graphic mode changes."""
        self._q_blink_time_ms = now_ns // 1_000_000
        self._last = None

    def _phases(self, now_ns: int) -> tuple[bool, bool]:
        """(cursor visible phase, characters-shown phase)."""
        frame = now_ns // FRAME_NS
        chars_on = (frame // HW_BLINK_FRAMES) % 2 == 0
        if not self.compat.cursor_blink_frames:
            now_ms = now_ns // 1_000_000
            if now_ms >= self._q_blink_time_ms:
                self._q_blink_time_ms = now_ms + QEMU_CURSOR_PERIOD_MS // 2
                self._q_phase = not self._q_phase
            return self._q_phase, chars_on
        return (frame // HW_CURSOR_FRAMES) % 2 == 0, chars_on

    # -- fonts --------------------------------------------------------------------------
    def update_glyphs(self, vram: np.ndarray, g: TextGeometry, ar_mode: int) -> bool:
        """Re-derive the glyph bitmaps if the font bytes in plane 2 or their shape changed."""
        base = np.array(g.font_base, dtype=np.int64)
        idx = ((base[:, None] + np.arange(8192, dtype=np.int64)[None, :]) * 4 + 2) % vram.shape[0]
        raw = vram[idx].reshape(2, 256, 32)
        dup_on = bool(ar_mode & 0x04)
        key = (g.glyph_h, g.glyph_w, g.double_width, g.double_scan, g.cw, dup_on)
        if (self._glyph_key == key and self._font_raw is not None
                and np.array_equal(raw, self._font_raw)):
            return False
        self._font_raw = raw
        self._glyph_key = key
        bits = np.unpackbits(raw[:, :, :g.glyph_h, None], axis=3).astype(bool)  # (2,256,h,8)
        if g.glyph_w == 9:
            lo = 0xC0 if self.compat.ninth_column_c0_df else 0xB0
            dup = np.zeros(256, dtype=bool)
            if dup_on:
                dup[lo:0xE0] = True
            ninth = bits[:, :, :, 7] & dup[None, :, None]
            bits = np.concatenate([bits, ninth[..., None]], axis=3)
        if g.double_width:
            bits = bits[:, :, :, :g.cw // 2] if g.cw == 16 and g.glyph_w == 9 else bits
            bits = np.repeat(bits, 2, axis=3)
        if g.double_scan:
            bits = np.repeat(bits, 2, axis=2)
        self.glyphs = np.ascontiguousarray(bits)
        return True

    def dup_changed(self, ar_mode: int) -> bool:
        """True when the glyphs were derived for the other 9th-dot setting (AR10 bit 2)."""
        return self._glyph_key is not None and self._glyph_key[-1] != bool(ar_mode & 0x04)

    # -- drawing ------------------------------------------------------------------------
    def draw(self, fb: np.ndarray, g: TextGeometry, s: VGAState, pal16: np.ndarray,
             full: bool, check_cells: bool, now_ns: int, redraw_cursor: bool = False):
        """Redraw changed cells into ``fb`` ((rows*ch, cols*cw) uint32).

        ``check_cells`` is False when no VRAM page under the text changed since the last frame:
        then only the cursor and blinking cells can need a redraw; ``redraw_cursor`` redraws
        the cursor's cell whatever changed.
        Returns (row indexes, col indexes) of the drawn cells.
        """
        vram = s.vram
        rows, cols = g.cell_addr.shape
        cursor_phase, blink_on = self._phases(now_ns)
        ar_mode = s.ar[AR_MODE]
        blink_mode = bool(ar_mode & 0x08) and self.compat.blink

        cr = s.cr
        cstart, cend = cr[CR_CURSOR_START], cr[CR_CURSOR_END]
        cursor_addr = (cr[CR_CURSOR_HI] << 8) | cr[CR_CURSOR_LO]
        if self.compat.cursor_skew:
            cursor_addr += (cend >> 5) & 3  # cursor skew: later by 0-3 character clocks
        cursor_addr &= g.addr_mask
        cursor = (cursor_addr, cstart, cend, bool(cursor_phase and not (cstart & 0x20)))
        blink_flip = blink_mode and blink_on != self._blink_on
        self._blink_on = blink_on

        if full or self._last is None or self._last.shape != (rows, cols):
            full = True
        elif (not check_cells and not blink_flip and cursor == self._cursor_drawn
              and not redraw_cursor):
            return _NONE, _NONE  # an idle frame: nothing in VRAM, no phase or cursor change
        if full or check_cells:
            # char (plane 0) and attribute (plane 1) of planar address a are the little-endian
            # 16-bit word at VRAM byte 4a: one gather for both.
            if self._words_of is not vram:
                self._words = vram[:vram.shape[0] & ~1].view("<u2")
                self._words_of = vram
            if self._word_idx_of is not g:
                self._word_idx = g.cell_addr * 2
                self._word_idx_of = g
            code = self._words[self._word_idx]
        else:
            code = self._last
        if full:
            changed = np.ones((rows, cols), dtype=bool)
        elif check_cells:
            changed = code != self._last
        else:
            changed = np.zeros((rows, cols), dtype=bool)

        if blink_flip:
            changed |= (code & 0x8000) != 0
        if cursor != self._cursor_drawn or redraw_cursor:
            changed |= g.cell_addr == cursor_addr
            if self._cursor_drawn is not None:
                changed |= g.cell_addr == self._cursor_drawn[0]
            self._cursor_drawn = cursor

        self._last = code
        # row-major like np.nonzero, but 1-D nonzero plus a divide is half its cost
        flat = changed.ravel().nonzero()[0]
        if flat.size == 0:
            return flat, flat
        r = flat // cols
        c = flat - r * cols
        if flat.size <= _FEW_CELLS:
            self._draw_few(fb, g, s, pal16, code, r, c, cursor, blink_mode, blink_on)
            return r, c
        cc = code[r, c].astype(np.int64)
        chars = cc & 0xFF
        attrs = cc >> 8
        fg_i = attrs & 0x0F
        if blink_mode:
            bg_i = (attrs >> 4) & 0x07
            if not blink_on:
                fg_i = np.where(attrs & 0x80, bg_i, fg_i)
        else:
            bg_i = attrs >> 4
        fg = pal16[attrs & 0x0F]
        bits = self.glyphs[(attrs >> 3) & 1, chars]  # (n, ch, cw)
        pix = np.where(bits, pal16[fg_i][:, None, None], pal16[bg_i][:, None, None])

        dscan = 2 if g.double_scan else 1
        if self.compat.underline and (ar_mode & 0x02):
            ul = cr[CR_UNDERLINE] & 0x1F
            if ul < g.glyph_h:
                sel = np.nonzero((attrs & 0x77) == 0x01)[0]
                if sel.size:
                    if blink_mode and not blink_on:
                        sel = sel[(attrs[sel] & 0x80) == 0]
                    pix[sel, ul * dscan:(ul + 1) * dscan, :] = fg[sel, None, None]
        if cursor[3]:
            line_start = cstart & 0x1F
            line_last = min(cend & 0x1F, g.glyph_h - 1)
            if line_last >= line_start and line_start < g.glyph_h:
                sel = np.nonzero(g.cell_addr[r, c] == cursor_addr)[0]
                if sel.size:
                    pix[sel, line_start * dscan:(line_last + 1) * dscan, :] = fg[sel, None, None]

        fb4 = fb.reshape(rows, g.ch, cols, g.cw)
        if full:
            fb4[...] = pix.reshape(rows, cols, g.ch, g.cw).transpose(0, 2, 1, 3)
        else:
            fb4[r, :, c, :] = pix
        return r, c

    def _draw_few(self, fb: np.ndarray, g: TextGeometry, s: VGAState, pal16: np.ndarray,
                  code: np.ndarray, r: np.ndarray, c: np.ndarray, cursor: tuple,
                  blink_mode: bool, blink_on: bool) -> None:
        """What the vectorised part of :meth:`draw` does, cell by cell, for a few cells
        (rows ``r``, columns ``c``): the same colours, blink, underline and cursor rules."""
        ch, cw = g.ch, g.cw
        dscan = 2 if g.double_scan else 1
        glyphs = self.glyphs
        underline = -1
        if self.compat.underline and (s.ar[AR_MODE] & 0x02):
            ul = s.cr[CR_UNDERLINE] & 0x1F
            if ul < g.glyph_h:
                underline = ul
        cursor_lines = None
        if cursor[3]:
            line_start = cursor[1] & 0x1F
            line_last = min(cursor[2] & 0x1F, g.glyph_h - 1)
            if line_last >= line_start and line_start < g.glyph_h:
                cursor_lines = slice(line_start * dscan, (line_last + 1) * dscan)
        cell_addr = g.cell_addr
        for row, col in zip(r.tolist(), c.tolist()):
            cc = int(code[row, col])
            attr = cc >> 8
            fg_i = attr & 0x0F
            if blink_mode:
                bg_i = (attr >> 4) & 0x07
                if not blink_on and attr & 0x80:
                    fg_i = bg_i
            else:
                bg_i = attr >> 4
            fg = pal16[attr & 0x0F]
            pix = np.where(glyphs[(attr >> 3) & 1, cc & 0xFF], pal16[fg_i], pal16[bg_i])
            if (underline >= 0 and (attr & 0x77) == 0x01
                    and not (blink_mode and not blink_on and attr & 0x80)):
                pix[underline * dscan:(underline + 1) * dscan, :] = fg
            if cursor_lines is not None and int(cell_addr[row, col]) == cursor[0]:
                pix[cursor_lines, :] = fg
            fb[row * ch:(row + 1) * ch, col * cw:(col + 1) * cw] = pix
