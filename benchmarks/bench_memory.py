"""Guest-memory hot paths, as ratios to baselines measured in the same run.

  1. 4-byte address_space_write to RAM  vs  a bare memoryview slice assignment (goal <= 2.5x);
     also stl_le, and unicorn's mem_write of the same 4 bytes (the peer a Python user would pick)
  2. 1 MiB address_space_write           vs  a numpy copy of 1 MiB (goal >= 0.5x its bandwidth)
  3. snapshot_and_clear_dirty over 16 MiB of VRAM (goal <= 50 us)
  4. FlatView lookup with 1,000 regions  vs  with 1 region (goal <= 2x)

Run: .venv/bin/python benchmarks/bench_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import timeit

import numpy as np

from guestmem import (AddressSpace, DirtyClient, MemoryRegion, RAMList,
                      memory_region_transaction_begin, memory_region_transaction_commit)

MiB = 1 << 20


def best(stmt, number, repeat, g) -> float:
    """Seconds per execution: the best of `repeat` runs of `number` executions."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat, globals=g)) / number


def machine(ram_size=64 * MiB):
    rl = RAMList()
    sysmem = MemoryRegion.container("system", (1 << 64) - 1)
    ram = MemoryRegion.ram("pc.ram", ram_size, ram_list=rl)
    sysmem.add_subregion(0, ram)
    vram = MemoryRegion.ram("vga.vram", 16 * MiB, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    sysmem.add_subregion(0xE0000000, vram)
    return rl, sysmem, ram, vram, AddressSpace(sysmem, "memory")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    args = ap.parse_args(argv)
    n_small = 50_000 if args.quick else 400_000
    rep = 3 if args.quick else 7

    rl, sysmem, ram, vram, as_ = machine()
    results = []

    # -- 1. 4-byte writes ------------------------------------------------------------------
    data4 = b"\x01\x02\x03\x04"
    mv = memoryview(ram.get_ram_ptr())
    g = dict(mv=mv, d=data4, w=as_.write, stl=as_.stl_le, a=0x12344, v=0x04030201)
    as_.write(0x12344, data4)  # warm the MRU range
    t_mv = best("mv[a:a+4] = d", n_small, rep, g)
    t_w = best("w(a, d)", n_small, rep, g)
    t_stl = best("stl(a, v)", n_small, rep, g)
    ga = dict(g, w=as_.write, addrs=[random.Random(1).randrange(0, 64 * MiB - 4) for _ in range(1000)])
    t_w_rand = best("for x in addrs: w(x, d)", n_small // 1000, rep, ga) / 1000
    g_vram = dict(g, w=as_.write, a=0xE0000000 + 0x1000)
    t_w_vram = best("w(a, d)", n_small, rep, g_vram)
    results.append(("memoryview slice assignment, 4 B (baseline)", t_mv, None))
    results.append(("address_space_write, 4 B, RAM", t_w, t_w / t_mv))
    results.append(("address_space_write, 4 B, VGA-logged VRAM", t_w_vram, t_w_vram / t_mv))
    results.append(("stl_le, RAM", t_stl, t_stl / t_mv))
    results.append(("address_space_write, 4 B, random RAM address", t_w_rand, t_w_rand / t_mv))
    try:
        import unicorn
        uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_32)
        uc.mem_map(0, 64 * MiB)
        gu = dict(u=uc.mem_write, d=data4, a=0x12344)
        t_uc = best("u(a, d)", n_small, rep, gu)
        results.append(("unicorn Uc.mem_write, 4 B (peer)", t_uc, t_uc / t_mv))
    except ImportError:
        t_uc = float("nan")
        results.append(("unicorn Uc.mem_write, 4 B (peer; not installed)", t_uc, None))

    # -- 2. 1 MiB writes -------------------------------------------------------------------
    src = np.random.default_rng(0).integers(0, 256, MiB, dtype=np.uint8)
    src_b = src.tobytes()
    dst = np.empty(MiB, dtype=np.uint8)
    n_big = 200 if args.quick else 1000
    g2 = dict(np=np, dst=dst, src=src, w=as_.write, b=src_b)
    t_np = best("np.copyto(dst, src)", n_big, rep, g2)
    t_big = best("w(0x100000, b)", n_big, rep, g2)
    t_big_np = best("w(0x100000, src)", n_big, rep, g2)
    results.append(("numpy copy 1 MiB (baseline)", t_np, None))
    results.append(("address_space_write 1 MiB (bytes)", t_big, t_np / t_big))
    results.append(("address_space_write 1 MiB (numpy)", t_big_np, t_np / t_big_np))

    # -- 3. snapshot_and_clear over 16 MiB ---------------------------------------------------
    g3 = dict(s=vram.snapshot_and_clear_dirty, size=16 * MiB, VGA=DirtyClient.VGA,
              setd=vram.set_dirty)
    n_snap = 2000 if args.quick else 20000
    t_snap = best("s(0, size, VGA)", n_snap, rep, g3)
    t_snap_dirty = best("setd(0, size); s(0, size, VGA)", n_snap // 4, rep, g3)
    results.append(("snapshot_and_clear_dirty 16 MiB, clean", t_snap, None))
    results.append(("set_dirty + snapshot_and_clear_dirty 16 MiB, all dirty", t_snap_dirty, None))

    # -- 4. FlatView lookup ------------------------------------------------------------------
    def view(nregions):
        rl2 = RAMList()
        root = MemoryRegion.container("system", 1 << 40)
        memory_region_transaction_begin()
        for i in range(nregions):
            root.add_subregion(i * 0x10000, MemoryRegion.ram(f"r{i}", 0x8000, ram_list=rl2))
        memory_region_transaction_commit()
        return AddressSpace(root, f"lookup{nregions}")

    rng = random.Random(7)
    as1, as1000 = view(1), view(1000)
    addrs1 = [rng.randrange(0, 0x8000) for _ in range(1000)]
    addrs1000 = [rng.randrange(0, 1000) * 0x10000 + rng.randrange(0, 0x8000) for _ in range(1000)]
    n_fv = 100 if args.quick else 1000
    t_fv1 = best("for x in A: f(x)", n_fv, rep, dict(A=addrs1, f=as1.flatview.lookup)) / 1000
    t_fv1000 = best("for x in A: f(x)", n_fv, rep, dict(A=addrs1000, f=as1000.flatview.lookup)) / 1000
    t_ld1 = best("for x in A: f(x)", n_fv, rep, dict(A=addrs1, f=as1.ldl_le)) / 1000
    t_ld1000 = best("for x in A: f(x)", n_fv, rep, dict(A=addrs1000, f=as1000.ldl_le)) / 1000
    t_bs1 = best("for x in A: f(x)", n_fv, rep, dict(A=addrs1, f=as1.flatview.lookup_bisect)) / 1000
    t_bs1000 = best("for x in A: f(x)", n_fv, rep,
                    dict(A=addrs1000, f=as1000.flatview.lookup_bisect)) / 1000
    results.append(("FlatView.lookup, 1 region (baseline)", t_fv1, None))
    results.append(("FlatView.lookup, 1000 regions", t_fv1000, t_fv1000 / t_fv1))
    results.append(("FlatView bisect only (no page memo), 1 region", t_bs1, None))
    results.append(("FlatView bisect only (no page memo), 1000 regions", t_bs1000, t_bs1000 / t_bs1))
    results.append(("ldl_le at random addresses, 1 region", t_ld1, None))
    results.append(("ldl_le at random addresses, 1000 regions (MRU misses)", t_ld1000, t_ld1000 / t_ld1))

    print(f"guestmem benchmark (python {sys.version.split()[0]}, numpy {np.__version__})")
    for name, t, ratio in results:
        r = "" if ratio is None else f"  ratio {ratio:6.2f}x"
        unit = f"{t * 1e9:10.1f} ns" if t < 1e-5 else f"{t * 1e6:10.2f} us"
        print(f"  {name:<58} {unit}{r}")
    print()
    print("goals:")
    print(f"  4-byte write vs memoryview       {t_w / t_mv:5.2f}x   (goal <= 2.5x)")
    print(f"  1 MiB write vs numpy bandwidth   {t_np / t_big:5.2f}x   (goal >= 0.5x)")
    print(f"  snapshot_and_clear 16 MiB        {t_snap * 1e6:5.2f} us  (goal <= 50 us)")
    print(f"  lookup 1000 regions vs 1         {t_fv1000 / t_fv1:5.2f}x   (goal <= 2x; "
          f"bisect alone {t_bs1000 / t_bs1:.2f}x)")
    print(f"  4-byte write vs unicorn mem_write {t_w / t_uc:5.2f}x  (< 1: faster than unicorn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
