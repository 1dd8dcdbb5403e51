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


def test_a_qmp_quit_is_named_as_such():
    """A run that a monitor client ended with 'quit' says so, not 'the front end ended the
    run' (headless there is no front end that could have)."""
    from vgaemu.cli import _stop_reason
    from vgaemu.machine import Machine

    quit_run = type("R", (), {"stopped": "quit"})()
    machine = Machine()
    assert _stop_reason(quit_run, machine=machine) == "the front end ended the run"
    machine.loop.request_quit()                  # what the monitor's 'quit' does
    assert _stop_reason(quit_run, machine=machine) == "QMP quit"
    sink = type("S", (), {"quit_reason": "escape"})()
    assert _stop_reason(quit_run, sink, machine) == "Esc pressed"   # the window's own reason wins
