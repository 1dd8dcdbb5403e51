#!/usr/bin/env python3
"""Write the pixel-fidelity trace corpus into tests/traces/*.json.

Each trace is a list of guest operations in the format of the QEMU oracle
(../shared/oracle/README.md): port I/O, memory stores, BIOS calls and screendumps.  The same
trace runs in real QEMU (``make qemu-goldens`` stores its screendumps in tests/golden/qemu/) and
in vgaemu (tests/vgaemu/test_qemu_pixels.py requires every pixel to match).

The traces live in one module per area (traces_text, traces_cga, traces_planar,
traces_mode13, traces_vbe, traces_misc); trace_ops holds the op builders and the registry.

Rules that keep every trace deterministic in QEMU:

* every trace starts with a mode set (int10 or Bochs DISPI), except boot_screen and
  boot_dispi_8bpp, which show what SeaBIOS leaves behind;
* the text cursor may show only in the first screendump of a run: QEMU toggles its blink phase
  on the first text draw and then every ~266 ms of virtual time, so later dumps turn it off
  (CRTC 0x0A bit 5) -- except ``text_cursor_blink_wait``, which waits 400 ms between dumps;
* attribute bit 7 is used only after AX=1003h BL=0 (intensity, not blink), except in the
  trace that documents QEMU's missing blink;
* BIOS calls get every register they read (the oracle leaves unspecified registers as they
  happen to be);
* latches are loaded only by BIOS reads (AH=0Dh), never assumed from an earlier mode set.

Run ``python3 tests/traces/make_traces.py`` after editing; it rewrites every JSON file and
removes JSON files of traces that no longer exist.
"""

from __future__ import annotations

import json
import os
import sys

# Each area module registers its traces in TRACES as it is imported.
import traces_cga  # noqa: F401
import traces_misc  # noqa: F401
import traces_mode13  # noqa: F401
import traces_planar  # noqa: F401
import traces_text  # noqa: F401
import traces_vbe  # noqa: F401
from trace_ops import HERE, TRACES, comment, halt


JSONL = {"mix_jsonl_numbers"}          # written as JSON lines
OBJECT_FORM = {"m13_offset"}           # written as {"ops": [...]}


def main(argv=None):
    only = set(argv or sys.argv[1:])
    written = set()
    for name, fn in TRACES.items():
        ops = [comment((fn.__doc__ or "").strip().replace("\n    ", " "))]
        fn(ops)
        ops.append(halt())
        path = os.path.join(HERE, name + ".json")
        written.add(os.path.basename(path))
        if only and name not in only:
            continue
        with open(path, "w") as f:
            if name in JSONL:
                f.write("# %s: JSON lines form (one op per line)\n" % name)
                f.write("".join(json.dumps(o) + "\n" for o in ops))
            elif name in OBJECT_FORM:
                f.write('{"ops": [\n' + ",\n".join(json.dumps(o) for o in ops) + "\n]}\n")
            else:
                f.write("[\n" + ",\n".join(json.dumps(o) for o in ops) + "\n]\n")
    if not only:
        for fn_ in os.listdir(HERE):
            if fn_.endswith(".json") and fn_ not in written:
                os.remove(os.path.join(HERE, fn_))
    print("%d traces in %s" % (len(written), os.path.relpath(HERE)))


if __name__ == "__main__":
    main()
