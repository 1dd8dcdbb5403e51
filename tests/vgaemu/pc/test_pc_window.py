"""``vgaemu boot`` / ``vgaemu run X.com`` in the pygame window (SDL's dummy video driver, so
no display is needed): the window shows the headless picture, and keys pressed in the window
reach the program through the keyboard controller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgaemu.cli import main
from vgaemu.frontends.imaging import pygame, read_png

from .asm import nasm

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
PROGRAMS = Path(__file__).resolve().parents[3] / "vgaemu" / "roms" / "programs"

TYPER = r"""
    xor bx, bx
.key:
    mov ah, 1
    int 21h
    cmp al, 13
    je .done
    inc bx
    jmp .key
.done:
    mov ax, 0x4c00
    mov al, bl
    int 21h
"""


@pytest.fixture
def dummy_video(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    yield
    pygame.display.quit()


def test_boot_in_the_window_shows_the_headless_picture(tmp_path, dummy_video, capsys):
    shot = tmp_path / "window.png"
    rc = main(["boot", "-fda", str(PROGRAMS / "planar12.img"), "--frames", "10", "--fps", "0",
               "--screenshot", str(shot)])
    assert rc == 0
    assert np.array_equal(read_png(shot), read_png(GOLDEN / "pc-planar12.png"))


def test_boot_in_the_window_says_why_the_run_ended(dummy_video, capsys, monkeypatch):
    """As headless and as ``vgaemu run`` in the window: one line with why the program
    stopped; a program that halts stays on screen, and the user is told how to quit."""
    from vgaemu.frontends.window import WindowSink

    rc = main(["boot", "-fda", str(PROGRAMS / "plasma13.img"), "--frames", "3", "--fps", "0"])
    assert rc == 0
    assert "plasma13.img: 3 frame(s), 3 frame(s) run; " in capsys.readouterr().out

    held = []

    def hold(sink):               # the user closes the window at once
        held.append(sink.frames)
        sink.quit_requested, sink.quit_reason = True, "window-closed"

    monkeypatch.setattr(WindowSink, "hold", hold)
    assert main(["boot", "-fda", str(PROGRAMS / "hello.img"), "--fps", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert held == [1]
    assert out[0] == ("hello.img: halted with interrupts disabled after 1 frame(s); "
                      "Esc or closing the window quits")
    assert out[1].startswith("hello.img: 1 frame(s), halted with interrupts disabled; ")

    def quit_at_once(sink, machine, info):   # Ctrl+Alt+Q before the first frame shows
        from vgaemu.guest import GuestExit

        sink.quit_requested, sink.quit_reason = True, "quit-key"
        raise GuestExit("window closed")

    monkeypatch.setattr(WindowSink, "frame", quit_at_once)
    assert main(["boot", "-fda", str(PROGRAMS / "plasma13.img"), "--fps", "0"]) == 0
    assert ": 0 frame(s), Ctrl+Alt+Q pressed; " in capsys.readouterr().out


def test_keys_pressed_in_the_window_reach_a_com_program(tmp_path, dummy_video, capsys):
    from vgaemu.frontends.window import WindowSink
    from vgaemu.machine import Machine
    from vgaemu.pc.boot import PC, run_frames

    prog = tmp_path / "typer.com"
    prog.write_bytes(nasm(TYPER, org=0x100))
    pc = PC(Machine(), output=None)
    dos = pc.run_com(prog)
    sink = WindowSink(fps=0, title="typer")
    try:
        for key in (pygame.K_h, pygame.K_i, pygame.K_x, pygame.K_RETURN):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
        n, why = run_frames(pc, sink, 120)
    finally:
        sink.close()
    assert why == "program exited with code 3" and dos.exit_code == 3


# A boot sector that hooks INT 09h and logs every byte from port 0x60 to the debug console
# until it sees the break code of Esc: a game's view of the keyboard.
RAW = """
    xor ax, ax
    mov ds, ax
    cli
    mov word [9 * 4], irq1
    mov [9 * 4 + 2], cs
    sti
idle:
    hlt
    cmp byte [done], 0
    je idle
    cli
    hlt
irq1:
    push ax
    in al, 0x60
    out 0xe9, al
    cmp al, 0x81
    jne .eoi
    mov byte [cs:done], 1
.eoi:
    mov al, 0x20
    out 0x20, al
    pop ax
    iret
done: db 0
times 510-($-$$) db 0
dw 0xaa55
"""


def test_raw_window_keys_send_presses_and_releases(tmp_path, dummy_video):
    """A PC in the window gets every key as a make code when pressed and a break code when
    released -- Esc, P and D included; Ctrl+Alt+P is the window's (pause), not the guest's."""
    import io

    from vgaemu.frontends.window import WindowSink
    from vgaemu.machine import Machine
    from vgaemu.pc.boot import PC, run_frames
    from vgaemu.pc.disk import DiskImage

    img = tmp_path / "raw.img"
    img.write_bytes(nasm(RAW))
    out = io.BytesIO()
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy", snapshot=True)], output=out)
    pc.boot()
    sink = WindowSink(fps=0, title="raw", raw_keys=True)
    ctrl_alt = pygame.KMOD_LCTRL | pygame.KMOD_LALT
    events = [(pygame.KEYDOWN, pygame.K_LSHIFT, 0), (pygame.KEYDOWN, pygame.K_p, pygame.KMOD_LSHIFT),
              (pygame.KEYUP, pygame.K_p, pygame.KMOD_LSHIFT), (pygame.KEYUP, pygame.K_LSHIFT, 0),
              (pygame.KEYDOWN, pygame.K_d, 0), (pygame.KEYUP, pygame.K_d, 0),
              (pygame.KEYDOWN, pygame.K_LEFT, 0), (pygame.KEYUP, pygame.K_LEFT, 0),
              (pygame.KEYDOWN, pygame.K_p, ctrl_alt), (pygame.KEYUP, pygame.K_p, ctrl_alt),
              (pygame.KEYDOWN, pygame.K_p, ctrl_alt),    # pause again: the run goes on
              (pygame.KEYDOWN, pygame.K_ESCAPE, 0), (pygame.KEYUP, pygame.K_ESCAPE, 0)]
    try:
        assert run_frames(pc, sink, 3) == (3, "3 frame(s) run")      # INT 09h is hooked now
        for kind, key, mod in events:
            pygame.event.post(pygame.event.Event(kind, key=key, mod=mod, unicode=""))
        n, why = run_frames(pc, sink, 120)
    finally:
        sink.close()
    assert why == "halted with interrupts disabled"
    assert out.getvalue() == bytes([0x2A, 0x19, 0x99, 0xAA, 0x20, 0xA0,
                                     0xE0, 0x4B, 0xE0, 0xCB, 0x01, 0x81])   # left: gray, E0


def test_window_hotkeys_need_ctrl_alt_only_for_a_pc(dummy_video):
    from vgaemu.frontends.window import WindowSink

    sink = WindowSink(fps=0, raw_keys=True)
    try:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode=""))
        assert sink.key_events() == [(pygame.K_ESCAPE, True)] and not sink.quit_requested
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q,
                                             mod=pygame.KMOD_CTRL | pygame.KMOD_ALT, unicode=""))
        assert sink.key_events() == [] and sink.quit_requested and sink.quit_reason == "quit-key"
    finally:
        sink.close()
    plain = WindowSink(fps=0)
    try:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode=""))
        plain.keys()
        assert plain.quit_requested and plain.quit_reason == "escape"
    finally:
        plain.close()
