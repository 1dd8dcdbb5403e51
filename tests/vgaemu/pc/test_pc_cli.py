"""``vgaemu boot``: drives as QEMU spells them, headless frames and screenshots, serial
output to a file, scripted keys (also from @FILE), and clear errors."""

from __future__ import annotations

import pytest

from vgaemu.cli import main

from .asm import nasm

ECHO = """
    mov si, msg
p:  lodsb
    or al, al
    jz k
    mov ah, 0eh
    int 10h
    jmp p
k:  xor ah, ah
    int 16h
    out 0xe9, al
    mov dx, 0x3f8
    out dx, al
    cmp al, 'q'
    jne k
    cli
    hlt
msg: db "press keys", 0
times 510-($-$$) db 0
dw 0xaa55
"""


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "echo.img"
    p.write_bytes(nasm(ECHO))
    return p


def test_boot_headless_floppy_with_keys_serial_and_screenshot(tmp_path, image, capsys):
    keys = tmp_path / "keys.txt"
    keys.write_text("# typed after boot\n0.1s:text:ab\n")
    shot = tmp_path / "out.png"
    serial = tmp_path / "serial.txt"
    rc = main(["boot", "-fda", str(image), "--headless", "--frames", "100", "--keys",
               f"@{keys}", "--keys", "0.5s:q", "--serial", str(serial), "--screenshot", str(shot)])
    assert rc == 0
    assert serial.read_bytes() == b"aabbqq"
    assert "halted with interrupts disabled" in capsys.readouterr().out
    assert shot.stat().st_size > 0


def test_boot_drive_option_and_positional_hd(tmp_path, image, capsys):
    serial = tmp_path / "s.txt"
    assert main(["boot", "-drive", f"file={image},format=raw,if=floppy", "--headless",
                 "--frames", "3", "--serial", str(serial)]) == 0
    assert main(["boot", str(image), "--headless", "--frames", "40", "--keys", "0.2s:q",
                 "--serial", str(serial)]) == 0
    assert serial.read_bytes() == b"qq"


@pytest.mark.parametrize("argv, message", [
    (["boot", "--headless"], "nothing to boot"),
    (["boot", "-drive", "file=x.img,if=scsi"], "if=scsi"),
    (["boot", "-drive", "file=x.img,format=qcow2"], "format=raw"),
    (["boot", "-drive", "if=ide"], "file= is required"),
    (["boot", "-hda", "/nonexistent.img", "--headless"], "disk image"),
    (["boot", "-fda", "IMAGE", "--keys", "soon:a", "--headless"], "expected a time"),
])
def test_boot_errors(argv, message, capsys, image):
    argv = [str(image) if a == "IMAGE" else a for a in argv]
    assert main(argv) == 1
    assert message in capsys.readouterr().err
