"""Issue 9.3: mem-path must be a regular file, a directory or a hugetlbfs mount; prealloc=on
really allocates, and a host that cannot hold the memory fails at start-up with QEMU's
"os_mem_prealloc: ..." message, not with a SIGBUS when the guest first writes."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from guestmem.backends import MemoryBackendFile, MemoryBackendMemfd, MemoryBackendRam
from guestmem.errors import BackendError

MiB = 1 << 20


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


# ---- mem-path kinds ---------------------------------------------------------------------------

@pytest.mark.parametrize("path,kind", [("/dev/zero", "a character device"),
                                       ("/dev/null", "a character device")])
def test_device_mem_path_is_refused(path, kind):
    with pytest.raises(BackendError, match=f"can't open backing store {path} for guest RAM: it is "
                                           f"{kind} \\(mem-path must be a regular file"):
        MemoryBackendFile("m", MiB, path)


def test_fifo_mem_path_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for readonly in (False, True):  # open(O_RDONLY) of a FIFO would wait for a writer
        with pytest.raises(BackendError, match="it is a FIFO"):
            MemoryBackendFile("m", MiB, fifo, readonly=readonly)


def test_socket_mem_path_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(BackendError, match="it is a socket"):
            MemoryBackendFile("m", MiB, path)


def test_proc_file_that_cannot_grow_is_refused():
    with pytest.raises(BackendError, match="/proc/self/status cannot hold guest RAM"):
        MemoryBackendFile("m", MiB, "/proc/self/status")


def test_file_size_limit_is_a_backend_error(tmp_path):
    """RLIMIT_FSIZE below the backend size: ftruncate fails with EFBIG (Python ignores
    SIGXFSZ), reported as a BackendError and the file it created is removed."""
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))\n"
            "from guestmem.backends import MemoryBackendFile\n"
            "from guestmem.errors import BackendError\n"
            "try:\n"
            f"    MemoryBackendFile('m', 8 << 20, {str(tmp_path / 'ram')!r})\n"
            "except BackendError as e:\n"
            "    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "can't grow backing store" in r.stdout and "File too large" in r.stdout
    assert not (tmp_path / "ram").exists()


# ---- prealloc=on ------------------------------------------------------------------------------

def test_prealloc_ram_backend_really_allocates():
    before = rss_kib()
    b = MemoryBackendRam("pre", 64 * MiB, prealloc=True)
    grown = rss_kib() - before
    lazy_before = rss_kib()
    lazy = MemoryBackendRam("lazy", 64 * MiB)
    lazy_grown = rss_kib() - lazy_before
    assert grown >= 60 * 1024, grown
    assert lazy_grown < 8 * 1024, lazy_grown
    b.close()
    lazy.close()


def test_prealloc_shared_file_allocates_its_blocks_and_keeps_contents(tmp_path):
    path = tmp_path / "ram"
    with open(path, "wb") as f:
        f.truncate(4 * MiB)
        f.seek(3 * MiB + 5)
        f.write(b"\x7f")
    assert os.stat(path).st_blocks * 512 < 4 * MiB  # sparse before
    b = MemoryBackendFile("m", 4 * MiB, path, share=True, prealloc=True)
    assert os.stat(path).st_blocks * 512 >= 4 * MiB  # posix_fallocate gave every block
    assert int(b.host[3 * MiB + 5]) == 0x7F and int(np.count_nonzero(b.host)) == 1
    b.close()


def test_prealloc_memfd_and_readonly_file(tmp_path):
    m = MemoryBackendMemfd("mfd", 4 * MiB, prealloc=True)
    assert os.fstat(m.fd).st_blocks * 512 >= 4 * MiB
    m.close()
    path = tmp_path / "ro"
    path.write_bytes(b"\x01" * (2 * MiB))
    ro = MemoryBackendFile("ro", 2 * MiB, path, readonly=True, prealloc=True)
    assert int(ro.host.sum()) == 2 * MiB
    ro.close()


def _small_tmpfs_works() -> str | None:
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=1m none /mnt"],
                       capture_output=True, text=True, timeout=30)
    return None if r.returncode == 0 else f"cannot mount a tmpfs in a user namespace: {r.stderr.strip()}"


@pytest.mark.skipif(sys.platform != "linux", reason="Linux user namespaces")
def test_prealloc_on_too_small_tmpfs_fails_at_start_up(tmp_path):
    """A 4 MiB tmpfs (mounted in an unprivileged user+mount namespace) and a 16 MiB share=on
    file backend: prealloc=on fails at once with QEMU's message; without prealloc the guest
    would die of SIGBUS on its first write past the 4 MiB."""
    why = _small_tmpfs_works()
    if why:
        pytest.skip(why)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cmd = (f"mount -t tmpfs -o size=4m none {mnt} && exec {sys.executable} -m vgaemu info "
           f"memory-devices -m 64M,slots=2,maxmem=1G -object memory-backend-file,id=m1,size=16M,"
           f"mem-path={mnt},share=on,prealloc=on -device pc-dimm,id=d1,memdev=m1")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    env.pop("VGAEMU_TRACEBACK", None)
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", cmd], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("vgaemu info: error: ")
    assert "os_mem_prealloc: Insufficient free host memory pages available to allocate guest RAM" \
        in lines[0]
    assert "No space left on device" in lines[0]


def test_prealloc_that_fits_leaves_a_usable_backend(tmp_path):
    b = MemoryBackendFile("m", 2 * MiB, tmp_path, share=True, prealloc=True)
    b.host[:] = 3
    assert int(b.host[-1]) == 3
    b.close()


def test_prealloc_larger_than_available_host_memory_fails_before_touching(monkeypatch):
    """Anonymous prealloc beyond MemAvailable + SwapFree is refused with QEMU's message
    instead of faulting pages in until the OOM killer picks some process."""
    import builtins
    import io

    real_open = builtins.open

    def fake_open(path, *a, **k):
        if path == "/proc/meminfo":
            return io.StringIO("MemTotal: 100000 kB\nMemAvailable: 4096 kB\nSwapFree: 0 kB\n")
        return real_open(path, *a, **k)
    monkeypatch.setattr(builtins, "open", fake_open)
    before = rss_kib()
    with pytest.raises(BackendError, match="os_mem_prealloc: Insufficient free host memory"):
        MemoryBackendRam("big", 64 * MiB, prealloc=True)
    assert rss_kib() - before < 16 * 1024
    MemoryBackendRam("small", 2 * MiB, prealloc=True).close()
