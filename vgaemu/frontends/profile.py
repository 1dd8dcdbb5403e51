"""The redraw-cost profiler: what does dirty tracking save for a given guest?

It runs the guest on fresh machines as QEMU's display loop normally runs (redraw only the
scanlines whose VRAM pages are dirty in DIRTY_MEMORY_VGA) and forcing a full redraw every
frame (``run_guest(..., force_full=True)``, i.e. ``vga.invalidate()`` before each update, as
QEMU's ``full_update`` path).  Scripted guests are deterministic (virtual clock), so both kinds
draw the same frames and the difference is the cost of redrawing what did not change.

Host timings are noisy (other processes, GC pauses, CPU frequency), and one run of each kind
can show "time saved" anywhere from +40 % to -30 % for a guest where tracking saves nothing.
So each kind runs ``repeat`` times, alternated (tracked, full, full, tracked, ...: drift in the
host's speed hits both alike), every frame's time is the median over the runs, and the
headline says how far apart the runs of one kind were: a difference smaller than that is
reported as within the noise rather than as a saving. The work saved (lines, bytes converted)
does not depend on the host and is exact.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from vgaemu.frontends import FrontendError, check_frames, load_main
from vgaemu.frontends.imaging import draw_text, format_tick, nice_ticks, pygame
from vgaemu.frontends.progress import Progress
from vgaemu.frontends.window import lines_of_rects

RUNS = ("tracked", "full")
RUN_LABELS = {"tracked": "dirty tracking", "full": "full redraw every frame"}
RUN_COLOURS = {"tracked": (31, 119, 180), "full": (230, 110, 20)}


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One display update as the VGA reported it."""
    index: int
    full: bool
    lines_redrawn: int
    dirty_pages: int
    bytes_converted: int
    update_seconds: float
    width: int
    height: int
    #: the CPU's counters over this frame (CPUCounters.last_frame): guest instructions, TBs
    #: translated / invalidated, SMC events, NOTDIRTY writes, TBs executed
    instructions: int = 0
    tbs_translated: int = 0
    tbs_invalidated: int = 0
    smc_events: int = 0
    notdirty_writes: int = 0
    tbs_executed: int = 0


@dataclass(slots=True, repr=False)
class RunProfile:
    """The frames of one kind of run plus which scanlines each frame redrew (rows: frames).

    ``samples`` holds each repeated run's per-frame update seconds; a frame's
    ``update_seconds`` is their median."""
    name: str
    frames: list[FrameRecord] = field(default_factory=list)
    lines: list[np.ndarray] = field(default_factory=list)
    samples: list[np.ndarray] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"<RunProfile {self.name}: {len(self.frames)} frames x {max(len(self.samples), 1)} runs, "
                f"{sum(f.update_seconds for f in self.frames) * 1e3:.2f} ms>")

    def sample_matrix(self) -> np.ndarray:
        """runs x frames seconds (one row, the frames' own times, when no samples were kept)."""
        if self.samples:
            return np.vstack(self.samples)
        return np.array([[f.update_seconds for f in self.frames]], dtype=np.float64).reshape(1, -1)

    def run_totals(self) -> list[float]:
        """Total update seconds of each repeated run."""
        return [float(v) for v in self.sample_matrix().sum(axis=1)]

    def add_samples(self, seconds) -> None:
        """One more run's per-frame seconds; the frames' times become the medians so far."""
        seconds = np.asarray(seconds, dtype=np.float64)
        if seconds.shape != (len(self.frames),):
            raise FrontendError(f"{self.name}: a repeated run drew {seconds.size} frames, the first "
                                f"{len(self.frames)}; the guest is not deterministic")
        if not self.samples:
            self.samples.append(np.array([f.update_seconds for f in self.frames], dtype=np.float64))
        self.samples.append(seconds)
        med = np.median(np.vstack(self.samples), axis=0)
        self.frames = [replace(f, update_seconds=float(m)) for f, m in zip(self.frames, med)]

    def totals(self) -> dict:
        f = self.frames
        per_frame = np.array([r.update_seconds for r in f], dtype=np.float64)
        q1, q3 = (np.percentile(per_frame, [25, 75]) if f else (0.0, 0.0))
        runs = self.run_totals() if f else []
        return {
            "frames": len(f),
            "full_frames": sum(r.full for r in f),
            "lines_redrawn": sum(r.lines_redrawn for r in f),
            "dirty_pages": sum(r.dirty_pages for r in f),
            "bytes_converted": sum(r.bytes_converted for r in f),
            "instructions": sum(r.instructions for r in f),
            "tbs_translated": sum(r.tbs_translated for r in f),
            "tbs_executed": sum(r.tbs_executed for r in f),
            "tbs_invalidated": sum(r.tbs_invalidated for r in f),
            "smc_events": sum(r.smc_events for r in f),
            # the sum of the per-frame medians: a spike in one run does not move it
            "update_seconds": float(per_frame.sum()),
            # robust against host noise (GC pauses, cold caches) that the sum includes
            "median_update_seconds": float(np.median(per_frame)) if f else 0.0,
            "q1_update_seconds": float(q1),
            "q3_update_seconds": float(q3),
            "runs": len(runs),
            "run_update_seconds": runs,
        }

    def line_matrix(self, height: int | None = None) -> np.ndarray:
        """frames x scanlines bool matrix (rows past a frame's own height are False)."""
        height = height or max((len(l) for l in self.lines), default=0)
        m = np.zeros((len(self.lines), height), dtype=bool)
        for i, l in enumerate(self.lines):
            m[i, :len(l)] = l[:height]
        return m


#: A frame-by-frame split of faster/slower this unlikely by chance counts as a real difference.
SIGNIFICANCE = 0.01


def sign_test(wins: int, losses: int) -> float:
    """Two-sided sign test: the chance of a split at least this lopsided if either side were
    equally likely to be faster in each frame (exact binomial; big integers, no overflow)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1))
    return min(1.0, 2 * tail / 2 ** n)


class _TimingSink:
    """A repeated run: only the per-frame update times (the work is the first run's)."""

    def __init__(self, progress: Progress) -> None:
        self.seconds: list[float] = []
        self.progress = progress

    def frame(self, machine, info) -> None:
        self.seconds.append(float(info.update_seconds))
        self.progress.step()

    def keys(self) -> list[int]:
        return []


class _ProfileSink:
    def __init__(self, run: RunProfile, progress: Progress) -> None:
        self.run = run
        self.progress = progress

    def frame(self, machine, info) -> None:
        st = info.stats
        height, width = machine.vga.surface.shape[:2]
        cpu = getattr(machine, "cpu", None)
        c = cpu.counters.last_frame if cpu is not None else None
        cpu_cols = (c.instructions, c.tbs_translated, c.tbs_invalidated, c.smc_events,
                    c.notdirty_writes, c.tbs_executed) if c is not None else ()
        self.run.frames.append(FrameRecord(int(info.index), bool(st.full), int(st.lines_redrawn),
                                           int(st.dirty_pages), int(st.bytes_converted),
                                           float(info.update_seconds), int(width), int(height),
                                           *cpu_cols))
        rects = [(0, 0, width, height)] if st.full else st.rects
        self.run.lines.append(lines_of_rects(rects, height))
        self.progress.step()

    def keys(self) -> list[int]:
        return []


@dataclass(slots=True, repr=False)
class ProfileReport:
    """Per-frame redraw cost of both kinds of run, their totals, and what tracking saved."""
    script: str
    tracked: RunProfile
    full: RunProfile

    def __repr__(self) -> str:
        t = self.totals()
        return (f"<ProfileReport {self.script}: {self.frames} frames x {t['tracked']['runs']} runs, "
                f"time saved {t['time_saved_ratio']:.0%}{' (within the noise)' if t['within_noise'] else ''}, "
                f"lines saved {t['lines_saved_ratio']:.0%}>")

    def _repr_png_(self) -> bytes:
        """Jupyter shows a report as its plot."""
        return _png_bytes(render_plot(self))

    @property
    def frames(self) -> int:
        return len(self.tracked.frames)

    def totals(self) -> dict:
        """Totals of both kinds (sums of per-frame medians), the time saved, the range of
        single pairs of runs, and whether the difference is larger than the noise."""
        t, f = self.tracked.totals(), self.full.totals()
        ts, fs = t["update_seconds"], f["update_seconds"]
        # Every tracked run against every full run: the savings a single pair of runs could
        # have shown on its own (raw totals, spikes included) -- what one-run profilers report.
        pairs = [1.0 - a / b for a in t["run_update_seconds"] for b in f["run_update_seconds"] if b > 0]
        # The noise: how far apart runs of one kind were; a difference below it means nothing.
        spread = [max(r) - min(r) for r in (t["run_update_seconds"], f["run_update_seconds"]) if len(r) > 1]
        noise = max(spread) if spread else None
        diff = fs - ts
        # Frame by frame (each frame's median over the runs): in how many was tracking faster?
        # A sign test says whether that split could be chance, whatever the spikes' sizes.
        d = (np.array([r.update_seconds for r in self.full.frames]) -
             np.array([r.update_seconds for r in self.tracked.frames]))
        faster, slower = int((d > 0).sum()), int((d < 0).sum())
        p = sign_test(faster, slower)
        return {
            "tracked": t,
            "full": f,
            "time_saved_ratio": (1.0 - ts / fs) if fs > 0 else 0.0,
            "time_saved_range": [min(pairs), max(pairs)] if pairs else None,
            "time_difference_seconds": diff,
            "noise_seconds": noise,
            # one run of each kind gives no noise estimate: say so rather than guess
            "frames_tracked_faster": faster,
            "frames_tracked_slower": slower,
            "sign_test_p": p,
            # a difference only when the frames agree: host spikes hit single frames of single
            # runs, which the per-frame medians and the sign test both shrug off
            "within_noise": bool(p >= SIGNIFICANCE),
            "speedup": (fs / ts) if ts > 0 else None,
            "lines_saved_ratio": (1.0 - t["lines_redrawn"] / f["lines_redrawn"]) if f["lines_redrawn"] else 0.0,
            "bytes_saved_ratio": (1.0 - t["bytes_converted"] / f["bytes_converted"])
            if f["bytes_converted"] else 0.0,
        }

    def verdict(self) -> str:
        """The headline in words."""
        t = self.totals()
        saved = t["time_saved_ratio"]
        rng = t["time_saved_range"]
        n = t["frames_tracked_faster"] + t["frames_tracked_slower"]
        frames = f"tracking faster in {t['frames_tracked_faster']} of {n} frames, p = {t['sign_test_p']:.2g}"
        runs = (f"; single pairs of runs alone: {rng[0]:+.0%} to {rng[1]:+.0%}"
                if rng and t["tracked"]["runs"] > 1 else "")
        if t["within_noise"]:
            return f"time saved {saved:+.1%} ({frames}): within the noise -- no measurable difference{runs}"
        return f"time saved {saved:+.1%} ({frames}), speed-up {t['speedup']:.1f}x: larger than the noise{runs}"

    @property
    def time_saved_ratio(self) -> float:
        return self.totals()["time_saved_ratio"]

    def to_dict(self) -> dict:
        """The summary's numbers (``totals``, ``verdict``) and every frame: ``update_seconds``
        is the median over the runs, ``update_seconds_runs`` each run's time."""
        def frames(r: RunProfile) -> list[dict]:
            m = r.sample_matrix()
            return [{**asdict(fr), "update_seconds_runs": [float(v) for v in m[:, i]]}
                    for i, fr in enumerate(r.frames)]

        return {
            "script": self.script,
            "frames": self.frames,
            "totals": self.totals(),
            "verdict": self.verdict(),
            "runs": {r.name: frames(r) for r in (self.tracked, self.full)},
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    CSV_FIELDS = ("run", "frame", "full", "lines_redrawn", "dirty_pages", "bytes_converted",
                  "update_seconds", "update_seconds_min", "update_seconds_max", "width", "height",
                  "instructions", "tbs_translated", "tbs_executed", "tbs_invalidated", "smc_events",
                  "notdirty_writes")

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """One row per frame and run (long format: filter on ``run`` to compare)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.CSV_FIELDS)
        for run in (self.tracked, self.full):
            m = run.sample_matrix()
            lo, hi = (m.min(axis=0), m.max(axis=0)) if m.size else ([], [])
            for r, a, b in zip(run.frames, lo, hi):
                w.writerow([run.name, r.index, int(r.full), r.lines_redrawn, r.dirty_pages,
                            r.bytes_converted, f"{r.update_seconds:.9f}", f"{a:.9f}", f"{b:.9f}",
                            r.width, r.height, r.instructions, r.tbs_translated, r.tbs_executed,
                            r.tbs_invalidated, r.smc_events, r.notdirty_writes])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def summary(self) -> str:
        t = self.totals()
        runs = t["tracked"]["runs"]
        how = (f"{runs} runs of each kind, alternated; per-frame medians over them" if runs > 1
               else "one run of each kind")
        lines = [f"{self.script}: {self.frames} frames ({how})"]
        for name in RUNS:
            r = t[name]
            lines.append(f"  {RUN_LABELS[name] + ':':<25} {r['update_seconds'] * 1e3:8.2f} ms (sum of medians), "
                         f"{r['median_update_seconds'] * 1e3:.3f} ms median per frame "
                         f"(middle half {r['q1_update_seconds'] * 1e3:.3f}-{r['q3_update_seconds'] * 1e3:.3f}), "
                         f"{r['lines_redrawn']} lines, {r['bytes_converted']} bytes converted")
        lines.append(f"  work saved: {t['lines_saved_ratio']:.1%} of lines, "
                     f"{t['bytes_saved_ratio']:.1%} of bytes converted "
                     f"({t['tracked']['full_frames']} full frames with tracking)")
        tr = t["tracked"]
        if tr["instructions"]:
            lines.append(f"  CPU (tracked run): {tr['instructions']} instructions, "
                         f"{tr['tbs_translated']} TBs translated, {tr['tbs_executed']} executed, "
                         f"{tr['tbs_invalidated']} invalidated, {tr['smc_events']} SMC events")
        lines.append(f"  {self.verdict()}")
        return "\n".join(lines)

    def frame_table(self, run: str = "tracked") -> str:
        """The per-frame numbers of one kind of run as a text table: the redraw (lines, dirty
        pages, update time) next to what the CPU did in that frame."""
        rp = self.tracked if run == "tracked" else self.full
        head = (f"{'frame':>6} {'full':>4} {'lines':>5} {'pages':>5} {'update ms':>9} "
                f"{'insns':>9} {'TBs new':>7} {'TBs run':>8} {'TBs inv':>7} {'SMC':>5}")
        rows = [head]
        for r in rp.frames:
            rows.append(f"{r.index:>6} {'yes' if r.full else '':>4} {r.lines_redrawn:>5} {r.dirty_pages:>5} "
                        f"{r.update_seconds * 1e3:>9.3f} {r.instructions:>9} {r.tbs_translated:>7} "
                        f"{r.tbs_executed:>8} {r.tbs_invalidated:>7} {r.smc_events:>5}")
        return "\n".join(rows)

    def write_plot(self, path: str | os.PathLike) -> Path:
        return _save(render_plot(self), path)

    def write_heatmap(self, path: str | os.PathLike) -> Path:
        return _save(render_heatmap(self), path)


def profile(script_or_main, *, frames: int, repeat: int = 3,
            machine_factory: Callable[[], object] | None = None,
            progress: bool | None = None, name: str | None = None, **machine_options) -> ProfileReport:
    """Run a guest for ``frames`` frames with dirty tracking and with a full redraw every
    frame, ``repeat`` times each, alternated, each run on a fresh machine
    (``machine_factory()`` or ``Machine(**machine_options)``)."""
    check_frames(frames)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise FrontendError(f"repeat must be a positive integer, got {repeat!r}")
    if machine_factory is not None and machine_options:
        raise FrontendError(f"give machine_factory or machine options, not both "
                            f"(got options {sorted(machine_options)})")
    if machine_factory is None:
        from vgaemu.machine import Machine

        def machine_factory():
            return Machine(**machine_options)

    if name is None:
        name = (str(script_or_main) if isinstance(script_or_main, (str, os.PathLike))
                else getattr(script_or_main, "__name__", "guest"))
    run = _runner(script_or_main, machine_factory)
    # The first frames in a process pay one-off costs (numpy's first calls, lazily built
    # tables) that would be charged to whichever run came first: a short warm-up run of the
    # same guest, not measured, takes them.
    run(_NullSink(), min(frames, 2), False)
    runs = {name: RunProfile(name) for name in RUNS}
    for i in range(repeat):
        # ABBA order: tracked, full, full, tracked, ... so slow drift costs both kinds alike
        for run_name in (RUNS if i % 2 == 0 else RUNS[::-1]):
            label = f"profile {RUN_LABELS[run_name]:<24}" + (f" {i + 1}/{repeat}" if repeat > 1 else "")
            bar = Progress(frames, label, enabled=progress)
            rp = runs[run_name]
            sink = _ProfileSink(rp, bar) if i == 0 else _TimingSink(bar)
            try:
                run(sink, frames, run_name == "full")
            finally:
                bar.close()
            if i > 0:
                rp.add_samples(sink.seconds)
    return ProfileReport(name, runs["tracked"], runs["full"])


class _NullSink:
    def frame(self, machine, info) -> None:
        pass

    def keys(self) -> list[int]:
        return []


def _runner(script_or_main, machine_factory):
    """``run(sink, frames, force_full)`` on a fresh machine: a guest script or main through
    ``run_guest``, or a PC program (a boot image, a .COM file, a ``PCProgram``) booted on
    the PC platform."""
    from vgaemu.pc.program import PCProgram, as_program, is_program_path

    if isinstance(script_or_main, PCProgram) or is_program_path(script_or_main):
        program = as_program(script_or_main)

        def run(sink, frames, force_full):
            program.run(sink, frames, machine=machine_factory(), force_full=force_full)
        return run

    from vgaemu.guest import run_guest

    load_main(script_or_main)   # a broken script fails once, before any run

    def run(sink, frames, force_full):
        run_guest(machine_factory(), load_main(script_or_main), sink, max_frames=frames,
                  force_full=force_full)
    return run


# -- pictures ---------------------------------------------------------------------------------
WHITE, INK, GRID, FRAME_GREY = (255, 255, 255), (30, 30, 30), (225, 225, 225), (120, 120, 120)


def _png_bytes(surface: pygame.Surface) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "plot.png"
        pygame.image.save(surface, str(p))
        return p.read_bytes()


def _save(surface: pygame.Surface, path) -> Path:
    from vgaemu.frontends.imaging import save_surface

    return save_surface(surface, path)


def _axes(canvas, area: pygame.Rect, xmax: float, ymax: float, xlabel: str, ylabel: str,
          *, grid: bool = True, xmin: float = 0.0):
    """Draw ticks, labels and a frame around ``area``; return value->pixel mappers."""
    def px(x):
        return area.left + (np.asarray(x, dtype=np.float64) - xmin) / ((xmax - xmin) or 1) * (area.width - 1)

    def py(y):
        return area.bottom - 1 - np.asarray(y, dtype=np.float64) / (ymax or 1) * (area.height - 1)

    for t in nice_ticks(0, ymax, 5):
        y = int(round(float(py(t))))
        if grid:
            pygame.draw.line(canvas, GRID, (area.left, y), (area.right - 1, y))
        pygame.draw.line(canvas, INK, (area.left - 5, y), (area.left, y))
        draw_text(canvas, format_tick(t), (area.left - 8, y), size=16, anchor="midright")
    for t in nice_ticks(xmin, xmax, 8):
        x = int(round(float(px(t))))
        pygame.draw.line(canvas, INK, (x, area.bottom), (x, area.bottom + 5))
        draw_text(canvas, format_tick(t), (x, area.bottom + 8), size=16, anchor="midtop")
    pygame.draw.rect(canvas, INK, area.inflate(2, 2), 1)
    draw_text(canvas, xlabel, (area.centerx, area.bottom + 28), size=18, anchor="midtop")
    draw_text(canvas, ylabel, (area.left - 52, area.centery), size=18, anchor="center", angle=90)
    return px, py


def render_plot(report: ProfileReport, size: tuple[int, int] = (960, 480)) -> pygame.Surface:
    """Per-frame update time of both runs: two coloured series over frames, with a legend."""
    canvas = pygame.Surface(size)
    canvas.fill(WHITE)
    area = pygame.Rect(80, 90, size[0] - 110, size[1] - 160)
    series = {name: np.array([f.update_seconds * 1e3 for f in r.frames], dtype=np.float64)
              for name, r in (("tracked", report.tracked), ("full", report.full))}
    n = report.frames
    xs = {name: np.array([f.index for f in r.frames], dtype=np.float64)
          for name, r in (("tracked", report.tracked), ("full", report.full))}
    bands = {name: r.sample_matrix() * 1e3 for name, r in (("tracked", report.tracked), ("full", report.full))}
    allys = np.concatenate([s for s in series.values() if len(s)] or [np.zeros(1)])
    peak = float(allys.max())
    # Host timing has outliers (the first frame's caches, a GC pause) that would flatten the
    # rest: scale to the bulk of the medians (a spike in one run does not move a median) and
    # mark what lies above.
    bulk = float(np.percentile(allys, 75)) * 4
    ymax = (min(peak, bulk) if bulk > 0 else peak) * 1.08 or 1.0
    ymax = max(ymax, nice_ticks(0, ymax, 5)[-1])
    xall = np.concatenate([x for x in xs.values() if len(x)] or [np.zeros(1)])
    xmin, xmax = float(xall.min()), float(xall.max())
    if xmax <= xmin:
        xmax = xmin + 1
    px, py = _axes(canvas, area, xmax, ymax, "frame", "update time (ms)", xmin=xmin)
    canvas.set_clip(area)
    for name in ("full", "tracked"):      # the spread over the runs: a pale band per kind
        m = bands[name]
        if m.shape[0] < 2 or m.shape[1] < 2:
            continue
        lo, hi = np.minimum(m.min(axis=0), ymax), np.minimum(m.max(axis=0), ymax)
        x = px(xs[name])
        poly = np.concatenate([np.stack([x, py(hi)], 1), np.stack([x[::-1], py(lo[::-1])], 1)])
        band = pygame.Surface(size, pygame.SRCALPHA)
        pygame.draw.polygon(band, (*RUN_COLOURS[name], 45), poly.tolist())
        canvas.blit(band, (0, 0))
    for name in ("full", "tracked"):
        ys = series[name]
        if len(ys) == 0:
            continue
        pts = np.stack([px(xs[name]), py(np.minimum(ys, ymax))], axis=1)
        if len(pts) == 1:
            pygame.draw.circle(canvas, RUN_COLOURS[name], pts[0], 3)
        else:
            pygame.draw.aalines(canvas, RUN_COLOURS[name], False, pts.tolist())
            pygame.draw.lines(canvas, RUN_COLOURS[name], False, pts.tolist(), 2)
        for x in pts[ys > ymax, 0]:    # off-scale frames: a small triangle at the top edge
            pygame.draw.polygon(canvas, RUN_COLOURS[name],
                                [(x - 5, area.top + 9), (x + 5, area.top + 9), (x, area.top + 1)])
    canvas.set_clip(None)
    t = report.totals()
    draw_text(canvas, f"Per-frame display update cost: {report.script}", (area.left, 14), size=24)
    runs = t["tracked"]["runs"]
    how = f"median of {runs} runs, band: their range" if runs > 1 else "one run each"
    draw_text(canvas, f"{n} frames, {how}", (area.left, 42), size=17, colour=FRAME_GREY)
    draw_text(canvas, report.verdict(), (area.left, 62), size=17,
              colour=(150, 40, 40) if t["within_noise"] else (30, 110, 30))
    above = int((allys > ymax).sum())
    if above:
        draw_text(canvas, f"{above} frame{'s' if above > 1 else ''} above the scale (max {peak:.2f} ms)",
                  (area.right, area.bottom + 28), size=16, colour=FRAME_GREY, anchor="topright")
    # Legend, top right inside the plot area.
    lx, ly = area.right - 260, area.top + 10
    box = pygame.Rect(lx - 8, ly - 6, 256, 50)
    pygame.draw.rect(canvas, WHITE, box)
    pygame.draw.rect(canvas, FRAME_GREY, box, 1)
    for i, name in enumerate(("tracked", "full")):
        y = ly + 8 + i * 20
        pygame.draw.line(canvas, RUN_COLOURS[name], (lx, y), (lx + 28, y), 3)
        total_ms = t[name]["update_seconds"] * 1e3
        draw_text(canvas, f"{RUN_LABELS[name]} ({total_ms:.1f} ms)", (lx + 36, y), size=17, anchor="midleft")
    return canvas


HEAT_OFF = np.array([245, 245, 240], dtype=np.float32)
HEAT_ON = np.array([200, 30, 30], dtype=np.float32)
HEAT_FULL = np.array([120, 0, 60], dtype=np.float32)
HEAT_NONE = np.array([205, 205, 205], dtype=np.float32)


def _fit(mat: np.ndarray, pw: int, ph: int, line_pool) -> np.ndarray:
    """Resample a frames x lines matrix to ph x pw pixels: frames binned by their mean (share of
    frames in a bin), lines pooled with ``line_pool`` so a single redrawn line stays visible."""
    n_frames, n_lines = mat.shape
    if n_frames > pw:
        edges = np.linspace(0, n_frames, pw + 1).astype(int)
        cs = np.concatenate([np.zeros((1, n_lines)), np.cumsum(mat, axis=0)])
        cols = (cs[edges[1:]] - cs[edges[:-1]]) / np.maximum(edges[1:] - edges[:-1], 1)[:, None]
    else:
        cols = mat[(np.arange(pw) * n_frames) // pw]
    if n_lines > ph:
        starts = np.linspace(0, n_lines, ph + 1).astype(int)[:-1]
        rows = line_pool.reduceat(cols, starts, axis=1)
    else:
        rows = cols[:, (np.arange(ph) * n_lines) // ph]
    return rows.T


def render_heatmap(report: ProfileReport, run: str = "tracked", *, max_plot: tuple[int, int] = (900, 600)
                   ) -> pygame.Surface:
    """Which scanlines (y) each frame (x) redrew in the tracked run: red = redrawn, dark
    magenta = a full update (mode set, palette change), pale = left alone."""
    rp = report.tracked if run == "tracked" else report.full
    m = rp.line_matrix()                      # frames x lines
    n_frames, n_lines = m.shape if m.size else (max(len(rp.frames), 1), 1)
    if m.size == 0:
        m = np.zeros((n_frames, n_lines), dtype=bool)
    full = np.array([f.full for f in rp.frames] or [False], dtype=bool)[:n_frames]
    # Fit the matrix into the plot area: repeat small sizes, bin large ones.
    pw = max(min(max_plot[0], n_frames * max(1, 600 // n_frames)), 200)
    ph = max(min(max_plot[1], n_lines * max(1, 400 // max(n_lines, 1))), 100)
    heights = np.array([f.height for f in rp.frames] or [n_lines])[:n_frames]
    offscreen = np.arange(n_lines)[None, :] >= heights[:, None]      # lines the mode lacks
    v = np.sqrt(_fit(m.astype(np.float32), pw, ph, np.maximum))  # make sparse bins visible
    colfull = _fit(full.astype(np.float32)[:, None], pw, 1, np.maximum)[0]
    off = _fit(offscreen.astype(np.float32), pw, ph, np.minimum)
    rgb = HEAT_OFF + (HEAT_ON - HEAT_OFF) * v[..., None]
    rgb = rgb + (HEAT_FULL - HEAT_ON) * (colfull[None, :, None] * v[..., None])
    rgb = rgb + (HEAT_NONE - rgb) * off[..., None]
    image = pygame.image.frombuffer(np.ascontiguousarray(rgb.astype(np.uint8)).tobytes(), (pw, ph), "RGB")

    size = (pw + 130, ph + 130)
    canvas = pygame.Surface(size)
    canvas.fill(WHITE)
    area = pygame.Rect(80, 60, pw, ph)
    canvas.blit(image, area)
    # Scanline 0 is the top of the screen, so the y axis runs downwards as on the display.
    for t in nice_ticks(0, n_lines - 1, 6):
        y = area.top + int(t * ph / n_lines)
        pygame.draw.line(canvas, INK, (area.left - 5, y), (area.left, y))
        draw_text(canvas, format_tick(t), (area.left - 8, y), size=16, anchor="midright")
    for t in nice_ticks(0, n_frames - 1, 8):
        x = area.left + int(t * pw / n_frames)
        pygame.draw.line(canvas, INK, (x, area.bottom), (x, area.bottom + 5))
        draw_text(canvas, format_tick(t), (x, area.bottom + 8), size=16, anchor="midtop")
    pygame.draw.rect(canvas, INK, area.inflate(2, 2), 1)
    draw_text(canvas, "frame", (area.centerx, area.bottom + 28), size=18, anchor="midtop")
    draw_text(canvas, "scanline", (area.left - 52, area.centery), size=18, anchor="center", angle=90)
    t = rp.totals()
    share = t["lines_redrawn"] / max(sum(f.height for f in rp.frames), 1)
    draw_text(canvas, f"Scanlines redrawn per frame ({RUN_LABELS[rp.name]}): {report.script}",
              (area.left, 12), size=22)
    draw_text(canvas, f"{len(rp.frames)} frames, {share:.1%} of lines redrawn, "
                      f"{t['full_frames']} full updates", (area.left, 36), size=17, colour=FRAME_GREY)
    # Legend under the x label.
    y = area.bottom + 56
    x = area.left
    for label, c in (("redrawn", HEAT_ON), ("full update", HEAT_FULL), ("unchanged", HEAT_OFF),
                     ("not in this mode", HEAT_NONE)):
        sw = pygame.Rect(x, y, 14, 14)
        pygame.draw.rect(canvas, tuple(int(v) for v in c), sw)
        pygame.draw.rect(canvas, FRAME_GREY, sw, 1)
        r = draw_text(canvas, label, (x + 20, y + 7), size=16, anchor="midleft")
        x = r.right + 18
    return canvas
