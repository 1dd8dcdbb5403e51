"""Precopy with the lazy clear against writer threads, with a tiny switch interval.

Writers store counters through the address space into RAM (data first, then the MIGRATION
bit, as every RAM write does), and now and then zero a whole page -- so the source plans
pages as zero flags that may be written before their record goes -- while a
migration thread runs passes: sync (the bits read, not cleared), send (each record's bits
cleared just before its pages are read; views read when the batch is written, later still).
Model: once the writers stop and a last sync and pass run, the destination built from the
stream holds exactly what the source holds -- no write landed with its bit lost."""

from __future__ import annotations

import random
import sys
import threading

import numpy as np

from guestmem import AddressSpace, MemoryRegion, RAMList
from vgaemu.migration import stream
from vgaemu.migration.precopy import RAMSaver

P = 4096
NPAGES = 512
ZERO = bytes(P)


class Collect:
    """The stream as bytes, joined when a batch is "written" (a few records later)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.batch: list = []
        self.pos = 0
        self.name = "collect"

    def send(self, bufs) -> None:
        self.batch.append(bufs)
        if len(self.batch) >= 3:
            self.flush()

    def flush(self) -> None:
        for bufs in self.batch:
            self.data += b"".join(bytes(b) for b in bufs)
        self.batch.clear()

    def read_some(self, view) -> int:
        out = self.data[self.pos:self.pos + len(view)]
        view[:len(out)] = out
        self.pos += len(out)
        return len(out)

    def readinto_exact(self, view) -> None:
        n = len(view)
        assert self.pos + n <= len(self.data)
        view[:] = self.data[self.pos:self.pos + n]
        self.pos += n

    def readinto_views(self, views) -> None:
        for v in views:
            self.readinto_exact(v)


class DestBlock:
    def __init__(self, idstr: str, size: int) -> None:
        self.idstr, self.used_length = idstr, size
        self.host = np.full(size, 0xEE, np.uint8)


def test_lazy_clear_loses_no_write(stress_seconds, monkeypatch):
    monkeypatch.setattr(stream, "PAGES_PER_RECORD", 16)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _run(stress_seconds(1.5))
    finally:
        sys.setswitchinterval(old_interval)


def _run(seconds: float) -> None:
    rl = RAMList()
    root = MemoryRegion.container("sys", 1 << 32)
    root.add_subregion(0, MemoryRegion.ram("ram", NPAGES * P, ram_list=rl))
    space = AddressSpace(root, "stress")
    for p in range(0, NPAGES, 2):  # odd pages stay zero until a writer reaches them
        space.write(p * P, b"\x01" * 8)
    out = Collect()
    saver = RAMSaver(rl, out.send)
    saver.setup()
    out.data += b"".join(saver.header(b"{}"))
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                page = rng.randrange(NPAGES)
                if rng.random() < 0.3:
                    space.write(page * P, ZERO)
                else:
                    space.write(page * P + rng.randrange(0, P - 8, 8), n.to_bytes(8, "little"))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(s,), daemon=True) for s in range(3)]
    for t in threads:
        t.start()
    passes = 0
    deadline = threading.Event()
    timer = threading.Timer(seconds, deadline.set)
    timer.start()
    try:
        while not deadline.is_set():
            saver.send_pending()
            out.flush()
            saver.sync()
            passes += 1
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        timer.cancel()
    assert not errors, errors
    saver.sync()  # the guest has stopped: the last sync and pass
    saver.send_pending()
    out.flush()
    saver.stop_logging()

    reader = stream.StreamReader(out)
    reader.read_header()
    assert reader.tag() == stream.TAG_CONFIG and reader.read_config() == b"{}"
    assert reader.tag() == stream.TAG_BLOCKS
    dest = [DestBlock(name, size) for name, size in reader.read_blocks()]
    while out.pos < len(out.data) or reader._pos < reader._end:
        assert reader.tag() == stream.TAG_PAGES
        reader.read_pages_into(dest)
    src = rl.blocks[0]
    assert passes > 2
    assert np.array_equal(dest[0].host, src.host[:src.used_length])
