"""The compiled code shared by every machine of a process (vgaemu.cpu.translate's code-object
cache), used by machines running in several threads at once with a tiny switch interval,
while another thread keeps clearing the cache and the cache is kept small enough to be
cleared by its own bound.  Model: every run ends exactly as the same run alone does -- a
code object found in the cache is always the one for that source, bound to the machine's
own globals."""

import sys
import threading
import time

from vgaemu.cpu import translate
from vgaemu.machine import Machine

# 7C00 mov bx, [0500h]; 7C04 add ax, bx; inc word [0500h]; dec cx; jnz 7C00; hlt
# (the block's literals differ per machine: each writes its own copy of the code with
# another immediate patched in at 7C10, so the machines translate different sources too)
CODE = bytes.fromhex("8B1E0005" "01D8" "FF060005" "49" "75F3" "F4")


def program(k: int) -> bytes:
    # 7C0E: add ax, k (an immediate that differs per machine) then the loop above
    return bytes.fromhex("05") + k.to_bytes(2, "little") + CODE


def run_on(m, k: int, tb_threshold: int):
    """Load program k into ``m`` and run it from scratch (its TBs forgotten first, so it
    translates again -- and finds its code in the shared cache when another machine or an
    earlier run left it there)."""
    cpu = m.cpu
    cpu.tb_cache.flush()
    cpu.reset()
    cpu.tb_threshold = tb_threshold
    m.write(0x7C00, program(k))
    m.write(0x500, k.to_bytes(2, "little"))
    cpu.cx = 50
    cpu.run(max_instructions=100_000)
    assert cpu.halted
    return cpu.ax, cpu.bx, m.read(0x500, 2)


def test_machines_in_threads_share_compiled_code_safely(stress_seconds, monkeypatch):
    monkeypatch.setattr(translate, "_CODE_OBJECTS_MAX", 8)
    # The machines are made here: guestmem's memory-region transactions are process-global
    # (as QEMU's, under its BQL), so machines are not created in several threads at once.
    machines = [Machine(memory="2M", vram="1M") for _ in range(4)]
    want = {}
    for k in range(6):
        for thr in (0, 2):
            want[k, thr] = run_on(machines[3], k, thr)
    stop = threading.Event()
    errors: list = []
    runs = [0]

    def worker(seed: int) -> None:
        m = machines[seed]
        i = seed
        while not stop.is_set():
            k, thr = i % 6, (i // 6) % 2 * 2
            try:
                got = run_on(m, k, thr)
            except Exception as e:   # reported below
                import traceback
                errors.append(traceback.format_exc())
                return
            if got != want[k, thr]:
                errors.append(f"machine {k} (tb_threshold {thr}): {got} != {want[k, thr]}")
            runs[0] += 1
            i += 5

    def clearer() -> None:
        while not stop.is_set():
            translate.clear_code_cache()
            time.sleep(0.001)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
        threads.append(threading.Thread(target=clearer))
        for t in threads:
            t.start()
        time.sleep(stress_seconds(1.5))
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        sys.setswitchinterval(old)
        for m in machines:
            m.cpu.close()
    assert not errors, "\n".join(errors[:1])
    assert runs[0] >= 3
