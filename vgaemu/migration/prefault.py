"""The destination faults its guest RAM in while it waits for the source.

A destination's RAM is fresh anonymous memory: the first write to each host page costs a
kernel page fault that allocates and zeroes it, and in a Python receiver those faults
happened inside ``recv_into``, one per 4 KiB, on the migration's critical path (they were
most of the gap to a raw socket copy). Here a background thread asks the kernel to
populate the blocks ahead of time with ``MADV_POPULATE_WRITE`` (Linux 5.14+), which never
changes what the memory holds -- so it may race with the loader writing received pages into
the same blocks -- after ``MADV_HUGEPAGE``, which QEMU's ``ram_block_add`` gives every
RAMBlock so the kernel backs RAM with 2 MiB pages (512x fewer faults).

The price is QEMU's ``prealloc=on``: the destination's RAM is resident even where the guest
never wrote. RAM larger than half of what the host has available is not prefaulted (the
loader then faults pages in as it goes, and skips zero pages that are already zero).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import mmap
import threading

#: Linux's values (Python 3.11's mmap module lacks MADV_POPULATE_WRITE).
MADV_HUGEPAGE = getattr(mmap, "MADV_HUGEPAGE", 14)
MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
#: One madvise call per this many bytes, so ``stop`` takes effect promptly.
PREFAULT_CHUNK = 32 << 20

_libc = None


def _madvise():
    """libc's madvise through ctypes, which releases the GIL for the call (the mmap
    module's madvise holds it): the guest and the loader keep running meanwhile."""
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = lib.madvise
        fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        fn.restype = ctypes.c_int
        _libc = fn
    return _libc


def madvise(host, advice: int, start: int = 0, length: int | None = None) -> int:
    """madvise over ``host[start:start+length]`` (a uint8 numpy array on a page-aligned
    mapping); returns 0 or the errno. ``start`` must be a multiple of the host page size."""
    base = host.ctypes.data + start
    n = len(host) - start if length is None else length
    if n <= 0:
        return 0
    if base % mmap.PAGESIZE:
        return errno.EINVAL
    if _madvise()(base, n, advice) == 0:
        return 0
    return ctypes.get_errno()


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class RAMPrefault:
    """Populate the writable RAM blocks of ``blocks`` in a daemon thread; ``stop()`` ends it
    early (at the next chunk), ``wait()`` joins it. ``populated`` counts bytes done."""

    def __init__(self, blocks) -> None:
        # The numpy views keep each mapping alive even if a block is unplugged meanwhile.
        self._hosts = [b.host[:b.used_length] for b in blocks
                       if b.host is not None and b.host.flags.writeable]
        self.total = sum(len(h) for h in self._hosts)
        self.populated = 0
        self.skipped_reason: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "RAMPrefault":
        avail = available_memory()
        if avail is not None and self.total > avail // 2:
            self.skipped_reason = (f"{self.total} bytes of RAM, {avail} available: "
                                   "pages are faulted in as they arrive")
            self._hosts = []
            return self
        self._thread = threading.Thread(target=self._run, name="migration-prefault", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for host in self._hosts:
                madvise(host, MADV_HUGEPAGE)
                for start in range(0, len(host), PREFAULT_CHUNK):
                    if self._stop.is_set():
                        return
                    n = min(PREFAULT_CHUNK, len(host) - start)
                    err = madvise(host, MADV_POPULATE_WRITE, start, n)
                    if err:  # EINVAL: an older kernel; ENOMEM/EFAULT: left to the loader
                        self.skipped_reason = ("madvise(MADV_POPULATE_WRITE): "
                                               f"{errno.errorcode.get(err, err)}")
                        return
                    self.populated += n
        finally:
            self._hosts = []

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread; True once it has finished (or never ran)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True
