"""Property tests: random memory trees against a naive model that resolves every byte by
walking the tree, and exact dirty bits after random writes."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestmem import (AccessConstraints, AddressSpace, DirtyClient, Endianness, MemoryRegion,
                      MemoryRegionOps, MemTxResult, RAMList, RegionError)

ROOT_SIZE = 0x5000
P = 4096


class Device:
    """A memory-like io device: bytes stored in `mem`, values in the device's byte order."""

    def __init__(self, size, endianness, impl_max):
        self.mem = bytearray(size)
        self.order = endianness.byteorder
        self.ops = MemoryRegionOps(read=self.read, write=self.write, endianness=endianness,
                                   valid=AccessConstraints(1, 8, unaligned=True),
                                   impl=AccessConstraints(1, impl_max))

    def read(self, off, size):
        return int.from_bytes(self.mem[off:off + size], self.order)

    def write(self, off, val, size):
        self.mem[off:off + size] = val.to_bytes(size, self.order)


class Model:
    """Tracks its own copy of every storage and its own subregion ordering."""

    def __init__(self):
        self.seq = 0
        self.order = {}         # id(region) -> (priority, seq) of its latest add/move
        self.shadow = {}        # id(storage region) -> np.uint8 copy
        self.devices = {}       # id(io region) -> Device
        self.regions = []

    def note_added(self, mr):
        self.seq += 1
        self.order[id(mr)] = (mr.priority, self.seq)

    def children(self, mr):
        subs = [s for s in self.regions if s.container is mr]
        return sorted(subs, key=lambda s: (-self.order[id(s)][0], -self.order[id(s)][1]))

    def resolve(self, mr, off, readonly=False):
        """(terminal region, offset, readonly) answering byte `off` of `mr`, or None."""
        if not mr.enabled or not 0 <= off < mr.size:
            return None
        readonly = readonly or mr.readonly
        if mr.alias is not None:
            return self.resolve(mr.alias, off + mr.alias_offset, readonly)
        for sub in self.children(mr):
            r = self.resolve(sub, off - sub.addr, readonly)
            if r is not None:
                return r
        if mr.kind in ("ram", "rom", "io"):
            return mr, off, readonly
        return None

    def store(self, mr):
        return self.shadow[id(mr)] if mr.kind in ("ram", "rom") else self.devices[id(mr)].shadow


@st.composite
def machines(draw):
    rl = RAMList()
    model = Model()
    root = MemoryRegion.container("root", ROOT_SIZE)
    model.regions.append(root)
    containers = [root]
    targets = []
    for i in range(draw(st.integers(1, 9))):
        kind = draw(st.sampled_from(["container", "ram", "ram", "rom", "io", "io", "alias"]))
        parent = draw(st.sampled_from(containers))
        size = draw(st.integers(1, min(parent.size, 0x3000)))
        name = f"{kind}{i}"
        if kind == "container":
            mr = MemoryRegion.container(name, size)
        elif kind == "ram":
            mr = MemoryRegion.ram(name, size, ram_list=rl)
        elif kind == "rom":
            mr = MemoryRegion.rom(name, size, ram_list=rl)
        elif kind == "io":
            dev = Device(size, draw(st.sampled_from(list(Endianness))),
                         draw(st.sampled_from([1, 1, 2, 4, 8])))
            mr = MemoryRegion.io(name, size, dev.ops)
            dev.shadow = np.zeros(size, np.uint8)
            model.devices[id(mr)] = dev
        else:
            if not targets:
                continue
            target = draw(st.sampled_from(targets))
            size = draw(st.integers(1, min(target.size, parent.size)))
            offset = draw(st.integers(0, target.size - size))
            mr = MemoryRegion.alias(name, target, offset, size)
        if mr.ram_block is not None:
            init = draw(st.binary(min_size=1, max_size=8))
            host = mr.ram_block.host
            host[:] = np.resize(np.frombuffer(init, np.uint8), len(host))
            model.shadow[id(mr)] = host.copy()
        offset = draw(st.integers(0, parent.size - mr.size))
        prio = draw(st.integers(-2, 2))
        try:
            parent.add_subregion(offset, mr, prio)
        except RegionError:
            assert mr.container is None        # refused (cycle): nothing changed
            continue
        model.regions.append(mr)
        model.note_added(mr)
        if kind == "container":
            containers.append(mr)
        if kind != "container":
            targets.append(mr)
        if draw(st.integers(0, 5)) == 0:
            mr.set_enabled(False)
    return rl, root, model


def accesses():
    addr = st.one_of(st.integers(0, ROOT_SIZE + 16),
                     st.integers(0, ROOT_SIZE).map(lambda a: a & ~7))   # aligned: unsplit MMIO
    size = st.one_of(st.sampled_from([1, 2, 4, 8]), st.integers(0, 16),
                     st.integers(17, 2 * P + 3))
    return st.lists(st.one_of(
        st.tuples(st.just("snapshot"), st.just(0), st.just(0), st.sampled_from(list(DirtyClient))),
        st.tuples(st.just("write"), addr, size, st.integers(0, 255)),
        st.tuples(st.just("read"), addr, size, st.just(0)),
        st.tuples(st.just("stl_le"), addr, st.just(4), st.integers(0, 2**32 - 1)),
        st.tuples(st.just("ldq_be"), addr, st.just(8), st.just(0)),
        st.tuples(st.just("dma_write"), addr, size, st.integers(0, 255)),
        st.tuples(st.just("dma_read"), addr, size, st.just(0)),
    ), max_size=25)


def model_write(model, root, addr, data):
    bad = False
    for i, b in enumerate(data):
        r = model.resolve(root, addr + i)
        if r is None:
            bad = True
            continue
        mr, off, ro = r
        if mr.kind == "io":
            model.devices[id(mr)].shadow[off] = b
        elif not ro:
            model.shadow[id(mr)][off] = b
            yield mr, off
    model.bad = bad


def model_read(model, root, addr, n):
    out, bad = bytearray(n), False
    for i in range(n):
        r = model.resolve(root, addr + i)
        if r is None:
            bad = True
            continue
        mr, off, _ = r
        out[i] = model.store(mr)[off]
    return bytes(out), bad


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(machines(), accesses(), st.data())
def test_random_trees_match_naive_model(m, ops, data):
    rl, root, model = m
    as_ = AddressSpace(root, "prop")
    # logging configuration: VGA on some RAM, maybe the global (migration) log
    rams = [r for r in model.regions if r.kind == "ram"]
    for r in rams:
        if data.draw(st.booleans()):
            r.set_log(True, DirtyClient.VGA)
    if data.draw(st.booleans()):
        rl.global_dirty_log_start()
    if rl.dirty.npages:
        rl.dirty.clear_dirty_range(0, rl.dirty.size)
    expected = [set(), set(), set()]

    for op, addr, n, val in ops:
        if op in ("write", "stl_le"):
            if op == "write":
                payload = bytes((val + i) & 0xFF for i in range(n))
                res = as_.write(addr, payload)
            else:
                payload = val.to_bytes(4, "little")
                res = as_.stl_le(addr, val)
            for mr, off in list(model_write(model, root, addr, payload)):
                page = (mr.ram_block.offset + off) // P
                mask = mr.effective_dirty_log_mask()
                for c in range(3):
                    if mask & (1 << c):
                        expected[c].add(page)
            assert res == (MemTxResult.DECODE_ERROR if model.bad else MemTxResult.OK)
        elif op == "read":
            buf = bytearray(b"\xAA" * n)
            res = as_.read(addr, buf)
            want, bad = model_read(model, root, addr, n)
            assert bytes(buf) == want
            assert res == (MemTxResult.DECODE_ERROR if bad else MemTxResult.OK)
        elif op == "dma_write":
            m = as_.map(addr, n, True)
            if m is None:
                assert n == 0
                continue
            assert 0 < len(m.buf) <= n
            payload = bytes((val + 3 * i) & 0xFF for i in range(len(m.buf)))
            m.buf[:] = np.frombuffer(payload, np.uint8)
            as_.unmap(m, True, len(payload))
            for mr, off in list(model_write(model, root, addr, payload)):
                page = (mr.ram_block.offset + off) // P
                mask = mr.effective_dirty_log_mask()
                for c in range(3):
                    if mask & (1 << c):
                        expected[c].add(page)
        elif op == "dma_read":
            m = as_.map(addr, n, False)
            if m is None:
                assert n == 0
                continue
            want, _ = model_read(model, root, addr, len(m.buf))
            assert m.buf.tobytes() == want
            as_.unmap(m, False, len(m.buf))
        elif op == "snapshot":
            if rl.dirty.npages:
                snap = rl.dirty.snapshot_and_clear_dirty(0, rl.dirty.size, val)
                assert set(np.flatnonzero(snap.pages).tolist()) == expected[val]
            expected[val].clear()
        else:
            want, bad = model_read(model, root, addr, 8)
            assert as_.ldq_be(addr) == int.from_bytes(want, "big")

    for r in model.regions:
        if r.kind in ("ram", "rom"):
            assert (r.ram_block.host[:len(model.shadow[id(r)])] == model.shadow[id(r)]).all()
        elif r.kind == "io":
            assert bytes(model.devices[id(r)].mem) == model.devices[id(r)].shadow.tobytes()
    for c in DirtyClient:
        got = set(rl.dirty.dirty_pages(c).tolist()) if rl.dirty.npages else set()
        assert got == expected[c], f"client {c.name}"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(machines(), st.lists(st.tuples(st.integers(0, 30), st.integers(0, ROOT_SIZE),
                                      st.booleans()), max_size=8))
def test_flatview_matches_model_after_moves_and_toggles(m, edits):
    rl, root, model = m
    as_ = AddressSpace(root, "prop")
    movable = model.regions[1:]
    for idx, addr, toggle in edits:
        if not movable:
            break
        mr = movable[idx % len(movable)]
        if toggle:
            mr.set_enabled(not mr.enabled)
        else:
            moved = addr != mr.addr
            try:
                mr.set_address(addr)
            except RegionError:
                assert mr.addr + mr.size <= mr.container.size
                continue
            if moved:                 # a move makes it the newest of its priority;
                model.note_added(mr)  # "moving" to where it is changes nothing (as QEMU)
    fv = as_.flatview
    starts = [r.addr for r in fv.ranges]
    assert starts == sorted(starts)
    assert all(a.end <= b.addr for a, b in zip(fv.ranges, fv.ranges[1:]))
    for a in range(0, ROOT_SIZE, 7):
        r = model.resolve(root, a)
        fr = fv.lookup(a)
        if r is None:
            assert fr is None, hex(a)
        else:
            assert fr is not None and fr.mr is r[0], hex(a)
            assert a - fr.addr + fr.offset_in_region == r[1]
