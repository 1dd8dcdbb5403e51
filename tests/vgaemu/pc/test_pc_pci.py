"""PCI bus 0 and configuration mechanism #1 (vgaemu.pc.pci), held against what QEMU 7.2 +
SeaBIOS show a guest (tests/vgaemu/pc/data/qemu72_pci_config.txt, see the README there)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgaemu.dma import DMADriver
from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage
from vgaemu.pc.pci import PCI_COMMAND, PCIBus, PCIDevice, pci_devfn

from .asm import nasm

DATA = Path(__file__).parent / "data"
VGA = pci_devfn(2, 0)
DMA = pci_devfn(3, 0)


def platform(**kw):
    m = Machine(**kw)
    return m, PCPlatform(m, output=io.BytesIO())


def cfg_addr(devfn, reg, bus=0):
    return 0x80000000 | bus << 16 | devfn << 8 | reg


def rd(m, devfn, reg, size=4, bus=0):
    m.outl(0xCF8, cfg_addr(devfn, reg & 0xFC, bus))
    return m.inp(0xCFC + (reg & 3), size)


def wr(m, devfn, reg, value, size=4):
    m.outl(0xCF8, cfg_addr(devfn, reg & 0xFC))
    m.out(0xCFC + (reg & 3), value, size)


def qemu_dump():
    """{devfn: 256-byte config} and the other lines of QEMU's recorded dump."""
    spaces, other = {}, []
    for line in (DATA / "qemu72_pci_config.txt").read_text().splitlines():
        f = line.split()
        if f and f[0] == "C":
            spaces.setdefault(int(f[1], 16), bytearray(256))[int(f[2], 16):int(f[2], 16) + 4] = \
                int(f[3], 16).to_bytes(4, "little")
        elif f:
            other.append(line)
    return spaces, other


@pytest.mark.parametrize("devfn", [pci_devfn(0, 0), pci_devfn(1, 0), VGA])
def test_config_space_is_qemus_after_seabios(devfn):
    m, pc = platform()
    spaces, _ = qemu_dump()
    ours = b"".join(rd(m, devfn, r).to_bytes(4, "little") for r in range(0, 256, 4))
    assert ours == bytes(spaces[devfn])


def test_bar_sizing_reads_back_qemus_masks_and_restores():
    m, pc = platform()
    _, other = qemu_dump()
    want = {int(f.split()[1], 16): int(f.split()[2], 16) for f in other if f.startswith("S ")}
    for reg, mask in want.items():
        old = rd(m, VGA, reg)
        wr(m, VGA, reg, 0xFFFFFFFF)
        assert rd(m, VGA, reg) == mask, hex(reg)
        wr(m, VGA, reg, old)
        assert rd(m, VGA, reg) == old
    # restored: the LFB and the MMIO BAR answer where they were
    assert m.vga.vram_mr.addr == 0xFD000000 and m.vga.mmio_mr.addr == 0xFEBF0000
    m.write(0xFD000000, b"\x5a")
    assert m.vga.vram[0] == 0x5A


def test_address_port_quirks_and_disabled_data_port():
    m, pc = platform()
    m.outl(0xCF8, 0x80001234)
    assert m.inl(0xCF8) == 0x80001234
    assert m.inw(0xCFA) == 0x1234 and m.inb(0xCFB) == 0x34   # QEMU ignores the offset
    m.outw(0xCF8, 0x0008)                                    # only dword writes count
    assert m.inl(0xCF8) == 0x80001234
    m.outl(0xCF8, 0x00001000)                                # enable bit clear
    assert m.inl(0xCFC) == 0xFFFFFFFF and m.inb(0xCFD) == 0xFF
    m.outl(0xCFC, 0)                                         # dropped
    m.outl(0xCF8, 0x80001000)
    assert m.inb(0xCFD) == 0x12 and m.inw(0xCFE) == 0x1111 and m.inl(0xCFC) == 0x11111234


def test_absent_functions_read_all_ones_and_ignore_writes():
    m, pc = platform()
    assert rd(m, pci_devfn(5, 0), 0) == 0xFFFFFFFF
    assert rd(m, pci_devfn(0, 0), 0, bus=1) == 0xFFFFFFFF
    assert rd(m, pci_devfn(2, 1), 0) == 0xFFFFFFFF and rd(m, pci_devfn(2, 0), 0, 2) == 0x1234
    assert rd(m, pci_devfn(1, 1), 0) == 0xFFFFFFFF       # PIIX3 is multi-function; no IDE
    wr(m, pci_devfn(5, 0), 0x04, 0xFFFF, 2)
    assert rd(m, pci_devfn(5, 0), 4, 2) == 0xFFFF


def test_masks_read_only_writable_and_write_one_to_clear():
    m, pc = platform()
    wr(m, VGA, 0x00, 0)                      # IDs are read-only
    assert rd(m, VGA, 0) == 0x11111234
    wr(m, VGA, 0x3C, 0x0B, 1)                # interrupt line is writable, the pin is not
    wr(m, VGA, 0x3D, 0x01, 1)
    assert rd(m, VGA, 0x3C, 2) == 0x000B
    wr(m, VGA, 0x40, 0xA5C3, 2)              # device-specific area: writable
    assert rd(m, VGA, 0x40, 2) == 0xA5C3
    dev = pc.pci.find(0, VGA)
    dev.config[0x07] = 0xF9                  # status error bits set
    wr(m, VGA, 0x06, 0x0100, 2)              # W1C: clears only the parity bit
    assert rd(m, VGA, 0x06, 2) == 0xF800
    wr(m, VGA, 0x06, 0xFFFF, 2)
    assert rd(m, VGA, 0x06, 2) == 0x0000
    assert rd(m, VGA, 0x04, 2) == 0x0103
    wr(m, VGA, 0x04, 0xFFFF, 2)
    assert rd(m, VGA, 0x04, 2) == 0x0507


def test_moving_bar0_moves_the_lfb_and_the_vbe_mode_info_follows():
    m, pc = platform()
    m.write(0xFD000000, b"\x11\x22")
    wr(m, VGA, 0x10, 0xE0000000)
    assert m.vga.vram_mr.addr == 0xE0000000 and m.vga.lfb_addr == 0xE0000000
    assert m.read(0xE0000000, 2) == b"\x11\x22"
    with pytest.raises(Exception):
        m.read(0xFD000000, 1)
    assert "00000000e0000000-00000000e0ffffff (prio 1, ram): vga.vram" in m.mtree()
    assert m.bios._find_lfb() == 0xE0000000     # what VBE mode info reports
    wr(m, VGA, 0x10, 0xE0FFFFFF)              # low bits are not writable: same base
    assert rd(m, VGA, 0x10) == 0xE0000008 and m.vga.vram_mr.addr == 0xE0000000


def test_command_memory_bit_unmaps_and_maps_every_bar():
    m, pc = platform()
    wr(m, VGA, PCI_COMMAND, 0x0101, 2)        # memory space off
    for a in (0xFD000000, 0xFEBF0000):
        with pytest.raises(Exception):
            m.read(a, 1)
    assert m.vga.vram_mr.container is None and m.vga.mmio_mr.container is None
    wr(m, VGA, 0x18, 0xFE000000)              # programmed while off: mapped when turned on
    wr(m, VGA, PCI_COMMAND, 0x0103, 2)
    assert m.vga.vram_mr.addr == 0xFD000000 and m.vga.mmio_mr.addr == 0xFE000000
    assert m.vga.mmio_addr == 0xFE000000
    assert m.read(0xFE000000 + 0x500, 2) == b"\xC5\xB0"   # DISPI ID register through BAR2


def test_zero_or_wrapping_bar_is_not_mapped():
    m, pc = platform()
    wr(m, VGA, 0x18, 0)
    assert m.vga.mmio_mr.container is None
    wr(m, VGA, 0x18, 0xFFFFF000)              # last byte would be 0xFFFFFFFF: QEMU refuses
    assert m.vga.mmio_mr.container is None
    wr(m, VGA, 0x18, 0xFFFFE000)
    assert m.vga.mmio_mr.addr == 0xFFFFE000


def test_rom_bar_maps_the_vga_bios_when_enabled():
    m, pc = platform()
    assert rd(m, VGA, 0x30) == 0xFEBE0000
    with pytest.raises(Exception):
        m.read(0xFEBE0000, 2)
    wr(m, VGA, 0x30, 0xFEBE0001)
    assert m.read(0xFEBE0000, 2) == b"\x55\xAA" == m.read(0xC0000, 2)
    wr(m, VGA, 0x30, 0xFEBE0000)
    with pytest.raises(Exception):
        m.read(0xFEBE0000, 2)


def test_dma_engine_is_a_pci_function_and_follows_its_bar():
    m, pc = platform()
    assert rd(m, DMA, 0) == 0x10F01AF4 and rd(m, DMA, 0x08) >> 8 == 0x088000
    assert rd(m, DMA, 0x10) == 0xFEB00000 == m.dma.base
    wr(m, DMA, 0x10, 0xFEA00000)
    assert m.dma.base == 0xFEA00000
    m.write(0x1000, b"hello")
    DMADriver(m.address_space_memory, m.dma.base).copy(0x1000, 0x2000, 5)
    assert m.read(0x2000, 5) == b"hello"


def test_bigger_vram_gets_a_size_aligned_bar0():
    m, pc = platform(vram="64M")
    assert m.vga.vram_mr.addr == 0xF8000000 == m.vga.lfb_addr
    wr(m, VGA, 0x10, 0xFFFFFFFF)
    assert rd(m, VGA, 0x10) == 0xFC000008


def test_bus_errors():
    bus = PCIBus(Machine().system_memory)
    bus.add(PCIDevice("a", 0, vendor_id=0x1234, device_id=1, class_code=0xFF00))
    with pytest.raises(ConfigError, match="taken"):
        bus.add(PCIDevice("b", 0, vendor_id=0x1234, device_id=2, class_code=0xFF00))
    with pytest.raises(ConfigError, match="function 0"):
        bus.add(PCIDevice("c", pci_devfn(4, 2), vendor_id=0x1234, device_id=2, class_code=0xFF00))
    with pytest.raises(ConfigError, match="vendor_id"):
        PCIDevice("d", 8, vendor_id=0xFFFF, device_id=1, class_code=0)
    d = PCIDevice("e", 8, vendor_id=1, device_id=1, class_code=0)
    from guestmem import MemoryRegion, RAMList
    r = MemoryRegion.ram("r", 0x3000, ram_list=RAMList())
    with pytest.raises(ConfigError, match="BAR 7"):
        d.register_bar(7, r)
    with pytest.raises(ConfigError, match="aligned"):
        d.register_bar(0, r, address=0x1000)     # 16 KiB BAR (rounded up) at 4 KiB
    d.register_bar(0, r, address=0x4000)
    with pytest.raises(ConfigError, match="already"):
        d.register_bar(0, r)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["bar0", "bar2", "cmd"]),
                          st.one_of(st.integers(0, 0xFFFFFFFF),
                                    st.sampled_from([0, 0xFFFFFFFF, 0xFFFFF000, 0xFFFFE000,
                                                     0xFF000000, 0xFE000000, 0x0103, 0x0101,
                                                     0xFD000000, 0xFEBF0000]))),
                max_size=12))
def test_bar_mapping_follows_the_naive_rule(ops):
    """Against a model of pci_bar_address: mapped at (value & ~(size-1)) while memory
    space is on, the base is non-zero and the last byte is below 0xFFFFFFFF."""
    m, pc = platform()
    model = {"bar0": 0xFD000000, "bar2": 0xFEBF0000, "cmd": 0x0103}
    regs = {"bar0": 0x10, "bar2": 0x18, "cmd": 0x04}
    size = {"bar0": 1 << 24, "bar2": 0x1000}
    for what, v in ops:
        if what == "cmd":
            wr(m, VGA, 0x04, v & 0xFFFF, 2)
            model["cmd"] = v & 0x0507
        else:
            wr(m, VGA, regs[what], v)
            model[what] = v & ~(size[what] - 1) & 0xFFFFFFFF
    assert rd(m, VGA, 0x10) == model["bar0"] | 8 and rd(m, VGA, 0x18) == model["bar2"]
    for what, mr in (("bar0", m.vga.vram_mr), ("bar2", m.vga.mmio_mr)):
        base = model[what]
        on = model["cmd"] & 2 and base and base + size[what] - 1 < 0xFFFFFFFF
        if on:
            assert mr.container is not None and mr.addr == base
        else:
            assert mr.container is None
    # the memory map has no overlap surprises: the LFB answers where the model says
    if model["cmd"] & 2 and model["bar0"] and model["bar0"] + (1 << 24) - 1 < 0xFFFFFFFF \
            and not (model["cmd"] & 2 and model["bar2"] and model["bar0"] <= model["bar2"] < model["bar0"] + (1 << 24)):
        m.write(model["bar0"] + 0x10, b"\x77")
        assert m.vga.vram[0x10] == 0x77


# ------------------------------------------------------------------ guest programs

def _boot(tmp_path, src, seconds=1.0):
    img = tmp_path / "p.img"
    body = src if "times 510" in src else src + "\ntimes 510-($-$$) db 0\ndw 0xaa55\n"
    img.write_bytes(nasm(body) if "org 0x7c00" not in src else _nasm_file(src))
    out = io.BytesIO()
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy")], output=out)
    pc.boot()
    pc.platform.run_until(int(seconds * 1e9))
    return pc, out.getvalue()


def _nasm_file(src):
    if shutil.which("nasm") is None:
        pytest.skip("nasm is not installed")
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a.asm").write_text(src)
        subprocess.run(["nasm", "-f", "bin", "-o", str(Path(d) / "a.bin"), str(Path(d) / "a.asm")],
                       check=True)
        return (Path(d) / "a.bin").read_bytes()


def test_the_same_dump_program_gives_qemus_output(tmp_path):
    """The boot sector that recorded QEMU's dump, run here: every function both have, the
    BAR sizing and the port quirks print the same."""
    pc, out = _boot(tmp_path, (DATA / "pci_config_dump.asm").read_text())
    assert pc.platform.stopped == "halted with interrupts disabled"
    ours = out.decode().splitlines()
    theirs = (DATA / "qemu72_pci_config.txt").read_text().splitlines()

    def keep(lines):
        # QEMU has IDE (01.1) and PM (01.3), we have the DMA engine (03.0); the last field
        # of the I line is an unaligned dword IN at 0xCFD (a CPU/IO-core detail).
        out = []
        for ln in lines:
            if ln.startswith(("C 0009", "C 000B", "C 0018")):
                continue
            out.append(ln.rsplit(" ", 1)[0] if ln.startswith("I ") else ln)
        return out
    assert keep(ours) == keep(theirs)
    assert any(ln.startswith("C 0018 00 10F01AF4") for ln in ours)


def test_guest_reads_bar0_moves_it_and_draws_through_it(tmp_path):
    """A boot sector finds BAR0 through 0xCF8/0xCFC and prints it, stores through the LFB
    in unreal mode, moves BAR0 and stores again: the store to the old address must miss
    (the CPU's TLB follows the moved region) and the one to the new address must land."""
    src = """
    xor ax, ax
    mov ds, ax
    cli
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp short pm
pm: mov bx, 8
    mov fs, bx
    and al, 0xfe
    mov cr0, eax
    jmp short rm
rm: xor ax, ax
    mov fs, ax
    mov dx, 0xcf8
    mov eax, 0x80001010
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and eax, 0xfffffff0
    mov edi, eax
    call hex
    mov dword [fs:edi], 0x11223344
    mov eax, 0xe1000000         ; move BAR0
    out dx, eax
    in eax, dx
    call hex
    mov dword [fs:edi], 0xdeadbeef     ; old address: nothing there now
    mov esi, 0xe1000000
    mov dword [fs:esi+4], 0x55667788
    mov eax, [fs:esi]
    call hex
    cli
    hlt
hex:
    mov ebx, eax
    mov cx, 8
p:  rol ebx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe o
    add al, 7
o:  out 0xe9, al
    loop p
    mov al, 10
    out 0xe9, al
    ret
gdt: dq 0
    dq 0x00cf92000000ffff       ; flat 4 GiB data
gdt_desc: dw 15
    dd gdt
    """
    pc, out = _boot(tmp_path, src)
    assert out == b"FD000000\nE1000008\n11223344\n"
    m = pc.machine
    assert m.vga.vram_mr.addr == 0xE1000000
    assert m.vga.vram[0:8].tobytes() == bytes.fromhex("4433221188776655")


def test_pci_bios_int1a_b1(tmp_path):
    """INT 1Ah AX=B101h..B10Dh as SeaBIOS answers them; each result goes out on 0xE9."""
    src = """
    xor ax, ax
    mov ds, ax
    mov ax, 0xb101
    int 0x1a
    call flags
    mov al, ah
    out 0xe9, al            ; AH = 0
    mov ax, bx
    out 0xe9, al            ; BL = 0x10 (version 2.10)
    mov al, ah
    out 0xe9, al
    mov eax, edx
    call d32                ; "PCI "
    mov ax, 0xb102          ; find 1234:1111, index 0
    mov cx, 0x1111
    mov dx, 0x1234
    xor si, si
    int 0x1a
    call flags
    mov ax, bx
    out 0xe9, al            ; BL = devfn 0x10
    mov ax, 0xb102          ; index 1: not found, AH = 86h, CF
    mov cx, 0x1111
    mov dx, 0x1234
    mov si, 1
    int 0x1a
    call flags
    mov al, ah
    out 0xe9, al
    mov ax, 0xb103          ; find class 06 01 00: the PIIX3
    mov ecx, 0x060100
    xor si, si
    int 0x1a
    call flags
    mov ax, bx
    out 0xe9, al
    mov ax, 0xb10a          ; BAR0 of 00:02.0
    mov bx, 0x0010
    mov di, 0x10
    int 0x1a
    call flags
    mov eax, ecx
    call d32
    mov ax, 0xb108          ; byte 0x0B (class) of 00:02.0
    mov di, 0x0b
    int 0x1a
    mov al, cl
    out 0xe9, al
    mov ax, 0xb109          ; word 0x02 (device ID)
    mov di, 0x02
    int 0x1a
    mov ax, cx
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    mov ax, 0xb10b          ; write interrupt line byte
    mov di, 0x3c
    mov cl, 0x5b
    int 0x1a
    mov ax, 0xb10c          ; write word at 0x40
    mov di, 0x40
    mov cx, 0xbeef
    int 0x1a
    mov ax, 0xb10d          ; write dword: move the MMIO BAR
    mov di, 0x18
    mov ecx, 0xfe000000
    int 0x1a
    mov ax, 0xb1ff          ; unsupported
    int 0x1a
    call flags
    mov al, ah
    out 0xe9, al
    cli
    hlt
flags:
    pushf
    pop bp
    push ax
    mov ax, bp
    and al, 1
    add al, '0'
    out 0xe9, al            ; CF as '0'/'1'
    pop ax
    ret
d32:
    mov cx, 4
r:  out 0xe9, al
    shr eax, 8
    loop r
    ret
    """
    pc, out = _boot(tmp_path, src)
    assert out == (b"0" + b"\x00" + b"\x10\x02" + b"PCI "
                   + b"0" + b"\x10"
                   + b"1" + b"\x86"
                   + b"0" + b"\x08"
                   + b"0" + (0xFD000008).to_bytes(4, "little")
                   + b"\x03" + b"\x11\x11"
                   + b"1" + b"\x81")
    bus = pc.platform.pci
    assert bus.config_read(0, VGA, 0x3C, 1) == 0x5B and bus.config_read(0, VGA, 0x40, 2) == 0xBEEF
    assert pc.machine.vga.mmio_mr.addr == 0xFE000000
    assert bus.config_reg == 0x80001018     # SeaBIOS goes through 0xCF8 too
