"""Live migrations of a booted PC taken again and again while its CPU thread runs, with thread
switches every microsecond: keys.img, driven by a key script, migrates (precopy: the guest
keeps running while RAM is sent) to a file; each stream loads into a fresh PC started with the
same options, which runs on.

The model of what must hold: a stream is a consistent cut between two frames -- loaded, it is
the machine an undisturbed run has after that many frames (same instructions, same virtual
time), and it goes on exactly as that run does (same instructions and picture, frame by
frame), its pending keys typed once at their times.  The source, resumed after each
migration (`cont` from postmigrate), is not disturbed either.
"""

from __future__ import annotations

import hashlib
import io
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

PROGRAM = Path(__file__).resolve().parents[2] / "vgaemu" / "roms" / "programs" / "keys.img"
KEYS = [f"{t / 10:.1f}s:{k}" for t, k in zip(range(3, 48, 3), ["right", "down", "left", "up",
                                                                  "shift+right", "kp2"] * 10)]
MAX_FRAMES = 300
AFTER = 12   # frames each destination runs on


def _digest(rgb: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(rgb).tobytes(), digest_size=16).digest()


class FrameLog:
    def __init__(self, pc) -> None:
        self.pc = pc
        self.frames: list[tuple[int, int, bytes]] = []

    def frame(self, machine, info) -> None:
        self.frames.append((self.pc.platform.instructions, machine.clock.now_ns,
                            _digest(machine.vga.surface)))

    def keys(self):
        return []


def _boot():
    pc = PC(Machine(memory="16M", vram="4M"), floppies=[DiskImage(PROGRAM, "floppy", snapshot=True)],
            output=io.BytesIO(), keys=KEYS)
    pc.boot()
    return pc


def test_live_migrations_of_a_running_pc_are_consistent_cuts(stress_seconds):
    seconds = stress_seconds(4.0)
    ref = _boot()
    ref_log = FrameLog(ref)
    run_frames(ref, ref_log, MAX_FRAMES)
    reference = ref_log.frames

    src = _boot()
    src_log = FrameLog(src)
    errors: list[BaseException] = []

    def drive():
        try:
            run_frames(src, src_log, MAX_FRAMES)
        except BaseException as e:  # reported below
            errors.append(e)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    checked = 0
    try:
        t = threading.Thread(target=drive, daemon=True)
        t.start()
        import time
        deadline = time.monotonic() + seconds
        with tempfile.TemporaryDirectory() as d:
            while t.is_alive() and (time.monotonic() < deadline or checked == 0):
                path = Path(d) / f"s{checked}.vgaemu"
                info = src.machine.migration.migrate(f"file:{path}", timeout=120)
                assert info["status"] == "completed", info
                src.machine.post(src.machine.loop.vm_start).result(60)
                dst = _boot()
                dst.machine.incoming_migration(f"file:{path}").run()
                n = dst.platform.frame_index
                if n + AFTER > MAX_FRAMES:
                    break
                if n:
                    assert (dst.platform.instructions, dst.machine.clock.now_ns) == \
                        reference[n - 1][:2], f"cut at frame {n} is not between two frames"
                log = FrameLog(dst)
                run_frames(dst, log, AFTER)
                assert log.frames == reference[n:n + AFTER], f"diverged after frame {n}"
                checked += 1
            src.machine.loop.request_quit()
            t.join(120)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    assert checked >= 1
    print(f"{checked} live migration(s) checked")
    # The source, migrated away and resumed each time, produced the undisturbed run's frames.
    assert src_log.frames == reference[:len(src_log.frames)]
