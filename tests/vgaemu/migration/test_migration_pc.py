"""Migrating a booted PC and a DOS .COM run: `vgaemu boot ... -qmp` as the source, a second
`vgaemu boot ... -incoming` as the destination, save/restore through --save-on-exit, and
the refusals of a destination started differently.  The icount clock makes a run
deterministic, so "continues exactly" is checked against an undisturbed run of the same
number of frames: same screenshot, same instruction count, same virtual time."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from qemu.qmp import QMPClient

from vgaemu.cli import main
from vgaemu.frontends.imaging import read_png
from vgaemu.machine import Machine
from vgaemu.migration.errors import MigrationError
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

from .test_migration_cli import vgaemu, wait_path

ROOT = Path(__file__).resolve().parents[3]
PROGRAMS = ROOT / "vgaemu" / "roms" / "programs"
PLASMA = str(PROGRAMS / "plasma13.img")
KEYS = str(PROGRAMS / "keys.img")
#: keys.img's key script: far enough in virtual time that a live migration started at once
#: completes before the first key (asserted), near enough to keep the runs short
KEY_SCRIPT = ["--keys", "30s:right", "--keys", "30.2s:shift+down", "--keys", "30.5s:text:ab",
              "--keys", "31s:left:300ms"]
FIRST_KEY_FRAME = 30 * 60

SUMMARY = re.compile(r": (\d+) frame\(s\), .*; (\d+) instructions, ([\d.]+) s of virtual time")
RESUMED = re.compile(r"resuming at frame (\d+), (\d+) instructions")


def summary(out: str) -> tuple[int, str]:
    """(instructions, virtual seconds) of a headless PC run's last summary line."""
    m = SUMMARY.findall(out)
    assert m, out
    return int(m[-1][1]), m[-1][2]


class Sink:
    def frame(self, machine, info):
        pass

    def keys(self):
        return []


def make_pc(image, *, snapshot=True, keys=()):
    pc = PC(Machine(), floppies=[DiskImage(image, "floppy", snapshot=snapshot)],
            output=io.BytesIO(), keys=list(keys))
    pc.boot()
    return pc


def ram_digest(machine) -> str:
    h = hashlib.sha256()
    for b in machine.ram_list.blocks:
        h.update(bytes(b.host[:b.used_length]))
    return h.hexdigest()


# ---- in one process, through the Python API -------------------------------------------------

@pytest.mark.parametrize("image,before,after,keys", [
    (PLASMA, 12, 9, ()),
    (KEYS, 20, 70, ("0.2s:right", "0.5s:shift+down", "0.6s:text:ab", "1.2s:left:200ms")),
])
def test_a_migrated_pc_continues_as_an_undisturbed_run(tmp_path, image, before, after, keys):
    """Every timer (PIT edge, key script, keyboard bytes, INT 15h waits) and counter
    travels: the destination's RAM, VRAM and clocks after `after` more frames equal those
    of a run that was never migrated."""
    state = tmp_path / "s.vgaemu"
    src = make_pc(image, keys=keys)
    run_frames(src, Sink(), before)
    src.machine.migration.migrate(f"file:{state}")
    dst = make_pc(image, keys=keys)
    dst.machine.incoming_migration(f"file:{state}").run()
    assert dst.platform.frame_index == before
    assert ram_digest(dst.machine) == ram_digest(src.machine)
    run_frames(dst, Sink(), after)
    ref = make_pc(image, keys=keys)
    run_frames(ref, Sink(), before + after)
    for a, b in ((dst, ref),):
        assert a.platform.instructions == b.platform.instructions
        assert a.machine.clock.now_ns == b.machine.clock.now_ns
        assert a.platform.stopped == b.platform.stopped
        assert ram_digest(a.machine) == ram_digest(b.machine)
        assert np.array_equal(a.machine.vga.surface, b.machine.vga.surface)


def test_pending_keys_are_not_typed_twice(tmp_path):
    """The destination parsed the same --keys: the ones the source already sent must not
    come again, the rest must come at their times."""
    keys = ("0.1s:a", "0.5s:b")
    state = tmp_path / "s.vgaemu"
    src = make_pc(KEYS, keys=keys)
    run_frames(src, Sink(), 15)   # 0.25 s: 'a' sent, 'b' pending
    assert len(src.keyboard.script) == 2   # b's press and release
    src.machine.migration.migrate(f"file:{state}")
    dst = make_pc(KEYS, keys=keys)
    dst.machine.incoming_migration(f"file:{state}").run()
    assert [c for _, _, c in dst.keyboard.script] == [c for _, _, c in src.keyboard.script]
    assert dst.keyboard._script_timer.deadline == src.keyboard._script_timer.deadline


SNAPSHOT_WRITER = """
    xor ax, ax           ; 512 'A's at 0000:0600
    mov es, ax
    mov di, 0x600
    mov al, 0x41
    mov cx, 512
    rep stosb
    mov ax, 0x0301       ; write them to sector 2 (CHS 0/0/2)
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x600
    int 13h
    mov cx, 0x0007       ; wait 0.5 s (INT 15h 86h, CX:DX microseconds)
    mov dx, 0xA120
    mov ah, 0x86
    int 15h
    mov ax, 0x0201       ; read it back to 0000:0800 (drive 0: DX held the wait)
    mov cx, 0x0002
    xor dx, dx
    mov bx, 0x800
    int 13h
    cli
    hlt
"""


def test_snapshot_overlay_travels_and_images_are_reread(tmp_path):
    """--snapshot: the sectors the program wrote live only in the source's memory, so they
    travel in pc.disk; without it the write reached the file, which the destination reads
    again on load (it opened the image before the source wrote)."""
    from tests.vgaemu.pc.asm import nasm

    code = nasm(SNAPSHOT_WRITER)
    for snapshot in (True, False):
        img = tmp_path / f"w{snapshot}.img"
        img.write_bytes(code.ljust(512 * 4, b"\0"))
        state = tmp_path / f"s{snapshot}.vgaemu"
        dst = make_pc(img, snapshot=snapshot)   # opened before the source writes
        src = make_pc(img, snapshot=snapshot)
        run_frames(src, Sink(), 10)   # written, now waiting
        assert src.floppies[0].read(1, 1) == b"A" * 512
        assert (img.read_bytes()[512:1024] == b"A" * 512) is not snapshot
        src.machine.migration.migrate(f"file:{state}")
        dst.machine.incoming_migration(f"file:{state}").run()
        assert dst.floppies[0].read(1, 1) == b"A" * 512
        run_frames(dst, Sink(), 60)
        assert dst.platform.stopped == "halted with interrupts disabled"
        assert dst.machine.read(0x800, 512) == b"A" * 512


def test_timer_arming_order_survives(tmp_path):
    """Timers armed for the same nanosecond fire in the source's arming order."""
    from vgaemu.clock import VirtualClock
    from vgaemu.pc.timer import TimerList

    fired = []
    src = TimerList(VirtualClock())
    ts = [src.new_timer(lambda i=i: fired.append(i)) for i in range(4)]
    for i in (2, 0, 3, 1):
        ts[i].mod(100)
    saved = [t.vmstate_save() for t in ts]
    dst = TimerList(VirtualClock())
    td = [dst.new_timer(lambda i=i: fired.append(i)) for i in range(4)]
    for t in td:
        t.mod(100)   # armed by the destination's own start, in another order
    for i in (3, 1, 0, 2):
        td[i].vmstate_load(saved[i])
    dst.next_seq = src.next_seq
    dst.clock.now_ns = 100
    dst.run_due()
    assert fired == [2, 0, 3, 1]


# ---- refusals ---------------------------------------------------------------------------------

def test_a_mismatched_destination_refuses_before_loading_anything(tmp_path):
    state = tmp_path / "pc.vgaemu"
    src = make_pc(PLASMA)
    run_frames(src, Sink(), 5)
    src.machine.migration.migrate(f"file:{state}")

    def refused(machine, match):
        before = ram_digest(machine)
        vram = machine.vga.vram.copy() if hasattr(machine.vga, "vram") else None
        inc = machine.incoming_migration(f"file:{state}")
        with pytest.raises(MigrationError, match=match):
            inc.run()
        assert ram_digest(machine) == before   # not one page was written
        if vram is not None:
            assert np.array_equal(machine.vga.vram, vram)
        assert machine.loop.runstate.value == "inmigrate"   # never runs half-loaded

    refused(Machine(), "Machine type received is 'pc' and local is 'vgaemu-vga'")
    refused(make_pc(KEYS).machine, "differs from this machine in drives")
    other = PC(Machine(), floppies=[DiskImage(PLASMA, "floppy", snapshot=True)],
               output=io.BytesIO(), ips=5_000_000)
    refused(other.machine, "differs from this machine in ips")
    two = PC(Machine(), floppies=[DiskImage(PLASMA, "floppy", snapshot=True)],
             hard_disks=[DiskImage(PLASMA, "hd", snapshot=True)], output=io.BytesIO())
    refused(two.machine, "differs from this machine in drives")

    script_state = tmp_path / "script.vgaemu"
    Machine().migration.migrate(f"file:{script_state}")
    pc = make_pc(PLASMA)
    before = ram_digest(pc.machine)
    with pytest.raises(MigrationError, match="Machine type received is 'vgaemu-vga' and local is 'pc'"):
        pc.machine.incoming_migration(f"file:{script_state}").run()
    assert ram_digest(pc.machine) == before


def test_corrupt_pc_sections_are_refused_whole(tmp_path):
    """A section that does not fit (a PIT mode the model lacks, a timer that is not one)
    is refused by the check step: no section loads."""
    from vgaemu.migration.vmstate import encode_state

    src = make_pc(PLASMA)
    run_frames(src, Sink(), 3)
    saved = src.machine.vmstate.save_all()
    dst = make_pc(PLASMA)
    pit = dst.platform.pit
    before = [(c.mode, c.count, c.load_ns) for c in pit.channels]
    for name, patch, match in (
            ("i8254", lambda s: s["channels"][0].update(mode=1), "channels\\[0\\].mode"),
            ("i8254", lambda s: s.update(timer=[5]), "timer"),
            ("pckbd", lambda s: s.update(kbd_queue=[300]), "kbd_queue"),
            ("pc-platform", lambda s: s.pop("frame_index"), "frame_index"),
            ("dos", None, "unknown device state section 'dos'")):
        bad = []
        for n, v, blob in saved:
            if n == name and patch is not None:
                from vgaemu.migration.vmstate import decode_state

                st = decode_state(blob, n)
                patch(st)
                blob = encode_state(st)
            bad.append((n, v, blob))
        if patch is None:
            bad.append(("dos", 1, encode_state({})))
        with pytest.raises(MigrationError, match=match):
            dst.machine.vmstate.load_all(bad)
        assert [(c.mode, c.count, c.load_ns) for c in pit.channels] == before


# ---- the command line -------------------------------------------------------------------------

def test_boot_save_on_exit_then_incoming_resumes(tmp_path, capsys):
    state, a, b = tmp_path / "s.vgaemu", tmp_path / "a.png", tmp_path / "b.png"
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "12",
                 "--save-on-exit", str(state)]) == 0
    assert "machine saved to" in capsys.readouterr().out
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "9", "--screenshot", str(b),
                 "-incoming", f"file:{state}"]) == 0
    out = capsys.readouterr().out
    assert "incoming migration completed" in out and "resuming at frame 12" in out
    resumed = summary(out)
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "21", "--screenshot", str(a)]) == 0
    assert summary(capsys.readouterr().out) == resumed
    assert np.array_equal(read_png(a), read_png(b))


def test_save_on_exit_path_is_checked_before_the_run(tmp_path, capsys):
    """--save-on-exit is an output file like --screenshot: one that cannot be written fails
    before the program runs (not after a session whose state it then loses), and a missing
    directory is created at exit."""
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "3",
                 "--save-on-exit", "/proc/s.vgaemu"]) == 1
    out, err = capsys.readouterr()
    assert "vgaemu boot: error: cannot write --save-on-exit /proc/s.vgaemu" in err
    assert "frame(s)" not in out                          # nothing ran
    state = tmp_path / "new" / "dir" / "s.vgaemu"
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "3",
                 "--save-on-exit", str(state)]) == 0
    assert f"machine saved to {state}" in capsys.readouterr().out and state.stat().st_size


COM_PROGRAM = """
    mov ah, 4ah          ; shrink to 64 KiB, then allocate a block
    mov bx, 1000h
    int 21h
    mov ah, 48h
    mov bx, 100h
    int 21h
    jc bad
    mov [blk], ax
    mov dx, fname
    mov ax, 3d00h
    int 21h
    jc bad
    mov [handle], ax
    mov bx, ax
    mov cx, 4
    mov dx, buf
    mov ah, 3fh
    int 21h
    mov cx, 0x000F       ; wait 1 s
    mov dx, 0x4240
    mov ah, 86h
    int 15h
    mov bx, [handle]     ; the next 4 bytes of the still-open file
    mov cx, 4
    mov dx, buf+4
    mov ah, 3fh
    int 21h
    jc bad
    mov dx, buf
    mov ah, 9
    int 21h
    mov es, [blk]        ; free the block: DOS must still know it
    mov ah, 49h
    int 21h
    jc bad
    mov ax, 4c07h
    int 21h
bad: mov ax, 4c01h
    int 21h
fname: db "DATA.TXT", 0
blk: dw 0
handle: dw 0
buf: times 8 db '?'
    db '$'
"""


def test_com_program_resumes_with_its_dos_state(tmp_path, capsys):
    """Open file (position and bytes), memory blocks, the INT 15h wait and the exit code
    come through --save-on-exit / -incoming; the file's bytes travel, so the destination
    reads what the source opened even though the file changed since."""
    from tests.vgaemu.pc.asm import nasm

    prog = tmp_path / "dosmig.com"
    prog.write_bytes(nasm(COM_PROGRAM, org=0x100))
    data = tmp_path / "DATA.TXT"
    data.write_bytes(b"ABCDEFGH")
    state, shot, ref = tmp_path / "s.vgaemu", tmp_path / "b.png", tmp_path / "a.png"
    assert main(["run", str(prog), "--headless", "--frames", "20", "--save-on-exit", str(state)]) == 0
    out = capsys.readouterr().out
    assert "exit code" not in out and "machine saved to" in out
    data.write_bytes(b"abcdefgh")
    assert main(["run", str(prog), "--headless", "--frames", "100", "--screenshot", str(shot),
                 "-incoming", f"file:{state}"]) == 0
    out = capsys.readouterr().out
    assert "resuming at frame 20" in out and "exit code 7" in out
    data.write_bytes(b"ABCDEFGH")
    assert main(["run", str(prog), "--headless", "--frames", "120", "--screenshot", str(ref)]) == 0
    assert "exit code 7" in capsys.readouterr().out
    assert np.array_equal(read_png(shot), read_png(ref))


def test_cli_refuses_a_stream_from_another_program(tmp_path, capsys):
    state = tmp_path / "s.vgaemu"
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "2", "--save-on-exit", str(state)]) == 0
    capsys.readouterr()
    assert main(["boot", "-fda", KEYS, "--headless", "--frames", "2", "-incoming", f"file:{state}"]) == 1
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [err.strip()]
    assert "incoming migration failed" in err and "drives" in err and "keys.img" in err
    assert "frame(s)" not in out   # the guest never ran
    assert main(["run", "plasma", "--headless", "--frames", "1", "-incoming", f"file:{state}"]) == 1
    assert "Machine type received is 'pc'" in capsys.readouterr().err


# ---- two processes over QMP ---------------------------------------------------------------------

def _qmp(path, body, timeout=180):
    async def run():
        c = QMPClient("test")
        await c.connect(path)
        try:
            return await body(c)
        finally:
            try:
                await c.disconnect()
            except EOFError:   # after quit the server has gone already
                pass
    return asyncio.run(asyncio.wait_for(run(), timeout))


async def _migrate(c, uri):
    await c.execute("migrate", {"uri": uri})
    while (info := await c.execute("query-migrate"))["status"] not in ("completed", "failed"):
        await asyncio.sleep(0.05)
    return info


def _finish(*procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.communicate()


def _undisturbed(args, frames, shot):
    p = vgaemu("boot", *args, "--headless", "--frames", str(frames), "--screenshot", shot)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return summary(out)


def test_plasma_migrates_mid_animation_between_processes(sockdir):
    """`boot plasma13.img -qmp`: stopped mid-animation (mode 13h, the PIT driving it) and
    migrated to `boot plasma13.img -incoming`; the destination's frames continue as an
    undisturbed run's."""
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    dst_png, ref_png = os.path.join(sockdir, "d.png"), os.path.join(sockdir, "r.png")
    src = vgaemu("boot", "-fda", PLASMA, "--headless", "--frames", "100000",
                 "-qmp", f"unix:{qsock},server=on,wait=on")
    dst = vgaemu("boot", "-fda", PLASMA, "--headless", "--frames", "8", "--screenshot", dst_png,
                 "-incoming", f"unix:{msock}")
    try:
        wait_path(qsock, src)
        wait_path(msock, dst)

        async def body(c):
            for _ in range(2400):
                d = await c.execute("x-vgaemu-query-display")
                if d.get("mode") and (d["width"], d["height"]) == (640, 400):
                    break
                await asyncio.sleep(0.005)
            await c.execute("stop")
            info = await _migrate(c, f"unix:{msock}")
            status = await c.execute("query-status")
            await c.execute("quit")
            return info, status
        info, status = _qmp(qsock, body)
        assert info["status"] == "completed", info
        assert status["status"] == "postmigrate"
        out, err = dst.communicate(timeout=120)
        assert dst.returncode == 0, err
        n = int(RESUMED.search(out).group(1))
        assert 0 < n < 41, out   # mid-animation: plasma13 runs 41 frames
        src.communicate(timeout=30)
        assert src.returncode == 0
        assert _undisturbed(["-fda", PLASMA], n + 8, ref_png) == summary(out)
        assert np.array_equal(read_png(dst_png), read_png(ref_png))
    finally:
        _finish(src, dst)


def test_keys_program_migrates_live_with_keys_pending(sockdir):
    """Live (precopy while the guest runs) with the key script's keys still to come: the
    destination types them at their times, once, as an undisturbed run does."""
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    dst_png, ref_png = os.path.join(sockdir, "d.png"), os.path.join(sockdir, "r.png")
    args = ["-fda", KEYS, *KEY_SCRIPT]
    # wait=on: the guest starts when the client connects, so its keys are still ahead when
    # the migration runs, however long the processes took to start; --fps 60: the source runs
    # in real time, so the 30 s before the first key are 30 s of host time for the migration
    # however loaded the machine (unpaced, this mostly halted program runs them in a second)
    src = vgaemu("boot", *args, "--headless", "--frames", "100000", "--fps", "60",
                 "-qmp", f"unix:{qsock},server=on,wait=on")
    dst = vgaemu("boot", *args, "--headless", "--frames", str(FIRST_KEY_FRAME + 120),
                 "--screenshot", dst_png, "-incoming", f"unix:{msock}")
    try:
        wait_path(qsock, src)
        wait_path(msock, dst)

        async def body(c):
            assert (await c.execute("query-status"))["status"] == "running"
            info = await _migrate(c, f"unix:{msock}")
            await c.execute("quit")
            return info
        info = _qmp(qsock, body)
        assert info["status"] == "completed", info
        out, err = dst.communicate(timeout=300)
        assert dst.returncode == 0, err
        n = int(RESUMED.search(out).group(1))
        assert n < FIRST_KEY_FRAME, f"the keys were no longer pending at frame {n}"
        src.communicate(timeout=30)
        assert _undisturbed(args, n + FIRST_KEY_FRAME + 120, ref_png) == summary(out)
        assert np.array_equal(read_png(dst_png), read_png(ref_png))
    finally:
        _finish(src, dst)


#: keys.img's block starts at column 37 of 9-pixel cells
BLOCK_HOME_X = 37 * 9


def _block_left(png) -> int | None:
    """The leftmost pixel column of keys.img's red block (None: not drawn yet)."""
    img = read_png(png)
    red = (img[..., 0] > 150) & (img[..., 1] < 60) & (img[..., 2] < 60)
    cols = np.nonzero(red)[1]
    return int(cols.min()) if cols.size else None


async def _screen_with_block(c, path, timeout=60.0):
    """Screendumps until keys.img has drawn its block (a loaded machine is slow)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await c.execute("screendump", {"filename": path, "format": "png"})
        if _block_left(path) is not None:
            return
        assert asyncio.get_running_loop().time() < deadline, "keys.img never drew its block"
        await asyncio.sleep(0.2)


def test_qmp_on_boot(sockdir):
    """`vgaemu boot -qmp`: query-status, stop/cont, screendump, system_reset (the PC
    POSTs and boots again: keys.img starts over with its block back home), quit, driven by
    qemu.qmp."""
    qsock = os.path.join(sockdir, "q")
    a, b, c_png = (os.path.join(sockdir, f"{x}.png") for x in "abc")
    src = vgaemu("boot", "-fda", KEYS, "--keys", "0.05s:right", "--keys", "0.1s:right",
                 "--headless", "--frames", "1000000", "-qmp", f"unix:{qsock},server=on,wait=off")
    try:
        wait_path(qsock, src)

        async def body(c):
            events = []
            assert (await c.execute("query-status")) == {"running": True, "status": "running"}
            while (await c.execute("query-status"))["status"] == "running":
                await _screen_with_block(c, a)
                if _block_left(a) == BLOCK_HOME_X + 2 * 9:   # both keys typed: two cells right
                    break
                await asyncio.sleep(0.2)
            await c.execute("stop")
            assert (await c.execute("query-status")) == {"running": False, "status": "paused"}
            await c.execute("screendump", {"filename": a, "format": "png"})
            await asyncio.sleep(0.3)
            await c.execute("screendump", {"filename": b, "format": "png"})
            await c.execute("cont")
            assert (await c.execute("query-status"))["status"] == "running"

            async def listen():
                async for ev in c.events:
                    events.append(ev["event"])
                    if ev["event"] == "RESET":
                        return
            waiter = asyncio.create_task(listen())
            await asyncio.sleep(0)
            await c.execute("system_reset")
            await asyncio.wait_for(waiter, 30)
            await _screen_with_block(c, c_png)
            assert (await c.execute("query-status"))["status"] == "running"
            await c.execute("quit")
            return events
        events = _qmp(qsock, body)
        assert "RESET" in events
        out, err = src.communicate(timeout=60)
        assert src.returncode == 0, err
        assert "QMP monitor listening" in out
        assert np.array_equal(read_png(a), read_png(b))    # stopped: nothing changed
        assert _block_left(c_png) == BLOCK_HOME_X            # rebooted: the block is home again
    finally:
        _finish(src)


def test_window_resumes_a_saved_boot(tmp_path, monkeypatch, capsys):
    """The window front end waits for the stream (its idle hook keeps it answering) and
    goes on from the restored frame."""
    from vgaemu.frontends.imaging import pygame

    state, win, ref = tmp_path / "s.vgaemu", tmp_path / "w.png", tmp_path / "r.png"
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "12",
                 "--save-on-exit", str(state)]) == 0
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    try:
        assert main(["boot", "-fda", PLASMA, "--frames", "9", "--fps", "0", "--screenshot", str(win),
                     "-incoming", f"file:{state}"]) == 0
    finally:
        pygame.display.quit()
    assert "resuming at frame 12" in capsys.readouterr().out
    assert main(["boot", "-fda", PLASMA, "--headless", "--frames", "21", "--screenshot", str(ref)]) == 0
    assert np.array_equal(read_png(win), read_png(ref))
