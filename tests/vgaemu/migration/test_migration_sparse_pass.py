"""Sparse passes: the source plans a whole pass over a block at once (stream.pages_records),
the destination reads ahead and lands short runs through a bounce buffer. Checked against a
naive model of what the destination must hold, over short reads and over a real socket."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from vgaemu.migration import MigrationError, stream
from vgaemu.migration.transport import Channel

PAGE = 4096
NPAGES = 96


class Block:
    def __init__(self, idstr, host):
        self.idstr, self.host, self.used_length = idstr, host, len(host)


class ShortReads:
    """A channel over bytes whose read_some returns at most ``step`` bytes, as a socket
    under load returns whatever has arrived."""

    name = "short-reads"

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.pos, self.step = data, 0, step

    def read_some(self, view) -> int:
        out = self.data[self.pos:self.pos + min(len(view), self.step)]
        self.pos += len(out)
        view[:len(out)] = out
        return len(out)

    def readinto_exact(self, view) -> None:
        n = len(view)
        if self.pos + n > len(self.data):
            raise MigrationError("ended early")
        view[:] = self.data[self.pos:self.pos + n]
        self.pos += n

    def readinto_views(self, views) -> None:
        for v in views:
            self.readinto_exact(v)


def _source(kinds: list[str]) -> np.ndarray:
    host = np.zeros(NPAGES * PAGE, np.uint8)
    for p, kind in enumerate(kinds):
        row = host[p * PAGE:(p + 1) * PAGE]
        if kind == "data":
            row[:] = (p % 250) + 1
        elif kind == "tail":  # first word zero, data at the very end
            row[-1] = p % 250 + 1
    return host


def _stream(host, pages, per_record) -> tuple[bytes, int, int, int]:
    parts, normal, zero, counted = [], 0, 0, 0
    for bufs, rec_pages, rec_zero, k, nbytes in stream.pages_records(0, host, pages, per_record):
        z = int(rec_zero.sum())
        assert k + z == rec_pages.size
        assert rec_zero.tolist() == [not host[p * PAGE:(p + 1) * PAGE].any()
                                     for p in rec_pages.tolist()]
        body = b"".join(bytes(b) for b in bufs)
        assert len(body) == nbytes
        assert all(isinstance(b, memoryview) for b in bufs[1:])  # views of guest memory
        parts.append(body)
        normal, zero, counted = normal + k, zero + z, counted + nbytes
    return b"".join(parts) + stream.end_record(normal + zero), normal, zero, counted


def _expected(host, pages, stale_fill=0xEE) -> np.ndarray:
    want = np.full(NPAGES * PAGE, stale_fill, np.uint8).reshape(NPAGES, PAGE)
    want[pages] = host.reshape(NPAGES, PAGE)[pages]
    return want.reshape(-1)


def _load(channel, dest) -> tuple[int, int]:
    reader = stream.StreamReader(channel)
    normal = zero = 0
    while True:
        tag = reader.tag()
        if tag == stream.TAG_END:
            assert reader.u64() == normal + zero
            return normal, zero
        assert tag == stream.TAG_PAGES
        k, z = reader.read_pages_into([Block("b", dest)])
        normal, zero = normal + k, zero + z


@settings(max_examples=80, deadline=None)
@given(pages=st.sets(st.integers(0, NPAGES - 1), min_size=1, max_size=NPAGES),
       kinds=st.lists(st.sampled_from(["zero", "data", "data", "tail"]), min_size=NPAGES,
                      max_size=NPAGES),
       per_record=st.sampled_from([1, 2, 5, 16, 1024]), step=st.sampled_from([1, 13, 4096, 1 << 20]))
def test_pass_round_trips_through_read_ahead_and_bounce(pages, kinds, per_record, step):
    host = _source(kinds)
    idx = np.array(sorted(pages), dtype=np.int64)
    data, normal, zero, _ = _stream(host, idx, per_record)
    model_zero = sum(1 for p in idx.tolist() if kinds[p] == "zero")
    assert (normal, zero) == (idx.size - model_zero, model_zero)
    dest = np.full(NPAGES * PAGE, 0xEE, np.uint8)
    assert _load(ShortReads(data, step), dest) == (normal, zero)
    assert np.array_equal(dest, _expected(host, idx))


@settings(max_examples=40, deadline=None)
@given(pages=st.sets(st.integers(0, NPAGES - 1), min_size=1, max_size=NPAGES))
def test_layout_covers_every_data_page_once_in_order(pages):
    data = np.array(sorted(pages), dtype=np.int64)
    pieces, short = stream.record_layout(data)
    order, gathered = [], 0
    for as_view, a, b in pieces:
        if as_view:
            assert b - a >= stream.VIEW_RUN_PAGES
            order += range(a, b)
        else:
            assert a == gathered  # short pages are bounced in order
            order += short[a:b].tolist()
            gathered = b
    assert order == data.tolist()
    assert gathered == short.size


def test_sparse_pass_over_a_socket():
    """Single pages, pairs and long runs mixed, more pages than one record holds: the
    destination holds exactly the source's pages, others untouched, zero pages cleared."""
    n = 3000
    rng = np.random.default_rng(5)
    src = rng.integers(1, 255, n * PAGE, dtype=np.uint8)
    pages = set(rng.choice(n, 700, replace=False).tolist())  # mostly single pages
    pages |= set(range(100, 102)) | set(range(400, 460))     # a pair and a long run
    src[401 * PAGE:403 * PAGE] = 0                           # zero pages inside the run
    idx = np.array(sorted(pages), dtype=np.int64)
    dst = np.full(n * PAGE, 0xEE, np.uint8)
    a, b = socket.socketpair()
    for sock in (a, b):
        sock.settimeout(60)  # a wrong record length fails the test instead of hanging it
    tx, rx = Channel(sock=a, name="tx"), Channel(sock=b, name="rx")
    records = list(stream.pages_records(0, src, idx, 256))
    assert len(records) == -(-idx.size // 256)

    def send():
        for bufs, *_ in records:
            tx.writev(bufs)
        tx.write(stream.end_record(int(idx.size)))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        assert _load(rx, dst) == (idx.size - 2, 2)
    finally:
        sender.join()
        tx.close()
        rx.close()
    want = np.full(n * PAGE, 0xEE, np.uint8).reshape(n, PAGE)
    want[idx] = src.reshape(n, PAGE)[idx]
    assert np.array_equal(dst.reshape(n, PAGE), want)


def test_read_ahead_serves_large_sections_and_reports_truncation():
    blob = bytes(range(256)) * 600  # larger than the read-ahead
    assert len(blob) > stream.READ_AHEAD
    data = stream.device_record("big", 3, blob) + stream.end_record(0)
    reader = stream.StreamReader(ShortReads(data, 1000))
    assert reader.tag() == stream.TAG_DEVICE
    assert reader.read_device() == ("big", 3, blob)
    assert reader.tag() == stream.TAG_END and reader.u64() == 0
    assert reader.bytes_read == len(data)
    cut = stream.StreamReader(ShortReads(data[:5000], 1000))
    cut.ch.name = "cut"
    assert cut.tag() == stream.TAG_DEVICE
    with pytest.raises(MigrationError, match="ended early"):
        cut.read_device()
