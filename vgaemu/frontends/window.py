"""The interactive front end: a pygame window showing the VGA output.

It follows QEMU's console model (dpy_gfx_update / dpy_gfx_switch): the display loop says which
rectangles changed, and the window copies exactly those, scaled, and hands the same scaled
rectangles to ``pygame.display.update`` so SDL pushes only them to the screen.  A change of
surface size (a mode change) is a "switch": the window is resized and redrawn whole.

Keys: F12 writes a PNG screenshot, P pauses, D toggles an overlay that tints the scanlines
redrawn in recent frames (what dirty tracking saved is what stays untinted), Esc or closing
the window quits cleanly; every other key goes to the guest: presses through ``keys()``,
presses and releases (Shift, Ctrl and Alt held with a key included) through
``key_events()``.

While the machine is stopped (QMP ``stop``, a migration's downtime, a destination waiting
for its stream) no frame comes; the runner registers :meth:`WindowSink.idle` as the main
loop's idle hook, so the window still answers its events, redraws on expose, says in its
title why nothing moves, and closing it ends the run.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vgaemu.frontends import FrontendError, check_frames, load_main
from vgaemu.frontends.imaging import pygame, write_png

#: The overlay's tint (a warm red) and how fast a redrawn line's tint fades per frame.
OVERLAY_RGB = np.array([255, 40, 40], dtype=np.float32)
OVERLAY_ALPHA = 0.55
OVERLAY_DECAY = 0.8
MAX_RECTS = 48
#: What the title says while the machine is not running (QEMU's RunState names).
STOPPED_TITLES = {"paused": "stopped (QMP cont resumes)", "inmigrate": "waiting for incoming migration",
                  "finish-migrate": "migrating", "postmigrate": "migrated away",
                  "shutdown": "shut down"}
#: How often the idle hook looks at events and the title while stopped.
IDLE_INTERVAL_S = 1 / 50
#: SDL video drivers that show nothing; allowed only when asked for by SDL_VIDEODRIVER.
NO_SCREEN_DRIVERS = ("offscreen", "dummy")
OVERLAY_CUTOFF = 0.1   # ~10 frames (1/6 s at 60 Hz) after its last redraw a line is untinted


def _guest_exit():
    from vgaemu.guest import GuestExit
    return GuestExit


def describe_mode(stats, width: int, height: int) -> str:
    """The mode as the title shows it: the display loop's own name for it, else WxH."""
    mode = getattr(stats, "mode", None)
    size = f"{width}x{height}"
    if not mode:
        return size
    return str(mode) if size in str(mode) else f"{mode} {size}"


def lines_of_rects(rects, height: int) -> np.ndarray:
    """A bool per scanline: True where any update rectangle covers the line."""
    marks = np.zeros(height + 1, dtype=np.int32)
    for x, y, w, h in rects:
        y0 = max(int(y), 0)
        y1 = min(int(y) + int(h), height)
        if y1 > y0 and w > 0:
            marks[y0] += 1
            marks[y1] -= 1
    return np.cumsum(marks[:height]) > 0


def line_bands(lines: np.ndarray, width: int) -> list[tuple[int, int, int, int]]:
    """Full-width rectangles over each run of True scanlines."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], lines.view(np.int8), [0]))))
    return [(0, int(a), width, int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


class WindowSink:
    """A FrameSink that shows each frame in a pygame window, paced to ``fps`` (0: unpaced).

    ``raw_keys`` (a booted PC): every key goes to the guest, pressed and released
    (:meth:`key_events`), Esc, F12, P and D included, as a PC keyboard sends them; the
    window's own keys then need Ctrl+Alt, as QEMU's do: Ctrl+Alt+Q quits, +S screenshot,
    +P pause, +D overlay."""

    def __init__(self, *, scale: int = 1, fps: float = 60.0, screenshot_dir: str | os.PathLike = ".",
                 overlay: bool = False, title: str = "vgaemu", log=None, raw_keys: bool = False) -> None:
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 16:
            raise FrontendError(f"scale must be an integer from 1 to 16, got {scale!r}")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps < 0 or fps != fps:
            raise FrontendError(f"fps must be a number >= 0 (0 = as fast as possible), got {fps!r}")
        self.scale = scale
        self.fps = float(fps)
        self.screenshot_dir = Path(screenshot_dir)
        self.overlay = overlay
        self.title = title
        self.log = log if log is not None else sys.stderr
        self.paused = False
        self.quit_requested = False
        #: Why the user ended the run: "escape" or "window-closed" (None: they did not).
        self.quit_reason: str | None = None
        self.guest_ended = False
        self.frames = 0
        self.screenshots: list[Path] = []
        self._pending_keys: list[tuple[int, bool]] = []   # (pygame key, pressed)
        self._held_keys: set[int] = set()
        self.raw_keys = bool(raw_keys)
        self._screen: pygame.Surface | None = None
        self._size: tuple[int, int] | None = None
        self._heat: np.ndarray | None = None
        self._overlay_drawn = False
        self._surface: np.ndarray | None = None
        self._machine = None
        self._clock = pygame.time.Clock()
        self._share = deque(maxlen=60)
        self._frame_times = deque(maxlen=61)   # shown fps: frames over the last ~second
        self._title_at = 0.0
        self._idle_at = 0.0
        self._stopped = ""
        self._mode = ""
        self._open()

    # -- display set-up -------------------------------------------------------------------
    def _open(self) -> None:
        try:
            pygame.display.init()
        except pygame.error as e:
            raise FrontendError(f"cannot open a window ({e}); is DISPLAY set? use --headless "
                                "to run without one") from e
        driver = pygame.display.get_driver()
        if driver in NO_SCREEN_DRIVERS and os.environ.get("SDL_VIDEODRIVER") != driver:
            # SDL falls back to an invisible driver when it finds no display: say so rather
            # than run a window nobody can see.
            pygame.display.quit()
            raise FrontendError(f"no display to open a window on (SDL fell back to its "
                                f"{driver!r} driver; DISPLAY={os.environ.get('DISPLAY')!r}); "
                                "use --headless to run without one")

    def _resize(self, width: int, height: int) -> None:
        try:
            self._screen = pygame.display.set_mode((width * self.scale, height * self.scale))
        except pygame.error as e:
            raise FrontendError(f"cannot open a {width * self.scale}x{height * self.scale} window: {e}") from e
        self._size = (width, height)
        self._heat = np.zeros(height, dtype=np.float32)

    @property
    def window_id(self) -> int | None:
        """The X11 window id (for capturing the real window in tests), None elsewhere."""
        return pygame.display.get_wm_info().get("window") if self._screen is not None else None

    # -- FrameSink -------------------------------------------------------------------------
    def frame(self, machine, info) -> None:
        self._machine = machine
        surface = machine.vga.surface
        height, width = surface.shape[:2]
        switched = (width, height) != self._size
        if switched:
            self._resize(width, height)
        self._surface = surface
        stats = info.stats
        rects = [(0, 0, width, height)] if switched or stats.full else list(stats.rects)
        redrawn = lines_of_rects(rects, height)
        self._heat *= OVERLAY_DECAY
        self._heat[self._heat < OVERLAY_CUTOFF] = 0.0
        self._heat[redrawn] = 1.0
        self._share.append(int(stats.lines_redrawn) / height if height else 0.0)
        self._mode = describe_mode(stats, width, height)
        self._present(rects)
        self.frames += 1
        self._handle_events()
        while self.paused and not self.quit_requested:
            self._title(force=True)
            self._clock.tick(30)
            self._handle_events(wait_ms=100)
        if self.quit_requested:
            raise _guest_exit()("window closed")
        if self.fps:
            self._clock.tick(self.fps)
        else:
            self._clock.tick()
        self._frame_times.append(time.monotonic())
        if self._stopped:  # running again
            self._stopped = ""
            switched = True
        self._title(force=switched)

    def idle(self, machine) -> None:
        """The main loop's idle hook while the machine is stopped: pump events (expose
        redraws, F12, P, D work as usual), show the run state in the title, and turn Esc or
        the close button into ``request_quit`` so the run ends as it would while running.
        A window that has had no frame yet (a destination waiting for its stream) opens on
        the VGA's current surface."""
        now = time.monotonic()
        if now - self._idle_at < IDLE_INTERVAL_S:
            return
        self._idle_at = now
        self._machine = machine
        if self._screen is None:
            surface = machine.vga.surface
            height, width = surface.shape[:2]
            self._resize(width, height)
            self._surface = surface
            self._present([(0, 0, width, height)])
        state = machine.loop.runstate
        state = getattr(state, "value", state)
        stopped = STOPPED_TITLES.get(state, state) if state != "running" else ""
        changed = stopped != self._stopped
        self._stopped = stopped
        self._handle_events()
        self._title(force=changed)
        if self.quit_requested:
            machine.loop.request_quit()

    def keys(self) -> list[int]:
        """The keys pressed since the last call (scripted guests' ``guest.keys()``)."""
        return [k for k, down in self.key_events() if down]

    def key_events(self) -> list[tuple[int, bool]]:
        """Presses and releases since the last call, modifiers included, so a PC guest
        sees a key held as long as it is held in the window (make, then break code)."""
        self._handle_events()
        events, self._pending_keys = self._pending_keys, []
        return events

    def _hotkey(self, ev) -> bool:
        """Ctrl+Alt+key in raw-keys mode: the window's own keys; True when handled."""
        if not (ev.mod & pygame.KMOD_CTRL and ev.mod & pygame.KMOD_ALT):
            return False
        action = {pygame.K_q: "quit-key", pygame.K_s: "screenshot", pygame.K_p: "pause",
                  pygame.K_d: "overlay"}.get(ev.key)
        if action is None:
            return False
        self._window_key(action)
        return True

    def _window_key(self, action: str) -> None:
        """What the window's own keys do (plain in script mode, Ctrl+Alt+key in raw mode)."""
        if action in ("quit-key", "escape"):
            self.quit_requested = True
            self.quit_reason = self.quit_reason or action
        elif action == "screenshot":
            self.screenshot()
        elif action == "pause":
            self.paused = not self.paused
            self._title(force=True)
        elif action == "overlay":
            self.overlay = not self.overlay
            self.redraw()
            self._title(force=True)

    # -- drawing ---------------------------------------------------------------------------
    def _present(self, rects) -> None:
        """Copy the changed rectangles (or, with the overlay on, the tinted frame) to the window."""
        surface, screen, s = self._surface, self._screen, self.scale
        height, width = surface.shape[:2]
        if self.overlay or self._overlay_drawn:
            # The tint fades over several frames, so every line may change: redraw it all.
            self._overlay_drawn = self.overlay
            frame = self._tinted(surface) if self.overlay else surface
            self._blit(frame, 0, 0, width, height)
            pygame.display.update(pygame.Rect(0, 0, width * s, height * s))
            return
        if len(rects) > MAX_RECTS:
            # Text mode reports one rectangle per changed cell; past a few dozen, one blit per
            # band of changed scanlines costs less than one per cell.
            rects = line_bands(lines_of_rects(rects, height), width)
        dirty = []
        for x, y, w, h in rects:
            x0, y0 = max(int(x), 0), max(int(y), 0)
            x1, y1 = min(int(x) + int(w), width), min(int(y) + int(h), height)
            if x1 <= x0 or y1 <= y0:
                continue
            self._blit(surface[y0:y1, x0:x1], x0, y0, x1 - x0, y1 - y0)
            dirty.append(pygame.Rect(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s))
        if dirty:
            pygame.display.update(dirty)

    def _blit(self, pixels: np.ndarray, x: int, y: int, w: int, h: int) -> None:
        # One packing copy of the (strided) surface view; the Surface borrows that buffer,
        # which lives until the blit below is done.
        packed = np.ascontiguousarray(pixels)
        img = pygame.image.frombuffer(packed, (w, h), "RGB")
        if self.scale != 1:
            # pygame.transform.scale is nearest-neighbour: integer scaling keeps pixels square.
            img = pygame.transform.scale(img, (w * self.scale, h * self.scale))
        self._screen.blit(img, (x * self.scale, y * self.scale))

    def _tinted(self, surface: np.ndarray) -> np.ndarray:
        alpha = (self._heat * OVERLAY_ALPHA)[:, None, None]
        out = surface.astype(np.float32) * (1.0 - alpha) + OVERLAY_RGB * alpha
        return out.astype(np.uint8)

    def redraw(self) -> None:
        """Redraw the whole window from the last frame (after a pause, overlay change, expose)."""
        if self._surface is not None and self._screen is not None:
            h, w = self._surface.shape[:2]
            self._present([(0, 0, w, h)])

    def _title(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._title_at < 0.25:
            return
        self._title_at = now
        share = sum(self._share) / len(self._share) if self._share else 0.0
        times = self._frame_times
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        parts = [self.title, self._mode, f"{fps:.0f} fps",
                 f"{share:.0%} lines redrawn"]
        if self.overlay:
            parts.append("overlay")
        if self._stopped:
            parts.append(self._stopped)
        if self.paused:
            parts.append("PAUSED (P)")
        if self.guest_ended:
            parts.append("guest ended (Esc closes)")
        pygame.display.set_caption(" | ".join(p for p in parts if p))

    # -- input -----------------------------------------------------------------------------
    def _handle_events(self, wait_ms: int = 0) -> None:
        events = pygame.event.get()
        if not events and wait_ms:
            ev = pygame.event.wait(wait_ms)
            events = [ev] if ev.type != pygame.NOEVENT else []
        for ev in events:
            if ev.type == pygame.QUIT:
                self.quit_requested = True
                self.quit_reason = self.quit_reason or "window-closed"
            elif self.raw_keys and ev.type == pygame.KEYDOWN:
                if not self._hotkey(ev):
                    self._held_keys.add(ev.key)
                    self._pending_keys.append((ev.key, True))
            elif self.raw_keys and ev.type == pygame.KEYUP:
                if ev.key in self._held_keys:     # not the release of a window hotkey
                    self._held_keys.discard(ev.key)
                    self._pending_keys.append((ev.key, False))
            elif ev.type == pygame.KEYDOWN:
                action = {pygame.K_ESCAPE: "escape", pygame.K_F12: "screenshot",
                          pygame.K_p: "pause", pygame.K_d: "overlay"}.get(ev.key)
                if action is not None:
                    self._window_key(action)
                else:
                    self._held_keys.add(ev.key)
                    self._pending_keys.append((ev.key, True))
            elif ev.type == pygame.KEYUP:
                if ev.key in self._held_keys:   # not the release of Esc, F12, P, D
                    self._held_keys.discard(ev.key)
                    self._pending_keys.append((ev.key, False))
            elif ev.type in (pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE):
                self.redraw()

    def screenshot(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the current VGA frame (unscaled, without the overlay) as a PNG and say where."""
        if self._surface is None:
            return None
        if path is None:
            n = len(self.screenshots) + 1
            while (path := self.screenshot_dir / f"vgaemu-screenshot-{n:04d}.png").exists():
                n += 1
        written = write_png(path, self._surface).resolve()
        self.screenshots.append(written)
        print(f"vgaemu: screenshot written to {written}", file=self.log, flush=True)
        return written

    def hold(self) -> None:
        """Keep showing the last frame until Esc or the window is closed (the guest has ended);
        the title says so, so a still picture is not mistaken for a hung guest."""
        self.guest_ended = True
        self.raw_keys = False           # nobody to send keys to: Esc and the plain keys again
        self._title(force=True)
        while not self.quit_requested:
            self._handle_events(wait_ms=100)
            self._clock.tick(30)

    def close(self) -> None:
        self._screen = None
        self._size = None
        pygame.display.quit()


@dataclass(slots=True)
class WindowResult:
    """What a window run did: frames shown, whether the user quit, screenshots, runner result."""
    frames: int
    quit_by_user: bool
    screenshots: list[Path] = field(default_factory=list)
    run: Any = None


def run_window(machine, main, *, scale: int = 1, fps: float = 60.0, max_frames: int | None = None,
               hold: bool = True, screenshot_dir: str | os.PathLike = ".", overlay: bool = False,
               force_full: bool = False, on_ready=None) -> WindowResult:
    """Run ``main`` (a callable or guest script path) on ``machine`` in a pygame window.

    Stops after ``max_frames`` frames (None: when the guest returns or the user quits).  With
    ``hold``, a guest that returns by itself leaves its last frame on screen until Esc/close.
    ``on_ready(sink)`` is called after the run, before holding (tests capture the window there).
    """
    from vgaemu.guest import run_guest

    check_frames(max_frames, allow_none=True)
    main = load_main(main)
    sink = WindowSink(scale=scale, fps=fps, screenshot_dir=screenshot_dir, overlay=overlay)
    try:
        run = run_guest(machine, main, sink, max_frames=max_frames, force_full=force_full)
        if on_ready is not None:
            on_ready(sink)
        finished_alone = getattr(run, "stopped", "returned") == "returned"
        if hold and finished_alone and not sink.quit_requested and sink.frames:
            sink.hold()
        return WindowResult(sink.frames, sink.quit_requested, sink.screenshots, run)
    finally:
        sink.close()
