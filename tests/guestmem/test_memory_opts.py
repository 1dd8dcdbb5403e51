"""-m / -object / -device option strings, parsed as QEMU parses them."""

import pytest

from guestmem.backends import MemoryBackendFile, MemoryBackendMemfd, MemoryBackendRam
from guestmem.dimm import (
    DEFAULT_RAM_SIZE, GiB, KiB, MemoryConfigError, MemoryOpts, MiB, PCDIMM,
    parse_device_opts, parse_memory_opts, parse_object_opts, qemu_strtosz, split_opts,
)


# -- qemu_strtosz ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("0", 0), ("4096", 4096), ("1B", 1), ("1b", 1), ("1k", KiB), ("1K", KiB), ("2M", 2 * MiB),
    ("1G", GiB), ("1g", GiB), ("1T", 1 << 40), ("1P", 1 << 50), ("1E", 1 << 60),
    ("1.5G", 3 * GiB // 2), ("1.k", KiB), ("12.345M", int(12.345 * MiB + 0.5)),
    ("0x1000", 0x1000), (" 42", 42), ("08", 8),
])
def test_strtosz_ok(text, expected):
    assert qemu_strtosz(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-1", "1Q", "1.5", "0x10M", "0x1.8", "1e3",
                                  "1 G", "16E", "1G ", "M"])
def test_strtosz_bad(text):
    with pytest.raises(ValueError):
        qemu_strtosz(text)


def test_strtosz_mib_default():
    assert qemu_strtosz("512", "M") == 512 * MiB


def test_split_opts_escaped_comma_and_implied_key():
    assert split_opts("a,,b,c=d,,e,flag", "k") == [("k", "a,b"), ("c", "d,e"), ("flag", "on")]
    assert split_opts("1G,", "size") == [("size", "1G")]


# -- -m -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,size", [
    ("512", 512 * MiB),          # bare number: MiB
    ("size=512", 512 * MiB),
    ("1G", GiB), ("1g", GiB), ("2048M", 2 * GiB), ("1T", 1 << 40),
    ("1.5M", 3 * MiB // 2),
    ("1000k", 1000 * KiB),       # already a multiple of 8 KiB
    ("1001k", 1008 * KiB),       # rounded up to 8 KiB
    ("100000B", 106496),         # 100000 rounded up to a multiple of 8192
    ("0", DEFAULT_RAM_SIZE),     # -m 0 means the default
])
def test_m_sizes(text, size):
    opts = parse_memory_opts(text)
    assert opts == MemoryOpts(size=size, slots=0, maxmem=size)
    assert not opts.hotplug_enabled


def test_m_default_when_absent():
    assert parse_memory_opts(None) == MemoryOpts(128 * MiB, 0, 128 * MiB)
    assert parse_memory_opts("slots=2,maxmem=1G").size == 128 * MiB
    assert parse_memory_opts(64 * MiB).size == 64 * MiB


def test_m_slots_maxmem():
    o = parse_memory_opts("1G,slots=4,maxmem=8G")
    assert (o.size, o.slots, o.maxmem) == (GiB, 4, 8 * GiB)
    assert o.hotplug_enabled
    assert parse_memory_opts(o.to_option()) == o
    # maxmem without slots is accepted by QEMU (hotplug then fails for lack of slots)
    o = parse_memory_opts("1G,maxmem=2G")
    assert (o.slots, o.maxmem) == (0, 2 * GiB)
    # maxmem is a plain size: bytes unless suffixed (no MiB default, unlike size)
    o = parse_memory_opts("size=1M,maxmem=4194304,slots=1")
    assert o.maxmem == 4 * MiB
    assert parse_memory_opts("1G,slots=0x10,maxmem=4G").slots == 16


@pytest.mark.parametrize("text,message", [
    ("1G,maxmem=512M", r"invalid value of maxmem: maximum memory size \(0x20000000\) must be "
                       r"at least the initial memory size \(0x40000000\)"),
    ("1G,slots=2,maxmem=1G", r"memory slots were specified but maximum memory size "
                             r"\(0x40000000\) is equal to the initial memory size"),
    ("1G,slots=2", r"slots specified but no max-size"),
    ("1G,slots=0", r"slots specified but no max-size"),
    ("1G,slots=257,maxmem=2G", r"unsupported amount of memory slots: 257"),
    ("1G,slots=1,maxmem=4097M", None),  # fine: 4097M is page aligned
    ("1G,slots=1,maxmem=2147487744B", None),
    ("1G,slots=1,maxmem=2147483649B", r"maximum memory size must by aligned to multiple of 4096"),
    ("abc", r"-m abc: Parameter 'size' expects a non-negative number"),
    ("-1", r"Parameter 'size' expects"),
    ("1.5", r"Parameter 'size' expects"),  # QemuOpts: a fraction needs a suffix
    ("1Q", r"Parameter 'size' expects"),
    ("0x100", r"got '0x100M'"),  # QEMU appends M to the hex number, which then fails
    ("1G,maxmem=lots", r"Parameter 'maxmem' expects"),
    ("1G,slots=x,maxmem=2G", r"Parameter 'slots' expects a number, got 'x'"),
    ("1G,foo=1", r"Invalid parameter 'foo'"),
    ("1G,=3", r"empty option name"),
    ("size=", r"Parameter 'size' expects"),
    ("99999999999999999999", r"Parameter 'size' expects"),
])
def test_m_errors(text, message):
    if message is None:
        parse_memory_opts(text)
        return
    with pytest.raises(MemoryConfigError, match=message):
        parse_memory_opts(text)


def test_m_slot_limit_is_the_pc_machines():
    assert parse_memory_opts("1G,slots=300,maxmem=2G", max_slots=None).slots == 300
    assert parse_memory_opts("1G,slots=256,maxmem=2G").slots == 256


def test_m_bad_types():
    with pytest.raises(MemoryConfigError):
        parse_memory_opts(1.5)
    with pytest.raises(MemoryConfigError):
        parse_memory_opts(-4)


# -- -object --------------------------------------------------------------------------------

def test_object_ram():
    b = parse_object_opts("memory-backend-ram,id=mem0,size=4M,prealloc=on")
    assert isinstance(b, MemoryBackendRam)
    assert (b.id, b.size, b.share, b.prealloc) == ("mem0", 4 * MiB, False, True)
    b.close()


def test_object_file(tmp_path):
    b = parse_object_opts(f"memory-backend-file,id=mem1,size=2M,mem-path={tmp_path},share=on,"
                          "merge=off,dump=off")
    assert isinstance(b, MemoryBackendFile)
    assert b.share and b.mem_path == str(tmp_path) and b.size == 2 * MiB
    b.close()
    p = tmp_path / "a,b.img"      # ,, escapes a comma inside a value
    b = parse_object_opts(f"memory-backend-file,id=m,size=1M,mem-path={tmp_path}/a,,b.img,"
                          "share=yes,readonly=off")
    assert b.mem_path == str(p) and p.exists()
    b.close()


def test_object_memfd():
    b = parse_object_opts("memory-backend-memfd,id=fd,size=1M,seal=off,share=off")
    assert isinstance(b, MemoryBackendMemfd) and not b.seal and not b.share
    b.close()


@pytest.mark.parametrize("text,message", [
    ("memory-backend-foo,id=a,size=1M", r"invalid object type: memory-backend-foo"),
    ("memory-backend-ram,size=1M", r"Parameter 'id' is missing"),
    ("memory-backend-ram,id=a,size=1M,mem-path=/tmp", r"Property 'memory-backend-ram.mem-path'"
                                                      r" not found"),
    ("memory-backend-ram,id=a,size=1M,share=maybe", r"Parameter 'share' expects 'on' or 'off'"),
    ("memory-backend-ram,id=a,size=big", r"Parameter 'size' expects"),
    ("memory-backend-ram,id=a", r"can't create backend with size 0"),
    ("memory-backend-ram,id=a,size=0", r"can't create backend with size 0"),
    ("memory-backend-ram,id=a,size=4097", r"not a multiple of the page size"),
    ("memory-backend-file,id=a,size=1M", r"mem-path property not set"),
    ("memory-backend-file,id=a,size=1M,mem-path=/nonexistent/dir/x", r"can't open backing"),
    ("id=a,size=1M", r"Parameter 'qom-type' is missing"),
])
def test_object_errors(text, message):
    with pytest.raises(MemoryConfigError, match=message):
        parse_object_opts(text)


# -- -device --------------------------------------------------------------------------------

def test_device_pc_dimm():
    d = parse_device_opts("pc-dimm,id=dimm1,memdev=mem1,slot=2,addr=0x140000000,node=0")
    assert isinstance(d, PCDIMM)
    assert (d.id, d.memdev, d.slot, d.addr, d.node) == ("dimm1", "mem1", 2, 0x140000000, 0)
    d = parse_device_opts("pc-dimm,memdev=m")
    assert d.id is None and d.slot is None and d.addr is None and not d.plugged
    assert parse_device_opts("pc-dimm,id=d,memdev=m,slot=-1,addr=0").slot is None


@pytest.mark.parametrize("text,message", [
    ("nvdimm,id=d,memdev=m", r"'nvdimm' is not a valid device model name"),
    ("pc-dimm,id=d,memdev=m,size=1G", r"read-only"),
    ("pc-dimm,id=d,memdev=m,foo=1", r"Property 'pc-dimm.foo' not found"),
    ("pc-dimm,id=d,memdev=m,slot=one", r"Parameter 'slot' expects int32, got 'one'"),
    ("pc-dimm,id=d,memdev=m,addr=-5", r"Parameter 'addr' expects uint64"),
    ("pc-dimm,id=d,memdev=m,node=x", r"Parameter 'node' expects uint32"),
    ("pc-dimm,id=9d,memdev=m", r"Parameter 'id' expects an identifier"),
    ("pc-dimm,id=d,id=e,memdev=m", r"given twice"),
    ("id=d,memdev=m", r"Parameter 'driver' is missing"),
])
def test_device_errors(text, message):
    with pytest.raises(MemoryConfigError, match=message):
        parse_device_opts(text)
