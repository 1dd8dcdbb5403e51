"""Device state as versioned sections (QEMU's VMStateDescription / savevm handlers, cut down).

A section is a name, a version, ``save() -> dict`` and ``load(dict, version)``. The dict
holds ints, bools, strings, lists and bytes; the stream encodes it (see ``encode_state``).
A destination decodes and checks every section of a stream before it loads any, so a bad
section leaves the machine as it was.

The machine registers its sections in :func:`register_machine_sections`. A device added
later (the CPU) registers its own in one line, e.g. in the code that attaches it::

    machine.vmstate.register(Section("cpu", 1, cpu.vmstate_save, cpu.vmstate_load))

``load`` receives the saved version; a section refuses a version newer than its own (the
registry checks this) and may accept older ones (``minimum_version``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Callable

from vgaemu.migration.errors import MigrationError


@dataclass(frozen=True)
class Section:
    name: str
    version: int
    save: Callable[[], dict]
    load: Callable[[dict, int], None]
    #: ``check(state, version)`` raises MigrationError for a state ``load`` would reject;
    #: runs for every section before any ``load`` does.
    check: Callable[[dict, int], None] | None = None
    minimum_version: int = 1


class SectionRegistry:
    """The machine's sections, in registration order (the order they are saved in)."""

    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> None:
        if section.name in self._sections:
            raise MigrationError(f"device state section {section.name!r} is already registered")
        self._sections[section.name] = section

    def unregister(self, name: str) -> None:
        self._sections.pop(name, None)

    def __iter__(self):
        return iter(list(self._sections.values()))

    def __contains__(self, name: str) -> bool:
        return name in self._sections

    def names(self) -> list[str]:
        return list(self._sections)

    def save_all(self) -> list[tuple[str, int, bytes]]:
        return [(s.name, s.version, encode_state(s.save())) for s in self]

    def load_all(self, saved: list[tuple[str, int, bytes]]) -> None:
        """Decode and check every section, then load them all; on any error nothing loads."""
        seen: dict[str, tuple[Section, dict, int]] = {}
        for name, version, blob in saved:
            s = self._sections.get(name)
            if s is None:
                raise MigrationError(f"unknown device state section {name!r} in the stream "
                                     f"(this machine has {', '.join(self._sections) or 'none'})")
            if name in seen:
                raise MigrationError(f"device state section {name!r} appears twice")
            if not s.minimum_version <= version <= s.version:
                raise MigrationError(f"device state section {name!r} has version {version}; this "
                                     f"vgaemu loads versions {s.minimum_version}..{s.version}")
            state = decode_state(blob, name)
            if s.check is not None:
                s.check(state, version)
            seen[name] = (s, state, version)
        missing = [n for n in self._sections if n not in seen]
        if missing:
            raise MigrationError(f"the stream has no device state for {', '.join(missing)}")
        for s, state, version in seen.values():
            s.load(state, version)


# ---- encoding -----------------------------------------------------------------------------

def _to_json(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, dict):
        return {str(k): _to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_to_json(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, (int, float, str)):
        return v
    if hasattr(v, "__index__"):
        return int(v)
    raise MigrationError(f"device state value {v!r} ({type(v).__name__}) cannot be saved")


def _from_json(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return base64.b64decode(v["$bytes"], validate=True)
        return {k: _from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    return v


def encode_state(state: dict) -> bytes:
    return json.dumps(_to_json(state), separators=(",", ":"), sort_keys=True).encode()


def decode_state(blob: bytes, name: str) -> dict:
    try:
        state = _from_json(json.loads(blob.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as e:
        raise MigrationError(f"device state section {name!r} is corrupt: {e}") from None
    if not isinstance(state, dict):
        raise MigrationError(f"device state section {name!r} is not a record")
    return state


# ---- field helpers ------------------------------------------------------------------------

def check_fields(name: str, state: dict, current: dict) -> None:
    """Every field of ``current`` present in ``state`` with the same kind (and the same
    length for byte arrays and lists); no field more."""
    extra = set(state) - set(current)
    if extra:
        raise MigrationError(f"device state {name!r}: unknown field(s) {', '.join(sorted(extra))}")
    for key, cur in current.items():
        if key not in state:
            raise MigrationError(f"device state {name!r}: field {key!r} is missing")
        new = state[key]
        if isinstance(cur, bool):
            ok = isinstance(new, bool)
        elif isinstance(cur, int):
            ok = isinstance(new, int) and not isinstance(new, bool)
        elif isinstance(cur, (bytes, bytearray)):
            ok = isinstance(new, bytes) and len(new) == len(cur)
        elif isinstance(cur, list):
            ok = (isinstance(new, list) and len(new) == len(cur)
                  and all(isinstance(x, int) and not isinstance(x, bool) for x in new))
        else:
            ok = type(new) is type(cur)
        if not ok:
            raise MigrationError(f"device state {name!r}: field {key!r} = {new!r:.60} does not "
                                 f"fit (expected a {type(cur).__name__}"
                                 f"{f' of length {len(cur)}' if hasattr(cur, '__len__') else ''})")


def _copy_value(v: Any) -> Any:
    if isinstance(v, (bytearray, bytes)):
        return bytes(v)
    if isinstance(v, list):
        return list(v)
    return v


def _fields_section(name: str, version: int, obj: Any, fields: list[str],
                    after_load: Callable[[], None] | None = None) -> Section:
    """A section that saves and loads named attributes of ``obj`` (bytearrays in place)."""

    def save() -> dict:
        return {f: _copy_value(getattr(obj, f)) for f in fields}

    def check(state: dict, _version: int) -> None:
        check_fields(name, state, save())

    def load(state: dict, _version: int) -> None:
        for f in fields:
            cur = getattr(obj, f)
            if isinstance(cur, bytearray):
                cur[:] = state[f]
            elif isinstance(cur, list):
                cur[:] = state[f]
            elif isinstance(cur, bytes):
                setattr(obj, f, bytes(state[f]))
            else:
                setattr(obj, f, state[f])
        if after_load is not None:
            after_load()

    return Section(name, version, save, load, check)


_DAC_FIELDS = ["dac_state", "dac_sub_index", "dac_read_index", "dac_write_index", "dac_cache",
               "pel_mask", "palette", "dac_8bit"]
_VBE_FIELDS = ["bank_offset", "vbe_index", "vbe_regs", "vbe_start_addr", "vbe_line_offset",
               "vbe_bank_mask", "big_endian_fb", "sr_vbe"]
_BIOS_FIELDS = ["posted", "dispi_found", "vbe_framebuffer", "vbe_total_memory",
                "vbe_win_granularity", "vbe_capabilities", "vbe_edid"]


def register_machine_sections(machine) -> SectionRegistry:
    """The sections of a vgaemu Machine: the VGA (registers and latches, with the cursor's
    CRTC registers), its DAC, Bochs VBE, the VGA BIOS's own state (its data area lives in
    RAM and migrates with it), the DMA engine and the virtual clock."""
    reg = SectionRegistry()
    vga = machine.vga
    st = vga.state
    vga_fields = [f.name for f in dataclasses.fields(st)
                  if f.name != "vram" and f.name not in _DAC_FIELDS and f.name not in _VBE_FIELDS]

    def vga_loaded() -> None:
        vga.update_memory_access()
        vga.invalidate()

    reg.register(_fields_section("timer", 1, machine.clock, ["now_ns"]))
    reg.register(_fields_section("vga", 1, st, vga_fields, vga_loaded))
    reg.register(_fields_section("vga.poll", 1, vga.ports, ["poll_ns"]))
    reg.register(_fields_section("vga.dac", 1, st, _DAC_FIELDS, vga.invalidate))
    reg.register(_fields_section("vga.vbe", 1, st, _VBE_FIELDS, vga_loaded))
    reg.register(_fields_section("vgabios", 1, machine.bios, _BIOS_FIELDS))
    if machine.dma is not None:
        eng = machine.dma

        def dma_save() -> dict:
            last = eng.last
            return {"regs": list(eng.regs),
                    "last": [int(getattr(last, f.name)) for f in dataclasses.fields(last)]}

        def dma_check(state: dict, _v: int) -> None:
            check_fields("dma-engine", state, dma_save())
            code = state["last"][-1]
            if code not in set(type(eng.last.error)):
                raise MigrationError(f"device state 'dma-engine': unknown error code {code!r}")

        def dma_load(state: dict, _v: int) -> None:
            eng.regs[:] = state["regs"]
            cls = type(eng.last)
            names = [f.name for f in dataclasses.fields(cls)]
            args = dict(zip(names, state["last"]))
            args["error"] = type(eng.last.error)(args["error"])
            eng.last = cls(**args)

        reg.register(Section("dma-engine", 1, dma_save, dma_load, dma_check))
    return reg
