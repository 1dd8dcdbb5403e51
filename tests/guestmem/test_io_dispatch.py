"""AddressSpace.io_dispatch: the iotlb entry a CPU keeps per port or MMIO page.

For random io regions (valid/impl sizes, alignment rules, byte order) and random accesses,
whenever the entry says an access is one direct callback (in range, size in unit_le or
unit_be, aligned offset), calling ops.write / ops.read directly must produce exactly the
callbacks and value the AddressSpace's st/ld produce.  RAM, holes and the io root's
unassigned ports give no entry (or the root's, which is still exact).
"""

from __future__ import annotations

from hypothesis import event, given, settings
from hypothesis import strategies as st

from guestmem import (AccessConstraints, AddressSpace, Endianness, MemoryRegion,
                      MemoryRegionOps, RAMList)

SIZES = (1, 2, 4, 8)


def constraints():
    return st.tuples(st.sampled_from(SIZES), st.sampled_from(SIZES), st.booleans()).map(
        lambda t: AccessConstraints(min(t[0], t[1]), max(t[0], t[1]), t[2]))


def build(valid, impl, big):
    calls = []

    def read(off, size):
        calls.append(("r", off, size))
        return (off * 0x0101010101010101 + size) & ((1 << (8 * size)) - 1)

    def write(off, value, size):
        calls.append(("w", off, value, size))

    root = MemoryRegion.container("root", 1 << 16)
    dev = MemoryRegion.io("dev", 0x100, MemoryRegionOps(
        read=read, write=write, valid=valid, impl=impl,
        endianness=Endianness.BIG if big else Endianness.LITTLE))
    root.add_subregion(0x1000, dev)
    ram = MemoryRegion.ram("ram", 0x1000, ram_list=RAMList())
    root.add_subregion(0x4000, ram)
    return AddressSpace(root, "t"), calls


LD = {1: "ldub", 2: "lduw", 4: "ldl", 8: "ldq"}
ST = {1: "stb", 2: "stw", 4: "stl", 8: "stq"}


@settings(max_examples=300, deadline=None)
@given(valid=constraints(), impl=st.one_of(st.none(), constraints()), big=st.booleans(),
       access_big=st.booleans(), size=st.sampled_from(SIZES), addr=st.one_of(st.integers(0, 0x1F).map(lambda k: 0x1000 + 8 * k),
                                 st.integers(0xFF0, 0x1108)),
       value=st.integers(0, 2**64 - 1))
def test_direct_callbacks_are_what_ld_and_st_do(valid, impl, big, access_big, size, addr,
                                                value):
    as_, calls = build(valid, impl or valid, big)
    access_big = access_big and size > 1 and big    # mostly the device's own order
    entry, fv = as_.io_dispatch(addr)
    assert fv is as_.current_map()
    if entry is None:
        assert not 0x1000 <= addr < 0x1100
        return
    assert entry.start == 0x1000 and entry.end == 0x1100
    units = entry.unit_be if access_big else entry.unit_le
    x = addr - entry.delta
    if not (units & size and not x & (size - 1) and addr + size <= entry.end):
        return
    event("direct")
    suffix = "" if size == 1 else ("_be" if access_big else "_le")
    value &= (1 << (8 * size)) - 1
    getattr(as_, ST[size] + suffix)(addr, value)
    got_ld = getattr(as_, LD[size] + suffix)(addr)
    via_as = list(calls)
    calls.clear()
    entry.ops.write(x, value, size)
    direct_ld = entry.ops.read(x, size) & ((1 << (8 * size)) - 1)
    assert calls == via_as
    assert direct_ld == got_ld


def test_ram_and_holes_have_no_entry():
    as_, _ = build(AccessConstraints(1, 4), AccessConstraints(1, 4), False)
    assert as_.io_dispatch(0x4000)[0] is None      # RAM
    assert as_.io_dispatch(0x8000)[0] is None      # a hole
    assert as_.io_dispatch(0x1000)[0] is not None
