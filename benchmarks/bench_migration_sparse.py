"""CPU per byte of one precopy pass, dense against sparse, on both ends of a unix socket.

    .venv/bin/python benchmarks/bench_migration_sparse.py [--memory 256M] [--repeat 5]

A late precopy pass sends what the guest dirtied meanwhile: few pages, scattered. This
sends one pass of a 256 MiB RAM block (random data) through ``RAMSaver.send_pending`` to a
destination ``StreamReader.read_pages_into`` in another process, for these patterns of
pending pages:

  dense      every page (the bulk pass)
  runN       25% of the pages, in aligned runs of N pages at random places (the benchmark
             guest of bench_migration.py writes 64 KiB blocks: run16)
  single     25% / 2% of the pages, each alone

and prints each end's CPU time per byte (the thread's CPU clock, clock_gettime: a measure
the shared host's load skews far less than wall time; getrusage counts in scheduler ticks,
too coarse for a 5 MB pass), the best of ``--repeat`` runs, with the
ratio to the dense pass measured in the same run. The destination's RAM is checked against
the source's after every pass.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PATTERNS = ("dense", "run16", "run4", "run2", "single25", "single2")


def pending_pages(name: str, npages: int, rng) -> np.ndarray:
    if name == "dense":
        return np.arange(npages)
    if name.startswith("run"):
        run = int(name[3:])
        starts = rng.choice(npages // run, npages // 4 // run, replace=False) * run
        return np.sort((starts[:, None] + np.arange(run)).ravel())
    frac = int(name[len("single"):]) / 100
    return np.sort(rng.choice(npages, int(npages * frac), replace=False))


def receiver(memory: str, path: str, ready, conn) -> None:
    """Load passes into a destination machine's RAM until the source closes; per pass send
    back (CPU seconds, bytes, digest of RAM)."""
    import hashlib
    import socket

    from vgaemu.machine import Machine
    from vgaemu.migration import stream
    from vgaemu.migration.transport import Channel, _grow_buffers

    m = Machine(memory=memory)
    blocks = [b for b in m.ram_list.blocks if b.idstr == "pc.ram"]
    blocks[0].host[:] = 1  # resident, as the prefaulted destination
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    ready.set()
    c, _ = s.accept()
    _grow_buffers(c)
    reader = stream.StreamReader(Channel(sock=c, name="bench"))
    while True:
        start, cpu0 = reader.bytes_read, time.thread_time()
        try:
            tag = reader.tag()
        except Exception:  # noqa: BLE001 - the source closed: done
            break
        while tag != stream.TAG_PASS:
            reader.read_pages_into(blocks)
            tag = reader.tag()
        reader.u32()
        cpu = time.thread_time() - cpu0
        digest = hashlib.sha256(memoryview(blocks[0].host[:blocks[0].used_length])).hexdigest()
        conn.send((cpu, reader.bytes_read - start, digest))
    c.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--repeat", type=int, default=5, help="passes per pattern; best shown")
    args = ap.parse_args(argv)

    import hashlib
    import socket

    from vgaemu.machine import Machine
    from vgaemu.migration import stream
    from vgaemu.migration.precopy import RAMSaver
    from vgaemu.migration.transport import Channel, _grow_buffers

    ctx = mp.get_context("spawn")
    src = Machine(memory=args.memory)
    ram = next(b for b in src.ram_list.blocks if b.idstr == "pc.ram")
    ram.host[:] = np.random.default_rng(1).integers(0, 255, ram.used_length, dtype=np.uint8)
    rng = np.random.default_rng(2)
    results: dict[str, list[tuple[float, float]]] = {p: [] for p in PATTERNS}
    ok = True
    with tempfile.TemporaryDirectory(prefix="vgbs") as d:
        path = os.path.join(d, "sock")
        ready = ctx.Event()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=receiver, args=(args.memory, path, ready, child))
        proc.start()
        ready.wait()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        _grow_buffers(sock)
        sock.connect(path)
        channel = Channel(sock=sock, name="bench")
        for _ in range(args.repeat):
            for name in PATTERNS:
                saver = RAMSaver(src.ram_list, channel.writev)
                saver.blocks = [ram]  # the receiver takes the records' block 0 as pc.ram
                saver.pending = [np.zeros(ram.used_length // 4096, dtype=bool)]
                saver.pending[0][pending_pages(name, len(saver.pending[0]), rng)] = True
                # A fresh random byte in each pending page, so every pass changes what it sends.
                pages = np.flatnonzero(saver.pending[0])
                ram.host[pages * 4096 + int(rng.integers(0, 4096))] = rng.integers(
                    1, 255, pages.size, dtype=np.uint8)
                cpu0 = time.thread_time()
                sent = saver.send_pending()
                channel.writev([stream.pass_record(0)])
                cpu = time.thread_time() - cpu0
                dst_cpu, got, digest = parent.recv()
                ok &= got == sent + 5 and digest == hashlib.sha256(
                    memoryview(ram.host[:ram.used_length])).hexdigest()
                results[name].append((cpu / sent * 1e9, dst_cpu / sent * 1e9))
        sock.close()
        proc.join(60)
    print(f"one precopy pass of a {args.memory} RAM block, unix socket, destination in another "
          f"process; CPU ns/byte, best of {args.repeat}; ratio to the dense pass")
    print(f"{'pattern':>9} {'MB':>6} {'source':>7} {'ratio':>5} {'dest':>7} {'ratio':>5} "
          f"{'both':>7} {'ratio':>5}")
    npages = ram.used_length // 4096
    best = {p: (min(s for s, _ in v), min(d for _, d in v)) for p, v in results.items()}
    ds, dd = best["dense"]
    for name in PATTERNS:
        s, dcpu = best[name]
        mb = pending_pages(name, npages, np.random.default_rng(0)).size * 4096 / 1e6
        print(f"{name:>9} {mb:6.1f} {s:7.3f} {s / ds:5.2f} {dcpu:7.3f} {dcpu / dd:5.2f} "
              f"{s + dcpu:7.3f} {(s + dcpu) / (ds + dd):5.2f}")
    print(f"destination RAM equal to the source after every pass: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
