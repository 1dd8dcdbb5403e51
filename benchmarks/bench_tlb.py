"""The softmmu TLB's store paths, as ratios to a bare memoryview store measured in the same
run (what generated code does on a write_pages hit).

  1. direct: `m = WP[a >> 12]; m[a & 4095] = v`    -- the baseline (goal: the only cost)
  2. SoftTLB.store with the write entry present   -- a page-crossing or unlucky store
  3. notdirty_write: the first store to a page after a display snapshot (snapshot included,
     amortised over the pages it cleans), i.e. what a frame costs per touched VRAM page
  4. a store beside translated code (page protected, no TB hit): QEMU's price of data on a
     code page, vs a retranslation (compile() of a small TB) it avoids
  5. address_space stb on RAM (the path without a TLB)
  6. a byte store into MMIO (the legacy VGA window in planar modes) through SoftTLB.store,
     vs address_space stb on the same region (the TLB's own overhead on that path)

Run: .venv/bin/python benchmarks/bench_tlb.py [--quick]
"""

from __future__ import annotations

import argparse
import timeit

from guestmem import DIRTY_MEMORY_VGA, AddressSpace, MemoryRegion, MemoryRegionOps, RAMList

from vgaemu.cpu.counters import CPUCounters
from vgaemu.cpu.tb import TBCache, TranslationBlock
from vgaemu.cpu.tlb import SoftTLB

P = 4096
VRAM = 0x1000000


def best(stmt, number, repeat, g) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=repeat, globals=g)) / number


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (CI smoke run)")
    args = ap.parse_args()
    n, rep = (20_000, 3) if args.quick else (200_000, 7)

    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    ram = MemoryRegion.ram("ram", 64 * P, ram_list=rl)
    vram = MemoryRegion.ram("vram", 256 * P, ram_list=rl)
    vram.set_log(True, DIRTY_MEMORY_VGA)
    root.add_subregion(0, ram)
    root.add_subregion(VRAM, vram)
    regs = bytearray(P)
    mmio = MemoryRegion.io("mmio", P, MemoryRegionOps(
        read=lambda o, size: regs[o], write=lambda o, v, size: regs.__setitem__(o, v & 0xFF)))
    root.add_subregion(0xA0000, mmio)
    as_ = AddressSpace(root, "memory")
    tlb = SoftTLB(as_, CPUCounters())
    tbc = TBCache(as_, tlb)
    tlb.tlb_fill(2)
    vram_ra = as_.current_map().lookup(VRAM).ram_addr_delta
    vram_ra = VRAM - vram_ra
    g = dict(WP=tlb.write_pages, tlb=tlb, as_=as_, rl=rl, vram_ra=vram_ra, P=P, VRAM=VRAM,
             DIRTY_MEMORY_VGA=DIRTY_MEMORY_VGA, TranslationBlock=TranslationBlock, tbc=tbc)

    direct = best("m = WP[0x2123 >> 12]; m[0x2123 & 4095] = 7", n, rep, g)
    slow_hit = best("tlb.store(0x2123, 1, 7)", n, rep, g)

    # notdirty: snapshot 64 VRAM pages, then the first store to each
    pages = 64
    g["pages"] = pages
    frame = best("rl.dirty.snapshot_and_clear_dirty(vram_ra, pages * P, DIRTY_MEMORY_VGA)\n"
                 "for i in range(pages):\n    tlb.store(VRAM + i * P + 5, 1, i)",
                 max(1, n // 200), rep, g) / pages

    # a page holding code: stores beside the TB take the slow path but kill nothing
    tbc.insert(TranslationBlock(5 * P, 0, 0, 16))
    beside = best("tlb.store(5 * P + 0x800, 1, 7)", n, rep, g)
    compile_tb = best("compile('def tb(cpu, budget):\\n    R = cpu.regs\\n    x = R[0]\\n"
                      "    x = (x + 1) & 0xFFFF\\n    R[0] = x\\n    cpu.eip = 31747\\n"
                      "    return 2\\n', '<tb>', 'exec')", max(1, n // 50), rep, g)

    as_stb = best("as_.stb(0x2123, 7)", n, rep, g)
    mmio_tlb = best("tlb.store(0xA0123, 1, 7)", n, rep, g)
    mmio_as = best("as_.stb(0xA0123, 7)", n, rep, g)

    print(f"{'path':<52} {'ns/store':>10} {'x direct':>9}")
    for name, t in [("direct write entry (baseline)", direct),
                    ("SoftTLB.store, write entry present", slow_hit),
                    ("notdirty_write per page after a snapshot", frame),
                    ("store beside code (protected page, no TB hit)", beside),
                    ("  vs compile() of a 5-line TB it avoids", compile_tb),
                    ("address_space stb (no TLB)", as_stb),
                    ("MMIO byte through SoftTLB.store", mmio_tlb),
                    ("MMIO byte through address_space stb", mmio_as)]:
        print(f"{name:<52} {t * 1e9:>10.0f} {t / direct:>9.1f}")


if __name__ == "__main__":
    main()
