"""Host memory backends: the host memory that guest RAM lives in.

Modelled on QEMU's ``HostMemoryBackend`` QOM objects (backends/hostmem*.c) and the
``file_ram_open`` / ``qemu_ram_alloc_from_fd`` / ``file_ram_alloc`` logic of
system/physmem.c:

* ``memory-backend-ram``   -- anonymous ``mmap`` (MAP_PRIVATE, or MAP_SHARED with share=on).
* ``memory-backend-file``  -- ``mmap`` of a file under ``mem-path``.  A directory gets a fresh
  ``qemu_back_mem.<id>.XXXXXX`` file that is unlinked at once; a missing file is created
  (and removed again if the backend then fails); an empty file is grown to ``size``; a
  non-empty file shorter than ``size`` is refused.  share=on maps MAP_SHARED, so another
  process that maps the same file sees guest writes and they stay in the file.
* ``memory-backend-memfd`` -- ``memfd_create`` (share=on and sealed by default, as in QEMU).

Each backend owns its mapping; ``host`` is a numpy uint8 view of it that RAMBlocks reuse
instead of allocating.  ``is_mapped`` is QEMU's ``host_memory_backend_is_mapped``: a backend
backs at most one RAM consumer (the machine's RAM or one DIMM) at a time.
"""

from __future__ import annotations

import errno
import mmap
import os
import re
import stat
import sys
import tempfile
from typing import Any, Callable

import numpy as np

from .errors import BackendError

__all__ = [
    "HostMemoryBackend",
    "MemoryBackendRam",
    "MemoryBackendFile",
    "MemoryBackendMemfd",
    "BACKEND_TYPES",
    "HOST_PAGE_SIZE",
    "QEMU_VMALLOC_ALIGN",
]

#: The host's page size; QEMU rounds RAMBlocks to it (HOST_PAGE_ALIGN).  Guest pages are 4 KiB.
HOST_PAGE_SIZE = max(mmap.PAGESIZE, 4096)

#: QEMU aligns anonymous RAM to 2 MiB on x86-64 Linux so THP can back it (qemu/osdep.h); that is
#: the alignment memory_region_get_alignment() reports for a memory-backend-ram, and so the
#: alignment a pc-dimm over such a backend must have.
QEMU_VMALLOC_ALIGN = 2 * 1024 * 1024

_HUGETLBFS = "hugetlbfs"
#: Linux's MADV_POPULATE_READ/WRITE (5.14+; Python 3.11's mmap module lacks the names): fault
#: pages in and report failure as an errno instead of a SIGBUS, as QEMU's prealloc prefers.
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
#: QEMU's wording when preallocation finds too little host memory (util/oslib-posix.c).
_PREALLOC_FAILED = ("os_mem_prealloc: Insufficient free host memory pages available to "
                    "allocate guest RAM")


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _refuse_special(path: str, mode: int) -> None:
    """QEMU maps guest RAM only from a regular file, a directory (a fresh file in it) or a
    hugetlbfs mount; /dev/zero, a FIFO or a socket cannot hold guest memory."""
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise BackendError(f"can't open backing store {path} for guest RAM: it is "
                           f"{_file_kind(mode)} (mem-path must be a regular file, a directory "
                           "or a hugetlbfs mount)")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


def _mount_fstype(path: str) -> str | None:
    """File system type of the mount holding ``path`` (longest mount-point prefix)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            mounts = [line.split()[:3] for line in f]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, fstype = "", None
    for _dev, mnt, fs in mounts:
        mnt = mnt.replace("\\040", " ")
        if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, fstype = mnt, fs
    return fstype


def _fd_page_size(fd: int, path: str | None) -> int:
    """QEMU's qemu_fd_getpagesize(): hugetlbfs files use the huge page size (statfs f_bsize)."""
    if path is not None and _mount_fstype(path) == _HUGETLBFS:
        return os.fstatvfs(fd).f_bsize
    return HOST_PAGE_SIZE


class HostMemoryBackend:
    """Base of the memory-backend-* objects (QEMU's TYPE_MEMORY_BACKEND).

    Properties follow QEMU's: ``id``, ``size``, ``share``, ``prealloc``, ``readonly``,
    ``mem_path`` (file backend only).  ``align`` is what QEMU's memory_region_get_alignment()
    reports for the backend's region; a DIMM over this backend is placed and sized to it.
    """

    type_name = "memory-backend"
    default_share = False

    def __init__(self, id: str, size: int, *, share: bool | None = None,
                 prealloc: bool = False, readonly: bool = False) -> None:
        if not isinstance(id, str) or not _ID_RE.match(id):
            raise BackendError(
                f"{self.type_name}: invalid id {id!r}: expected an identifier "
                "(a letter, then letters, digits, '-', '.', '_')")
        if isinstance(size, bool) or not isinstance(size, int):
            raise BackendError(f"{self.type_name} '{id}': size must be an integer, got {size!r}")
        if size <= 0:
            # hostmem*.c: "can't create backend with size 0"
            raise BackendError(f"{self.type_name} '{id}': can't create backend with size {size}")
        if size > sys.maxsize:
            # mmap/ftruncate take a signed 64-bit length: what QEMU's mmap() fails with
            raise BackendError(f"cannot set up guest memory '{id}': Cannot allocate memory "
                               f"(size 0x{size:x} exceeds the host's 0x{sys.maxsize:x} bytes)")
        self.id = id
        self.size = size
        self.share = self.default_share if share is None else bool(share)
        self.prealloc = bool(prealloc)
        self.readonly = bool(readonly)
        self.mem_path: str | None = None
        self.page_size = HOST_PAGE_SIZE
        self.align = HOST_PAGE_SIZE
        self.fd: int | None = None
        self._mmap: mmap.mmap | None = None
        self.host: np.ndarray | None = None
        self._mapped = False
        self._closed = False

    # -- allocation helpers used by subclasses ---------------------------------------------
    def _check_page_multiple(self) -> None:
        if self.size % self.page_size:
            raise BackendError(
                f"{self.type_name} '{self.id}': size 0x{self.size:x} is not a multiple of the "
                f"page size 0x{self.page_size:x}")

    def _finish_map(self, mm: mmap.mmap) -> None:
        self._mmap = mm
        host = np.frombuffer(mm, dtype=np.uint8, count=self.size)
        if self.readonly:
            host.flags.writeable = False
        self.host = host
        if self.prealloc:
            try:
                self._preallocate()
            except BackendError:
                self.host = None
                self._mmap = None
                del host
                mm.close()
                raise

    def _preallocate(self) -> None:
        """Allocate every page now, as QEMU's prealloc=on (qemu_prealloc_mem) does, so that
        a host too short of memory fails here, at start-up, with QEMU's message -- not later
        with a SIGBUS when the guest first touches a page of a too-small tmpfs/hugetlbfs.

        Shared memory with a file behind it (file share=on, memfd) first gets its blocks
        with posix_fallocate; then every page is faulted in writable (read-only: readable)
        with MADV_POPULATE_WRITE/READ, which reports failure as an errno. Hosts without it
        touch one byte per page, writing back the byte read, so file contents survive.
        """
        assert self.host is not None and self._mmap is not None
        shared_file = self.fd is not None and self.share
        if not shared_file and not self.readonly:
            self._check_host_memory()
        try:
            if shared_file and not self.readonly:
                try:
                    os.posix_fallocate(self.fd, 0, self.size)
                except OSError as e:
                    if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENODEV):
                        raise
            try:
                self._mmap.madvise(_MADV_POPULATE_READ if self.readonly else _MADV_POPULATE_WRITE)
            except OSError as e:
                if e.errno != errno.EINVAL:  # EINVAL: the kernel predates MADV_POPULATE_*
                    raise
                self._touch_pages()
        except OSError as e:
            raise BackendError(f"{_PREALLOC_FAILED} ({self.type_name} '{self.id}', "
                               f"0x{self.size:x} bytes: {e.strerror})") from e

    def _check_host_memory(self) -> None:
        """Anonymous memory that cannot fit in the host's available RAM and swap fails now
        with QEMU's message, instead of faulting pages in until the OOM killer picks a
        process (on a shared host, not necessarily this one)."""
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                info = {k: int(v.split()[0]) * 1024 for k, v in
                        (line.split(":", 1) for line in f if ":" in line)}
        except (OSError, ValueError):
            return
        available = info.get("MemAvailable", 0) + info.get("SwapFree", 0)
        if "MemAvailable" in info and self.size > available:
            raise BackendError(f"{_PREALLOC_FAILED} ({self.type_name} '{self.id}', 0x{self.size:x} "
                               f"bytes; the host has 0x{available:x} available)")

    def _touch_pages(self) -> None:
        step = self.page_size
        if self.readonly:
            int(self.host[::step].sum(dtype=np.uint64))
        else:
            self.host[::step] = self.host[::step].copy()  # a copy: numpy skips x[i] = x[i]

    # -- QEMU's host_memory_backend_is_mapped / set_mapped --------------------------------
    @property
    def is_mapped(self) -> bool:
        """True while a RAM consumer (machine RAM or a DIMM) uses this backend."""
        return self._mapped

    @property
    def closed(self) -> bool:
        return self._closed

    def set_mapped(self, mapped: bool) -> None:
        if self._closed:
            raise BackendError(f"{self.type_name} '{self.id}' is closed")
        if mapped and self._mapped:
            # machine_consume_memdev / pc_dimm_realize refuse a busy backend
            raise BackendError(f"can't use already busy memdev: {self.id}")
        self._mapped = bool(mapped)

    def properties(self) -> dict[str, Any]:
        """The QOM-style property view (as `qom-get` would show it)."""
        props: dict[str, Any] = {"id": self.id, "size": self.size, "share": self.share,
                                 "prealloc": self.prealloc, "readonly": self.readonly}
        if self.mem_path is not None:
            props["mem-path"] = self.mem_path
        return props

    def flush(self) -> None:
        """msync the mapping (only meaningful for file-backed share=on memory)."""
        if self._mmap is not None and not self._closed and self.share and not self.readonly:
            self._mmap.flush()

    def close(self) -> None:
        """Release the mapping and file descriptor.  Refused while the backend is mapped.

        A numpy view someone still holds keeps the pages alive (the mmap is then released
        when the last view goes away), so closing never invalidates live memory under a user.
        """
        if self._closed:
            return
        if self._mapped:
            raise BackendError(
                f"{self.type_name} '{self.id}' is in use (mapped by a RAM region or DIMM); "
                "unplug it before closing")
        self.flush()
        self.host = None
        mm, self._mmap = self._mmap, None
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass  # still exported to a live view; unmapped when that view is freed
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self._closed = True

    def __enter__(self) -> "HostMemoryBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._mapped:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("mapped" if self._mapped else "free")
        extra = f", mem_path={self.mem_path!r}" if self.mem_path is not None else ""
        return (f"{type(self).__name__}(id={self.id!r}, size=0x{self.size:x}, "
                f"share={self.share}{extra}, {state})")


class MemoryBackendRam(HostMemoryBackend):
    """memory-backend-ram: anonymous memory (qemu_anon_ram_alloc)."""

    type_name = "memory-backend-ram"

    def __init__(self, id: str, size: int, *, share: bool = False,
                 prealloc: bool = False) -> None:
        super().__init__(id, size, share=share, prealloc=prealloc)
        self._check_page_multiple()
        self.align = QEMU_VMALLOC_ALIGN
        flags = (mmap.MAP_SHARED if self.share else mmap.MAP_PRIVATE) | mmap.MAP_ANONYMOUS
        try:
            mm = mmap.mmap(-1, size, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            raise BackendError(f"cannot set up guest memory '{id}': {e.strerror}") from e
        self._finish_map(mm)


class MemoryBackendFile(HostMemoryBackend):
    """memory-backend-file: guest RAM in a file (or a hugetlbfs mount) under ``mem_path``."""

    type_name = "memory-backend-file"

    def __init__(self, id: str, size: int, mem_path: str | os.PathLike | None = None, *,
                 share: bool = False, prealloc: bool = False, readonly: bool = False,
                 align: int = 0, discard_data: bool = False) -> None:
        super().__init__(id, size, share=share, prealloc=prealloc, readonly=readonly)
        if mem_path is None or str(mem_path) == "":
            raise BackendError(f"{self.type_name} '{id}': mem-path property not set")
        if align < 0 or (align and align & (align - 1)):
            raise BackendError(f"{self.type_name} '{id}': alignment 0x{align:x} must be a "
                               "power of two")
        self.mem_path = os.fspath(mem_path)
        if (b"\0" if isinstance(self.mem_path, bytes) else "\0") in self.mem_path:
            raise BackendError(f"can't open backing store {self.mem_path!r} for guest RAM: "
                               "the path contains a NUL byte")
        self.discard_data = bool(discard_data)
        self.file_path: str | None = None  # the file actually mapped (None: unlinked temp)
        fd, created = self._open()
        try:
            self._map(fd, align)
        except BaseException:
            os.close(fd)
            self.fd = None
            if created:
                os.unlink(self.mem_path)
            raise

    def _open(self) -> tuple[int, bool]:
        """QEMU's file_ram_open(): existing file, new file, or temp file in a directory."""
        path = self.mem_path
        assert path is not None
        try:
            _refuse_special(path, os.stat(path).st_mode)  # before open(): a FIFO would block
        except FileNotFoundError:
            pass
        except OSError as e:
            raise BackendError(f"can't open backing store {path} for guest RAM: {e.strerror}") from e
        if os.path.isdir(path):
            if self.readonly:
                raise BackendError(f"can't open backing store {path} for guest RAM: "
                                   "is a directory (readonly=on needs an existing file)")
            name = self.id.replace("/", "_")
            try:
                fd, tmp = tempfile.mkstemp(prefix=f"qemu_back_mem.{name}.", dir=path)
            except OSError as e:
                raise BackendError(
                    f"can't open backing store {path} for guest RAM: {e.strerror}") from e
            os.unlink(tmp)
            return fd, False
        try:
            fd = os.open(path, (os.O_RDONLY if self.readonly else os.O_RDWR) | os.O_CLOEXEC
                         | os.O_NONBLOCK)
            os.set_blocking(fd, True)
            try:
                _refuse_special(path, os.fstat(fd).st_mode)  # replaced since the stat above
            except BackendError:
                os.close(fd)
                raise
            self.file_path = path
            return fd, False
        except OSError as e:
            if e.errno != errno.ENOENT or self.readonly:
                raise BackendError(
                    f"can't open backing store {path} for guest RAM: {e.strerror}") from e
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise BackendError(
                f"can't open backing store {path} for guest RAM: {e.strerror}") from e
        self.file_path = path
        return fd, True

    def _map(self, fd: int, align: int) -> None:
        self.fd = fd
        self.page_size = _fd_page_size(fd, self.file_path or self.mem_path)
        if align and align % self.page_size:
            raise BackendError(f"alignment 0x{align:x} must be multiples of page size "
                               f"0x{self.page_size:x}")
        self.align = max(self.page_size, align)
        self._check_page_multiple()
        file_size = os.fstat(fd).st_size
        if 0 < file_size < self.size:
            # qemu_ram_alloc_from_fd()
            raise BackendError(f"backing store size 0x{file_size:x} does not match 'size' "
                               f"option 0x{self.size:x}")
        if file_size == 0:
            if self.readonly:
                raise BackendError(f"backing store {self.mem_path} is empty and readonly=on: "
                                   f"cannot grow it to 0x{self.size:x} bytes")
            # file_ram_alloc() grows only an empty file, never a non-empty one.
            try:
                os.ftruncate(fd, self.size)
            except OSError as e:
                raise BackendError(f"can't grow backing store {self.mem_path} to 0x{self.size:x} "
                                   f"bytes for guest RAM: {e.strerror}") from e
            grown = os.fstat(fd).st_size
            if grown < self.size:  # e.g. a /proc or /sys file: regular, but holds nothing
                raise BackendError(f"backing store {self.mem_path} cannot hold guest RAM: its size "
                                   f"stays 0x{grown:x} when grown to 0x{self.size:x} bytes")
        try:
            if self.readonly:
                mm = mmap.mmap(fd, self.size, access=mmap.ACCESS_READ)
            else:
                flags = mmap.MAP_SHARED if self.share else mmap.MAP_PRIVATE
                mm = mmap.mmap(fd, self.size, flags=flags,
                               prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except (OSError, ValueError) as e:
            why = e.strerror if isinstance(e, OSError) else str(e)
            raise BackendError(f"unable to map backing store for guest RAM: {why}") from e
        self._finish_map(mm)

    def close(self) -> None:
        if not self._closed and not self._mapped and self.discard_data and self._mmap:
            # discard-data=on: the contents need not survive (QEMU_MADV_REMOVE).
            try:
                self._mmap.madvise(mmap.MADV_REMOVE)
            except (OSError, AttributeError, ValueError):
                pass
        super().close()

    def properties(self) -> dict[str, Any]:
        props = super().properties()
        props["discard-data"] = self.discard_data
        props["align"] = self.align
        return props


class MemoryBackendMemfd(HostMemoryBackend):
    """memory-backend-memfd: an anonymous file from memfd_create, shareable by fd.

    QEMU defaults it to share=on and seal=on (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL), so
    the guest RAM can be handed to another process (vhost-user) and never change size.
    """

    type_name = "memory-backend-memfd"
    default_share = True

    def __init__(self, id: str, size: int, *, share: bool = True, seal: bool = True,
                 prealloc: bool = False, hugetlb: bool = False) -> None:
        super().__init__(id, size, share=share, prealloc=prealloc)
        if not hasattr(os, "memfd_create"):
            raise BackendError(f"{self.type_name} is not supported on this host")
        self.seal = bool(seal)
        self.hugetlb = bool(hugetlb)
        mfd = os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if self.seal else 0)
        if self.hugetlb:
            mfd |= os.MFD_HUGETLB
        try:
            fd = os.memfd_create(self.type_name, mfd)
        except OSError as e:
            raise BackendError(f"failed to create memfd: {e.strerror}") from e
        try:
            self.fd = fd
            if self.hugetlb:
                self.page_size = os.fstatvfs(fd).f_bsize
            self._check_page_multiple()
            self.align = self.page_size
            os.ftruncate(fd, size)
            if self.seal:
                import fcntl
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS,
                            fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
            flags = mmap.MAP_SHARED if self.share else mmap.MAP_PRIVATE
            mm = mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            os.close(fd)
            self.fd = None
            raise BackendError(f"{self.type_name} '{id}': {e.strerror}") from e
        except BaseException:
            os.close(fd)
            self.fd = None
            raise
        self._finish_map(mm)

    def properties(self) -> dict[str, Any]:
        props = super().properties()
        props["seal"] = self.seal
        props["hugetlb"] = self.hugetlb
        return props


#: QOM type name -> class, for ``-object <type>,...``.
BACKEND_TYPES: dict[str, Callable[..., HostMemoryBackend]] = {
    MemoryBackendRam.type_name: MemoryBackendRam,
    MemoryBackendFile.type_name: MemoryBackendFile,
    MemoryBackendMemfd.type_name: MemoryBackendMemfd,
}
