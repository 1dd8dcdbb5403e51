import re

from guestmem import AddressSpace, MemoryRegion, MemoryRegionOps, RAMList, io_root
from guestmem.mtree import mtree, ramblock_info, size_to_str

OPS = MemoryRegionOps(read=lambda o, s: 0, write=lambda o, v, s: None)


def pc_like():
    rl = RAMList()
    sysmem = MemoryRegion.container("system", (1 << 64) - 1)
    ram = MemoryRegion.ram("pc.ram", 128 << 20, ram_list=rl)
    sysmem.add_subregion(0, MemoryRegion.alias("ram-below-4g", ram, 0, 128 << 20))
    vram = MemoryRegion.ram("vga.vram", 16 << 20, ram_list=rl)
    sysmem.add_subregion(0xFD000000, MemoryRegion.alias("vga.lfb", vram, 0, 16 << 20), 1)
    sysmem.add_subregion(0xA0000, MemoryRegion.io("vga-lowmem", 0x20000, OPS), 1)
    sysmem.add_subregion(0xFFFC0000, MemoryRegion.rom("pc.bios", 0x40000, ram_list=rl))
    off = MemoryRegion.io("off", 0x10, OPS)
    sysmem.add_subregion(0x10000000, off)
    off.set_enabled(False)
    io = io_root()
    io.add_subregion(0x3C0, MemoryRegion.io("vga", 0x20, OPS))
    spaces = [AddressSpace(sysmem, "memory"), AddressSpace(io, "I/O"),
              AddressSpace(sysmem, "cpu-memory-0")]
    return rl, spaces


def test_info_mtree():
    rl, spaces = pc_like()
    assert mtree(spaces) == """\
address-space: cpu-memory-0
address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, container): system
    0000000000000000-0000000007ffffff (prio 0, ram): alias ram-below-4g @pc.ram 0000000000000000-0000000007ffffff
    00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem
    00000000fd000000-00000000fdffffff (prio 1, ram): alias vga.lfb @vga.vram 0000000000000000-0000000000ffffff
    00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios

address-space: I/O
  0000000000000000-000000000000ffff (prio 0, container): io
    00000000000003c0-00000000000003df (prio 0, i/o): vga

memory-region: pc.ram
  0000000000000000-0000000007ffffff (prio 0, ram): pc.ram

memory-region: vga.vram
  0000000000000000-0000000000ffffff (prio 0, ram): vga.vram

"""
    assert "    0000000010000000-000000001000000f (prio 0, i/o): off [disabled]\n" in \
        mtree(spaces, disabled=True)


def test_info_mtree_f():
    rl, spaces = pc_like()
    assert mtree(spaces, flatview=True) == """\
FlatView #0
 AS "memory", root: system
 AS "cpu-memory-0", root: system
 Root memory region: system
  0000000000000000-000000000009ffff (prio 0, ram): pc.ram
  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem
  00000000000c0000-0000000007ffffff (prio 0, ram): pc.ram @00000000000c0000
  00000000fd000000-00000000fdffffff (prio 0, ram): vga.vram
  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios

FlatView #1
 AS "I/O", root: io
 Root memory region: io
  0000000000000000-00000000000003bf (prio 0, container): io
  00000000000003c0-00000000000003df (prio 0, i/o): vga
  00000000000003e0-000000000000ffff (prio 0, container): io @00000000000003e0

"""


def test_mtree_subregion_print_order_and_empty_view():
    rl = RAMList()
    root = MemoryRegion.container("root", 0x10000)
    c = MemoryRegion.container("c", 0x1000)
    root.add_subregion(0x2000, MemoryRegion.io("b", 0x10, OPS))
    root.add_subregion(0x1000, c, 2)
    root.add_subregion(0x1000, MemoryRegion.io("a", 0x10, OPS), 5)
    c.add_subregion(0x10, MemoryRegion.io("inner", 0x10, OPS))
    as_ = AddressSpace(root, "x")
    assert mtree(as_) == """\
address-space: x
  0000000000000000-000000000000ffff (prio 0, container): root
    0000000000001000-000000000000100f (prio 5, i/o): a
    0000000000001000-0000000000001fff (prio 2, i/o): c
      0000000000001010-000000000000101f (prio 0, i/o): inner
    0000000000002000-000000000000200f (prio 0, i/o): b

"""
    empty = AddressSpace(MemoryRegion.container("nothing", 0x1000), "empty")
    assert mtree(empty, flatview=True) == (
        'FlatView #0\n AS "empty", root: nothing\n Root memory region: (none)\n'
        '  No rendered FlatView\n\n')


def test_info_ramblock():
    rl, spaces = pc_like()
    out = ramblock_info(rl).splitlines()
    assert out[0] == ("              Block Name    PSize              Offset               Used"
                      "              Total                HVA  RO")
    assert re.fullmatch(r" {18}pc\.ram    4 KiB  0x0000000000000000 0x0000000008000000 "
                        r"0x0000000008000000 0x[0-9a-f]{16}  rw", out[1])
    assert out[2].startswith("                vga.vram    4 KiB  0x0000000008000000 0x0000000001000000")
    assert out[3].startswith("                 pc.bios    4 KiB  0x0000000009000000")
    assert out[3].endswith(" ro")


def test_size_to_str_like_qemu():
    assert [size_to_str(v) for v in (0, 512, 4096, 2 << 20, 1536 << 20, 1000)] == \
        ["0 B", "512 B", "4 KiB", "2 MiB", "1.5 GiB", "0.977 KiB"]


def test_io_flatview_like_qemu_7_2():
    """Lines copied from `info mtree -f` of qemu-system-x86_64 7.2 (-M pc): rtc at 0x70 with
    rtc-index over its first port; the io root answers the gaps (legacy type names)."""
    io = io_root()
    rtc = MemoryRegion.io("rtc", 2, OPS)
    rtc.add_subregion(0, MemoryRegion.io("rtc-index", 1, OPS))
    io.add_subregion(0x70, rtc)
    io.add_subregion(0x7E, MemoryRegion.io("kvmvapic", 2, OPS))
    as_ = AddressSpace(io, "I/O")
    out = mtree(as_, flatview=True, legacy=True).splitlines()
    assert out[:7] == [
        "FlatView #0",
        ' AS "I/O", root: io',
        " Root memory region: io",
        "  0000000000000000-000000000000006f (prio 0, i/o): io",
        "  0000000000000070-0000000000000070 (prio 0, i/o): rtc-index",
        "  0000000000000071-0000000000000071 (prio 0, i/o): rtc @0000000000000001",
        "  0000000000000072-000000000000007d (prio 0, i/o): io @0000000000000072",
    ]
    assert mtree(as_, legacy=True).splitlines()[1:4] == [
        "  0000000000000000-000000000000ffff (prio 0, i/o): io",
        "    0000000000000070-0000000000000071 (prio 0, i/o): rtc",
        "      0000000000000070-0000000000000070 (prio 0, i/o): rtc-index",
    ]
