"""The legacy window's block path (read_block / write_block) against its per-byte path.

Two identical VGAs on their own RAMLists get the same random register state (GR0-GR8,
SR2/SR4, VBE on/off and bank, latches, plane_updated) and the same VRAM; one is driven one
byte at a time (PlanarMemory.writeb / readb, each marking its own VRAM dword dirty), the other
with one block call. VRAM, latches, plane_updated, the returned bytes and every dirty bitmap
must be identical. A Machine-level test then checks the AddressSpace hands the whole access
to the block hooks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestmem import RAMList
from guestmem.dirty import DIRTY_MEMORY_NUM
from vgaemu.compat import Compat
from vgaemu.machine import Machine
from vgaemu.vga import VGA
from vgaemu.vga.vram import LEGACY_BASE, LEGACY_SIZE

VRAM = 1 << 20  # small VRAM: a VBE bank can put the window past its end


def _vga(compat: Compat) -> tuple[VGA, RAMList]:
    rl = RAMList()
    return VGA(ram_list=rl, vram_size=VRAM, compat=compat), rl


_PAIRS: dict[Compat, tuple] = {}


def pair(compat: Compat):
    if compat not in _PAIRS:
        _PAIRS[compat] = (_vga(compat), _vga(compat))
    return _PAIRS[compat]


@pytest.fixture(scope="module", autouse=True)
def _release_pairs():
    """Up to 32 VGAs are kept between examples; give their memory back after this module."""
    yield
    _PAIRS.clear()


#: The rows the planar memory implements, in every mix (the block paths serve the pure
#: hardware and pure QEMU policies with numpy, the mixes through the per-byte path).
PLANAR_ROWS = ("chain4_odd_even_through_gc", "odd_even_map_mask", "planes_wrap_64k",
               "live_graphics_registers")
policies = st.tuples(*[st.booleans()] * len(PLANAR_ROWS)).map(
    lambda bits: Compat.hardware().replace(**dict(zip(PLANAR_ROWS, bits))))


registers = st.fixed_dictionaries({
    "gr": st.lists(st.integers(0, 255), min_size=9, max_size=9),
    "sr2": st.integers(0, 255),
    "sr4": st.integers(0, 255),
    "latch": st.integers(0, 0xFFFFFFFF),
    "plane_updated": st.integers(0, 15),
    "vbe": st.booleans(),
    "bank": st.integers(0, (VRAM >> 16) + 2),
    "compat": policies,
})


blocks = st.one_of(
    # short and medium runs anywhere in the window
    st.tuples(st.integers(0, LEGACY_SIZE - 1), st.integers(1, 600)),
    # long runs: whole plane windows, the 64 KiB hardware wrap, map-select edges
    st.tuples(st.sampled_from([0, 1, 2, 3, 0x7FFD, 0x8000, 0xFFF0, 0xFFFF, 0x10000, 0x17FFE,
                               0x18000, 0x1FFF0]),
              st.integers(1, LEGACY_SIZE)),
).map(lambda t: (t[0], max(1, min(t[1], LEGACY_SIZE - t[0]))))


def _setup(vga: VGA, rl: RAMList, regs: dict, seed: int) -> None:
    s = vga.state
    for i, v in enumerate(regs["gr"]):
        s.gr[i] = v
    for sr in (s.sr, s.sr_vbe):
        sr[2], sr[4] = regs["sr2"], regs["sr4"]
    s.latch = regs["latch"]
    s.plane_updated = regs["plane_updated"]
    s.vbe_regs[4] = 1 if regs["vbe"] else 0
    s.bank_offset = regs["bank"] << 16
    rng = np.random.default_rng(seed)
    vga.vram[:] = rng.integers(0, 256, VRAM, dtype=np.uint8)
    rl.dirty.clear_dirty_range(0, rl.dirty.size)


def _same(a: tuple, b: tuple) -> None:
    (va, ra), (vb, rb) = a, b
    assert np.array_equal(va.vram, vb.vram), np.flatnonzero(va.vram != vb.vram)[:10]
    assert va.state.latch == vb.state.latch
    assert va.state.plane_updated == vb.state.plane_updated
    for c in range(DIRTY_MEMORY_NUM):
        da, db = ra.dirty.bitmap(c), rb.dirty.bitmap(c)
        assert np.array_equal(da, db), (c, np.flatnonzero(da), np.flatnonzero(db))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(regs=registers, blk=blocks, seed=st.integers(0, 2**32 - 1))
def test_write_block_matches_per_byte(regs, blk, seed):
    ref, bulk = pair(regs["compat"])
    offset, n = blk
    data = np.random.default_rng(seed ^ 0x5A5A).integers(0, 256, n, dtype=np.uint8)
    for vga, rl in (ref, bulk):
        _setup(vga, rl, regs, seed)
    for i, v in enumerate(data.tolist()):
        ref[0].window.writeb(offset + i, v)
    bulk[0].window.write_block(offset, data)
    _same(ref, bulk)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(regs=registers, blk=blocks, seed=st.integers(0, 2**32 - 1))
def test_read_block_matches_per_byte(regs, blk, seed):
    ref, bulk = pair(regs["compat"])
    offset, n = blk
    for vga, rl in (ref, bulk):
        _setup(vga, rl, regs, seed)
    want = bytes(ref[0].window.readb(offset + i) for i in range(n))
    got = bulk[0].window.read_block(offset, n)
    assert got.dtype == np.uint8 and got.shape == (n,)
    assert got.tobytes() == want
    _same(ref, bulk)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(regs=registers, seed=st.integers(0, 2**32 - 1),
       ops=st.lists(st.tuples(st.booleans(), blocks), min_size=2, max_size=6))
def test_mixed_reads_and_writes(regs, seed, ops):
    """Reads load the latches that later write modes 1/logical ops use."""
    ref, bulk = pair(regs["compat"])
    for vga, rl in (ref, bulk):
        _setup(vga, rl, regs, seed)
    rng = np.random.default_rng(seed)
    for is_write, (offset, n) in ops:
        if is_write:
            data = rng.integers(0, 256, n, dtype=np.uint8)
            for i, v in enumerate(data.tolist()):
                ref[0].window.writeb(offset + i, v)
            bulk[0].window.write_block(offset, data)
        else:
            want = bytes(ref[0].window.readb(offset + i) for i in range(n))
            assert bulk[0].window.read_block(offset, n).tobytes() == want
    _same(ref, bulk)


def test_block_outside_the_window_is_an_error():
    from vgaemu.errors import MemoryAccessError

    (vga, _), _ = pair(Compat.hardware())
    before = vga.vram.copy()
    with pytest.raises(MemoryAccessError, match="0x1fff0"):
        vga.window.write_block(0x1FFF0, np.zeros(32, np.uint8))
    with pytest.raises(MemoryAccessError):
        vga.window.read_block(-1, 4)
    assert np.array_equal(vga.vram, before)


def test_address_space_uses_the_block_hooks():
    """A multi-byte access through the memory AddressSpace reaches write_block/read_block
    once (not one callback per byte) and gives what byte stores give."""
    m, ref = Machine(), Machine()
    for mach in (m, ref):
        mach.bios.call(0x0012)  # planar 640x480x16: no chain-4 alias over the window
        assert not mach.vga.has_chain4_alias
    calls = []
    win = m.vga.window
    wb, rb = win.write_block, win.read_block
    m.vga.lowmem.ops.write_block = lambda o, d: (calls.append(("w", o, len(d))), wb(o, d))
    m.vga.lowmem.ops.read_block = lambda o, n: (calls.append(("r", o, n)), rb(o, n))[1]
    data = np.random.default_rng(1).integers(0, 256, 38400, dtype=np.uint8).tobytes()
    for i in range(4):
        for mach in (m, ref):
            mach.address_space_io.stw_le(0x3C4, ((1 << i) << 8) | 0x02)
        assert m.address_space_memory.write(LEGACY_BASE + 100, data) == 0
        for j, v in enumerate(data):
            ref.address_space_memory.stb(LEGACY_BASE + 100 + j, v)
    assert calls == [("w", 100, 38400)] * 4
    assert np.array_equal(m.vga.vram, ref.vga.vram)
    out = bytearray(1000)
    assert m.address_space_memory.read(LEGACY_BASE + 50, out) == 0
    want = bytes(ref.address_space_memory.ldub(LEGACY_BASE + 50 + j) for j in range(1000))
    assert bytes(out) == want and calls[-1] == ("r", 50, 1000)
    assert m.vga.state.latch == ref.vga.state.latch


@pytest.mark.parametrize("mode,addr,n", [(0x12, LEGACY_BASE + 80 * 100, 80 * 20),
                                         (0x03, 0xB8000 + 160 * 5, 160 * 3),
                                         (0x0D, LEGACY_BASE + 40 * 50, 4000)])
def test_display_sees_a_block_write_as_the_bytes(mode, addr, n):
    """After the same data goes in as one block and as byte stores, the next display update
    redraws the same lines (same stats and rectangles) and shows the same picture."""
    a, b = Machine(), Machine()
    data = np.random.default_rng(mode).integers(0, 256, n, dtype=np.uint8)
    for mach in (a, b):
        mach.bios.call(mode)
        mach.vga.update_display()
        mach.vga.update_display()
    a.address_space_memory.write(addr, data.tobytes())
    for j, v in enumerate(data.tolist()):
        b.address_space_memory.stb(addr + j, v)
    sa, sb = a.vga.update_display(), b.vga.update_display()
    assert sa == sb and sa.lines_redrawn > 0
    assert np.array_equal(a.vga.surface, b.vga.surface)
    assert a.vga.update_display().lines_redrawn == 0  # idle afterwards
