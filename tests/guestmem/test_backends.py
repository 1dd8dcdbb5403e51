"""memory-backend-ram / -file / -memfd: allocation, sharing, persistence and errors."""

import mmap
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from guestmem.backends import (
    BackendError, HostMemoryBackend, MemoryBackendFile, MemoryBackendMemfd, MemoryBackendRam,
    QEMU_VMALLOC_ALIGN,
)

MiB = 1 << 20


def test_ram_backend_basics():
    b = MemoryBackendRam("m0", 2 * MiB)
    assert isinstance(b, HostMemoryBackend)
    assert b.host.dtype == np.uint8 and b.host.shape == (2 * MiB,)
    assert b.size == 2 * MiB and b.id == "m0" and b.share is False
    assert not b.host.any()                     # anonymous memory starts zeroed
    b.host[100:104] = [1, 2, 3, 4]
    assert bytes(b.host[100:104]) == b"\x01\x02\x03\x04"
    assert b.align == QEMU_VMALLOC_ALIGN        # what a pc-dimm must be aligned to
    assert b.mem_path is None and b.readonly is False
    assert b.properties()["size"] == 2 * MiB
    b.close()
    assert b.closed and b.host is None
    b.close()                                   # idempotent


def test_ram_backend_prealloc_and_share():
    b = MemoryBackendRam("m1", MiB, share=True, prealloc=True)
    assert b.share and b.prealloc and not b.host.any()
    b.close()


@pytest.mark.parametrize("size", [0, -4096])
def test_zero_or_negative_size(size):
    with pytest.raises(BackendError, match="can't create backend with size"):
        MemoryBackendRam("m", size)


def test_size_not_page_multiple():
    with pytest.raises(BackendError, match="not a multiple of the page size"):
        MemoryBackendRam("m", 4096 + 1)
    with pytest.raises(BackendError, match="size must be an integer"):
        MemoryBackendRam("m", "1M")


@pytest.mark.parametrize("bad", ["", "1abc", "a b", None, 3])
def test_bad_id(bad):
    with pytest.raises(BackendError, match="invalid id"):
        MemoryBackendRam(bad, MiB)


def test_mapped_flag_blocks_second_user_and_close():
    b = MemoryBackendRam("m2", MiB)
    assert not b.is_mapped
    b.set_mapped(True)
    with pytest.raises(BackendError, match="already busy memdev: m2"):
        b.set_mapped(True)
    with pytest.raises(BackendError, match="in use"):
        b.close()
    assert not b.closed and b.host is not None   # state unchanged
    b.set_mapped(False)
    b.close()
    with pytest.raises(BackendError, match="closed"):
        b.set_mapped(True)


def test_close_with_live_view_is_safe():
    b = MemoryBackendRam("m3", MiB)
    view = b.host[:16]
    view[:] = 7
    b.close()
    assert view.sum() == 7 * 16                 # the pages live as long as the view


# -- memory-backend-file ------------------------------------------------------------------

def test_file_backend_directory_gets_unlinked_temp(tmp_path):
    b = MemoryBackendFile("mem1", 2 * MiB, mem_path=tmp_path, share=True)
    assert b.mem_path == str(tmp_path) and b.file_path is None
    assert os.listdir(tmp_path) == []           # created then unlinked, as QEMU does
    b.host[:5] = np.frombuffer(b"hello", np.uint8)
    assert bytes(b.host[:5]) == b"hello"
    assert b.properties()["mem-path"] == str(tmp_path)
    b.close()


def test_file_backend_creates_missing_file_and_grows_empty(tmp_path):
    p = tmp_path / "ram.img"
    b = MemoryBackendFile("mem1", MiB, mem_path=p, share=True)
    assert p.stat().st_size == MiB
    b.close()
    empty = tmp_path / "empty.img"
    empty.touch()
    b = MemoryBackendFile("mem2", MiB, mem_path=empty, share=True)
    assert empty.stat().st_size == MiB
    b.close()


def test_file_backend_shared_data_persists(tmp_path):
    p = tmp_path / "ram.img"
    b = MemoryBackendFile("mem1", MiB, mem_path=p, share=True)
    b.host[4096:4100] = [0xDE, 0xAD, 0xBE, 0xEF]
    b.close()
    assert p.read_bytes()[4096:4100] == b"\xde\xad\xbe\xef"
    b2 = MemoryBackendFile("mem1", MiB, mem_path=p, share=True)
    assert bytes(b2.host[4096:4100]) == b"\xde\xad\xbe\xef"
    b2.close()


def test_file_backend_private_does_not_write_file(tmp_path):
    p = tmp_path / "ram.img"
    p.write_bytes(b"\x11" * MiB)
    b = MemoryBackendFile("mem1", MiB, mem_path=p, share=False)
    assert b.host[0] == 0x11                    # MAP_PRIVATE still reads the file
    b.host[:] = 0x22
    b.close()
    assert p.read_bytes() == b"\x11" * MiB      # copy-on-write: file untouched


def test_file_backend_larger_file_ok_smaller_file_refused(tmp_path):
    big = tmp_path / "big.img"
    big.write_bytes(b"\x00" * (2 * MiB))
    MemoryBackendFile("a", MiB, mem_path=big).close()
    assert big.stat().st_size == 2 * MiB        # a non-empty file is never resized
    small = tmp_path / "small.img"
    small.write_bytes(b"\x01" * 8192)
    with pytest.raises(BackendError, match=r"backing store size 0x2000 does not match "
                                           r"'size' option 0x100000"):
        MemoryBackendFile("b", MiB, mem_path=small)
    assert small.read_bytes() == b"\x01" * 8192  # unchanged


def test_file_backend_failure_removes_file_it_created(tmp_path):
    p = tmp_path / "new.img"
    with pytest.raises(BackendError, match="not a multiple of the page size"):
        MemoryBackendFile("a", 4096 + 512, mem_path=p)
    assert not p.exists()


def test_file_backend_path_errors(tmp_path):
    with pytest.raises(BackendError, match="mem-path property not set"):
        MemoryBackendFile("a", MiB)
    missing = tmp_path / "no" / "such" / "dir" / "file"
    with pytest.raises(BackendError, match=r"can't open backing store .* No such file"):
        MemoryBackendFile("a", MiB, mem_path=missing)
    with pytest.raises(BackendError, match="No such file"):
        MemoryBackendFile("a", MiB, mem_path=tmp_path / "absent", readonly=True)
    assert not (tmp_path / "absent").exists()


def test_file_backend_readonly(tmp_path):
    p = tmp_path / "rom.img"
    p.write_bytes(bytes(range(256)) * 4096)
    b = MemoryBackendFile("rom", MiB, mem_path=p, readonly=True)
    assert b.readonly and b.host[5] == 5
    with pytest.raises(ValueError):
        b.host[0] = 1
    b.close()
    empty = tmp_path / "empty"
    empty.touch()
    with pytest.raises(BackendError, match="empty and readonly"):
        MemoryBackendFile("rom", MiB, mem_path=empty, readonly=True)


def test_file_backend_bad_align(tmp_path):
    with pytest.raises(BackendError, match="power of two"):
        MemoryBackendFile("a", MiB, mem_path=tmp_path, align=3 * 4096)
    b = MemoryBackendFile("a", 4 * MiB, mem_path=tmp_path, align=2 * MiB)
    assert b.align == 2 * MiB
    b.close()


_READER = textwrap.dedent("""
    import mmap, sys
    path, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        sys.stdout.write(m[off:off + n].hex())
        m[off + n:off + n + 4] = b"PONG"          # write back through the same file
        m.close()
""")


def test_second_process_sees_shared_file_writes(tmp_path):
    """share=on: another process mapping the same file sees guest writes, and vice versa."""
    p = tmp_path / "guest.ram"
    b = MemoryBackendFile("mem1", 2 * MiB, mem_path=p, share=True)
    b.host[MiB:MiB + 4] = np.frombuffer(b"PING", np.uint8)
    out = subprocess.run([sys.executable, "-c", _READER, str(p), str(MiB), "4"],
                         capture_output=True, text=True, check=True).stdout
    assert bytes.fromhex(out) == b"PING"
    assert bytes(b.host[MiB + 4:MiB + 8]) == b"PONG"  # the child's write is visible to us
    b.close()
    b2 = MemoryBackendFile("mem1", 2 * MiB, mem_path=p, share=True)  # survives close/reopen
    assert bytes(b2.host[MiB:MiB + 8]) == b"PINGPONG"
    b2.close()


# -- memory-backend-memfd -----------------------------------------------------------------

def test_memfd_backend_defaults_and_seal():
    import fcntl
    b = MemoryBackendMemfd("fd0", 2 * MiB)
    assert b.share is True and b.seal is True and b.fd is not None
    seals = fcntl.fcntl(b.fd, fcntl.F_GET_SEALS)
    assert seals & fcntl.F_SEAL_GROW and seals & fcntl.F_SEAL_SHRINK
    with pytest.raises(OSError):
        os.ftruncate(b.fd, 4 * MiB)             # sealed: cannot change size
    b.host[10] = 42
    # another mapping of the same fd (as another process would get it) sees the write
    other = mmap.mmap(b.fd, 2 * MiB)
    assert other[10] == 42
    other.close()
    b.close()
    assert b.fd is None


def test_memfd_backend_unsealed_private():
    b = MemoryBackendMemfd("fd1", MiB, share=False, seal=False)
    b.host[0] = 9
    other = mmap.mmap(b.fd, MiB)
    assert other[0] == 0                        # MAP_PRIVATE writes stay private
    other.close()
    b.close()


def test_memfd_errors():
    with pytest.raises(BackendError, match="size 0"):
        MemoryBackendMemfd("fd", 0)
    with pytest.raises(BackendError, match="page size"):
        MemoryBackendMemfd("fd", 100)


def test_backends_share_nothing():
    a = MemoryBackendRam("same", MiB)
    b = MemoryBackendRam("same", MiB)
    a.host[0] = 1
    assert b.host[0] == 0
    a.set_mapped(True)
    assert not b.is_mapped
    a.set_mapped(False)
    a.close()
    b.close()


@pytest.mark.parametrize("cls", [MemoryBackendRam, MemoryBackendMemfd, MemoryBackendFile])
def test_size_beyond_host_mmap_is_a_backend_error(cls, tmp_path):
    """A size mmap/ftruncate cannot take (2^63 and up) is QEMU's 'cannot set up guest
    memory', not an OverflowError from mmap; nothing is left behind in mem-path."""
    kw = {"mem_path": tmp_path} if cls is MemoryBackendFile else {}
    for size in (1 << 63, (1 << 64) - 4096):
        with pytest.raises(BackendError, match="cannot set up guest memory 'm'"):
            cls("m", size, **kw)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["a\0b", b"a\0b"])
def test_file_backend_nul_in_mem_path(path):
    with pytest.raises(BackendError, match="NUL byte"):
        MemoryBackendFile("m", 0x1000, path)
