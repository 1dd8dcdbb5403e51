"""The display loop: QEMU's vga_update_display over guestmem's VGA dirty bitmap.

Each :meth:`VGADisplay.update_display` call is one refresh:

1. derive the mode geometry from the registers -- only when :func:`geometry_key` changed;
2. decide on a full update: mode, geometry, start address, line offset, line compare,
   palette (the colours are recomputed and compared, as QEMU's update_palette16/256), font
   (plane 2 written), or :meth:`invalidate`;
3. otherwise take ``snapshot_and_clear_dirty(DIRTY_MEMORY_VGA)`` over the VRAM the picture
   shows and redraw exactly the scanlines whose bytes lie on a dirty page. A full update
   clears the same range too, so no stale dirty bit makes the next frame redraw lines again
   (QEMU skips the snapshot on full updates and leaves them set);
4. report what changed: :class:`UpdateStats` with rectangles merged over runs of lines.

Finding dirty lines is a prefix sum over the snapshot's pages indexed by each line's first and
last page; drawing them is one row gather from VRAM and one palette lookup (render.py).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

import numpy as np

from guestmem import DIRTY_MEMORY_VGA, TARGET_PAGE_BITS, DirtyRange

from ..clock import VirtualClock
from ..compat import Compat
from ..errors import VGAEmuError
from ..romfile import rom_path
from . import render
from .render import BIG_ENDIAN_DRAWERS, Drawer
from .geometry import (
    BlankGeometry,
    GraphicsGeometry,
    TextGeometry,
    compute_geometry,
    dac_8bit,
    geometry_key,
    key_registers,
    same_key_registers,
    vbe_enabled,
    vga_line_compare,
)
from .state import (
    AR_MODE,
    AR_OVERSCAN,
    CR_MAX_SCAN,
    CR_OFFSET,
    CR_START_HI,
    CR_START_LO,
    GR_MODE,
    VGAState,
)
from .text import TextRenderer

class ScreendumpError(VGAEmuError, ValueError):
    """A screendump path with an unknown extension, or an unwritable file."""


@dataclass(frozen=True, slots=True)
class UpdateStats:
    """What one refresh did (the numbers the profiler and the tests read)."""

    full: bool
    lines_redrawn: int
    dirty_pages: int
    bytes_converted: int
    #: Changed areas of the surface as (x, y, w, h), like QEMU's dpy_gfx_update calls.
    rects: tuple[tuple[int, int, int, int], ...]
    width: int
    height: int
    mode: str
    resized: bool = False


#: The VGA client as a plain int, for DirtyMemory's per-frame fast paths.
_VGA = int(DIRTY_MEMORY_VGA)

#: Up to this many runs of dirty lines are converted one run at a time, in place.
_DIRECT_RUNS = 16


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Sorted row indexes -> [(first, count)] of runs of consecutive rows."""
    if rows.size == 0:
        return []
    if int(rows[-1]) - int(rows[0]) + 1 == rows.size:  # sorted and unique: one run
        return [(int(rows[0]), int(rows.size))]
    if rows.size < 64:
        out, start, prev = [], None, None
        for y in rows.tolist():
            if y - 1 != prev:
                if start is not None:
                    out.append((start, prev - start + 1))
                start = y
            prev = y
        out.append((start, prev - start + 1))
        return out
    breaks = np.nonzero(np.diff(rows) != 1)[0]
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks + 1, [rows.size]))
    return [(int(rows[a]), int(b - a)) for a, b in zip(starts, ends)]


def _unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)``: the sorted distinct values. np.unique's plain form asks
    ``np.ma.is_masked``, and its first call imports numpy.ma -- 20 ms of a boot's first frame."""
    s = np.sort(a, axis=None)
    if s.size < 2:
        return s
    keep = np.empty(s.size, dtype=np.bool_)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _linear_step(addrs: np.ndarray) -> int | None:
    """The constant distance between consecutive line addresses, if there is one."""
    if addrs.size < 2:
        return 0
    d = np.diff(addrs)
    return int(d[0]) if (d == d[0]).all() and d[0] >= 0 else None


#: The direct-colour mask as a 0-d array: a ufunc given a numpy scalar converts it to an
#: array on every call (0.3-0.4 us of a one-line frame's draw).
_MASK_24_BITS = np.array(0x00FFFFFF, dtype=np.uint32)

#: Little-endian direct-colour drawers (VBE 15/16/24/32 bpp).
_DIRECT_COLOUR = frozenset({Drawer.VBE_15BPP, Drawer.VBE_16BPP, Drawer.VBE_24BPP,
                           Drawer.VBE_32BPP})


class PlanOp(enum.Enum):
    """The one numpy operation that turns a block of VRAM lines into pixels."""

    #: Direct colour (VBE 24/32 bpp): the pixel words with the top byte cleared.
    MASK_24_BITS = "mask24"
    #: A table lookup: VBE 15/16 bpp (fixed tables), VBE 8 bpp and mode 13h (the DAC).
    LOOKUP = "lookup"
    #: 16-colour planar modes: four planes to 4-bit pixels, then the palette.
    PLANAR = "planar"


@dataclass(slots=True, eq=False)
class LinePlan:
    """How a geometry's lines are drawn, decided once per geometry (and frame buffer): a
    view of VRAM with each distinct displayed line as one row, the frame-buffer view the
    pixels go to, and the operation between them. Drawing lines [r0, r1) is then slicing
    both and one numpy call (two with double scan: the even lines are copied down).

    Built only for pictures whose lines are evenly spaced in VRAM, without wrapping or
    panning: every VBE mode, mode 13h and the planar modes as the BIOS sets them. Other
    pictures (split screens, panning, CGA, big-endian framebuffers) go through
    :meth:`VGADisplay._convert`, which gives the same pixels line by line."""

    op: PlanOp
    #: (rows, items) view of VRAM: row i is displayed line i (or lines 2i, 2i+1 with pairs).
    src: np.ndarray
    #: The frame buffer, and the view the op writes (uint64 pairs for doubled pixels).
    fb: np.ndarray
    out: np.ndarray
    pairs: bool
    #: A fixed table (VBE 15/16 bpp), or the name of the palette table (VGADisplay._tables).
    lut: np.ndarray | None
    table: str | None
    #: PLANAR: pixels per line and the attribute controller's plane enable (AR12).
    width: int = 0
    plane_mask: int = 0xF


@dataclass(slots=True, eq=False)
class PreparedRun:
    """One run of lines of a :class:`LinePlan`, sliced once: the views (and, for planar lines,
    the scratch arrays) a one-page frame draws through, so that redrawing the run is its
    numpy calls alone -- no slicing, no allocation, no dispatch on the drawer per frame."""

    op: PlanOp
    #: The run's VRAM rows (PLANAR: the little-endian words of planes 0+1) and its output.
    src: np.ndarray
    out: np.ndarray
    #: The fixed table (VBE 15/16 bpp) or the name of the palette table (VGADisplay._tables).
    lut: np.ndarray | None
    table: str | None
    #: PLANAR: the words of planes 2+3, the two tables those pairs of plane bytes go through,
    #: the scratch rows of pixel-pair indexes (idx, and idx8: its bytes) and of the second
    #: half (tmp).
    src23: np.ndarray | None = None
    t01: np.ndarray | None = None
    t23: np.ndarray | None = None
    idx: np.ndarray | None = None
    idx8: np.ndarray | None = None
    tmp: np.ndarray | None = None
    #: With pairs: the even lines just drawn and the odd lines they are copied to.
    even: np.ndarray | None = None
    odd: np.ndarray | None = None
    #: A run no view can shortcut (doubled planar pixels, mode 0Dh): the plan and its lines,
    #: drawn by VGADisplay._plan_draw.
    plan: LinePlan | None = None
    lines: tuple[int, int] = (0, 0)


@dataclass(slots=True, eq=False)
class GraphicsLineIndex:
    """What the graphics path derives once per geometry to find and draw dirty lines fast."""

    #: The geometry these arrays were built for (identity: geometries are rebuilt on change).
    geom: GraphicsGeometry
    #: The statistics of a frame that redraws nothing (one object, reused).
    idle: UpdateStats
    #: Each line's first and one-past-last page, relative to the snapshot: lines [a, b).
    a: np.ndarray
    b: np.ndarray
    #: For lines that wrap past the end of VRAM, one past their last page from page 0.
    wb: np.ndarray
    wrapped: bool
    #: Several lines show the same VRAM (double scan): convert each address once.
    repeats: bool
    #: Every even line shows what the next one shows: convert evens, copy them down.
    pairs: bool
    all_rows: np.ndarray
    #: The constant line-to-line address step (VBE modes), for one strided read; or None.
    step: int | None
    #: Page -> lines index (CSR: pointers, lines), when no line wraps.
    csr: tuple[list[int], np.ndarray] | None = None
    #: The cached draw routine, when the picture allows one (see LinePlan).
    plan: LinePlan | None = None
    #: The frame buffer the plan writes: a resize replaces it, and the index with it.
    fb: np.ndarray | None = None
    #: A frame whose one dirty page is snapshot page p: its runs of lines, its statistics
    #: and, when the plan draws every run, the runs prepared for it -- all fixed by the
    #: geometry (filled as pages are first seen dirty).
    one_page: dict[int, tuple[list[tuple[int, int]], UpdateStats,
                              tuple[PreparedRun, ...] | None]] | None = None
    #: The DirtyRange over the pages the picture shows, which a partial frame takes (made on
    #: the first one).
    dirty: DirtyRange | None = None


def _prepare_run(p: LinePlan, r0: int, r1: int) -> PreparedRun:
    """Lines [r0, r1) of plan ``p`` (r0, r1 even with pairs) as a :class:`PreparedRun`."""
    if p.pairs:
        src, out = p.src[r0 >> 1:r1 >> 1], p.out[r0:r1:2]
        even, odd = p.fb[r0:r1:2], p.fb[r0 + 1:r1:2]
    else:
        src, out = p.src[r0:r1], p.out[r0:r1]
        even = odd = None
    if p.op is not PlanOp.PLANAR:
        return PreparedRun(p.op, src, out, p.lut, p.table, even=even, odd=odd)
    nb = p.width // 8
    if p.table != "16" or out.shape[1] != nb * 8 or src.shape[1] != nb * 4:
        # Doubled pixels (mode 0Dh): the general planar drawer, through the plan.
        return PreparedRun(p.op, src, out, None, p.table, plan=p, lines=(r0, r1))
    words = src.view("<u2")  # (n, 2 nb): planes 0+1, planes 2+3 of each address in turn
    t01, t23 = render.plane_nibble_tables(p.plane_mask & 0xF)
    idx = np.empty((src.shape[0], nb), dtype=np.uint32)
    return PreparedRun(p.op, words[:, 0::2], out.view(np.uint64), None, "16p",
                       src23=words[:, 1::2], t01=t01, t23=t23, idx=idx,
                       idx8=idx.view(np.uint8), tmp=np.empty_like(idx), even=even, odd=odd)


class VGADisplay:
    """Renders the VGA's picture into :attr:`surface` and tracks what changed.

    The frame buffer is ``framebuffer``: an (H, W) ``uint32`` array of 0x00RRGGBB pixels,
    QEMU's display-surface format (x8r8g8b8). :attr:`surface` is an (H, W, 3) ``uint8`` RGB
    view of the same memory (not a copy, not C-contiguous: use ``np.ascontiguousarray`` for a
    packed copy). Both are replaced (new arrays) when the display size changes.
    """

    def __init__(self, state: VGAState, vram_mr, clock: VirtualClock, *,
                 compat: Compat | None = None):
        self.state = state
        self.vram_mr = vram_mr
        self.clock = clock
        self.compat = compat = compat if compat is not None else Compat.hardware()
        self._live_text = compat.live_text_registers
        self._live_graphics = compat.live_graphics_registers
        # QEMU's console starts with a 640x480 surface before the guest sets a mode; QEMU's
        # shows a placeholder message on it until the VGA first draws text or graphics.
        self._set_size(640, 480)
        self._drawn = False
        self._blank_colour: int | None = None
        if not compat.overscan_when_blank:
            self._fb[...] = placeholder_framebuffer(640, 480)
        self._key = None
        self._key_regs: tuple | None = None  # the registers self._key was computed from
        #: What the last checked frame was drawn from, for update_display's first test.
        self._steady: tuple | None = None
        self._qemu_vga = False  # _qemu_vga_graphics of the last frame's geometry
        self._geom = None
        self._invalid = True
        self._pkey = None
        self._dac = np.zeros(256, dtype=np.uint32)
        self._pal16 = np.zeros(16, dtype=np.uint32)
        self._tables: dict[str, np.ndarray] = {}
        self._reader = render.VRAMReader(state.vram)
        #: The DirtyRange _take_dirty takes (VRAM pages _dirty_range_pages), once known.
        self._dirty_range = None
        self._dirty_range_pages: tuple[int, int] | None = None
        self._text = TextRenderer(compat)
        self._text_fb: np.ndarray | None = None
        self._kind = None
        self._gcache: GraphicsLineIndex | None = None
        # VRAM's first byte in the ram_addr space (the dirty bitmaps' index), once known.
        self._base_ram_addr = -1
        self._idle_stats: UpdateStats | None = None
        #: QEMU's last basic params and vga_draw_graphic parameters (not live_*_registers).
        self._qbasic: tuple | None = None
        self._qgfx: tuple | None = None

    # -- public -----------------------------------------------------------------------
    @property
    def framebuffer(self) -> np.ndarray:
        return self._fb

    @property
    def surface(self) -> np.ndarray:
        return self._surface

    @property
    def width(self) -> int:
        return self._fb.shape[1]

    @property
    def height(self) -> int:
        return self._fb.shape[0]

    @property
    def geometry(self):
        return self._geom

    def invalidate(self) -> None:
        """Force a full redraw on the next update (QEMU's vga_invalidate_display)."""
        self._invalid = True
        self._steady = None

    def screendump(self, path: str | os.PathLike) -> None:
        """Write the surface, at exactly the displayed resolution, as PNG or PPM (P6) by the
        file's extension -- what QEMU's ``screendump`` writes for the same state."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        rgb = np.ascontiguousarray(self._surface)
        if ext == ".png":
            write_png(path, rgb)
        elif ext in (".ppm", ".pnm"):
            write_ppm(path, rgb)
        else:
            raise ScreendumpError(f"screendump path {path!r}: unknown extension {ext!r}, "
                                  "expected .png or .ppm")

    def update_display(self) -> UpdateStats:
        s = self.state
        k = self._steady
        if (k is not None and s.cr == k[0] and s.sr == k[1] and s.gr == k[2] and s.ar == k[3]
                and s.palette == k[4] and s.vbe_regs == k[5] and s.ar_index == k[6]
                and s.vbe_start_addr == k[7] and s.vbe_line_offset == k[8]
                and s.pel_mask == k[9] and s.vram is k[10] and s.dac_8bit == k[11]
                and s.big_endian_fb == k[12]):
            # Nothing the picture's layout or colours depend on changed since the last frame
            # (every test below would say "no full update"): only dirty VRAM is redrawn.
            g = self._geom
            if g.kind == "graphics":
                return self._update_graphics(g, False, self._qemu_vga)
            if g.kind == "text":
                return self._update_text(g, False)
        return self._update_display_checked()

    def _update_display_checked(self) -> UpdateStats:
        """update_display when a register, the palette, VRAM or :meth:`invalidate` may call
        for a full update: each QEMU trigger is tested in turn."""
        s = self.state
        if self._reader.vram is not s.vram:  # VRAM replaced (e.g. a resized RAMBlock)
            self._reader = render.VRAMReader(s.vram)
            self._gcache = None  # its plan views the old VRAM
            self._base_ram_addr = -1
            self._dirty_range = None
            self._invalid = True
        regs = self._key_regs
        if regs is not None and same_key_registers(s, regs):
            key = self._key
        else:
            key = geometry_key(s)
            self._key_regs = key_registers(s)
        full = self._invalid
        key_changed = key != self._key
        key_full = key_changed
        if key_changed:
            self._key = key
            old = self._geom
            self._geom = compute_geometry(s, self.compat)
            # QEMU redraws text only for its own triggers (e.g. not for AR10, CR14, CR17)
            key_full = self._live_text or not (isinstance(old, TextGeometry)
                                               and isinstance(self._geom, TextGeometry)
                                               and old.redraw_key == self._geom.redraw_key)
        g = self._geom
        if g.kind != self._kind:
            self._kind = g.kind
            if g.kind == "text":
                self._text.mode_changed(self.clock.now_ns)
            full = True
        if g.kind in ("graphics", "text") and not (self._live_text and self._live_graphics):
            # QEMU's update_basic_params runs in both vga_draw_text and vga_draw_graphic
            basic_changed = self._qemu_basic_params()
            if not (self._live_text if g.kind == "text" else self._live_graphics):
                full |= basic_changed
        self._qemu_vga = qemu_vga = self._qemu_vga_graphics(g)
        if qemu_vga:
            full |= self._qemu_graphic_params(g)
        else:
            full |= key_changed and key_full
        full |= self._update_palette(g)
        self._invalid = False
        self._steady = self._steady_key(g)
        if g.kind == "graphics":
            self._drawn = True
            return self._update_graphics(g, full, qemu_vga)
        if g.kind == "text":
            self._drawn = True
            return self._update_text(g, full)
        return self._update_blank(g, full)

    def _steady_key(self, g) -> tuple | None:
        """The copies of everything the full-update tests read -- the registers
        geometry_key reads (key_registers), the palette registers (_update_palette's key)
        and the VRAM array -- in one flat tuple that update_display compares field by field
        against the state: while all are equal, every test of _update_display_checked says
        "no full update". None when the picture is blank (that path always checks)."""
        if g.kind not in ("graphics", "text"):
            return None
        regs, pk, s = self._key_regs, self._pkey, self.state
        # key_registers: cr, sr, gr, ar, vbe_regs, ar_index, vbe start, vbe line offset,
        # big_endian_fb; _pkey: palette, ar, pel_mask, dac_8bit
        return (regs[0], regs[1], regs[2], regs[3], pk[0], regs[4], regs[5], regs[6], regs[7],
                pk[2], s.vram, pk[3], regs[8])

    # -- QEMU's full-update decisions (not live_*_registers) ----------------------------
    def _qemu_vga_graphics(self, g) -> bool:
        """Not live_graphics_registers and a VGA (not VBE) graphics picture: QEMU's
        vga_draw_graphic decides what is redrawn (see :meth:`_qemu_graphic_params`)."""
        return (not self._live_graphics and isinstance(g, GraphicsGeometry)
                and not vbe_enabled(self.state))

    def _qemu_basic_params(self) -> bool:
        """QEMU's update_basic_params: True when the line offset, start address or line
        compare changed since the last text or graphics draw."""
        s = self.state
        if vbe_enabled(s):
            basic = (int(s.vbe_line_offset), int(s.vbe_start_addr), 65535)
        else:
            cr = s.cr
            basic = (cr[CR_OFFSET] << 3, (cr[CR_START_HI] << 8) | cr[CR_START_LO], vga_line_compare(s))
        changed = basic != self._qbasic
        self._qbasic = basic
        return changed

    def _qemu_graphic_params(self, g: GraphicsGeometry) -> bool:
        """The rest of vga_draw_graphic's full-update test: shift control or double scan
        changed, or the surface (width, height, line offset). Nothing else forces a redraw
        in QEMU 7.2 -- a changed plane enable (AR12), maximum scan line (CR9 bits 0-4) or
        CRTC mode (CR17) only shows on lines whose VRAM is dirty, so the picture goes stale."""
        s = self.state
        params = ((s.gr[GR_MODE] >> 5) & 3, s.cr[CR_MAX_SCAN] >> 7,
                  g.width, g.height, s.cr[CR_OFFSET] << 3)
        changed = params != self._qgfx
        self._qgfx = params
        return changed

    # -- palette ----------------------------------------------------------------------
    def _update_palette(self, g) -> bool:
        """Recompute colours when any palette register changed; True if the colours the
        current mode uses differ (QEMU's update_palette16/256)."""
        s = self.state
        dac8 = dac_8bit(s)
        pk = self._pkey
        # bytearray == bytes is one memcmp: no copy of the 768 palette bytes per frame
        if (pk is not None and s.palette == pk[0] and s.ar == pk[1] and s.pel_mask == pk[2]
                and dac8 == pk[3]):
            return False
        self._pkey = (bytes(s.palette), bytes(s.ar), s.pel_mask, dac8)
        dac = render.dac_colours(s, dac8)
        # The 16-colour palette (text, planar, CGA, VBE 4 bpp) widens 6-bit DAC values even
        # with the VBE 8-bit DAC on: QEMU's update_palette16 ignores dac_8bit (only
        # update_palette256 reads it). No hardware has that DAC, so both modes do this.
        dac6 = render.dac_colours(s, False) if dac8 else dac
        if self.compat.pel_mask:
            sel = np.arange(256) & s.pel_mask  # the PEL mask ANDs every DAC index
            dac, dac6 = dac[sel], dac6[sel]
        pal16 = dac6[render.palette16_indexes(s)]
        changed16 = not np.array_equal(pal16, self._pal16)
        changed256 = not np.array_equal(dac, self._dac)
        self._dac, self._pal16 = dac, pal16
        self._tables = {"256": dac, "256d": render.doubled(dac), "16": pal16,
                        "16d": render.doubled(pal16), "16p": render.pixel_pairs(pal16)}
        if isinstance(g, GraphicsGeometry):
            return changed256 if g.palette == 256 else (changed16 if g.palette == 16 else False)
        if isinstance(g, TextGeometry):
            return changed16
        return False

    # -- helpers ----------------------------------------------------------------------
    def _set_size(self, width: int, height: int) -> bool:
        if getattr(self, "_fb", None) is not None and self._fb.shape == (height, width):
            return False
        self._fb = np.zeros((height, width), dtype=np.uint32)
        self._surface = self._fb.view(np.uint8).reshape(height, width, 4)[:, :, 2::-1]
        return True

    def _any_dirty(self, page0: int, npages: int) -> bool:
        """Is a DIRTY_MEMORY_VGA bit set on VRAM pages [page0, page0 + npages)?

        The idle test, before any snapshot object is built: the listeners' logs are synced
        (as snapshot_and_clear_dirty would), then DirtyMemory.get_dirty compares the bitmap's
        bytes with zeros. It clears nothing, so a bit a writer sets meanwhile stays for the
        next frame.
        """
        mr = self.vram_mr
        mr.sync_dirty_log()
        if self._base_ram_addr < 0:
            self._base_ram_addr = mr.get_ram_addr()
        return mr.ram_list.dirty.get_dirty(self._base_ram_addr + (page0 << TARGET_PAGE_BITS),
                                           npages << TARGET_PAGE_BITS, _VGA)

    def _take_dirty(self, page0: int, npages: int) -> bytes | None:
        """A partial frame's one look at the bitmap: None when VRAM pages [page0, page0 +
        npages) are clean for DIRTY_MEMORY_VGA (what _any_dirty says), else their bits, one
        0/1 byte per page, snapshotted and cleared (what _snapshot does) in the same call."""
        mr = self.vram_mr
        mr.sync_dirty_log()
        rng = self._dirty_range
        if rng is None or self._dirty_range_pages != (page0, npages):
            # A new picture's range (or new VRAM): checked once, then taken frame after frame.
            rng = self._dirty_range = self._vram_dirty_range(page0, npages)
            self._dirty_range_pages = (page0, npages)
        return rng.take()

    def _vram_dirty_range(self, page0: int, npages: int) -> DirtyRange:
        """The DirtyRange of VRAM pages [page0, page0 + npages) for DIRTY_MEMORY_VGA."""
        mr = self.vram_mr
        if self._base_ram_addr < 0:
            self._base_ram_addr = mr.get_ram_addr()
        return mr.ram_list.dirty.dirty_range(
            self._base_ram_addr + (page0 << TARGET_PAGE_BITS), npages << TARGET_PAGE_BITS, _VGA)

    def _dirty_count(self, page0: int, npages: int) -> int:
        """Dirty VRAM pages in [page0, page0 + npages), without clearing them."""
        if not self._any_dirty(page0, npages):
            return 0
        return self.vram_mr.ram_list.dirty.count_dirty(
            self._base_ram_addr + (page0 << TARGET_PAGE_BITS), npages << TARGET_PAGE_BITS,
            DIRTY_MEMORY_VGA)

    def _snapshot(self, page0: int, npages: int) -> np.ndarray:
        """snapshot_and_clear_dirty(VGA) over VRAM pages [page0, page0 + npages): np.bool_."""
        start = page0 << TARGET_PAGE_BITS
        length = npages << TARGET_PAGE_BITS
        snap = self.vram_mr.snapshot_and_clear_dirty(start, length, DIRTY_MEMORY_VGA)
        base = self.vram_mr.ram_block.offset
        first = ((base + start - snap.start) >> TARGET_PAGE_BITS)
        return snap.pages[first:first + npages]

    # -- graphics ---------------------------------------------------------------------
    def _graphics_cache(self, g: GraphicsGeometry) -> GraphicsLineIndex:
        """Per-geometry index arrays: each line's page span relative to the snapshot, and
        whether several lines show the same VRAM (double scan) so each is converted once."""
        c = self._gcache
        if c is not None and c.geom is g and c.fb is self._fb:
            return c
        a = g.page0 - g.snap_page0
        b = g.page1 - g.snap_page0 + 1
        wrapped = g.page1 < g.page0
        c = GraphicsLineIndex(
            geom=g, idle=UpdateStats(False, 0, 0, 0, (), g.width, g.height, g.description),
            a=a, b=np.where(wrapped, g.snap_npages, b),
            wb=np.where(wrapped, g.page1 + 1, 0), wrapped=bool(wrapped.any()),
            repeats=g.pan is None and _unique(g.line_addr).size < g.height,
            # every even line shows the same VRAM (and panning) as the next one
            pairs=bool(g.height % 2 == 0 and np.array_equal(g.line_addr[0::2], g.line_addr[1::2])
                       and (g.pan is None or np.array_equal(g.pan[0::2], g.pan[1::2]))),
            all_rows=np.arange(g.height), step=_linear_step(g.line_addr))
        if not c.wrapped:
            # page -> lines index (CSR): lines_of_page[ptr[p]:ptr[p + 1]] are the lines whose
            # bytes touch snapshot page p, in line order -- a frame with a few dirty pages
            # finds its lines with a slice per page instead of a pass over all lines.
            counts = (b - a).astype(np.int64)
            total = int(counts.sum())
            first = np.repeat(a - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
            page_of_entry = first + np.arange(total)
            line_of_entry = np.repeat(np.arange(g.height), counts)
            order = np.argsort(page_of_entry, kind="stable")
            ptr = np.zeros(g.snap_npages + 1, dtype=np.int64)
            np.cumsum(np.bincount(page_of_entry, minlength=g.snap_npages), out=ptr[1:])
            c.csr = (ptr.tolist(), line_of_entry[order])
        c.fb = self._fb
        c.plan = self._line_plan(g, c)
        c.one_page = {}
        self._gcache = c
        return c

    def _line_plan(self, g: GraphicsGeometry, c: GraphicsLineIndex) -> LinePlan | None:
        """The geometry's LinePlan, or None when its lines need _convert (see LinePlan)."""
        if g.pan is not None or g.height == 0:
            return None
        if c.pairs:
            addrs = g.line_addr[0::2]
        elif c.repeats:
            return None
        else:
            addrs = g.line_addr
        step = _linear_step(addrs)
        if step is None:
            return None
        n = addrs.size
        first = int(addrs[0])
        vram = self.state.vram
        limit = min(g.addr_mask + 1, vram.size)
        width = g.width // 2 if g.double else g.width
        fb = self._fb

        def view(dtype: str, items: int, stride: int) -> np.ndarray | None:
            span = (items - 1) * stride + np.dtype(dtype).itemsize
            if items <= 0 or first + (n - 1) * step + span > limit:
                return None  # a line would wrap past the end of VRAM
            return np.ndarray((n, items), dtype=dtype, buffer=vram, offset=first,
                              strides=(step, stride))

        drawer = g.drawer
        lut = table = None
        out = fb
        if drawer is Drawer.VBE_32BPP or drawer is Drawer.VBE_24BPP:
            op = PlanOp.MASK_24_BITS
            src = view("<u4", width, 4 if drawer is Drawer.VBE_32BPP else 3)
        elif drawer is Drawer.VBE_16BPP or drawer is Drawer.VBE_15BPP:
            op = PlanOp.LOOKUP
            src = view("<u2", width, 2)
            lut = render.LUT16 if drawer is Drawer.VBE_16BPP else render.LUT15_ZERO
        elif drawer is Drawer.VBE_8BPP:
            op, table = PlanOp.LOOKUP, "256"
            src = view("u1", width, 1)
        elif drawer is Drawer.MODE_13H:
            op, table = PlanOp.LOOKUP, "256d"
            src = view("u1", width // 2, 1)
            out = fb.view(np.uint64)
            if out.shape[1] != width // 2:
                return None
        elif drawer is Drawer.PLANAR_16_COLOUR:
            op, table = PlanOp.PLANAR, "16d" if g.double else "16"
            src = view("u1", width // 8 * 4, 1)
        else:
            return None
        if src is None or (op is not PlanOp.PLANAR and src.shape[1] != out.shape[1]):
            return None
        return LinePlan(op, src, fb, out, c.pairs, lut, table, width, g.plane_mask)

    def _plan_draw(self, p: LinePlan, r0: int, r1: int) -> None:
        """Draw displayed lines [r0, r1) with the geometry's plan (r0, r1 even with pairs)."""
        if p.pairs:
            src, out = p.src[r0 >> 1:r1 >> 1], p.out[r0:r1:2]
        else:
            src, out = p.src[r0:r1], p.out[r0:r1]
        op = p.op
        if op is PlanOp.MASK_24_BITS:
            np.bitwise_and(src, _MASK_24_BITS, out)
        elif op is PlanOp.LOOKUP:
            np.take(self._tables[p.table] if p.lut is None else p.lut, src, out=out, mode="clip")
        else:
            t = self._tables
            render.draw_planar4(src, p.width, p.plane_mask, t[p.table], out,
                                None if p.table == "16d" else t["16p"])
        if p.pairs:
            fb = p.fb
            fb[r0 + 1:r1:2] = fb[r0:r1:2]

    def _update_graphics(self, g: GraphicsGeometry, full: bool, qemu_vga: bool) -> UpdateStats:
        """``qemu_vga``: what :meth:`_qemu_vga_graphics` said of ``g`` this frame."""
        c = self._gcache
        if c is not None and c.geom is g and c.fb is self._fb:
            resized = False  # the index was built for this geometry on this frame buffer
        else:
            resized = self._set_size(g.width, g.height)
            full |= resized
            c = self._graphics_cache(g)
        if qemu_vga:
            # QEMU: a full update takes no snapshot (the dirty bits stay set for the next
            # frame); otherwise the snapshot clears all of VRAM (VGA modes have depth 0, so
            # vga_draw_graphic's region is the whole of it).
            if full:
                return self._draw_full(g, c, resized)
            raw = self._take_dirty(0, self.state.vram_size >> TARGET_PAGE_BITS)
            if raw is None:
                return c.idle
            raw = raw[g.snap_page0:g.snap_page0 + g.snap_npages]
            pages = None
        elif full:
            pages = self._snapshot(g.snap_page0, g.snap_npages)
            raw = pages.tobytes()
        else:
            # _take_dirty, with the range kept by the geometry's index
            rng = c.dirty
            if rng is None:
                rng = c.dirty = self._vram_dirty_range(g.snap_page0, g.snap_npages)
            self.vram_mr.sync_dirty_log()
            raw = rng.take()
            if raw is None:
                return c.idle
            pages = None
        # raw: one byte per page -- str-like searches beat numpy calls here
        first = raw.find(1)
        single = first >= 0 and raw.find(1, first + 1) < 0
        dirty_pages = 1 if single else raw.count(1)
        if full:
            rows = c.all_rows
        elif dirty_pages == 0:
            return c.idle
        elif single and c.csr is not None:
            # The commonest partial frame: one page, whose lines, runs and statistics the
            # geometry fixes -- look them up, draw the runs, done.
            memo = c.one_page.get(first)
            if memo is None:
                memo = c.one_page[first] = self._one_page_frame(g, c, first)
            runs, stats, prepared = memo
            if prepared is not None:
                self._draw_prepared(prepared)
            elif runs:
                ptr, lines = c.csr
                self._draw_lines(g, c, lines[ptr[first]:ptr[first + 1]], runs, False)
            return stats
        elif dirty_pages <= 4 and c.csr is not None:
            ptr, lines = c.csr
            if pages is None:
                pages = np.frombuffer(raw, dtype=np.bool_)
            parts = [lines[ptr[p]:ptr[p + 1]] for p in np.flatnonzero(pages).tolist()]
            rows = parts[0] if len(parts) == 1 else _unique(np.concatenate(parts))
            if rows.size == 0:
                return UpdateStats(False, 0, dirty_pages, 0, (), g.width, g.height, g.description)
        else:
            if pages is None:
                pages = np.frombuffer(raw, dtype=np.bool_)
            cs = np.zeros(pages.size + 1, dtype=np.int32)
            np.cumsum(pages, out=cs[1:])
            hit = cs[c.b] - cs[c.a]
            if c.wrapped:
                hit = hit + cs[c.wb]
            rows = np.nonzero(hit)[0]
            if rows.size == 0:
                return UpdateStats(False, 0, dirty_pages, 0, (), g.width, g.height, g.description)
        runs = _runs(rows)
        self._draw_lines(g, c, rows, runs, full)
        rects = tuple((0, y, g.width, n) for y, n in runs)
        return UpdateStats(full, int(rows.size), dirty_pages, int(rows.size) * g.bwidth, rects,
                           g.width, g.height, g.description, resized)

    @staticmethod
    def _one_page_frame(g: GraphicsGeometry, c: GraphicsLineIndex, page: int):
        """(runs, UpdateStats, prepared) of a partial frame whose only dirty page is snapshot
        page ``page`` -- what the general path below would find, report and draw for it;
        ``prepared``: the runs as :class:`PreparedRun` when the plan can draw every one (few
        runs, even with pairs), else None."""
        ptr, lines = c.csr
        rows = lines[ptr[page]:ptr[page + 1]]
        if rows.size == 0:
            return [], UpdateStats(False, 0, 1, 0, (), g.width, g.height, g.description), None
        runs = _runs(rows)
        rects = tuple((0, y, g.width, n) for y, n in runs)
        p = c.plan
        prepared = None
        if (p is not None and len(runs) <= _DIRECT_RUNS
                and not (p.pairs and any((y | n) & 1 for y, n in runs))):
            prepared = tuple(_prepare_run(p, y, y + n) for y, n in runs)
        return runs, UpdateStats(False, int(rows.size), 1, int(rows.size) * g.bwidth, rects,
                                 g.width, g.height, g.description), prepared

    def _draw_prepared(self, prepared: tuple[PreparedRun, ...]) -> None:
        """Draw a one-page frame's runs: what :meth:`_plan_draw` does for each, its slices
        taken and its scratch arrays allocated when the page was first seen dirty. The
        look-ups call ``ndarray.take`` itself: ``np.take`` adds three Python calls to each,
        a microsecond of a frame that converts a few lines."""
        for r in prepared:
            op = r.op
            if r.plan is not None:
                self._plan_draw(r.plan, *r.lines)
                continue
            if op is PlanOp.MASK_24_BITS:
                np.bitwise_and(r.src, _MASK_24_BITS, r.out)
            elif op is PlanOp.LOOKUP:
                (self._tables[r.table] if r.lut is None else r.lut).take(r.src, out=r.out,
                                                                        mode="clip")
            else:  # planar, two pixels per look-up (render.draw_planar4's pair path)
                idx = r.idx
                r.t01.take(r.src, out=idx, mode="clip")
                r.t23.take(r.src23, out=r.tmp, mode="clip")
                np.bitwise_or(idx, r.tmp, idx)
                self._tables[r.table].take(r.idx8, out=r.out, mode="clip")
            if r.even is not None:
                r.odd[...] = r.even

    def _draw_full(self, g: GraphicsGeometry, c: GraphicsLineIndex, resized: bool) -> UpdateStats:
        rows = c.all_rows
        self._draw_lines(g, c, rows, [(0, g.height)], True)
        return UpdateStats(True, g.height, 0, g.height * g.bwidth, ((0, 0, g.width, g.height),),
                           g.width, g.height, g.description, resized)

    def _draw_lines(self, g: GraphicsGeometry, c: GraphicsLineIndex, rows: np.ndarray,
                    runs: list[tuple[int, int]], full: bool) -> None:
        fb = self._fb
        if full and c.plan is not None:  # the same routine as a partial frame, all lines
            self._plan_draw(c.plan, 0, g.height)
            return
        if full:
            addrs = g.line_addr
            if c.repeats:
                # Double scan: convert each distinct VRAM line once, then copy it to its lines.
                addrs, inv = np.unique(addrs, return_inverse=True)
                np.take(self._convert(g, addrs, None), inv, axis=0, out=fb)
                return
            self._convert(g, addrs, g.pan, out=fb, step=c.step)
            return
        if len(runs) > _DIRECT_RUNS:  # many scattered lines: one gather, one scatter
            addrs = g.line_addr[rows]
            fb[rows] = self._convert(g, addrs, None if g.pan is None else g.pan[rows])
            return
        # A few runs of lines (a few dirty areas): each converted straight into the frame
        # buffer's rows -- no temporary copy of the lines.
        for r0, n in runs:
            self._draw_run(g, c, r0, r0 + n)

    def _draw_run(self, g: GraphicsGeometry, c: GraphicsLineIndex, r0: int, r1: int) -> None:
        p = c.plan
        if p is not None and not (p.pairs and (r0 | r1) & 1):
            self._plan_draw(p, r0, r1)
            return
        fb = self._fb
        pan = None if g.pan is None else g.pan[r0:r1]
        if c.pairs and not r0 & 1 and not r1 & 1:
            # Double scan, whole pairs: convert the even lines, copy them to the odd ones.
            self._convert(g, g.line_addr[r0:r1:2], pan if pan is None else pan[::2],
                          out=fb[r0:r1:2])
            fb[r0 + 1:r1:2] = fb[r0:r1:2]
            return
        self._convert(g, g.line_addr[r0:r1], pan, out=fb[r0:r1], step=c.step)

    def _convert(self, g: GraphicsGeometry, addrs: np.ndarray, pan: np.ndarray | None,
                 out: np.ndarray | None = None, step: int | None = None) -> np.ndarray:
        """The pixels of the lines starting at ``addrs``: (n, surface width) uint32, written
        into ``out`` when given (the frame buffer's rows: no temporary frame). ``step``: the
        lines are ``addrs[0] + i * step`` (VBE modes), so they can be read as one strided
        view of VRAM."""
        drawer = g.drawer
        width = g.width // 2 if g.double else g.width
        limit = g.addr_mask + 1
        reader = self._reader
        t = self._tables
        if drawer in BIG_ENDIAN_DRAWERS:
            return render.draw_big_endian(reader, drawer, addrs, width, limit, step, out)
        if drawer in _DIRECT_COLOUR:
            if drawer is Drawer.VBE_32BPP or drawer is Drawer.VBE_24BPP:
                bytes_per_pixel = 4 if drawer is Drawer.VBE_32BPP else 3
                src = reader.pixels(addrs, "<u4", width, bytes_per_pixel, limit, step)
                if out is None:
                    out = np.empty(src.shape, dtype=np.uint32)
                return np.bitwise_and(src, np.uint32(0x00FFFFFF), out=out)
            words = reader.pixels(addrs, "<u2", width, 2, limit, step)
            lut = render.LUT16 if drawer is Drawer.VBE_16BPP else render.LUT15_ZERO
            return np.take(lut, words, out=out)
        if drawer is Drawer.VBE_8BPP:
            return render.draw_8(reader.rows(addrs, g.bwidth, limit), width, t["256"], out)
        extra = 4 if pan is not None and pan.any() else 0  # one more address: 8 more dots
        block = reader.rows(addrs, g.bwidth + extra, limit)
        direct = None if extra else out  # no panning: the drawer writes the rows itself
        if drawer is Drawer.PLANAR_16_COLOUR:
            pix = render.draw_planar4(block, width + 2 * extra, g.plane_mask,
                                      t["16d"] if g.double else t["16"], direct,
                                      None if g.double else t["16p"])
        elif drawer is Drawer.CGA_4_COLOUR:
            pix = render.draw_cga2(block, width + 2 * extra, g.plane_mask,
                                   t["16d"] if g.double else t["16"])
        else:  # Drawer.MODE_13H
            pix = render.draw_8d2(block, width + 2 * extra, t["256d"], direct)
        if extra:
            res = out if out is not None else np.empty((pix.shape[0], g.width), dtype=np.uint32)
            for p in _unique(pan).tolist():
                sel = pan == p
                res[sel] = pix[sel, p:p + g.width]
            return res
        if out is not None and pix is not out:
            out[...] = pix
            return out
        return pix

    # -- text -------------------------------------------------------------------------
    def _update_text(self, g: TextGeometry, full: bool) -> UpdateStats:
        s = self.state
        resized = self._set_size(g.width, g.height)
        full |= resized
        if not self._live_text:
            # QEMU's vga_draw_text compares cells with its cache and leaves the dirty bitmap
            # alone: the bits stay set for the next graphics frame's snapshot.
            dirty_pages = self._dirty_count(g.snap_page0, g.snap_npages)
        elif full:
            dirty_pages = int(np.count_nonzero(self._snapshot(g.snap_page0, g.snap_npages)))
        else:
            raw = self._take_dirty(g.snap_page0, g.snap_npages)
            dirty_pages = 0 if raw is None else raw.count(1)
        # With a chain-4 alias serving the window, writes bypass plane_updated (QEMU then
        # redraws text fully every frame); comparing the font bytes catches the same change.
        font_written = bool(s.plane_updated & 0x04) or getattr(s, "has_chain4_alias", False)
        if font_written:
            s.plane_updated = 0  # consumed, as QEMU's vga_draw_text does
        redraw_cursor = False
        if not self._live_text:
            # vga_draw_text: a plane 2 write redraws every cell; the 9th-dot rule (AR10 bit 2)
            # is applied to each cell as it is drawn, so changing it alone redraws only the
            # cursor cell (drawn on every frame) -- the other cells keep their old 9th dot.
            full |= font_written
            if full or self._text.glyphs is None or self._text.dup_changed(s.ar[AR_MODE]):
                redraw_cursor = self._text.update_glyphs(s.vram, g, s.ar[AR_MODE])
        elif full or font_written or self._text.glyphs is None:
            full |= self._text.update_glyphs(s.vram, g, s.ar[AR_MODE])
        target = self._fb
        if not g.direct:  # draw whole rows into a scratch buffer, then place them
            shape = (g.cell_addr.shape[0] * g.ch, g.cell_addr.shape[1] * g.cw)
            if self._text_fb is None or self._text_fb.shape != shape:
                self._text_fb = np.zeros(shape, dtype=np.uint32)
                full = True
            target = self._text_fb
        r, cidx = self._text.draw(target, g, s, self._pal16, full, dirty_pages > 0,
                                  self.clock.now_ns, redraw_cursor=redraw_cursor)
        if r.size == 0:
            return UpdateStats(False, 0, dirty_pages, 0, (), g.width, g.height, g.description)
        if not g.direct:
            rows = _unique(r)
            k = np.arange(g.ch)[None, :]
            src = (rows[:, None] * g.ch + k).ravel()
            dst = (g.row_y[rows][:, None] + k).ravel()
            lo, hi = np.repeat(g.row_lo[rows], g.ch), np.repeat(g.row_hi[rows], g.ch)
            keep = (dst >= lo) & (dst < hi)
            src, dst = src[keep], dst[keep]
            pans = (np.repeat(g.pan[rows], g.ch)[keep] if g.pan is not None
                    else np.zeros(src.size, dtype=np.int64))
            for p in _unique(pans).tolist():  # at most two: above and below the split
                sel = pans == p
                self._fb[dst[sel]] = target[src[sel], p:p + g.width]
            rects = tuple((0, y, g.width, n) for y, n in _runs(_unique(dst)))
        else:
            rects = self._text_rects(g, r, cidx)
        nlines = sum(h for _, _, _, h in rects)
        return UpdateStats(full, nlines, dirty_pages, int(r.size) * 2, rects,
                           g.width, g.height, g.description, resized)

    @staticmethod
    def _text_rects(g: TextGeometry, r: np.ndarray, c: np.ndarray):
        """One rectangle per run of character rows with the same changed column span
        (``r`` is sorted: np.nonzero order)."""
        spans: dict[int, list[int]] = {}
        if r.size <= 256:
            for row, col in zip(r.tolist(), c.tolist()):
                sp = spans.get(row)
                if sp is None:
                    spans[row] = [col, col]
                elif col > sp[1]:
                    sp[1] = col
        else:
            rows = _unique(r)
            cmin = np.full(g.rows, g.cols, dtype=np.int64)
            cmax = np.full(g.rows, -1, dtype=np.int64)
            np.minimum.at(cmin, r, c)
            np.maximum.at(cmax, r, c)
            spans = {row: [int(cmin[row]), int(cmax[row])] for row in rows.tolist()}
        rects: list[list[int]] = []
        for row, (a, b) in spans.items():
            last = rects[-1] if rects else None
            if last is not None and last[0] == a and last[1] == b and last[2] + last[3] == row:
                last[3] += 1
            else:
                rects.append([a, b, row, 1])
        return tuple((a * g.cw, row * g.ch, (b - a + 1) * g.cw, n * g.ch)
                     for a, b, row, n in rects)

    # -- blank ------------------------------------------------------------------------
    def _update_blank(self, g: BlankGeometry, full: bool) -> UpdateStats:
        """No picture: hardware sends the overscan colour (AR11 through the DAC) to the
        whole screen; QEMU's vga_draw_blank clears to black at the last size, once, and
        leaves its placeholder alone if nothing was ever drawn. A mode with nothing to draw
        (``draws`` false) leaves the last picture."""
        if g.width and g.height:
            full |= self._set_size(g.width, g.height)
        h, w = self._fb.shape
        if not g.draws:
            full = False
        elif not self.compat.overscan_when_blank:
            colour = 0
            if not self._drawn:
                full = False
        else:
            colour = int(self._dac[self.state.ar[AR_OVERSCAN]]) if g.border else 0
            full |= colour != self._blank_colour
        if not full:
            return UpdateStats(False, 0, 0, 0, (), w, h, g.description)
        self._blank_colour = colour
        self._fb[...] = colour
        return UpdateStats(True, h, 0, 0, ((0, 0, w, h),), w, h, g.description)


#: What QEMU's console shows before the guest draws (ui/console.c, placeholder surface).
PLACEHOLDER_MESSAGE = "Guest has not initialized the display (yet)."


def placeholder_framebuffer(width: int, height: int) -> np.ndarray:
    """QEMU's placeholder surface: the message in the 8x16 VGA font, grey (0xAAAAAA) on
    black, centred on a character grid, one character row above the middle."""
    font = np.frombuffer(rom_path("vgafont16.bin").read_bytes(), dtype=np.uint8)
    font = font[:256 * 16].reshape(256, 16)
    codes = np.frombuffer(PLACEHOLDER_MESSAGE.encode("ascii"), dtype=np.uint8)
    glyphs = np.unpackbits(font[codes][:, :, None], axis=2)  # (chars, 16 rows, 8 dots)
    strip = glyphs.transpose(1, 0, 2).reshape(16, len(codes) * 8)
    fb = np.zeros((height, width), dtype=np.uint32)
    x0 = (width // 8 - len(codes)) // 2 * 8
    y0 = (height // 16 // 2 - 1) * 16
    fb[y0:y0 + 16, x0:x0 + strip.shape[1]] = np.where(strip != 0, 0xAAAAAA, 0)
    return fb


def _pygame():
    """pygame, imported without its "Hello from the pygame community" banner, which would
    land in the output of any program (or pytest's captured stdout) that writes a PNG."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    return pygame


def write_ppm(path: str, rgb: np.ndarray) -> None:
    """Binary PPM (P6), as QEMU's ppm_save."""
    h, w, _ = rgb.shape
    try:
        with open(path, "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (w, h))
            f.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    except OSError as e:
        raise ScreendumpError(f"cannot write screendump {path!r}: {e.strerror}") from e
    except ValueError as e:  # a NUL byte in the path
        raise ScreendumpError(f"cannot write screendump {path!r}: {e}") from e


def write_png(path: str, rgb: np.ndarray) -> None:
    """PNG through pygame (no display needed to encode an image)."""
    pygame = _pygame()

    surf = pygame.image.frombuffer(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes(),
                                   (rgb.shape[1], rgb.shape[0]), "RGB")
    if "\0" in os.fspath(path):  # SDL would cut the name there and write another file
        raise ScreendumpError(f"cannot write screendump {path!r}: embedded null byte")
    try:
        pygame.image.save(surf, path)
    except (pygame.error, OSError) as e:
        raise ScreendumpError(f"cannot write screendump {path!r}: {e}") from e


def read_image(path: str) -> np.ndarray:
    """Load a PNG or PPM as an (H, W, 3) uint8 array (for golden comparisons)."""
    path = os.fspath(path)
    if path.lower().endswith((".ppm", ".pnm")):
        with open(path, "rb") as f:
            data = f.read()
        parts = data.split(maxsplit=4)
        if parts[0] != b"P6":
            raise ScreendumpError(f"{path!r}: not a binary PPM (P6)")
        w, h = int(parts[1]), int(parts[2])
        return np.frombuffer(parts[4][:w * h * 3], dtype=np.uint8).reshape(h, w, 3).copy()
    pygame = _pygame()

    surf = pygame.image.load(path)
    return np.ascontiguousarray(pygame.surfarray.array3d(surf).swapaxes(0, 1))
