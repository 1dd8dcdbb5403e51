#!/usr/bin/env python3
"""Record real QEMU's final screen of the programs in vgaemu/roms/programs/.

    python3 tests/vgaemu/pc/qemu_programs.py [--oracle PATH] [NAME ...]

Boots each image as a floppy in ``qemu-system-x86_64 -machine pc -vga std`` (with SeaBIOS),
polls HMP ``info registers`` until the CPU is halted with IF clear (the programs end with
``cli; hlt``), and writes QMP ``screendump`` to tests/golden/qemu/programs/NAME.png.  Only
programs whose last picture does not depend on host speed are recorded (QEMU runs without
``-icount``): test_pc_programs.py holds vgaemu's final screen against these PNGs.  The QMP
client and the PNG writer are the oracle's (../shared/oracle/oracle.py or $VGAEMU_ORACLE).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PROGRAMS = os.path.join(REPO, "vgaemu", "roms", "programs")
GOLDEN = os.path.join(REPO, "tests", "golden", "qemu", "programs")
#: programs whose final screen is the same at any guest speed (plasma13's depends on how many
#: 60 Hz ticks a redraw takes, which QEMU without -icount leaves to the host) and that need
#: no vgaemu-only device (dmacode drives vgaemu's DMA engine)
NAMES = ("hello", "planar12", "smc", "vbelfb")


def load_oracle(explicit=None):
    for c in (explicit, os.environ.get("VGAEMU_ORACLE"),
              os.path.join(REPO, "..", "shared", "oracle", "oracle.py"),
              "/work/shared/oracle/oracle.py"):
        if c and os.path.isfile(c):
            spec = importlib.util.spec_from_file_location("oracle", c)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    sys.exit("error: the QEMU oracle was not found; pass --oracle PATH or set VGAEMU_ORACLE")


def boot_in_qemu(oracle, image: str, out: str, timeout: float = 60.0) -> float:
    """Boot ``image`` as a floppy until it halts with interrupts off; screendump to ``out``."""
    tmp = tempfile.mkdtemp(prefix="vgaemu-qemu-program-")
    sock = os.path.join(tmp, "qmp.sock")
    cmd = [oracle.find_qemu(None), "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults",
           "-vga", "std", "-display", "none", "-boot", "a", "-no-reboot", "-no-shutdown",
           "-drive", f"format=raw,file={os.path.abspath(image)},if=floppy,snapshot=on",
           "-debugcon", "file:" + os.path.join(tmp, "debugcon.log"),
           "-qmp", f"unix:{sock},server=on,wait=off"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    qmp = oracle.QMP(sock, timeout)
    t0 = time.time()
    try:
        while True:
            regs = qmp.cmd("human-monitor-command", **{"command-line": "info registers"})
            efl = re.search(r"EFL=([0-9a-f]+)", regs)
            if "HLT=1" in regs and efl and not int(efl.group(1), 16) & 0x200:
                break
            if time.time() - t0 > timeout:
                raise RuntimeError(f"{image}: did not halt with interrupts off in {timeout:.0f} s")
            time.sleep(0.1)
        oracle.screendump(qmp, out, tmp)
        return time.time() - t0
    finally:
        try:
            qmp.cmd("quit")
        finally:
            qmp.close()
            proc.wait(timeout=10)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oracle")
    ap.add_argument("names", nargs="*", default=list(NAMES))
    args = ap.parse_args(argv)
    oracle = load_oracle(args.oracle)
    os.makedirs(GOLDEN, exist_ok=True)
    for name in args.names:
        out = os.path.join(GOLDEN, f"{name}.png")
        took = boot_in_qemu(oracle, os.path.join(PROGRAMS, f"{name}.img"), out)
        print(f"{name}: {out} ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
