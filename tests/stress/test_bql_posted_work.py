"""The machine's BQL and posted-work queue under thread switches every microsecond: work
posted from many threads (QMP commands among them) runs only between guest steps, exactly
once, and stop/cont never let the guest take a step while paused."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time

from vgaemu.guest import run_guest
from vgaemu.machine import Machine

A, B = 0x300000, 0x380000


def test_posted_work_sees_only_whole_guest_steps(stress_seconds):
    machine = Machine(memory="16M")
    paused_steps = []
    state = {"k": 0}

    def main(guest):
        k = 0
        while True:
            k += 1
            guest.write(A, k.to_bytes(4, "little"))
            for _ in range(20):  # the middle of a guest step: a switch may land here
                pass
            guest.write(B, k.to_bytes(4, "little"))
            if not machine.loop.running:
                paused_steps.append(k)
            state["k"] = k
            guest.frame()

    done = threading.Event()
    result = {}

    def guest_body():
        result["run"] = run_guest(machine, main)
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        g = threading.Thread(target=guest_body, daemon=True)
        g.start()
        torn, ran, posted = [], [0], [0]
        lock = threading.Lock()

        def check():
            a, b = machine.read(A, 4), machine.read(B, 4)
            if a != b:
                torn.append((a, b))
            with lock:
                ran[0] += 1

        deadline = time.monotonic() + stress_seconds(1.5)

        def poster(i):
            futs = []
            while time.monotonic() < deadline:
                futs.append(machine.post(check))
                with lock:
                    posted[0] += 1
                if i == 0 and len(futs) % 7 == 0:
                    machine.post(machine.loop.vm_stop).result(10)
                    time.sleep(0.002)  # the guest, if it stepped now, records paused_steps
                    machine.post(machine.loop.vm_start).result(10)
            for f in futs:
                f.result(10)

        with tempfile.TemporaryDirectory(prefix="vgs") as d:
            server = machine.qmp_listen(f"unix:{os.path.join(d, 'q')}")
            from tests.vgaemu.qmp.conftest import RawQMP

            def qmp_client():
                c = RawQMP(os.path.join(d, "q"))
                c.recv()
                c.cmd("qmp_capabilities")
                while time.monotonic() < deadline:
                    for cmd in ("stop", "query-status", "cont", "x-vgaemu-query-display"):
                        assert "return" in c.cmd(cmd), cmd
                c.close()
            threads = [threading.Thread(target=poster, args=(i,)) for i in range(3)]
            threads.append(threading.Thread(target=qmp_client))
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            machine.post(machine.loop.vm_start).result(10)
            server.close()
        machine.loop.request_quit()
        assert done.wait(30)
    finally:
        sys.setswitchinterval(old)
    assert torn == []
    assert ran[0] == posted[0]
    assert paused_steps == []
    assert result["run"].stopped == "quit"
