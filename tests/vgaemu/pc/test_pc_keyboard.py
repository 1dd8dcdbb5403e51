"""Key scripts, scancodes through port 0x60 and IRQ 1, INT 09h into the BDA, INT 16h."""

from __future__ import annotations

import io

import pytest

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage
from vgaemu.pc.keyboard import parse_key, parse_spec

from .asm import nasm


def test_parse_specs():
    assert parse_key("a") == [0x1E]
    assert parse_key("A") == [0x2A, 0x1E]
    assert parse_key("shift+left") == [0x2A, 0x4B]
    assert parse_spec("0.5s:space") == [(500_000_000, [0x39]), (550_000_000, [0xB9])]
    assert parse_spec("1s:left:200ms") == [(10**9, [0x4B]), (1_200_000_000, [0xCB])]
    ev = parse_spec("2:text:Hi\\n")
    assert [c for _, c in ev] == [[0x2A, 0x23], [0xA3, 0xAA], [0x17], [0x97], [0x1C], [0x9C]]
    assert ev[2][0] == 2 * 10**9 + 80_000_000
    for bad in ("space", "1s:", "x:space", "1s:nokey", "1s:meta+a", "1s:text:"):
        with pytest.raises(ConfigError):
            parse_spec(bad)


def run(tmp_path, body, keys, seconds=2):
    boot = nasm(body + "\ntimes 510-($-$$) db 0\ndw 0xaa55\n")
    img = tmp_path / "k.img"
    img.write_bytes(boot)
    out = io.BytesIO()
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy")], output=out, keys=keys)
    pc.boot()
    pc.platform.run_until(seconds * 10**9)
    return pc, out.getvalue()


def test_int16_waits_for_typed_text(tmp_path):
    pc, out = run(tmp_path, """
again:
    xor ah, ah
    int 16h
    out 0xe9, al
    cmp al, 13
    jne again
    mov ah, 2
    int 16h
    out 0xe9, al
    cli
    hlt
    """, ["0.2s:text:Ok 1!\\n"])
    assert out == b"Ok 1!\r\x00"
    assert pc.platform.stopped
    # the CPU slept in HLT while waiting: few instructions for ~0.7 s of virtual time
    assert pc.platform.instructions < 5000


def test_int16_check_key_sets_zf(tmp_path):
    pc, out = run(tmp_path, """
    mov ah, 1
    int 16h
    jz empty
    mov al, 'X'
    out 0xe9, al
empty:
    mov al, '-'
    out 0xe9, al
poll: mov ah, 1
    int 16h
    jz poll
    out 0xe9, al
    mov ah, 0
    int 16h       ; remove it
    mov ah, 1
    int 16h
    jnz bad
    mov al, '.'
    out 0xe9, al
bad:
    cli
    hlt
    """, ["0.1s:z"])
    assert out == b"-z."


def test_program_hooking_int09_sees_scancodes(tmp_path):
    pc, out = run(tmp_path, """
    cli
    mov word [9*4], kbd
    mov [9*4+2], cs
    sti
w:  hlt
    cmp byte [n], 4
    jb w
    cli
    hlt
kbd:
    push ax
    in al, 0x60
    out 0xe9, al
    inc byte [n]
    mov al, 0x20
    out 0x20, al
    pop ax
    iret
n: db 0
    """, ["0.1s:shift+a"])
    assert out == bytes((0x2A, 0x1E, 0x9E, 0xAA))


def test_window_keys_become_make_and_break_codes():
    pygame = pytest.importorskip("pygame")
    from vgaemu.pc.keyboard import keys_from_window

    assert keys_from_window([pygame.K_a, pygame.K_SPACE, pygame.K_LEFT, pygame.K_RETURN]) == [
        [0x1E, 0x9E], [0x39, 0xB9], [0x4B, 0xCB], [0x1C, 0x9C]]
    assert keys_from_window([pygame.K_PRINTSCREEN]) == []
    assert keys_from_window([]) == []
