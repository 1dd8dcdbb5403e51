"""The destination side (QEMU's migration/savevm.c qemu_loadvm_state + ram.c ram_load).

The machine waits in the ``inmigrate`` run state: no guest step runs. The stream's RAM block
list is checked against this machine's (idstr, used_length) before any page is written; pages
go straight into guest memory; device sections are collected, then all decoded and checked,
then all loaded. Only after END does the machine leave ``inmigrate`` -- running, or paused
if ``stop`` was given meanwhile (QEMU's autostart) -- and its display redraws everything at
once. A failure leaves it in ``inmigrate`` with the error recorded: a half-loaded guest never
runs (the CLI then exits with that one-line error).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from vgaemu.mainloop import RunState
from vgaemu.migration import stream
from vgaemu.migration.errors import MigrationError
from vgaemu.migration.prefault import RAMPrefault
from vgaemu.migration.vmstate import decode_state
from vgaemu.migration.transport import Listener, parse_uri


def check_blocks(machine, announced: list[tuple[str, int]]) -> list:
    """The stream's blocks, in its order, as this machine's RAMBlocks; refuse a mismatch."""
    ours = {b.idstr: b for b in machine.ram_list.blocks}
    out = []
    for name, used in announced:
        b = ours.get(name)
        if b is None:
            raise MigrationError(f"Unknown ramblock \"{name}\", cannot accept migration (start "
                                 "the destination with the same -m/-object/-device options)")
        if b.used_length != used:
            raise MigrationError(f"Length mismatch: {name}: 0x{used:x} in != 0x{b.used_length:x}")
        out.append(b)
    missing = sorted(set(ours) - {n for n, _ in announced})
    if missing:
        raise MigrationError(f"the migration stream has no RAM block {', '.join(missing)} that "
                             "this machine has (start the destination with the same "
                             "-m/-object/-device options as the source)")
    return out


class IncomingMigration:
    """One destination's wait for and load of a stream (``-incoming`` / migrate-incoming)."""

    def __init__(self, machine, *, deferred: bool = False) -> None:
        self.machine = machine
        self.deferred = deferred
        self.status = "none"
        self.error: str | None = None
        self.done = threading.Event()
        self.bytes_read = 0
        self.pages = 0
        self.zero_pages = 0
        self.started = False
        self._t0 = 0.0
        self._t1: float | None = None
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        #: Faults the RAM in while the source connects and sends (migration.prefault).
        self.prefault: RAMPrefault | None = None
        machine.loop.set_runstate(RunState.INMIGRATE)
        if not hasattr(machine, "incoming_autostart"):
            machine.incoming_autostart = True

    def info(self) -> dict:
        out: dict[str, Any] = {"status": self.status}
        if self.started:
            end = self._t1 if self._t1 is not None else time.monotonic()
            out["total-time"] = int((end - self._t0) * 1000)
            out["ram"] = {"transferred": self.bytes_read, "normal": self.pages,
                          "duplicate": self.zero_pages}
        if self.error and self.status == "failed":
            out["error-desc"] = self.error
        return out

    def _set_status(self, status: str) -> None:
        self.status = status
        self.machine.loop.emit_event("MIGRATION", {"status": status})

    def listen(self, uri: str) -> Listener:
        """Open the listening socket (so a source can connect as soon as this returns)."""
        if self.started:
            raise MigrationError("The incoming migration has already been started")
        self._listener = Listener(parse_uri(uri))
        self.started = True
        self._set_status("setup")
        self.prefault = RAMPrefault(list(self.machine.ram_list.blocks)).start()
        return self._listener

    def run(self, uri: str | None = None) -> None:
        """Accept, load, start the guest; raises MigrationError (the machine stays inmigrate)."""
        if self._listener is None:
            self.listen(uri)
        self._t0 = time.monotonic()
        try:
            channel = self._listener.accept()
            self._set_status("active")
            try:
                self._load(channel)
            finally:
                try:
                    channel.close()
                except MigrationError:
                    pass
        except BaseException as exc:
            self.error = str(exc) or type(exc).__name__
            self._t1 = time.monotonic()
            self._set_status("failed")
            self.done.set()
            raise
        finally:
            self._listener.close()
            if self.prefault is not None:
                self.prefault.stop()
        self._t1 = time.monotonic()
        self._set_status("completed")
        self.done.set()

    def start_thread(self, uri: str | None = None) -> None:
        """Listen (unless ``listen`` already did) and load in a background thread."""
        if self._listener is None:
            self.listen(uri)

        def body():
            try:
                self.run()
            except BaseException:  # recorded in self.error; the CLI reports it
                pass
        self._thread = threading.Thread(target=body, name="migration-incoming", daemon=True)
        self._thread.start()

    def _load(self, channel) -> None:
        machine = self.machine
        reader = stream.StreamReader(channel)
        reader.read_header()
        if reader.tag() != stream.TAG_CONFIG:
            raise MigrationError("migration stream: the configuration record is missing")
        config = decode_state(reader.read_config(), "configuration")
        with machine.bql:
            machine.vmstate.check_configuration(config)
        if reader.tag() != stream.TAG_BLOCKS:
            raise MigrationError("migration stream: the RAM block list is missing")
        blocks = check_blocks(machine, reader.read_blocks())
        devices: list[tuple[str, int, bytes]] = []
        while True:
            tag = reader.tag()
            if tag == stream.TAG_PAGES:
                if devices:
                    raise MigrationError("migration stream: RAM pages after device state")
                k, z = reader.read_pages_into(blocks)
                self.pages += k
                self.zero_pages += z
            elif tag == stream.TAG_PASS:
                reader.u32()
            elif tag == stream.TAG_DEVICE:
                devices.append(reader.read_device())
            elif tag == stream.TAG_END:
                reader.u64()
                break
            else:
                raise MigrationError(f"migration stream: unknown record type 0x{tag:02x}")
            self.bytes_read = reader.bytes_read
        self.bytes_read = reader.bytes_read
        with machine.bql:
            machine.vmstate.load_all(devices)
            dirty = machine.ram_list.dirty
            for b in blocks:  # RAM was written behind the bitmaps' back: every client redoes it
                dirty.set_dirty_range(b.offset, b.used_length)
            machine.vga.invalidate()
            if machine.incoming_autostart:
                machine.loop.vm_start()
            else:
                machine.loop.set_runstate(RunState.PAUSED)


def start_incoming_thread(machine, uri: str, *, from_qmp: bool = False) -> IncomingMigration:
    """QMP migrate-incoming: only on a machine started with ``-incoming defer``."""
    inc = getattr(machine, "incoming", None)
    if inc is None:
        raise MigrationError("'-incoming' was not specified on the command line")
    if inc.started:
        raise MigrationError("The incoming migration has already been started")
    inc.start_thread(uri)
    return inc
