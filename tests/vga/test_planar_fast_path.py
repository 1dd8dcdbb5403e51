"""PlanarMemory.writeb / readb (the planar and odd/even cases decoded inline, VRAM marked
through the cached dirty setter) and the word store of a text cell against _writeb_general /
_readb_general (the path every other case takes, marking with MemoryRegion.set_dirty).

Two identical VGAs on their own RAMLists get the same random register state (GR0-GR8,
SR2/SR4, VBE on/off and bank, latches) under every mix of the compat rows the window
implements, then the same random sequence of byte reads, writes (mostly near each other, so
latches loaded by a read feed the next write) and clears of the dirty bits.  Every read
must return the same byte; VRAM, latches, plane_updated and every dirty bitmap must be the
same at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestmem import DIRTY_MEMORY_VGA, RAMList
from guestmem.dirty import DIRTY_MEMORY_NUM
from vgaemu.compat import Compat
from vgaemu.vga import VGA
from vgaemu.vga.vram import LEGACY_SIZE

VRAM = 1 << 20  # small VRAM: a VBE bank can put the window past its end
ROWS = ("chain4_odd_even_through_gc", "odd_even_map_mask", "planes_wrap_64k",
        "live_graphics_registers")
policies = st.tuples(*[st.booleans()] * len(ROWS)).map(
    lambda bits: Compat.hardware().replace(**dict(zip(ROWS, bits))))

#: GR0-GR8 as mode 03h leaves them: CPU data passes the graphics controller unchanged
TEXT_GR = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF]

registers = st.fixed_dictionaries({
    "gr": st.one_of(st.lists(st.integers(0, 255), min_size=9, max_size=9),
                    st.just(TEXT_GR),
                    st.lists(st.sampled_from([0, 0, 0xFF, 0x10, 0x0E, 0x05]), min_size=9, max_size=9)),
    # SR4 mostly 06h/0Eh (planar, as BIOS modes set it) or 02h/03h (odd/even, text and CGA
    # modes), sometimes anything
    "sr4": st.one_of(st.sampled_from([0x06, 0x0E, 0x02, 0x03, 0x08]), st.integers(0, 255)),
    "sr2": st.integers(0, 255),
    "latch": st.integers(0, 0xFFFFFFFF),
    "vbe": st.integers(0, 9).map(lambda n: n == 0),
    "bank": st.integers(0, (VRAM >> 16) + 2),
    "compat": policies,
})

ops = st.lists(st.one_of(
    st.tuples(st.sampled_from(["w", "r"]), st.integers(0, 0x3F), st.integers(0, 255)),
    st.tuples(st.sampled_from(["w", "r"]), st.integers(0, LEGACY_SIZE - 1), st.integers(0, 255)),
    st.tuples(st.just("w2"), st.integers(0, 0x3F), st.integers(0, 0xFFFF)),
    st.tuples(st.just("w2"), st.integers(0, LEGACY_SIZE - 2), st.integers(0, 0xFFFF)),
    st.tuples(st.just("r2"), st.integers(0, LEGACY_SIZE - 2), st.just(0)),
    st.tuples(st.just("clear"), st.just(0), st.just(0)),
    st.tuples(st.just("gr8"), st.just(0), st.integers(0, 255)),
), min_size=1, max_size=40)

_PAIRS: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _release_pairs():
    yield
    _PAIRS.clear()


def _pair(compat: Compat):
    if compat not in _PAIRS:
        _PAIRS[compat] = tuple(VGA(ram_list=RAMList(), vram_size=VRAM, compat=compat)
                               for _ in range(2))
    return _PAIRS[compat]


def _setup(vga: VGA, regs: dict, seed: int) -> None:
    s = vga.state
    s.gr[:9] = bytes(regs["gr"])
    for sr in (s.sr, s.sr_vbe):
        sr[2], sr[4] = regs["sr2"], regs["sr4"]
    s.latch = regs["latch"]
    s.plane_updated = 0
    s.vbe_regs[4] = 1 if regs["vbe"] else 0
    s.bank_offset = regs["bank"] << 16
    vga.vram[:] = np.random.default_rng(seed).integers(0, 256, VRAM, dtype=np.uint8)
    rl = vga.vram_mr.ram_list
    rl.dirty.clear_dirty_range(0, rl.dirty.size)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(regs=registers, ops=ops, seed=st.integers(0, 2**32 - 1))
def test_fast_paths_match_the_general_paths(regs, ops, seed):
    fast, general = _pair(regs["compat"])
    for vga in (fast, general):
        _setup(vga, regs, seed)
    for op, addr, val in ops:
        if op == "w":
            fast.window.writeb(addr, val)
            general.window._writeb_general(addr, val)
        elif op == "w2":  # a word store (a text cell) is its two bytes in address order
            fast.window.write(addr, val, 2)
            general.window._writeb_general(addr, val & 0xFF)
            general.window._writeb_general(addr + 1, val >> 8)
        elif op == "r":
            assert fast.window.readb(addr) == general.window._readb_general(addr), hex(addr)
        elif op == "r2":
            want = general.window._readb_general(addr) | general.window._readb_general(addr + 1) << 8
            assert fast.window.read(addr, 2) == want, hex(addr)
        elif op == "clear":
            for vga in (fast, general):
                rl = vga.vram_mr.ram_list
                rl.dirty.clear_dirty_range(0, rl.dirty.size)
        else:  # a planar program's bit-mask write between pixels
            fast.state.gr[8] = general.state.gr[8] = val
    a, b = fast.state, general.state
    assert np.array_equal(fast.vram, general.vram), np.flatnonzero(fast.vram != general.vram)[:8]
    assert (a.latch, a.plane_updated) == (b.latch, b.plane_updated)
    ra, rb = fast.vram_mr.ram_list, general.vram_mr.ram_list
    for c in range(DIRTY_MEMORY_NUM):
        assert np.array_equal(ra.dirty.bitmap(c), rb.dirty.bitmap(c)), c


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(compat=policies, sr4=st.sampled_from([0x02, 0x03, 0x06, 0x0A]), sr2=st.integers(0, 15),
       gr6=st.sampled_from([0x0E, 0x0A, 0x06, 0x02, 0x0F]), bank=st.integers(0, (VRAM >> 16) + 2),
       # one register off the text mode's pass-through state, or none
       tweak=st.one_of(st.none(), st.tuples(st.sampled_from([0, 1, 3, 4, 5, 8]), st.integers(0, 255))),
       stores=st.lists(st.tuples(st.integers(0, LEGACY_SIZE // 2 - 1).map(lambda i: 2 * i),
                                 st.one_of(st.integers(0, 0xFFFF), st.none())),
                       min_size=1, max_size=30),
       seed=st.integers(0, 2**32 - 1))
def test_text_cell_stores_match_two_byte_stores(compat, sr4, sr2, gr6, bank, tweak, stores, seed):
    """The word stores and loads of a text program (mostly the pass-through state, where a
    store is one dword update) against their two bytes through the general path, under every policy, window
    mapping and bank, and next to that state (one register changed: it must fall back)."""
    gr = list(TEXT_GR)
    gr[6] = gr6
    if tweak is not None:
        gr[tweak[0]] = tweak[1]
    regs = {"gr": gr, "sr4": sr4, "sr2": sr2, "latch": seed & 0xFFFFFFFF, "vbe": False,
            "bank": bank}
    fast, general = _pair(compat)
    for vga in (fast, general):
        _setup(vga, regs, seed)
    for addr, val in stores:
        if val is None:  # a word load (the latches it leaves feed the next store)
            want = general.window._readb_general(addr) | general.window._readb_general(addr + 1) << 8
            assert fast.window.read(addr, 2) == want, hex(addr)
            continue
        fast.window.write(addr, val, 2)
        general.window._writeb_general(addr, val & 0xFF)
        general.window._writeb_general(addr + 1, val >> 8)
    a, b = fast.state, general.state
    assert np.array_equal(fast.vram, general.vram), np.flatnonzero(fast.vram != general.vram)[:8]
    assert (a.latch, a.plane_updated) == (b.latch, b.plane_updated)
    ra, rb = fast.vram_mr.ram_list, general.vram_mr.ram_list
    for c in range(DIRTY_MEMORY_NUM):
        assert np.array_equal(ra.dirty.bitmap(c), rb.dirty.bitmap(c)), c


def test_mode_12h_pixels_through_the_fast_path():
    """planar12's pixel, by hand: write mode 2, one bit-mask bit, a latch load, a write."""
    vga = VGA(ram_list=RAMList(), vram_size=VRAM)
    s = vga.state
    s.sr[2], s.sr[4], s.gr[6] = 0x0F, 0x06, 0x05       # all planes, planar, A0000 64K
    s.gr[5] = 0x02
    vga.vram[:16] = 0x55
    for bit, colour in ((7, 0x9), (0, 0x6)):
        s.gr[8] = 1 << bit
        vga.window.readb(1)
        vga.window.writeb(1, colour)
    planes = [int(vga.vram[4 + p]) for p in range(4)]
    want = [(0x55 & 0x7E) | (0x80 if 0x9 >> p & 1 else 0) | (1 if 0x6 >> p & 1 else 0)
            for p in range(4)]
    assert planes == want
    assert vga.vram_mr.get_dirty(4, 4, DIRTY_MEMORY_VGA)
