"""Graphics line drawing: VRAM bytes of many scanlines to XRGB8888 pixels in one numpy pass.

The counterpart of QEMU's ``vga_draw_line*`` (hw/display/vga-helpers.h), vectorised over
lines: the display loop gathers the bytes of every line it redraws as one (lines, bytes) block
(a row gather from a sliding-window view of VRAM, i.e. one memcpy per line), and a drawer turns
the whole block into pixels with table lookups. Pixels are ``uint32`` 0x00RRGGBB, QEMU's
surface format (pixman x8r8g8b8); the palette tables are built once per palette change.
"""

from __future__ import annotations

import enum

import numpy as np

from .state import AR_COLOR_PAGE, AR_MODE, VGAState


class Drawer(enum.StrEnum):
    """The line drawer a graphics mode needs, named for the modes it draws; the value is the
    suffix of QEMU's ``vga_draw_line*`` function (hw/display/vga-helpers.h)."""

    #: 16-colour planar modes 0Dh, 0Eh, 10h, 12h (and VBE 4 bpp): four planes, one bit each.
    PLANAR_16_COLOUR = "planar4"
    #: CGA 4-colour modes 04h/05h: 2-bit pixels interleaved across planes 0/1 (shift mode).
    CGA_4_COLOUR = "cga2"
    #: 256 colours, one byte per pixel drawn two dots wide: mode 13h and mode X.
    MODE_13H = "8d2"
    #: VBE packed 8 bpp through the DAC.
    VBE_8BPP = "8"
    #: VBE direct colour, little-endian framebuffer.
    VBE_15BPP = "15"
    VBE_16BPP = "16"
    VBE_24BPP = "24"
    VBE_32BPP = "32"
    #: VBE direct colour with the MMIO BAR's big-endian framebuffer byte order.
    VBE_15BPP_BIG_ENDIAN = "15be"
    VBE_16BPP_BIG_ENDIAN = "16be"
    VBE_24BPP_BIG_ENDIAN = "24be"
    VBE_32BPP_BIG_ENDIAN = "32be"

    @classmethod
    def direct_colour(cls, bpp: int, big_endian: bool) -> Drawer:
        """The drawer of a VBE direct-colour depth (15, 16, 24 or 32 bpp)."""
        return cls(f"{bpp}be" if big_endian else str(bpp))


#: Drawers of a big-endian framebuffer (:func:`draw_big_endian`).
BIG_ENDIAN_DRAWERS = frozenset({Drawer.VBE_15BPP_BIG_ENDIAN, Drawer.VBE_16BPP_BIG_ENDIAN,
                                Drawer.VBE_24BPP_BIG_ENDIAN, Drawer.VBE_32BPP_BIG_ENDIAN})

# 6-bit DAC value to 8 bits, as QEMU's c6_to_8: (v << 2) | (v & 1) << 1 | (v & 1).
_C6 = np.arange(256, dtype=np.uint32) & 0x3F
C6_TO_8 = ((_C6 << 2) | ((_C6 & 1) << 1) | (_C6 & 1)).astype(np.uint32)


def _expand_bits_u64() -> np.ndarray:
    """Byte b -> uint64 whose byte i is bit (7 - i) of b: one plane's 8 pixels, MSB first."""
    b = np.arange(256, dtype=np.uint64)
    out = np.zeros(256, dtype=np.uint64)
    for i in range(8):
        out |= ((b >> np.uint64(7 - i)) & np.uint64(1)) << np.uint64(8 * i)
    return out


def _expand_pairs_u32() -> np.ndarray:
    """Byte b -> uint32 whose byte i is bits (7-2i, 6-2i) of b: four CGA 2-bit pixels."""
    b = np.arange(256, dtype=np.uint32)
    out = np.zeros(256, dtype=np.uint32)
    for i in range(4):
        out |= ((b >> np.uint32(6 - 2 * i)) & np.uint32(3)) << np.uint32(8 * i)
    return out


EXPAND8 = _expand_bits_u64()
EXPAND2 = _expand_pairs_u32()


def _hicolor_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """15/16-bit pixel -> XRGB, as a QEMU 7.2 screendump shows them (Bochs VBE has no
    hardware to follow): 16 bpp surfaces are shared with the display and widened by pixman
    with bit replication (LUT16: r5 -> r5 r5[4:2], white is 255); 15 bpp is always drawn into
    a shadow surface by vga_draw_line15, whose low bits stay zero (LUT15_ZERO: white is 248).
    LUT15 (replicating) is kept for front ends that want it.
    """
    v = np.arange(65536, dtype=np.uint32)
    r5, g6, b5 = (v >> 11) & 0x1F, (v >> 5) & 0x3F, v & 0x1F
    t16 = (((r5 << 3) | (r5 >> 2)) << 16) | (((g6 << 2) | (g6 >> 4)) << 8) | ((b5 << 3) | (b5 >> 2))
    r5, g5 = (v >> 10) & 0x1F, (v >> 5) & 0x1F
    t15 = (((r5 << 3) | (r5 >> 2)) << 16) | (((g5 << 3) | (g5 >> 2)) << 8) | ((b5 << 3) | (b5 >> 2))
    t15z = ((r5 << 3) << 16) | ((g5 << 3) << 8) | (b5 << 3)
    return t15, t16, t15z


LUT15, LUT16, LUT15_ZERO = _hicolor_tables()


def _big_endian_tables() -> tuple[np.ndarray, np.ndarray]:
    """15/16-bit pixels of a big-endian framebuffer, indexed by the little-endian word as read.

    QEMU has no pixman format for byte-swapped 15/16 bpp, so these always go through
    vga_draw_line15_be/16_be into a shadow surface: the low bits of each channel stay zero.
    """
    le = np.arange(65536, dtype=np.uint32)
    v = ((le & 0xFF) << 8) | (le >> 8)  # lduw_be of the same two bytes
    be15 = (((v >> 7) & 0xF8) << 16) | (((v >> 2) & 0xF8) << 8) | ((v << 3) & 0xF8)
    be16 = (((v >> 8) & 0xF8) << 16) | (((v >> 3) & 0xFC) << 8) | ((v << 3) & 0xF8)
    return be15.astype(np.uint32), be16.astype(np.uint32)


LUT15_BE, LUT16_BE = _big_endian_tables()


def draw_big_endian(reader: "VRAMReader", drawer: Drawer, addrs: np.ndarray, width: int,
                    limit: int, step: int | None, out: np.ndarray | None) -> np.ndarray:
    """Direct-colour lines of a big-endian framebuffer (``big_endian_fb``), as QEMU shows them:
    32 bpp is a shared b8g8r8x8 surface (bytes x, R, G, B), 24 bpp a shared b8g8r8 one
    (bytes R, G, B), 15/16 bpp the *_be line drawers (see :func:`_big_endian_tables`)."""
    if drawer in (Drawer.VBE_32BPP_BIG_ENDIAN, Drawer.VBE_24BPP_BIG_ENDIAN):
        bytes_per_pixel = 4 if drawer is Drawer.VBE_32BPP_BIG_ENDIAN else 3
        src = reader.pixels(addrs, "<u4", width, bytes_per_pixel, limit, step)
        swapped = src.byteswap()
        if out is None:
            out = np.empty(src.shape, dtype=np.uint32)
        if drawer is Drawer.VBE_32BPP_BIG_ENDIAN:
            return np.bitwise_and(swapped, np.uint32(0x00FFFFFF), out=out)
        return np.right_shift(swapped, np.uint32(8), out=out)
    words = reader.pixels(addrs, "<u2", width, 2, limit, step)
    return np.take(LUT16_BE if drawer is Drawer.VBE_16BPP_BIG_ENDIAN else LUT15_BE, words,
                   out=out)


def dac_colours(s: VGAState, dac8: bool) -> np.ndarray:
    """The 256 DAC entries as XRGB uint32 (6-bit values widened unless the 8-bit DAC is on)."""
    pal = np.frombuffer(bytes(s.palette), dtype=np.uint8).reshape(256, 3).astype(np.uint32)
    if not dac8:
        pal = C6_TO_8[pal]
    return (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]


def palette16_indexes(s: VGAState) -> np.ndarray:
    """The DAC index of each 4-bit pixel value, through the attribute controller's palette
    (AR0-AR0F) and colour select (AR14; AR10 bit 7 picks P5-P4 from AR14 too), as hardware
    and QEMU's update_palette16."""
    ar = np.frombuffer(bytes(s.ar[:16]), dtype=np.uint8).astype(np.uint32)
    sel = s.ar[AR_COLOR_PAGE]
    if s.ar[AR_MODE] & 0x80:
        return ((sel & 0x0F) << 4) | (ar & 0x0F)
    return ((sel & 0x0C) << 4) | (ar & 0x3F)


def doubled(pal32: np.ndarray) -> np.ndarray:
    """A palette whose entries are two equal pixels (uint64): one lookup draws a doubled pixel."""
    p = pal32.astype(np.uint64)
    return p | (p << np.uint64(32))


def pixel_pairs(pal32: np.ndarray) -> np.ndarray:
    """The 256-entry uint64 table of two adjacent 16-colour pixels: entry ``a | b << 4`` is
    pixel a then pixel b (low word first, as the frame buffer holds them) -- one lookup
    draws two pixels of a planar line (see :func:`plane_nibble_tables`)."""
    i = np.arange(256)
    return pal32[i & 15].astype(np.uint64) | (pal32[i >> 4].astype(np.uint64) << np.uint64(32))


class VRAMReader:
    """Row gathers from VRAM without per-line Python work.

    ``rows`` uses a sliding-window view (one row per possible start byte), so ``win[addrs]``
    copies each wanted line with one memcpy. ``pixels`` does the same with a typed view
    (uint16 / uint32 items at a 2-, 3- or 4-byte stride) so that 15/16/24/32 bpp lines come
    out as pixel words directly, and with ``out=`` straight into the frame buffer.
    """

    __slots__ = ("vram", "_windows")

    def __init__(self, vram: np.ndarray):
        self.vram = vram
        self._windows: dict[tuple, np.ndarray] = {}

    def _window(self, dtype: str, width: int, stride: int, limit: int) -> np.ndarray | None:
        key = (dtype, width, stride, limit)
        win = self._windows.get(key)
        if win is None:
            span = (width - 1) * stride + np.dtype(dtype).itemsize
            if span > limit:
                return None
            win = np.ndarray((limit - span + 1, width), dtype=dtype, buffer=self.vram,
                             strides=(1, stride))
            self._windows[key] = win
        return win

    def rows(self, addrs: np.ndarray, nbytes: int, limit: int) -> np.ndarray:
        """Bytes [a, a + nbytes) of VRAM for each address, wrapping at ``limit`` (a power of 2)."""
        win = self._window("u1", nbytes, 1, limit)
        if win is not None and int(addrs.max()) < win.shape[0]:
            return win[addrs]
        # Rare: lines that run past the end of VRAM wrap to its start (QEMU's vbe_size_mask).
        idx = (addrs[:, None] + np.arange(nbytes, dtype=np.int64)[None, :]) & (limit - 1)
        return self.vram[idx]

    def pixels(self, addrs: np.ndarray, dtype: str, width: int, stride: int, limit: int,
               step: int | None = None) -> np.ndarray:
        """Little-endian pixel words of ``width`` pixels ``stride`` bytes apart per line.

        With ``step`` (the lines are ``addrs[0] + i * step``, as in VBE modes) the result is a
        zero-copy strided view of VRAM; otherwise a gathered copy.
        """
        size = np.dtype(dtype).itemsize
        span = (width - 1) * stride + size
        n = len(addrs)
        if step is not None and n:
            first = int(addrs[0])
            if step >= 0 and first + (n - 1) * step + span <= limit:
                return np.ndarray((n, width), dtype=dtype, buffer=self.vram, offset=first,
                                  strides=(step, stride))
        win = self._window(dtype, width, stride, limit)
        if win is not None and int(addrs.max()) < win.shape[0]:
            return win[addrs]
        idx = (addrs[:, None] + np.arange(span, dtype=np.int64)[None, :]) & (limit - 1)
        raw = np.ascontiguousarray(self.vram[idx])
        return np.ndarray((n, width), dtype=dtype, buffer=raw,
                          strides=(raw.strides[0], stride)).copy()


def _lookup(pal: np.ndarray, pix: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Palette lookup of an (n, k) index array: (n, k) uint32 pixels, or (n, 2k) with the
    doubled uint64 palette. With ``out`` (frame-buffer rows) the lookup writes straight into
    it -- no temporary lines, no second copy; mode="clip" (indexes never exceed the
    palette) keeps numpy from buffering the output."""
    n = pix.shape[0]
    if out is not None and out.dtype == np.uint32 and out.strides[-1] == 4:
        target = out if pal.dtype == np.uint32 else out.view(np.uint64)
        if target.shape == pix.shape:
            np.take(pal, pix, out=target, mode="clip")
            return out
    res = np.take(pal, pix)
    res = res.view(np.uint32).reshape(n, -1) if res.dtype == np.uint64 else res
    if out is not None:
        out[...] = res
        return out
    return res


#: EXPAND8 shifted to each plane's bit of the pixel index: one gather and one OR per plane.
EXPAND8_PLANES = tuple(EXPAND8 << np.uint64(p) for p in range(4))

#: Up to this many planar addresses (a partial frame's few lines), two plane pairs are looked
#: up at once in 64 Ki-entry tables: half the numpy calls. Above it the four 2 KiB tables,
#: which stay in the CPU's cache over a whole frame, are faster.
PLANE_PAIR_MAX_ADDRS = 64 * 80

_plane_pair_tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def plane_pair_tables(plane_mask: int) -> tuple[np.ndarray, np.ndarray]:
    """(planes 0+1, planes 2+3): the little-endian 16-bit word of two plane bytes -> the
    uint64 of their 8 pixels' index bits, planes masked by ``plane_mask`` (built once per
    mask, 512 KiB each)."""
    t = _plane_pair_tables.get(plane_mask)
    if t is None:
        word = np.arange(65536)
        lo, hi = word & 0xFF, word >> 8
        zero = np.zeros(65536, dtype=np.uint64)

        def plane(p, byte):
            return EXPAND8_PLANES[p][byte] if plane_mask >> p & 1 else zero

        t = _plane_pair_tables[plane_mask] = (plane(0, lo) | plane(1, hi),
                                              plane(2, lo) | plane(3, hi))
    return t


_plane_nibble_tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def plane_nibble_tables(plane_mask: int) -> tuple[np.ndarray, np.ndarray]:
    """(planes 0+1, planes 2+3): the little-endian 16-bit word of two plane bytes -> a uint32
    whose byte k holds pixel 2k's index bits in its low nibble and pixel 2k+1's in its high
    nibble (the bits those two planes give), planes masked by ``plane_mask``. OR-ing the two
    gives each byte as a :func:`pixel_pairs` index: half the lookups of one per pixel, and
    256 KiB tables (built once per mask)."""
    t = _plane_nibble_tables.get(plane_mask)
    if t is None:
        word = np.arange(65536, dtype=np.uint32)
        lo, hi = word & 0xFF, word >> 8

        def table(pa: int, pb: int) -> np.ndarray:
            out = np.zeros(65536, dtype=np.uint32)
            for j in range(8):  # pixel j comes from bit 7 - j of each plane byte
                bits = np.zeros(65536, dtype=np.uint32)
                if plane_mask >> pa & 1:
                    bits |= ((lo >> (7 - j)) & 1) << pa
                if plane_mask >> pb & 1:
                    bits |= ((hi >> (7 - j)) & 1) << pb
                out |= bits << (8 * (j // 2) + 4 * (j % 2))
            return out

        t = _plane_nibble_tables[plane_mask] = (table(0, 1), table(2, 3))
    return t


def draw_planar4(block: np.ndarray, width: int, plane_mask: int, pal: np.ndarray,
                 out: np.ndarray | None = None, pairs: np.ndarray | None = None) -> np.ndarray:
    """16-colour planar (vga_draw_line4[d2]): 4 plane bytes per planar address, 8 pixels;
    pixel bit p from plane p, leftmost pixel from bit 7; planes masked by AR12.
    ``pal`` is uint32 (normal) or the doubled uint64 palette (d2). Returns (n, width') uint32,
    written into ``out`` when given. ``pairs`` (:func:`pixel_pairs` of a uint32 ``pal``),
    with frame-buffer rows ``out`` of ``width`` pixels: two pixels per lookup."""
    n = block.shape[0]
    nb = width // 8
    if (pairs is not None and out is not None and out.dtype == np.uint32
            and out.shape == (n, nb * 8) and out.strides[-1] == 4):
        t01, t23 = plane_nibble_tables(plane_mask & 0xF)
        words = block[:, :nb * 4].view("<u2").reshape(n, nb, 2)
        idx = np.take(t01, words[:, :, 0])
        np.bitwise_or(idx, np.take(t23, words[:, :, 1]), out=idx)
        np.take(pairs, idx.view(np.uint8).reshape(n, nb * 4), out=out.view(np.uint64),
                mode="clip")
        return out
    if n * nb <= PLANE_PAIR_MAX_ADDRS:
        t01, t23 = plane_pair_tables(plane_mask & 0xF)
        words = block[:, :nb * 4].view("<u2").reshape(n, nb, 2)
        idx = np.take(t01, words[:, :, 0])
        np.bitwise_or(idx, np.take(t23, words[:, :, 1]), out=idx)
        return _lookup(pal, idx.view(np.uint8).reshape(n, nb * 8), out)
    planes = block[:, :nb * 4].reshape(n, nb, 4)
    idx = None
    for p in range(4):
        if plane_mask & (1 << p):
            part = np.take(EXPAND8_PLANES[p], planes[:, :, p])
            if idx is None:
                idx = part
            else:
                np.bitwise_or(idx, part, out=idx)
    if idx is None:
        idx = np.zeros((n, nb), dtype=np.uint64)
    return _lookup(pal, idx.view(np.uint8).reshape(n, nb * 8), out)


def draw_cga2(block: np.ndarray, width: int, plane_mask: int, pal: np.ndarray) -> np.ndarray:
    """4-colour CGA (vga_draw_line2[d2]): per planar address, plane 0's byte gives 4 pixels of
    2 bits (plane 2's byte the upper 2 bits), then plane 1's (with plane 3)."""
    n = block.shape[0]
    nb = width // 8
    planes = block[:, :nb * 4].reshape(n, nb, 4)
    if plane_mask != 0xF:
        m = np.array([0xFF if plane_mask & (1 << p) else 0 for p in range(4)], dtype=np.uint8)
        planes = planes & m
    e = EXPAND2
    pix = np.empty((n, nb, 2), dtype=np.uint32)
    pix[:, :, 0] = e[planes[:, :, 0]] | (e[planes[:, :, 2]] << np.uint32(2))
    pix[:, :, 1] = e[planes[:, :, 1]] | (e[planes[:, :, 3]] << np.uint32(2))
    out = np.take(pal, pix.view(np.uint8).reshape(n, nb * 8))
    return out.view(np.uint32).reshape(n, -1) if out.dtype == np.uint64 else out


def draw_8d2(block: np.ndarray, width: int, pal64: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """256-colour VGA (vga_draw_line8d2): one byte per pixel, each pixel two dots wide;
    written into ``out`` when given."""
    return _lookup(pal64, block[:, :width // 2], out)


def draw_8(block: np.ndarray, width: int, pal: np.ndarray, out=None) -> np.ndarray:
    return np.take(pal, block[:, :width], out=out)
