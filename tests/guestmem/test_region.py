import pytest

from guestmem import (AccessConstraints, AddressSpace, MemoryListener,
                      MemoryRegion, MemoryRegionOps, RAMList, RegionError, GuestMemError,
                      memory_region_transaction, memory_region_transaction_begin,
                      memory_region_transaction_commit)

P = 4096


def ranges(as_):
    return [(r.addr, r.end, r.mr.name, r.offset_in_region) for r in as_.flatview.ranges]


@pytest.fixture
def rl():
    return RAMList()


def test_priority_then_newest_wins(rl):
    root = MemoryRegion.container("root", 0x10000)
    a = MemoryRegion.ram("a", 0x4000, ram_list=rl)
    b = MemoryRegion.ram("b", 0x4000, ram_list=rl)
    c = MemoryRegion.ram("c", 0x4000, ram_list=rl)
    root.add_subregion(0, a)
    root.add_subregion(0x2000, b)           # same priority, newer: wins on overlap
    as_ = AddressSpace(root, "t")
    assert ranges(as_) == [(0, 0x2000, "a", 0), (0x2000, 0x6000, "b", 0)]
    root.add_subregion(0x1000, c, priority=-1)   # lower priority: only fills holes
    assert ranges(as_) == [(0, 0x2000, "a", 0), (0x2000, 0x6000, "b", 0)]
    root.del_subregion(c)
    root.add_subregion(0x5000, c, priority=1)
    assert ranges(as_) == [(0, 0x2000, "a", 0), (0x2000, 0x5000, "b", 0), (0x5000, 0x9000, "c", 0)]
    # moving a re-adds it: now a is the newest among priority 0 and wins over b
    a.set_address(0x1000)
    assert ranges(as_) == [(0x1000, 0x5000, "a", 0), (0x5000, 0x9000, "c", 0)]
    assert [m.name for m in root.subregions] == ["c", "a", "b"]


def test_alias_offset_and_clipping(rl):
    root = MemoryRegion.container("root", 0x100000)
    ram = MemoryRegion.ram("ram", 0x10000, ram_list=rl)
    al = MemoryRegion.alias("win", ram, 0x3000, 0x2000)
    root.add_subregion(0x80000, al)
    as_ = AddressSpace(root, "t")
    assert ranges(as_) == [(0x80000, 0x82000, "ram", 0x3000)]
    al.set_alias_offset(0x4000)
    assert ranges(as_) == [(0x80000, 0x82000, "ram", 0x4000)]
    # alias of an alias
    al2 = MemoryRegion.alias("win2", al, 0x1000, 0x1000)
    root.add_subregion(0, al2)
    assert ranges(as_)[0] == (0, 0x1000, "ram", 0x5000)


def test_disabled_regions_are_removed_and_holes_filled(rl):
    root = MemoryRegion.container("root", 0x10000)
    low = MemoryRegion.ram("low", 0x10000, ram_list=rl)
    hi = MemoryRegion.ram("hi", 0x1000, ram_list=rl)
    root.add_subregion(0, low)
    root.add_subregion(0x4000, hi, 1)
    as_ = AddressSpace(root, "t")
    assert len(as_.flatview) == 3
    hi.set_enabled(False)
    assert ranges(as_) == [(0, 0x10000, "low", 0)]   # simplified back into one range
    hi.set_enabled(True)
    assert ranges(as_)[1] == (0x4000, 0x5000, "hi", 0)


def test_nested_containers_and_sizes(rl):
    root = MemoryRegion.container("root", 0x10000)
    sub = MemoryRegion.container("sub", 0x2000)
    r = MemoryRegion.ram("r", 0x4000, ram_list=rl)
    root.add_subregion(0x8000, sub)
    sub.add_subregion(0x1000, MemoryRegion.alias("ra", r, 0, 0x1000))
    as_ = AddressSpace(root, "t")
    assert ranges(as_) == [(0x9000, 0xA000, "r", 0)]


def test_transaction_rebuilds_once(rl):
    root = MemoryRegion.container("root", 0x100000)
    as_ = AddressSpace(root, "t")
    builds = []

    class L(MemoryListener):
        def commit(self):
            builds.append(len(as_.flatview))

    as_.register_listener(L())
    builds.clear()
    memory_region_transaction_begin()
    memory_region_transaction_begin()
    for i in range(10):
        root.add_subregion(i * P, MemoryRegion.ram(f"r{i}", P, ram_list=rl))
    memory_region_transaction_commit()
    assert builds == [] and len(as_.flatview) == 0   # still inside the outer transaction
    memory_region_transaction_commit()
    assert builds == [10]
    with pytest.raises(RegionError):
        memory_region_transaction_commit()


def test_two_machines_are_independent():
    rl1, rl2 = RAMList(), RAMList()
    r1, r2 = MemoryRegion.container("system", 1 << 32), MemoryRegion.container("system", 1 << 32)
    as1, as2 = AddressSpace(r1, "memory"), AddressSpace(r2, "memory")
    fv2 = as2.flatview
    r1.add_subregion(0, MemoryRegion.ram("pc.ram", P, ram_list=rl1))
    assert as2.flatview is fv2 and len(as1.flatview) == 1


def test_listener_events(rl):
    root = MemoryRegion.container("root", 0x100000)
    vram = MemoryRegion.ram("vram", 0x4000, ram_list=rl)
    as_ = AddressSpace(root, "t")
    ev = []

    class L(MemoryListener):
        def region_add(self, s):
            ev.append(("add", s.mr.name, s.offset_within_address_space, s.size))

        def region_del(self, s):
            ev.append(("del", s.mr.name, s.offset_within_address_space, s.size))

        def log_start(self, s):
            ev.append(("log_start", s.mr.name, s.old_dirty_log_mask, s.dirty_log_mask))

        def log_stop(self, s):
            ev.append(("log_stop", s.mr.name, s.old_dirty_log_mask, s.dirty_log_mask))

        def log_sync(self, s):
            ev.append(("sync", s.mr.name))

        def log_global_start(self):
            ev.append(("gstart",))

    as_.register_listener(L())
    root.add_subregion(0xA0000, vram)
    assert ev == [("add", "vram", 0xA0000, 0x4000)]
    ev.clear()
    vram.set_log(True, 0)
    assert ev == [("log_start", "vram", 0b010, 0b011)]
    ev.clear()
    rl.global_dirty_log_start()
    assert ev == [("gstart",), ("log_start", "vram", 0b011, 0b111)]
    ev.clear()
    vram.snapshot_and_clear_dirty(0, 0x4000, 0)
    assert ev == [("sync", "vram")]
    ev.clear()
    vram.set_address(0xB0000)
    assert ev == [("del", "vram", 0xA0000, 0x4000), ("add", "vram", 0xB0000, 0x4000)]


def _snapshot(root):
    def walk(mr):
        return (mr.name, mr.addr, mr.size, mr.priority, mr.enabled, mr.alias_offset,
                tuple(walk(s) for s in mr.subregions))
    return walk(root)


def test_errors_leave_state_unchanged(rl):
    root = MemoryRegion.container("root", 0x10000)
    other = MemoryRegion.container("other", 0x10000)
    a = MemoryRegion.ram("a", 0x2000, ram_list=rl)
    root.add_subregion(0, a)
    al = MemoryRegion.alias("al", a, 0, 0x1000)
    as_ = AddressSpace(root, "t")
    before, fv = _snapshot(root), as_.flatview
    bad = [
        lambda: other.add_subregion(0, a),                      # already has a container
        lambda: root.add_subregion(0xF000, MemoryRegion.container("big", 0x2000)),  # beyond
        lambda: root.add_subregion(-1, MemoryRegion.container("neg", 1)),
        lambda: root.add_subregion(0, root),                    # itself
        lambda: root.add_subregion("x", MemoryRegion.container("s", 1)),
        lambda: root.add_subregion(0, "not a region"),
        lambda: al.add_subregion(0, MemoryRegion.container("s2", 1)),   # into an alias
        lambda: root.del_subregion(other),
        lambda: a.set_address(0xF000),
        lambda: a.set_size(0x3000),                             # larger than its RAM
        lambda: root.set_size(0x1000),                          # would cut off a
        lambda: al.set_alias_offset(0x1800),                    # beyond target
        lambda: MemoryRegion.alias("x", a, 0x1000, 0x2000),
        lambda: MemoryRegion.container("x", -1),
        lambda: MemoryRegion.container("x", 1 << 65),
        lambda: MemoryRegion.ram("z", 0, ram_list=rl),
        lambda: MemoryRegion.ram("z", P, ram_list=None),
        lambda: a.set_log(True, 7),
        lambda: a.set_log(True, 1),                             # CODE is not per region
        lambda: a.get_dirty(0x1000, 0x2000, 0),
        lambda: a.get_dirty(0, -1, 0),
        lambda: root.get_dirty(0, 1, 0),                        # not RAM
        lambda: MemoryRegion.io("io", 4, MemoryRegionOps(valid=AccessConstraints(3, 4))),
        lambda: MemoryRegion.io("io", 4, MemoryRegionOps(impl=AccessConstraints(4, 2))),
        lambda: MemoryRegion.io("io", 4, "ops"),
        lambda: a.ram_resize(0x4000),                           # not resizeable
    ]
    for f in bad:
        with pytest.raises(RegionError):
            f()
        assert _snapshot(root) == before and as_.flatview is fv
    assert [b.idstr for b in rl.blocks] == ["a"]


def test_cycle_through_alias_is_rejected(rl):
    root = MemoryRegion.container("root", 0x10000)
    inner = MemoryRegion.container("inner", 0x1000)
    root.add_subregion(0, inner)
    loop = MemoryRegion.alias("loop", root, 0, 0x1000)
    with pytest.raises(RegionError, match="cycle"):
        inner.add_subregion(0, loop)
    assert inner.subregions == [] and loop.container is None


def test_resizeable_ram_region(rl):
    root = MemoryRegion.container("root", 0x100000)
    r = MemoryRegion.ram("r", 0x2000, ram_list=rl, max_size=0x10000)
    root.add_subregion(0, r)
    as_ = AddressSpace(root, "t")
    rl.dirty.clear_dirty_range(0, 0x10000)
    r.ram_resize(0x5000)
    assert r.size == 0x5000 and r.ram_block.used_length == 0x5000
    assert ranges(as_) == [(0, 0x5000, "r", 0)]
    assert all(rl.dirty.all_dirty(0, 0x5000, c) for c in range(3))
    with pytest.raises(RegionError, match="Size too large"):
        r.ram_resize(0x20000)
    assert r.size == 0x5000


def test_region_dirty_api(rl):
    vram = MemoryRegion.ram("vram", 0x10000, ram_list=rl)
    vram.set_log(True, 0)
    snap = vram.snapshot_and_clear_dirty(0, 0x10000, 0)
    assert vram.snapshot_get_dirty(snap, 0x3000, 1)          # new RAM starts dirty
    assert not vram.get_dirty(0, 0x10000, 0)
    vram.set_dirty(0x2001, 1)
    assert vram.get_dirty(0x2000, P, 0) and not vram.get_dirty(0x3000, P, 0)
    vram.reset_dirty(0, 0x10000, 0)
    assert not vram.get_dirty(0, 0x10000, 0)
    alias = MemoryRegion.alias("lfb", vram, 0x8000, 0x8000)
    alias.set_dirty(0, 1)
    assert vram.get_dirty(0x8000, 1, 0)
    assert alias.get_ram_addr() == vram.get_ram_addr() + 0x8000
    ptr = vram.get_ram_ptr()
    assert len(ptr) == 0x10000
    with pytest.raises(RegionError):
        vram.snapshot_get_dirty("nope", 0, 1)


def test_errors_derive_from_base():
    assert issubclass(RegionError, GuestMemError)


def test_transaction_context_manager(rl):
    root = MemoryRegion.container("root", 0x10000)
    as_ = AddressSpace(root, "t")
    with memory_region_transaction():
        root.add_subregion(0, MemoryRegion.ram("x", P, ram_list=rl))
        assert len(as_.flatview) == 0
    assert len(as_.flatview) == 1


def test_rom_device_romd_mode(rl):
    log = []
    ops = MemoryRegionOps(read=lambda o, s: 0x5A, write=lambda o, v, s: log.append((o, v, s)),
                          valid=AccessConstraints(1, 1), impl=AccessConstraints(1, 1))
    root = MemoryRegion.container("root", 0x10000)
    flash = MemoryRegion.rom_device("flash", P, ops, ram_list=rl)
    flash.get_ram_ptr()[:2] = [1, 2]
    root.add_subregion(0, flash)
    as_ = AddressSpace(root, "t")
    assert as_.read_bytes(0, 2) == b"\x01\x02"
    as_.write(0, b"\x09")
    assert log == [(0, 9, 1)] and as_.read_bytes(0, 1) == b"\x01"
    flash.rom_device_set_romd(False)
    assert as_.read_bytes(0, 2) == b"\x5a\x5a"
    assert flash.type_name() == "i/o"
    flash.rom_device_set_romd(True)
    assert flash.type_name() == "romd"


def test_dropped_address_space_leaves_registry(rl):
    import gc
    from guestmem.region import address_spaces
    root = MemoryRegion.container("root", 0x10000)
    as_ = AddressSpace(root, "short-lived")
    as_.stl_le(0, 1)
    assert any(a is as_ for a in address_spaces())
    del as_
    gc.collect()
    assert not any(a.name == "short-lived" for a in address_spaces())


def test_unregister_listener_and_global_sync(rl):
    from guestmem import memory_global_dirty_log_sync
    root = MemoryRegion.container("root", 0x10000)
    ram = MemoryRegion.ram("ram", P, ram_list=rl)
    root.add_subregion(0, ram)
    as_ = AddressSpace(root, "t")
    ev = []

    class L(MemoryListener):
        def region_add(self, s):
            ev.append(("add", s.mr.name))

        def region_del(self, s):
            ev.append(("del", s.mr.name))

        def log_start(self, s):
            ev.append(("log_start", s.old_dirty_log_mask, s.dirty_log_mask))

        def log_sync(self, s):
            ev.append(("sync", s.mr.name))

    l = L()
    as_.register_listener(l)
    assert ev == [("add", "ram"), ("log_start", 0, 0b010)]
    ev.clear()
    memory_global_dirty_log_sync(rl)
    assert ev == [("sync", "ram")]
    ev.clear()
    as_.unregister_listener(l)
    assert ev == [("del", "ram")]
    with pytest.raises(RegionError):
        as_.unregister_listener(l)
    with pytest.raises(RegionError):
        as_.register_listener(object())


def test_global_dirty_log_of_one_machine_leaves_the_other_alone():
    views = []
    for i in range(2):
        rl = RAMList()
        root = MemoryRegion.container("system", 1 << 32)
        root.add_subregion(0, MemoryRegion.ram("pc.ram", P, ram_list=rl))
        views.append((rl, AddressSpace(root, "memory")))
    (rl1, as1), (rl2, as2) = views
    fv2 = as2.flatview
    rl1.global_dirty_log_start()
    assert as2.flatview is fv2
    assert as1.flatview.ranges[0].dirty_log_mask == 0b110
    assert as2.flatview.ranges[0].dirty_log_mask == 0b010
