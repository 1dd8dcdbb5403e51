"""What the interpreted tier costs or saves: the programs in vgaemu/roms/programs/ booted
headless with the CPU's ``tb_threshold`` at several values (0: translate every block on its
first entry; N: interpret a block N times, translate it on entry N+1), in one process,
thresholds interleaved round by round so the machine's load falls on all of them alike.
Prints the best process-CPU time of each program at each threshold and its ratio to
threshold 0, and the counters of the last run (blocks translated / interpreted).

Each run forgets the compiled code machines share (as bench_boot.py does), so every run
translates its code as a fresh ``vgaemu boot`` does.

Run: .venv/bin/python benchmarks/bench_tb_tiers.py [--thresholds 0,1,2,4] [--rounds 5] [NAME ...]
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from vgaemu.cpu.translate import clear_code_cache
from vgaemu.machine import Machine
from vgaemu.pc.program import PCProgram

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "vgaemu" / "roms" / "programs"
MAX_FRAMES = 600


class _Sink:
    def frame(self, machine, info) -> None:
        pass

    def keys(self) -> list[int]:
        return []


def run(name: str, threshold: int):
    """Process seconds for one run of ``name`` at ``threshold``, and its CPU counters."""
    clear_code_cache()
    prog = PCProgram(PROGRAMS / f"{name}.img", drive="floppy")
    machine = Machine()   # (not timed: the threshold does not change it)
    machine.cpu.tb_threshold = threshold
    t = time.process_time()
    ran = prog.run(_Sink(), MAX_FRAMES, machine=machine, output=io.BytesIO())
    return time.process_time() - t, ran.pc.machine.cpu.counters.total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thresholds", default="0,1,2,4,10", help="comma-separated tb_threshold values")
    ap.add_argument("--rounds", type=int, default=5, help="rounds; the best run counts")
    ap.add_argument("names", nargs="*", help="programs (default: hello smc dmacode plasma13 vbelfb)")
    args = ap.parse_args()
    thresholds = [int(t) for t in args.thresholds.split(",")]
    names = args.names or ["hello", "smc", "dmacode", "plasma13", "vbelfb"]
    run("hello", 0)   # one-off costs (imports, numpy's lazy modules)
    best: dict = {}
    counters: dict = {}
    for _ in range(max(1, args.rounds)):
        for thr in thresholds:
            for name in names:
                dt, c = run(name, thr)
                best[name, thr] = min(best.get((name, thr), dt), dt)
                counters[name, thr] = c
    print(f"{'program':<10} " + " ".join(f"{'N=' + str(t):>16}" for t in thresholds))
    for name in names:
        base = best[name, thresholds[0]]
        cells = []
        for t in thresholds:
            cells.append(f"{best[name, t] * 1e3:7.1f}ms {best[name, t] / base:5.2f}x")
        print(f"{name:<10} " + " ".join(f"{c:>16}" for c in cells))
    print("\nblocks translated / interpreted (last run):")
    for name in names:
        print(f"{name:<10} " + " ".join(
            f"{f'{counters[name, t].tbs_translated}/{counters[name, t].blocks_interpreted}':>16}"
            for t in thresholds))


if __name__ == "__main__":
    main()
