"""INT 13h on raw floppy and hard disk images, driven by guest code through the IVT."""

from __future__ import annotations

import io
import struct

import pytest

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage

from .asm import nasm

DONE = "cli\nhlt\n"


def make(tmp_path, body: str, *, kind="floppy", size=1474560, snapshot=False, extra=b""):
    boot = nasm(body + "\ntimes 510-($-$$) db 0\ndw 0xaa55\n")
    img = tmp_path / "disk.img"
    data = bytearray(size)
    data[:512] = boot
    for lba in range(1, min(size // 512, 64)):
        data[lba * 512:lba * 512 + 4] = struct.pack("<I", lba)
    data[512 * 64:512 * 64 + len(extra)] = extra
    img.write_bytes(bytes(data))
    drive = DiskImage(img, kind, snapshot=snapshot)
    out = io.BytesIO()
    pc = PC(Machine(), **({"floppies": [drive]} if kind == "floppy" else {"hard_disks": [drive]}),
            output=out)
    pc.boot()
    pc.platform.run_until(10**9)
    assert pc.platform.stopped, "the program did not finish"
    return pc, img


def test_floppy_geometry_from_size(tmp_path):
    for size, geo in ((368640, (40, 2, 9)), (737280, (80, 2, 9)), (1474560, (80, 2, 18)),
                      (2949120, (80, 2, 36)), (512, (40, 1, 8))):
        p = tmp_path / f"f{size}.img"
        p.write_bytes(bytes(size))
        d = DiskImage(p, "floppy")
        assert (d.cylinders, d.heads, d.spt) == geo
    p = tmp_path / "big.img"
    p.write_bytes(bytes(3 * 1024 * 1024))
    with pytest.raises(ConfigError, match="larger than a 2.88M"):
        DiskImage(p, "floppy")
    q = tmp_path / "odd.img"
    q.write_bytes(bytes(1000))
    with pytest.raises(ConfigError, match="whole number"):
        DiskImage(q, "hd")
    with pytest.raises(ConfigError, match="interface"):
        DiskImage(q, "scsi")
    with pytest.raises(ConfigError, match="disk image"):
        DiskImage(tmp_path / "missing.img", "hd")


def test_chs_read_across_heads_and_params(tmp_path):
    # C0 H1 S1 is LBA 18 on a 1.44M floppy
    pc, _ = make(tmp_path, """
    mov ax, 0x0201
    mov bx, 0x8000
    mov cx, 0x0001
    mov dh, 1
    xor dl, dl
    int 13h
    mov [0x9000], ax
    mov ah, 08h
    xor dl, dl
    int 13h
    mov [0x9002], cx
    mov [0x9004], dx
    mov [0x9006], bl
    mov ah, 02h             ; sector 19 does not exist on a track of 18
    mov al, 1
    mov cx, 19
    xor dx, dx
    int 13h
    sbb bx, bx
    mov [0x9008], ax
    mov [0x900a], bx
    """ + DONE)
    m = pc.machine
    assert struct.unpack("<I", m.read(0x8000, 4))[0] == 18
    ax, cx, dx, bl = struct.unpack("<HHHB", m.read(0x9000, 7))
    assert ax == 0x0001 and cx == 0x4F12 and dx == 0x0101 and bl == 4
    ax2, cf = struct.unpack("<HH", m.read(0x9008, 4))
    assert ax2 >> 8 == 0x04 and cf == 0xFFFF


def test_hd_edd_read_write_reaches_the_image(tmp_path):
    pc, img = make(tmp_path, """
    mov ah, 41h
    mov bx, 55aah
    mov dl, 80h
    int 13h
    mov [0x9000], bx
    mov si, dap
    mov ah, 42h
    int 13h
    mov word [0x8000], 0xBEEF
    mov word [dap+8], 5      ; write LBA 5
    mov si, dap
    mov ah, 43h
    int 13h
    mov si, 0x9100
    mov word [si], 30
    mov ah, 48h
    int 13h
    """ + DONE + """
dap: db 16, 0
    dw 1
    dw 0x8000, 0
    dq 3
    """, kind="hd", size=512 * 16 * 63 * 2)
    m = pc.machine
    assert struct.unpack("<H", m.read(0x9000, 2))[0] == 0xAA55
    data = img.read_bytes()
    assert data[5 * 512:5 * 512 + 4] == b"\xEF\xBE\x00\x00"   # LBA 3's number, low word patched
    size, flags, cyl, heads, spt, total, bps = struct.unpack("<HHIIIQH", m.read(0x9100, 26))
    assert (cyl, heads, spt, total, bps) == (2, 16, 63, 2 * 16 * 63, 512)


def test_snapshot_keeps_writes_in_memory(tmp_path):
    pc, img = make(tmp_path, """
    mov ax, 0x0301
    mov bx, 0x7c00
    mov cx, 0x0002
    xor dx, dx
    int 13h
    """ + DONE, snapshot=True)
    drive = pc.floppies[0]
    assert img.read_bytes()[512:516] == struct.pack("<I", 1)      # the file is unchanged
    assert drive.read(1, 1) == drive.read(0, 1)                   # the guest sees its write


def test_unsupported_function_and_missing_drive_set_cf(tmp_path):
    pc, _ = make(tmp_path, """
    mov ah, 0x02
    mov al, 1
    mov cx, 1
    mov dl, 0x81
    mov bx, 0x8000
    int 13h
    sbb cx, cx
    mov [0x9000], ax
    mov [0x9002], cx
    mov ah, 0x01
    mov dl, 0x81
    int 13h
    mov [0x9004], ax
    """ + DONE)
    ax, cf, status = struct.unpack("<HHH", pc.machine.read(0x9000, 6))
    assert ax >> 8 == 0x01 and cf == 0xFFFF and status >> 8 == 0x01


def test_hd_without_signature_is_not_bootable(tmp_path):
    p = tmp_path / "hd.img"
    p.write_bytes(bytes(512 * 100))
    pc = PC(Machine(), hard_disks=[DiskImage(p, "hd")], output=io.BytesIO())
    with pytest.raises(ConfigError, match="not a bootable"):
        pc.boot()


def test_a_missing_image_named_like_a_shipped_program_says_where_that_is(tmp_path, monkeypatch):
    """'vgaemu boot -fda hello.img' outside a checkout: the README's programs are package
    data, so the error says where the one of that name is; other names get no hint."""
    from vgaemu.romfile import DEFAULT_ROM_DIR

    monkeypatch.chdir(tmp_path)
    shipped = DEFAULT_ROM_DIR.joinpath("programs", "hello.img")
    with pytest.raises(ConfigError) as e:
        DiskImage("hello.img", "floppy")
    assert str(e.value) == (f"disk image 'hello.img': No such file or directory "
                            f"(vgaemu ships one of that name: {shipped})")
    with pytest.raises(ConfigError) as e:
        DiskImage("nothere.img", "floppy")
    assert "ships" not in str(e.value)
    (tmp_path / "d").mkdir()
    with pytest.raises(ConfigError, match="Is a directory$"):
        DiskImage(tmp_path / "d", "hd")
