"""Port I/O, the planar VGA window and the BIOS teletype: before and after a change.

The work issue 14 found slowest (planar12: a bit-mask OUT and a latch read per circle pixel;
hello, smc, dmacode: INT 10h AH=0Eh per character), run by another revision of vgaemu
(exported with ``git archive``) and by this tree, alternately, each run in its own process
and timed in process CPU time (wall time on this shared machine swings several-fold).
Prints the best of --reps runs of each and the ratio this tree / base.

Workloads (the guest kernels are benchmarks/cpu/pio.asm, the same bytes for both trees):

  out       OUT DX, AL to 3CFh (GR8, the bit mask) in a loop       guest insns / CPU s
  in        IN AL, DX from 3CFh in a loop                           guest insns / CPU s
  window    a latch read and a write of the mode 12h window         guest insns / CPU s
  plot      planar12's pixel: bit-mask OUT, latch read, write       guest insns / CPU s
  tty03     INT 10h AH=0Eh from Python in mode 03h (lines of 70
            characters, so it wraps and scrolls)                    characters / CPU s
  tty12     the same in mode 12h (glyphs drawn through the window)  characters / CPU s
  hello, planar12   the programs booted headless                    virtual s / CPU s

Run: .venv/bin/python benchmarks/bench_pio.py --base REV [--reps 3] [--quick] [NAME ...]
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

#: Entry offsets of the kernels in benchmarks/cpu/pio.bin and instructions per turn.
KERNELS = {"out": (0x00, 4), "in": (0x10, 4), "window": (0x20, 6), "plot": (0x40, 9)}

KERNEL_RUN = r'''
import struct, sys, time
from pathlib import Path
from vgaemu.machine import Machine
entry, turns, root = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
code = Path(root, "benchmarks", "cpu", "pio.bin").read_bytes()
m = Machine()
m.bios.call(0x0012)
m.outb(0x3CE, 5); m.outb(0x3CF, 2)       # write mode 2 (CPU data = colour), as planar12
m.outb(0x3CE, 8)                         # the GC index stays at the bit mask
m.write(0x7C00, code)
cpu = m.cpu
def once(n):
    m.write(0x500, struct.pack("<H", n))
    for r, v in (("cs", 0), ("ds", 0), ("ss", 0), ("sp", 0x7C00), ("es", 0xA000)):
        setattr(cpu, r, v)
    cpu.eip = 0x7C00 + entry
    cpu.halted = False
    t = time.process_time()
    done = cpu.run(max_instructions=1 << 40)
    dt = time.process_time() - t
    assert cpu.halted, "the kernel did not halt"
    return done, dt
once(50)                                 # translate the blocks
done, dt = once(turns)
print(done / dt)
'''

TTY_RUN = r'''
import sys, time
from vgaemu.machine import Machine
mode, n = int(sys.argv[1]), int(sys.argv[2])
m = Machine()
m.bios.call(mode)
text = bytes(32 + i % 95 for i in range(70)) + b"\r\n"
chars = (text * (n // len(text) + 1))[:n]
call = m.bios.call
call(0x0E41, bx=0x000E)
t = time.process_time()
for c in chars:
    call(0x0E00 | c, bx=0x000E)
dt = time.process_time() - t
print(n / dt)
'''

BOOT_RUN = r'''
import io, sys, time
from pathlib import Path
from vgaemu.pc.program import PCProgram
img = Path(sys.argv[1], "vgaemu", "roms", "programs", sys.argv[2] + ".img")
class Sink:
    def frame(self, machine, info):
        pass
    def keys(self):
        return []
PCProgram(img, drive="floppy").run(Sink(), 600, output=io.BytesIO())   # one-off costs
t = time.process_time()
ran = PCProgram(img, drive="floppy").run(Sink(), 600, output=io.BytesIO())
dt = time.process_time() - t
print(ran.pc.machine.clock.now_ns / 1e9 / dt)
'''

WORKLOADS = ["out", "in", "window", "plot", "tty03", "tty12", "hello", "planar12"]


def command(name: str, quick: bool) -> tuple[list[str], str, float]:
    """(argv, unit, scale) of one run of workload ``name``."""
    q = 10 if quick else 1
    if name in KERNELS:
        return ([sys.executable, "-c", KERNEL_RUN, str(KERNELS[name][0]), str(60_000 // q),
                 str(ROOT)], "M insn/s", 1e6)
    if name.startswith("tty"):
        return [sys.executable, "-c", TTY_RUN, str(int(name[3:], 16)), str(2000 // q)], \
            "k char/s", 1e3
    return [sys.executable, "-c", BOOT_RUN, str(ROOT), name], "x real", 1.0


def run(tree: Path, argv: list[str]) -> float:
    out = subprocess.run(argv, env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree,
                         capture_output=True, text=True, timeout=1200)
    if out.returncode:
        raise SystemExit(f"{argv[2:4]} failed under {tree}:\n{out.stderr}")
    return float(out.stdout.strip())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the git revision to compare against")
    ap.add_argument("--reps", type=int, default=3, help="runs of each workload per tree")
    ap.add_argument("--quick", action="store_true", help="less work per run (a smoke run)")
    ap.add_argument("names", nargs="*", help=f"workloads (default: all of {WORKLOADS})")
    args = ap.parse_args(argv)
    names = args.names or WORKLOADS
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}: expected some of {WORKLOADS}")
    with tempfile.TemporaryDirectory() as tmp:
        base = export_revision(args.base, Path(tmp))
        trees = {"base": base, "this tree": ROOT}
        print(f"{'workload':9} {'base ' + args.base:>20} {'this tree':>20} {'ratio':>7}")
        for name in names:
            cmd, unit, scale = command(name, args.quick)
            best = {k: 0.0 for k in trees}
            for _ in range(args.reps):   # alternate, so a change in load hits both alike
                for k, tree in trees.items():
                    best[k] = max(best[k], run(tree, cmd))
            b, n = best["base"] / scale, best["this tree"] / scale
            print(f"{name:9} {b:11.3f} {unit:8} {n:11.3f} {unit:8} {n / b:6.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
