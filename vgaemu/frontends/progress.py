"""A one-line progress bar on stderr for long runs (profiling two passes of many frames).

Drawn only when stderr is a terminal or when asked for explicitly, so logs and CI output
stay free of carriage-return noise.
"""

from __future__ import annotations

import sys
import time


class Progress:
    WIDTH = 30

    def __init__(self, total: int | None, label: str, *, enabled: bool | None = None,
                 stream=None, min_interval: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = total
        self.label = label
        self.count = 0
        self.min_interval = min_interval
        self._last = 0.0
        self._drawn = False

    def step(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.min_interval or self.count == self.total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            done = min(self.count / self.total, 1.0)
            filled = int(done * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"\r{self.label} [{bar}] {self.count}/{self.total} frames"
        else:
            line = f"\r{self.label} {self.count} frames"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
