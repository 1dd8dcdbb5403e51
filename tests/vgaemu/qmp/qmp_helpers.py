"""Helpers shared by the QMP and migration tests (imported by name: a unique module)."""

from __future__ import annotations

import threading


class GuestThread:
    """run_guest(machine, main) in a thread; ``stop()`` ends it through QMP's path (quit)."""

    def __init__(self, machine, main) -> None:
        from vgaemu.guest import run_guest

        self.machine = machine
        self.result = None
        self.error = None

        def body():
            try:
                self.result = run_guest(machine, main)
            except BaseException as e:  # reported by stop()
                self.error = e
        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.machine.loop.request_quit()
        self.thread.join(20)
        assert not self.thread.is_alive(), "guest thread did not end"
        if self.error is not None:
            raise self.error
