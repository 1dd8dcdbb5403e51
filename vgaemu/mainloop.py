"""The machine's main loop contract: one lock (QEMU's BQL), work posted by other threads, the
run state that ``stop``/``cont`` gate, and the events the monitor reports.

Other threads (the QMP server, a migration, a test, the window's event pump) never touch
machine state directly. They call ``machine.post(fn)`` and get a Future; whatever drives the
guest (the scripted-guest runner, replay, the CPU run loop) calls ``machine.run_pending()``
between guest steps, holding ``machine.bql``, and that runs the posted work. While the run
state is not ``running`` (QMP ``stop``, a migration's final stage) ``run_pending`` does not
return: it keeps draining posted work with the BQL released, so a command or a migration can
take the lock and see a machine no guest step is changing.

A driver brackets its run with ``with machine.driving():`` (it takes the BQL for the whole
run; the BQL is released only while paused). When no driver runs, ``post`` runs the work at
once in the posting thread, under the BQL. So the CPU run loop needs exactly two calls::

    with machine.driving():
        while machine.run_pending():     # False once `quit` was asked for
            cpu.run_slice(...)

Never wait for a posted Future from the driving thread itself: it would wait for itself.

While the run state is not ``running``, a front end that lives in the driving thread (the
pygame window) still has to pump its events, redraw on expose and answer its close button,
as QEMU's GUI keeps running in the main loop while the VM is stopped. It registers an idle
hook (``with machine.loop.idle_hook(fn):``); the paused ``run_pending`` calls ``fn()`` in
the driving thread, under the BQL, each time it wakes (at least every 20 ms). A hook must
not block; to end the run it calls ``request_quit()``.
"""

from __future__ import annotations

import collections
import enum
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Callable

#: How long a paused driver sleeps before looking at the queue again when a poster could not
#: wake it (the poster found the BQL held for a moment).
_PAUSED_POLL_S = 0.02


class RunState(str, enum.Enum):
    """QEMU's RunState values a vgaemu machine goes through (qapi/run-state.json)."""

    RUNNING = "running"
    PAUSED = "paused"
    INMIGRATE = "inmigrate"
    FINISH_MIGRATE = "finish-migrate"
    POSTMIGRATE = "postmigrate"
    SHUTDOWN = "shutdown"


class MainLoop:
    """The BQL, the posted-work queue, the run state and the event listeners of one machine."""

    def __init__(self) -> None:
        self.bql = threading.RLock()
        self._cond = threading.Condition(self.bql)
        self._queue: collections.deque[tuple[Callable[[], Any], Future]] = collections.deque()
        self._drivers = 0
        self.runstate = RunState.RUNNING
        #: Set by QMP ``quit``: the driver ends the run at its next ``run_pending``.
        self.quit_requested = False
        self._event_listeners: list[Callable[[dict], None]] = []
        self._listeners_lock = threading.Lock()
        self._idle_hooks: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ posted work
    def post(self, fn: Callable[[], Any]) -> Future:
        """Run ``fn()`` on the machine between guest steps; its result or exception lands in
        the returned Future. With no driver, it runs now in this thread (under the BQL)."""
        fut: Future = Future()
        self._queue.append((fn, fut))
        if self._drivers == 0:
            with self.bql:
                self._drain()
        else:
            self._wake()  # a paused driver waits on the condition
        return fut

    def call(self, fn: Callable[[], Any], timeout: float | None = None) -> Any:
        """``post(fn).result(timeout)``: for threads other than the driver's."""
        return self.post(fn).result(timeout)

    def _drain(self) -> None:
        q = self._queue
        while q:
            fn, fut = q.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to whoever waits on the Future
                fut.set_exception(exc)

    def run_pending(self) -> bool:
        """Between guest steps: run posted work; while paused, wait (BQL released) and keep
        running posted work. False once ``quit`` was asked for: end the run."""
        with self.bql:
            while True:
                if self._queue:
                    self._drain()
                if self.quit_requested:
                    return False
                if self.runstate is RunState.RUNNING:
                    return True
                if self._idle_hooks:
                    for fn in tuple(self._idle_hooks):
                        fn()
                    if self._queue or self.quit_requested:
                        continue
                self._cond.wait(_PAUSED_POLL_S)

    @contextmanager
    def driving(self):
        """Bracket a guest run: holds the BQL except while paused; posted work left over
        when the run ends is run then."""
        with self.bql:
            self._drivers += 1
            try:
                yield self
            finally:
                self._drivers -= 1
                self._drain()

    @contextmanager
    def idle_hook(self, fn: Callable[[], None]):
        """Call ``fn()`` from the paused driver's wait (see the module docstring) while in
        the ``with`` block."""
        with self.bql:
            self._idle_hooks.append(fn)
        try:
            yield fn
        finally:
            with self.bql:
                self._idle_hooks.remove(fn)

    @property
    def driven(self) -> bool:
        return self._drivers > 0

    # ------------------------------------------------------------------ run state
    @property
    def running(self) -> bool:
        return self.runstate is RunState.RUNNING

    def vm_stop(self, state: RunState = RunState.PAUSED) -> None:
        """vm_stop: the guest makes no step until vm_start; STOP once, on leaving running."""
        with self.bql:
            was_running = self.runstate is RunState.RUNNING
            self.runstate = RunState(state)
        if was_running:
            self.emit_event("STOP")

    def vm_start(self) -> None:
        """vm_start: resume the guest (RESUME when it was not running)."""
        with self.bql:
            was_running = self.runstate is RunState.RUNNING
            self.runstate = RunState.RUNNING
            self._cond.notify_all()
        if not was_running:
            self.emit_event("RESUME")

    def set_runstate(self, state: RunState) -> None:
        """Change the state without the STOP/RESUME events (inmigrate, postmigrate...)."""
        with self.bql:
            self.runstate = RunState(state)
            self._cond.notify_all()

    def request_quit(self) -> None:
        """Any thread: the driver ends its run at its next ``run_pending`` (never blocks)."""
        self.quit_requested = True
        self._wake()

    def _wake(self) -> None:
        """Wake a paused driver if the BQL is free now (else it polls within 20 ms)."""
        if self.bql.acquire(blocking=False):
            try:
                self._cond.notify_all()
            finally:
                self.bql.release()

    # ------------------------------------------------------------------ events
    def add_event_listener(self, fn: Callable[[dict], None]) -> None:
        """``fn(event)`` for every event: ``{"event", "data", "timestamp"}`` as QMP sends it.
        Called in the emitting thread; a listener must not block."""
        with self._listeners_lock:
            self._event_listeners.append(fn)

    def remove_event_listener(self, fn: Callable[[dict], None]) -> None:
        with self._listeners_lock:
            if fn in self._event_listeners:
                self._event_listeners.remove(fn)

    def emit_event(self, name: str, data: dict | None = None) -> dict:
        now = time.time()
        event = {"event": name,
                 "timestamp": {"seconds": int(now), "microseconds": int(now * 1e6) % 1_000_000}}
        if data is not None:
            event["data"] = data
        with self._listeners_lock:
            listeners = tuple(self._event_listeners)
        for fn in listeners:
            fn(event)
        return event
