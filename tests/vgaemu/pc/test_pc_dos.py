"""DOS .COM programs: PSP and registers, INT 21h console/vectors/time/version, INT 20h,
RET to the PSP, and the error for a function vgaemu's DOS does not have."""

from __future__ import annotations

import io
import struct

import pytest

from vgaemu.cli import main
from vgaemu.errors import ConfigError, GuestError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.dos import PSP_SEG

from .asm import nasm


def run_com(tmp_path, body, *, tail="", keys=(), seconds=1.0):
    p = tmp_path / "prog.com"
    p.write_bytes(nasm(body, org=0x100))
    out = io.BytesIO()
    pc = PC(Machine(), output=out, keys=keys)
    dos = pc.run_com(p, tail)
    pc.platform.run_until(int(seconds * 1e9))
    return pc, dos, out.getvalue()


def screen_text(machine, row):
    return machine.read(0xB8000 + 160 * row, 160)[::2].decode("ascii").rstrip()


def test_psp_registers_and_console(tmp_path):
    pc, dos, out = run_com(tmp_path, """
    mov [0x200], ax
    mov [0x202], cx
    mov [0x204], dx
    mov [0x206], sp
    mov [0x208], ss
    mov dx, msg
    mov ah, 9
    int 21h
    mov dl, '!'
    mov ah, 2
    int 21h
    mov ah, 1            ; read with echo
    int 21h
    mov ah, 6
    mov dl, 0xff         ; nothing more typed: ZF=1
    int 21h
    jnz bad
    mov ax, 4c2ah
    int 21h
bad: mov ax, 4c01h
    int 21h
msg: db "Hi $"
    """, tail="x y", keys=["0.1s:q"])
    m = pc.machine
    assert dos.exit_code == 42 and pc.platform.stopped == "program exited with code 42"
    base = PSP_SEG << 4
    assert m.read(base, 2) == b"\xCD\x20" and m.read(base + 0x80, 6) == b"\x04 x y\r"
    ax, cx, dx, sp, ss = struct.unpack("<5H", m.read(base + 0x200, 10))
    assert (ax, cx, dx, sp, ss) == (0, 0xFF, PSP_SEG, 0xFFFE, PSP_SEG)
    assert screen_text(m, 0) == "Hi !q"


def test_ret_to_psp_ends_with_int20(tmp_path):
    pc, dos, _ = run_com(tmp_path, "ret\n")
    assert dos.exit_code == 0


def test_vectors_time_version(tmp_path):
    pc, dos, out = run_com(tmp_path, """
    mov ax, 2560h
    mov dx, handler
    int 21h
    int 60h
    mov ax, 3560h
    int 21h
    mov [res], bx
    mov [res+2], es
    mov ah, 30h
    int 21h
    mov [res+4], ax
    mov ah, 2ch
    int 21h
    mov [res+6], cx
    mov [res+8], dx
    int 20h
handler:
    mov al, 'V'
    out 0xe9, al
    iret
res: dw 0, 0, 0, 0, 0
    """)
    assert out == b"V" and dos.exit_code == 0
    m = pc.machine
    # the result block follows the handler; 35h must give back what 25h set
    data = m.read(PSP_SEG * 16 + 0x100, 0x100)
    i = data.index(b"\xB0V\xE6\xE9\xCF")   # handler: mov al,'V'; out 0xe9,al; iret
    bx, es, ver, cx, dx = struct.unpack("<5H", data[i + 5:i + 15])
    assert bx == 0x100 + i and es == PSP_SEG and ver == 5
    assert cx == 0 and dx >> 8 == 0   # 0 h 0 min 0 s: the program ran for microseconds


def test_unsupported_function_names_itself(tmp_path):
    with pytest.raises(GuestError, match=r"INT 21h function 41h \(delete file\)"):
        run_com(tmp_path, "mov ah, 41h\nint 21h\n")


def test_bad_programs(tmp_path):
    pc = PC(Machine(), output=io.BytesIO())
    exe = tmp_path / "x.com"
    exe.write_bytes(b"MZ" + bytes(100))
    with pytest.raises(ConfigError, match="EXE"):
        pc.run_com(exe)
    big = tmp_path / "big.com"
    big.write_bytes(bytes(0xFF00))
    with pytest.raises(ConfigError, match="at most"):
        pc.run_com(big)
    with pytest.raises(ConfigError, match="program"):
        pc.run_com(tmp_path / "missing.com")


def test_cli_run_com(tmp_path, capsys):
    p = tmp_path / "hi.com"
    p.write_bytes(nasm("mov dx, m\nmov ah, 9\nint 21h\nmov ax, 4c03h\nint 21h\nm: db 'ok$'\n",
                       org=0x100))
    shot = tmp_path / "hi.png"
    assert main(["run", str(p), "--headless", "--frames", "5", "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    assert "exit code 3" in out and shot.exists()
    assert main(["run", "plasma", "--keys", "1s:a", "--headless"]) == 1
    assert "for DOS .COM programs" in capsys.readouterr().err


def test_memory_blocks(tmp_path):
    pc, dos, out = run_com(tmp_path, """
    mov ah, 48h          ; everything is the program's: no room
    mov bx, 100h
    int 21h
    jnc bad
    mov ah, 4ah          ; shrink to 64 KiB
    mov bx, 1000h
    int 21h
    jc bad
    mov ah, 48h
    mov bx, 100h
    int 21h
    jc bad
    mov [blk], ax
    mov es, ax
    mov ah, 49h
    int 21h
    jc bad
    mov ah, 49h          ; freeing it twice fails
    int 21h
    jnc bad
    mov al, 'M'
    out 0xe9, al
bad:
    mov ax, 4c00h
    int 21h
blk: dw 0
    """)
    assert out == b"M"
    assert dos.blocks == {PSP_SEG: 0x1000}


def test_buffered_input_with_backspace(tmp_path):
    pc, dos, out = run_com(tmp_path, """
    mov dx, buf
    mov ah, 0ah
    int 21h
    mov si, buf+2
    mov cl, [buf+1]
    xor ch, ch
p:  lodsb
    out 0xe9, al
    loop p
    int 20h
buf: db 6, 0
    times 8 db 0
    """, keys=["0.1s:text:abx", "0.4s:backspace", "0.5s:text:cdefgh\\n"], seconds=3)
    assert out == b"abcde"   # room for 5 characters and the CR
    assert dos.exit_code == 0
