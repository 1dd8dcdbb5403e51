"""``-device help``, ``-object help`` and ``-device pc-dimm,help``, as QEMU prints them
(qdev_device_help / user_creatable_help): which models the options accept and their
properties, so a user can discover them without reading the source."""

from __future__ import annotations

from guestmem.dimm import _BACKEND_PROPS

#: -device models: (desc, {property: (type, default or None, what it means)}).
DEVICE_MODELS = {
    "pc-dimm": ("DIMM memory module", {
        "addr": ("uint64", "0", "guest-physical address (0: the first free one in device memory)"),
        "memdev": ("link<memory-backend>", None, "the -object memory-backend-* holding its RAM"),
        "node": ("uint32", "0", "NUMA node"),
        "slot": ("int32", "-1", "DIMM slot (-1: the first free one)"),
        "size": ("uint64", "0", "read-only: the size of memdev"),
        "id": ("str", None, "name for device_del and info memory-devices"),
    }),
}

_BACKEND_DOC = {
    "id": ("str", None, "name the pc-dimm's memdev= refers to"),
    "size": ("size", None, "bytes, with a K/M/G/T suffix"),
    "share": ("bool", "off", "map shared (host policy; accepted)"),
    "prealloc": ("bool", "off", "preallocate (host policy; accepted)"),
    "mem-path": ("str", None, "file backing the RAM"),
    "readonly": ("bool", "off", "map the file read-only"),
    "align": ("size", None, "alignment of the mapping"),
    "discard-data": ("bool", "off", "do not write back on exit"),
    "seal": ("bool", "on", "seal the memfd"),
    "hugetlb": ("bool", "off", "use hugetlbfs pages"),
}

#: -object types: {type: {property: (type, default, doc)}}; the set of names is the parser's.
OBJECT_TYPES = {name: {p: _BACKEND_DOC[p] for p in sorted(props)} for name, props in _BACKEND_PROPS.items()}



def _props(name: str, props: dict) -> str:
    lines = [f"{name} options:"]
    for prop, (typ, default, doc) in sorted(props.items()):
        head = f"  {prop}=<{typ}>"
        tail = f" - {doc}" + (f" (default: {default})" if default is not None else "")
        lines.append(f"{head:<32}{tail}")
    return "\n".join(lines)


def device_help(opts: str) -> str | None:
    """The help ``-device OPTS`` asks for, or None when OPTS is not a help request.
    Raises KeyError with the model name for ``-device nosuch,help``."""
    parts = opts.split(",")
    if opts in ("help", "?"):
        lines = ["Uncategorized devices:"]
        lines += [f'name "{n}", desc "{d}"' for n, (d, _) in sorted(DEVICE_MODELS.items())]
        lines.append("")
        lines.append("(the VGA is built into the machine; 'vgaemu info mtree' shows its regions)")
        return "\n".join(lines)
    if len(parts) >= 2 and parts[-1] in ("help", "?"):
        model = parts[0].removeprefix("driver=")
        if model not in DEVICE_MODELS:
            raise KeyError(model)
        return _props(model, DEVICE_MODELS[model][1])
    return None


def object_help(opts: str) -> str | None:
    """The help ``-object OPTS`` asks for, or None (KeyError for an unknown type)."""
    parts = opts.split(",")
    if opts in ("help", "?"):
        return "\n".join(["List of user creatable objects:", *(f"  {n}" for n in sorted(OBJECT_TYPES))])
    if len(parts) >= 2 and parts[-1] in ("help", "?"):
        qom_type = parts[0].removeprefix("qom-type=")
        if qom_type not in OBJECT_TYPES:
            raise KeyError(qom_type)
        return _props(qom_type, OBJECT_TYPES[qom_type])
    return None
