"""The x86 CPU's speed: guest instructions per second on three programs, for the TB path,
the decode-every-instruction path (Machine(tb_cache=False)) and unicorn (QEMU's TCG in C),
all measured in the same run on the same guest code (benchmarks/cpu/*.asm, binaries
committed):

  loop   ALU work and branches (add/xor/inc/test/jnz/sub/shl/adc/dec/jnz, 9 a turn)
  store  word stores and REP STOSD into RAM, dword stores and A32 REP STOSD into VRAM
         through the linear framebuffer (unreal mode)
  smc    each turn rewrites an immediate in the running block (the TB dies, is translated
         again), every 8th turn also code on another page that it then calls
  branch short blocks joined by jumps, a two-way branch, a call and a return (5 blocks and
         10 instructions a turn, the stack on the code's page): the cost of getting from
         one TB to the next (chaining, the dispatch loop)

Goals (issue 10): TB path >= 10x the decode path; >= 5 M instructions/s on `loop`, and
>= 1/12 of unicorn's rate there.  Rates count guest instructions as the X86CPU does (a REP
string instruction is one); unicorn runs the same programs for the same number of turns.
Also: the cost of one store into an already-dirty RAM page against a register-only
instruction in the same loop shape (the store's fast path is one memoryview item store).

Run: .venv/bin/python benchmarks/bench_cpu.py [--quick]
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from pathlib import Path

from vgaemu.machine import Machine

PROGRAMS = Path(__file__).resolve().parent / "cpu"
LOAD = 0x7C00
ARGS = 0x500
LFB = 0xFD000000


def load(name: str) -> bytes:
    return (PROGRAMS / f"{name}.bin").read_bytes()


def run_vgaemu(code: bytes, turns: int, *, tb_cache: bool):
    """(instructions, seconds, counters) for one run of `code` to its HLT."""
    m = Machine(tb_cache=tb_cache)
    m.write(LOAD, code)
    m.write(ARGS, struct.pack("<II", turns, LFB))
    cpu = m.cpu
    t = time.perf_counter()
    n = cpu.run(max_instructions=1 << 40)
    dt = time.perf_counter() - t
    if not cpu.halted:
        raise SystemExit(f"the program did not halt ({cpu!r})")
    return n, dt, cpu.counters.total


def run_unicorn(code: bytes, turns: int) -> float:
    """Seconds for unicorn to run `code` to its HLT (RAM below 2 MiB, 16 MiB at the LFB)."""
    from unicorn import UC_ARCH_X86, UC_MODE_16, Uc
    from unicorn import x86_const as X

    uc = Uc(UC_ARCH_X86, UC_MODE_16)
    uc.mem_map(0, 2 << 20)
    uc.mem_map(LFB, 16 << 20)
    uc.mem_write(LOAD, code)
    uc.mem_write(ARGS, struct.pack("<II", turns, LFB))
    uc.reg_write(X.UC_X86_REG_SP, 0x7C00)
    hlt = LOAD + code.index(b"\xfa\xf4") + 1        # the program's final CLI; HLT
    t = time.perf_counter()
    uc.emu_start(LOAD, hlt)
    return time.perf_counter() - t


def plain_python_loop(turns: int) -> float:
    """Instructions/s of loop.asm's turn written by hand as a plain Python loop (the same
    instructions' work, no flags beyond the carry ADC reads, no budget): the ceiling
    for generated Python, measured in the same run as the TB path."""
    def turn_loop(n):
        eax, ecx, ebx, edx, si = 0, n, 1, 0, 0
        while True:
            eax = (eax + ebx) & 0xFFFFFFFF
            ebx ^= eax
            si = (si + 1) & 0xFFFF
            if not si & 3:
                edx = (edx - eax) & 0xFFFFFFFF
            ebx = (ebx << 1 | ebx >> 31) & 0xFFFFFFFF     # shl ebx, 1; adc ebx, 0
            ecx = (ecx - 1) & 0xFFFFFFFF
            if not ecx:
                return eax, ebx, edx
    t = time.perf_counter()
    turn_loop(turns)
    dt = time.perf_counter() - t
    return turns * 9.25 / dt   # as the CPU counts: 9 a turn, and SUB in one turn of four


def store_cost(turns: int) -> tuple[float, float]:
    """ns per turn of `add ax, 1; mov [bx], ax; dec cx; jnz` against the same loop with the
    store replaced by a register move, on the TB path, translated and the page already
    dirty before the timed run."""
    def loop(body: bytes) -> float:
        # l: add ax, 1 ; <body> ; dec ecx ; jnz l ; cli ; hlt   (ECX = turns)
        code = b"\x83\xc0\x01" + body + b"\x66\x49\x75" + bytes([(-(3 + len(body) + 4)) & 0xFF])
        m = Machine()
        m.write(LOAD, code + b"\xfa\xf4")
        cpu = m.cpu
        for n in (100, turns):          # a warm-up run, then the timed one
            cpu.reset()
            cpu.bx, cpu.ecx = 0x2000, n
            t = time.perf_counter()
            cpu.run(max_instructions=1 << 40)
            dt = time.perf_counter() - t
        return dt / turns * 1e9
    return loop(b"\x89\x07"), loop(b"\x89\xc2")       # mov [bx], ax  /  mov dx, ax


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer turns (CI smoke run)")
    args = ap.parse_args(argv)
    q = 10 if args.quick else 1
    # turns per program for the TB path, the decode path and unicorn: about a second each
    turns = {"loop": (400_000 // q, 4_000 // q, 8_000_000 // q),
             "store": (40 // q or 2, 1, 400 // q),
             "smc": (400 // q, 96 // q, 400_000 // q),
             "branch": (200_000 // q, 2_000 // q, 4_000_000 // q)}
    rows = []
    counts = {}
    for name in ("loop", "store", "smc", "branch"):
        code = load(name)
        tb_turns, dec_turns, uc_turns = turns[name]
        n_tb, t_tb, counts[name] = run_vgaemu(code, tb_turns, tb_cache=True)
        n_dec, t_dec, _ = run_vgaemu(code, dec_turns, tb_cache=False)
        # instructions are linear in the turns: unicorn's count follows from the two runs
        per_turn = (n_tb - n_dec) / (tb_turns - dec_turns)
        n_uc = n_tb + per_turn * (uc_turns - tb_turns)
        t_uc = run_unicorn(code, uc_turns)
        rows.append((name, n_tb / t_tb, n_dec / t_dec, n_uc / t_uc))
    print(f"{'program':8} {'TB path':>14} {'decode path':>14} {'unicorn':>14} "
          f"{'TB/decode':>10} {'TB/unicorn':>11}")
    for name, tb, dec, uc in rows:
        print(f"{name:8} {tb / 1e6:11.3g} M/s {dec / 1e6:11.3g} M/s {uc / 1e6:11.3g} M/s "
              f"{tb / dec:9.3g}x {tb / uc:10.3g}")
    print("\nTB path counters:")
    for name, c in counts.items():
        print(f"  {name:7} instructions {c.instructions:>9}  TBs executed {c.tbs_executed:>8}  "
              f"chained {c.tbs_chained:>8}  translated {c.tbs_translated:>4}  "
              f"invalidated {c.tbs_invalidated:>4}  notdirty {c.notdirty_writes:>6}")
    b = counts["branch"]
    print(f"  branch: {rows[3][1] / 1e6 * b.instructions / b.tbs_executed:.3g} M blocks/s "
          f"({1e3 / (rows[3][1] / 1e6 * b.instructions / b.tbs_executed):.0f} ns a block, "
          f"{b.tbs_chained / b.tbs_executed:.0%} of them reached through a chain link)")
    loop_tb, loop_dec, loop_uc = rows[0][1:]
    print("\ngoals on `loop`:")
    print(f"  TB path >= 10x decode path   {loop_tb / loop_dec:8.1f}x   "
          f"{'met' if loop_tb >= 10 * loop_dec else 'NOT met'}")
    print(f"  >= 5 M instructions/s        {loop_tb / 1e6:8.2f} M  "
          f"{'met' if loop_tb >= 5e6 else 'NOT met'}")
    print(f"  >= 1/12 of unicorn           {loop_tb / loop_uc:8.3f}   "
          f"{'met' if loop_tb * 12 >= loop_uc else 'NOT met'}")
    ideal = plain_python_loop(turns["loop"][0])
    print(f"\nloop written as a plain Python loop: {ideal / 1e6:.3g} M/s; the TB path runs at "
          f"{loop_tb / ideal:.2f} of it")
    with_store, without = store_cost(200_000 // q)
    print(f"\none turn with a store into a dirty RAM page: {with_store:6.1f} ns; with a register "
          f"move instead: {without:6.1f} ns (the store adds {with_store - without:5.1f} ns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
