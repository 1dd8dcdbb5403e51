"""Small image helpers the front ends share: PNG files from the VGA surface and back, and the
few drawing primitives the profiler's plot and heat map need.

All of it runs without a pygame display (``pygame.image``, ``pygame.draw`` and
``pygame.font`` work on plain Surfaces with no video driver initialised), so the headless
front end and the profiler work on a machine with no X server and with SDL's dummy driver.
matplotlib would pull a large dependency into a package whose only job for it is two charts.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pygame  # noqa: E402


def surface_from_array(rgb: np.ndarray) -> pygame.Surface:
    """A 24-bit pygame Surface holding a copy of an H x W x 3 uint8 array (the VGA surface layout)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got shape {rgb.shape} dtype {rgb.dtype}")
    h, w = rgb.shape[:2]
    # frombuffer shares the bytes object; copy() detaches the Surface from it.
    return pygame.image.frombuffer(np.ascontiguousarray(rgb).tobytes(), (w, h), "RGB").copy()


def array_from_surface(surface: pygame.Surface) -> np.ndarray:
    """An H x W x 3 uint8 array of a Surface's pixels (pygame's surfarray is W x H: transposed here)."""
    return np.ascontiguousarray(pygame.surfarray.pixels3d(surface).transpose(1, 0, 2))


def save_surface(surface: pygame.Surface, path: str | os.PathLike) -> Path:
    """Write a Surface as an image file (PNG by extension), creating parent directories;
    a path that cannot be written is a FrontendError naming it (pygame's own error says
    only "Couldn't open").

    The file appears whole or not at all (written under a temporary name with the same
    extension, then renamed), so a run interrupted by Ctrl-C leaves no truncated image."""
    from vgaemu.frontends import FrontendError

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surface, str(tmp))
        os.replace(tmp, path)
    except OSError as e:
        raise FrontendError(f"cannot write {path}: {e.strerror or e}") from None
    except pygame.error as e:
        raise FrontendError(f"cannot write {path}: {e}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write an H x W x 3 uint8 array as a PNG, creating parent directories; return the path."""
    return save_surface(surface_from_array(rgb), path)


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an H x W x 3 uint8 array."""
    return array_from_surface(pygame.image.load(str(path)))


_fonts: dict[int, pygame.font.Font] = {}


def font(size: int) -> pygame.font.Font:
    """pygame's bundled default font (freesansbold.ttf): present wherever pygame is installed."""
    if not pygame.font.get_init():
        pygame.font.init()
    f = _fonts.get(size)
    if f is None:
        f = _fonts[size] = pygame.font.Font(None, size)
    return f


def draw_text(target: pygame.Surface, text: str, pos: tuple[int, int], *, size: int = 18,
              colour=(30, 30, 30), anchor: str = "topleft", angle: int = 0) -> pygame.Rect:
    """Blit anti-aliased text; ``anchor`` names the pygame.Rect attribute placed at ``pos``."""
    img = font(size).render(text, True, colour)
    if angle:
        img = pygame.transform.rotate(img, angle)
    rect = img.get_rect(**{anchor: pos})
    target.blit(img, rect)
    return rect


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = np.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(float(round(t, 12)))
        t += step
    return ticks


def format_tick(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"
