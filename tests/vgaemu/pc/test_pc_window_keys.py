"""Keys from the window reach a booted PC as a keyboard sends them: a modifier held in the
window is held in the guest (its make code, the key's, then the break codes), gray keys
with their E0 prefix (SDL's dummy driver: no X server needed)."""

from __future__ import annotations

import io

import pytest

from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

from .asm import nasm


def test_window_modifiers_and_gray_keys_reach_int09(monkeypatch, tmp_path):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    pygame = pytest.importorskip("pygame")
    from vgaemu.frontends.window import WindowSink

    img = tmp_path / "k.img"
    img.write_bytes(nasm("""
    cli
    mov word [9*4], kbd
    mov [9*4+2], cs
    sti
w:  hlt
    jmp w
kbd:
    push ax
    in al, 0x60
    out 0xe9, al
    mov al, 0x20
    out 0x20, al
    pop ax
    iret
    times 510-($-$$) db 0
    dw 0xaa55
    """))
    out = io.BytesIO()
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy")], output=out)
    pc.boot()
    sink = WindowSink(fps=0, title="vgaemu - keys")
    try:
        run_frames(pc, sink, 2)

        def post(kind, key):
            pygame.event.post(pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0))

        post(pygame.KEYDOWN, pygame.K_LSHIFT)
        post(pygame.KEYDOWN, pygame.K_LEFT)
        post(pygame.KEYUP, pygame.K_LEFT)
        post(pygame.KEYUP, pygame.K_LSHIFT)
        post(pygame.KEYDOWN, pygame.K_RCTRL)
        post(pygame.KEYUP, pygame.K_RCTRL)
        post(pygame.KEYUP, pygame.K_F12)          # a window key's release: not the guest's
        run_frames(pc, sink, 3)
    finally:
        sink.close()
    assert out.getvalue() == bytes((0x2A, 0xE0, 0x4B, 0xE0, 0xCB, 0xAA, 0xE0, 0x1D, 0xE0, 0x9D))
