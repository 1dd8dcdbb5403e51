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
from types import SimpleNamespace
from typing import Any, Callable

from vgaemu.migration.errors import MigrationError
from vgaemu.vga.state import VBE_DISPI_ENABLED, VBE_DISPI_INDEX_ENABLE
from vgaemu.vga.vbe import BochsVBE


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
    """The machine's sections, in registration order (the order they are saved in), and its
    configuration (QEMU's savevm "configuration" section): what the destination must have been
    started with -- the machine type, the sections, the drives -- checked before any RAM page
    or device state is loaded."""

    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}
        #: key -> value the destination's must equal (set_config); "machine" is the type
        self._config: dict[str, Any] = {"machine": "vgaemu-vga"}

    def set_config(self, key: str, value: Any) -> None:
        """What a destination must have the same of (a JSON-able value)."""
        self._config[key] = value

    def configuration(self) -> dict:
        return {**self._config, "sections": [[s.name, s.version] for s in self]}

    def check_configuration(self, theirs: Any) -> None:
        """Refuse a stream from a differently configured machine, naming the difference."""
        ours = self.configuration()
        if not isinstance(theirs, dict):
            raise MigrationError("migration stream: the configuration record is not a record")
        if theirs.get("machine") != ours["machine"]:
            raise MigrationError(f"Machine type received is '{theirs.get('machine')}' and local is "
                                 f"'{ours['machine']}' (start the destination with the same "
                                 "command as the source)")
        sections = theirs.get("sections")
        if not (isinstance(sections, list) and all(
                isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and type(x[1]) is int
                for x in sections)):
            raise MigrationError("migration stream: the configuration's section list is corrupt")
        names = {n for n, _ in sections}
        extra = sorted(names - set(self._sections))
        missing = sorted(set(self._sections) - names)
        if extra or missing:
            raise MigrationError("the source's device state sections differ from this machine's"
                                 + (f"; only the source has {', '.join(extra)}" if extra else "")
                                 + (f"; only this machine has {', '.join(missing)}" if missing else ""))
        for name, version in sections:
            s = self._sections[name]
            if not s.minimum_version <= version <= s.version:
                raise MigrationError(f"device state section {name!r} has version {version}; this "
                                     f"vgaemu loads versions {s.minimum_version}..{s.version}")
        for key in sorted(set(ours) | set(theirs)):
            if key in ("machine", "sections"):
                continue
            if theirs.get(key) != ours.get(key):
                raise MigrationError(f"the source differs from this machine in {key}: "
                                     f"{_brief(theirs.get(key))} in the stream, "
                                     f"{_brief(ours.get(key))} here (start the destination "
                                     "with the same command line as the source)")

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


def _brief(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 200 else text[:197] + "..."


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


def check_schema(name: str, value: Any, schema: Any, where: str = "") -> None:
    """Refuse a saved state whose shape ``load`` could not take, naming the field. A schema
    is ``int``, ``bool``, ``str``, ``bytes``; ``"int?"`` (an int or None); ``"timer"`` (a
    :meth:`vgaemu.pc.timer.Timer.vmstate_save` value); ``[item]`` (a list of any length);
    ``(n, item)`` (a list of exactly n); ``range(a, b)`` (an int in it); a tuple of allowed
    constants ``("=", v1, v2...)``; or a dict of field -> schema (exactly those fields)."""
    at = f"{where}" if where else "state"

    def bad(expected: str):
        raise MigrationError(f"device state {name!r}: {at} = {value!r:.60} does not fit "
                             f"(expected {expected})")

    if isinstance(schema, dict):
        if not isinstance(value, dict):
            bad("a record")
        extra = set(value) - set(schema)
        if extra:
            raise MigrationError(f"device state {name!r}: unknown field(s) "
                                 f"{', '.join(sorted(map(str, extra)))}{' in ' + where if where else ''}")
        for key, sub in schema.items():
            if key not in value:
                raise MigrationError(f"device state {name!r}: field "
                                     f"{(where + '.' if where else '') + key!r} is missing")
            check_schema(name, value[key], sub, f"{where}.{key}" if where else key)
    elif schema is bool:
        if not isinstance(value, bool):
            bad("a bool")
    elif schema is int:
        if type(value) is not int:
            bad("an integer")
    elif schema is str or schema is bytes:
        if type(value) is not schema:
            bad(schema.__name__)
    elif isinstance(schema, range):
        if type(value) is not int or value not in schema:
            bad(f"an integer in {schema.start}..{schema.stop - 1}")
    elif schema == "int?":
        if value is not None and type(value) is not int:
            bad("an integer or null")
    elif schema == "bytes?":
        if value is not None and type(value) is not bytes:
            bad("bytes or null")
    elif schema == "str?":
        if value is not None and type(value) is not str:
            bad("a string or null")
    elif schema == "timer":
        if value is not None and not (isinstance(value, list) and len(value) == 2 and all(
                type(v) is int and v >= 0 for v in value)):
            bad("a timer: null or [deadline, arming number]")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            bad("a list")
        for i, item in enumerate(value):
            check_schema(name, item, schema[0], f"{at}[{i}]")
    elif isinstance(schema, tuple) and schema and schema[0] == "=":
        if value not in schema[1:] or type(value) not in {type(v) for v in schema[1:]}:
            bad("one of " + ", ".join(repr(v) for v in schema[1:]))
    elif isinstance(schema, tuple):
        n, item = schema
        if not isinstance(value, list) or len(value) != n:
            bad(f"a list of {n}")
        for i, x in enumerate(value):
            check_schema(name, x, item, f"{at}[{i}]")
    else:  # pragma: no cover - a schema written wrongly
        raise TypeError(f"bad schema {schema!r}")


def schema_section(name: str, version: int, schema: dict, save: Callable[[], dict],
                   load: Callable[[dict], None],
                   check: Callable[[dict], None] | None = None) -> Section:
    """A section whose states are checked against ``schema`` (and ``check``) before load."""

    def _check(state: dict, _version: int) -> None:
        check_schema(name, state, schema)
        if check is not None:
            check(state)

    return Section(name, version, save, lambda state, _v: load(state), _check)


def _copy_value(v: Any) -> Any:
    if isinstance(v, (bytearray, bytes)):
        return bytes(v)
    if isinstance(v, list):
        return list(v)
    return v


def check_ranges(name: str, state: dict, ranges: dict[str, range]) -> None:
    """Each named int field (each item, for a list field) lies in its range: the values the
    device itself can hold (QEMU's VMSTATE_UINT8 & co. cannot carry more), so that an index
    register of 256 or a latch of -1 is refused here, not met later as an IndexError."""
    for key, allowed in ranges.items():
        value = state[key]
        for i, v in enumerate(value) if isinstance(value, list) else [(None, value)]:
            if v not in allowed:
                at = key if i is None else f"{key}[{i}]"
                raise MigrationError(f"device state {name!r}: field {at!r} = {_brief(v):.60} "
                                     f"does not fit (expected {allowed.start}.."
                                     f"{allowed.stop - 1}"
                                     f"{f' in steps of {allowed.step}' if allowed.step != 1 else ''})")


def _fields_section(name: str, version: int, obj: Any, fields: list[str],
                    after_load: Callable[[], None] | None = None,
                    ranges: dict[str, range] | None = None,
                    extra_check: Callable[[dict], None] | None = None) -> Section:
    """A section that saves and loads named attributes of ``obj`` (bytearrays in place);
    ``ranges`` bounds int fields (see :func:`check_ranges`), ``extra_check(state)`` refuses
    anything else ``load`` could not take."""

    def save() -> dict:
        return {f: _copy_value(getattr(obj, f)) for f in fields}

    def check(state: dict, _version: int) -> None:
        check_fields(name, state, save())
        if ranges:
            check_ranges(name, state, ranges)
        if extra_check is not None:
            extra_check(state)

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
_U8, _U16, _U32 = range(1 << 8), range(1 << 16), range(1 << 32)
#: What the VGA's own port handlers can leave in its int fields (vgaemu/vga/regs.py).
_VGA_RANGES = {"latch": _U32, "sr_index": _U8, "gr_index": _U8, "cr_index": _U8,
               "ar_index": range(0x40), "ar_flip_flop": range(2), "msr": _U8, "fcr": _U8,
               "st00": _U8, "st01": _U8, "plane_updated": range(0x10)}
_DAC_RANGES = {"dac_state": _U8, "dac_sub_index": range(3), "dac_read_index": _U8,
               "dac_write_index": _U8, "pel_mask": _U8}
_VBE_RANGES = {"vbe_index": _U16, "vbe_regs": _U16, "vbe_start_addr": _U32,
               "vbe_line_offset": _U32}
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
    def vbe_check(state: dict) -> None:
        """The bank register's window lies in VRAM, the bank mask is this VRAM's, and an
        enabled mode is one vbe_fixup_regs leaves as it is (what any guest write produces):
        a saved 65535x65535 mode would otherwise be drawn."""
        mask = (st.vram_size >> 16) - 1
        if state["vbe_bank_mask"] != mask:
            raise MigrationError(f"device state 'vga.vbe': field 'vbe_bank_mask' = "
                                 f"{_brief(state['vbe_bank_mask']):.40} does not fit (this VRAM's "
                                 f"is {mask})")
        check_ranges("vga.vbe", state, {"bank_offset": range(0, (mask + 1) << 16, 1 << 16)})
        regs = state["vbe_regs"]
        if not regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED:
            return
        probe = SimpleNamespace(state=SimpleNamespace(vbe_regs=list(regs), vbe_line_offset=0,
                                                      vbe_start_addr=0),
                                vbe_size=vga.vbe.vbe_size)
        BochsVBE.fixup_regs(probe)  # on a copy: nothing of the machine changes
        fixed = probe.state
        if (fixed.vbe_regs, fixed.vbe_line_offset, fixed.vbe_start_addr) != \
                (regs, state["vbe_line_offset"], state["vbe_start_addr"]):
            raise MigrationError(
                f"device state 'vga.vbe': the enabled mode {_brief(regs):.80} (line offset "
                f"{state['vbe_line_offset']}, start {state['vbe_start_addr']}) is not one this "
                f"VGA can set (expected {fixed.vbe_regs}, {fixed.vbe_line_offset}, "
                f"{fixed.vbe_start_addr})")

    reg.register(_fields_section("vga", 1, st, vga_fields, vga_loaded, _VGA_RANGES))
    reg.register(_fields_section("vga.poll", 1, vga.ports, ["poll_ns"]))
    reg.register(_fields_section("vga.dac", 1, st, _DAC_FIELDS, vga.invalidate, _DAC_RANGES))
    reg.register(_fields_section("vga.vbe", 1, st, _VBE_FIELDS, vga_loaded, _VBE_RANGES,
                                 vbe_check))
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
