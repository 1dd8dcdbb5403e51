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
_DEVICE_TAIL = struct.Struct("<II")


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


def page_runs(pages: np.ndarray) -> list[tuple[int, int]]:
    """Sorted page indexes as (first, end) runs of consecutive pages."""
    if not pages.size:
        return []
    breaks = np.flatnonzero(np.diff(pages) != 1) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [pages.size]))
    return [(int(pages[a]), int(pages[b - 1]) + 1) for a, b in zip(starts.tolist(), ends.tolist())]


def pages_record(index: int, host: np.ndarray, pages: np.ndarray) -> tuple[list, int, int]:
    """The PAGES record of ``pages`` (sorted page indexes) of a block whose memory is
    ``host``: (buffers to send, data pages, zero pages). The data goes out as views of guest
    memory, one per run of consecutive non-zero pages (a gather list for sendmsg), never
    copied in Python."""
    n = int(pages.size)
    rows = host[:(len(host) // TARGET_PAGE_SIZE) * TARGET_PAGE_SIZE].reshape(-1, TARGET_PAGE_SIZE)
    zero = zero_pages_of(rows, pages)
    nzero = int(zero.sum())
    head = _PAGES_HDR.pack(TAG_PAGES, index, n) + pages.astype("<u4").tobytes() + \
        zero.astype(np.uint8).tobytes()
    if nzero == n:
        return [head], 0, n
    data = pages[~zero] if nzero else pages
    bufs: list = [head]
    for a, b in page_runs(data):
        bufs.append(memoryview(host[a * TARGET_PAGE_SIZE:b * TARGET_PAGE_SIZE]))
    return bufs, n - nzero, nzero


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


class StreamReader:
    """Reads records off a Channel, checking each length against what this machine holds."""

    def __init__(self, channel) -> None:
        self.ch = channel
        self.bytes_read = 0

    def _read(self, n: int) -> bytes:
        data = self.ch.read_exact(n)
        self.bytes_read += n
        return data

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
        index = self.u16()
        n = self.u32()
        if index >= len(blocks):
            raise MigrationError(f"migration stream: page record for RAM block #{index}, "
                                 f"but the stream announced {len(blocks)} blocks")
        block = blocks[index]
        npages = block.used_length // TARGET_PAGE_SIZE
        if not 0 < n <= PAGES_PER_RECORD:
            raise MigrationError(f"migration stream: page record with {n} pages: corrupt")
        pages = np.frombuffer(self._read(4 * n), dtype="<u4").astype(np.int64)
        zero = np.frombuffer(self._read(n), dtype=np.uint8)
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
            # Straight into guest memory: one view per run of consecutive pages, filled by
            # one scatter read (recvmsg_into) -- no bounce buffer, no copy in Python.
            self.ch.readinto_views([memoryview(rows[a:b]).cast("B")
                                    for a, b in page_runs(data_pages)])
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
