"""The DMA engine's whole-span paths (RAM to RAM in one step, or one mapping per side, one
strided copy) against its row-by-row path: machines in lock-step, one per path, must agree
on every byte, dirty bit, register, error and hook call over random 1-D and 2-D transfers
-- with the trace recorder's hooks set, and without them (the plain RAM fast path)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from guestmem.dirty import DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, TARGET_PAGE_SIZE
from guestmem.region import MemoryRegion
from vgaemu import dma
from vgaemu.guest import Guest
from vgaemu.machine import Machine

RAM = 0x100000         # a RAM arena
ALIAS = 0x80000000     # the same host bytes as RAM .. RAM+ARENA, under another guest address
ARENA = 0x10000
LEGACY = 0xA0000       # the VGA window: MMIO, the bounce path
CLIENTS = (DIRTY_MEMORY_VGA, DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION)


class Side:
    """One machine, its engine forced onto one path, with everything it reports recorded."""

    def __init__(self, whole_spans: bool, mode: int, hooks: bool = True):
        m = Machine(memory="64M")
        self.guest = g = Guest(m)
        if mode == 0x12:
            g.set_mode(0x12)  # planar: the window at 0xA0000 is MMIO (the bounce path)
        else:
            g.vbe_set_mode(mode)  # 1024x768x32, LFB on; the window at 0xA0000 is banked VRAM
        self.lfb = g.lfb_base
        ram_mr = m.address_space_memory.current_map().lookup(RAM).mr
        m.system_memory.add_subregion(ALIAS, MemoryRegion.alias("ram-alias", ram_mr, RAM, ARENA))
        m.ram_list.global_dirty_log_start()  # MIGRATION bits too
        self.code_calls = []
        self.engine = g.dma.engine
        self.engine.map_whole_spans = whole_spans
        self.writes, self.fills = [], []
        if hooks:
            self.engine.write_hook = lambda a, data: self.writes.append((a, bytes(data)))
            self.engine.fill_hook = lambda *args: self.fills.append(args)
        rng = np.random.default_rng(1)
        g.write(RAM, rng.integers(0, 256, ARENA, dtype=np.uint8))
        g.write(self.lfb, rng.integers(0, 256, 2 * ARENA, dtype=np.uint8))
        g.write(LEGACY - 0x1000, rng.integers(0, 256, 0x1000, dtype=np.uint8))
        self.machine = m

    def reset_logs(self, protect_code: bool, predirty: bool = False) -> None:
        """VGA and MIGRATION clean (or, with `predirty`, all dirty: a span found dirty for
        every client is not marked again); CODE dirty, or clean with a hook listening."""
        dirty = self.machine.ram_list.dirty
        vga_mig = (1 << DIRTY_MEMORY_VGA) | (1 << DIRTY_MEMORY_MIGRATION)
        if predirty:
            dirty.set_dirty_range(0, dirty.size, vga_mig)
        else:
            dirty.clear_dirty_range(0, dirty.size, vga_mig)
        dirty.set_dirty_range(0, dirty.size, 1 << DIRTY_MEMORY_CODE)
        if protect_code:  # pages holding "translated code": the CODE bit clean, a TB cache told
            dirty.clear_dirty_range(0, dirty.size, 1 << DIRTY_MEMORY_CODE)
        self.machine.ram_list.code_invalidate_hook = lambda ra, n: self.code_calls.append((ra, n))
        self.code_calls.clear()
        self.writes.clear()
        self.fills.clear()

    def run(self, regs: dict) -> None:
        for off, v in regs.items():
            self.engine.set_reg(off, v)

    def observed(self) -> dict:
        m = self.machine
        dirty = m.ram_list.dirty
        return {
            "regs": [self.engine.reg(r) for r in (dma.REG_STATUS, dma.REG_BYTES, dma.REG_ERR_ADDR_LO,
                                                  dma.REG_ERR_ADDR_HI)],
            "ram": self.guest.read(LEGACY - 0x1000, 0x1000) + self.guest.read(RAM, ARENA),
            "vram": m.vga.state.vram[:4 * ARENA].tobytes(),
            "dirty": [dirty.bitmap(c).copy() for c in CLIENTS],
            "code": list(self.code_calls),
            "writes": list(self.writes),
            "fills": list(self.fills),
            "pieces_ok": self.engine.last.bytes,
        }


_sides = {}


def sides(mode: int = 0x144):
    if mode not in _sides:
        _sides[mode] = Side(True, mode), Side(False, mode), Side(True, mode, hooks=False)
    return _sides[mode]


def addr_in(kind: str, off: int, lfb: int) -> int:
    return {"ram": RAM, "alias": ALIAS, "lfb": lfb, "legacy": LEGACY - 0x800}[kind] + off


kinds = st.sampled_from(["ram", "ram", "alias", "lfb", "lfb", "legacy"])
strides = st.one_of(st.integers(-700, 700), st.sampled_from([0, 4096, -4096, 4100, 9000, -8192]))


@pytest.mark.parametrize("mode", [0x144, 0x12])
@settings(max_examples=120, deadline=None)
@given(skind=kinds, soff=st.integers(0, ARENA - 1), dkind=kinds, doff=st.integers(0, ARENA - 1),
       width=st.integers(1, 400), height=st.integers(1, 12), ss=strides, ds=strides,
       fill=st.booleans(), unit=st.sampled_from([0, 1, 2]), two_d=st.booleans(),
       value=st.integers(0, 0xFFFFFFFF), protect_code=st.booleans(), predirty=st.booleans())
def test_whole_span_path_equals_row_by_row(mode, skind, soff, dkind, doff, width, height, ss, ds, fill,
                                            unit, two_d, value, protect_code, predirty):
    fast, rows, bare = sides(mode)
    ctrl = (dma.CTRL_FILL if fill else 0) | (dma.CTRL_2D if two_d else 0) | unit << dma.CTRL_UNIT_SHIFT
    if fill:
        width -= width % (1 << unit) or 0
        width = max(width, 1 << unit)
    src, dst = addr_in(skind, soff, fast.lfb), addr_in(dkind, doff, fast.lfb)
    regs = {dma.REG_SRC_LO: src & 0xFFFFFFFF, dma.REG_SRC_HI: src >> 32,
            dma.REG_DST_LO: dst & 0xFFFFFFFF, dma.REG_DST_HI: dst >> 32,
            dma.REG_LENGTH: width * height, dma.REG_WIDTH: width, dma.REG_HEIGHT: height,
            dma.REG_SRC_STRIDE: ss & 0xFFFFFFFF, dma.REG_DST_STRIDE: ds & 0xFFFFFFFF,
            dma.REG_FILL_VALUE: value, dma.REG_STATUS: dma.STATUS_DONE | dma.STATUS_ERROR,
            dma.REG_CONTROL: ctrl | dma.CTRL_START}
    for side in (fast, rows, bare):
        side.reset_logs(protect_code, predirty)
        side.run(regs)
    b = rows.observed()
    for name, a in (("hooks", fast.observed()), ("no hooks", bare.observed())):
        for key in a:
            if key == "dirty":
                for c, x, y in zip(CLIENTS, a[key], b[key]):
                    assert (x == y).all(), f"{name}: dirty client {c}: pages {np.flatnonzero(x != y)[:8]}"
            elif name == "hooks" or key not in ("writes", "fills"):
                assert a[key] == b[key], (name, key)


def test_the_fast_path_is_taken_for_ram_to_lfb_and_not_for_mmio():
    """The property above would hold trivially if the fast path never ran."""
    fast = sides()[0]
    fast.reset_logs(False)
    fast.guest.dma.blit(RAM, fast.lfb + 4096 * 10, 256, 64, 256, 4096)
    assert fast.engine.last.pieces == 1 and fast.engine.last.bounced_pieces == 0
    planar = sides(0x12)[0]
    planar.guest.dma.blit(RAM, LEGACY, 64, 4, 64, 80)
    assert planar.engine.last.pieces == planar.engine.last.bounced_pieces == 4


def test_aliased_source_and_destination_take_the_row_path():
    """Rows 16 bytes apart through an alias: row by row, each row reads the one written
    before it, so the first row's bytes run down the whole block."""
    fast = sides()[0]
    g = fast.guest
    g.write(RAM, bytes(range(16)) + bytes(16 * 8))
    g.dma.blit(RAM, ALIAS + 16, 16, 8, 16, 16)
    assert fast.engine.last.pieces == 8
    assert g.read(RAM, 16 * 9) == bytes(range(16)) * 9


@pytest.mark.parametrize("stride", [4096, 4096 * 3])
def test_sparse_rows_dirty_only_their_pages(stride):
    fast = sides()[0]
    fast.reset_logs(False)
    fast.guest.dma.fill_rect(fast.lfb + 8, 16, 4, stride, 0xAB)
    vram_mr = fast.machine.vga.vram_mr
    snap = vram_mr.snapshot_and_clear_dirty(0, 32 * TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)
    pages = set(np.flatnonzero(snap.pages_in(snap.start, snap.end - snap.start)).tolist())
    assert pages == {i * stride // TARGET_PAGE_SIZE for i in range(4)}


def test_ram_to_ram_maps_nothing_and_mmio_still_bounces(monkeypatch):
    """RAM to the LFB moves in one step, with no DMAMapping at all; a transfer into the
    planar window still goes through address_space_map's bounce buffer."""
    bare = sides()[2]
    as_ = bare.machine.address_space_memory
    calls = []
    real_map = as_.map
    monkeypatch.setattr(as_, "map", lambda *a: calls.append(a) or real_map(*a))
    bare.guest.write(RAM, bytes(range(256)) * 64)
    assert bare.guest.dma.blit(RAM, bare.lfb + 4096 * 3, 256, 64, 256, 4096) == 256 * 64
    assert calls == [] and bare.engine.last == dma.TransferStats(256 * 64, 1, 0, dma.DMAError.NONE)
    assert bare.guest.read(bare.lfb + 4096 * 5, 256) == bytes(range(256))
    planar = sides(0x12)[2]
    pas = planar.machine.address_space_memory
    real_pmap = pas.map
    monkeypatch.setattr(pas, "map", lambda *a: calls.append(a) or real_pmap(*a))
    planar.guest.dma.blit(RAM, LEGACY, 64, 4, 64, 80)
    assert len(calls) >= 4 and planar.engine.last.bounced_pieces == 4


def test_a_span_already_dirty_for_every_client_tells_nobody():
    """The RAM path's marking skips a span whose pages are all dirty for every client: no
    bit changes and the code hook hears nothing -- and a span with one clean page is marked."""
    bare = sides()[2]
    bare.reset_logs(False, predirty=True)
    dirty = bare.machine.ram_list.dirty
    before = [dirty.bitmap(c).copy() for c in CLIENTS]
    bare.guest.dma.blit(RAM, bare.lfb + 4096 * 3, 256, 64, 256, 4096)
    assert bare.engine.last.pieces == 1 and bare.code_calls == []
    assert all((dirty.bitmap(c) == b).all() for c, b in zip(CLIENTS, before))
    vram_mr = bare.machine.vga.vram_mr
    vram_mr.snapshot_and_clear_dirty(4096 * 40, 4096, DIRTY_MEMORY_VGA)
    bare.guest.dma.blit(RAM, bare.lfb + 4096 * 3, 256, 64, 256, 4096)
    snap = vram_mr.snapshot_and_clear_dirty(0, 4096 * 80, DIRTY_MEMORY_VGA)
    assert snap.pages_in(snap.start, snap.end - snap.start)[40] and bare.code_calls == []
