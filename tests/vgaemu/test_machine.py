"""The machine: address spaces, the VGA mapped into them, port helpers and errors."""

import numpy as np
import pytest

from guestmem import DIRTY_MEMORY_VGA
from vgaemu.clock import FRAME_NS
from vgaemu.errors import ConfigError, MemoryAccessError, PortAccessError
from vgaemu.machine import Machine
from vgaemu.vga import parse_vram_size

MB = 1 << 20
LFB = 0xFD000000


@pytest.fixture(scope="module")
def m():
    return Machine()


def fresh():
    return Machine(memory="32M", vram="4M")


def seq(mach, idx, val):
    mach.outw(0x3C4, idx | val << 8)


def gc(mach, idx, val):
    mach.outw(0x3CE, idx | val << 8)


def mode13_memory(mach, *, misc=0x63, sr4=0x0E, gr5=0x40):
    """Memory mode of 13h (chain 4, A0000/64K); sr4=0x06, gr5=0 gives planar 12h access."""
    mach.outb(0x3C2, misc)
    seq(mach, 2, 0x0F)
    seq(mach, 4, sr4)
    gc(mach, 5, gr5)
    gc(mach, 6, 0x05)
    gc(mach, 8, 0xFF)


def test_mtree_shows_ram_vga_and_ports(m):
    text = m.mtree()
    for needle in ("system", "ram-below-4g", "vga-lowmem", "vga.vram", "00000000fd000000",
                   "00000000000a0000-00000000000bffff (prio 1", "vbe", "00000000000003c0-00000000000003cf"):
        assert needle in text, needle
    assert text.count("): vga\n") + text.count("): vga") >= 5


def test_exposed_attributes(m):
    assert m.vga.vram_mr.size == 16 * MB and m.vga.vram.shape == (16 * MB,)
    assert m.vga.vram_mr.ram_block in m.ram_list.blocks
    assert m.address_space_memory.root is m.system_memory
    assert m.address_space_io.root is m.system_io
    assert m.memory is not None and m.clock.now_ns % FRAME_NS == 0


def test_unassigned_ports_read_all_ones(m):
    assert m.inb(0x80) == 0xFF and m.inw(0x1234) == 0xFFFF and m.inl(0x500) == 0xFFFFFFFF
    assert m.inb(0x3B0) == 0xFF  # 0x3B0 is not a VGA port QEMU registers


def test_lfb_write_sets_vga_dirty_without_vga_code():
    mach = fresh()
    vram = mach.vga.vram_mr
    vram.reset_dirty(0, vram.size, DIRTY_MEMORY_VGA)
    calls = []
    mach.vga.window.writeb = lambda *a: calls.append(a)  # any VGA memory callback would show
    mach.write(LFB + 0x5000, b"\x11\x22\x33\x44")
    assert list(mach.vga.vram[0x5000:0x5004]) == [0x11, 0x22, 0x33, 0x44]
    assert vram.get_dirty(0x5000, 1, DIRTY_MEMORY_VGA)
    assert not vram.get_dirty(0x4000, 0x1000, DIRTY_MEMORY_VGA)
    assert calls == []


def test_legacy_window_over_ram_and_dirty_marking():
    mach = fresh()
    mode13_memory(mach, misc=0x67, sr4=0x06, gr5=0x00)
    vram = mach.vga.vram_mr
    vram.reset_dirty(0, vram.size, DIRTY_MEMORY_VGA)
    mach.write(0xA0000 + 0x2000, b"\xF0")
    assert list(mach.vga.vram[0x8000:0x8004]) == [0xF0] * 4
    assert vram.get_dirty(0x8000, 4, DIRTY_MEMORY_VGA)
    assert not vram.get_dirty(0, 0x8000, DIRTY_MEMORY_VGA)
    assert mach.read(0xA2000, 1) == b"\xF0"
    # RAM under the window is untouched; RAM outside it is plain RAM
    mach.write(0x9FFFF, b"\x42")
    assert mach.read(0x9FFFF, 1) == b"\x42"


def test_port_word_writes_split_to_index_and_data(m):
    m.outb(0x3C2, 0x67)
    m.outw(0x3D4, 0x0E0C)
    assert m.inb(0x3D4) == 0x0C and m.inb(0x3D5) == 0x0E
    assert m.inw(0x3D4) == 0x0E0C


def test_mono_colour_decode_through_io_space():
    mach = fresh()
    mach.outb(0x3C2, 0x66)  # mono
    mach.outw(0x3B4, 0x120A)
    assert mach.inb(0x3B5) == 0x12 and mach.inb(0x3D5) == 0xFF
    mach.outb(0x3C2, 0x67)
    assert mach.inb(0x3D5) == 0x12 and mach.inb(0x3B5) == 0xFF


def test_vbe_ports_and_bank_window():
    mach = fresh()
    for idx, val in ((1, 640), (2, 480), (3, 32), (4, 0x41)):
        mach.outw(0x1CE, idx)
        mach.outw(0x1CF, val)
    mach.outw(0x1CE, 0)
    assert mach.inw(0x1CF) == 0xB0C5
    mach.outw(0x1CE, 0xA)
    assert mach.inw(0x1CF) == 64  # 4 MiB
    assert mach.vga.has_chain4_alias
    mach.outw(0x1CE, 5)
    mach.outw(0x1CF, 2)
    mach.write(0xA0010, b"\xAB\xCD")
    assert mach.vga.vram[0x20010] == 0xAB and mach.vga.vram[0x20011] == 0xCD
    assert mach.read(LFB + 0x20010, 2) == b"\xAB\xCD"
    mach.outw(0x1CF, 0)
    mach.write(0xA0010, b"\x01")
    assert mach.vga.vram[0x10] == 1


def test_chain4_alias_follows_gr6_sr4_and_gc_state():
    for compat in (False, True):
        mach = Machine(memory="32M", vram="4M", qemu_compat=compat)
        mode13_memory(mach)
        vga = mach.vga
        assert vga.has_chain4_alias and vga.state.has_chain4_alias
        mach.write(0xA0000 + 321, b"\x07")
        assert vga.vram[321] == 7
        assert vga.vram_mr.get_dirty(321, 1, DIRTY_MEMORY_VGA)
        gc(mach, 6, 0x0D)  # B8000/32K: A0000 no longer mapped
        mach.write(0xA0000 + 322, b"\x09")
        assert vga.vram[322] == 0
        mach.write(0xB8000 + 322, b"\x09")
        assert vga.vram[322] == 9
        gc(mach, 6, 0x05)
        seq(mach, 4, 0x06)  # chain 4 off: planar writes, alias gone
        assert not vga.has_chain4_alias
        mach.write(0xA0000 + 1, b"\x0F")
        assert list(vga.vram[4:8]) == [0x0F] * 4
        seq(mach, 4, 0x0E)
        assert vga.has_chain4_alias
        gc(mach, 8, 0x0F)  # hardware: bit mask makes the GC path necessary
        assert vga.has_chain4_alias == compat
        mach.write(0xA0000 + 400, b"\xFF")
        assert vga.vram[400] == (0xFF if compat else 0x0F)


def test_frame_advances_virtual_clock_and_draws():
    mach = fresh()
    stats = mach.frame()
    assert mach.clock.now_ns == FRAME_NS
    assert stats is not None


@pytest.mark.parametrize("bad", ["16Q", "", "0M", "1000M", "1.5M", "1023K", -1, None, True])
def test_bad_vram_size(bad):
    with pytest.raises(ConfigError):
        parse_vram_size(bad)


def test_vram_size_rounds_up_like_qemu():
    assert parse_vram_size("12M") == 16 * MB and parse_vram_size(8 * MB) == 8 * MB
    with pytest.raises(ConfigError):
        parse_vram_size("1G")  # above QEMU's 512 MiB limit

def test_bad_memory_config_is_config_error():
    with pytest.raises(ConfigError):
        Machine(memory="banana")


@pytest.mark.parametrize("call", [
    lambda m: m.out(0x3C0, 1, size=3), lambda m: m.outb(0x10000, 0), lambda m: m.outb(-1, 0),
    lambda m: m.outb(0x3C8, 0x100), lambda m: m.inp(0xFFFF, 2), lambda m: m.outw("0x3C4", 1),
])
def test_bad_port_access(m, call):
    with pytest.raises(PortAccessError):
        call(m)


def test_memory_objects_and_dimms_pass_through():
    mach = Machine(memory="64M,slots=2,maxmem=1G", vram="8M",
                   objects=["memory-backend-ram,id=m1,size=128M"],
                   devices=["pc-dimm,id=d1,memdev=m1"])
    text = mach.mtree()
    assert "device-memory" in text and "m1" in text
    mach.write(0x100000000, b"\x5A")
    assert mach.read(0x100000000, 1) == b"\x5A"


def test_reset_returns_vga_to_power_on_state():
    mach = fresh()
    mode13_memory(mach)
    assert mach.vga.has_chain4_alias
    mach.write(0xA0000, b"\x05")
    mach.reset()
    st = mach.vga.state
    assert st.msr == 0 and st.sr[4] == 0 and not mach.vga.has_chain4_alias
    assert mach.vga.vram[0] == 5  # VRAM survives a reset
    assert mach.inb(0x3D5) == 0xFF  # mono decode after reset


def test_vga_bios_image_is_a_rom_the_guest_cannot_write():
    """vga.rom at 0xC0000 as QEMU maps option ROMs: a ``rom`` region over RAM, sized as the
    image rounded up to a power of two, filled by the loader; guest stores are dropped."""
    from vgaemu.bios.data import load_tables

    mach = fresh()
    rom = mach.vga_rom
    assert rom.is_rom() and rom.size == 0x10000 and rom.priority == 1
    assert "00000000000c0000-00000000000cffff (prio 1, rom): vga.rom" in mach.mtree()
    fonts = load_tables().fonts
    font16 = 0xC0000 + 0x73C0
    assert mach.read(font16, 4096) == fonts[16]
    mach.write(0xC0000, bytes(0x10000))  # every byte of the ROM, as a guest store
    mach.write(font16 + 16 * ord("A"), b"\xFF" * 16)
    assert mach.read(0xC0000, 2) == b"\x55\xAA"
    assert mach.read(font16, 4096) == fonts[16]
    mach.bios.call(0x0003)
    r = mach.bios.call(0x1130, bx=0x0600)  # 8x16 font pointer
    assert (r.es, r.bp) == (0xC000, 0x73C0)
    for bh, height in ((0x01, 16), (0x02, 14), (0x03, 8), (0x06, 16)):  # BH=1: INT 43h
        r = mach.bios.call(0x1130, bx=bh << 8)
        assert mach.read((r.es << 4) + r.bp, 256 * height) == fonts[height], bh


def test_machine_bios_posts_on_first_use():
    mach = fresh()
    assert mach.bios.machine is mach and not mach.bios.posted
    assert mach.vga.state.msr == 0  # power-on registers until the BIOS runs
    assert mach.bios.call(0x0013).al == 0x20
    assert mach.bios.posted and mach.read(0x449, 1) == b"\x13"


def test_screendump_prints_nothing(tmp_path):
    """A program that only writes and reads back a PNG (the README's CPU example, a pytest
    plugin test) prints nothing of its own: not pygame's "Hello from the pygame community"."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from vgaemu.machine import Machine\n"
            "from vgaemu.vga.display import read_image\n"
            "m = Machine(); m.frame(); m.screendump('out.png')\n"
            "assert read_image('out.png').ndim == 3\n")
    r = subprocess.run([sys.executable, "-c", code, str(repo)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""


@pytest.mark.parametrize("call, err, match", [
    (lambda m: m.outb(0x3C8, None), PortAccessError, "value None for a 1-byte OUT"),
    (lambda m: m.out(0x3C8, None, size=2), PortAccessError, "value None"),
    (lambda m: m.read(0x100000, -1), MemoryAccessError, "read length -1"),
    (lambda m: m.read(0x100000, 1.5), MemoryAccessError, "read length 1.5"),
    (lambda m: m.read(0x100000, 1 << 64), MemoryAccessError, "no host buffer that large"),
    (lambda m: m.write(-1, np.int64(16)), MemoryAccessError, "write of 8 bytes"),
])
def test_bad_values_and_lengths_are_machine_errors(m, call, err, match):
    """outb(port, None) passed the port check (None meant 'no value': an IN) and raised
    AttributeError; read(addr, -1) a ValueError from bytearray; a failed write of a numpy
    scalar a TypeError from len() while building its own message."""
    with pytest.raises(err, match=match):
        call(m)


@pytest.mark.parametrize("ext", [".png", ".ppm"])
def test_screendump_path_with_a_nul_byte_writes_nothing(m, tmp_path, ext):
    """PNG: SDL cut the name at the NUL and wrote tmp_path/'shot' without a word; PPM:
    open() raised ValueError. Both are ScreendumpErrors (a VGAEmuError) and no file appears."""
    from vgaemu.errors import VGAEmuError

    with pytest.raises(VGAEmuError, match="embedded null byte"):
        m.screendump(str(tmp_path / f"shot\0x{ext}"))
    assert list(tmp_path.iterdir()) == []
