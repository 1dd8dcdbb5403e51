"""How vgaemu's objects show themselves in Jupyter (IPython's ``_repr_png_`` / ``_repr_html_``).

A ``Machine`` shows its current screen and, as tables, QEMU's ``info mtree -f`` (the flat
view each address space resolves accesses through) and ``info ramblock``; the VGA shows its
screen; a ``ProfileReport`` shows its plot. The methods on those classes call these
functions, so the HTML is built in one place. Pillow encodes the PNGs in memory.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np


def png_bytes(rgb: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 picture as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB").save(buf, format="PNG")
    return buf.getvalue()


def img_tag(rgb: np.ndarray, alt: str = "VGA screen") -> str:
    data = base64.b64encode(png_bytes(rgb)).decode("ascii")
    h, w = rgb.shape[:2]
    return (f'<img src="data:image/png;base64,{data}" width="{w}" height="{h}" '
            f'alt="{html.escape(alt)}" style="image-rendering: pixelated">')


def _table(header: list[str], rows: list[list[str]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td><code>{html.escape(str(c))}</code></td>" for c in r) + "</tr>"
                   for r in rows)
    return (f'<table><caption style="text-align:left"><b>{html.escape(caption)}</b></caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def flatview_rows(address_space) -> list[list[str]]:
    """``info mtree -f`` of one address space: [start, end, priority, kind, region, offset]."""
    rows = []
    for r in address_space.current_map().ranges:
        mr = r.mr
        kind = "rom" if r.readonly else mr.type_name(False)
        rows.append([f"{r.addr:016x}", f"{r.addr + max(r.size, 1) - 1:016x}", str(mr.priority), kind,
                     mr.name, f"@{r.offset_in_region:x}" if r.offset_in_region else ""])
    return rows


def ramblock_rows(ram_list) -> list[list[str]]:
    """``info ramblock``: [name, page size, offset, used, total, read-only]."""
    from guestmem.mtree import size_to_str

    rows = []
    for b in ram_list.qemu_order:
        ro = "ro" if (b.mr is not None and b.mr.readonly) else "rw"
        rows.append([b.idstr, size_to_str(b.page_size), f"0x{b.offset:x}", f"0x{b.used_length:x}",
                     f"0x{b.max_length:x}", ro])
    return rows


def machine_html(machine) -> str:
    """The screen, then the memory map and the RAM blocks as tables."""
    parts = [f"<div><p><b>vgaemu Machine</b>: {html.escape(machine_summary(machine))}</p>",
             img_tag(machine.vga.surface)]
    for as_ in (machine.address_space_memory, machine.address_space_io):
        parts.append(_table(["start", "end", "prio", "kind", "region", "offset"], flatview_rows(as_),
                            f'info mtree -f: address space "{as_.name}"'))
    parts.append(_table(["Block Name", "PSize", "Offset", "Used", "Total", "RO"],
                        ramblock_rows(machine.ram_list), "info ramblock"))
    parts.append("</div>")
    return "".join(parts)


def machine_summary(machine) -> str:
    h, w = machine.vga.surface.shape[:2]
    blocks = len(machine.ram_list.qemu_order)
    return f"{w}x{h} screen, {blocks} RAM blocks"
