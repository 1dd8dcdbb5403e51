"""QMP commands driven by QEMU's own client library (qemu.qmp's QMPClient)."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import numpy as np
import pytest
from qemu.qmp import ExecuteError, QMPClient

from vgaemu.frontends.imaging import read_png

from tests.vgaemu.qmp.qmp_helpers import GuestThread

MiB = 1 << 20
DIMM_SIZE = 128 * MiB


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def connect(path: str, name: str = "test") -> QMPClient:
    c = QMPClient(name)
    await c.connect(path)
    return c


async def error_of(c: QMPClient, cmd: str, args: dict | None = None) -> dict:
    with pytest.raises(ExecuteError) as info:
        await c.execute(cmd, args)
    return dict(info.value.error.error._raw) if hasattr(info.value.error.error, "_raw") else {
        "class": info.value.error.error.class_, "desc": info.value.error.error.desc}


async def next_event(c: QMPClient, name: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        ev = await asyncio.wait_for(c.events.get(), max(deadline - time.monotonic(), 0.01))
        if ev["event"] == name:
            return ev


def test_version_status_commands(qmp_machine):
    machine, path = qmp_machine

    async def body():
        c = await connect(path)
        v = await c.execute("query-version")
        assert v["package"].startswith("vgaemu ")
        assert await c.execute("query-status") == {"running": True, "status": "running"}
        names = {x["name"] for x in await c.execute("query-commands")}
        for n in ("qmp_capabilities", "query-version", "query-status", "stop", "cont",
                  "system_reset", "quit", "object-add", "object-del", "device_add",
                  "device_del", "query-memory-devices", "query-memory-size-summary",
                  "query-objects", "screendump", "human-monitor-command", "migrate",
                  "migrate-incoming", "query-migrate", "migrate_cancel",
                  "migrate-set-parameters", "x-vgaemu-query-display"):
            assert n in names
        await c.disconnect()
    run(body())


def test_stop_cont_gate_the_guest_and_send_events(qmp_machine):
    machine, path = qmp_machine
    frames = []

    def main(guest):
        while True:
            frames.append(guest.frame_index)
            guest.frame()

    g = GuestThread(machine, main)

    async def body():
        c = await connect(path)
        await c.execute("stop")
        await next_event(c, "STOP")
        assert await c.execute("query-status") == {"running": False, "status": "paused"}
        await asyncio.sleep(0.05)
        n = len(frames)
        await asyncio.sleep(0.3)
        assert len(frames) == n, "the guest ran while stopped"
        await c.execute("cont")
        await next_event(c, "RESUME")
        await asyncio.sleep(0.2)
        assert len(frames) > n
        await c.disconnect()
    run(body())
    g.stop()
    assert g.result.stopped == "quit"


def test_system_reset_event_and_registers(qmp_machine):
    machine, path = qmp_machine
    machine.outb(0x3C4, 2)
    machine.outb(0x3C5, 0x3)

    async def body():
        c = await connect(path)
        await c.execute("system_reset")
        ev = await next_event(c, "RESET")
        assert ev["data"] == {"guest": False, "reason": "host-qmp-system-reset"}
        await c.disconnect()
    assert machine.vga.state.sr[2] == 0x3
    run(body())
    from vgaemu.machine import Machine

    assert machine.vga.state.sr == Machine().vga.state.sr  # power-on registers back


def test_hotplug_128m_dimm_while_guest_runs(qmp_machine):
    """object-add + device_add a 128 MiB pc-dimm under a running guest, the guest writes to
    it, then device_del (DEVICE_DELETED) and object-del."""
    machine, path = qmp_machine
    seen = {}

    def main(guest):
        while True:
            for d in machine.memory.dimms:
                if d.id not in seen:
                    pattern = bytes(range(256)) * 16
                    guest.write(d.addr + DIMM_SIZE - 4096, pattern)
                    guest.write(d.addr, b"DIMM" + d.id.encode())
                    seen[d.id] = d.addr
            guest.frame()

    g = GuestThread(machine, main)

    async def body():
        c = await connect(path)
        await c.execute("object-add", {"qom-type": "memory-backend-ram", "id": "mem1",
                                       "size": DIMM_SIZE})
        await c.execute("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "mem1"})
        devs = await c.execute("query-memory-devices")
        assert len(devs) == 1 and devs[0]["type"] == "dimm"
        data = devs[0]["data"]
        assert data["id"] == "dimm1" and data["size"] == DIMM_SIZE and data["memdev"] == "/objects/mem1"
        assert data["hotplugged"] is True and data["slot"] == 0
        assert await c.execute("query-memory-size-summary") == {"base-memory": 64 * MiB,
                                                                "plugged-memory": DIMM_SIZE}
        for _ in range(200):
            if "dimm1" in seen:
                break
            await asyncio.sleep(0.02)
        addr = data["addr"]
        # Read back between guest steps, off the client's event loop.
        got = await asyncio.to_thread(lambda: machine.post(lambda: machine.read(addr, 9)).result(20))
        assert got == b"DIMMdimm1"
        tail = await asyncio.to_thread(
            lambda: machine.post(lambda: machine.read(addr + DIMM_SIZE - 4096, 4096)).result(20))
        assert tail == bytes(range(256)) * 16
        text = await c.execute("human-monitor-command", {"command-line": "info memory-devices"})
        assert 'Memory device [dimm]: "dimm1"' in text
        err = await error_of(c, "object-del", {"id": "mem1"})
        assert err["desc"] == "object 'mem1' is in use, can not be deleted"
        await c.execute("device_del", {"id": "dimm1"})
        ev = await next_event(c, "DEVICE_DELETED")
        assert ev["data"] == {"device": "dimm1", "path": "/machine/peripheral/dimm1"}
        assert await c.execute("query-memory-devices") == []
        await c.execute("object-del", {"id": "mem1"})
        assert "mem1" not in {o["id"] for o in await c.execute("query-objects")}
        await c.disconnect()
    run(body())
    g.stop()
    assert not any(b.idstr == "mem1" for b in machine.ram_list.blocks)


def _state(machine):
    return (machine.memory.query_memory_devices(), sorted(machine.memory.backends),
            [(b.idstr, b.offset) for b in machine.ram_list.blocks])


@pytest.mark.parametrize("cmd,args,cls,desc", [
    ("object-add", {"qom-type": "memory-backend-ram", "id": "pc.ram", "size": MiB},
     "GenericError", "attempt to add duplicate object id 'pc.ram'"),
    ("object-add", {"qom-type": "memory-backend-bogus", "id": "m", "size": MiB},
     "GenericError", "invalid object type: memory-backend-bogus"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": "big"},
     "GenericError", "Invalid parameter type for 'size', expected: integer"),
    ("object-add", {"qom-type": "memory-backend-ram", "size": MiB},
     "GenericError", "Parameter 'id' is missing"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": MiB, "colour": 1},
     "GenericError", "Property 'memory-backend-ram.colour' not found"),
    ("object-del", {"id": "nope"}, "GenericError", "object 'nope' not found"),
    ("object-del", {"id": "pc.ram"}, "GenericError", "object 'pc.ram' is in use, can not be deleted"),
    ("device_add", {"driver": "virtio-gpu", "id": "g"}, "GenericError",
     "'virtio-gpu' is not a valid device model name"),
    ("device_add", {"driver": "pc-dimm", "id": "d"}, "GenericError", "'memdev' property is not set"),
    ("device_add", {"driver": "pc-dimm", "id": "d", "memdev": "ghost"}, "GenericError",
     "memdev 'ghost' not found"),
    ("device_add", {"driver": "pc-dimm", "id": "d", "memdev": "pc.ram"}, "GenericError",
     "can't use already busy memdev: pc.ram"),
    ("device_add", {"driver": "pc-dimm", "id": "d", "memdev": "m", "slot": "one"}, "GenericError",
     "Invalid parameter type for 'slot', expected: integer"),
    ("device_del", {"id": "ghost"}, "DeviceNotFound", "Device 'ghost' not found"),
    ("device_del", {}, "GenericError", "Parameter 'id' is missing"),
    ("screendump", {"filename": "/nonexistent-dir/x.ppm"}, "GenericError", "failed to open file"),
    ("screendump", {"filename": "/tmp/x.ppm", "device": "gpu9"}, "DeviceNotFound", "Device 'gpu9' not found"),
    # a NUL byte: open() raised ValueError (an internal error); for png SDL cut the name
    # at the NUL and wrote /tmp/vgq-nul instead
    ("screendump", {"filename": "/tmp/vgq-nul\u0000x.ppm"}, "GenericError",
     "cannot write screendump '/tmp/vgq-nul\\x00x.ppm': embedded null byte"),
    ("screendump", {"filename": "/tmp/vgq-nul\u0000x.png", "format": "png"}, "GenericError",
     "cannot write screendump '/tmp/vgq-nul\\x00x.png': embedded null byte"),
    ("migrate-set-parameters", {"downtime-limit": -1}, "GenericError", "downtime_limit"),
    ("migrate", {"uri": "ftp:host"}, "GenericError", "unknown migration protocol: ftp"),
    ("migrate-incoming", {"uri": "unix:/tmp/x"}, "GenericError",
     "'-incoming' was not specified on the command line"),
])
def test_errors_change_nothing(qmp_machine, cmd, args, cls, desc):
    machine, path = qmp_machine
    before = _state(machine)
    params = machine.migration.parameters()

    async def body():
        c = await connect(path)
        await c.execute("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": 8 * MiB}) \
            if cmd == "device_add" and "slot" in args else None
        err = await error_of(c, cmd, args)
        await c.disconnect()
        return err
    err = run(body())
    assert err["class"] == cls
    assert desc in err["desc"]
    after = _state(machine)
    if cmd == "device_add" and "slot" in args:
        # the object-add made backend "m" and, as in QEMU, its RAMBlock
        after = (after[0], [b for b in after[1] if b != "m"], [b for b in after[2] if b[0] != "m"])
    assert after == before
    assert machine.migration.parameters() == params
    assert machine.migration.status == "none"


def test_screendump_ppm_and_png_match_the_surface(qmp_machine, tmp_path):
    machine, path = qmp_machine
    from vgaemu.guest import run_guest

    def main(guest):
        guest.set_mode(0x13)
        guest.write(0xA0000, (np.arange(64000) % 251).astype(np.uint8).tobytes())
    run_guest(machine, main)
    ppm, png = tmp_path / "s.ppm", tmp_path / "s.png"

    async def body():
        c = await connect(path)
        await c.execute("screendump", {"filename": str(ppm)})
        await c.execute("screendump", {"filename": str(png), "format": "png"})
        disp = await c.execute("x-vgaemu-query-display")
        await c.disconnect()
        return disp
    disp = run(body())
    surface = np.asarray(machine.vga.surface)
    raw = ppm.read_bytes()
    head = b"P6\n640 400\n255\n"
    assert raw.startswith(head)
    assert np.array_equal(np.frombuffer(raw[len(head):], np.uint8).reshape(400, 640, 3), surface)
    assert np.array_equal(read_png(png), surface)
    assert disp["width"] == 640 and disp["height"] == 400
    assert "13" in disp["mode"] or "256" in disp["mode"] or "chain" in disp["mode"]
    assert set(disp["last-update"]) >= {"full", "lines-redrawn", "dirty-pages", "rects"}


def test_human_monitor_commands(qmp_machine):
    machine, path = qmp_machine

    async def body():
        c = await connect(path)
        hmp = lambda line: c.execute("human-monitor-command", {"command-line": line})  # noqa: E731
        mtree = await hmp("info mtree")
        assert "address-space: memory" in mtree and "pc.ram" in mtree and "vga-lowmem" in mtree
        flat = await hmp("info mtree -f")
        assert "FlatView" in flat
        rb = await hmp("info ramblock")
        assert "pc.ram" in rb and "vga.vram" in rb
        md = await hmp("info memory-devices")
        assert "base memory: 67108864" in md
        assert (await hmp("info status")) == "VM status: running\n"
        assert (await hmp("frobnicate")) == "unknown command: 'frobnicate'\n"
        assert (await hmp("info nothing")) == "unknown command: 'info nothing'\n"
        err = await error_of(c, "human-monitor-command", {})
        assert err["desc"] == "Parameter 'command-line' is missing"
        await c.disconnect()
        return mtree
    assert run(body()) == machine.mtree()


def test_several_clients_share_events_and_commands(qmp_machine):
    machine, path = qmp_machine

    async def body():
        a, b = await connect(path, "a"), await connect(path, "b")
        r = await asyncio.gather(*[x.execute("query-status") for x in (a, b, a, b)])
        assert all(s["running"] for s in r)
        await a.execute("stop")
        assert (await next_event(a, "STOP"))["event"] == "STOP"
        assert (await next_event(b, "STOP"))["event"] == "STOP"
        await b.execute("cont")
        await next_event(a, "RESUME")
        await a.disconnect()
        assert (await b.execute("query-status"))["running"]
        await b.disconnect()
    run(body())


def test_client_disconnecting_mid_command_loses_nothing(raw_client, qmp_machine):
    machine, path = qmp_machine
    machine.loop.vm_stop()  # a stopped, driven machine: posted work waits for the driver

    def main(guest):
        while True:
            guest.frame()
    g = GuestThread(machine, main)
    c = raw_client()
    c.send({"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram",
                                                   "id": "late", "size": 4 * MiB}})
    c.close()
    deadline = time.monotonic() + 10
    while "late" not in machine.memory.backends and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "late" in machine.memory.backends
    machine.post(machine.loop.vm_start).result(10)
    d = raw_client()
    assert any(o["id"] == "late" for o in d.cmd("query-objects")["return"])
    g.stop()


def test_quit_ends_the_guest_and_closes_the_connection(qmp_machine):
    machine, path = qmp_machine

    def main(guest):
        while True:
            guest.frame()
    g = GuestThread(machine, main)

    async def body():
        c = await connect(path)
        await c.execute("quit")
        ev = await next_event(c, "SHUTDOWN")
        assert ev["data"] == {"guest": False, "reason": "host-qmp-quit"}
        await asyncio.sleep(0.2)
        with pytest.raises(EOFError):  # the server hung up after its reply, as QEMU does
            await c.disconnect()
    run(body())
    g.thread.join(10)
    assert g.result is not None and g.result.stopped == "quit"


def test_tcp_listener(sockdir):
    from vgaemu.machine import Machine

    m = Machine()
    server = m.qmp_listen("tcp:127.0.0.1:0")
    try:
        async def body():
            c = QMPClient("tcp")
            await c.connect(("127.0.0.1", server.port))
            s = await c.execute("query-status")
            await c.disconnect()
            return s
        assert run(body())["running"]
    finally:
        server.close()


def test_bad_listen_addresses(sockdir):
    from vgaemu.machine import Machine
    from vgaemu.qmp.server import QMPServerError

    m = Machine()
    for bad in ("tcp:localhost", "ftp:x", "unix:"):
        with pytest.raises(QMPServerError):
            m.qmp_listen(bad)
    path = os.path.join(sockdir, "plain")
    open(path, "w").close()
    with pytest.raises(QMPServerError, match="not a socket"):
        m.qmp_listen(f"unix:{path}")


def test_migration_parameters_and_info_migrate(qmp_machine, sockdir):
    machine, path = qmp_machine

    async def body():
        c = await connect(path)
        assert await c.execute("query-migrate") == {"status": "none"}
        await c.execute("migrate-set-parameters", {"max-bandwidth": 1 << 30, "downtime-limit": 80,
                                                   "x-vgaemu-max-iterations": 5})
        params = await c.execute("query-migrate-parameters")
        err = await error_of(c, "migrate-set-parameters", {"downtime-limit": 10, "x-vgaemu-max-iterations": 0})
        after = await c.execute("query-migrate-parameters")
        await c.execute("migrate", {"uri": f"file:{os.path.join(sockdir, 's.vgaemu')}"})
        while (await c.execute("query-migrate"))["status"] != "completed":
            await asyncio.sleep(0.02)
        text = await c.execute("human-monitor-command", {"command-line": "info migrate"})
        await c.disconnect()
        return params, err, after, text
    params, err, after, text = run(body())
    assert params == {"max-bandwidth": 1 << 30, "downtime-limit": 80, "x-vgaemu-max-iterations": 5}
    assert "x-vgaemu-max-iterations" in err["desc"]
    assert after == params  # a refused set changes nothing, not even its valid part
    assert text.startswith("Migration status: completed\n")
    assert "dirty sync count: 2" in text and "total ram: " in text


def test_inject_nmi_reaches_the_pc_platforms_cpu(qmp_machine):
    from vgaemu.pc import PCPlatform

    machine, path = qmp_machine

    async def body():
        c = await connect(path)
        # a machine without the PC platform runs no guest code that could take it
        err = await error_of(c, "inject-nmi")
        assert err["class"] == "GenericError" and "not currently supported" in err["desc"]
        assert not machine.cpu.nmi_pending
        PCPlatform(machine)
        assert await c.execute("inject-nmi") == {}
        assert machine.cpu.nmi_pending
        await c.disconnect()
    run(body())


def test_system_reset_reboots_a_pc(qmp_machine, tmp_path):
    """On a PC, system_reset resets the CPU and the devices, POSTs and boots again (QEMU's
    qemu_system_reset), not just the VGA: the boot sector runs a second time."""
    import io

    from vgaemu.pc.boot import PC
    from vgaemu.pc.disk import DiskImage

    from tests.vgaemu.pc.asm import nasm

    machine, path = qmp_machine
    img = tmp_path / "r.img"
    img.write_bytes(nasm("""
    inc byte [0x500]      ; outside the BDA: survives POST
    mov al, [0x500]
    add al, '0'
    out 0xe9, al
    mov ax, 0x0013        ; mode 13h, which the reset's POST undoes
    int 10h
s:  sti
    hlt
    jmp s
    times 510-($-$$) db 0
    dw 0xaa55
    """))
    out = io.BytesIO()
    pc = PC(machine, floppies=[DiskImage(img, "floppy")], output=out)
    pc.boot()
    pc.platform.run_until(200_000_000)
    assert out.getvalue() == b"1" and machine.vga.state.gr[6] & 1   # graphics mode

    async def body():
        c = await connect(path)
        await c.execute("system_reset")
        ev = await next_event(c, "RESET")
        assert ev["data"] == {"guest": False, "reason": "host-qmp-system-reset"}
        await c.disconnect()
    run(body())
    assert pc.resets == ["host-qmp-system-reset"]
    assert machine.cpu.cs == 0 and machine.cpu.ip == 0x7C00   # POSTed, at the boot sector
    assert not machine.vga.state.gr[6] & 1                      # the VGA BIOS set mode 3
    pc.platform.run_until(400_000_000)
    assert out.getvalue() == b"12" and pc.platform.stopped is None
