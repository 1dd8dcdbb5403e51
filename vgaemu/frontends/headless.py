"""The headless front end: runs a guest with no display at all and writes PNG screenshots.

Like v86's dummy screen adapter, it is one more listener on the VGA's narrow output interface
(the surface after each ``update_display``), so its pixels are the window's pixels: both copy
from ``machine.vga.surface`` and nothing else.  pygame (for PNG files) is imported when a
screenshot is written: a run that writes none starts without it (~0.1 s of a short run).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vgaemu.frontends import FrontendError, check_frames, load_main


class HeadlessSink:
    """A FrameSink that keeps the last frame and optionally writes every K-th one to a folder.

    Screenshots taken during the run are named after the frame index the runner reported
    (``frame-000042.png``), so a folder of them sorts in frame order.

    ``fps`` paces the run to that many frames per host second (a guest driven over QMP runs
    in real time, as in QEMU, instead of burning a core); None or 0 runs as fast as it can.
    """

    #: how far behind its schedule a paced run may fall before it stops catching up
    MAX_LAG = 0.25

    def __init__(self, *, screenshot_every: int | None = None,
                 screenshot_dir: str | os.PathLike | None = None,
                 on_frame: Callable[[Any, Any], None] | None = None,
                 fps: float | None = None) -> None:
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float))
                                or not fps >= 0):
            raise FrontendError(f"fps must be a number >= 0 (0 = unpaced), got {fps!r}")
        if screenshot_every is not None:
            if isinstance(screenshot_every, bool) or not isinstance(screenshot_every, int) \
                    or screenshot_every < 1:
                raise FrontendError(f"screenshot_every must be a positive frame count, got {screenshot_every!r}")
            if screenshot_dir is None:
                raise FrontendError("screenshot_every needs a screenshot_dir to write into")
        self.screenshot_every = screenshot_every
        self.screenshot_dir = Path(screenshot_dir) if screenshot_dir is not None else None
        self.on_frame = on_frame
        self.frames = 0
        self.last_index: int | None = None
        self.last_surface: np.ndarray | None = None
        self.screenshots: list[Path] = []
        self.period = 1.0 / fps if fps else 0.0
        self._due: float | None = None

    def _pace(self) -> None:
        """Sleep until this frame's slot; a run that fell behind (a stop, a slow frame)
        resumes from now rather than racing to make the lost time up."""
        now = time.monotonic()
        if self._due is None or now - self._due > self.MAX_LAG:
            self._due = now
        elif self._due > now:
            time.sleep(self._due - now)
        self._due += self.period

    def frame(self, machine, info) -> None:
        if self.period:
            self._pace()
        self.frames += 1
        self.last_index = info.index
        surface = machine.vga.surface
        self.last_surface = surface
        if self.screenshot_every and self.frames % self.screenshot_every == 0:
            from vgaemu.frontends.imaging import write_png

            path = self.screenshot_dir / f"frame-{info.index:06d}.png"
            self.screenshots.append(write_png(path, surface))
        if self.on_frame is not None:
            self.on_frame(machine, info)

    def keys(self) -> list[int]:
        return []

    def write_screenshot(self, path: str | os.PathLike) -> Path:
        """Write the last frame shown as a PNG."""
        if self.last_surface is None:
            raise FrontendError(f"no frame was displayed, so there is no screenshot to write to {path}")
        from vgaemu.frontends.imaging import write_png

        return write_png(path, self.last_surface)


@dataclass(slots=True)
class HeadlessResult:
    """What a headless run did: frames displayed, files written, and the runner's own result."""
    frames: int
    last_index: int | None
    screenshot: Path | None
    screenshots: list[Path] = field(default_factory=list)
    surface: np.ndarray | None = None
    run: Any = None


def run_headless(machine, main, *, frames: int | None, screenshot: str | os.PathLike | None = None,
                 screenshot_every: int | None = None, screenshot_dir: str | os.PathLike | None = None,
                 force_full: bool = False, progress: bool | None = None,
                 fps: float | None = None) -> HeadlessResult:
    """Run ``main`` (a callable or a guest script path) on ``machine`` for up to ``frames`` frames
    with no display; write the last frame to ``screenshot`` and every ``screenshot_every``-th
    frame into ``screenshot_dir``.  ``frames=None`` runs until the guest returns; ``fps``
    paces the run (default: as fast as it can).
    """
    from vgaemu.guest import run_guest
    from vgaemu.frontends.progress import Progress

    check_frames(frames, allow_none=True)
    main = load_main(main)
    bar = Progress(frames, "run", enabled=progress)
    sink = HeadlessSink(screenshot_every=screenshot_every, screenshot_dir=screenshot_dir,
                        on_frame=lambda m, info: bar.step(), fps=fps)
    try:
        run = run_guest(machine, main, sink, max_frames=frames, force_full=force_full)
    finally:
        bar.close()
    shot = sink.write_screenshot(screenshot) if screenshot is not None else None
    surface = None if sink.last_surface is None else sink.last_surface.copy()
    return HeadlessResult(sink.frames, sink.last_index, shot, sink.screenshots, surface, run)
