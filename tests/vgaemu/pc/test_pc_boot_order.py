"""The boot order (-boot order=/once=) against QEMU 7.2: the CMOS boot flags 3Dh/38h and the
drive booted, which a boot sector prints to the debug console as hex (the expected lines
were printed by this same sector under qemu-system-x86_64 7.2 with SeaBIOS 1.16.2)."""

from __future__ import annotations

import io

import pytest

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, check_boot_order
from vgaemu.pc.disk import DiskImage

from .asm import nasm

REPORT = """
    mov al, 0x3d
    out 0x70, al
    in al, 0x71
    call hex
    mov al, 0x38
    out 0x70, al
    in al, 0x71
    call hex
    mov al, dl
    call hex
    mov al, 10
    out 0xe9, al
    cmp byte [0x500], 0   ; the first boot pulses reset once, the second halts
    jne s
    inc byte [0x500]
    mov al, 0xfe
    out 0x64, al
s:  hlt
    jmp s
hex: push ax
    shr al, 4
    call nib
    pop ax
    and al, 15
nib: add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: out 0xe9, al
    ret
    times 510-($-$$) db 0
    dw 0xaa55
"""

# What QEMU 7.2 printed on its first boot (CMOS 3Dh, 38h, DL), e.g.
# qemu-system-x86_64 -display none -debugcon file:out -fda f.img -hda h.img -boot a
QEMU_FIRST_BOOT = {
    ("floppy",): ({}, "123000"),
    ("floppy", "hd"): ({}, "123080"),
    ("floppy", "hd", "a"): ({"boot_order": "a"}, "010000"),
    ("floppy", "hd", "ca"): ({"boot_order": "ca"}, "120080"),
    ("floppy", "hd", "c,once=a"): ({"boot_order": "c", "boot_once": "a"}, "010000"),
}


def boot(tmp_path, drives, **kw):
    sector = nasm(REPORT)
    fl = tmp_path / "f.img"
    fl.write_bytes(sector + bytes(1474560 - 512))
    hd = tmp_path / "h.img"
    hd.write_bytes(sector + bytes(10 * 2**20 - 512))
    out = io.BytesIO()
    pc = PC(Machine(), output=out,
            floppies=[DiskImage(fl, "floppy", snapshot=True)] if "floppy" in drives else [],
            hard_disks=[DiskImage(hd, "hd", snapshot=True)] if "hd" in drives else [], **kw)
    pc.boot()
    pc.platform.run_until(1_000_000_000)
    return pc, out.getvalue().decode().split("\n")


@pytest.mark.parametrize("case", list(QEMU_FIRST_BOOT), ids="-".join)
def test_first_boot_as_qemu(tmp_path, case):
    kw, expected = QEMU_FIRST_BOOT[case]
    drives = [d for d in case if d in ("floppy", "hd")]
    _, lines = boot(tmp_path, drives, **kw)
    assert lines[0] == expected


def test_once_holds_for_the_first_boot_only(tmp_path):
    pc, lines = boot(tmp_path, ["floppy", "hd"], boot_order="c", boot_once="a")
    # QEMU 7.2 prints these two lines too: after the reset, order=c boots the hard disk
    assert lines[:2] == ["010000", "020080"]
    assert pc.resets and pc.boot_devices[0][2] == "Hard Disk"


def test_unnamed_devices_are_tried_last(tmp_path):
    pc, _ = boot(tmp_path, ["floppy", "hd"], boot_order="d")
    assert [name for _, _, name in pc.boot_devices] == ["Floppy", "Hard Disk"]


@pytest.mark.parametrize("order, message", [
    ("x", "Invalid boot device 'x'"), ("cc", "Boot device 'c' was given twice"),
    ("e", "Invalid boot device for PC: 'e'"), ("acdn", "Too many boot devices for PC"),
    ("", "give drive letters")])
def test_bad_orders_refused_with_qemus_words(order, message):
    with pytest.raises(ConfigError, match=message):
        check_boot_order(order)
