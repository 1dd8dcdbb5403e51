"""Display-loop cost: full redraw vs. one dirty line vs. an idle frame, per mode.

    .venv/bin/python benchmarks/bench_display.py [--repeat N] [--cpu] [--quantile Q] [--qemu-compat]
    .venv/bin/python benchmarks/bench_display.py --base REV [--rounds K] [the same options]

``--cpu`` times in thread CPU time (time.thread_time) instead of wall time: on a shared,
loaded machine a frame's wall time includes the time other processes held the core.

On a vgaemu.Machine (guestmem dirty bitmaps, writes through its address spaces), for
mode 13h, 12h, text 80x25, VBE 640x480x32 and 1024x768x32 it times, in one run:
  full   -- invalidate() + update_display(): every line converted;
  line   -- one byte written on one scanline (its 4 KiB page is dirty: the lines sharing that
            page are redrawn -- in text mode, the one changed cell);
  idle   -- nothing written: test the dirty bitmap, find nothing, return;
  warm   -- the "line" frame again, after the line and idle frames rather than right after a
            full redraw (which streams 1-3 MB through the CPU caches);
  evicted -- the "line" frame again, after no redraw but a plain numpy write of as many bytes
            as the frame buffer holds: what the cache eviction alone adds (compare "line");
  steady -- the "line" frame again, as the last of a run of partial frames (_STEADY_RUN
            before it): a display loop while a guest animates a small area;
the kinds take turns sample by sample (as bench_dma.py's ratios do), so that the load of a
shared machine falls on all of them alike;
and prints the medians (or --quantile Q) with ratios to the full redraw (goals: line <= 5 %, idle <= 2 %;
full 640x480x8 <= 2 ms, 1024x768x32 <= 3 ms).

Then, per mode, the partial frame's budget (issue 12 item 9): its lines' share of the full
redraw plus 10 us (``lines / height * full + 0.010 ms``), and what the "line", "warm" and
"steady" frames (and the "evicted" one, in us) cost beyond that share -- their fixed cost: snapshot,
geometry, run finding, rectangles, and the per-call overhead of converting a few lines. That
table is net of the timer's own cost (an empty interval, sampled in the same turns and
printed): with ``--cpu`` each reading of the thread's CPU clock is a system call of about a
microsecond, which every sample pays once -- a whole microsecond of a partial frame's 10 us,
but only its lines' share of it within the full redraw's.

``--base REV`` compares trees: this script runs K times (``--rounds``) on revision REV
(exported with git archive, as bench_boot.py --base does) and on this tree, in turns, each
run in its own process, and prints per mode the full redraw and each partial kind's cost
beyond the share as min / median over the runs, REV -> this tree. This machine's speed can
move by 2x between runs, so compare trees this way rather than across separate runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _tree_from_argv(argv: list[str]) -> Path:
    """The tree whose vgaemu is measured: ``--tree PATH`` (how --base runs the other tree),
    else the one this script is in. Read before the imports below, which depend on it."""
    for i, a in enumerate(argv):
        if a == "--tree" and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if a.startswith("--tree="):
            return Path(a.split("=", 1)[1]).resolve()
    return HERE.parent


TREE = _tree_from_argv(sys.argv[1:])
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(TREE / "tests" / "vga"))

from vgaemu.machine import Machine  # noqa: E402
from vgaprog import (dac_ops, ega_palette, font, font_load_ops, lfb_write, machine,  # noqa: E402
                     mode_ops, outb, run, vbe_ops)

MODES = ["mode 13h", "mode 12h", "text 80x25", "VBE 640x480x32", "VBE 1024x768x32"]
#: The partial-frame columns of the budget table.
PARTIAL = ("line", "warm", "evicted", "steady")


def setup(name: str, qemu_compat: bool = False) -> tuple[Machine, callable]:
    rng = np.random.default_rng(0)
    m = machine(qemu_compat=qemu_compat)
    if name == "mode 13h":
        run(m, mode_ops(0x13) + dac_ops(0, [tuple(rng.integers(0, 64, 3)) for _ in range(256)]))
        lfb_write(m, 0, rng.integers(0, 256, 64000, dtype=np.uint8).tobytes())

        def touch(i):
            lfb_write(m, 100 * 320 + i % 320, bytes([i & 0xFF]))
    elif name == "mode 12h":
        run(m, mode_ops(0x12) + dac_ops(0, ega_palette()))
        lfb_write(m, 0, rng.integers(0, 256, 38400 * 4, dtype=np.uint8).tobytes())

        def touch(i):
            lfb_write(m, (240 * 80 + i % 80) * 4, bytes([i & 0xFF]))
    elif name == "text 80x25":
        run(m, mode_ops(0x03) + dac_ops(0, ega_palette()) + font_load_ops(font(16), 16))
        cells = rng.integers(0, 256, (2000, 2), dtype=np.uint8)
        run(m, [{"op": "write", "addr": 0xB8000, "data": cells.tobytes().hex()}])
        run(m, [outb(0x3D4, 0x0A), outb(0x3D5, 0x20)])  # cursor off: only the writes count

        def touch(i):
            run(m, [{"op": "writeb", "addr": 0xB8000 + 2 * (12 * 80 + i % 80), "val": i & 0xFF}])
    else:
        w, h = (640, 480) if "640" in name else (1024, 768)
        run(m, [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(w, h, 32))
        lfb_write(m, 0, rng.integers(0, 256, w * h * 4, dtype=np.uint8).tobytes())

        def touch(i):
            lfb_write(m, (h // 2) * w * 4 + (i % w) * 4, bytes([i & 0xFF]))
    m.vga.display.update_display()
    return m, touch


_clock = time.perf_counter


def measure(m: Machine, touch, repeat: int) -> dict:
    """Each kind of frame sampled ``repeat`` times, the kinds taking turns sample by sample
    (full, line, idle, warm, full, ...) so that the load of a shared machine falls on all of
    them alike and the ratios compare like with like."""
    clock = _clock
    d = m.vga.display
    update = d.update_display
    out = {"full": [], "line": [], "idle": [], "warm": [], "evicted": [], "steady": [],
           "clock": []}
    lines = {"clock": 0}
    scratch = np.zeros_like(d.framebuffer)
    for i in range(repeat):
        t = clock()
        out["clock"].append(clock() - t)  # the timer's own cost, in every sample below
        d.invalidate()
        t = clock()
        st = update()
        out["full"].append(clock() - t)
        lines["full"] = st.lines_redrawn
        # Each frame writes a new value (touch(k): value k & 0xFF at position k % width), so
        # that text mode finds its cell changed: 16 * i + j, j < 12, never writes a position's
        # last value again.
        touch(16 * i)
        t = clock()
        st = update()  # right after a full redraw: the caches hold its 1-3 MB frame
        out["line"].append(clock() - t)
        lines["line"] = st.lines_redrawn
        t = clock()
        st = update()
        out["idle"].append(clock() - t)
        lines["idle"] = st.lines_redrawn
        touch(16 * i + 1)
        t = clock()
        st = update()  # warm: the frames before it were partial ones
        out["warm"].append(clock() - t)
        lines["warm"] = st.lines_redrawn
        scratch[...] = i  # the full redraw's stream of stores, without the redraw
        touch(16 * i + 2)
        t = clock()
        st = update()
        out["evicted"].append(clock() - t)
        lines["evicted"] = st.lines_redrawn
        for k in range(_STEADY_RUN):  # a display loop of partial frames (a guest animating)
            touch(16 * i + 3 + k)
            update()
        touch(16 * i + 3 + _STEADY_RUN)
        t = clock()
        st = update()
        out["steady"].append(clock() - t)
        lines["steady"] = st.lines_redrawn
        if len({lines["line"], lines["warm"], lines["evicted"], lines["steady"]}) != 1:
            raise SystemExit(f"partial frames redrew different line counts: {lines}")
    return {k: (_stat(v), lines[k]) for k, v in out.items()}


#: Partial frames drawn before the "steady" one is timed: enough that the full redraw's
#: stream of stores has left no mark on the caches the partial frame works in.
_STEADY_RUN = 8

#: The statistic of a column's samples: the median, or a low quantile (--quantile), which a
#: shared, loaded machine disturbs less (preemption only ever adds time).
_stat = statistics.median


def fixed_costs(height: int, r: dict) -> dict:
    """Seconds: the lines' share of the full redraw and each partial kind's cost beyond it,
    all net of the timer's own cost."""
    clk = r["clock"][0]
    share = r["line"][1] / height * (r["full"][0] - clk)
    return {"share": share, **{k: r[k][0] - clk - share for k in PARTIAL}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--cpu", action="store_true", help="time in thread CPU time, not wall time")
    ap.add_argument("--qemu-compat", action="store_true",
                    help="machines with QEMU 7.2's policy (its full-update rules; in VGA "
                         "graphics modes each partial frame takes all of VRAM's dirty bits)")
    ap.add_argument("--quantile", type=float, default=0.5,
                    help="report this quantile of each column's samples (default 0.5, the "
                         "median; 0.1 is steadier on a loaded machine)")
    ap.add_argument("--base", metavar="REV",
                    help="measure revision REV too (exported with git archive), each tree in "
                         "its own process, alternately, and print both trees' fixed costs")
    ap.add_argument("--rounds", type=int, default=6,
                    help="with --base: alternating runs of each tree (min and median shown)")
    ap.add_argument("--tree", help=argparse.SUPPRESS)  # read before the imports
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # for --base
    args = ap.parse_args(argv)
    global _clock, _stat
    _clock = time.thread_time if args.cpu else time.perf_counter
    if not 0 < args.quantile < 1:
        ap.error(f"--quantile {args.quantile}: expected a number between 0 and 1")
    if args.rounds < 1 or args.repeat < 1:
        ap.error("--rounds and --repeat: expected at least 1")
    if args.base:
        return compare_with(args)
    _stat = lambda v: float(np.quantile(v, args.quantile))  # noqa: E731
    budgets = []
    if not args.json:
        print(f"{'mode':16} {'size':>9} {'full ms':>8} {'line ms':>8} {'line/full':>9} "
              f"{'(lines)':>7} {'idle ms':>8} {'idle/full':>9} {'warm ms':>8} {'warm/full':>9}")
    for name in MODES:
        m, touch = setup(name, args.qemu_compat)
        r = measure(m, touch, args.repeat)
        full = r["full"][0]
        size = f"{m.vga.display.width}x{m.vga.display.height}"
        if not args.json:
            print(f"{name:16} {size:>9} {full * 1e3:8.3f} {r['line'][0] * 1e3:8.3f} "
                  f"{r['line'][0] / full:9.1%} {r['line'][1]:7d} {r['idle'][0] * 1e3:8.3f} "
                  f"{r['idle'][0] / full:9.1%} {r['warm'][0] * 1e3:8.3f} "
                  f"{r['warm'][0] / full:9.1%}")
        budgets.append((name, m.vga.display.height, full, r))
    if args.json:
        print(json.dumps({name: {"full": full, **fixed_costs(height, r)}
                          for name, height, full, r in budgets}))
        return 0
    print(f"\n{'mode':16} {'share ms':>8} {'budget ms':>9} {'line ms':>8} {'fixed us':>8} "
          f"{'warm ms':>8} {'fixed us':>8} {'evicted':>8} {'steady':>8}  "
          "within budget (share + 10 us)")
    for name, height, full, r in budgets:
        f = fixed_costs(height, r)
        share = f["share"]
        verdict = ", ".join(f"{k} {'yes' if f[k] <= 10e-6 else 'NO'}"
                            for k in ("line", "warm", "steady"))
        print(f"{name:16} {share * 1e3:8.3f} {(share + 10e-6) * 1e3:9.3f} "
              f"{(share + f['line']) * 1e3:8.3f} {f['line'] * 1e6:8.1f} "
              f"{(share + f['warm']) * 1e3:8.3f} {f['warm'] * 1e6:8.1f} "
              f"{f['evicted'] * 1e6:8.1f} {f['steady'] * 1e6:8.1f}  {verdict}")
    clocks = ", ".join(f"{b[3]['clock'][0] * 1e6:.2f}" for b in budgets)
    print(f"(net of the timer's own cost, an empty interval: {clocks} us)")
    return 0


def compare_with(args) -> int:
    """--base: this script run on revision ``args.base`` and on this tree, each in its own
    process, ``args.rounds`` times in turn (a shared machine's load falls on both alike)."""
    from abtree import export_revision  # beside this script

    passed = ["--repeat", str(args.repeat), "--quantile", str(args.quantile), "--json"]
    passed += ["--cpu"] * args.cpu + ["--qemu-compat"] * args.qemu_compat
    results: dict[str, list[dict]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="bench_display_base.") as d:
        trees = {"base": export_revision(args.base, Path(d)), "this": HERE.parent}
        for _ in range(args.rounds):
            for which, tree in trees.items():
                out = subprocess.run([sys.executable, str(Path(__file__).resolve()),
                                      "--tree", str(tree), *passed],
                                     capture_output=True, text=True, cwd=tree)
                if out.returncode:
                    raise SystemExit(f"bench_display on {which} ({tree}) failed:\n{out.stderr}")
                results[which].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"Cost beyond the share (us, budget 10), {args.base} -> this tree: min / median of "
          f"{args.rounds} alternating runs (each --quantile {args.quantile}, --repeat "
          f"{args.repeat}{', --cpu' if args.cpu else ''})")
    print(f"{'mode':16} {'full ms':>15} " + " ".join(f"{k:>27}" for k in PARTIAL))

    def cell(key: str, name: str, scale: float, fmt: str) -> str:
        parts = []
        for which in ("base", "this"):
            v = [run[name][key] * scale for run in results[which]]
            parts.append(f"{min(v):{fmt}}/{statistics.median(v):{fmt}}")
        return " -> ".join(parts)

    for name in MODES:
        print(f"{name:16} {cell('full', name, 1e3, '.2f'):>15} "
              + " ".join(f"{cell(k, name, 1e6, '5.1f'):>27}" for k in PARTIAL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
