"""How fast the programs in vgaemu/roms/programs/ run headless (issue 14 section 5).

For each image, booted as a floppy on a fresh PC and run headless (no PNG writing) until it
halts with interrupts off, best of ``--repeat`` runs:

* ``first picture``: host seconds from creating the PC (POST, boot) to the first frame the
  front end gets;
* ``total`` / ``frames`` / ``fps``: the whole run and the frames per host second;
* ``guest/host``: virtual seconds run per host second -- "N x real time" (the issue's goal
  is at least 3x headless); ``insns/s``: guest instructions per host second.

Where a program's CPU work is a kernel of plain computation and stores -- a redraw of
plasma13, the per-pixel gradient of vbelfb, smc's loop that rewrites its own ADD -- that
kernel also runs alone, from the same bytes (NASM's symbol map gives the ``..@`` labels the
sources carry), on vgaemu's CPU and on unicorn (QEMU's TCG in C), in the same run:
``ref`` is unicorn's rate and ``ratio`` vgaemu's rate over unicorn's.

Machines shared with other jobs swing 2-5x between runs; the ratios are from one run.

Each run forgets the compiled code machines in one process share (vgaemu.cpu.translate), so
it pays for translation as a fresh ``vgaemu boot`` does; ``--warm`` keeps it.

``--startup`` (or ``--base REV``) adds where a short program's time goes -- hello, smc and
dmacode halt within their first frame, so their whole run is start-up -- in process CPU
milliseconds, best of ``--repeat``, each tree in its own process:

* ``Machine()``: the machine (RAM blocks, VGA, ROMs, CPU, i8042, RTC);
* ``devices``: the PC platform around it (PIC, PIT, debugcon, PCI) and the BIOS services;
* ``POST``: SeaBIOS's POST (IVT, BDA, the VGA BIOS POST and mode 3);
* ``boot``: the banner, "Booting from Floppy..." and the boot sector loaded;
* ``1st frame``: running to the first picture (teletype, translating the first blocks);
* ``CLI``: a whole ``vgaemu boot -fda IMG --headless --frames 1`` process (imports
  included, bytecode cached as a user's install has it), CPU time of the child.

``--base REV`` runs the same measurement on revision REV (exported with ``git archive``),
alternating with this tree, and prints the ratio base / this tree (above 1: faster now).

Run: .venv/bin/python benchmarks/bench_boot.py [--repeat R] [--quick] [--warm]
                                               [--startup] [--base REV] [NAME ...]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vgaemu.cpu.translate import clear_code_cache
from vgaemu.machine import Machine
from vgaemu.pc.program import PCProgram

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "vgaemu" / "roms" / "programs"
MAX_FRAMES = 600


class _Sink:
    """A headless front end that only notes when each frame arrived."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.first: float | None = None
        self.frames = 0

    def frame(self, machine, info) -> None:
        self.frames += 1
        if self.first is None:
            self.first = time.perf_counter() - self.t0

    def keys(self) -> list[int]:
        return []


@dataclass
class Run:
    first: float
    total: float
    frames: int
    virtual: float
    instructions: int
    stopped: str


def run_program(path: Path, warm: bool = False) -> Run:
    """One run on a fresh PC.  The compiled code vgaemu shares between the machines of a
    process is forgotten first (unless ``warm``), so every run translates its code as the
    first run of a ``vgaemu boot`` process does."""
    if not warm:
        clear_code_cache()
    t0 = time.perf_counter()
    sink = _Sink(t0)
    ran = PCProgram(path, drive="floppy").run(sink, MAX_FRAMES, output=io.BytesIO())
    total = time.perf_counter() - t0
    pc = ran.pc
    return Run(sink.first or total, total, ran.frames, pc.machine.clock.now_ns / 1e9,
               pc.platform.instructions, ran.stopped)


# ---- kernels: the same bytes on vgaemu's CPU and on unicorn ---------------------------------

@dataclass
class Kernel:
    """Run from label ``start`` to label ``end`` of ``program`` with these registers (and
    16-bit memory words at labels), ``turns`` times."""
    program: str
    start: str
    end: str
    regs: dict
    words: dict
    turns: int = 1
    flat_fs: bool = False       # unreal mode: FS reaches 4 GiB
    lfb: bool = False           # the kernel stores into the linear framebuffer
    what: str = ""


KERNELS = {
    "plasma13": Kernel("plasma13", "..@draw", "..@drawn", dict(bp=7, es=0xA000), {}, 2,
                       what="one redraw of the XOR pattern (mode 13h stores)"),
    "vbelfb": Kernel("vbelfb", "..@gradient", "..@gradient_done", dict(ebp=640 * 4), {}, 1,
                     flat_fs=True, lfb=True, what="the gradient, one 32-bit LFB store a pixel"),
    "smc": Kernel("smc", "..@rewrite_loop", "..@rewrite_loop_done", {}, {}, 200,
                  what="100 turns of a loop rewriting its own ADD"),
}
LFB = 0xFD000000


def symbols(program: str) -> dict[str, int]:
    """The program's labels from NASM's symbol map (the image is not rewritten)."""
    with tempfile.TemporaryDirectory() as d:
        mp = Path(d) / "out.map"
        src = Path(d) / "wrap.asm"
        src.write_text(f'[map symbols {mp}]\n%include "{PROGRAMS / (program + ".asm")}"\n')
        subprocess.run(["nasm", "-f", "bin", "-o", str(Path(d) / "out.bin"), str(src)], check=True)
        out = {}
        for line in mp.read_text().splitlines():
            m = re.match(r"\s+([0-9A-F]+)\s+([0-9A-F]+)\s+(\S+)$", line)
            if m:
                out[m.group(3)] = int(m.group(2), 16)
        return out


def kernel_setup(k: Kernel, syms: dict) -> tuple[bytes, dict, int, int]:
    image = bytearray((PROGRAMS / f"{k.program}.img").read_bytes())
    regs = {"cs": 0, "ds": 0, "es": 0, "ss": 0, "sp": 0x7C00, **k.regs}
    if k.program == "vbelfb":
        # the variable lfb holds the framebuffer's address, as the program's own setup leaves it
        off = syms["lfb"] - 0x7C00
        image[off:off + 4] = LFB.to_bytes(4, "little")
    # a HLT (interrupts off) at the end label stops vgaemu's CPU there, wherever its blocks
    # chain; unicorn stops before it (emu_start's until)
    image[syms[k.end] - 0x7C00] = 0xF4
    return bytes(image), regs, syms[k.start], syms[k.end]


def kernel_vgaemu(k: Kernel, syms: dict, turns: int | None = None):
    """Host seconds and instructions for ``turns`` runs of the kernel on vgaemu's CPU, and
    the machine (tests compare its state with unicorn's)."""
    image, regs, start, end = kernel_setup(k, syms)
    m = Machine()
    if k.program == "plasma13":
        m.bios.call(0x0013)
    m.write(0x7C00, image)
    cpu = m.cpu
    if k.flat_fs:
        cpu.seg_limit[4] = 0xFFFFFFFF
    best, n = None, 0
    for turn in range((k.turns if turns is None else turns) + 1):   # the first is not timed
        for r, v in regs.items():
            setattr(cpu, r, v)
        cpu.eip = start
        cpu.halted = False
        t0 = time.perf_counter()
        done = cpu.run(max_instructions=50_000_000)
        dt = time.perf_counter() - t0
        if turn:
            best = dt if best is None else best + dt
            n += done - 1                       # not the HLT
        if cpu.eip != end + 1 or not cpu.halted:
            raise SystemExit(f"{k.program}: the kernel did not reach {k.end} on vgaemu")
    return best, n, m


def kernel_unicorn(k: Kernel, syms: dict, turns: int | None = None):
    """Host seconds for ``turns`` runs of the kernel on unicorn and the Uc (None, None
    without unicorn)."""
    try:
        from unicorn import UC_ARCH_X86, UC_MODE_16, Uc
        from unicorn import x86_const as X
    except ImportError:
        return None, None
    image, regs, start, end = kernel_setup(k, syms)
    uc = Uc(UC_ARCH_X86, UC_MODE_16)
    uc.mem_map(0, 1 << 20)
    if k.lfb:
        uc.mem_map(LFB, 4 << 20)
    uc.mem_write(0x7C00, image)
    names = {"cs": X.UC_X86_REG_CS, "ds": X.UC_X86_REG_DS, "es": X.UC_X86_REG_ES,
             "ss": X.UC_X86_REG_SS, "sp": X.UC_X86_REG_SP, "bp": X.UC_X86_REG_BP,
             "ebp": X.UC_X86_REG_EBP, "fs": X.UC_X86_REG_FS}
    total = 0.0
    for turn in range((k.turns if turns is None else turns) + 1):
        for r, v in regs.items():
            uc.reg_write(names[r], v)
        t0 = time.perf_counter()
        uc.emu_start(start, end)
        if turn:
            total += time.perf_counter() - t0
    return total, uc


# ---- start-up: where a short run's time goes, this tree against a base revision ----------

#: One tree's start-up phases, run in its own process with that tree on PYTHONPATH; only
#: APIs both trees have (Machine, PC, DiskImage, run_frames).  Prints one JSON line: the
#: best (least CPU time) of ``reps`` runs of each program.
STARTUP_RUN = r'''
import io, json, sys, time
from pathlib import Path
from vgaemu.machine import Machine
from vgaemu.pc import bios as system_bios
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage
try:
    from vgaemu.cpu.translate import clear_code_cache
except ImportError:
    clear_code_cache = lambda: None
root, reps, warm, names = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4:]
clock = time.process_time
post = [0.0]
_post = system_bios.SystemBIOS.post
def timed_post(self):
    t = clock()
    _post(self)
    post[0] += clock() - t
system_bios.SystemBIOS.post = timed_post
class Sink:
    def frame(self, machine, info):
        pass
    def keys(self):
        return []
def once(img):
    if not warm:
        clear_code_cache()
    post[0] = 0.0
    t0 = clock()
    m = Machine()
    t1 = clock()
    pc = PC(m, floppies=[DiskImage(img, "floppy", snapshot=True)], output=io.BytesIO())
    t2 = clock()
    pc.boot()
    t3 = clock()
    run_frames(pc, Sink(), 1)
    t4 = clock()
    return {"Machine()": t1 - t0, "devices": t2 - t1 - post[0], "POST": post[0],
            "boot": t3 - t2, "1st frame": t4 - t3, "total": t4 - t0}
img = lambda n: root / "vgaemu" / "roms" / "programs" / (n + ".img")
once(img("hello"))   # one-off costs: numpy's first calls, lazily built tables
out = {}
for n in names:
    out[n] = min((once(img(n)) for _ in range(reps)), key=lambda r: r["total"])
print(json.dumps(out))
'''

PHASES = ["Machine()", "devices", "POST", "boot", "1st frame", "total"]


def _tree_env(tree: Path, pycache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # a user's install has its bytecode cached
    return env


def startup_phases(tree: Path, pycache: Path, names: list[str], reps: int, warm: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", STARTUP_RUN, str(tree), str(reps),
                          "1" if warm else "0", *names], env=_tree_env(tree, pycache),
                         cwd=tree, capture_output=True, text=True, timeout=1200)
    if out.returncode:
        raise SystemExit(f"start-up run failed under {tree}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_seconds(tree: Path, pycache: Path, name: str) -> float:
    """CPU seconds of one ``vgaemu boot -fda IMG --headless --frames 1`` process."""
    img = tree / "vgaemu" / "roms" / "programs" / f"{name}.img"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "vgaemu", "boot", "-fda", str(img), "--headless",
                    "--frames", "1"], env=_tree_env(tree, pycache), cwd=tree,
                   capture_output=True, check=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup_report(names: list[str], reps: int, warm: bool, base: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        if base is not None:
            from abtree import export_revision   # beside this script (a test imports it
                                                 # by path, without --base)
            tree = Path(tmp) / "base"
            tree.mkdir()
            export_revision(base, tree)
            trees[f"base {base}"] = tree
        trees["this tree"] = ROOT
        caches = {k: Path(tmp) / f"pycache-{i}" for i, k in enumerate(trees)}
        phases = {k: {} for k in trees}
        cli = {k: {n: None for n in names} for k in trees}
        for k, tree in trees.items():   # the bytecode caches filled, the trees' one-offs paid
            cli_seconds(tree, caches[k], names[0])
        for _ in range(reps):   # alternate, so a change in load hits both alike
            for k, tree in trees.items():
                got = startup_phases(tree, caches[k], names, 1, warm)
                for n, r in got.items():
                    old = phases[k].get(n)
                    if old is None or r["total"] < old["total"]:
                        phases[k][n] = r
                for n in names:
                    t = cli_seconds(tree, caches[k], n)
                    cli[k][n] = t if cli[k][n] is None else min(cli[k][n], t)
    width = max(len(k) for k in trees)
    print(f"\nstart-up, CPU ms, best of {reps}" + (" (warm code cache)" if warm else ""))
    print(f"{'program':<9} {'tree':<{width}} " + " ".join(f"{p:>9}" for p in PHASES)
          + f" {'CLI':>9}")
    for n in names:
        for k in trees:
            r = phases[k][n]
            print(f"{n:<9} {k:<{width}} " + " ".join(f"{r[p] * 1e3:>9.1f}" for p in PHASES)
                  + f" {cli[k][n] * 1e3:>9.1f}")
        if base is not None:
            b, t = phases[f"base {base}"][n], phases["this tree"][n]
            ratio = lambda x, y: f"{x / y:>8.2f}x" if y > 0 else f"{'-':>9}"
            print(f"{'':<9} {'base/this':<{width}} "
                  + " ".join(ratio(b[p], t[p]) for p in PHASES)
                  + " " + ratio(cli[f"base {base}"][n], cli["this tree"][n]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each program; the best counts")
    ap.add_argument("--quick", action="store_true", help="one run each")
    ap.add_argument("--warm", action="store_true",
                    help="keep the compiled code the machines of this process share (as "
                         "the test suite or a notebook running a program again would)")
    ap.add_argument("--startup", action="store_true",
                    help="also the start-up breakdown of each program (see above)")
    ap.add_argument("--base", metavar="REV",
                    help="the start-up breakdown of revision REV too, and the ratio")
    ap.add_argument("names", nargs="*", help="programs (default: every image in roms/programs)")
    args = ap.parse_args()
    repeat = 1 if args.quick else max(1, args.repeat)
    names = args.names or sorted(p.stem for p in PROGRAMS.glob("*.img"))
    unknown = [n for n in names if not (PROGRAMS / f"{n}.img").is_file()]
    if unknown:
        ap.error(f"no such program(s) {unknown} in {PROGRAMS}")
    run_program(PROGRAMS / "hello.img")        # one-off costs (numpy, first translations)

    print(f"{'program':<10} {'first picture':>13} {'total':>8} {'frames':>6} {'fps':>7} "
          f"{'virtual':>8} {'guest/host':>10} {'insns/s':>9}  stopped")
    results = {}
    for name in names:
        runs = [run_program(PROGRAMS / f"{name}.img", args.warm) for _ in range(repeat)]
        best = min(runs, key=lambda r: r.total)
        results[name] = best
        print(f"{name:<10} {best.first:>12.3f}s {best.total:>7.3f}s {best.frames:>6} "
              f"{best.frames / best.total:>7.1f} {best.virtual:>7.3f}s {best.virtual / best.total:>9.2f}x "
              f"{best.instructions / best.total / 1e6:>7.2f}M  {best.stopped}")

    if args.startup or args.base:
        startup_report(names, repeat, args.warm, args.base)

    if shutil.which("nasm") is None:
        print("\n(kernels against unicorn skipped: nasm is needed for the programs' symbol maps)")
        return
    print(f"\n{'kernel':<10} {'instructions':>12} {'vgaemu':>10} {'unicorn':>10} {'ratio':>8}  what")
    for name in names:
        k = KERNELS.get(name)
        if k is None:
            continue
        syms = symbols(k.program)
        best_v, best_u, n = None, None, 0
        for _ in range(repeat):
            tv, n, _ = kernel_vgaemu(k, syms)
            tu, _ = kernel_unicorn(k, syms)
            best_v = tv if best_v is None else min(best_v, tv)
            if tu is not None:
                best_u = tu if best_u is None else min(best_u, tu)
        rv = n / best_v / 1e6
        ru = n / best_u / 1e6 if best_u else None
        print(f"{name:<10} {n:>12} {rv:>8.2f}M/s "
              + (f"{ru:>8.1f}M/s {rv / ru:>8.4f}" if ru else f"{'-':>10} {'-':>8}")
              + f"  {k.what}")


if __name__ == "__main__":
    main()
