"""POST state and the system BIOS services: INT 08h/1Ch, 11h, 12h, 15h, 1Ah."""

from __future__ import annotations

import io
import struct


from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage

from .asm import nasm


def run(tmp_path, body, seconds=1.0, memory="64M"):
    img = tmp_path / "s.img"
    img.write_bytes(nasm(body + "\ntimes 510-($-$$) db 0\ndw 0xaa55\n"))
    out = io.BytesIO()
    pc = PC(Machine(memory=memory), floppies=[DiskImage(img, "floppy")], output=out)
    pc.boot()
    pc.platform.run_until(int(seconds * 1e9))
    return pc, out.getvalue()


def test_post_state(tmp_path):
    pc, _ = run(tmp_path, "cli\nhlt\n")
    m = pc.machine
    cpu = m.cpu
    assert cpu.dl == 0 and cpu.cs == 0 and cpu.ip == 0x7C00 + 2
    equipment, = struct.unpack("<H", m.read(0x410, 2))
    assert equipment & 1 and struct.unpack("<H", m.read(0x413, 2))[0] == 639
    assert m.read(0x41A, 4) == b"\x1e\x00\x1e\x00"
    assert struct.unpack("<H", m.read(0x40E, 2))[0] == 0x9FC0
    assert m.read(0xB8000, 2 * 80)[::2].rstrip().decode().startswith("SeaBIOS")
    assert m.read(0xB8000 + 160, 44)[::2].decode().startswith("Booting from Floppy...")


def test_int08_ticks_and_chains_int1c(tmp_path):
    pc, out = run(tmp_path, """
    mov word [0x1c*4], tick
    mov [0x1c*4+2], cs
    sti
w:  hlt
    cmp word [0x46c], 18
    jb w
    mov al, [n]
    out 0xe9, al
    cli
    hlt
tick:
    inc byte [n]
    iret
n: db 0
    """, seconds=2)
    assert out == bytes((18,))
    # 18 ticks of 65536 PIT clocks: ~0.989 s
    assert 0.98e9 < pc.machine.clock.now_ns < 1.0e9


def test_int11_12_15_1a(tmp_path):
    pc, _ = run(tmp_path, """
    int 11h
    mov [0x9000], ax
    int 12h
    mov [0x9002], ax
    mov ah, 88h
    int 15h
    mov [0x9004], ax
    mov ax, 0e801h
    int 15h
    mov [0x9006], ax
    mov [0x9008], bx
    xor ebx, ebx
    mov di, 0x9100
e820:
    mov eax, 0e820h
    mov edx, 534d4150h
    mov ecx, 20
    int 15h
    jc done
    add di, 20
    test ebx, ebx
    jnz e820
done:
    mov [0x900a], di
    mov ah, 86h          ; wait 0.25 s
    mov cx, 3
    mov dx, 0d090h
    int 15h
    xor ah, ah
    int 1ah
    mov [0x900c], dx
    mov ah, 0c0h
    int 15h
    mov [0x900e], es
    mov [0x9010], bx
    cli
    hlt
    """)
    m = pc.machine
    eq, mem, ext, e801_ax, e801_bx, end, ticks, es, bx = struct.unpack("<9H", m.read(0x9000, 18))
    assert eq == struct.unpack("<H", m.read(0x410, 2))[0] and mem == 639
    assert ext == 63 * 1024 and e801_ax == 15 * 1024 and e801_bx == (64 - 16) * 16
    entries = [struct.unpack("<QQI", m.read(0x9100 + 20 * i, 20)) for i in range((end - 0x9100) // 20)]
    assert (0x100000, 63 * 1024 * 1024, 1) in entries and entries[0] == (0, 639 * 1024, 1)
    assert ticks == 4      # 0.25 s = 4.55 ticks of 54.9 ms
    assert m.read((es << 4) + bx + 2, 1) == b"\xFC"


def test_int18_with_no_device_left_ends_the_run(tmp_path):
    pc, _ = run(tmp_path, "int 18h\n")
    assert pc.platform.stopped == "no bootable device (INT 18h)"
    text = pc.machine.read(0xB8000, 160 * 4)[::2].decode("ascii")
    assert "No bootable device." in text
