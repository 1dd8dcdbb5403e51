"""A BOOT run under fire: the x86 CPU runs vgaemu/roms/programs/plasma13.img under the PC
platform loop while a display thread snapshots the screen and three QMP clients issue
stop/cont/screendump, device_add/device_del of a pc-dimm and query-migrate, with thread
switches every microsecond.

The model of what must hold:

* no command sees a half frame: every snapshot and every screendump is exactly the picture
  of the last frame the platform finished before it ran;
* while stopped nothing moves: a screendump taken after `stop` is that frame, and no frame
  is produced until `cont`;
* no stale frame after `cont`: once a frame has run after `cont`, a screendump shows a frame
  from after the stop, never the one it was stopped on;
* nothing lost: every command gets exactly one reply, a successful one; every device_del
  gets its DEVICE_DELETED; every posted snapshot runs;
* the guest is not disturbed: the run produces the same frames, frame by frame, at the same
  instruction counts, and halts with the same screen at the same icount as an undisturbed
  run of the same program.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

PROGRAM = Path(__file__).resolve().parents[2] / "vgaemu" / "roms" / "programs" / "plasma13.img"
MEMORY = "32M,slots=2,maxmem=1G"
MAX_FRAMES = 200  # plasma13 halts after 40 PIT ticks (41 frames)
JOIN_S = 120


def _digest(rgb: np.ndarray) -> bytes:
    rgb = np.ascontiguousarray(rgb)
    return hashlib.blake2b(rgb.tobytes() + repr(rgb.shape).encode(), digest_size=16).digest()


class FrameLog:
    """A FrameSink recording each finished frame: (instructions so far, picture digest)."""

    def __init__(self, pc) -> None:
        self.pc = pc
        self.frames: list[tuple[int, bytes]] = []

    def frame(self, machine, info) -> None:
        self.frames.append((self.pc.platform.instructions, _digest(machine.vga.surface)))

    def keys(self) -> list[int]:
        return []


def _boot():
    pc = PC(Machine(memory=MEMORY), floppies=[DiskImage(PROGRAM, "floppy", snapshot=True)],
            output=io.BytesIO())
    pc.boot()
    return pc


def _reference():
    pc = _boot()
    log = FrameLog(pc)
    n, why = run_frames(pc, log, MAX_FRAMES)
    assert why == "halted with interrupts disabled", why
    return log.frames, _digest(pc.machine.vga.surface), pc.platform.instructions


class Client:
    """A raw QMP client that keeps the events it reads between replies."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.events: list[dict] = []
        self.sent = self.replies = 0
        assert "QMP" in self._recv()
        self.cmd("qmp_capabilities")

    def _recv(self) -> dict:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the QMP server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, execute: str, **arguments) -> dict:
        msg = {"execute": execute, "id": self.sent}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode())
        self.sent += 1
        while True:
            reply = self._recv()
            if "event" in reply:
                self.events.append(reply)
                continue
            assert reply.get("id") == msg["id"], (reply, msg)
            self.replies += 1
            assert "return" in reply, (execute, arguments, reply)
            return reply["return"]

    def close(self) -> None:
        self.sock.close()


def _read_ppm(path: str) -> np.ndarray:
    raw = open(path, "rb").read()
    magic, dims, maxval, data = raw.split(b"\n", 3)
    assert magic == b"P6" and maxval == b"255"
    w, h = (int(x) for x in dims.split())
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)


def _one_run(reference, workdir: str, failures: list) -> dict:
    ref_frames, ref_final, ref_icount = reference
    ref_index = {}
    for i, (_, d) in enumerate(ref_frames):
        ref_index.setdefault(d, []).append(i)
    pc = _boot()
    machine = pc.machine
    log = FrameLog(pc)
    qmp_path = os.path.join(workdir, "qmp")
    server = machine.qmp_listen(f"unix:{qmp_path}")
    done = threading.Event()
    out: dict = {}
    counts = {"snapshots": 0, "posted": 0, "stops": 0, "dimms": 0, "queries": 0}

    def fail(what):
        failures.append(what)

    def driver():
        try:
            out["run"] = run_frames(pc, log, MAX_FRAMES)
        except BaseException as e:  # reported below
            fail(f"driver: {type(e).__name__}: {e}")
        finally:
            done.set()

    def snapshotter():
        """A display thread: between two guest steps the surface is the last frame."""
        futs = []
        while not done.is_set():
            fut = machine.post(lambda: (len(log.frames), _digest(machine.vga.surface)))
            counts["posted"] += 1
            futs.append(fut)
            k, d = fut.result(JOIN_S)
            counts["snapshots"] += 1
            if k and d != log.frames[k - 1][1]:
                fail(f"snapshot after frame {k} shows another picture")
        for fut in futs:
            if not fut.done():
                fail("a posted snapshot never ran")

    def stopper():
        """stop / screendump / cont / screendump, checking each picture against the log."""
        c = Client(qmp_path)
        shot = os.path.join(workdir, "shot.ppm")
        while not done.is_set():
            c.cmd("stop")
            counts["stops"] += 1
            if c.cmd("query-status")["status"] != "paused":
                fail("query-status after stop is not paused")
            k = len(log.frames)
            c.cmd("screendump", filename=shot)
            if k and _digest(_read_ppm(shot)) != log.frames[k - 1][1]:
                fail(f"screendump while stopped after frame {k} is not that frame")
            time.sleep(0.005)
            if len(log.frames) != k:
                fail(f"a frame ran while stopped ({k} -> {len(log.frames)})")
            c.cmd("cont")
            deadline = time.monotonic() + 30
            while len(log.frames) == k and not done.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)
            if done.is_set():
                break
            if len(log.frames) == k:
                fail("no frame ran within 30 s of cont")
                break
            c.cmd("screendump", filename=shot)
            d = _digest(_read_ppm(shot))
            later = [i for i, (_, f) in enumerate(log.frames) if f == d and i >= k]
            if not later:
                fail(f"screendump after cont shows a frame from before the stop (frame {k})")
        c.cmd("cont")
        c.close()

    def hotplugger():
        c = Client(qmp_path)
        i = 0
        while not done.is_set():
            i += 1
            c.cmd("object-add", **{"qom-type": "memory-backend-ram", "id": f"m{i}",
                                   "size": 128 << 20})
            c.cmd("device_add", driver="pc-dimm", id=f"d{i}", memdev=f"m{i}")
            if not any(d["data"]["id"] == f"d{i}" for d in c.cmd("query-memory-devices")):
                fail(f"d{i} missing from query-memory-devices after device_add")
            c.cmd("device_del", id=f"d{i}")
            c.cmd("object-del", id=f"m{i}")
            counts["dimms"] += 1
        deleted = {e["data"]["device"] for e in c.events if e["event"] == "DEVICE_DELETED"}
        c.cmd("query-status")  # events sent before this reply have been read
        deleted |= {e["data"]["device"] for e in c.events if e["event"] == "DEVICE_DELETED"}
        missing = {f"d{j}" for j in range(1, i + 1)} - deleted
        if missing:
            fail(f"DEVICE_DELETED never came for {sorted(missing)}")
        if c.cmd("query-memory-devices"):
            fail("a pc-dimm is left plugged")
        c.close()

    def querier():
        c = Client(qmp_path)
        while not done.is_set():
            if c.cmd("query-migrate") not in ({}, {"status": "none"}):
                fail("query-migrate reports a migration nobody started")
            c.cmd("x-vgaemu-query-display")
            counts["queries"] += 1
        c.close()
        out["clients"] = c

    def guarded(fn):
        def body():
            try:
                fn()
            except BaseException as e:  # a failed check: record it, let the guest finish
                fail(f"{fn.__name__}: {type(e).__name__}: {e}")
                machine.loop.vm_start()
        return body

    g = threading.Thread(target=driver, name="driver", daemon=True)
    helpers = [threading.Thread(target=guarded(f), name=f.__name__, daemon=True)
               for f in (snapshotter, stopper, hotplugger, querier)]
    for t in helpers:
        t.start()
    g.start()
    g.join(JOIN_S)
    for t in helpers:
        t.join(JOIN_S)
    server.close()
    if g.is_alive() or any(t.is_alive() for t in helpers):
        fail("a thread did not finish: " + ", ".join(t.name for t in [g, *helpers] if t.is_alive()))
        return counts
    n, why = out.get("run", (None, None))
    if why != "halted with interrupts disabled":
        fail(f"the guest ended with {why!r}")
    if log.frames != ref_frames:
        first = next((i for i, (a, b) in enumerate(zip(log.frames, ref_frames)) if a != b),
                     min(len(log.frames), len(ref_frames)))
        fail(f"frames differ from the undisturbed run from frame {first} "
             f"({len(log.frames)} vs {len(ref_frames)} frames)")
    if (_digest(machine.vga.surface), pc.platform.instructions) != (ref_final, ref_icount):
        fail("the final screen or icount differs from the undisturbed run")
    return counts


def test_boot_run_with_display_thread_and_qmp_clients(stress_seconds):
    reference = _reference()
    failures: list[str] = []
    totals: dict = {}
    runs = 0
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        deadline = time.monotonic() + stress_seconds(1.0)
        while True:
            with tempfile.TemporaryDirectory(prefix="vgst") as d:
                counts = _one_run(reference, d, failures)
            runs += 1
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
            if failures or time.monotonic() >= deadline:
                break
    finally:
        sys.setswitchinterval(old)
    assert failures == [], failures
    # The scenario really interleaved: every kind of disturbance happened during the run.
    assert totals["snapshots"] > 0 and totals["stops"] > 0 and totals["dimms"] > 0 \
        and totals["queries"] > 0, totals
