"""The CPU's speed before and after a change: the same guest programs run by another
revision of vgaemu (exported with `git archive`) and by this tree, alternately, each run in
its own process, timed in process CPU time (on a machine shared with other jobs, wall time
swings several-fold between runs; CPU time much less).  Prints the best of --reps runs of
each and the ratio.

Programs: benchmarks/cpu/{loop,store,smc,branch,text}.bin run by cpu.run to their HLT (guest
instructions per CPU second; text writes a mode 03h screen through the VGA window), and
plasma13 and vbelfb (roms/programs) booted on the PC platform (virtual seconds per CPU
second: 1.0 is real time, headless).

Run: .venv/bin/python benchmarks/bench_cpu_ab.py --base d4f73d6 [--reps 3] [--quick]
     [--only plasma13,vbelfb]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from abtree import export_revision

ROOT = Path(__file__).resolve().parents[1]

#: One run of a cpu program; benchmarks/cpu comes from this tree, so both revisions run the
#: same bytes.
CPU_RUN = r'''
import struct, sys, time
from pathlib import Path
from vgaemu.machine import Machine
name, turns, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
code = Path(root, "benchmarks", "cpu", name + ".bin").read_bytes()
m = Machine()
m.write(0x7C00, code)
m.write(0x500, struct.pack("<II", turns, 0xFD000000))
t = time.process_time()
n = m.cpu.run(max_instructions=1 << 40)
dt = time.process_time() - t
assert m.cpu.halted, "the program did not halt"
print(n / dt)
'''

#: One boot of a program of roms/programs (from this tree, so both revisions run the same
#: image) to its end, headless.
PROGRAM_RUN = r'''
import io, sys, time
from pathlib import Path
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage
img = Path(sys.argv[1], "vgaemu", "roms", "programs", sys.argv[2] + ".img")
pc = PC(Machine(), floppies=[DiskImage(img, "floppy", snapshot=True)], output=io.BytesIO())
pc.boot()
class Sink:
    def frame(self, machine, info):
        pass
    def keys(self):
        return []
t = time.process_time()
run_frames(pc, Sink(), 200)
dt = time.process_time() - t
print(pc.machine.clock.now_ns / 1e9 / dt)
'''


#: the programs booted on the PC platform (the rest are benchmarks/cpu binaries)
BOOTED = ("plasma13", "vbelfb")


def run(tree: Path, program: str, turns: int) -> float:
    if program in BOOTED:
        args = [sys.executable, "-c", PROGRAM_RUN, str(ROOT), program]
    else:
        args = [sys.executable, "-c", CPU_RUN, program, str(turns), str(ROOT)]
    out = subprocess.run(args, env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree,
                         capture_output=True, text=True, timeout=1200)
    if out.returncode:
        raise SystemExit(f"{program} failed under {tree}:\n{out.stderr}")
    return float(out.stdout.strip())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the git revision to compare against")
    ap.add_argument("--reps", type=int, default=3, help="runs of each program per tree")
    ap.add_argument("--quick", action="store_true", help="fewer turns (a smoke run)")
    ap.add_argument("--only", help="comma-separated program names (default: all)")
    args = ap.parse_args(argv)
    q = 10 if args.quick else 1
    programs = [("branch", 50_000 // q), ("loop", 200_000 // q), ("store", max(10 // q, 1)),
                ("smc", 400 // q), ("text", max(40 // q, 1)), ("plasma13", 0), ("vbelfb", 0)]
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {name for name, _ in programs}
        if unknown:
            ap.error(f"unknown program(s) {', '.join(sorted(unknown))}")
        programs = [(name, turns) for name, turns in programs if name in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        base = export_revision(args.base, Path(tmp))
        trees = {"base": base, "this tree": ROOT}
        print(f"{'program':9} {'base ' + args.base:>18} {'this tree':>16} {'ratio':>7}")
        for program, turns in programs:
            best = {k: 0.0 for k in trees}
            for _ in range(args.reps):   # alternate, so a change in load hits both alike
                for k, tree in trees.items():
                    best[k] = max(best[k], run(tree, program, turns))
            unit, scale = ("x real", 1) if program in BOOTED else ("M/s", 1e6)
            b, n = best["base"] / scale, best["this tree"] / scale
            print(f"{program:9} {b:11.3f} {unit:6} {n:9.3f} {unit:6} {n / b:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
