"""DMA engine cost: 2-D blits moved whole (RAM to RAM in one step) vs. row by row, and the
sprites demo.

    .venv/bin/python benchmarks/bench_dma.py [--repeat N] [--frames N] [--cpu] [--quantile Q]

``--cpu`` times in thread CPU time instead of wall time (a shared, loaded machine);
``--quantile 0.1`` reports a low quantile instead of the median (preemption only adds time).

In one run, on one vgaemu.Machine:
  blit   -- a 64x64x4 2-D copy (256-byte rows) from RAM into the VBE linear framebuffer,
            through the engine's registers as a guest driver programs it (DMADriver.blit),
            moved whole (the default: source and destination in RAM, so one FlatView look-up
            per side, one numpy strided copy, one dirty-marking call) and with
            ``engine.map_whole_spans = False`` (every row mapped and unmapped, the old path);
  numpy  -- the same strided copy done by numpy alone, on arrays (the floor);
  sprites -- ``vgaemu run sprites --headless`` frames per second (display update included,
            first frame's full-screen copy and the demo's setup excluded), both ways.
It prints the timings and the ratios (goals: the blit within 3x of numpy's copy -- "start()
only" is the transfer alone, timed in turns with numpy's copy so that both see the same
load; "DMADriver.blit" adds the twelve 32-bit register accesses of the guest's driver;
sprites >= 500 frames/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from vgaemu.cli import resolve_script  # noqa: E402
from vgaemu.guest import Guest, load_script, run_guest  # noqa: E402
from vgaemu.machine import Machine  # noqa: E402

SRC = 0x200000
_clock = time.perf_counter
W_BYTES, ROWS = 64 * 4, 64
PITCH = 1024 * 4


#: Which quantile of the samples is reported (0.5: the median; --quantile).
_quantile = 0.5


def _stat_us(times: list[float]) -> float:
    if _quantile == 0.5:
        return statistics.median(times) * 1e6
    return float(np.quantile(times, _quantile)) * 1e6


def _median_us(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = _clock()
        fn()
        times.append(_clock() - t)
    return _stat_us(times)


def _interleaved_us(fns, repeat: int) -> list[float]:
    """Each function timed ``repeat`` times, taking turns sample by sample, so that the load
    of a shared machine falls on all of them alike (the ratios compare like with like)."""
    times = [[] for _ in fns]
    clock = _clock
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            t = clock()
            fn()
            ts.append(clock() - t)
    return [_stat_us(ts) for ts in times]


def bench_blit(repeat: int) -> dict:
    guest = Guest(Machine(memory="64M"))
    guest.vbe_set_mode(0x144)  # 1024x768x32 with the LFB
    rng = np.random.default_rng(0)
    guest.write(SRC, rng.integers(0, 256, W_BYTES * ROWS, dtype=np.uint8))
    engine = guest.dma.engine
    dst = guest.lfb_base + 200 * PITCH + 256

    def blit():
        guest.dma.blit(SRC, dst, W_BYTES, ROWS, W_BYTES, PITCH)

    def move_only():  # the transfer alone, registers already programmed
        engine.start()

    src = np.zeros(W_BYTES * ROWS, np.uint8)
    fb = np.zeros(PITCH * 768, np.uint8)
    dview = np.lib.stride_tricks.as_strided(fb[200 * PITCH + 256:], (ROWS, W_BYTES), (PITCH, 1))

    def numpy_copy():
        dview[...] = src.reshape(ROWS, W_BYTES)

    blit()
    out = {}
    for mode, flag in (("whole", True), ("row by row", False)):
        engine.map_whole_spans = flag
        out[mode] = _median_us(blit, repeat)
        if flag:  # the ratio's two sides sampled in turns
            out[mode + " (start only)"], out["numpy"] = _interleaved_us((move_only, numpy_copy),
                                                                        repeat)
        else:
            out[mode + " (start only)"] = _median_us(move_only, repeat)
    engine.map_whole_spans = True
    return out


class _Timer:
    """A headless sink that notes when each frame ends."""

    def __init__(self):
        self.stamps = []

    def frame(self, machine, info) -> None:
        self.stamps.append(_clock())

    def keys(self) -> list[int]:
        return []


def bench_sprites(frames: int, map_whole_spans: bool) -> float:
    main = load_script(resolve_script("sprites"))
    machine = Machine(memory="64M", vram="16M")
    from vgaemu import dma
    machine_dma = dma.attach(machine)
    machine_dma.map_whole_spans = map_whole_spans
    sink = _Timer()
    run_guest(machine, main, sink, max_frames=frames + 1)
    # Frame 0 is the demo's setup and full-screen copy; the rest are sprite frames.
    return (len(sink.stamps) - 1) / (sink.stamps[-1] - sink.stamps[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--cpu", action="store_true", help="time in thread CPU time, not wall time")
    ap.add_argument("--quantile", type=float, default=0.5,
                    help="report this quantile of the blit samples (default 0.5, the median; "
                         "0.1 is steadier on a loaded machine)")
    args = ap.parse_args(argv)
    global _clock, _quantile
    _clock = time.thread_time if args.cpu else time.perf_counter
    if not 0 < args.quantile < 1:
        ap.error(f"--quantile {args.quantile}: expected a number between 0 and 1")
    _quantile = args.quantile
    b = bench_blit(args.repeat)
    npy = b["numpy"]
    what = "median" if args.quantile == 0.5 else f"quantile {args.quantile:g}"
    print(f"64x64x4 blit RAM -> LFB ({what} of {args.repeat}, us):")
    print(f"  numpy strided copy alone      {npy:8.1f}")
    for mode in ("whole", "row by row"):
        print(f"  {mode:12} DMADriver.blit {b[mode]:8.1f}   start() only {b[mode + ' (start only)']:8.1f}"
              f"   start/numpy {b[mode + ' (start only)'] / npy:6.1f}x")
    print(f"  speed-up (start only)         {b['row by row (start only)'] / b['whole (start only)']:8.1f}x")
    fast = bench_sprites(args.frames, True)
    slow = bench_sprites(args.frames, False)
    print(f"sprites headless, {args.frames} frames: whole {fast:7.1f} frames/s, "
          f"row by row {slow:7.1f} frames/s, ratio {fast / slow:5.2f}x (goal >= 500 frames/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
