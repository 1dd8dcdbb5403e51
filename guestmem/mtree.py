"""`info mtree` (-f) and `info ramblock`, printed as QEMU prints them.

Formats follow system/memory.c (mtree_print_mr, mtree_print_flatview, mtree_info_as) and
system/physmem.c (ram_block_format).  Where QEMU walks a hash table (address spaces grouped
by root, FlatViews) we print in the order the address spaces were given, which is the
order a machine creates them ("memory" before "I/O").
"""

from __future__ import annotations

import math
from typing import Iterable

from .ramblock import RAMList
from .region import MemoryRegion, address_spaces

MTREE_INDENT = "  "
_U64 = (1 << 64) - 1


def _mr_size(size: int) -> int:
    """MR_SIZE: the inclusive end offset (size - 1; 0 for an empty region)."""
    return size - 1 if size else 0


def size_to_str(val: int) -> str:
    """util/cutils.c size_to_str: '4 KiB', '2 MiB', '1.5 GiB'."""
    suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    _, e = math.frexp(val / (1000.0 / 1024.0))
    i = int((e - 1) / 10)
    div = 1 << (i * 10)
    return f"{val / div:0.3g} {suffixes[i]}B"


def _as_list(address_space_or_list) -> list:
    if address_space_or_list is None:
        return address_spaces()
    if isinstance(address_space_or_list, Iterable) and not hasattr(address_space_or_list, "root"):
        return list(address_space_or_list)
    return [address_space_or_list]


def _print_mr(out: list, mr: MemoryRegion, level: int, base: int, alias_queue: list,
              display_disabled: bool, legacy: bool) -> None:
    cur_start = base + mr.addr
    cur_end = cur_start + _mr_size(mr.size)
    prefix = ""
    if cur_start > _U64 or cur_end > _U64:
        prefix = "[DETECTED OVERFLOW!] "
        cur_start &= _U64
        cur_end &= _U64
    indent = MTREE_INDENT * level
    disabled = "" if mr.enabled else " [disabled]"
    nv = "nv-" if mr.nonvolatile else ""
    if mr.alias is not None:
        if not any(m is mr.alias for m in alias_queue):
            alias_queue.append(mr.alias)
        if mr.enabled or display_disabled:
            out.append(f"{prefix}{indent}{cur_start:016x}-{cur_end:016x} (prio {mr.priority}, "
                       f"{nv}{mr.type_name(legacy)}): alias {mr.name} @{mr.alias.name} "
                       f"{mr.alias_offset:016x}-{mr.alias_offset + _mr_size(mr.size):016x}"
                       f"{disabled}\n")
    elif mr.enabled or display_disabled:
        out.append(f"{prefix}{indent}{cur_start:016x}-{cur_end:016x} (prio {mr.priority}, "
                   f"{nv}{mr.type_name(legacy)}): {mr.name}{disabled}\n")
    # QEMU's print queue: by address, higher priority first at equal addresses, otherwise in
    # subregion-list order (a stable sort).
    for sub in sorted(mr.subregions, key=lambda s: (s.addr, -s.priority)):
        _print_mr(out, sub, level + 1, cur_start, alias_queue, display_disabled, legacy)


def _mtree_as(spaces: list, display_disabled: bool, legacy: bool) -> str:
    out: list[str] = []
    groups: list[tuple[MemoryRegion, list]] = []
    for as_ in spaces:
        for root, members in groups:
            if root is as_.root:
                members.append(as_)
                break
        else:
            groups.append((as_.root, [as_]))
    alias_queue: list[MemoryRegion] = []
    for root, members in groups:
        for as_ in sorted(members, key=lambda a: a.name):
            out.append(f"address-space: {as_.name}\n")
        _print_mr(out, root, 1, 0, alias_queue, display_disabled, legacy)
        out.append("\n")
    i = 0
    while i < len(alias_queue):  # the queue grows while aliases of aliases are printed
        mr = alias_queue[i]
        out.append(f"memory-region: {mr.name}\n")
        _print_mr(out, mr, 1, 0, alias_queue, display_disabled, legacy)
        out.append("\n")
        i += 1
    return "".join(out)


def _mtree_flatview(spaces: list, legacy: bool) -> str:
    out: list[str] = []
    views: list[tuple[object, list]] = []
    for as_ in spaces:
        fv = as_.current_map()
        for v, members in views:
            if v is fv:
                members.append(as_)
                break
        else:
            views.append((fv, [as_]))
    for n, (fv, members) in enumerate(views):
        out.append(f"FlatView #{n}\n")
        for as_ in members:
            line = f' AS "{as_.name}", root: {as_.root.name}'
            if as_.root.alias is not None:
                line += f", alias {as_.root.alias.name}"
            out.append(line + "\n")
        out.append(f" Root memory region: {fv.root.name if fv.root is not None else '(none)'}\n")
        if not fv.ranges:
            out.append(MTREE_INDENT + "No rendered FlatView\n\n")
            continue
        for r in fv.ranges:
            mr = r.mr
            kind = "rom" if r.readonly else mr.type_name(legacy)
            nv = "nv-" if r.nonvolatile else ""
            line = (f"{MTREE_INDENT}{r.addr:016x}-{r.addr + _mr_size(r.size):016x} "
                    f"(prio {mr.priority}, {nv}{kind}): {mr.name}")
            if r.offset_in_region:
                line += f" @{r.offset_in_region:016x}"
            out.append(line + "\n")
        out.append("\n")
    return "".join(out)


def mtree(address_space_or_list=None, flatview: bool = False, *, disabled: bool = False,
          legacy: bool = False) -> str:
    """HMP `info mtree` (flatview=True: `info mtree -f`; disabled=True: `-d`).

    Takes one AddressSpace, a list of them, or None for every live address space.
    legacy=True prints root regions as "i/o" like QEMU before its 2026 change (e.g. 7.2)."""
    spaces = _as_list(address_space_or_list)
    if flatview:
        return _mtree_flatview(spaces, legacy)
    return _mtree_as(spaces, disabled, legacy)


def ramblock_info(ram_list: RAMList) -> str:
    """HMP `info ramblock` (ram_block_format), blocks in QEMU's list order."""
    lines = [f"{'Block Name':>24} {'PSize':>8}  {'Offset':>18} {'Used':>18} {'Total':>18} "
             f"{'HVA':>18} {'RO':>3}\n"]
    for b in ram_list.qemu_order:
        ro = "ro" if (b.mr is not None and b.mr.readonly) else "rw"
        lines.append(f"{b.idstr:>24} {size_to_str(b.page_size):>8}  0x{b.offset:016x} "
                     f"0x{b.used_length:016x} 0x{b.max_length:016x} 0x{b.hva:016x} {ro:>3}\n")
    return "".join(lines)
