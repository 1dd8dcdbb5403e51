"""The NOTDIRTY protocol as a property: random interleavings of CPU stores (direct through
`write_pages` as generated code does, or the slow path), display snapshots, migration syncs,
scripted writes, DMA, map changes and TB creation over a small RAM.  A naive model says which
pages must read dirty; no dirty page may be missing, no write entry may outlive its page's
dirtiness, and no TB whose bytes changed may stay in the cache."""

import struct

import numpy as np

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from guestmem import (DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA,
                      DMADirection, MemoryRegion, dma_memory_rw)

from tests.vgaemu.cpu.cpu_bus import ALIAS_BASE, P, VRAM_BASE, VRAM_PAGES, Bus
from vgaemu.cpu.tb import TranslationBlock

RAM_PAGES_USED = 6
VRAM_PAGES_USED = 4

# Guest addresses the operations pick from: RAM, VRAM (VGA-logged, like the LFB), the alias
# of RAM pages 0..3.  Offsets cluster at page ends so that accesses cross pages.
page_bases = st.sampled_from(
    [p * P for p in range(RAM_PAGES_USED)]
    + [VRAM_BASE + p * P for p in range(VRAM_PAGES_USED)]
    + [ALIAS_BASE + p * P for p in range(4)])
offsets = st.one_of(st.sampled_from([0, 4, 8, 12, 16, 24, P - 12, P - 8, P - 4, P - 2, P - 1]),
                    st.integers(0, P - 1))
addrs = st.builds(lambda b, o: b + o, page_bases, offsets)

translate_op = st.tuples(st.just("translate"), addrs, st.integers(1, 40))
hit_code_op = st.tuples(st.just("hit_code"), st.sampled_from(["cpu", "script", "dma"]),
                        st.integers(0, 63), st.integers(0, 63), st.sampled_from([1, 2, 4]),
                        st.integers(0, 2**32 - 1))
# a CPU store on a code page but maybe beside the code (data next to code)
near_code_op = st.tuples(st.just("near_code"), st.integers(0, 63), st.integers(0, P - 1),
                         st.sampled_from([1, 2, 4]), st.integers(0, 2**32 - 1))
clear_ops = st.sampled_from([("snapshot_vga",), ("sync_migration",)])

ops = st.one_of(
    st.tuples(st.just("cpu_store"), addrs, st.sampled_from([1, 2, 4]), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("snapshot_vga")),
    st.tuples(st.just("sync_migration")),
    st.tuples(st.just("scripted_write"), addrs, st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("dma"), addrs, st.binary(min_size=1, max_size=600)),
    st.tuples(st.just("map_unmap"), addrs, st.integers(1, 64)),
    translate_op,
    st.tuples(st.just("run"), st.integers(0, 63)),
    st.tuples(st.just("remap")),
    # aimed at translated code: a CPU store / a scripted write / DMA into a live TB's bytes
    hit_code_op,
    near_code_op,
)
# the same protocol seen from code pages: translations, stores beside and into them, clears
code_ops = st.one_of(translate_op, hit_code_op, near_code_op, clear_ops)


class Model:
    """What must hold: pages written since each client last cleared them."""

    def __init__(self, bus):
        self.bus = bus
        self.vga_pending: set[int] = set()   # ram pages of VRAM written since the last snapshot
        self.mig_pending: set[int] = set()   # ram pages written since the last migration sync
        self.code: dict = {}                 # TB -> the bytes it was translated from

    def written(self, paddr, n):
        bus = self.bus
        for a in range(paddr, paddr + n):
            fr = bus.as_.current_map().lookup(a)
            if fr is None or fr.ram_list is None:
                continue
            page = (a - fr.ram_addr_delta) >> 12
            self.mig_pending.add(page)
            if fr.mr is bus.vram:
                self.vga_pending.add(page)


def cpu_store(bus, paddr, size, value):
    """What generated code does: a hit in write_pages is one pack_into, else the slow path."""
    tlb = bus.tlb
    off = paddr & 0xFFF
    mv = tlb.write_pages.get(paddr >> 12)
    if mv is not None and off + size <= P:
        struct.pack_into({1: "<B", 2: "<H", 4: "<I"}[size], mv, off, value & ((1 << 8 * size) - 1))
        return False
    return tlb.store(paddr, size, value & ((1 << 8 * size) - 1))


def check(bus, model):
    dm = bus.dirty
    # a write entry only while the page is dirty for every client
    for vpn, mv in bus.tlb.write_pages.items():
        ra = bus.ram_addr(vpn << 12)
        assert not dm.is_clean(ra), f"write entry for clean page vpn={vpn:#x}"
    # no TB whose bytes changed is still in the cache, and protected pages stay protected
    for tb, code in list(model.code.items()):
        if not tb.valid:
            del model.code[tb]
            continue
        assert bus.as_.read_bytes(tb.pc, tb.size) == code, f"stale {tb!r} survived a write"
        assert bus.tb_cache.lookup(*tb.key) is tb
        for page in tb.pages:
            assert not dm.get_dirty(page << 12, P, DIRTY_MEMORY_CODE)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(ops, min_size=1, max_size=50))
def test_notdirty_protocol_loses_nothing(op_list):
    run_ops(op_list)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(translate_op, min_size=1, max_size=4), st.lists(code_ops, min_size=1, max_size=30))
def test_notdirty_protocol_on_code_pages(translations, op_list):
    run_ops(translations + op_list)


def run_ops(op_list):
    bus = Bus()
    bus.ram_list.global_dirty_log_start()
    dm = bus.dirty
    vram_ra = bus.ram_addr(VRAM_BASE)
    # start from a settled state: every client has seen everything once
    dm.clear_dirty_range(0, dm.size, (1 << DIRTY_MEMORY_VGA) | (1 << DIRTY_MEMORY_MIGRATION))
    model = Model(bus)
    remapped = None
    for op in op_list:
        kind = op[0]
        if kind == "cpu_store":
            _, a, size, value = op
            cpu_store(bus, a, size, value)
            model.written(a, size)
        elif kind == "snapshot_vga":
            snap = dm.snapshot_and_clear_dirty(vram_ra, VRAM_PAGES * P, DIRTY_MEMORY_VGA)
            for page in model.vga_pending:
                assert snap.get_dirty(page << 12, 1), f"VGA lost a write to ram page {page:#x}"
            model.vga_pending.clear()
        elif kind == "sync_migration":
            snap = dm.snapshot_and_clear_dirty(0, dm.size, DIRTY_MEMORY_MIGRATION)
            for page in model.mig_pending:
                assert snap.get_dirty(page << 12, 1), f"migration lost ram page {page:#x}"
            model.mig_pending.clear()
        elif kind == "scripted_write":
            _, a, data = op
            bus.as_.write(a, data)
            model.written(a, len(data))
        elif kind == "dma":
            _, a, data = op
            dma_memory_rw(bus.as_, a, data, DMADirection.FROM_DEVICE)
            model.written(a, len(data))
        elif kind == "map_unmap":
            _, a, n = op
            m = bus.as_.map(a, n, True)
            if m is not None:
                k = len(m)
                m.buf[:k] = (np.arange(k) + a) & 0xFF
                bus.as_.unmap(m, True, k)
                model.written(a, k)
        elif kind == "translate":
            _, a, size = op
            if bus.tlb.code_ram_addr(a) is None or bus.tlb.code_ram_addr(a + size - 1) is None:
                continue
            tb = bus.tb_cache.insert(TranslationBlock(a, 0, 0, size))
            model.code[tb] = bus.as_.read_bytes(a, size)
        elif kind == "run":
            valid = [tb for tb in model.code if tb.valid]
            if valid:
                bus.tb_cache.running = valid[op[1] % len(valid)]
        elif kind == "hit_code":
            _, who, i, k, size, value = op
            valid = [tb for tb in model.code if tb.valid]
            if not valid:
                continue
            tb = valid[i % len(valid)]
            a = tb.pc + k % tb.size
            data = value.to_bytes(4, "little")[:size]
            if who == "cpu":
                cpu_store(bus, a, size, value)
            elif who == "script":
                bus.as_.write(a, data)
            else:
                dma_memory_rw(bus.as_, a, data, DMADirection.FROM_DEVICE)
            model.written(a, size)
        elif kind == "near_code":
            _, i, off, size, value = op
            valid = [tb for tb in model.code if tb.valid]
            if not valid:
                continue
            a = (valid[i % len(valid)].pc & ~(P - 1)) + off
            cpu_store(bus, a, size, value)
            model.written(a, size)
        elif kind == "remap":  # a map change elsewhere: flushes the TLB
            if remapped is None:
                remapped = MemoryRegion.alias("remap", bus.ram, 0, P)
                bus.root.add_subregion(0x700000, remapped)
            else:
                bus.root.del_subregion(remapped)
                remapped = None
        check(bus, model)
    # and at the end every client still finds everything it has not seen
    snap = dm.snapshot_and_clear_dirty(vram_ra, VRAM_PAGES * P, DIRTY_MEMORY_VGA)
    assert all(snap.get_dirty(p << 12, 1) for p in model.vga_pending)
    snap = dm.snapshot_and_clear_dirty(0, dm.size, DIRTY_MEMORY_MIGRATION)
    assert all(snap.get_dirty(p << 12, 1) for p in model.mig_pending)
