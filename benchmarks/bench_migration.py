"""Precopy live migration of a 256 MiB guest that keeps writing, over a unix socket.

    .venv/bin/python benchmarks/bench_migration.py [--memory 256M] [--rates 10,50,200]
                                                    [--downtime-limit 50] [--max-bandwidth 0]

For each guest write rate (MB/s): a scripted guest (run_guest, so `stop` reaches it between
frames) writes 64 KiB blocks at random places of RAM at that rate while the machine migrates
to a destination vgaemu Machine in another process (the same -m). Printed per rate: passes
(dirty-sync-count), bytes transferred, downtime, total time, migration throughput, and the
throughput of a raw copy of the same number of bytes over a unix socket to a process that
receives them into memory, measured in the same run -- with their ratio. The destination's
RAM is hashed and compared with the source's at the stop point.

Goals (issue 11): converges at 10 and 50 MB/s with downtime under 100 ms; throughput at
least half the raw copy. A second baseline ("raw-fresh") receives into a new anonymous mapping
the size of guest RAM, as the destination must: it shows how much of the gap is the
destination's first touch of every page (kernel page faults and zeroing), not the stream.
max-bandwidth is 0 (no rate limit) unless given: QEMU's default
(128 MiB/s) would measure the limit, not the code.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHUNK = 64 << 10


def _ram_digest(machine) -> str:
    h = hashlib.sha256()
    for b in sorted(machine.ram_list.blocks, key=lambda b: b.idstr):
        h.update(b.idstr.encode())
        h.update(memoryview(b.host[:b.used_length]))
    return h.hexdigest()


def destination(memory: str, uri: str, ready, conn) -> None:
    from vgaemu.machine import Machine

    m = Machine(memory=memory)
    inc = m.incoming_migration(uri)
    ready.set()
    try:
        inc.run()
        conn.send(("ok", _ram_digest(m)))
    except Exception as e:  # noqa: BLE001 - reported to the parent
        conn.send(("error", str(e)))


def raw_receiver(path: str, nbytes: int, ready, fresh: int) -> None:
    """Receive nbytes into a reused 4 MiB buffer, or (fresh > 0) into a new anonymous mapping
    of ``fresh`` bytes written front to back and wrapping around -- what a destination's
    guest RAM costs the first time each page is touched."""
    import mmap

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    ready.set()
    c, _ = s.accept()
    if fresh:
        view = memoryview(mmap.mmap(-1, fresh, flags=mmap.MAP_ANONYMOUS | mmap.MAP_PRIVATE))
    else:
        view = memoryview(np.empty(4 << 20, np.uint8))
    got, pos = 0, 0
    while got < nbytes:
        k = c.recv_into(view[pos:pos + (4 << 20)])
        if not k:
            break
        got += k
        pos = (pos + k) % len(view) if fresh else 0
    c.close()


def raw_copy(nbytes: int, ctx, fresh: int = 0) -> float:
    """Seconds to send nbytes over a unix socket to another process (4 MiB sends)."""
    with tempfile.TemporaryDirectory(prefix="vgb") as d:
        path = os.path.join(d, "raw")
        ready = ctx.Event()
        p = ctx.Process(target=raw_receiver, args=(path, nbytes, ready, fresh))
        p.start()
        ready.wait()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        data = memoryview(np.random.default_rng(0).integers(0, 255, 4 << 20, dtype=np.uint8))
        t0 = time.perf_counter()
        left = nbytes
        while left > 0:
            n = min(left, len(data))
            s.sendall(data[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)
        p.join()
        dt = time.perf_counter() - t0
        s.close()
        return dt


def writer_guest(rate_bytes: float, stop: threading.Event, written: list):
    def main(guest):
        machine = guest.machine
        rng = np.random.default_rng(7)
        ram = machine.memory.ram_size
        payload = rng.integers(0, 255, CHUNK, dtype=np.uint8).tobytes()
        write = machine.address_space_memory.write
        t0 = time.perf_counter()
        done = 0
        while not stop.is_set():
            target = rate_bytes * (time.perf_counter() - t0)
            while done < target:
                write(int(rng.integers(0x100000 // CHUNK, ram // CHUNK)) * CHUNK, payload)
                done += CHUNK
            written[0] = done
            guest.frame()
            time.sleep(0.001)
    return main


def run_rate(rate_mb: float, args, ctx) -> dict:
    from vgaemu.guest import run_guest
    from vgaemu.machine import Machine

    with tempfile.TemporaryDirectory(prefix="vgb") as d:
        uri = f"unix:{os.path.join(d, 'mig')}"
        ready = ctx.Event()
        parent, child = ctx.Pipe()
        dest = ctx.Process(target=destination, args=(args.memory, uri, ready, child))
        dest.start()
        ready.wait()
        src = Machine(memory=args.memory)
        # Fill RAM with data so the bulk pass sends pages, not zero flags.
        for b in src.ram_list.blocks:
            if b.idstr == "pc.ram":
                b.host[:b.used_length] = np.random.default_rng(1).integers(
                    0, 255, b.used_length, dtype=np.uint8)
        src.migration.set_parameters({"max-bandwidth": args.max_bandwidth,
                                      "downtime-limit": args.downtime_limit})
        stop, written = threading.Event(), [0]
        guest = threading.Thread(target=run_guest,
                                 args=(src, writer_guest(rate_mb * 1e6, stop, written)), daemon=True)
        guest.start()
        time.sleep(0.3)
        before = written[0]
        t0 = time.perf_counter()
        info = src.migration.migrate(uri, timeout=600)
        elapsed = time.perf_counter() - t0
        actual_rate = (written[0] - before) / elapsed / 1e6
        status, digest = parent.recv()
        dest.join()
        same = status == "ok" and digest == _ram_digest(src)
        stop.set()
        src.loop.vm_start()
        guest.join(10)
    ram = info["ram"]
    return {"rate": rate_mb, "actual_rate": actual_rate, "passes": ram["dirty-sync-count"],
            "bytes": ram["transferred"], "downtime_ms": info["downtime"],
            "total_ms": info["total-time"], "same": same, "ram_bytes": ram["total"],
            "throughput": ram["transferred"] / (info["total-time"] / 1000) / 1e6}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--rates", default="10,50,200", help="guest write rates in MB/s")
    ap.add_argument("--downtime-limit", type=int, default=50, help="ms (QEMU's default is 300)")
    ap.add_argument("--max-bandwidth", type=int, default=0, help="bytes/s, 0 = unlimited")
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    print(f"guest RAM {args.memory}, downtime-limit {args.downtime_limit} ms, "
          f"max-bandwidth {args.max_bandwidth or 'unlimited'}; unix socket, destination in "
          "another process")
    print(f"{'rate MB/s':>9} {'(actual)':>8} {'passes':>6} {'MB sent':>8} {'downtime ms':>11} "
          f"{'total ms':>8} {'mig MB/s':>8} {'raw MB/s':>8} {'ratio':>5} {'raw-fresh':>9} "
          f"{'ratio':>5}  RAM equal")
    ok = True
    for rate in (float(r) for r in args.rates.split(",")):
        r = run_rate(rate, args, ctx)
        raw = r["bytes"] / raw_copy(r["bytes"], ctx) / 1e6
        fresh = r["bytes"] / raw_copy(r["bytes"], ctx, fresh=r["ram_bytes"]) / 1e6
        print(f"{rate:9.0f} {r['actual_rate']:8.1f} {r['passes']:6d} {r['bytes'] / 1e6:8.1f} "
              f"{r['downtime_ms']:11d} {r['total_ms']:8d} {r['throughput']:8.1f} {raw:8.1f} "
              f"{r['throughput'] / raw:5.2f} {fresh:9.1f} {r['throughput'] / fresh:5.2f}  "
              f"{r['same']}", flush=True)
        ok &= r["same"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
