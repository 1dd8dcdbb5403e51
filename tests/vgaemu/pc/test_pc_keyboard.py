"""Key scripts, scancodes through port 0x60 and IRQ 1, INT 09h into the BDA, INT 16h."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings, strategies as st

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage
from vgaemu.pc.keyboard import CHARS, MODIFIERS, NAMED, parse_key, parse_spec

from .asm import nasm


def test_parse_specs():
    assert parse_key("a") == [0x1E]
    assert parse_key("A") == [0x2A, 0x1E]
    assert parse_key("shift+left") == [0x2A, 0xE04B]
    assert parse_key("kp+") == [0x4E] and parse_key("shift+kp+") == [0x2A, 0x4E]
    assert parse_key("+") == [0x2A, 0x0D] and parse_key("rctrl") == [0xE01D]
    assert parse_spec("0.5s:space") == [(500_000_000, [0x39]), (550_000_000, [0xB9])]
    assert parse_spec("1s:left:200ms") == [(10**9, [0xE0, 0x4B]), (1_200_000_000, [0xE0, 0xCB])]
    assert parse_spec("1s:kp4") == [(10**9, [0x4B]), (1_050_000_000, [0xCB])]
    assert parse_spec("0:ctrl+alt+delete")[0][1] == [0x1D, 0x38, 0xE0, 0x53]
    assert parse_spec("0:ctrl+alt+delete")[1][1] == [0xE0, 0xD3, 0xB8, 0x9D]
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
        [0x1E, 0x9E], [0x39, 0xB9], [0xE0, 0x4B, 0xE0, 0xCB], [0x1C, 0x9C]]
    assert keys_from_window([pygame.K_PRINTSCREEN]) == []
    assert keys_from_window([]) == []


KEYS_PROGRAM = """
    cli
    mov ax, [15h*4]
    mov [old15], ax
    mov ax, [15h*4+2]
    mov [old15+2], ax
    mov word [15h*4], hook15
    mov [15h*4+2], cs
    sti
next:
    mov ah, FN
    int 16h
    mov bx, ax
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    cmp bx, 0x011b
    jne next
    mov ah, 12h
    int 16h
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    cli
    hlt
hook15:                  ; the keyboard intercept: 'a' becomes 'b', 's' is swallowed
    cmp ah, 4fh
    jne chain
    cmp al, 1eh
    jne .s
    mov al, 30h
    stc
    retf 2
.s: cmp al, 1fh
    jne chain
    clc
    retf 2
chain:
    jmp far [cs:old15]
old15: dd 0
"""
KEYS = ["0.1s:a", "0.2s:s", "0.3s:left", "0.4s:kp4", "0.5s:kpenter", "0.6s:kp/",
        "0.7s:alt+x", "0.8s:ctrl+c", "0.9s:shift+f1", "1.0s:home", "1.1s:esc"]


def words(out):
    return [out[i] | out[i + 1] << 8 for i in range(0, len(out), 2)]


def test_extended_keys_intercept_and_int16_function_pairs(tmp_path):
    _, out = run(tmp_path, KEYS_PROGRAM.replace("FN", "10h"), KEYS)
    assert words(out) == [0x3062, 0x4BE0, 0x4B00, 0xE00D, 0xE02F, 0x2D00, 0x2E03, 0x5400,
                          0x47E0, 0x011B, 0x0000]
    # the old functions hide the gray keys' E0 and the keypad's extended codes
    _, out = run(tmp_path, KEYS_PROGRAM.replace("FN", "00h"), KEYS)
    assert words(out) == [0x3062, 0x4B00, 0x4B00, 0x1C0D, 0x352F, 0x2D00, 0x2E03, 0x5400,
                          0x4700, 0x011B, 0x0000]


def test_shift_state_in_the_bda(tmp_path):
    pc, _ = run(tmp_path, "s: hlt\njmp s\n",
                ["0.1s:rctrl:500ms", "0.2s:lshift:300ms", "0.3s:ralt:100ms", "0.35s:capslock"],
                seconds=0.32)
    m = pc.machine
    f0 = m.read(0x417, 2)
    assert f0[0] == 0x02 | 0x04 | 0x08 and f0[1] == 0x00   # LShift, Ctrl, Alt; not left ones
    assert m.read(0x496, 1)[0] == 0x10 | 0x04 | 0x08       # 101 keys, right Ctrl and Alt
    pc.platform.run_until(450_000_000)
    assert m.read(0x417, 2) == bytes((0x02 | 0x04 | 0x40, 0x00))  # Caps Lock went on
    assert m.read(0x496, 1)[0] == 0x10 | 0x04
    pc.platform.run_until(700_000_000)
    assert m.read(0x417, 2) == bytes((0x40, 0x00)) and m.read(0x496, 1)[0] == 0x10


def test_caps_lock_and_shift_letters(tmp_path):
    _, out = run(tmp_path, """
again:
    xor ah, ah
    int 16h
    out 0xe9, al
    cmp al, 13
    jne again
    cli
    hlt
    """, ["0.1s:capslock", "0.2s:text:aB1\\n"])
    assert out == b"Ab1\r"


def test_ctrl_alt_del_reboots_the_machine(tmp_path):
    pc, out = run(tmp_path, """
    mov al, '!'
    out 0xe9, al
s:  hlt
    jmp s
    """, ["0.2s:ctrl+alt+delete"], seconds=0.5)
    assert out == b"!!" and pc.resets == ["Ctrl+Alt+Del"]
    assert pc.platform.stopped is None


def test_int19_boots_again_and_kbc_reset_too(tmp_path):
    pc, out = run(tmp_path, """
    inc byte [0x500]      ; survives INT 19h and the reset (POST clears only the BDA)
    mov al, [0x500]
    add al, '0'
    out 0xe9, al
    cmp byte [0x500], 1
    jne .second
    int 19h               ; the bootstrap loader: this sector again
.second:
    cmp byte [0x500], 2
    jne .done
    mov al, 0feh
    out 64h, al           ; pulse reset through the keyboard controller
s:  hlt
    jmp s
.done:
    cli
    hlt
    """, [], seconds=0.5)
    assert out == b"123" and pc.platform.stopped == "halted with interrupts disabled"
    assert pc.resets == ["keyboard controller reset pulse (command FEh)"]


def test_int16_02h_and_12h_report_held_modifiers(tmp_path):
    _, out = run(tmp_path, """
    mov ah, 86h           ; wait 0.3 s
    mov cx, 4
    mov dx, 0x93e0
    int 15h
    mov ah, 02h
    int 16h
    out 0xe9, al
    mov ah, 12h
    int 16h
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    cli
    hlt
    """, ["0.1s:rctrl:500ms", "0.15s:lshift:500ms", "0.2s:lalt:500ms"])
    # 02h: LShift, Ctrl, Alt; 12h adds right Ctrl (bit 10) and left Alt (bit 9)
    assert out == bytes((0x0E, 0x0E, 0x02 | 0x04))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["shift", "ctrl", "alt"]), unique=True, max_size=3),
       st.sampled_from(sorted(NAMED) + list("aZ1!/{")), st.integers(1, 2000))
def test_key_specs_press_and_release_in_mirror_order(mods, key, hold_ms):
    """Against a naive model: every key pressed is released ``hold`` later, in reverse
    order, and a gray key's bytes always carry their E0 prefix."""
    name = "+".join(mods + [key])
    (t0, down), (t1, up) = parse_spec(f"1s:{name}:{hold_ms}ms")
    assert t0 == 10**9 and t1 == 10**9 + hold_ms * 10**6

    def keys_of(stream):
        out, i = [], 0
        while i < len(stream):
            if stream[i] == 0xE0:
                out.append(0xE000 | stream[i + 1] & 0x7F)
                i += 2
            else:
                out.append(stream[i] & 0x7F)
                i += 1
        return out

    assert keys_of(up) == list(reversed(keys_of(down)))
    assert all(b & 0x80 == 0 for b in down if b != 0xE0) and all(b & 0x80 for b in up if b != 0xE0)
    want = [MODIFIERS[m] for m in mods]
    if key not in NAMED and CHARS[key][1] and "shift" not in mods:
        want.insert(0, MODIFIERS["shift"])   # a shifted character brings its Shift
    assert keys_of(down) == want + [NAMED[key] if key in NAMED else CHARS[key][0]]
