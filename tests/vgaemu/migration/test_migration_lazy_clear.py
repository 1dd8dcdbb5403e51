"""Precopy clears a page's MIGRATION bit just before it sends the page (QEMU's lazy clear):
a page written after the sync but before its send goes once, with the new data; a page
written after its send is found by the next sync; a page planned as zero and written before
its send is not lost."""

from __future__ import annotations

import numpy as np

from guestmem import DIRTY_MEMORY_MIGRATION, AddressSpace, MemoryRegion, RAMList
from vgaemu.migration import stream
from vgaemu.migration.precopy import RAMSaver

PAGE = 4096
NPAGES = 64


def _machine():
    rl = RAMList()
    root = MemoryRegion.container("sys", 1 << 32)
    root.add_subregion(0, MemoryRegion.ram("ram", NPAGES * PAGE, ram_list=rl))
    return rl, AddressSpace(root, "lazy")


def _sent_pages(records: list[bytes]) -> list[int]:
    out = []
    for raw in records:
        if raw[0] == stream.TAG_PAGES:
            _, _, n = stream._PAGES_HDR.unpack_from(raw)
            out += np.frombuffer(raw[7:7 + 4 * n], "<u4").tolist()
    return out


def test_pages_written_before_their_send_go_once(monkeypatch):
    monkeypatch.setattr(stream, "PAGES_PER_RECORD", 8)
    rl, space = _machine()
    for p in range(NPAGES):
        space.write(p * PAGE, bytes([p + 1]) * 8)  # data pages, so no zero-page recheck
    records: list[bytes] = []
    calls = [0]

    def hook():
        calls[0] += 1
        if calls[0] == 1:  # after the first record (pages 0-7) went
            space.write(3 * PAGE, b"\xAA" * 8)    # already sent: must come again
            space.write(40 * PAGE, b"\xBB" * 8)   # not sent yet: goes once, new data

    saver = RAMSaver(rl, lambda bufs: records.append(b"".join(bytes(b) for b in bufs)), hook)
    saver.setup()
    saver.send_pending()
    assert _sent_pages(records) == list(range(NPAGES))
    records.clear()
    assert saver.sync() == 1
    assert saver.remaining_pages == 1
    saver.send_pending()
    assert _sent_pages(records) == [3]
    assert saver.sync() == 0
    assert not rl.dirty.get_dirty(0, NPAGES * PAGE, DIRTY_MEMORY_MIGRATION)
    saver.stop_logging()


def test_page_planned_zero_then_written_is_sent_again(monkeypatch):
    monkeypatch.setattr(stream, "PAGES_PER_RECORD", 8)
    rl, space = _machine()  # every page zero: the bulk pass plans them all as zero flags
    records: list[bytes] = []
    calls = [0]

    def hook():
        calls[0] += 1
        if calls[0] == 1:
            space.write(50 * PAGE, b"\xCC" * 8)  # planned as zero, written before its record

    saver = RAMSaver(rl, lambda bufs: records.append(b"".join(bytes(b) for b in bufs)), hook)
    saver.setup()
    saver.send_pending()
    assert saver.zero_pages == NPAGES and saver.normal_pages == 0
    assert saver.sync() == 1  # its bit was set again when the record went as a zero flag
    records.clear()
    saver.send_pending()
    assert _sent_pages(records) == [50]
    assert saver.normal_pages == 1
    saver.stop_logging()
