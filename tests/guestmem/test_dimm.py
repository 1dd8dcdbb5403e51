"""MachineMemory: initial RAM from -m, the device-memory region, pc-dimm plug/unplug, QMP."""

import numpy as np
import pytest

from guestmem.address_space import AddressSpace
from guestmem.backends import MemoryBackendFile, MemoryBackendRam
from guestmem.dimm import GiB, MiB, PCDIMM
from guestmem.errors import DeviceError, MemoryConfigError
from guestmem.machine_memory import MachineMemory
from guestmem.ramblock import RAMList
from guestmem.region import MemoryRegion


def make(memory="256M,slots=4,maxmem=1G", **kw):
    ram_list = RAMList()
    sysmem = MemoryRegion.container("system", 1 << 64)
    m = MachineMemory(memory, ram_list=ram_list, system_memory=sysmem, **kw)
    return m, ram_list, sysmem


def state(m, ram_list):
    """Everything a failed operation must leave untouched."""
    return (
        [(b.idstr, b.offset, b.max_length) for b in ram_list.blocks],
        m.query_memory_devices(),
        m.query_memory_size_summary(),
        {k: b.is_mapped for k, b in m.backends.items()},
        [(s.addr, s.name) for s in (m.device_memory.subregions if m.device_memory else [])],
        sorted(m.backends),
    )


# -- initial RAM ----------------------------------------------------------------------------

def test_initial_ram_small():
    m, rl, sysmem = make("128M")
    assert [b.idstr for b in rl.blocks] == ["pc.ram"]
    assert m.ram_block.idstr == "pc.ram" and m.ram_block.used_length == 128 * MiB
    assert (m.below_4g_mem_size, m.above_4g_mem_size) == (128 * MiB, 0)
    assert m.ram_above_4g is None and m.device_memory is None
    assert m.ram_below_4g.name == "ram-below-4g"
    a = AddressSpace(sysmem, "memory")
    a.stl_le(0x1000, 0x12345678)
    assert int.from_bytes(bytes(m.ram_backend.host[0x1000:0x1004]), "little") == 0x12345678
    assert m.query_memory_size_summary() == {"base-memory": 128 * MiB, "plugged-memory": 0}
    assert m.query_memory_devices() == []
    m.close()


@pytest.mark.parametrize("size,below,above", [
    ("3200M", 3200 * MiB, 0),                      # below the 3.5 GiB default limit
    ("3584M", 3 * GiB, 512 * MiB),                 # >= 3.5 GiB: split moves to 3 GiB
    ("4G", 3 * GiB, GiB),                          # QEMU's "-m 4G -> 3072M low, 1024M high"
])
def test_ram_split_around_4g(size, below, above):
    m, rl, sysmem = make(size)
    assert (m.below_4g_mem_size, m.above_4g_mem_size) == (below, above)
    if above:
        assert m.ram_above_4g.name == "ram-above-4g"
        a = AddressSpace(sysmem, "memory")
        a.write(1 << 32, b"HIGH")                  # 4 GiB is ram offset `below`
        assert bytes(m.ram_backend.host[below:below + 4]) == b"HIGH"
        assert a.read_bytes(below - 4, 4) != b"HIGH"
    m.close()


@pytest.mark.parametrize("memory,base,size", [
    ("256M,slots=4,maxmem=1G", 4 * GiB, 768 * MiB + 4 * GiB),
    ("4G,slots=2,maxmem=8G", 5 * GiB, 4 * GiB + 2 * GiB),       # above-4g RAM ends at 5 GiB
    ("3584M,slots=1,maxmem=4G", 5 * GiB, 512 * MiB + GiB),     # 4.5 GiB rounded up to 5 GiB
    ("1G,maxmem=2G", 4 * GiB, GiB),                            # no slots: no per-slot room
])
def test_device_memory_region_placement(memory, base, size):
    m, rl, sysmem = make(memory)
    assert (m.device_memory_base, m.device_memory_size) == (base, size)
    assert m.device_memory.name == "device-memory" and m.device_memory.size == size
    assert m.device_memory in sysmem.subregions and m.device_memory.addr == base
    m.close()


def test_initial_ram_from_memdev_and_errors(tmp_path):
    be = MemoryBackendFile("ram0", 64 * MiB, mem_path=tmp_path / "ram", share=True)
    m, rl, sysmem = make("64M", objects=[be], memdev="ram0")
    assert m.ram_block.idstr == "ram0" and be.is_mapped
    AddressSpace(sysmem, "memory").write(0x2000, b"file")
    m.close()
    assert not be.is_mapped and not be.closed     # not owned by the machine: left open
    be.close()
    assert (tmp_path / "ram").read_bytes()[0x2000:0x2004] == b"file"

    be = MemoryBackendRam("ram1", 32 * MiB)
    with pytest.raises(MemoryConfigError, match="does not match the size of the memory backend"):
        make("64M", objects=[be], memdev="ram1")
    assert not be.is_mapped
    with pytest.raises(MemoryConfigError, match="reserved for the default RAM backend"):
        make("64M", objects=["memory-backend-ram,id=pc.ram,size=2M"])
    be.close()


def test_mem_path_makes_default_ram_a_file(tmp_path):
    m, rl, sysmem = make("16M", mem_path=str(tmp_path))
    assert isinstance(m.ram_backend, MemoryBackendFile) and m.ram_block.idstr == "pc.ram"
    m.close()


def test_initial_ram_cannot_be_unplugged():
    m, rl, _ = make()
    before = state(m, rl)
    for name in ("pc.ram", "ram-below-4g"):
        with pytest.raises(DeviceError, match="initial RAM"):
            m.unplug(name)
    with pytest.raises(DeviceError, match="Device 'nope' not found"):
        m.unplug("nope")
    assert state(m, rl) == before
    m.close()


def test_slot_limit_checked_by_machine():
    with pytest.raises(MemoryConfigError, match="unsupported amount of memory slots: 257"):
        make("1G,slots=257,maxmem=2G")


# -- plug -----------------------------------------------------------------------------------

def test_plug_auto_slot_and_address():
    m, rl, sysmem = make(objects=["memory-backend-ram,id=mem1,size=128M",
                                  "memory-backend-ram,id=mem2,size=64M"])
    d1 = m.plug("pc-dimm,id=dimm1,memdev=mem1")
    d2 = m.plug(PCDIMM("dimm2", "mem2"))
    assert (d1.slot, d1.addr) == (0, 4 * GiB)
    assert (d2.slot, d2.addr) == (1, 4 * GiB + 128 * MiB)
    # -object backends get their RAMBlocks when they are created, before pc.ram
    assert [(b.idstr, b.offset) for b in rl.blocks] == [
        ("mem1", 0), ("mem2", 128 * MiB), ("pc.ram", 192 * MiB)]
    assert d1.mr.ram_block.backend is m.backends["mem1"]
    a = AddressSpace(sysmem, "memory")
    a.write(d2.addr + 100, b"dimm2")
    assert bytes(m.backends["mem2"].host[100:105]) == b"dimm2"
    assert m.query_memory_devices() == [
        {"type": "dimm", "data": {"id": "dimm1", "addr": 4 * GiB, "size": 128 * MiB, "slot": 0,
                                  "node": 0, "memdev": "/objects/mem1", "hotplugged": True,
                                  "hotpluggable": True}},
        {"type": "dimm", "data": {"id": "dimm2", "addr": 4 * GiB + 128 * MiB, "size": 64 * MiB,
                                  "slot": 1, "node": 0, "memdev": "/objects/mem2",
                                  "hotplugged": True, "hotpluggable": True}},
    ]
    assert m.query_memory_size_summary() == {"base-memory": 256 * MiB,
                                             "plugged-memory": 192 * MiB}
    m.close()


def test_plug_requested_slot_and_address():
    m, rl, _ = make(objects=["memory-backend-ram,id=mem1,size=64M",
                             "memory-backend-ram,id=mem2,size=64M"])
    d = m.plug(f"pc-dimm,id=d,memdev=mem1,slot=3,addr={4 * GiB + 512 * MiB:#x}")
    assert (d.slot, d.addr) == (3, 4 * GiB + 512 * MiB)
    e = m.plug("pc-dimm,id=e,memdev=mem2")               # first fit below the requested one
    assert (e.slot, e.addr) == (0, 4 * GiB)
    assert [x.id for x in m.dimms] == ["e", "d"]         # query order is by address
    m.close()


def test_address_alignment_follows_backend(tmp_path):
    """A file backend aligns to its page size (4 KiB), a ram backend to 2 MiB (THP)."""
    m, rl, _ = make(objects=[MemoryBackendFile("f", MiB, mem_path=tmp_path),
                             "memory-backend-ram,id=r,size=2M"])
    f = m.plug(PCDIMM("df", "f"))
    r = m.plug(PCDIMM("dr", "r"))
    assert f.addr == 4 * GiB
    assert r.addr == 4 * GiB + 2 * MiB                  # 4G+1M rounded up to 2 MiB
    m.close()


def test_cold_plugged_devices_are_not_hotplugged():
    m, rl, _ = make(objects=["memory-backend-ram,id=mem1,size=64M"],
                    devices=["pc-dimm,id=cold,memdev=mem1"])
    assert m.query_memory_devices()[0]["data"]["hotplugged"] is False
    m.close()


def _two_dimm_machine(tmp_path=None):
    m, rl, sysmem = make("256M,slots=2,maxmem=512M", objects=[
        "memory-backend-ram,id=mem1,size=64M", "memory-backend-ram,id=mem2,size=64M",
        "memory-backend-ram,id=mem3,size=64M", "memory-backend-ram,id=big,size=256M",
        "memory-backend-ram,id=odd,size=1M", "memory-backend-ram,id=huge,size=194M"])
    m.plug("pc-dimm,id=dimm1,memdev=mem1")
    return m, rl


@pytest.mark.parametrize("device,message", [
    ("pc-dimm,id=dimm1,memdev=mem2", r"Duplicate ID 'dimm1' for device"),
    ("pc-dimm,id=x,memdev=mem1", r"can't use already busy memdev: mem1"),
    ("pc-dimm,id=x,memdev=pc.ram", r"can't use already busy memdev: pc.ram"),
    ("pc-dimm,id=x,memdev=ghost", r"memdev 'ghost' not found"),
    ("pc-dimm,id=x", r"'memdev' property is not set"),
    ("pc-dimm,id=x,memdev=mem2,node=1", r"exceeds the number of numa nodes: 1"),
    ("pc-dimm,id=x,memdev=mem2,slot=0", r"slot 0 is busy"),
    ("pc-dimm,id=x,memdev=mem2,slot=2", r"invalid slot number 2, valid range is \[0-1\]"),
    ("pc-dimm,id=x,memdev=mem2,slot=-3", r"invalid slot number -3"),
    ("pc-dimm,id=x,memdev=huge", r"not enough space, currently 0x4000000 in use of total "
                                 r"space for memory devices 0x10000000"),
    ("pc-dimm,id=x,memdev=odd", r"backend memory size must be multiple of 0x200000"),
    ("pc-dimm,id=x,memdev=mem2,addr=0x100100000", r"address must be aligned to 0x200000"),
    ("pc-dimm,id=x,memdev=mem2,addr=0xc0000000", r"can't add memory device "
                                                 r"\[0xc0000000:0x4000000\] before 0x100000000"),
    ("pc-dimm,id=x,memdev=mem2,addr=0x18fe00000", r"beyond 0x190000000"),
    ("pc-dimm,id=x,memdev=mem2,addr=0x102000000", r"address range conflicts with memory "
                                                  r"device id='dimm1'"),
])
def test_plug_errors_change_nothing(device, message):
    m, rl = _two_dimm_machine()
    before = state(m, rl)
    with pytest.raises(DeviceError, match=message):
        m.plug(device)
    assert state(m, rl) == before
    m.close()


def test_plug_errors_slots_full_and_past_maxmem():
    m, rl = _two_dimm_machine()
    m.plug("pc-dimm,id=dimm2,memdev=mem2")
    before = state(m, rl)
    with pytest.raises(DeviceError, match="no free slots available"):
        m.plug("pc-dimm,id=x,memdev=mem3")
    assert state(m, rl) == before
    m.close()
    m, rl, _ = make("256M,slots=4,maxmem=512M",
                    objects=["memory-backend-ram,id=a,size=128M",
                             "memory-backend-ram,id=b,size=128M",
                             "memory-backend-ram,id=c,size=2M"])
    m.plug("pc-dimm,id=a,memdev=a")
    m.plug("pc-dimm,id=b,memdev=b")
    before = state(m, rl)
    with pytest.raises(DeviceError, match="not enough space, currently 0x10000000 in use"):
        m.plug("pc-dimm,id=c,memdev=c")             # slots left, but maxmem reached
    assert state(m, rl) == before
    m.close()


def test_plug_without_hotplug_configuration():
    m, rl, _ = make("256M", objects=["memory-backend-ram,id=mem1,size=64M"])
    with pytest.raises(DeviceError, match="no slots where allocated"):
        m.plug("pc-dimm,id=x,memdev=mem1")
    assert not m.backends["mem1"].is_mapped
    m.close()
    m, rl, _ = make("256M,maxmem=1G", objects=["memory-backend-ram,id=mem1,size=64M"])
    with pytest.raises(DeviceError, match="please specify the 'slots' option"):
        m.plug("pc-dimm,id=x,memdev=mem1")
    m.close()


def test_failed_cold_plug_leaves_nothing_behind():
    rl = RAMList()
    sysmem = MemoryRegion.container("system", 1 << 64)
    be = MemoryBackendRam("mine", 64 * MiB)
    with pytest.raises(DeviceError, match="memdev 'ghost' not found"):
        MachineMemory("256M,slots=2,maxmem=1G", ram_list=rl, system_memory=sysmem,
                      objects=[be], devices=[PCDIMM("ok", "mine"), PCDIMM("bad", "ghost")])
    assert rl.blocks == [] and sysmem.subregions == []
    assert not be.is_mapped and not be.closed
    be.close()
    with pytest.raises(DeviceError, match="slot 0 is busy"):
        MachineMemory("256M,slots=2,maxmem=1G", ram_list=rl, system_memory=sysmem,
                      objects=["memory-backend-ram,id=a,size=2M",
                               "memory-backend-ram,id=b,size=2M"],
                      devices=["pc-dimm,id=a,memdev=a,slot=0", "pc-dimm,id=b,memdev=b,slot=0"])
    assert rl.blocks == [] and sysmem.subregions == []


# -- unplug ---------------------------------------------------------------------------------

def test_unplug_frees_slot_and_address_object_del_frees_ram_addr_range():
    m, rl, sysmem = make(objects=["memory-backend-ram,id=mem1,size=64M",
                                  "memory-backend-ram,id=mem2,size=64M",
                                  "memory-backend-ram,id=mem3,size=64M"])
    d1 = m.plug("pc-dimm,id=dimm1,memdev=mem1")
    m.plug("pc-dimm,id=dimm2,memdev=mem2")
    old = (d1.slot, d1.addr, d1.mr.ram_block.offset)
    m.backends["mem1"].host[:4] = [1, 2, 3, 4]
    unplugged = m.unplug("dimm1")
    assert unplugged is d1 and not d1.plugged and d1.mr is None
    assert not m.backends["mem1"].is_mapped
    # the backend keeps its RAMBlock (QEMU: the memory belongs to the backend object)
    assert [b.idstr for b in rl.blocks] == ["mem1", "mem2", "mem3", "pc.ram"]
    a = AddressSpace(sysmem, "memory")
    assert a.read_bytes(old[1], 4) == b"\x00" * 4     # unassigned now
    d3 = m.plug("pc-dimm,id=dimm3,memdev=mem3")
    assert (d3.slot, d3.addr) == old[:2]              # slot and address reused
    assert [d["data"]["id"] for d in m.query_memory_devices()] == ["dimm3", "dimm2"]
    # the backend keeps its data and can be plugged again (as after device_del in QEMU)
    d1b = m.plug(PCDIMM("again", "mem1"))
    assert a.read_bytes(d1b.addr, 4) == b"\x01\x02\x03\x04"
    assert d1b.mr.ram_block.offset == old[2]
    assert m.query_memory_size_summary()["plugged-memory"] == 192 * MiB
    gap = rl.block_by_idstr("mem2").offset
    m.unplug("dimm2")
    m.del_object("mem2")                               # object-del frees the range
    assert [b.idstr for b in rl.blocks] == ["mem1", "mem3", "pc.ram"]
    m.add_object("memory-backend-ram,id=mem4,size=64M")
    assert rl.block_by_idstr("mem4").offset == gap     # and the gap is reused
    m.close()


def test_replug_same_device_object():
    m, rl, _ = make(objects=["memory-backend-ram,id=mem1,size=64M"])
    d = PCDIMM("d", "mem1", slot=2)
    m.plug(d)
    with pytest.raises(DeviceError, match="already plugged"):
        m.plug(d)
    m.unplug(d)
    assert d.slot == 2 and d.addr is None
    m.plug(d)
    assert d.slot == 2
    m.close()


def test_del_object_refused_while_in_use():
    m, rl, _ = make(objects=["memory-backend-ram,id=mem1,size=64M"])
    m.plug("pc-dimm,id=d,memdev=mem1")
    with pytest.raises(MemoryConfigError, match="object 'mem1' is in use, can not be deleted"):
        m.del_object("mem1")
    be = m.backends["mem1"]
    m.unplug("d")
    m.del_object("mem1")
    assert be.closed and "mem1" not in m.backends
    m.add_object("memory-backend-ram,id=x,size=2M")
    with pytest.raises(MemoryConfigError, match="duplicate object id 'x'"):
        m.add_object("memory-backend-ram,id=x,size=2M")
    with pytest.raises(MemoryConfigError, match="duplicate object id 'x'"):
        m.add_object(MemoryBackendRam("x", 2 * MiB))
    with pytest.raises(MemoryConfigError, match="object 'zz' not found"):
        m.del_object("zz")
    m.close()


def test_shared_file_dimm_writes_reach_the_file(tmp_path):
    path = tmp_path / "dimm.img"
    m, rl, sysmem = make(objects=[f"memory-backend-file,id=f,size=2M,mem-path={path},share=on"])
    d = m.plug("pc-dimm,id=d,memdev=f")
    AddressSpace(sysmem, "memory").write(d.addr + 4096, b"persist")
    m.close()
    assert path.read_bytes()[4096:4103] == b"persist"


def test_two_machines_share_nothing():
    opts = dict(objects=["memory-backend-ram,id=mem1,size=64M"])
    src, rl1, sys1 = make(**opts)
    dst, rl2, sys2 = make(**opts)
    src.plug("pc-dimm,id=d,memdev=mem1")
    assert dst.query_memory_devices() == [] and not dst.backends["mem1"].is_mapped
    dst.plug("pc-dimm,id=d,memdev=mem1")        # same ids, separate namespaces
    AddressSpace(sys1, "memory").write(4 * GiB, b"src!")
    assert AddressSpace(sys2, "memory").read_bytes(4 * GiB, 4) == b"\x00" * 4
    assert rl1.blocks[0] is not rl2.blocks[0]
    assert np.shares_memory(src.ram_backend.host, dst.ram_backend.host) is False
    with pytest.raises(DeviceError, match="not plugged into this machine"):
        dst.unplug(src.dimms[0])
    src.close()
    dst.close()


def test_close_releases_everything():
    m, rl, sysmem = make(objects=["memory-backend-ram,id=mem1,size=64M"],
                         devices=["pc-dimm,id=d,memdev=mem1"])
    backends = list(m.backends.values())
    m.close()
    assert rl.blocks == [] and sysmem.subregions == []
    assert all(b.closed for b in backends)
    with pytest.raises(DeviceError, match="closed"):
        m.plug("pc-dimm,id=e,memdev=mem1")
    m.close()                                    # idempotent


def test_readonly_and_memfd_backends_as_dimms(tmp_path):
    img = tmp_path / "rom.img"
    img.write_bytes(b"\x07" * (2 * MiB))
    m, rl, sysmem = make(objects=[MemoryBackendFile("ro", 2 * MiB, mem_path=img, readonly=True),
                                  "memory-backend-memfd,id=fd,size=4M"])
    a = AddressSpace(sysmem, "memory")
    ro = m.plug("pc-dimm,id=ro,memdev=ro")
    fd = m.plug("pc-dimm,id=fd,memdev=fd")
    assert fd.addr == ro.addr + 2 * MiB and ro.mr.readonly
    a.write(ro.addr, b"abcd")                    # like QEMU's readonly region: write dropped
    assert a.read_bytes(ro.addr, 4) == b"\x07" * 4
    a.write(fd.addr + 8, b"memfd")
    assert bytes(m.backends["fd"].host[8:13]) == b"memfd"
    ro_backend = m.backends["ro"]
    m.close()
    ro_backend.close()
    assert img.read_bytes() == b"\x07" * (2 * MiB)


from hypothesis import given, settings, strategies as st  # noqa: E402

_SIZES_MIB = [2, 4, 6, 8, 16, 32]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["plug", "plug_at", "unplug"]),
                          st.integers(0, 7), st.integers(0, 200)), max_size=30))
def test_random_plug_unplug_keeps_invariants(ops):
    """Whatever sequence of plugs (good or bad) and unplugs: no overlap in guest addresses,
    slots or ram_addr ranges, everything inside device-memory, sizes within maxmem, and a
    failed operation changes nothing."""
    objects = [f"memory-backend-ram,id=m{i},size={_SIZES_MIB[i % len(_SIZES_MIB)]}M"
               for i in range(8)]
    m, rl, sysmem = make("64M,slots=4,maxmem=128M", objects=objects)
    n = 0
    for op, which, where in ops:
        before = state(m, rl)
        try:
            if op == "unplug":
                if not m.dimms:
                    continue
                m.unplug(m.dimms[which % len(m.dimms)])
            else:
                addr = m.device_memory_base + where * 2 * MiB if op == "plug_at" else None
                m.plug(PCDIMM(f"d{n}", f"m{which}", addr=addr))
                n += 1
        except DeviceError:
            assert state(m, rl) == before
        dimms = m.dimms
        spans = sorted((d.addr, d.addr + d.size) for d in dimms)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
        assert all(m.device_memory_base <= s and e <= m.device_memory_base
                   + m.device_memory_size for s, e in spans)
        assert len({d.slot for d in dimms}) == len(dimms) and all(0 <= d.slot < 4 for d in dimms)
        assert sum(d.size for d in dimms) <= 64 * MiB
        blocks = sorted((b.offset, b.offset + b.max_length) for b in rl.blocks)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(blocks, blocks[1:]))
        assert len(rl.blocks) == 1 + len(objects)       # backends own theirs, plugged or not
        assert all(d.backend.is_mapped for d in dimms)
        assert sum(b.is_mapped for b in m.backends.values()) == 1 + len(dimms)
    m.close()
    assert rl.blocks == []
