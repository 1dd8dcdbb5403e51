"""The window says why a run ended and, when the guest has returned, says so in its title
instead of going silent (SDL's dummy driver: no X server needed)."""

from __future__ import annotations


import pytest


@pytest.fixture
def dummy_window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from vgaemu.frontends.window import WindowSink

    sink = WindowSink(fps=0, title="vgaemu - t")
    yield sink
    sink.close()


def run_a_little(sink, frames=None):
    from vgaemu.guest import run_guest
    from vgaemu.machine import Machine

    def main(guest):
        guest.set_mode(0x13)
        guest.fill(0xA0000, 320 * 10, 4)
        for _ in range(3):
            guest.frame()

    return run_guest(Machine(), main, sink, max_frames=frames)


@pytest.mark.parametrize("event, reason", [("escape", "escape"), ("close", "window-closed")])
def test_quit_reason_is_recorded(dummy_window, event, reason):
    import pygame

    from vgaemu.cli import _stop_reason

    run_a_little(dummy_window)
    if event == "escape":
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="", scancode=0))
    else:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
    dummy_window.hold()                      # returns once the user has quit
    assert dummy_window.quit_reason == reason
    assert "guest ended" in pygame.display.get_caption()[0]
    result = type("R", (), {"stopped": "quit"})()
    assert _stop_reason(result, dummy_window) == {"escape": "Esc pressed", "window-closed": "window closed"}[reason]


def test_stop_reasons_in_words():
    from vgaemu.cli import _stop_reason

    for stopped, words in (("returned", "the guest returned"), ("max_frames", "reached --frames")):
        assert _stop_reason(type("R", (), {"stopped": stopped})()) == words
