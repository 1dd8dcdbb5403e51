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
