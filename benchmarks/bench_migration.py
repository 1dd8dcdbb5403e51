"""Precopy live migration of a 256 MiB guest that keeps writing, over a unix socket.

    .venv/bin/python benchmarks/bench_migration.py [--memory 256M] [--rates 10,50,200]
                [--downtime-limit 50] [--max-bandwidth 0] [--repeat 3]

For each guest write rate (MB/s): a scripted guest (run_guest, so `stop` reaches it between
frames) writes 64 KiB blocks at random places of RAM at that rate while the machine migrates
to a destination vgaemu Machine in another process (the same -m). Printed per rate: passes
(dirty-sync-count), bytes transferred, downtime, total time, migration throughput, and the
throughput of raw copies of the same number of bytes over a unix socket to another process,
measured in the same run, interleaved with the migrations -- with their ratios. Medians of
``--repeat`` runs (a shared, loaded host varies 2x from one run to the next). The
destination's RAM is hashed and compared with the source's at the stop point.

The baselines (all 4 MiB sendall/recv_into, the migration's socket buffer size):
  raw        the same bytes the way a plain program copies them: read front to back from a
             RAM-sized buffer, received into a RAM-sized buffer it allocated and touched
             before the copy (as the destination faults its RAM in while it waits).
  raw-hot    one 4 MiB buffer sent again and again into one reused 4 MiB buffer: both stay
             in cache, so it is faster than any copy of 256 MiB can be.
  raw-fresh  into a fresh mapping touched for the first time as the data arrives: what
             every page's first fault costs a receiver that does not prefault.

Goals (issue 11): converges at 10 and 50 MB/s with downtime under 100 ms; throughput at
least half the raw copy. max-bandwidth is 0 (no rate limit) unless given: QEMU's default
(128 MiB/s) would measure the limit, not the code.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import resource
import socket
import statistics
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
        r0 = resource.getrusage(resource.RUSAGE_THREAD)
        inc.run()  # in this thread: its CPU time is the destination's cost
        r1 = resource.getrusage(resource.RUSAGE_THREAD)
        cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        conn.send(("ok", _ram_digest(m), cpu))
    except Exception as e:  # noqa: BLE001 - reported to the parent
        conn.send(("error", str(e), 0.0))


def raw_receiver(path: str, nbytes: int, ready, mode: str, ram_bytes: int, bufsize: int,
                 conn) -> None:
    """Receive nbytes like a plain program: into a RAM-sized buffer allocated and touched
    before the sender starts ("ram", as the destination's prefaulted RAM), a reused 4 MiB
    buffer ("hot": stays in cache), or a fresh anonymous mapping touched for the first time
    as data arrives ("fresh": what every page's first fault costs)."""
    import mmap

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    if mode == "hot":
        view = memoryview(np.empty(4 << 20, np.uint8))
    elif mode == "fresh":
        view = memoryview(mmap.mmap(-1, ram_bytes, flags=mmap.MAP_ANONYMOUS | mmap.MAP_PRIVATE))
    else:
        buf = np.empty(ram_bytes, np.uint8)
        buf.fill(1)
        view = memoryview(buf)
    ready.set()
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, bufsize)
    got, pos = 0, 0
    r0 = resource.getrusage(resource.RUSAGE_THREAD)
    while got < nbytes:
        k = c.recv_into(view[pos:pos + (4 << 20)])
        if not k:
            break
        got += k
        pos = (pos + k) % len(view)
    r1 = resource.getrusage(resource.RUSAGE_THREAD)
    c.close()
    conn.send(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)


def raw_copy(nbytes: int, ctx, mode: str, ram_bytes: int) -> tuple[float, float]:
    """(seconds, CPU seconds of sender and receiver) to send nbytes over a unix socket to another process, 4 MiB per sendall,
    with the migration's socket buffer size. "ram" and "fresh" send from a RAM-sized
    buffer of random bytes front to back (the same bytes, as guest RAM is read), "hot"
    sends one 4 MiB buffer over and over. Timed as migration's total-time is: from the
    first byte to the sender's last write."""
    try:
        from vgaemu.migration.transport import SOCKET_BUFFER
    except ImportError:  # an older vgaemu, for before/after runs of this script
        SOCKET_BUFFER = 4 << 20

    with tempfile.TemporaryDirectory(prefix="vgb") as d:
        path = os.path.join(d, "raw")
        ready = ctx.Event()
        parent, child = ctx.Pipe()
        p = ctx.Process(target=raw_receiver, args=(path, nbytes, ready, mode, ram_bytes,
                                                   SOCKET_BUFFER, child))
        p.start()
        size = (4 << 20) if mode == "hot" else ram_bytes
        data = memoryview(np.random.default_rng(0).integers(0, 255, size, dtype=np.uint8))
        ready.wait()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        s.connect(path)
        t0 = time.perf_counter()
        c0 = time.thread_time()
        left, pos = nbytes, 0
        while left > 0:
            n = min(left, 4 << 20, len(data) - pos)
            s.sendall(data[pos:pos + n])
            left -= n
            pos = (pos + n) % len(data)
        s.shutdown(socket.SHUT_WR)
        dt = time.perf_counter() - t0
        cpu = time.thread_time() - c0 + parent.recv()
        p.join()
        s.close()
        return dt, cpu


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
        status, digest, dst_cpu = parent.recv()
        src_cpu = src.migration._job.cpu_seconds
        dest.join()
        same = status == "ok" and digest == _ram_digest(src)
        stop.set()
        src.loop.vm_start()
        guest.join(10)
    ram = info["ram"]
    return {"rate": rate_mb, "actual_rate": actual_rate, "passes": ram["dirty-sync-count"],
            "cpu": src_cpu + dst_cpu,
            "bytes": ram["transferred"], "downtime_ms": info["downtime"],
            "total_ms": info["total-time"], "same": same, "ram_bytes": ram["total"],
            "throughput": ram["transferred"] / (info["total-time"] / 1000) / 1e6}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--rates", default="10,50,200", help="guest write rates in MB/s")
    ap.add_argument("--downtime-limit", type=int, default=50, help="ms (QEMU's default is 300)")
    ap.add_argument("--max-bandwidth", type=int, default=0, help="bytes/s, 0 = unlimited")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per rate (migration and each raw copy, interleaved); medians shown")
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    print(f"guest RAM {args.memory}, downtime-limit {args.downtime_limit} ms, "
          f"max-bandwidth {args.max_bandwidth or 'unlimited'}; unix socket, destination in "
          f"another process; median of {args.repeat} run(s); MB/s = 1e6 bytes/s")
    print(f"{'rate MB/s':>9} {'(actual)':>8} {'passes':>6} {'MB sent':>8} {'downtime ms':>11} "
          f"{'total ms':>8} {'mig MB/s':>8} {'raw':>7} {'ratio':>5} {'raw-hot':>7} {'ratio':>5} "
          f"{'raw-fresh':>9} {'ratio':>5}  RAM equal")
    ok = True
    med = statistics.median
    for rate in (float(r) for r in args.rates.split(",")):
        runs, raw, hot, fresh, raw_cpu = [], [], [], [], []
        for _ in range(args.repeat):
            r = run_rate(rate, args, ctx)
            runs.append(r)
            for mode, out in (("ram", raw), ("hot", hot), ("fresh", fresh)):
                dt, cpu = raw_copy(r["bytes"], ctx, mode, r["ram_bytes"])
                out.append(r["bytes"] / dt / 1e6)
                if mode == "ram":
                    raw_cpu.append(cpu / r["bytes"] * 1e9)
        mig = med(r["throughput"] for r in runs)
        same = all(r["same"] for r in runs)
        print(f"{rate:9.0f} {med(r['actual_rate'] for r in runs):8.1f} "
              f"{med(r['passes'] for r in runs):6.0f} {med(r['bytes'] for r in runs) / 1e6:8.1f} "
              f"{med(r['downtime_ms'] for r in runs):11.0f} {med(r['total_ms'] for r in runs):8.0f} "
              f"{mig:8.1f} {med(raw):7.1f} {mig / med(raw):5.2f} {med(hot):7.1f} "
              f"{mig / med(hot):5.2f} {med(fresh):9.1f} {mig / med(fresh):5.2f}  {same}", flush=True)
        mig_cpu = med(r["cpu"] / r["bytes"] * 1e9 for r in runs)
        print(" " * 10 + f"CPU (both ends, ns/byte): migration {mig_cpu:.2f}, raw "
              f"{med(raw_cpu):.2f}, raw/migration {med(raw_cpu) / mig_cpu:.2f}", flush=True)
        if args.repeat > 1:
            print(" " * 10 + "runs: " + ", ".join(
                f"{r['throughput']:.0f} MB/s {r['passes']}p {r['downtime_ms']}ms" for r in runs)
                + f"; raw {', '.join(f'{x:.0f}' for x in raw)}", flush=True)
        ok &= same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
