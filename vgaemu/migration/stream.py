"""The migration stream format (version 1). All integers little-endian.

::

    header   b"VGAEMUMS" u32 version
    BLOCKS   u8 1, u32 n, n x (u16 len, idstr utf-8, u64 used_length)
    PAGES    u8 2, u16 block index, u32 n, n x u32 page index in the block,
             n x u8 flags (1 = zero page: no data), then 4096 bytes per non-zero page
    PASS     u8 3, u32 pass number               (end of one pass over the dirty pages)
    DEVICE   u8 4, u16 len, name, u32 version, u32 len, state (vmstate.encode_state)
    END      u8 0xFF, u64 total RAM pages sent   (nothing follows)

CONFIG comes first (QEMU's savevm "configuration" section): a destination started differently
(a booted PC's stream into a script's machine, other drives) refuses it before anything is
loaded. Then BLOCKS; the destination compares it with its own RAMBlocks (idstr and
used_length, QEMU's ram_load_precopy checks) before it writes a byte of guest memory. Pages
may come several times (each pass resends what was dirtied); the last copy wins. DEVICE
sections follow the last PAGES record, END closes the stream.
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right
from typing import Iterator, NamedTuple

import numpy as np

from guestmem import TARGET_PAGE_SIZE

from vgaemu.migration.errors import MigrationError

MAGIC = b"VGAEMUMS"
STREAM_VERSION = 2   # 2: the CONFIG record

TAG_BLOCKS = 1
TAG_PAGES = 2
TAG_PASS = 3
TAG_DEVICE = 4
TAG_CONFIG = 5
TAG_END = 0xFF

#: Pages per PAGES record: 4 MiB of data at most, so a cancel or a rate limit acts promptly.
PAGES_PER_RECORD = 1024
PAGE_WORDS = TARGET_PAGE_SIZE // 8

_HDR = struct.Struct("<8sI")
_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_PAGES_HDR = struct.Struct("<BHI")
_PAGES_COUNT = struct.Struct("<HI")
_DEVICE_TAIL = struct.Struct("<II")
#: A page as one numpy item (see pages_record).
_PAGE_ITEM = np.dtype((np.void, TARGET_PAGE_SIZE))


def header() -> bytes:
    return _HDR.pack(MAGIC, STREAM_VERSION)


def config_record(blob: bytes) -> bytes:
    return _U8.pack(TAG_CONFIG) + _U32.pack(len(blob)) + blob


def blocks_record(blocks) -> bytes:
    out = [_U8.pack(TAG_BLOCKS), _U32.pack(len(blocks))]
    for b in blocks:
        name = b.idstr.encode()
        out += [_U16.pack(len(name)), name, _U64.pack(b.used_length)]
    return b"".join(out)


def zero_pages_of(rows: np.ndarray, pages: np.ndarray) -> np.ndarray:
    """A bool per page index in ``pages``: that row of ``rows`` (a block's memory as
    npages x TARGET_PAGE_SIZE uint8) is all zero.

    QEMU's buffer_is_zero returns at the first non-zero word; here the first word of every
    page is gathered at once, and only pages whose first word is zero are read whole --
    guest data pages rarely start with eight zero bytes. Nothing else is copied."""
    words = rows.view(np.uint64)
    maybe = np.flatnonzero(words[pages, 0] == 0)
    zero = np.zeros(pages.size, dtype=bool)
    if maybe.size:
        zero[maybe] = ~words[pages[maybe]].any(axis=1)
    return zero


#: The destination receives runs of at least this many consecutive data pages straight into
#: guest memory (one scatter entry each) and shorter ones through a bounce buffer and one
#: numpy scatter per record: for a run of one or two pages, a memoryview and a kernel iovec
#: cost more than copying the page again (measured: 0.35 against 0.50-0.64 ns/byte for
#: single pages, even at 2 pages, views win from 4). The source sends views of every run: a
#: gathered copy there costs as much as it saves (a fresh buffer per record is faulted in).
VIEW_RUN_PAGES = 3


def record_layout(data: np.ndarray) -> tuple[list[tuple[bool, int, int]], np.ndarray]:
    """How the destination receives the sorted data pages ``data`` of one PAGES record.

    Returns (pieces, short), in stream order: a piece is (True, first, end) for a run of
    pages [first, end) of at least VIEW_RUN_PAGES pages, received straight into guest
    memory, or (False, lo, hi) for ``short[lo:hi]``, consecutive pages of shorter runs that
    land in a bounce buffer first. The stream carries the data pages in order whatever
    either end does, so the sender (``pages_records``) splits on its own."""
    k = int(data.size)
    if not k:
        return [], data[:0]
    breaks = np.flatnonzero(np.diff(data) != 1) + 1
    run_lo = np.concatenate(([0], breaks))
    run_hi = np.concatenate((breaks, [k]))
    long = (run_hi - run_lo) >= VIEW_RUN_PAGES
    if long.all():
        first = data[run_lo].tolist()
        return [(True, a, a + n) for a, n in zip(first, (run_hi - run_lo).tolist())], data[:0]
    if not long.any():
        return [(False, 0, k)], data
    # A piece starts at every long run and at every short run that follows a long one.
    starts = long.copy()
    starts[0] = True
    starts[1:] |= long[:-1]
    piece = np.flatnonzero(starts)
    lo = run_lo[piece]
    hi = np.concatenate((run_lo[piece[1:]], [k]))
    short_pos = np.repeat(~long, run_hi - run_lo)  # per position in data: gathered?
    before = np.concatenate(([0], np.cumsum(short_pos)))  # gathered pages before a position
    pieces = []
    for a, b, is_long, page in zip(lo.tolist(), hi.tolist(), long[piece].tolist(),
                                   data[lo].tolist()):
        if is_long:
            pieces.append((True, page, page + b - a))
        else:
            pieces.append((False, int(before[a]), int(before[b])))
    return pieces, data[short_pos]


class PagesRecord(NamedTuple):
    """One PAGES record ready to send."""

    bufs: list          # the header, then views of guest memory (a sendmsg gather list)
    pages: np.ndarray   # its page indexes in the block
    zero: np.ndarray    # per page: sent as a zero flag, without data
    normal: int         # pages sent with data
    nbytes: int


def pages_record(index: int, host: np.ndarray, pages: np.ndarray) -> tuple[list, int, int]:
    """The PAGES record of ``pages`` (sorted page indexes, at most PAGES_PER_RECORD) of a
    block whose memory is ``host``: (buffers to send, data pages, zero pages)."""
    rec = next(pages_records(index, host, pages, max(int(pages.size), 1)))
    return rec.bufs, rec.normal, int(pages.size) - rec.normal


def pages_records(index: int, host: np.ndarray, pages: np.ndarray,
                  per_record: int | None = None) -> Iterator[PagesRecord]:
    """The PAGES records of ``pages`` (sorted page indexes) of a block whose memory is
    ``host``, ``per_record`` pages each.

    A whole pass over a block is prepared with a few numpy calls (zero test, data pages,
    run breaks); each record is then slices and Python over its runs. That matters more
    than it seems: numpy's nonzero and fancy indexing release the GIL, and with a busy guest
    thread each release costs up to a switch interval (5 ms) to win it back -- a dozen calls
    per record made the sender wait more than it worked. Each run of data pages goes out
    as a view of guest memory (a gather list for sendmsg, never joined or copied in Python);
    a page written after it was read is dirty again for MIGRATION, so the next pass resends
    it whatever this one carried."""
    per = per_record or PAGES_PER_RECORD
    n = int(pages.size)
    if not n:
        return
    rows = host[:(len(host) // TARGET_PAGE_SIZE) * TARGET_PAGE_SIZE].reshape(-1, TARGET_PAGE_SIZE)
    zero = zero_pages_of(rows, pages)
    index_bytes = pages.astype("<u4")
    flag_bytes = zero.astype(np.uint8)
    data = pages[~zero]
    # Data pages before each record, and where the runs of consecutive data pages start.
    before = np.concatenate(([0], np.cumsum(~zero)[per - 1::per])).tolist()
    run_lo = [0] + (np.flatnonzero(np.diff(data) != 1) + 1).tolist()
    run_first = data[run_lo].tolist() if data.size else []
    run_hi = run_lo[1:] + [int(data.size)]
    memory = memoryview(host).cast("B")
    ps = TARGET_PAGE_SIZE
    for r, i in enumerate(range(0, n, per)):
        j = min(i + per, n)
        d0 = before[r]
        d1 = before[r + 1] if r + 1 < len(before) else int(data.size)
        bufs: list = [_PAGES_HDR.pack(TAG_PAGES, index, j - i) + index_bytes[i:j].tobytes()
                      + flag_bytes[i:j].tobytes()]
        if d1 > d0:
            # The runs that overlap this record's data pages, the first and last cut to it.
            k0, k1 = bisect_right(run_lo, d0) - 1, bisect_left(run_lo, d1)
            lo, hi, first = run_lo[k0:k1], run_hi[k0:k1], run_first[k0:k1]
            first[0] += d0 - lo[0]
            lo[0] = d0
            hi[-1] = min(hi[-1], d1)
            bufs += [memory[f * ps:(f + h - a) * ps] for f, a, h in zip(first, lo, hi)]
        yield PagesRecord(bufs, pages[i:j], zero[i:j], d1 - d0,
                          len(bufs[0]) + (d1 - d0) * TARGET_PAGE_SIZE)


def pass_record(number: int) -> bytes:
    return _U8.pack(TAG_PASS) + _U32.pack(number)


def device_record(name: str, version: int, blob: bytes) -> bytes:
    nm = name.encode()
    return _U8.pack(TAG_DEVICE) + _U16.pack(len(nm)) + nm + _DEVICE_TAIL.pack(version, len(blob)) + blob


def end_record(pages_sent: int) -> bytes:
    return _U8.pack(TAG_END) + _U64.pack(pages_sent)


# ---- reading ------------------------------------------------------------------------------

#: A device section larger than this is refused (a corrupt length must not allocate GiBs).
MAX_DEVICE_STATE = 64 << 20


#: The destination reads ahead this much: a record's header, page list and flags (and the
#: next record's, after a small one) come in one system call, not five.
READ_AHEAD = 64 << 10


class StreamReader:
    """Reads records off a Channel, checking each length against what this machine holds.

    Small reads are served from a read-ahead buffer; page data goes from that buffer's tail
    and then straight from the channel into guest memory (``_readinto_views``)."""

    def __init__(self, channel) -> None:
        self.ch = channel
        self.bytes_read = 0
        self._bounce: np.ndarray | None = None
        self._ahead = memoryview(bytearray(READ_AHEAD))
        self._pos = self._end = 0

    def _bounce_rows(self, n: int) -> np.ndarray | None:
        """A reused (PAGES_PER_RECORD, page) buffer for the pages of short runs, allocated
        and faulted in on the first record that needs it (a fresh one per record would
        fault every page again)."""
        if not n:
            return None
        if self._bounce is None or len(self._bounce) < n:
            self._bounce = np.empty((max(n, PAGES_PER_RECORD), TARGET_PAGE_SIZE), np.uint8)
            self._bounce.fill(0)
        return self._bounce

    def _read(self, n: int) -> bytes:
        buf, pos, end = self._ahead, self._pos, self._end
        if end - pos >= n:
            self._pos = pos + n
            self.bytes_read += n
            return bytes(buf[pos:pos + n])
        if n > len(buf):
            out = bytearray(n)
            have = end - pos
            out[:have] = buf[pos:end]
            self._pos = self._end = 0
            self.ch.readinto_exact(memoryview(out)[have:])
            self.bytes_read += n
            return bytes(out)
        have = end - pos
        buf[:have] = buf[pos:end]
        while have < n:
            k = self.ch.read_some(buf[have:])
            if not k:
                raise MigrationError(f"the migration stream from {self.ch.name} ended early "
                                     "(connection closed or file truncated)")
            have += k
        self._pos, self._end = n, have
        self.bytes_read += n
        return bytes(buf[:n])

    def _readinto_views(self, views: list) -> None:
        """Fill ``views`` in order: what was read ahead first, the rest in one scatter read."""
        buf, pos, end = self._ahead, self._pos, self._end
        i = 0
        while i < len(views) and pos < end:
            v = views[i]
            take = min(len(v), end - pos)
            v[:take] = buf[pos:pos + take]
            pos += take
            if take < len(v):
                views[i] = v[take:]
                break
            i += 1
        self._pos = pos
        if i < len(views):
            self.ch.readinto_views(views[i:])

    def read_header(self) -> None:
        raw = self._read(_HDR.size)
        magic, version = _HDR.unpack(raw)
        if magic != MAGIC:
            raise MigrationError("not a vgaemu migration stream (bad magic "
                                 f"{magic!r}, expected {MAGIC!r})")
        if version != STREAM_VERSION:
            raise MigrationError(f"migration stream version {version} is not supported "
                                 f"(this vgaemu reads version {STREAM_VERSION})")

    def tag(self) -> int:
        return self._read(1)[0]

    def u16(self) -> int:
        return _U16.unpack(self._read(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._read(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self._read(8))[0]

    def read_blocks(self) -> list[tuple[str, int]]:
        n = self.u32()
        if n > 4096:
            raise MigrationError(f"migration stream lists {n} RAM blocks: corrupt")
        out = []
        for _ in range(n):
            ln = self.u16()
            try:
                name = self._read(ln).decode()
            except UnicodeDecodeError:
                raise MigrationError("migration stream: a RAM block name is not UTF-8") from None
            out.append((name, self.u64()))
        return out

    def read_pages_into(self, blocks: list) -> tuple[int, int]:
        """One PAGES record into the destination's RAM. Returns (data pages, zero pages)."""
        index, n = _PAGES_COUNT.unpack(self._read(_PAGES_COUNT.size))
        if index >= len(blocks):
            raise MigrationError(f"migration stream: page record for RAM block #{index}, "
                                 f"but the stream announced {len(blocks)} blocks")
        block = blocks[index]
        npages = block.used_length // TARGET_PAGE_SIZE
        if not 0 < n <= PAGES_PER_RECORD:
            raise MigrationError(f"migration stream: page record with {n} pages: corrupt")
        lists = self._read(5 * n)
        pages = np.frombuffer(lists, dtype="<u4", count=n).astype(np.int64)
        zero = np.frombuffer(lists, dtype=np.uint8, offset=4 * n)
        if int(pages.max()) >= npages:
            raise MigrationError(f"migration stream: page {int(pages.max())} is beyond RAM block "
                                 f"{block.idstr!r} ({npages} pages)")
        if n > 1 and not (np.diff(pages) > 0).all():
            raise MigrationError("migration stream: page indexes out of order: corrupt")
        if (zero > 1).any():
            raise MigrationError("migration stream: bad page flags: corrupt")
        host = block.host
        rows = host[:npages * TARGET_PAGE_SIZE].reshape(npages, TARGET_PAGE_SIZE)
        zmask = zero.astype(bool)
        data_pages = pages[~zmask]
        k = int(data_pages.size)
        if k:
            # One scatter read (recvmsg_into): long runs straight into guest memory, the
            # pages of short runs into the bounce buffer, then one numpy scatter into RAM.
            pieces, short = record_layout(data_pages)
            bounce = self._bounce_rows(short.size)
            memory = memoryview(host).cast("B")
            spare = memoryview(bounce).cast("B") if short.size else None
            ps = TARGET_PAGE_SIZE
            self._readinto_views([(memory if as_view else spare)[a * ps:b * ps]
                                  for as_view, a, b in pieces])
            if short.size:
                rows.view(_PAGE_ITEM)[short, 0] = bounce[:short.size].view(_PAGE_ITEM)[:, 0]
            self.bytes_read += k * TARGET_PAGE_SIZE
        if k < n:
            # QEMU's ram_handle_zero: write only pages that are not zero already, so a fresh
            # destination page is not faulted in just to be zeroed again.
            zpages = pages[zmask]
            a, b = int(zpages[0]), int(zpages[-1]) + 1
            current = rows[a:b] if b - a == zpages.size else rows[zpages]
            stale = current.view(np.uint64).any(axis=1)
            if stale.any():
                rows[zpages[stale]] = 0
        return k, n - k

    def read_device(self) -> tuple[str, int, bytes]:
        ln = self.u16()
        try:
            name = self._read(ln).decode()
        except UnicodeDecodeError:
            raise MigrationError("migration stream: a device section name is not UTF-8") from None
        version, size = _DEVICE_TAIL.unpack(self._read(_DEVICE_TAIL.size))
        if size > MAX_DEVICE_STATE:
            raise MigrationError(f"migration stream: device section {name!r} claims {size} "
                                 "bytes: corrupt")
        return name, version, self._read(size)

    def read_config(self) -> bytes:
        size = self.u32()
        if size > MAX_DEVICE_STATE:
            raise MigrationError(f"migration stream: configuration claims {size} bytes: corrupt")
        return self._read(size)
