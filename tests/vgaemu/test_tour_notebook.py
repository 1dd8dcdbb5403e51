"""Jupyter: objects that show themselves, and docs/tour.ipynb executed so it never rots."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_machine_and_vga_show_their_screen_and_tables():
    from vgaemu.guest import Guest
    from vgaemu.machine import Machine

    m = Machine(memory="64M,slots=2,maxmem=1G")
    Guest(m).set_mode(0x13)
    m.frame()
    m.vga.surface[10:20] = (1, 2, 3)        # whatever is on screen is what is shown
    assert np.array_equal(decode_png(m._repr_png_()), m.vga.surface)
    assert np.array_equal(decode_png(m.vga._repr_png_()), m.vga.surface)
    html = m._repr_html_()
    assert html.count("<table>") == 3       # mtree -f of both address spaces, ramblock
    for block in m.ram_list.qemu_order:
        assert f"<code>{block.idstr}</code>" in html
    assert "info mtree -f: address space &quot;memory&quot;" in html and "info ramblock" in html
    src = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert np.array_equal(decode_png(base64.b64decode(src)), m.vga.surface)


def test_tour_notebook_runs(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    import sys

    sys.path.insert(0, str(REPO / "docs"))
    try:
        from make_tour import execute
    finally:
        sys.path.pop(0)
    nb = nbformat.read(REPO / "docs" / "tour.ipynb", as_version=4)
    execute(nb, cwd=tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "dirty VRAM pages before: []" in text
    assert "dirty VRAM pages after:  [3, 4, 5]" in text
    assert "lines redrawn: 78 of 400" in text
    assert 'Memory device [dimm]: "dimm1"' in text
    kinds = [set(o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("text/html" in k for k in kinds) == 2 and sum("image/png" in k for k in kinds) == 4
