#!/usr/bin/env python3
"""Regenerate tests/golden/qemu/*.png by running every trace in real QEMU through the oracle.

    python3 tests/traces/qemu_goldens.py [--jobs 2] [--oracle PATH] [TRACE_NAME ...]

The oracle (../shared/oracle/oracle.py, or $VGAEMU_ORACLE) saves the final screendump as
<trace>.png and each intermediate ``screendump`` op as <trace>-<name>.png.  Stale intermediate
dumps of a regenerated trace are removed first so the golden set always equals what the trace
produces.
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(REPO, "tests", "golden", "qemu")


def find_oracle(explicit=None):
    candidates = [explicit, os.environ.get("VGAEMU_ORACLE"),
                  os.path.join(REPO, "..", "shared", "oracle", "oracle.py"),
                  os.path.join(REPO, "oracle", "oracle.py")]
    for c in candidates:
        if c and os.path.isfile(c):
            return os.path.abspath(c)
    sys.exit("error: the QEMU oracle was not found; pass --oracle PATH or set VGAEMU_ORACLE")


def run_one(oracle, trace_path):
    name = os.path.splitext(os.path.basename(trace_path))[0]
    for stale in glob.glob(os.path.join(GOLDEN, name + "-*.png")):
        os.remove(stale)
    out = os.path.join(GOLDEN, name + ".png")
    t0 = time.time()
    proc = subprocess.run([sys.executable, oracle, trace_path, out], capture_output=True, text=True)
    return name, proc.returncode, time.time() - t0, (proc.stderr or proc.stdout).strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--oracle")
    ap.add_argument("names", nargs="*", help="trace names (default: all)")
    args = ap.parse_args(argv)
    oracle = find_oracle(args.oracle)
    os.makedirs(GOLDEN, exist_ok=True)
    traces = sorted(glob.glob(os.path.join(HERE, "*.json")))
    if args.names:
        traces = [t for t in traces if os.path.splitext(os.path.basename(t))[0] in args.names]
    failed = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, rc, dt, msg in pool.map(lambda t: run_one(oracle, t), traces):
            print("%-32s %s %.1fs" % (name, "ok" if rc == 0 else "FAILED", dt), flush=True)
            if rc:
                failed.append(name)
                print("    " + msg.replace("\n", "\n    "))
    print("%d traces, %d failed" % (len(traces), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
