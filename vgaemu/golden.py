"""Golden-image comparison: exact, pixel by pixel, with a diff image for a human to look at.

A screenshot test compares an (H, W, 3) uint8 picture with a committed PNG. By default any
difference (size or a single pixel) is a failure; a tolerance (pixels, channel delta) is there
for users who want one. On failure the actual picture, the expected one, a diff (differing
pixels red over a dimmed grey copy of the golden, so the changed area stands out) and one
side-by-side image are written for a human to look at, and the message names the golden, the
count and share of differing pixels and their bounding box.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .vga.display import read_image, write_png


@dataclass(frozen=True, slots=True)
class GoldenResult:
    """The outcome of one comparison (or, with ``update``, of rewriting the golden)."""

    matches: bool
    differing_pixels: int
    actual_size: tuple[int, int]
    golden_size: tuple[int, int] | None
    actual_path: Path | None = None
    diff_path: Path | None = None
    golden_path: Path | None = None
    #: (x0, y0, x1, y1) of the differing pixels, inclusive; None when sizes differ or all match
    bbox: tuple[int, int, int, int] | None = None
    expected_path: Path | None = None
    side_by_side_path: Path | None = None
    max_delta: int = 0
    #: with update=True: "written" (new or changed) or "unchanged"
    update: str | None = None

    @property
    def share(self) -> float:
        total = self.actual_size[0] * self.actual_size[1]
        return self.differing_pixels / total if total else 0.0

    def message(self, name: str) -> str:
        where = f" ({self.golden_path})" if self.golden_path is not None else ""
        if self.matches:
            return f"{name}: matches{where}"
        if self.golden_size is None:
            return (f"{name}: no golden image{where} (run pytest --update-goldens to create it; "
                    f"actual written to {self.actual_path})")
        if self.golden_size != self.actual_size:
            return (f"{name}: size {self.actual_size[0]}x{self.actual_size[1]} differs from the "
                    f"golden {self.golden_size[0]}x{self.golden_size[1]}{where}; actual written to "
                    f"{self.actual_path}")
        x0, y0, x1, y1 = self.bbox or (0, 0, 0, 0)
        files = ", ".join(str(p) for p in (self.side_by_side_path, self.diff_path, self.actual_path,
                                           self.expected_path) if p is not None)
        return (f"{name}: {self.differing_pixels} pixels differ from the golden{where} "
                f"({self.share:.2%} of {self.actual_size[0]}x{self.actual_size[1]}, within "
                f"x {x0}..{x1}, y {y0}..{y1}; largest channel difference {self.max_delta}); "
                f"see {files}")


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


def difference_mask(actual: np.ndarray, golden: np.ndarray, max_channel_delta: int = 0) -> np.ndarray:
    """Pixels where some channel differs by more than ``max_channel_delta``."""
    delta = np.abs(actual.astype(np.int16) - golden.astype(np.int16)).max(axis=2)
    return delta > max_channel_delta


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), inclusive, of the True pixels of ``mask``."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def compare_with_golden(image, golden_path: str | os.PathLike, *,
                        actual_dir: str | os.PathLike | None = None,
                        update: bool = False, max_pixels: int = 0,
                        max_channel_delta: int = 0) -> GoldenResult:
    """Compare ``image`` with the PNG at ``golden_path``; exact by default.

    A pixel differs when one of its channels differs by more than ``max_channel_delta``; the
    comparison passes when at most ``max_pixels`` pixels differ. ``update`` rewrites the golden
    instead (only when it changed, so an unchanged file keeps its bytes and timestamp) and
    reports a match. On a mismatch ``actual_dir`` (default: ``failures/`` next to the golden)
    gets ``<name>.actual.png``, ``<name>.expected.png``, ``<name>.diff.png`` and
    ``<name>.side.png`` (expected | actual | diff).
    """
    for label, v in (("max_pixels", max_pixels), ("max_channel_delta", max_channel_delta)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{label} must be an integer >= 0, got {v!r}")
    actual = as_rgb(image)
    golden_path = Path(golden_path)
    size = (actual.shape[1], actual.shape[0])
    if update:
        old = read_image(str(golden_path)) if golden_path.is_file() else None
        if old is not None and old.shape == actual.shape and np.array_equal(old, actual):
            return GoldenResult(True, 0, size, size, golden_path=golden_path, update="unchanged")
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        write_png(str(golden_path), actual)
        return GoldenResult(True, 0, size, size, golden_path=golden_path, update="written")
    out_dir = Path(actual_dir) if actual_dir is not None else golden_path.parent / "failures"
    stem = golden_path.stem
    paths = {k: out_dir / f"{stem}.{k}.png" for k in ("actual", "expected", "diff", "side")}
    if not golden_path.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_png(str(paths["actual"]), actual)
        return GoldenResult(False, size[0] * size[1], size, None, paths["actual"], golden_path=golden_path)
    golden = read_image(str(golden_path))
    gsize = (golden.shape[1], golden.shape[0])
    if gsize != size:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_png(str(paths["actual"]), actual)
        return GoldenResult(False, count_differences(actual, golden), size, gsize, paths["actual"],
                            golden_path=golden_path)
    mask = difference_mask(actual, golden, max_channel_delta)
    n = int(np.count_nonzero(mask))
    if n <= max_pixels:
        for stale in paths.values():
            if stale.exists():
                stale.unlink()
        return GoldenResult(True, n, size, gsize, golden_path=golden_path)
    from vgaemu.compare import side_by_side_image

    out_dir.mkdir(parents=True, exist_ok=True)
    write_png(str(paths["actual"]), actual)
    write_png(str(paths["expected"]), golden)
    write_png(str(paths["diff"]), diff_image(actual, golden))
    write_png(str(paths["side"]), side_by_side_image(golden, actual))
    max_delta = int(np.abs(actual.astype(np.int16) - golden.astype(np.int16)).max())
    return GoldenResult(False, n, size, gsize, paths["actual"], paths["diff"], golden_path,
                        bounding_box(mask), paths["expected"], paths["side"], max_delta)
