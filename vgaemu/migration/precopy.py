"""The source side of precopy live migration (QEMU's migration/migration.c + ram.c).

``RAMSaver`` is the algorithm over the MIGRATION dirty bitmap, read only through guestmem's
public API:

1. ``setup``: ``RAMList.global_dirty_log_start`` (every RAM write now also sets the
   MIGRATION bit) and clear the MIGRATION bits of every block; the first pass then sends
   every page once (the "bulk stage"), while the guest keeps running.
2. each iteration: ``memory_global_dirty_log_sync`` (listeners' log_sync), then the
   MIGRATION bits of every block join the pending pages: the pages written since they were
   last sent; they are sent again. A page's bit is cleared just before it is read for
   sending (``DirtyMemory.clear_dirty_pages``, QEMU's lazy clear of the dirty log), so a
   page written while it is being sent has its bit set after the write and is in the next
   sync: nothing written after its last send is missed, and a page written between a sync
   and its send is not sent twice.
3. when what remains fits ``downtime-limit`` at the bandwidth the last pass measured (or
   after ``x-vgaemu-max-iterations`` passes), the guest is stopped between two steps, the
   last sync is sent with the device state, and the stream ends.

``MigrationJob`` runs that in a thread for QMP ``migrate``: channel, rate limit
(``max-bandwidth``), events, ``query-migrate`` numbers, cancel, and failure handling -- a
failed or cancelled migration stops dirty logging and lets the source run on, as QEMU's.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np

from guestmem import (DIRTY_MEMORY_MIGRATION, TARGET_PAGE_BITS, TARGET_PAGE_SIZE,
                      memory_global_dirty_log_sync)

from vgaemu.mainloop import RunState
from vgaemu.migration import stream
from vgaemu.migration.errors import MigrationError

#: QEMU's defaults: MAX_THROTTLE (128 MiB/s) and DEFAULT_MIGRATE_SET_DOWNTIME (300 ms).
DEFAULT_MAX_BANDWIDTH = 128 << 20
DEFAULT_DOWNTIME_LIMIT_MS = 300
#: QEMU has no pass limit (it throttles the guest instead); after this many passes we stop the
#: guest and finish whatever remains.
DEFAULT_MAX_ITERATIONS = 30
#: QEMU's BUFFER_DELAY: the rate limit's accounting window.
RATE_WINDOW_S = 0.1
#: The source writes PAGES records in batches of this many bytes (at most BATCH_BUFFERS
#: buffers, under IOV_MAX) with one sendmsg; a rate limit makes batches smaller.
BATCH_BYTES = 16 << 20
BATCH_BUFFERS = 900

ACTIVE_STATES = ("setup", "active", "device", "cancelling")


class MigrationCancelled(MigrationError):
    pass


class RAMSaver:
    """The RAM part of a precopy stream over the blocks of one RAMList.

    ``send(buffers)`` writes bytes; ``chunk_hook()`` runs after each PAGES record (tests
    use it to write guest memory in the middle of a pass).
    """

    def __init__(self, ram_list, send: Callable[[list], None],
                 chunk_hook: Callable[[], None] | None = None) -> None:
        self.ram_list = ram_list
        self.blocks = list(ram_list.blocks)
        self.send = send
        self.chunk_hook = chunk_hook
        self.pending = [np.zeros(b.used_length // TARGET_PAGE_SIZE, dtype=bool) for b in self.blocks]
        self.normal_pages = 0
        self.zero_pages = 0
        self.sync_count = 0
        self.in_flight = 0
        self.cancelled = False
        self.logging = False

    @property
    def total_bytes(self) -> int:
        return sum(b.used_length for b in self.blocks)

    @property
    def remaining_pages(self) -> int:
        """Pages still to send: pending ones and those of the running pass not yet sent."""
        return self.in_flight + int(sum(int(np.count_nonzero(p)) for p in self.pending))

    def setup(self) -> None:
        """Start MIGRATION logging, clear its bits, and mark every page to send."""
        self.ram_list.global_dirty_log_start()
        self.logging = True
        dirty = self.ram_list.dirty
        for b, p in zip(self.blocks, self.pending):
            dirty.snapshot_and_clear_dirty(b.offset, b.used_length, DIRTY_MEMORY_MIGRATION)
            p[:] = True

    def stop_logging(self) -> None:
        if self.logging:
            self.logging = False
            self.ram_list.global_dirty_log_stop()

    def header(self, config: bytes) -> list:
        return [stream.header(), stream.config_record(config), stream.blocks_record(self.blocks)]

    def sync(self) -> int:
        """migration_bitmap_sync: add the pages dirtied since they were last sent to the
        pending ones; returns how many that found.

        The bits are read, not cleared: each page's bit is cleared just before the page is
        read for sending (send_pending), QEMU's lazy clear of the dirty log
        (migration_clear_memory_region_dirty_bitmap). A bit set after the read is never
        lost, and a page written between this sync and its send goes once, not again in
        the next pass. Nothing else clears MIGRATION bits while logging is on."""
        memory_global_dirty_log_sync(self.ram_list)
        bitmap = self.ram_list.dirty.bitmap(DIRTY_MEMORY_MIGRATION)
        found = 0
        for b, p in zip(self.blocks, self.pending):
            first = b.offset >> TARGET_PAGE_BITS
            bits = bitmap[first:first + p.size]
            found += int(np.count_nonzero(bits > p))
            p |= bits
        self.sync_count += 1
        return found

    def send_pending(self) -> int:
        """Send every pending page once (one pass); returns the bytes sent.

        A block's pending pages are taken at once, so the pass is planned with a few numpy
        calls (stream.pages_records). Each record's MIGRATION bits are cleared before its
        pages are read (the views are read when the batch is written, later still): a write
        racing with the copy sets its bit after it stores, so the next sync brings the page
        back. The zero test ran when the pass was planned, so a page found zero then and
        written since is marked dirty again rather than trusted."""
        sent = 0
        dirty = self.ram_list.dirty
        for index, (b, p) in enumerate(zip(self.blocks, self.pending)):
            todo = np.flatnonzero(p)
            if not todo.size:
                continue
            p[:] = False
            self.in_flight = int(todo.size)
            first = b.offset >> TARGET_PAGE_BITS
            rows = b.host[:b.used_length].reshape(-1, TARGET_PAGE_SIZE)
            for rec in stream.pages_records(index, b.host, todo, stream.PAGES_PER_RECORD):
                if self.cancelled:
                    raise MigrationCancelled("migration cancelled")
                dirty.clear_dirty_pages(rec.pages + first, DIRTY_MEMORY_MIGRATION)
                if rec.normal < rec.pages.size:
                    zpages = rec.pages[rec.zero]
                    for page in zpages[~stream.zero_pages_of(rows, zpages)].tolist():
                        dirty.set_dirty_range(b.offset + page * TARGET_PAGE_SIZE,
                                              TARGET_PAGE_SIZE, 1 << DIRTY_MEMORY_MIGRATION)
                self.send(rec.bufs)
                sent += rec.nbytes
                self.in_flight -= rec.pages.size
                self.normal_pages += rec.normal
                self.zero_pages += rec.pages.size - rec.normal
                if self.chunk_hook is not None:
                    self.chunk_hook()
            self.in_flight = 0
        return sent


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


class MigrationState:
    """One machine's outgoing migration: parameters, the current job, ``query-migrate``."""

    def __init__(self, machine) -> None:
        self.machine = machine
        self.max_bandwidth = DEFAULT_MAX_BANDWIDTH
        self.downtime_limit = DEFAULT_DOWNTIME_LIMIT_MS
        self.max_iterations = DEFAULT_MAX_ITERATIONS
        self.status = "none"
        self.error: str | None = None
        self._job: MigrationJob | None = None
        self._lock = threading.Lock()
        self.done = threading.Event()

    # -- parameters ---------------------------------------------------------------------
    def parameters(self) -> dict:
        return {"max-bandwidth": self.max_bandwidth, "downtime-limit": self.downtime_limit,
                "x-vgaemu-max-iterations": self.max_iterations}

    def set_parameters(self, params: dict) -> None:
        """migrate-set-parameters: every value checked before any is set (QEMU's messages)."""
        new = self.parameters()
        for key, value in params.items():
            if key not in new:
                raise MigrationError(f"Parameter '{key}' is unexpected")
            if isinstance(value, bool) or not isinstance(value, int):
                raise MigrationError(f"Invalid parameter type for '{key}', expected: integer")
            new[key] = value
        if not 0 <= new["max-bandwidth"] <= (1 << 63) - 1:
            raise MigrationError("Parameter 'max_bandwidth' expects an integer in the range of "
                                 "0 to 9223372036854775807 bytes/second")
        if not 0 <= new["downtime-limit"] <= 2000000:
            raise MigrationError("Parameter 'downtime_limit' expects an integer in the range of "
                                 "0 to 2000000 milliseconds")
        if not 1 <= new["x-vgaemu-max-iterations"] <= 1 << 20:
            raise MigrationError("Parameter 'x-vgaemu-max-iterations' expects an integer in the "
                                 "range of 1 to 1048576")
        self.max_bandwidth = new["max-bandwidth"]
        self.downtime_limit = new["downtime-limit"]
        self.max_iterations = new["x-vgaemu-max-iterations"]

    # -- the job --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES

    def start(self, uri: str, *, chunk_hook: Callable[[], None] | None = None) -> "MigrationJob":
        """QMP migrate: checks, then the job runs in its own thread."""
        # (the transports -- socket, subprocess -- are imported by the first migration, not
        # by every machine's MigrationState)
        from vgaemu.migration.transport import parse_uri

        target = parse_uri(uri)
        with self._lock:
            if self.active:
                raise MigrationError("There's a migration process in progress")
            if self.machine.loop.runstate is RunState.INMIGRATE:
                raise MigrationError("Guest is waiting for an incoming migration")
            job = MigrationJob(self, target, chunk_hook=chunk_hook)
            self._job = job
            self.error = None
            self.done.clear()
            self._set_status("setup")
        job.thread.start()
        return job

    def migrate(self, uri: str, timeout: float | None = None) -> dict:
        """Start and wait: the Python API's blocking ``migrate`` (save to ``file:`` etc.);
        raises MigrationError when it fails."""
        self.start(uri)
        self.done.wait(timeout)
        if self.status != "completed":
            raise MigrationError(f"migration to {uri} {self.status}: {self.error or 'timed out'}")
        return self.info()

    def cancel(self) -> None:
        job = self._job
        if job is not None and self.active:
            self._set_status("cancelling")
            job.cancel()

    def _set_status(self, status: str) -> None:
        self.status = status
        self.machine.loop.emit_event("MIGRATION", {"status": status})

    def info(self) -> dict:
        """query-migrate's MigrationInfo."""
        out: dict[str, Any] = {"status": self.status}
        job = self._job
        if job is None or self.status == "none":
            return out
        out.update(job.info())
        if self.error and self.status == "failed":
            out["error-desc"] = self.error
        return out


class MigrationJob:
    def __init__(self, state: MigrationState, uri, *, chunk_hook=None) -> None:
        self.state = state
        self.machine = state.machine
        self.uri = uri
        self.chunk_hook = chunk_hook
        self.thread = threading.Thread(target=self._run, name="migration", daemon=True)
        self.channel = None
        self.saver: RAMSaver | None = None
        self.start_ms = _now_ms()
        self.end_ms: int | None = None
        self.setup_ms = 0
        self.transferred = 0
        self.precopy_bytes = 0
        self.downtime_bytes = 0
        self.downtime_ms: int | None = None
        self.expected_downtime_ms = state.downtime_limit
        self.dirty_pages_rate = 0
        self.mbps = 0.0
        self.bandwidth = 0.0  # bytes/s measured over the last pass
        self.iterations = 0
        self._cancel = False
        self._window_t = time.monotonic()
        self._window_bytes = 0
        self._throttle = True
        self._batch: list = []
        self._batch_bytes = 0
        #: The migration thread's CPU time once it has ended (benchmarks/bench_migration.py
        #: compares it with a raw copy's: a measure the host's load does not skew).
        self.cpu_seconds: float | None = None
        self._stopped_guest = False
        self._was_running = False

    # -- sending ------------------------------------------------------------------------
    def _send(self, bufs: list, flush: bool = False) -> None:
        """Queue ``bufs`` (PAGES records: views of guest memory) and write the queue with one
        sendmsg once it holds BATCH_BYTES, or at ``flush`` (pass ends, device state, end).

        Fewer, larger writes matter in Python: each return from a blocking send has to win
        the GIL back from the guest's thread. Views are read when the batch is written; a
        page written meanwhile has its MIGRATION bit set again, so the next pass resends it
        whatever this one carried."""
        self._batch.extend(bufs)
        self._batch_bytes += sum(map(len, bufs))  # bytes and 1-D byte memoryviews
        limit = self.state.max_bandwidth
        batch = BATCH_BYTES if not (self._throttle and limit > 0) else \
            min(BATCH_BYTES, int(limit * RATE_WINDOW_S))
        if flush or self._batch_bytes >= batch or len(self._batch) >= BATCH_BUFFERS:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        bufs, n = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        self.channel.writev(bufs)
        self.transferred += n
        self._window_bytes += n
        limit = self.state.max_bandwidth
        if self._throttle and limit > 0:
            now = time.monotonic()
            ahead = self._window_bytes / limit - (now - self._window_t)
            if ahead > 0:
                time.sleep(ahead)
                now = time.monotonic()
            if now - self._window_t >= RATE_WINDOW_S:
                self._window_t, self._window_bytes = now, 0

    def cancel(self) -> None:
        self._cancel = True
        if self.saver is not None:
            self.saver.cancelled = True
        if self.channel is not None:
            self.channel.abort()

    def _check_cancel(self) -> None:
        if self._cancel:
            raise MigrationCancelled("migration cancelled")

    # -- the thread -----------------------------------------------------------------------
    def _run(self) -> None:
        state, machine, loop = self.state, self.machine, self.machine.loop
        cpu0 = time.thread_time()
        try:
            from vgaemu.migration.transport import connect

            self.channel = connect(self.uri)
            self._check_cancel()
            saver = self.saver = RAMSaver(machine.ram_list, self._send, self.chunk_hook)
            machine.post(saver.setup).result()
            from vgaemu.migration.vmstate import encode_state

            config = machine.post(lambda: encode_state(machine.vmstate.configuration())).result()
            self._send(saver.header(config), flush=True)
            self.setup_ms = _now_ms() - self.start_ms
            self._check_cancel()
            state._set_status("active")
            last_sync = time.monotonic()
            while True:
                t0 = time.monotonic()
                sent = saver.send_pending()
                self._send([stream.pass_record(self.iterations)], flush=True)
                dt = max(time.monotonic() - t0, 1e-6)
                self.precopy_bytes += sent
                self.iterations += 1
                if sent:
                    self.bandwidth = sent / dt
                    self.mbps = self.bandwidth * 8 / 1e6
                self._check_cancel()
                found = saver.sync()
                now = time.monotonic()
                self.dirty_pages_rate = int(found / max(now - last_sync, 1e-6))
                last_sync = now
                loop.emit_event("MIGRATION_PASS", {"pass": saver.sync_count})
                remaining = saver.remaining_pages * TARGET_PAGE_SIZE
                bandwidth = self.bandwidth or float(state.max_bandwidth or 1 << 30)
                self.expected_downtime_ms = int(remaining / bandwidth * 1000)
                if (self.expected_downtime_ms <= state.downtime_limit
                        or self.iterations >= state.max_iterations):
                    break
            self._complete(saver)
            self.end_ms = _now_ms()
            state._set_status("completed")
        except BaseException as exc:  # noqa: BLE001 - every failure leaves the source running
            self.end_ms = _now_ms()
            cancelled = self._cancel or isinstance(exc, MigrationCancelled)
            state.error = None if cancelled else str(exc) or type(exc).__name__
            if self.saver is not None:
                try:
                    machine.post(self.saver.stop_logging).result(10)
                except Exception:
                    pass
            if self._stopped_guest:
                machine.post(lambda: self._resume_source()).result(10)
            if self.channel is not None:
                self.channel.abort()
                try:
                    self.channel.close()
                except MigrationError:
                    pass
            state._set_status("cancelled" if cancelled else "failed")
        finally:
            self.cpu_seconds = time.thread_time() - cpu0
            state.done.set()

    def _resume_source(self) -> None:
        if self._was_running:
            self.machine.loop.vm_start()
        else:
            self.machine.loop.set_runstate(RunState.PAUSED)

    def _stop_guest(self) -> None:
        loop = self.machine.loop
        self._was_running = loop.running
        loop.vm_stop(RunState.FINISH_MIGRATE)
        self._stopped_guest = True

    def _complete(self, saver: RAMSaver) -> None:
        """migration_completion: stop the guest between two steps, send the rest and the
        device state under the BQL, end the stream."""
        machine = self.machine
        machine.post(self._stop_guest).result()
        t_stop = time.monotonic()
        self._throttle = False
        before = self.transferred
        with machine.bql:
            self.state._set_status("device")
            saver.sync()
            saver.send_pending()
            for name, version, blob in machine.vmstate.save_all():
                self._send([stream.device_record(name, version, blob)])
            self._send([stream.end_record(saver.normal_pages + saver.zero_pages)], flush=True)
            self.channel.close()
            self.downtime_ms = int((time.monotonic() - t_stop) * 1000)
            self.downtime_bytes = self.transferred - before
            saver.stop_logging()
            machine.loop.set_runstate(RunState.POSTMIGRATE)

    def info(self) -> dict:
        saver = self.saver
        end = self.end_ms if self.end_ms is not None else _now_ms()
        out: dict[str, Any] = {"total-time": end - self.start_ms,
                               "setup-time": self.setup_ms}
        if self.state.status == "completed":
            out["downtime"] = self.downtime_ms
        else:
            out["expected-downtime"] = self.expected_downtime_ms
        if saver is not None:
            elapsed = max(end - self.start_ms, 1) / 1000
            out["ram"] = {
                "transferred": self.transferred,
                "remaining": saver.remaining_pages * TARGET_PAGE_SIZE,
                "total": saver.total_bytes,
                "duplicate": saver.zero_pages,
                "normal": saver.normal_pages,
                "normal-bytes": saver.normal_pages * TARGET_PAGE_SIZE,
                "dirty-pages-rate": self.dirty_pages_rate,
                "mbps": round(self.mbps, 3),
                "dirty-sync-count": saver.sync_count,
                "page-size": TARGET_PAGE_SIZE,
                "pages-per-second": int((saver.normal_pages + saver.zero_pages) / elapsed),
                "precopy-bytes": self.precopy_bytes,
                "downtime-bytes": self.downtime_bytes,
            }
        return out
