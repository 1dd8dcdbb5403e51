"""guestmem hot paths, this tree against an older commit, in one process.

    .venv/bin/python benchmarks/bench_memory_ab.py BASE_COMMIT [--rounds N]

The machine is often shared, so wall-clock figures of two separate runs are not comparable.
This script copies BASE_COMMIT's guestmem (git archive) into a temporary package, builds the
same machine from both, and times each access alternately -- base, new, base, new --
using per-thread CPU time, keeping the best of N rounds.  It prints each figure and the
ratio new/base (below 1: faster now).
"""

from __future__ import annotations

import argparse
import importlib
import io
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20

TESTS = {  # name: (statement, accesses per statement, statements per timing)
    "memoryview slice assignment, 4 B (baseline)": ("mv[a:a+4] = d", 1, 20000),
    "address_space_write, 4 B, RAM": ("w(a, d)", 1, 20000),
    "address_space_write, 4 B, VGA-logged VRAM": ("w(va, d)", 1, 20000),
    "stl_le, RAM": ("stl(a, v)", 1, 20000),
    "address_space_write, 4 B, random RAM address": ("for x in addrs: w(x, d)", 1000, 20),
    "ldl_le, RAM": ("ldl(a)", 1, 20000),
    "ldl_le at random addresses, 1000 regions": ("for x in addrs2: ldl2(x)", 1000, 20),
    "address_space_write 1 MiB": ("w(0, big)", 1, 30),
    "snapshot_and_clear_dirty 16 MiB, clean": ("snap(0, 16 << 20, 0)", 1, 2000),
}


def base_package(commit: str, where: Path) -> str:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "guestmem"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(where, filter="data")
    (where / "guestmem").rename(where / "guestmem_base")
    return "guestmem_base"


def scenario(pkg: str) -> dict:
    gm = importlib.import_module(pkg)
    rl = gm.RAMList()
    system = gm.MemoryRegion.container("system", (1 << 64) - 1)
    ram = gm.MemoryRegion.ram("pc.ram", 64 * MiB, ram_list=rl)
    system.add_subregion(0, ram)
    vram = gm.MemoryRegion.ram("vga.vram", 16 * MiB, ram_list=rl)
    vram.set_log(True, gm.DirtyClient.VGA)
    system.add_subregion(0xE0000000, vram)
    many = gm.MemoryRegion.container("many", 1 << 40)
    rl2 = gm.RAMList()
    for i in range(1000):
        many.add_subregion(i * 0x10000, gm.MemoryRegion.ram(f"r{i}", 0x8000, ram_list=rl2))
    as_ = gm.AddressSpace(system, "memory")
    as2 = gm.AddressSpace(many, "many")
    d = b"\x01\x02\x03\x04"
    as_.write(0x12344, d)
    return dict(d=d, w=as_.write, stl=as_.stl_le, ldl=as_.ldl_le, ldl2=as2.ldl_le,
                a=0x12344, v=0x04030201, va=0xE0001000, big=bytes(MiB),
                addrs=[random.Random(1).randrange(0, 64 * MiB - 4) for _ in range(1000)],
                addrs2=[random.Random(2).randrange(0, 1000) * 0x10000 + 8 for _ in range(1000)],
                snap=vram.snapshot_and_clear_dirty, mv=memoryview(ram.get_ram_ptr()),
                _keep=(rl, rl2, system, many, ram, vram))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="the commit to compare with (e.g. main, a hash)")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = base_package(args.base, Path(tmp))
        sys.path.insert(0, tmp)
        sys.path.insert(0, str(ROOT))
        envs = {"base": scenario(base), "new": scenario("guestmem")}
        best = {(k, t): float("inf") for k in envs for t in TESTS}
        for _ in range(args.rounds):
            for t, (stmt, per, n) in TESTS.items():
                for k, g in envs.items():
                    timer = timeit.Timer(stmt, timer=time.thread_time, globals=g)
                    best[k, t] = min(best[k, t], timer.timeit(n) / n / per)
    print(f"guestmem: this tree vs {args.base} (best of {args.rounds} rounds, thread CPU time)")
    for t in TESTS:
        b, n = best["base", t], best["new", t]
        print(f"  {t:46s} base {b * 1e9:10.1f} ns  new {n * 1e9:10.1f} ns  new/base {n / b:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
