"""Property test of precopy's iteration logic against a model: random guest writes between
and during passes; at the end the destination equals the source, every page written after
it was last sent was sent again, and no page was sent more often than it was written (plus
the bulk copy)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from guestmem import AddressSpace, MemoryRegion, RAMList
from vgaemu.migration import stream
from vgaemu.migration.precopy import RAMSaver

PAGE = 4096
SIZES = {"a": 40, "b": 24}  # pages per block


class Channel:
    """Collects the stream; read side for StreamReader."""

    def __init__(self):
        self.parts, self.data, self.pos = [], b"", 0

    def read_exact(self, n):
        out = self.data[self.pos:self.pos + n]
        assert len(out) == n
        self.pos += n
        return out

    def readinto_exact(self, view):
        view[:] = memoryview(self.read_exact(len(view)))

    def readinto_views(self, views):
        for v in views:
            self.readinto_exact(v)

    def read_some(self, view):  # a short read, as a socket gives
        out = self.data[self.pos:self.pos + min(len(view), 7)]
        self.pos += len(out)
        view[:len(out)] = out
        return len(out)


class DestBlock:
    def __init__(self, idstr, pages):
        self.idstr, self.used_length = idstr, pages * PAGE
        self.host = np.full(pages * PAGE, 0xCC, np.uint8)


writes_st = st.lists(st.tuples(st.sampled_from(sorted(SIZES)), st.integers(0, 63),
                               st.integers(0, PAGE - 8), st.integers(1, 255)), max_size=6)


@settings(max_examples=80, deadline=None)
@given(before=writes_st, during=st.lists(writes_st, max_size=30), passes=st.integers(1, 4),
       between=st.lists(writes_st, min_size=4, max_size=4), per_record=st.sampled_from([1, 3, 8]))
def test_every_page_written_after_its_last_send_is_sent_again(before, during, passes, between,
                                                              per_record):
    old = stream.PAGES_PER_RECORD
    stream.PAGES_PER_RECORD = per_record
    try:
        _run(before, during, passes, between)
    finally:
        stream.PAGES_PER_RECORD = old


def _run(before, during, passes, between):
    rl = RAMList()
    root = MemoryRegion.container("sys", 1 << 32)
    base = {}
    addr = 0
    for name, pages in SIZES.items():
        mr = MemoryRegion.ram(name, pages * PAGE, ram_list=rl)
        root.add_subregion(addr, mr)
        base[name] = addr
        addr += pages * PAGE
    space = AddressSpace(root, "model")
    clock = [0]
    last_write: dict[tuple[str, int], int] = {}
    writes_after_setup: dict[tuple[str, int], int] = {}
    sends: dict[tuple[str, int], list[int]] = {}
    order = [b.idstr for b in rl.blocks]

    def write(batch):
        for name, page, off, val in batch:
            page %= SIZES[name]
            clock[0] += 1
            space.write(base[name] + page * PAGE + off, bytes([val]) * 8)
            last_write[(name, page)] = clock[0]
            writes_after_setup[(name, page)] = writes_after_setup.get((name, page), 0) + 1

    ch = Channel()

    def send(bufs):
        raw = b"".join(bytes(b) for b in bufs)
        ch.parts.append(raw)
        if raw[0] == stream.TAG_PAGES:
            _, index, n = stream._PAGES_HDR.unpack_from(raw)
            pages = np.frombuffer(raw[7:7 + 4 * n], "<u4")
            clock[0] += 1
            for p in pages:
                sends.setdefault((order[index], int(p)), []).append(clock[0])

    queue = list(during)

    def hook():
        if queue:
            write(queue.pop(0))

    saver = RAMSaver(rl, send, hook)
    saver.setup()
    writes_after_setup.clear()
    write(before)
    send(saver.header(b"{}"))
    for i in range(passes):
        saver.send_pending()
        saver.sync()
        write(between[i])
    queue.clear()  # the guest stops: the final sync and send see no more writes
    saver.sync()
    saver.send_pending()
    saver.stop_logging()

    # Replay the stream into a model destination.
    ch.data = b"".join(ch.parts)
    reader = stream.StreamReader(ch)
    reader.read_header()
    assert reader.tag() == stream.TAG_CONFIG and reader.read_config() == b"{}"
    assert reader.tag() == stream.TAG_BLOCKS
    announced = reader.read_blocks()
    dest = [DestBlock(n, ln // PAGE) for n, ln in announced]
    while ch.pos < len(ch.data):
        assert reader.tag() == stream.TAG_PAGES
        reader.read_pages_into(dest)
    for d in dest:
        src = rl.block_by_idstr(d.idstr)
        assert np.array_equal(d.host, src.host[:src.used_length]), d.idstr
    for name, pages in SIZES.items():
        for p in range(pages):
            s = sends.get((name, p), [])
            assert s, f"page {name}:{p} never sent"
            if (name, p) in last_write:
                assert s[-1] > last_write[(name, p)], f"{name}:{p} written after its last send"
            assert len(s) <= 1 + writes_after_setup.get((name, p), 0), f"{name}:{p} sent too often"
