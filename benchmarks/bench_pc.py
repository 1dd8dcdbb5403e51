"""What the PC platform's machine loop costs the CPU: the same guest loop run for the same
number of instructions by ``cpu.run`` alone and by ``PCPlatform.run_until`` (icount slices
up to each timer deadline, the PIC check between blocks, IRQ 0 at 18.2 Hz into a handler
that counts ticks and sends the EOI), measured in the same run.

How fast the programs in vgaemu/roms/programs/ run (first picture, frames per second, guest
time over host time, against unicorn) is benchmarks/bench_boot.py.

Run: .venv/bin/python benchmarks/bench_pc.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform

# mov word [0x20], irq0 / mov [0x22], 0 / sti / loop: add ax, bx; xor bx, ax; inc cx; jmp loop
# irq0: inc word [0x500]; push ax; mov al, 20h; out 20h, al; pop ax; iret
LOOP = """
bits 16
org 0x7c00
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov word [0x20], irq0
    mov word [0x22], 0
    sti
l:  add ax, bx
    xor bx, ax
    inc cx
    jmp l
irq0:
    inc word [0x500]
    push ax
    mov al, 0x20
    out 0x20, al
    pop ax
    iret
"""


def assemble(src: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "t.asm").write_text(src)
        subprocess.run(["nasm", "-f", "bin", "-o", f"{d}/t.bin", f"{d}/t.asm"], check=True)
        return (Path(d) / "t.bin").read_bytes()


#: Both runs first execute this many instructions untimed (100 ms of virtual time: one IRQ 0
#: tick), so every block -- the handler's too -- is translated before the clock starts.
WARMUP = 1_000_000


def bare(code: bytes, n: int) -> float:
    m = Machine()
    m.write(0x7C00, code)
    m.cpu.run(max_instructions=WARMUP)
    t0 = time.perf_counter()
    m.cpu.run(max_instructions=n)
    return time.perf_counter() - t0


def platform(code: bytes, n: int) -> tuple[float, int]:
    m = Machine()
    pc = PCPlatform(m, output=io.BytesIO())
    m.write(0x7C00, code)
    pc.run_until(WARMUP * pc.ns_per_insn)
    t0 = time.perf_counter()
    pc.run_until((WARMUP + n) * pc.ns_per_insn)
    dt = time.perf_counter() - t0
    return dt, int.from_bytes(m.read(0x500, 2), "little")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if shutil.which("nasm") is None:
        raise SystemExit("bench_pc needs nasm")
    code = assemble(LOOP)
    n = 1_000_000 if args.quick else 5_000_000
    bares, runs = [], []
    for _ in range(3):   # interleaved, so a change in host load hits both alike
        bares.append(bare(code, n))
        runs.append(platform(code, n))
    b = min(bares)
    p = min(r[0] for r in runs)
    print(f"loop, {n} instructions: cpu.run {n / b / 1e6:.2f} M/s, "
          f"PCPlatform {n / p / 1e6:.2f} M/s ({runs[0][1]} IRQ 0 ticks handled in all); "
          f"platform / bare = {b / p:.2f}")


if __name__ == "__main__":
    main()
