"""Machine RAM options and the pc-dimm device.

* ``parse_memory_opts`` -- ``-m [size=]N[,slots=S,maxmem=M]`` exactly as QEMU's
  parse_memory_options() (system/vl.c) + machine_set_mem() (hw/core/machine.c) read it: a
  bare number is MiB, suffixed sizes go through qemu_strtosz (B/K/M/G/T/P/E, fractions,
  ``0x`` hex without suffix), ``-m 0`` or no size means the 128 MiB default, the size is
  rounded up to 8 KiB, and the same impossible combinations are refused with QEMU's words.
* ``parse_object_opts`` -- ``-object memory-backend-*,id=..,size=..,...`` into a backend.
* ``parse_device_opts`` -- ``-device pc-dimm,id=..,memdev=..[,slot=..][,addr=..][,node=..]``
  into an (unplugged) ``PCDIMM``.

Option strings are split as QemuOpts does: ``key=value`` pairs separated by ``,`` with ``,,``
standing for a literal comma, and an implied first key (``size`` for -m, the QOM type for
-object, the driver for -device).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .backends import BACKEND_TYPES, HostMemoryBackend

from .errors import BackendError, DeviceError, MemoryConfigError

__all__ = [
    "KiB", "MiB", "GiB", "TiB",
    "DEFAULT_RAM_SIZE", "ACPI_MAX_RAM_SLOTS", "RAM_ADDR_MAX",
    "MemoryOpts", "PCDIMM",
    "qemu_strtosz", "parse_memory_opts", "parse_object_opts", "parse_device_opts",
    "split_opts",
]

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
#: MachineClass.default_ram_size (hw/core/machine.c)
DEFAULT_RAM_SIZE = 128 * MiB
#: hw/acpi/memory_hotplug.h: the pc machine's limit on -m slots
ACPI_MAX_RAM_SLOTS = 256
#: ram_addr_t is 64-bit
RAM_ADDR_MAX = (1 << 64) - 1
#: hw/core/machine.c machine_set_mem(): QEMU_ALIGN_UP(size, 8192)
RAM_SIZE_ALIGN = 8192
_TARGET_PAGE_SIZE = 4096

_SUFFIXES = {"B": 1, "K": KiB, "M": MiB, "G": GiB, "T": TiB, "P": 1 << 50, "E": 1 << 60}
_SIZE_RE = re.compile(r"^\s*(?:(0[xX][0-9a-fA-F]+)|([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))"
                      r"([bBkKmMgGtTpPeE]?)$")
_SIZE_HINT = ("a non-negative number below 2^64 (optional suffix k, M, G, T, P or E means "
              "kilo-, mega-, giga-, tera-, peta- and exabytes)")


def qemu_strtosz(text: str, default_suffix: str = "B") -> int:
    """QEMU's qemu_strtosz (util/cutils.c); raises ValueError on bad input.

    Decimal with an optional fraction and an optional case-insensitive suffix; ``0x`` hex
    takes neither a fraction nor a suffix; a fraction needs a scaling suffix; the result is
    rounded to the nearest byte and must fit 64 bits.  ``default_suffix`` is "M" for
    qemu_strtosz_MiB.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a string: {text!r}")
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"invalid size {text!r}")
    hexpart, intpart, frac, frac_only, suffix = m.groups()
    if hexpart is not None:
        if suffix:
            raise ValueError(f"invalid size {text!r}: hex sizes take no suffix")
        value = int(hexpart, 16)
        mul = _SUFFIXES[default_suffix.upper()]
        if mul != 1:
            raise ValueError(f"invalid size {text!r}: hex sizes need byte units")
        result = value
    else:
        if frac_only is not None:
            intpart, frac = "0", frac_only
        mul = _SUFFIXES[(suffix or default_suffix).upper()]
        whole = int(intpart)
        if frac and int(frac) != 0 and mul == 1:
            raise ValueError(f"invalid size {text!r}: a fraction needs a suffix")
        num = whole * 10 ** len(frac or "") + int(frac or "0")
        den = 10 ** len(frac or "")
        result = (num * mul * 2 + den) // (2 * den)  # round half up, as QEMU's +0.5
    if result > RAM_ADDR_MAX:
        raise ValueError(f"size {text!r} does not fit in 64 bits")
    return result


def split_opts(text: str, implied_key: str | None) -> list[tuple[str, str]]:
    """Split a QemuOpts string into (key, value) pairs, in order.

    ``,,`` is a literal comma inside a value; the first element may omit ``key=`` when the
    option has an implied key; a later bare ``name`` means ``name=on`` (QemuOpts flags).
    """
    if not isinstance(text, str):
        raise MemoryConfigError(f"option string expected, got {text!r}")
    items: list[str] = []
    cur: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == ",":
            if i + 1 < n and text[i + 1] == ",":
                cur.append(",")
                i += 2
                continue
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    items.append("".join(cur))
    pairs: list[tuple[str, str]] = []
    for idx, item in enumerate(items):
        if idx == len(items) - 1 and item == "" and idx > 0:
            break  # trailing comma, as QemuOpts tolerates
        key, eq, value = item.partition("=")
        if not eq:
            if idx == 0 and implied_key is not None:
                pairs.append((implied_key, item))
                continue
            if not key:
                raise MemoryConfigError(f"{text!r}: empty option name")
            pairs.append((key, "on"))
            continue
        if not key:
            raise MemoryConfigError(f"{text!r}: empty option name before '='")
        pairs.append((key, value))
    return pairs


def _parse_bool(option: str, key: str, value: str) -> bool:
    v = value.lower()
    if v in ("on", "yes", "true", "y"):
        return True
    if v in ("off", "no", "false", "n"):
        return False
    raise MemoryConfigError(f"{option}: Parameter '{key}' expects 'on' or 'off', got {value!r}")


def _parse_int(option: str, key: str, value: str, lo: int, hi: int, what: str) -> int:
    """Integers as QEMU's string/keyval visitors take them: decimal, 0x hex or 0 octal."""
    s = value.strip()
    try:
        neg = s.startswith("-")
        body = s[1:] if neg else s
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", body):
            v = int(body, 16)
        elif re.fullmatch(r"0[0-7]+", body):
            v = int(body, 8)
        elif re.fullmatch(r"[0-9]+", body):
            v = int(body, 10)
        else:
            raise ValueError
        v = -v if neg else v
    except ValueError:
        raise MemoryConfigError(
            f"{option}: Parameter '{key}' expects {what}, got {value!r}") from None
    if not lo <= v <= hi:
        raise MemoryConfigError(
            f"{option}: Parameter '{key}' expects {what}, got {value!r} (out of range)")
    return v


def _parse_size(option: str, key: str, value: str, default_suffix: str = "B") -> int:
    try:
        return qemu_strtosz(value, default_suffix)
    except ValueError:
        raise MemoryConfigError(
            f"{option}: Parameter '{key}' expects {_SIZE_HINT}, got {value!r}") from None


# -- -m ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MemoryOpts:
    """The machine's ``memory`` property (QAPI MemorySizeConfiguration), as QEMU stores it.

    ``size`` is ram_size (already 8 KiB aligned), ``maxmem`` is maxram_size (== size when no
    maxmem was given), ``slots`` is ram_slots (0 when not given).
    """

    size: int = DEFAULT_RAM_SIZE
    slots: int = 0
    maxmem: int = DEFAULT_RAM_SIZE

    @property
    def hotplug_enabled(self) -> bool:
        """QEMU creates the device-memory region only when ram_size < maxram_size."""
        return self.size < self.maxmem

    def to_option(self) -> str:
        """The -m string that parses back to this value."""
        s = f"size={self.size}B"
        if self.maxmem != self.size or self.slots:
            s += f",slots={self.slots},maxmem={self.maxmem}B"
        return s

    def check_pc_limits(self, max_slots: int = ACPI_MAX_RAM_SLOTS) -> None:
        """pc_memory_init()'s checks, made when the device-memory region is set up."""
        if not self.hotplug_enabled:
            return
        if self.slots > max_slots:
            raise MemoryConfigError(f"-m: unsupported amount of memory slots: {self.slots} "
                                    f"(the pc machine supports at most {max_slots})")
        if self.maxmem % _TARGET_PAGE_SIZE:
            raise MemoryConfigError(
                f"-m: maximum memory size must by aligned to multiple of {_TARGET_PAGE_SIZE} "
                f"bytes (maxmem=0x{self.maxmem:x})")


def _memory_config(size: int | None, maxmem: int | None, slots: int | None,
                   default_size: int, option: str) -> MemoryOpts:
    """machine_set_mem(): default, 8 KiB rounding and the maxmem/slots rules."""
    if size is None:
        size = default_size
    size = -(-size // RAM_SIZE_ALIGN) * RAM_SIZE_ALIGN
    if size > RAM_ADDR_MAX:
        raise MemoryConfigError(f"{option}: ram size {size} exceeds permitted maximum "
                                f"{RAM_ADDR_MAX}")
    if maxmem is not None:
        if maxmem < size:
            raise MemoryConfigError(
                f"{option}: invalid value of maxmem: maximum memory size (0x{maxmem:x}) must "
                f"be at least the initial memory size (0x{size:x})")
        if slots and maxmem == size:
            raise MemoryConfigError(
                f"{option}: invalid value of maxmem: memory slots were specified but maximum "
                f"memory size (0x{maxmem:x}) is equal to the initial memory size (0x{size:x})")
        return MemoryOpts(size=size, slots=slots or 0, maxmem=maxmem)
    if slots is not None:
        raise MemoryConfigError(f"{option}: slots specified but no max-size "
                                "(give maxmem=... together with slots=...)")
    return MemoryOpts(size=size, slots=0, maxmem=size)


def parse_memory_opts(value: str | int | MemoryOpts | None = None, *,
                      default_size: int = DEFAULT_RAM_SIZE,
                      max_slots: int | None = ACPI_MAX_RAM_SLOTS) -> MemoryOpts:
    """Parse ``-m [size=]N[,slots=S,maxmem=M]`` into a MemoryOpts, as QEMU does.

    An int is taken as a byte count (``size=N`` in bytes); None gives the default.
    ``max_slots`` applies the pc machine's ACPI slot limit (None: no machine check).
    """
    if isinstance(value, MemoryOpts):
        opts = _memory_config(value.size, value.maxmem, value.slots or None, default_size,
                              "-m")
        if max_slots is not None:
            opts.check_pc_limits(max_slots)
        return opts
    if value is None:
        return _memory_config(None, None, None, default_size, "-m")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MemoryConfigError(f"-m: expected an option string or a byte count, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise MemoryConfigError(f"-m: size must be non-negative, got {value}")
        return _memory_config(value or None, None, None, default_size, "-m")

    option = f"-m {value}"
    raw: dict[str, str] = {}
    for key, val in split_opts(value, "size"):
        if key not in ("size", "slots", "maxmem"):
            raise MemoryConfigError(f"{option}: Invalid parameter '{key}' "
                                    "(expected size, slots or maxmem)")
        raw[key] = val  # QemuOpts: the last occurrence wins

    # QemuOpts first checks every value against its type (sizes in bytes, slots a number).
    size_b = _parse_size(option, "size", raw["size"]) if "size" in raw else 0
    maxmem = _parse_size(option, "maxmem", raw["maxmem"]) if "maxmem" in raw else None
    slots = (_parse_int(option, "slots", raw["slots"], 0, RAM_ADDR_MAX, "a number")
             if "slots" in raw else None)

    size: int | None = None
    if size_b != 0:  # "-m 0" keeps the default, for backward compatibility
        mem_str = raw["size"]
        if mem_str.strip()[-1:].isdigit():
            mem_str = mem_str.strip() + "M"  # legacy suffix-less format means MiB
        size = _parse_size(option, "size", mem_str)
    opts = _memory_config(size, maxmem, slots, default_size, option)
    if max_slots is not None:
        opts.check_pc_limits(max_slots)
    return opts


# -- -object -------------------------------------------------------------------------------

_BACKEND_COMMON = {"id", "size", "share", "prealloc"}
_BACKEND_PROPS: dict[str, set[str]] = {
    "memory-backend-ram": _BACKEND_COMMON,
    "memory-backend-file": _BACKEND_COMMON | {"mem-path", "readonly", "align", "discard-data"},
    "memory-backend-memfd": _BACKEND_COMMON | {"seal", "hugetlb"},
}
#: QEMU properties we accept and ignore: they tune host policy, not guest-visible behaviour.
_BACKEND_IGNORED = {"merge", "dump", "prealloc-threads", "reserve", "policy", "host-nodes",
                    "x-use-canonical-path-for-ramblock-id"}
_BOOL_PROPS = {"share", "prealloc", "readonly", "discard-data", "seal", "hugetlb"}


def parse_object_opts(value: str) -> HostMemoryBackend:
    """Create the backend an ``-object memory-backend-*,id=..,size=..,...`` string describes.

    Sizes are bytes unless suffixed (qemu_strtosz), booleans on/off/yes/no/true/false.
    Construction errors of the backend itself (size 0, bad file, ...) come out as
    MemoryConfigError naming the option, with the BackendError as its cause.
    """
    option = f"-object {value}"
    pairs = split_opts(value, "qom-type")
    if not pairs or pairs[0][0] != "qom-type" or not pairs[0][1]:
        raise MemoryConfigError(f"{option}: Parameter 'qom-type' is missing")
    qom_type = pairs[0][1]
    if qom_type not in BACKEND_TYPES:
        raise MemoryConfigError(f"{option}: invalid object type: {qom_type} (expected one of "
                                f"{', '.join(sorted(BACKEND_TYPES))})")
    allowed = _BACKEND_PROPS[qom_type]
    raw: dict[str, str] = {}
    for key, val in pairs[1:]:
        if key == "qom-type":
            raise MemoryConfigError(f"{option}: qom-type given twice")
        if key not in allowed and key not in _BACKEND_IGNORED:
            raise MemoryConfigError(f"{option}: Property '{qom_type}.{key}' not found")
        raw[key] = val
    if "id" not in raw or not raw["id"]:
        raise MemoryConfigError(f"{option}: Parameter 'id' is missing")
    kwargs: dict[str, Any] = {}
    for key, val in raw.items():
        if key in _BACKEND_IGNORED or key == "id":
            continue
        if key in _BOOL_PROPS:
            kwargs[key.replace("-", "_")] = _parse_bool(option, key, val)
        elif key in ("size", "align"):
            kwargs[key] = _parse_size(option, key, val)
        elif key == "mem-path":
            kwargs["mem_path"] = val
    size = kwargs.pop("size", 0)
    try:
        return BACKEND_TYPES[qom_type](raw["id"], size, **kwargs)
    except BackendError as e:
        raise MemoryConfigError(f"{option}: {e}") from e


# -- -device pc-dimm -----------------------------------------------------------------------

class PCDIMM:
    """A pc-dimm device (hw/mem/pc-dimm.c): a DIMM whose memory is a host memory backend.

    ``slot`` None and ``addr`` None mean "pick one at plug time" (QEMU: slot=-1, addr=0).
    ``memdev`` is a backend or its id, resolved by the machine at plug time.  Once plugged,
    ``slot``/``addr`` hold what was assigned, ``mr`` the backend's RAM region, ``hotplugged``
    whether it came with device_add after machine start.
    """

    type_name = "pc-dimm"
    hotpluggable = True

    def __init__(self, id: str | None = None, memdev: str | HostMemoryBackend | None = None,
                 *, slot: int | None = None, addr: int | None = None, node: int = 0) -> None:
        if id is not None and (not isinstance(id, str) or not id):
            raise DeviceError(f"pc-dimm: invalid id {id!r}")
        if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int)):
            raise DeviceError(f"pc-dimm: slot must be an integer, got {slot!r}")
        if slot == -1:
            slot = None  # PC_DIMM_UNASSIGNED_SLOT
        if addr is not None and (isinstance(addr, bool) or not isinstance(addr, int)
                                 or not 0 <= addr <= RAM_ADDR_MAX):
            raise DeviceError(f"pc-dimm: addr must be a 64-bit address, got {addr!r}")
        if addr == 0:
            addr = None  # QEMU: addr=0 means "assign one"
        if isinstance(node, bool) or not isinstance(node, int) or not 0 <= node < 1 << 32:
            raise DeviceError(f"pc-dimm: node must be a uint32, got {node!r}")
        self.id = id
        self.memdev = memdev
        self.slot = slot
        self.addr = addr
        self.node = node
        self.requested_slot = slot
        self.requested_addr = addr
        self.hotplugged = False
        self.backend: HostMemoryBackend | None = None
        self.mr: Any = None
        self.machine: Any = None

    @property
    def memdev_id(self) -> str | None:
        if isinstance(self.memdev, HostMemoryBackend):
            return self.memdev.id
        return self.memdev

    @property
    def plugged(self) -> bool:
        return self.machine is not None

    @property
    def size(self) -> int:
        """The DIMM's size property: its backend's size (0 before a backend is known)."""
        b = self.backend if self.backend is not None else self.memdev
        return b.size if isinstance(b, HostMemoryBackend) else 0

    def info(self) -> dict[str, Any]:
        """PCDIMMDeviceInfo as query-memory-devices reports it (qapi/machine.json)."""
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        data.update({
            "addr": self.addr if self.addr is not None else 0,
            "size": self.size,
            "slot": self.slot if self.slot is not None else -1,
            "node": self.node,
            "memdev": f"/objects/{self.memdev_id}",
            "hotplugged": self.hotplugged,
            "hotpluggable": self.hotpluggable,
        })
        return {"type": "dimm", "data": data}

    def __repr__(self) -> str:
        where = (f"slot={self.slot}, addr=0x{self.addr:x}" if self.plugged and self.addr
                 is not None else "unplugged")
        return f"PCDIMM(id={self.id!r}, memdev={self.memdev_id!r}, {where})"


_DEVICE_PROPS = {"id", "memdev", "slot", "addr", "node"}


def parse_device_opts(value: str) -> PCDIMM:
    """Parse ``-device pc-dimm,id=..,memdev=..[,slot=N][,addr=A][,node=N]`` into a PCDIMM."""
    option = f"-device {value}"
    pairs = split_opts(value, "driver")
    if not pairs or pairs[0][0] != "driver" or not pairs[0][1]:
        raise MemoryConfigError(f"{option}: Parameter 'driver' is missing")
    driver = pairs[0][1]
    if driver != "pc-dimm":
        raise MemoryConfigError(f"{option}: '{driver}' is not a valid device model name "
                                "(only pc-dimm is supported)")
    raw: dict[str, str] = {}
    for key, val in pairs[1:]:
        if key == "size":
            raise MemoryConfigError(f"{option}: Property 'pc-dimm.size' is read-only "
                                    "(the size comes from the memdev backend)")
        if key not in _DEVICE_PROPS:
            raise MemoryConfigError(f"{option}: Property 'pc-dimm.{key}' not found")
        if key in raw:
            raise MemoryConfigError(f"{option}: Property '{key}' given twice")
        raw[key] = val
    if "id" in raw and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", raw["id"]):
        raise MemoryConfigError(f"{option}: Parameter 'id' expects an identifier, "
                                f"got {raw['id']!r}")
    slot = (_parse_int(option, "slot", raw["slot"], -(1 << 31), (1 << 31) - 1, "int32")
            if "slot" in raw else None)
    addr = (_parse_int(option, "addr", raw["addr"], 0, RAM_ADDR_MAX, "uint64")
            if "addr" in raw else None)
    node = (_parse_int(option, "node", raw["node"], 0, (1 << 32) - 1, "uint32")
            if "node" in raw else 0)
    memdev = raw.get("memdev") or None
    try:
        return PCDIMM(raw.get("id"), memdev, slot=slot, addr=addr, node=node)
    except DeviceError as e:
        raise MemoryConfigError(f"{option}: {e}") from e
