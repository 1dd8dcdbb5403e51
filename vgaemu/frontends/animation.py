"""Recording what the screen did as an animated GIF or APNG (Pillow does the encoding).

One more listener on the VGA's output: after each refresh it looks at the ``UpdateStats`` the
display loop reported, and a refresh that redrew nothing is skipped without touching the
pixels (dirty tracking already knows nothing changed); a refresh that redrew lines but left
the picture as it was is skipped too. Every kept frame lasts until the next kept frame, on
the machine's virtual clock (60 Hz frames, INT 15h waits), so the animation plays at the
guest's own speed.

Frames are kept as palette images (one byte per pixel): VGA modes have at most 256 colours,
so those are stored exactly. A frame with more colours (VBE 15/16/24/32 bpp) is kept as
zlib-compressed RGB: an APNG stores it exactly, a GIF (256 colours at most) gets it reduced by
Pillow's quantizer, and ``lossy_frames`` counts those. GIF stores durations in 1/100 s and
APNG in 1/1000 s; each frame's start is rounded to that unit, so the total time is exact to
one unit whatever the number of frames.

Pillow rather than our own encoder: it is a well-kept library that writes both formats and
every image viewer reads what it writes (pyproject.toml says the same).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from vgaemu.frontends import FrontendError

#: Formats by file suffix: Pillow format name, duration unit in milliseconds.
FORMATS = {".gif": ("GIF", 10), ".png": ("PNG", 1), ".apng": ("PNG", 1)}


def _pillow():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency; a broken env still gets a message
        raise FrontendError("recording GIF/APNG needs Pillow (pip install pillow)") from None
    return Image


def animation_format(path: str | os.PathLike, kind: str | None = None) -> tuple[str, int]:
    """(Pillow format, duration unit in ms) for ``path``; ``kind`` ('gif'/'apng') overrides
    the suffix. A suffix that does not fit is an error, before anything runs."""
    suffix = Path(path).suffix.lower()
    if kind == "gif" and suffix != ".gif":
        raise FrontendError(f"--gif {path}: expected a file name ending in .gif")
    if kind == "apng" and suffix not in (".png", ".apng"):
        raise FrontendError(f"--apng {path}: expected a file name ending in .png or .apng")
    if suffix not in FORMATS:
        raise FrontendError(f"{path}: cannot tell the animation format (use .gif, .png or .apng)")
    return FORMATS[suffix]


class AnimationRecorder:
    """Collects the changed frames of a run; ``save(path)`` writes them as GIF or APNG.

    ``frame(machine, info)`` has the FrameSink shape, so a runner can call it next to its
    front end (see ``TeeSink``); ``add(surface, time_ns, changed)`` is the same for callers
    that refresh the display themselves (``replay``)."""

    def __init__(self, *, scale: int = 1) -> None:
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 16:
            raise FrontendError(f"scale must be an integer from 1 to 16, got {scale!r}")
        self.scale = scale
        self.frames: list = []         # PIL palette images, or (shape, zlib RGB) beyond 256 colours
        self.times_ns: list[int] = []  # virtual time each kept frame appeared
        self.end_ns: int | None = None
        self.seen = 0
        self.skipped = 0
        self.lossy_frames = 0
        self._last: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def frame(self, machine, info) -> None:
        self.refresh(machine, info.stats)

    def refresh(self, machine, stats) -> None:
        """After ``vga.update_display()`` returned ``stats`` (None: unknown, compare pixels)."""
        changed = stats is None or stats.full or stats.resized or bool(stats.rects)
        self.add(machine.vga.surface, machine.clock.now_ns, changed=changed)

    def add(self, surface: np.ndarray, time_ns: int, *, changed: bool = True) -> bool:
        """Offer one refreshed frame; True when it was kept."""
        self.seen += 1
        self.end_ns = time_ns
        if self._last is not None and (not changed or (surface.shape == self._last.shape
                                                       and np.array_equal(surface, self._last))):
            self.skipped += 1
            return False
        rgb = np.array(surface, dtype=np.uint8, copy=True)
        self._last = rgb
        self.frames.append(self._palette_image(rgb))
        self.times_ns.append(time_ns)
        return True

    def _palette_image(self, rgb: np.ndarray):
        Image = _pillow()
        packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
        colours, index = np.unique(packed.ravel(), return_inverse=True)
        if colours.size > 256:
            return rgb.shape, zlib.compress(rgb.tobytes(), 1)
        img = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), "P")
        pal = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1)
        img.putpalette(pal.astype(np.uint8).tobytes())
        return img

    def durations_ms(self, unit_ms: int, frame_ns: int) -> list[int]:
        """Each kept frame's duration, its start rounded to ``unit_ms``; the last lasts until
        the run's last refresh, and at least one frame period."""
        if not self.frames:
            return []
        end = max(self.end_ns or 0, self.times_ns[-1]) + frame_ns
        starts = [*self.times_ns, end]
        ticks = [round(t / 1e6 / unit_ms) for t in starts]
        return [max(1, b - a) * unit_ms for a, b in zip(ticks, ticks[1:])]

    def save(self, path: str | os.PathLike, *, kind: str | None = None) -> Path:
        """Write the animation (loops forever); raises FrontendError with no frame to write."""
        from vgaemu.clock import FRAME_NS

        fmt, unit = animation_format(path, kind)
        if not self.frames:
            raise FrontendError(f"no frame was displayed, so there is no animation to write to {path}")
        Image = _pillow()
        frames = []
        self.lossy_frames = 0
        for f in self.frames:
            if isinstance(f, tuple):            # more than 256 colours: RGB, exact in APNG only
                shape, data = f
                f = Image.frombytes("RGB", (shape[1], shape[0]), zlib.decompress(data))
                if fmt == "GIF":
                    self.lossy_frames += 1
                    f = f.quantize(256, dither=Image.Dither.NONE)
            if self.scale > 1:
                f = f.resize((f.width * self.scale, f.height * self.scale), Image.Resampling.NEAREST)
            frames.append(f)
        # A mode change resizes the screen; both formats have one canvas (GIF crops a frame
        # larger than the first), so every frame is drawn top-left on the largest, black around.
        size = (max(f.width for f in frames), max(f.height for f in frames))
        for i, f in enumerate(frames):
            if f.size != size:
                canvas = Image.new("RGB", size, (0, 0, 0))
                canvas.paste(f.convert("RGB"), (0, 0))
                frames[i] = canvas.quantize(256, dither=Image.Dither.NONE) if fmt == "GIF" else canvas
        path = Path(path)
        durations = self.durations_ms(unit, FRAME_NS)
        # Pillow would otherwise merge frames it sees as equal; ours already differ.
        frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:],
                       duration=durations, loop=0, optimize=False,
                       **({"disposal": 1} if fmt == "GIF" else {"default_image": False}))
        return path


class TeeSink:
    """Hands every frame to a front end and to listeners (recorders); keys come from the
    front end."""

    def __init__(self, sink, *listeners) -> None:
        self.sink = sink
        self.listeners = listeners

    def frame(self, machine, info) -> None:
        self.sink.frame(machine, info)
        for listener in self.listeners:
            listener.frame(machine, info)

    def keys(self) -> list[int]:
        return self.sink.keys()

    def key_events(self) -> list:
        """The sink's presses and releases where it has them, else its presses."""
        events = getattr(self.sink, "key_events", None)
        return events() if events is not None else self.sink.keys()

    def __getattr__(self, name):
        return getattr(self.sink, name)
