"""The pygame window: behaviour under SDL's dummy driver, and real pixels in a real X window.

The real-window tests start their own Xvfb (on a display number Xvfb picks itself with
``-displayfd``), run the window in a child process, capture the window from the X server with
``xwd`` (Debian package x11-apps) and compare it pixel for pixel with the headless screenshot
of the same frame.  Reading back ``pygame.display.get_surface()`` would only show what pygame
meant to draw; the X server's copy is what a person sees.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import fake_info, fake_stats

from vgaemu.frontends import FrontendError
from vgaemu.frontends.imaging import array_from_surface, pygame, read_png

REPO = Path(__file__).resolve().parents[2]


# -- XWD (X Window Dump) reader --------------------------------------------------------------
XWD_HEADER = struct.Struct(">25I")


def parse_xwd(data: bytes) -> np.ndarray:
    """An xwd dump (ZPixmap, TrueColor) as an H x W x 3 uint8 array.

    The header is 25 big-endian CARD32s (xwd writes it MSB first whatever the host), then
    the window name, then ``ncolors`` 12-byte XWDColor entries, then the image, whose pixel
    byte order is the header's ``byte_order`` (0 = LSBFirst).
    """
    (header_size, version, pixmap_format, depth, width, height, _xoff, byte_order, _unit,
     _bit_order, _pad, bpp, bytes_per_line, visual_class, red_mask, green_mask, blue_mask,
     _bits_rgb, _cmap_entries, ncolors, *_rest) = XWD_HEADER.unpack_from(data)
    if version != 7 or pixmap_format != 2:
        raise ValueError(f"expected an XWD v7 ZPixmap dump, got version {version} format {pixmap_format}")
    if bpp not in (24, 32) or visual_class not in (4, 5):  # TrueColor / DirectColor
        raise ValueError(f"expected a 24/32 bpp TrueColor dump, got {bpp} bpp visual class {visual_class}")
    nbytes = bpp // 8
    offset = header_size + ncolors * 12
    rows = np.frombuffer(data, dtype=np.uint8, count=bytes_per_line * height, offset=offset)
    rows = rows.reshape(height, bytes_per_line)[:, :width * nbytes].reshape(height, width, nbytes)
    if byte_order != 0:                     # MSBFirst: most significant byte first
        rows = rows[:, :, ::-1]
    pixels = np.zeros((height, width), np.uint32)
    for i in range(nbytes):
        pixels |= rows[:, :, i].astype(np.uint32) << np.uint32(8 * i)
    out = np.empty((height, width, 3), np.uint8)
    for i, mask in enumerate((red_mask, green_mask, blue_mask)):
        shift = (mask & -mask).bit_length() - 1
        out[:, :, i] = (pixels & mask) >> shift
    return out


# -- Xvfb ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xdisplay():
    """A private Xvfb server; skips (with the package to install) where the tools are missing."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb; .ci/run installs it)")
    if shutil.which("xwd") is None:
        pytest.skip("xwd is not installed (Debian package x11-apps; .ci/run installs it)")
    proc = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "2048x1536x24",
                             "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().strip()
        if not line:
            pytest.skip(f"Xvfb did not start (exit status {proc.poll()})")
        yield f":{int(line)}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def xwd_window(display: str, window_id: int) -> np.ndarray:
    """Dump one window (``-id``): a root dump with windows of another visual on it comes out
    of xwd in its multi-visual layout, which this reader does not decode."""
    out = subprocess.run(["xwd", "-silent", "-id", str(window_id), "-display", display],
                         capture_output=True, check=True, timeout=30)
    return parse_xwd(out.stdout)


# The child: shows frames in a WindowSink, prints the X window id once the last frame is on
# screen, and waits (window untouched) until the test has captured it.
CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from vgaemu.frontends.window import WindowSink
    from tests.vgaemu.test_window_xvfb import FakeMachine, fake_frames
    args = json.loads(sys.argv[1])
    sink = WindowSink(scale=args["scale"], fps=0, screenshot_dir=args["dir"])
    machine = FakeMachine()
    for info in fake_frames(machine, args["frames"]):
        sink.frame(machine, info)
    print(json.dumps({"window": sink.window_id}), flush=True)
    sys.stdin.readline()
    sink.close()
""")


def run_child(code: str, display: str, args: dict):
    env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11", PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def capture_child(proc, display: str) -> np.ndarray:
    try:
        line = ""
        for line in proc.stdout:
            if line.startswith("{"):
                break
        if not line.startswith("{"):
            raise AssertionError(f"window child failed: {proc.stderr.read()}")
        return xwd_window(display, json.loads(line)["window"])
    finally:
        try:
            proc.communicate("\n", timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


# -- a scripted fake VGA: a mode change, partial updates, text-like cells --------------------
class FakeMachine:
    def __init__(self):
        self.vga = type("FakeVGA", (), {})()
        self.vga.surface = np.zeros((100, 160, 3), np.uint8)


def fake_frames(machine, n):
    """Yield FrameInfos while drawing: a full frame, a switch to 200x120, then small rects.

    Pixels outside the reported rects are changed too (and must NOT reach the window), so a
    window that copies more than the rectangles shows the difference.
    """
    rng = np.random.default_rng(5)
    for i in range(1, n + 1):
        if i == 1:
            machine.vga.surface[:] = rng.integers(0, 256, machine.vga.surface.shape, dtype=np.uint8)
            h, w = machine.vga.surface.shape[:2]
            yield fake_info(i, fake_stats(True, h, 4, h * w, ((0, 0, w, h),)))
        elif i == 2:
            machine.vga.surface = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
            yield fake_info(i, fake_stats(True, 120, 6, 120 * 200, ((0, 0, 200, 120),)))
        else:
            s = machine.vga.surface
            x, y = (i * 13) % 180, (i * 7) % 100
            s[y:y + 16, x:x + 8] = rng.integers(0, 256, (16, 8, 3), dtype=np.uint8)
            yield fake_info(i, fake_stats(False, 16, 1, 128, ((x, y, 8, 16),)))
            s[(y + 50) % 120] = 255 - s[(y + 50) % 120]   # changed but not reported


def expected_window(n, scale=1):
    """What the window must show after n fake frames: only reported rects copied."""
    machine = FakeMachine()
    shown = None
    for info in fake_frames(machine, n):
        s = machine.vga.surface
        if info.stats.full:
            shown = s.copy()
        else:
            for x, y, w, h in info.stats.rects:
                shown[y:y + h, x:x + w] = s[y:y + h, x:x + w]
    return np.repeat(np.repeat(shown, scale, axis=0), scale, axis=1)


# -- real X window ---------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1, 2])
def test_real_window_shows_exactly_the_reported_rects(xdisplay, tmp_path, scale):
    proc = run_child(CHILD, xdisplay, {"scale": scale, "frames": 12, "dir": str(tmp_path)})
    shot = capture_child(proc, xdisplay)
    expected = expected_window(12, scale)
    assert shot.shape == expected.shape
    assert np.count_nonzero((shot != expected).any(axis=2)) == 0


# -- dummy driver: keys, pause, overlay, screenshot, quit ---------------------------------------
@pytest.fixture
def dummy_display(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    pygame.display.quit()
    yield
    pygame.display.quit()


def _key(key):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


def test_dummy_window_pixels_and_resize(dummy_display, tmp_path):
    from vgaemu.frontends.window import WindowSink
    sink = WindowSink(scale=3, fps=0, screenshot_dir=tmp_path)
    m = FakeMachine()
    for info in fake_frames(m, 9):
        sink.frame(m, info)
    assert pygame.display.get_surface().get_size() == (600, 360)
    assert np.array_equal(array_from_surface(pygame.display.get_surface()), expected_window(9, 3))
    assert "fake 200x120" in pygame.display.get_caption()[0]
    assert "lines redrawn" in pygame.display.get_caption()[0]


def test_keys_screenshot_overlay(dummy_display, tmp_path, capsys):
    from vgaemu.frontends.window import WindowSink
    sink = WindowSink(fps=0, screenshot_dir=tmp_path)
    m = FakeMachine()
    frames = fake_frames(m, 50)
    sink.frame(m, next(frames))
    _key(pygame.K_a)
    _key(pygame.K_F12)
    _key(pygame.K_SPACE)
    assert sink.keys() == [pygame.K_a, pygame.K_SPACE]
    assert sink.keys() == []
    [shot] = sink.screenshots
    assert np.array_equal(read_png(shot), m.vga.surface)
    assert str(shot) in capsys.readouterr().err
    # D: the overlay tints redrawn lines (red up) and leaves the others alone
    _key(pygame.K_d)
    for _ in range(12):
        sink.frame(m, next(frames))
    assert sink.overlay
    shown = array_from_surface(pygame.display.get_surface())
    heat = sink._heat
    hot, cold = np.flatnonzero(heat > 0.9), np.flatnonzero(heat == 0)
    assert hot.size and cold.size
    assert np.array_equal(shown[cold], m.vga.surface[cold])
    assert (shown[hot].astype(int)[..., 0] >= m.vga.surface[hot][..., 0]).all()
    assert not np.array_equal(shown[hot], m.vga.surface[hot])
    assert "overlay" in pygame.display.get_caption()[0]
    # D again: back to the plain picture everywhere
    _key(pygame.K_d)
    sink.frame(m, next(frames))
    assert not sink.overlay
    assert np.array_equal(array_from_surface(pygame.display.get_surface()), m.vga.surface)


def test_escape_and_close_quit(dummy_display):
    from vgaemu.frontends.window import WindowSink
    from vgaemu.guest import GuestExit
    for event in (pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="", scancode=0),
                  pygame.event.Event(pygame.QUIT)):
        sink = WindowSink(fps=0)
        m = FakeMachine()
        frames = fake_frames(m, 5)
        sink.frame(m, next(frames))
        pygame.event.post(event)
        with pytest.raises(GuestExit):
            sink.frame(m, next(frames))
        assert sink.quit_requested
        sink.close()


def test_pause_holds_the_guest_until_p(dummy_display):
    from vgaemu.frontends.window import WindowSink
    sink = WindowSink(fps=0)
    m = FakeMachine()
    frames = fake_frames(m, 5)
    sink.frame(m, next(frames))
    _key(pygame.K_p)
    # While paused, frame() waits; a second P (posted by a timer) releases it.
    pygame.time.set_timer(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p, mod=0, unicode="",
                                             scancode=0), 200, loops=1)
    sink.frame(m, next(frames))
    assert not sink.paused and sink.frames == 2


@pytest.mark.parametrize("kw, match", [({"scale": 0}, "scale"), ({"scale": 2.0}, "scale"),
                                       ({"fps": -1}, "fps"), ({"fps": "60"}, "fps")])
def test_bad_options(dummy_display, kw, match):
    from vgaemu.frontends.window import WindowSink
    with pytest.raises(FrontendError, match=match):
        WindowSink(**kw)


def test_pacing_to_fps(dummy_display):
    import time
    from vgaemu.frontends.window import WindowSink
    sink = WindowSink(fps=50)
    m = FakeMachine()
    frames = fake_frames(m, 12)
    sink.frame(m, next(frames))
    t0 = time.perf_counter()
    for info in frames:
        sink.frame(m, info)
    elapsed = time.perf_counter() - t0
    assert 11 / 50 * 0.8 < elapsed < 11 / 50 * 3


def test_many_cell_rects_become_bands(dummy_display):
    """Text mode reports one rect per changed cell: the window still shows exactly them."""
    from vgaemu.frontends.window import WindowSink
    sink = WindowSink(scale=2, fps=0)
    m = FakeMachine()
    frames = fake_frames(m, 2)
    for info in frames:
        sink.frame(m, info)
    s = m.vga.surface
    rects = tuple((x, y, 8, 16) for y in (16, 48) for x in range(0, 200, 8))   # 50 cells
    for x, y, w, h in rects:
        s[y:y + h, x:x + w] = (x, y, 7)
    sink.frame(m, fake_info(3, fake_stats(False, 32, 2, 200 * 32 * 3, rects)))
    expected = np.repeat(np.repeat(s, 2, axis=0), 2, axis=1)
    assert np.array_equal(array_from_surface(pygame.display.get_surface()), expected)


# -- a real guest on the real Machine: window == headless ---------------------------------------
DEMO = '''
"""Mode 13h, then 80x25 text: bands of colour, a box, changing every frame."""


def main(guest):
    guest.set_mode(0x13)
    for i in range(24):
        guest.fill(0xA0000 + (i * 7 % 190) * 320 + 40, 200, 32 + 3 * i)
        guest.frame()
    if guest.frame_index >= 30:
        return
    guest.set_mode(0x03)
    for i in range(40):
        guest.write(0xB8000 + 160 * (i % 25) + 2 * (i % 80), bytes([65 + i % 26, 0x1E + i % 7]))
        guest.frame()
'''

WINDOW_CHILD = textwrap.dedent("""
    import json, sys
    from vgaemu.frontends.window import run_window
    from vgaemu.machine import Machine
    args = json.loads(sys.argv[1])

    def ready(sink):
        print(json.dumps({"window": sink.window_id, "frames": sink.frames}), flush=True)
        sys.stdin.readline()

    run_window(Machine(), args["script"], scale=args["scale"], fps=0, max_frames=args["frames"],
               hold=False, on_ready=ready)
""")


@pytest.fixture
def demo_script(tmp_path):
    path = tmp_path / "demo.py"
    path.write_text(DEMO)
    return path


@pytest.mark.parametrize("frames, scale", [(20, 1), (45, 1), (45, 2)])
def test_real_window_equals_headless_screenshot(xdisplay, demo_script, tmp_path, frames, scale):
    from vgaemu.frontends.headless import run_headless
    from vgaemu.machine import Machine
    proc = run_child(WINDOW_CHILD, xdisplay, {"script": str(demo_script), "scale": scale,
                                              "frames": frames})
    shot = capture_child(proc, xdisplay)
    headless = run_headless(Machine(), demo_script, frames=frames,
                            screenshot=tmp_path / "headless.png")
    expected = read_png(headless.screenshot)
    expected = np.repeat(np.repeat(expected, scale, axis=0), scale, axis=1)
    assert shot.shape == expected.shape
    differing = np.count_nonzero((shot != expected).any(axis=2))
    if differing:
        from vgaemu.frontends.imaging import write_png
        write_png(tmp_path / "window.png", shot)
    assert differing == 0, f"{differing} pixels differ; window capture in {tmp_path / 'window.png'}"


def test_run_window_dummy_stops_and_reports(dummy_display, demo_script, tmp_path):
    from vgaemu.frontends.window import run_window
    from vgaemu.machine import Machine
    seen = []
    r = run_window(Machine(), demo_script, fps=0, max_frames=10, screenshot_dir=tmp_path,
                   on_ready=lambda sink: seen.append(sink.frames))
    assert r.frames == 10 and seen == [10] and not r.quit_by_user and r.run.stopped == "max_frames"
    # a guest that ends by itself is held on screen until Esc (posted here before the run)
    pygame.display.init()
    def quit_soon(sink):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0,
                                             unicode="", scancode=0))
    r = run_window(Machine(), demo_script, fps=0, hold=True, on_ready=quit_soon)
    assert r.run.stopped == "returned" and r.frames == 64 and r.quit_by_user


def test_no_display_is_a_clear_error(monkeypatch):
    """Without DISPLAY, SDL silently falls back to an invisible driver: refuse, point to --headless."""
    from vgaemu.frontends.window import WindowSink
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    pygame.display.quit()
    with pytest.raises(FrontendError, match="--headless"):
        WindowSink()
    assert not pygame.display.get_init()
