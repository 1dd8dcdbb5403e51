"""Precopy live migration between two machines while the source guest keeps writing."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import numpy as np
import pytest
from qemu.qmp import QMPClient

from vgaemu.machine import Machine
from vgaemu.mainloop import RunState
from vgaemu.migration import MigrationError

from tests.vgaemu.migration.mig_guests import busy_writer
from tests.vgaemu.qmp.qmp_helpers import GuestThread

OPTS = dict(memory="64M,slots=2,maxmem=1G", objects=("memory-backend-ram,id=m1,size=32M",),
            devices=("pc-dimm,id=d1,memdev=m1",))


def machines():
    return Machine(**OPTS), Machine(**OPTS)


def assert_same_memory(src, dst):
    for b in src.ram_list.blocks:
        d = dst.ram_list.block_by_idstr(b.idstr)
        assert d.used_length == b.used_length
        assert np.array_equal(b.host[:b.used_length], d.host[:d.used_length]), b.idstr


def wait_for(pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


async def qmp(path):
    c = QMPClient("mig")
    await c.connect(path)
    return c


def test_live_migration_over_qmp_byte_identical(sockdir):
    src, dst = machines()
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    server = src.qmp_listen(f"unix:{qsock}")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()
    g = GuestThread(src, busy_writer())
    wait_for(lambda: src.last_update is not None)

    async def body():
        c = await qmp(qsock)
        await c.execute("migrate-set-parameters", {"max-bandwidth": 1 << 30, "downtime-limit": 50})
        await c.execute("migrate", {"uri": f"unix:{msock}"})
        statuses, passes = [], 0
        while True:
            ev = await asyncio.wait_for(c.events.get(), 60)
            if ev["event"] == "MIGRATION":
                statuses.append(ev["data"]["status"])
                if ev["data"]["status"] in ("completed", "failed"):
                    break
            elif ev["event"] == "MIGRATION_PASS":
                passes = ev["data"]["pass"]
        info = await c.execute("query-migrate")
        st = await c.execute("query-status")
        await c.disconnect()
        return statuses, passes, info, st
    statuses, passes, info, st = asyncio.run(body())
    assert statuses == ["setup", "active", "device", "completed"], statuses
    assert passes >= 1
    assert info["status"] == "completed"
    ram = info["ram"]
    assert ram["total"] == sum(b.used_length for b in src.ram_list.blocks)
    assert ram["remaining"] == 0 and ram["dirty-sync-count"] >= 2
    assert ram["duplicate"] > 0 and ram["normal"] > 0
    assert ram["transferred"] >= ram["normal-bytes"]
    assert info["downtime"] >= 0 and info["total-time"] >= info["downtime"]
    assert st == {"running": False, "status": "postmigrate"}
    inc.done.wait(30)
    assert inc.status == "completed", inc.error
    assert dst.loop.runstate is RunState.RUNNING
    assert not src.ram_list.global_dirty_log
    # The source is stopped in postmigrate: its memory is the stop point.
    assert_same_memory(src, dst)
    dst_stats = dst.vga.update_display()
    assert dst_stats.full  # the destination's first frame redraws everything
    src.vga.invalidate()
    src.vga.update_display()
    assert np.array_equal(dst.vga.surface, src.vga.surface)
    assert src.vga.state.palette == dst.vga.state.palette
    assert src.clock.now_ns == dst.clock.now_ns
    assert src.dma.regs == dst.dma.regs
    # cont on the source is allowed after a migration (as QEMU); the guest goes on.
    src.post(src.loop.vm_start).result(10)
    n = src.last_update
    wait_for(lambda: src.last_update is not n)
    g.stop()
    server.close()


def test_fast_dirtier_converges_through_the_iteration_limit(sockdir):
    """A guest dirtying faster than max-bandwidth never fits downtime-limit: the pass limit
    stops it, and the rest goes in the downtime."""
    src, dst = machines()
    msock = os.path.join(sockdir, "m")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()
    g = GuestThread(src, busy_writer(pages_per_frame=400))
    wait_for(lambda: src.last_update is not None)
    src.migration.set_parameters({"max-bandwidth": 48 << 20, "downtime-limit": 1,
                                  "x-vgaemu-max-iterations": 3})
    info = src.migration.migrate(f"unix:{msock}", timeout=120)
    assert info["ram"]["dirty-sync-count"] == 4  # 3 passes + the final sync
    assert info["downtime"] >= 0
    inc.done.wait(30)
    assert inc.status == "completed", inc.error
    assert_same_memory(src, dst)
    g.stop()


def test_idle_guest_converges_by_the_downtime_rule(sockdir):
    src, dst = machines()
    msock = os.path.join(sockdir, "m")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()
    src.migration.set_parameters({"max-bandwidth": 0})  # 0 = no rate limit
    info = src.migration.migrate(f"unix:{msock}", timeout=60)
    assert info["ram"]["dirty-sync-count"] == 2  # one pass, nothing dirtied, final sync
    inc.done.wait(30)
    assert_same_memory(src, dst)


def _broken_destination(path, keep_bytes):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def body():
        conn, _ = srv.accept()
        got = 0
        while got < keep_bytes:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        conn.close()
        srv.close()
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t


def test_broken_connection_fails_and_source_keeps_running(sockdir):
    src = Machine(**OPTS)
    msock = os.path.join(sockdir, "m")
    _broken_destination(msock, 1 << 20)
    g = GuestThread(src, busy_writer())
    wait_for(lambda: src.last_update is not None)
    events = []
    src.loop.add_event_listener(lambda e: events.append(e))
    src.migration.start(f"unix:{msock}")
    src.migration.done.wait(60)
    assert src.migration.status == "failed"
    assert "migration stream" in src.migration.info()["error-desc"]
    assert [e["data"]["status"] for e in events if e["event"] == "MIGRATION"][-1] == "failed"
    assert src.loop.runstate is RunState.RUNNING
    assert not src.ram_list.global_dirty_log
    n = src.last_update
    wait_for(lambda: src.last_update is not n)  # the guest still runs
    g.stop()


def test_cancel_keeps_source_running(sockdir):
    src, dst = machines()
    msock = os.path.join(sockdir, "m")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()
    g = GuestThread(src, busy_writer())
    src.migration.set_parameters({"max-bandwidth": 1 << 20})  # ~100 s for the bulk pass
    src.migration.start(f"unix:{msock}")
    wait_for(lambda: src.migration.status == "active")
    src.migration.cancel()
    src.migration.done.wait(30)
    assert src.migration.status == "cancelled"
    assert src.loop.runstate is RunState.RUNNING
    inc.done.wait(30)
    assert inc.status == "failed"
    assert dst.loop.runstate is RunState.INMIGRATE  # never starts half loaded
    g.stop()


def test_second_migrate_while_active_is_refused(sockdir):
    src, dst = machines()
    msock = os.path.join(sockdir, "m")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()
    src.migration.set_parameters({"max-bandwidth": 1 << 20})
    src.migration.start(f"unix:{msock}")
    with pytest.raises(MigrationError, match="There's a migration process in progress"):
        src.migration.start(f"unix:{msock}")
    src.migration.cancel()
    src.migration.done.wait(30)


def test_tcp_and_exec_and_file_transports(sockdir):
    src = Machine(**OPTS)
    src.write(0x123000, b"transport")
    # tcp
    dst = Machine(**OPTS)
    inc = dst.incoming_migration("tcp:127.0.0.1:0")
    port = inc._listener.port
    inc.start_thread()
    src.migration.migrate(f"tcp:127.0.0.1:{port}", timeout=60)
    inc.done.wait(30)
    assert dst.read(0x123000, 9) == b"transport"
    # exec: to a file through a shell pipeline, back through another
    src.loop.vm_start()
    path = os.path.join(sockdir, "state.gz")
    src.migration.migrate(f"exec:gzip -1 > {path}", timeout=60)
    dst2 = Machine(**OPTS)
    inc2 = dst2.incoming_migration(f"exec:gzip -dc {path}")
    inc2.run()
    assert dst2.read(0x123000, 9) == b"transport"
    assert_same_memory(src, dst2)


def test_incoming_defer_then_migrate_incoming_over_qmp(sockdir):
    src, dst = machines()
    src.write(0x400000, b"deferred")
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    dst.incoming_migration(None)
    server = dst.qmp_listen(f"unix:{qsock}")

    async def body():
        c = await qmp(qsock)
        assert (await c.execute("query-status"))["status"] == "inmigrate"
        await c.execute("stop")  # during inmigrate: do not autostart
        await c.execute("migrate-incoming", {"uri": f"unix:{msock}"})
        t = threading.Thread(target=src.migration.migrate, args=(f"unix:{msock}", 60))
        t.start()
        while (await c.execute("query-migrate"))["status"] not in ("completed", "failed"):
            await asyncio.sleep(0.02)
        t.join()
        info = await c.execute("query-migrate")
        st = await c.execute("query-status")
        try:
            await c.execute("migrate-incoming", {"uri": f"unix:{msock}"})
        except Exception as e:  # noqa: BLE001
            again = str(e)
        await c.disconnect()
        return info, st, again
    info, st, again = asyncio.run(body())
    assert info["status"] == "completed"
    assert st == {"running": False, "status": "paused"}
    assert "already been started" in again
    assert dst.read(0x400000, 8) == b"deferred"
    server.close()


def test_memory_hotplug_refused_while_migrating(sockdir):
    src, dst = machines()
    # The backend gets its RAMBlock at object-add, so it migrates: the destination has it too,
    # as QEMU's would be started with the same -object.
    dst.memory.add_object("memory-backend-ram,id=m2,size=16M")
    qsock, msock = os.path.join(sockdir, "q"), os.path.join(sockdir, "m")
    server = src.qmp_listen(f"unix:{qsock}")
    inc = dst.incoming_migration(f"unix:{msock}")
    inc.start_thread()

    async def body():
        c = await qmp(qsock)
        await c.execute("migrate-set-parameters", {"max-bandwidth": 1 << 20})
        await c.execute("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": 1 << 24})
        await c.execute("migrate", {"uri": f"unix:{msock}"})
        errors = []
        for cmd, args in (("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m2"}),
                          ("device_del", {"id": "d1"})):
            try:
                await c.execute(cmd, args)
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))
        await c.execute("migrate_cancel")
        deadline = time.monotonic() + 30
        while (status := (await c.execute("query-migrate"))["status"]) not in ("cancelled", "failed"):
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.02)
        assert status == "cancelled"
        await c.execute("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m2"})
        await c.disconnect()
        return errors
    errors = asyncio.run(body())
    assert errors == ["device_add not allowed while migrating", "device_del not allowed while migrating"]
    assert [d.id for d in src.memory.dimms] == ["d1", "d2"]
    server.close()
