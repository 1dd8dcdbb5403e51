"""Golden-image comparison: exact, pixel by pixel, with a diff image for a human to look at.

A screenshot test compares an (H, W, 3) uint8 picture with a committed PNG. Any difference
(size or a single pixel) is a failure; on failure the actual picture is written next to where
the test asked (``<name>.actual.png``) with ``<name>.diff.png`` beside it: differing pixels in
red over a dimmed grey copy of the golden, so the changed area stands out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .vga.display import read_image, write_png


@dataclass(frozen=True, slots=True)
class GoldenResult:
    """The outcome of one comparison."""

    matches: bool
    differing_pixels: int
    actual_size: tuple[int, int]
    golden_size: tuple[int, int] | None
    actual_path: Path | None = None
    diff_path: Path | None = None

    def message(self, name: str) -> str:
        if self.matches:
            return f"{name}: matches"
        if self.golden_size is None:
            return f"{name}: no golden image (run pytest --update-goldens to create it)"
        if self.golden_size != self.actual_size:
            return (f"{name}: size {self.actual_size[0]}x{self.actual_size[1]} differs from the "
                    f"golden {self.golden_size[0]}x{self.golden_size[1]}; actual written to "
                    f"{self.actual_path}")
        return (f"{name}: {self.differing_pixels} pixels differ from the golden; actual: "
                f"{self.actual_path}, diff: {self.diff_path}")


def as_rgb(image) -> np.ndarray:
    """Accept an (H, W, 3) uint8 array, an (H, W) uint32 XRGB array, or anything with a
    ``surface`` attribute (a VGADisplay, a VGA) -- and give a packed (H, W, 3) uint8 array."""
    surface = getattr(image, "surface", None)
    if surface is not None:
        image = surface
    a = np.asarray(image)
    if a.ndim == 2 and a.dtype == np.uint32:
        a = a.view(np.uint8).reshape(a.shape[0], a.shape[1], 4)[:, :, 2::-1]
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got shape {a.shape} dtype {a.dtype}")
    return np.ascontiguousarray(a)


def diff_image(actual: np.ndarray, golden: np.ndarray) -> np.ndarray:
    """Differing pixels red, the rest a dimmed grey of the golden."""
    grey = (golden.astype(np.uint16).sum(axis=2) // 6).astype(np.uint8)
    out = np.repeat(grey[:, :, None], 3, axis=2)
    mask = (actual != golden).any(axis=2)
    out[mask] = (255, 0, 0)
    return out


def count_differences(actual: np.ndarray, golden: np.ndarray) -> int:
    if actual.shape != golden.shape:
        return max(actual.shape[0] * actual.shape[1], golden.shape[0] * golden.shape[1])
    return int(np.count_nonzero((actual != golden).any(axis=2)))


def compare_with_golden(image, golden_path: str | os.PathLike, *,
                        actual_dir: str | os.PathLike | None = None,
                        update: bool = False) -> GoldenResult:
    """Compare ``image`` with the PNG at ``golden_path`` exactly.

    ``update`` rewrites the golden instead (and reports a match). On a mismatch the actual
    image and a diff image are written to ``actual_dir`` (default: next to the golden).
    """
    actual = as_rgb(image)
    golden_path = Path(golden_path)
    size = (actual.shape[1], actual.shape[0])
    if update:
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        write_png(str(golden_path), actual)
        return GoldenResult(True, 0, size, size)
    out_dir = Path(actual_dir) if actual_dir is not None else golden_path.parent
    stem = golden_path.stem
    actual_path = out_dir / f"{stem}.actual.png"
    diff_path = out_dir / f"{stem}.diff.png"
    if not golden_path.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_png(str(actual_path), actual)
        return GoldenResult(False, size[0] * size[1], size, None, actual_path)
    golden = read_image(str(golden_path))
    gsize = (golden.shape[1], golden.shape[0])
    n = count_differences(actual, golden)
    if n == 0:
        for stale in (actual_path, diff_path):
            if stale.exists():
                stale.unlink()
        return GoldenResult(True, 0, size, gsize)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_png(str(actual_path), actual)
    if gsize == size:
        write_png(str(diff_path), diff_image(actual, golden))
        return GoldenResult(False, n, size, gsize, actual_path, diff_path)
    return GoldenResult(False, n, size, gsize, actual_path)
