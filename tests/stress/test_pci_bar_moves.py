"""The CPU storing through the LFB at a fixed guest-physical address in one thread, another
thread moving the VGA's BAR0 through PCI config space (to that address, elsewhere, or
unmapped by the command register), each under the machine lock as under QEMU's BQL.
Model: a CPU slice run while BAR0 sat at the address leaves its last stored value in VRAM;
a slice run while it did not leaves VRAM as it was -- so no store goes through a TLB
entry that outlived a BAR move."""

import io
import random
import threading
import time

from vgaemu.cpu.state import DS
from vgaemu.machine import Machine
from vgaemu.pc import PCPlatform

from tests.stress.harness import race

ADDR = 0xE0000000          # where the guest stores
OFF = 0x2344               # in VRAM, when BAR0 is at ADDR
LOOP = bytes.fromhex(
    "67668903"             # 7C00 mov [ebx], eax
    "6640"                 # 7C04 inc eax
    "EBF8")                # 7C06 jmp 7C00
VGA_BAR0 = 0x80001010
VGA_COMMAND = 0x80001004


def test_cpu_stores_follow_bar0_moves(stress_seconds):
    m = Machine(memory="2M", vram="1M")
    PCPlatform(m, output=io.BytesIO())
    cpu = m.cpu
    m.write(0x7C00, LOOP)
    cpu.eip = 0x7C00
    cpu.seg_limit[DS] = 0xFFFFFFFF
    cpu.ebx = ADDR + OFF
    cpu.eax = 1
    vram = m.vga.vram
    lock = threading.Lock()
    stop = threading.Event()
    errors: list = []
    counts = {"mapped": 0, "away": 0, "moves": 0}
    state = {"at_addr": False}

    def vram_word() -> int:
        return int.from_bytes(vram[OFF:OFF + 4].tobytes(), "little")

    def run_cpu():
        rng = random.Random(2)
        while not stop.is_set():
            with lock:
                before = vram_word()
                mapped = state["at_addr"]
                n = cpu.run(max_instructions=rng.randrange(3, 300))
                eax = cpu.eax
                last = eax if cpu.eip == 0x7C04 else eax - 1
                now = vram_word()
            if mapped:
                counts["mapped"] += 1
                if n >= 3 and now != last & 0xFFFFFFFF:
                    errors.append(f"mapped: VRAM holds {now:#x}, the guest last stored {last:#x}")
            else:
                counts["away"] += 1
                if now != before:
                    errors.append(f"BAR0 elsewhere: VRAM changed {before:#x} -> {now:#x}")
            time.sleep(0)

    def mover():
        rng = random.Random(3)
        while not stop.is_set():
            with lock:
                choice = rng.randrange(4)
                if choice == 0:                     # memory space off: every BAR unmapped
                    m.outl(0xCF8, VGA_COMMAND)
                    m.outw(0xCFC, 0x0101)
                    at = False
                else:
                    base = (ADDR, 0xE8000000, 0xD0000000)[choice - 1]
                    m.outl(0xCF8, VGA_BAR0)
                    m.outl(0xCFC, base)
                    m.outl(0xCF8, VGA_COMMAND)
                    m.outw(0xCFC, 0x0103)
                    at = base == ADDR
                state["at_addr"] = at
                assert (m.vga.vram_mr.container is not None and m.vga.vram_mr.addr == ADDR) == at
                counts["moves"] += 1
            time.sleep(0)

    race([run_cpu, mover], stress_seconds(1.5), stop)
    assert not errors, errors[:3]
    assert counts["moves"] > 10 and counts["mapped"] > 3 and counts["away"] > 3, counts
