"""The fast paths of the stream: sendmsg gather lists and recvmsg_into scatter lists over a
real socket, the zero-page test against a naive model, and the destination's
prefault (which must never change what memory holds, even racing with writes)."""

from __future__ import annotations

import socket
import threading

import numpy as np
from hypothesis import given, settings, strategies as st

from vgaemu.machine import Machine
from vgaemu.migration import stream
from vgaemu.migration.prefault import RAMPrefault
from vgaemu.migration.transport import Channel

PAGE = 4096


class Block:
    def __init__(self, idstr, host):
        self.idstr, self.host, self.used_length = idstr, host, len(host)


@settings(max_examples=60, deadline=None)
@given(pages=st.sets(st.integers(0, 63), min_size=1, max_size=64),
       kinds=st.lists(st.sampled_from(["zero", "data", "tail", "head0"]), min_size=64, max_size=64))
def test_zero_pages_match_a_naive_model(pages, kinds):
    host = np.zeros(64 * PAGE, np.uint8)
    for p, kind in enumerate(kinds):
        row = host[p * PAGE:(p + 1) * PAGE]
        if kind == "data":
            row[:] = (p % 250) + 1
        elif kind == "tail":  # zero first word, data at the very end
            row[-1] = 7
        elif kind == "head0":  # first word zero, data in the second
            row[8] = 1
    idx = np.array(sorted(pages), dtype=np.int64)
    rows = host.reshape(64, PAGE)
    zero = stream.zero_pages_of(rows, idx)
    assert zero.tolist() == [not host[p * PAGE:(p + 1) * PAGE].any() for p in idx.tolist()]


def test_gather_send_and_scatter_receive_over_a_socket():
    """Non-contiguous pages with zero pages between them cross a socket pair as views: the
    destination gets every byte in place, stale pages flagged zero are cleared, untouched
    pages keep what they had."""
    rng = np.random.default_rng(3)
    src = rng.integers(1, 255, 300 * PAGE, dtype=np.uint8)
    src[10 * PAGE:12 * PAGE] = 0          # two zero pages inside the record
    pages = np.array(sorted(set(rng.choice(300, 200, replace=False).tolist()) | {10, 11}))
    dst = np.full(300 * PAGE, 0xEE, np.uint8)
    a, b = socket.socketpair()
    tx, rx = Channel(sock=a, name="tx"), Channel(sock=b, name="rx")
    bufs, normal, zero = stream.pages_record(0, src, pages)
    assert (normal, zero) == (pages.size - 2, 2)
    assert all(isinstance(x, memoryview) for x in bufs[1:])  # views of guest memory
    sender = threading.Thread(target=tx.writev, args=(bufs,))
    sender.start()
    reader = stream.StreamReader(rx)
    assert reader.tag() == stream.TAG_PAGES
    assert reader.read_pages_into([Block("b", dst)]) == (pages.size - 2, 2)
    sender.join()
    want = np.full(300 * PAGE, 0xEE, np.uint8).reshape(300, PAGE)
    want[pages] = src.reshape(300, PAGE)[pages]
    assert np.array_equal(dst.reshape(300, PAGE), want)
    tx.close()
    rx.close()


def test_prefault_keeps_contents_while_racing_with_writes():
    m = Machine(memory="64M")
    ram = next(b for b in m.ram_list.blocks if b.idstr == "pc.ram")
    ram.host[0x123456] = 0x42
    pre = RAMPrefault(list(m.ram_list.blocks))
    assert pre.total >= 64 << 20
    pre.start()
    for i in range(200):  # writes while it runs land and stay
        ram.host[(i * 997 * PAGE) % (64 << 20)] = i & 0xFF or 1
    assert pre.wait(60)
    assert pre.skipped_reason is None, pre.skipped_reason
    assert pre.populated == pre.total
    assert ram.host[0x123456] == 0x42
    for i in range(200):
        assert ram.host[(i * 997 * PAGE) % (64 << 20)] == (i & 0xFF or 1)


def test_prefault_stops_early_and_skips_what_the_host_cannot_hold(monkeypatch):
    m = Machine(memory="64M")
    pre = RAMPrefault(list(m.ram_list.blocks))
    pre.stop()
    pre.start()
    assert pre.wait(10) and pre.populated == 0
    from vgaemu.migration import prefault
    monkeypatch.setattr(prefault, "available_memory", lambda: 1 << 20)
    big = RAMPrefault(list(m.ram_list.blocks)).start()
    assert big.wait(1) and big.populated == 0
    assert "available" in big.skipped_reason
