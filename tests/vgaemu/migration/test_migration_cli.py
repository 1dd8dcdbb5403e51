"""Two vgaemu processes: `vgaemu run ... -qmp` as the source, `-incoming` as the destination,
and save/restore through --save-on-exit / -incoming file:."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from qemu.qmp import QMPClient

from vgaemu.frontends.imaging import read_png

ROOT = Path(__file__).resolve().parents[3]


def vgaemu(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="dummy",
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    return subprocess.Popen([sys.executable, "-m", "vgaemu", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_path(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_migrate_a_running_demo_between_processes(sockdir):
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    src_png, dst_png = os.path.join(sockdir, "src.png"), os.path.join(sockdir, "dst.png")
    src = vgaemu("run", "plasma", "--headless", "--frames", "100000", "-qmp",
                 f"unix:{qsock},server=on,wait=off")
    dst = vgaemu("run", "plasma", "--headless", "--frames", "2", "--screenshot", dst_png,
                 "-incoming", f"unix:{msock}")
    try:
        wait_path(qsock, src)
        wait_path(msock, dst)

        async def body():
            c = QMPClient("cli")
            await c.connect(qsock)
            # Migrate once plasma is in mode 13h: a text screen's cursor blink would make the
            # destination's later frames differ from the source's stop point.
            for _ in range(1200):
                d = await c.execute("x-vgaemu-query-display")
                if d.get("mode") and (d["width"], d["height"]) == (640, 400):
                    break
                await asyncio.sleep(0.05)
            await c.execute("migrate", {"uri": f"unix:{msock}"})
            while (info := await c.execute("query-migrate"))["status"] not in ("completed", "failed"):
                await asyncio.sleep(0.05)
            await c.execute("screendump", {"filename": src_png, "format": "png"})
            status = await c.execute("query-status")
            await c.execute("quit")
            return info, status
        info, status = asyncio.run(asyncio.wait_for(body(), 120))
        assert info["status"] == "completed", info
        assert status["status"] == "postmigrate"
        out, err = dst.communicate(timeout=60)
        assert dst.returncode == 0, err
        assert "incoming migration completed" in out
        assert "showing the restored machine" in out
        src.communicate(timeout=30)
        assert src.returncode == 0
        assert np.array_equal(read_png(src_png), read_png(dst_png))
    finally:
        for p in (src, dst):
            if p.poll() is None:
                p.kill()
                p.communicate()


def test_save_on_exit_then_resume_from_file(sockdir):
    state = os.path.join(sockdir, "state.vgaemu")
    a, b = os.path.join(sockdir, "a.png"), os.path.join(sockdir, "b.png")
    p = vgaemu("run", "sprites", "--headless", "--frames", "20", "--screenshot", a,
               "--save-on-exit", state)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "machine saved to" in out
    q = vgaemu("run", "sprites", "--headless", "--frames", "1", "--screenshot", b,
               "-incoming", f"file:{state}")
    out, err = q.communicate(timeout=120)
    assert q.returncode == 0, err
    assert np.array_equal(read_png(a), read_png(b))


def test_destination_exits_with_one_line_error_on_a_bad_stream(sockdir):
    bad = os.path.join(sockdir, "bad.vgaemu")
    Path(bad).write_bytes(b"VGAEMUMS\x01\x00\x00\x00\x01\x01\x00\x00\x00")
    p = vgaemu("run", "plasma", "--headless", "--frames", "1", "-incoming", f"file:{bad}")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vgaemu run: error: incoming migration failed:")
    assert "frame(s)" not in out  # the guest never ran
    q = vgaemu("run", "plasma", "--headless", "--frames", "1", "-m", "128M",
               "-incoming", f"file:{bad}")
    q.communicate(timeout=120)
    assert q.returncode == 1


RESUMABLE_SCRIPT = '''
RESUMABLE = True
COUNTER = 0x500000


def main(guest):
    # All of the script's state lives in guest RAM, so it can pick up where a saved run was.
    n = int.from_bytes(guest.read(COUNTER, 4), "little")
    while True:
        n += 1
        guest.write(COUNTER, n.to_bytes(4, "little"))
        guest.frame()
'''


def test_resumable_script_is_rerun_on_the_restored_machine(sockdir):
    from vgaemu.machine import Machine

    script = Path(sockdir) / "counter.py"
    script.write_text(RESUMABLE_SCRIPT)
    s1, s2 = os.path.join(sockdir, "1.vgaemu"), os.path.join(sockdir, "2.vgaemu")
    p = vgaemu("run", str(script), "--headless", "--frames", "7", "--save-on-exit", s1)
    assert p.communicate(timeout=120) and p.returncode == 0
    q = vgaemu("run", str(script), "--headless", "--frames", "5", "-incoming", f"file:{s1}",
               "--save-on-exit", s2)
    out, err = q.communicate(timeout=120)
    assert q.returncode == 0, err
    assert "resuming the script on the restored machine" in out
    m = Machine()
    m.incoming_migration(f"file:{s2}").run()
    assert int.from_bytes(m.read(0x500000, 4), "little") == 12
