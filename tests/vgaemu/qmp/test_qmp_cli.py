"""`-qmp` on the command line: wait=on holds the guest until a client connects; the process
keeps serving after the guest ends, until `quit`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from qemu.qmp import QMPClient

ROOT = Path(__file__).resolve().parents[3]


def vgaemu(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="dummy",
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    return subprocess.Popen([sys.executable, "-m", "vgaemu", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_path(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_wait_on_holds_the_guest_and_quit_ends_the_process(sockdir, tmp_path):
    qsock = os.path.join(sockdir, "q")
    shot = tmp_path / "s.png"
    p = vgaemu("run", "text", "--headless", "--frames", "3", "--screenshot", str(shot),
               "-qmp", f"unix:{qsock},server=on")
    try:
        wait_path(qsock, p)
        time.sleep(1.0)
        assert p.poll() is None and not shot.exists()  # no client yet: the guest waits

        async def body():
            c = QMPClient("cli")
            await c.connect(qsock)
            for _ in range(600):  # the guest runs its 3 frames, the monitor stays
                if shot.exists():
                    break
                await asyncio.sleep(0.05)
            st = await c.execute("query-status")
            text = await c.execute("human-monitor-command", {"command-line": "info status"})
            await c.execute("quit")
            return st, text
        st, text = asyncio.run(asyncio.wait_for(body(), 120))
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert "3 frame(s), max_frames" in out  # the run ended; quit ended the process
        assert st["status"] == "running" and text == "VM status: running\n"
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()


def test_replay_serves_qmp(sockdir):
    qsock = os.path.join(sockdir, "q")
    trace = ROOT / "tests" / "traces" / "m13_dac.json"
    p = vgaemu("replay", str(trace), "-qmp", f"unix:{qsock},server=on,wait=off")
    try:
        wait_path(qsock, p)

        async def body():
            c = QMPClient("replay")
            await c.connect(qsock)
            for _ in range(600):
                d = await c.execute("x-vgaemu-query-display")
                if d["width"] == 640 and d["height"] == 400:
                    break
                await asyncio.sleep(0.05)
            await c.execute("quit")
            return d
        d = asyncio.run(asyncio.wait_for(body(), 120))
        assert (d["width"], d["height"]) == (640, 400)
        p.communicate(timeout=60)
        assert p.returncode == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()


def test_bad_qmp_option_is_one_line_error():
    p = vgaemu("run", "text", "--headless", "--frames", "1", "-qmp", "unix:/tmp/x,server=off")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert err.strip().splitlines() == [
        "vgaemu run: error: -qmp unix:/tmp/x,server=off: vgaemu only listens (server=on), "
        "it does not connect out"]
