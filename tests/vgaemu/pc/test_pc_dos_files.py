"""DOS file handles: a .COM reads files next to it (3Dh/3Fh/42h/3Eh), write modes and bad
names get DOS's error codes with CF set, handle 0 reads a typed line, 40h prints."""

from __future__ import annotations

import io
import struct

from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.dos import PSP_SEG

from .asm import nasm

#: a result area the programs fill: (AX, CF) pairs, then read data
RES = 0x800


def run_com(tmp_path, body, *, keys=(), seconds=1.0, files=None):
    d = tmp_path / "prog"
    d.mkdir(exist_ok=True)
    for name, data in (files or {}).items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    prog = d / "prog.com"
    prog.write_bytes(nasm(f"""
    mov di, {RES}
    {body}
    int 20h
; save AX and CF at [di], advance (AX kept)
result:
    mov [di], ax
    mov word [di+2], 0
    jnc .nc
    mov word [di+2], 1
.nc:
    add di, 4
    ret
""", org=0x100))
    out = io.BytesIO()
    pc = PC(Machine(), output=out, keys=keys)
    dos = pc.run_com(prog)
    pc.platform.run_until(int(seconds * 1e9))
    assert dos.exit_code == 0, pc.platform.stopped
    return pc, out.getvalue()


def results(pc, n):
    raw = pc.machine.read(PSP_SEG * 16 + RES, 4 * n)
    return [struct.unpack_from("<HH", raw, 4 * i) for i in range(n)]


def open_(name_label, mode=0):
    return f"""
    mov ax, 3d{mode:02x}h
    mov dx, {name_label}
    int 21h
    call result
"""


def test_open_read_seek_close(tmp_path):
    data = bytes(range(256)) * 3
    pc, _ = run_com(tmp_path, f"""
    {open_("name")}
    mov bx, ax
    mov ah, 3fh           ; read 10 bytes
    mov cx, 10
    mov dx, buf
    int 21h
    call result
    mov ax, 4201h         ; seek +290 from the current position
    xor cx, cx
    mov dx, 290
    int 21h
    call result
    mov ah, 3fh
    mov cx, 4
    mov dx, buf+10
    int 21h
    call result
    mov ax, 4202h         ; seek to the end - 2
    mov cx, 0xffff
    mov dx, 0xfffe
    int 21h
    call result
    mov ah, 3fh           ; a short read at the end
    mov cx, 100
    mov dx, buf+14
    int 21h
    call result
    mov ah, 3fh           ; then nothing
    int 21h
    call result
    mov ah, 3eh
    int 21h
    call result
    mov ah, 3eh           ; closed twice: invalid handle
    int 21h
    call result
    jmp done
name: db "c:\\\\Data.BIN", 0
done:
    mov si, buf
    mov cx, 16
    mov di, {RES + 0x40}
    rep movsb
    jmp finish
buf: times 32 db 0
finish:
""", files={"DATA.BIN": data})
    r = results(pc, 9)
    assert r[0] == (5, 0)                         # the first free handle
    assert r[1] == (10, 0) and r[2] == (300, 0) and r[3] == (4, 0)
    assert r[4] == (766, 0) and r[5] == (2, 0) and r[6] == (0, 0)
    assert r[7][1] == 0 and r[8] == (6, 1)
    assert pc.machine.read(PSP_SEG * 16 + RES + 0x40, 16) == \
        bytes(range(10)) + bytes((44, 45, 46, 47)) + bytes((254, 255))


def test_errors_like_dos(tmp_path):
    pc, _ = run_com(tmp_path, f"""
    {open_("data", 1)}
    {open_("data", 2)}
    {open_("data", 3)}
    {open_("missing")}
    {open_("nodir")}
    {open_("escape")}
    {open_("sub")}
    {open_("inside")}
    mov ax, 4203h         ; bad origin
    mov bx, 5
    int 21h
    call result
    mov ax, 4200h         ; invalid handle
    mov bx, 9
    int 21h
    call result
    mov ax, 4201h         ; before the start
    mov bx, 5
    mov cx, 0xffff
    mov dx, 0xfff0
    int 21h
    call result
    mov ah, 40h           ; write to a read-only file
    mov bx, 5
    mov cx, 1
    int 21h
    call result
    mov ah, 3fh           ; read from a handle never opened
    mov bx, 7
    int 21h
    call result
    jmp over
data: db "data.bin", 0
missing: db "nothere.txt", 0
nodir: db "nodir\\\\x.bin", 0
escape: db "..\\\\prog\\\\data.bin", 0
sub: db "sub", 0
inside: db "SUB\\\\Level1.dat", 0
over:
""", files={"data.bin": b"abc", "sub/level1.dat": b"L1"})
    r = results(pc, 13)
    assert r[:8] == [(5, 1), (5, 1), (0x0C, 1), (2, 1), (3, 1), (3, 1), (5, 1), (5, 0)]
    assert r[8:] == [(1, 1), (6, 1), (0x19, 1), (5, 1), (6, 1)]


def test_stdin_reads_a_typed_line_and_stdout_prints(tmp_path):
    pc, out = run_com(tmp_path, """
    mov ah, 3fh           ; 4 bytes of the line...
    xor bx, bx
    mov cx, 4
    mov dx, buf
    int 21h
    call result
    mov ah, 3fh           ; ...and the rest with its CR LF
    mov cx, 20
    mov dx, buf+4
    int 21h
    call result
    mov ah, 40h
    mov bx, 1
    mov cx, 7
    mov dx, msg
    int 21h
    call result
    mov si, buf
    mov cx, 12
    mov di, 0x840
    rep movsb
    jmp over
msg: db "printed"
buf: times 16 db 0
over:
""", keys=["0.1s:text:hello!\\n"])
    assert results(pc, 3) == [(4, 0), (4, 0), (7, 0)]
    assert pc.machine.read(PSP_SEG * 16 + 0x840, 8) == b"hello!\r\n"
    screen = pc.machine.read(0xB8000, 160 * 3)[::2].decode("ascii")
    assert "hello!" in screen and "printed" in screen


def test_console_gives_gray_keys_as_0_then_scan(tmp_path):
    pc, out = run_com(tmp_path, """
    mov cx, 3
.k: mov ah, 08h
    int 21h
    out 0xe9, al
    loop .k
""", keys=["0.1s:left", "0.2s:kpenter"])
    assert out == bytes((0x00, 0x4B, 0x0D))   # keypad Enter is Enter to DOS


def test_cli_run_com_reads_the_file_beside_it(tmp_path, capsys):
    from vgaemu.cli import main

    d = tmp_path / "game"
    d.mkdir()
    (d / "MSG.TXT").write_bytes(b"file says hi$")
    prog = d / "show.com"
    prog.write_bytes(nasm("""
    mov ax, 3d00h
    mov dx, name
    int 21h
    jc fail
    mov bx, ax
    mov ah, 3fh
    mov cx, 64
    mov dx, buf
    int 21h
    mov ah, 09h           ; print it up to its '$'
    mov dx, buf
    int 21h
    mov ax, 4c00h
    int 21h
fail:
    mov ax, 4c01h
    int 21h
name: db "msg.txt", 0
buf: times 64 db 0
""", org=0x100))
    shot = tmp_path / "show.png"
    assert main(["run", str(prog), "--headless", "--frames", "3", "--screenshot", str(shot)]) == 0
    assert "show.com: exit code 0" in capsys.readouterr().out   # 1 = the open failed
    pc = PC(Machine(), output=io.BytesIO())
    dos = pc.run_com(prog)
    pc.platform.run_until(10**8)
    assert dos.exit_code == 0
    assert "file says hi" in pc.machine.read(0xB8000, 160 * 2)[::2].decode("ascii")
