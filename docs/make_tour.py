"""Writes docs/tour.ipynb and runs it (nbclient), so the committed notebook shows real outputs.

    python docs/make_tour.py            # rewrite and execute the notebook in place

tests/vgaemu/test_tour_notebook.py runs the committed notebook again in CI so it never rots.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

CELLS = [
    ("md", """# A tour of vgaemu: QEMU's dirty-memory machinery, live

vgaemu models how QEMU keeps its display cheap: guest RAM lives in **RAMBlocks**, the
address space resolves every access through a **FlatView**, a store into video memory sets
a bit in the **DIRTY_MEMORY_VGA** bitmap, and the display loop redraws only the scanlines
whose pages are dirty. This notebook follows one write from the guest to the screen, then
hot-plugs a DIMM the way `object_add` + `device_add pc-dimm` do in QEMU's monitor.

A `Machine` shows itself as its screen plus QEMU's `info mtree -f` and `info ramblock`."""),
    ("code", """from vgaemu import Machine
from vgaemu.guest import Guest

m = Machine(memory="64M,slots=2,maxmem=1G")
guest = Guest(m)          # the API guest scripts use: ports, memory, the VGA BIOS
guest.set_mode(0x13)      # INT 10h AX=0013h: 320x200, 256 colours
m.frame()                 # one refresh: the whole screen is drawn once
m"""),
    ("md", """## 1. A write reaching a dirty bit

After that refresh the VRAM's DIRTY_MEMORY_VGA bits are clear. Twenty rows of pixels written
through the address space (`address_space_rw`, like a CPU store to 0xA0000) land in VRAM
pages 3 to 5 (bytes 16000 to 22399: mode 13h is one byte per pixel, 320 per row) and set
exactly their bits."""),
    ("code", """from guestmem import DIRTY_MEMORY_VGA, TARGET_PAGE_SIZE

vram = m.vga.vram_mr

def dirty_pages():
    return [p for p in range(16) if vram.get_dirty(p * TARGET_PAGE_SIZE, TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)]

print("dirty VRAM pages before:", dirty_pages())
guest.fill(0xA0000 + 320 * 50, 320 * 20, 4)    # rows 50..69 in colour 4 (red)
print("dirty VRAM pages after: ", dirty_pages())"""),
    ("md", """## 2. The redraw

The display loop snapshots and clears the bitmap (QEMU's
`memory_region_snapshot_and_clear_dirty`) and converts only the scanlines on dirty pages:
every row that touches pages 3 to 5 (rows 38 to 76, since a 4 KiB page holds 12.8 rows),
doubled by mode 13h's double scan -- 78 of 400 lines. The picture shows the band."""),
    ("code", """stats = m.frame()
print(f"lines redrawn: {stats.lines_redrawn} of {stats.height}, dirty pages: {stats.dirty_pages}, "
      f"full update: {stats.full}")
print("dirty VRAM pages now:", dirty_pages())
m.vga"""),
    ("md", """## 3. Hot-plugging a DIMM

`object_add memory-backend-ram` creates the backend, `device_add pc-dimm` maps it into the
device-memory region above 4 GiB: a new RAMBlock, a new range in the flat view, and a row
in `info memory-devices`."""),
    ("code", """from vgaemu.cli import format_memory_devices

m.memory.add_object("memory-backend-ram,id=mem1,size=128M")
dimm = m.memory.plug("pc-dimm,id=dimm1,memdev=mem1")
print(format_memory_devices(m))
m"""),
    ("md", """## 4. What dirty tracking saves

`vgaemu.profile` runs a guest with tracking and with a full redraw every frame, several
times each, and says whether the difference is larger than the noise. In `palette_cycle`
only the DAC changes after the first frame, so tracking saves no work: every frame is a
full update either way."""),
    ("code", """from vgaemu import profile

report = profile("palette_cycle", frames=20, repeat=2)
print(report.summary())
report"""),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, src in CELLS:
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src))
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path = HERE, timeout: int = 300) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


if __name__ == "__main__":
    nb = execute(build())
    # Timings differ from run to run: keep the outputs, drop the execution metadata noise.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, HERE / "tour.ipynb")
    print(f"wrote {HERE / 'tour.ipynb'}")
