"""The window keeps answering while the machine is stopped (QMP ``stop``, a migration, a
destination waiting for its stream): events are pumped, an expose redraws, the title says
why nothing moves, and closing the window ends the run (SDL's dummy driver)."""

from __future__ import annotations

import threading
import time

import pytest

from vgaemu.machine import Machine
from vgaemu.mainloop import RunState

#: How long a helper waits for the run to end before it gives up and forces it to
#: (so a regression fails the test instead of hanging it).
DEADLINE_S = 20


@pytest.fixture
def window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from vgaemu.frontends.window import WindowSink

    sink = WindowSink(fps=0, title="vgaemu - t")
    titles: list[str] = []
    real_title = sink._title

    def title(force=False):
        real_title(force)
        import pygame
        titles.append(pygame.display.get_caption()[0])
    monkeypatch.setattr(sink, "_title", title)
    sink.titles = titles
    yield sink
    sink.close()


def forever(guest):
    guest.set_mode(0x13)
    k = 0
    while True:
        guest.fill(0xA0000 + (k % 200) * 320, 320, k & 0xFF)
        k += 1
        yield


def _until(cond, timeout=DEADLINE_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _helper(machine, body):
    """Run ``body()`` in a thread; if the run has not ended DEADLINE_S later, force it to
    end and record that the window did not do its job."""
    out = {"forced": False, "error": None}

    def run():
        try:
            body(out)
        except BaseException as e:  # reported by the test
            out["error"] = e
        if not _until(lambda: out.get("ended"), DEADLINE_S):
            out["forced"] = True
            machine.loop.request_quit()
            machine.loop.vm_start()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_close_while_stopped_by_qmp_ends_the_run(window):
    import pygame

    from vgaemu.guest import run_guest

    m = Machine()
    redraws = []
    real_redraw = window.redraw
    window.redraw = lambda: (redraws.append(time.monotonic()), real_redraw())

    def body(out):
        assert _until(lambda: window.frames >= 3)
        m.post(lambda: m.loop.vm_stop()).result(DEADLINE_S)  # QMP stop
        frames = window.frames
        time.sleep(0.3)
        out["frames_while_stopped"] = window.frames - frames
        pygame.event.post(pygame.event.Event(pygame.VIDEOEXPOSE))
        assert _until(lambda: redraws)
        out["titles"] = list(window.titles)
        pygame.event.post(pygame.event.Event(pygame.QUIT))
    t, out = _helper(m, body)
    result = run_guest(m, forever, window)
    out["ended"] = True
    t.join(DEADLINE_S + 5)
    assert out["error"] is None, out["error"]
    assert not out["forced"], "closing the window did not end a stopped run"
    assert result.stopped == "quit" and window.quit_reason == "window-closed"
    assert out["frames_while_stopped"] == 0
    assert any("stopped (QMP cont resumes)" in t for t in out["titles"]), out["titles"]
    assert m.loop.runstate is RunState.PAUSED


def test_window_resumes_with_cont_and_title_clears(window):
    from vgaemu.guest import run_guest

    m = Machine()

    def body(out):
        assert _until(lambda: window.frames >= 2)
        m.post(lambda: m.loop.vm_stop()).result(DEADLINE_S)
        assert _until(lambda: any("stopped" in t for t in window.titles))
        frames = window.frames
        m.loop.vm_start()  # QMP cont
        assert _until(lambda: window.frames >= frames + 3)
        out["last_title"] = window.titles[-1]
        m.loop.request_quit()
    t, out = _helper(m, body)
    run_guest(m, forever, window)
    out["ended"] = True
    t.join(DEADLINE_S + 5)
    assert out["error"] is None, out["error"]
    assert not out["forced"]
    assert "stopped" not in out["last_title"]


def test_destination_waiting_for_its_stream_shows_a_window_that_closes(window):
    """-incoming defer: no frame ever ran; the window opens on the VGA's surface, says
    it waits, and closing it ends the run."""
    import pygame

    from vgaemu.guest import run_guest

    m = Machine()
    m.incoming_migration(None)
    assert m.loop.runstate is RunState.INMIGRATE

    def body(out):
        assert _until(lambda: window._screen is not None)
        assert _until(lambda: any("waiting for incoming migration" in t for t in window.titles))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
    t, out = _helper(m, body)
    result = run_guest(m, forever, window)
    out["ended"] = True
    t.join(DEADLINE_S + 5)
    assert out["error"] is None, out["error"]
    assert not out["forced"]
    assert result.stopped == "quit" and window.frames == 0


def test_cli_incoming_wait_pumps_the_window_and_gives_up_when_closed(window):
    """The CLI waits for -incoming before the run; its wait calls the window's idle hook,
    and a close there is a clear error rather than a hang."""
    import argparse

    import pygame

    from vgaemu.cli import CLIError, MonitorSession

    m = Machine()
    args = argparse.Namespace(incoming="defer", qmp=[], save_on_exit=None)
    calls = []

    def waiting():
        calls.append(1)
        if len(calls) == 5:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
        window.idle(m)
    with pytest.raises(CLIError, match="quit before the incoming migration arrived"):
        MonitorSession(args, m).before_run(None, None, waiting=waiting)
    assert window._screen is not None and window.quit_reason == "window-closed"
