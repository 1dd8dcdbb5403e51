"""The keyboard: scancode set 1 bytes through the i8042's data port (0x60) with IRQ 1, the
BIOS's INT 09h that turns them into the BDA's type-ahead buffer, INT 16h that programs read
it with, and scripted key input for headless runs (``--keys``).

A program that hooks INT 09h and reads port 0x60 itself (as games do) sees the same bytes
a PC keyboard sends: make codes, break codes (| 80h), modifiers as keys of their own.
Extended (E0-prefixed) keys are sent as their keypad twins, as an XT keyboard has them.

Key script SPEC (repeatable): ``TIME:KEY[:HOLD]`` or ``TIME:text:STRING``.  TIME and HOLD
are ``0.5s``, ``200ms`` or plain seconds; KEY is a key name (``a``, ``space``, ``enter``,
``esc``, ``left``, ``f1``...) with optional ``shift+``/``ctrl+``/``alt+`` prefixes; STRING is
typed one character every 80 ms, ``\\n`` meaning Enter.
"""

from __future__ import annotations

import re
import struct

from vgaemu.cpu.pcbios import stub_code
from vgaemu.errors import ConfigError

from . import bregs as R
from .bios import BDA_KBD_FLAGS, BDA_KBD_HEAD, BDA_KBD_TAIL

_ROWS = (
    (0x02, "1234567890-=", "!@#$%^&*()_+"),
    (0x10, "qwertyuiop[]", "QWERTYUIOP{}"),
    (0x1E, "asdfghjkl;'`", 'ASDFGHJKL:"~'),
    (0x2B, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
)
#: character -> (scancode, shifted?)
CHARS: dict[str, tuple[int, bool]] = {}
#: scancode -> (ASCII unshifted, ASCII shifted)
ASCII: dict[int, tuple[int, int]] = {}
for _base, _lo, _hi in _ROWS:
    for _i, (_a, _b) in enumerate(zip(_lo, _hi)):
        CHARS[_a] = (_base + _i, False)
        CHARS[_b] = (_base + _i, True)
        ASCII[_base + _i] = (ord(_a), ord(_b))
for _code, _ch in ((0x39, " "), (0x1C, "\r"), (0x0E, "\b"), (0x0F, "\t"), (0x01, "\x1b")):
    ASCII[_code] = (ord(_ch), ord(_ch))
CHARS[" "] = (0x39, False)
CHARS["\n"] = (0x1C, False)
CHARS["\t"] = (0x0F, False)

NAMED = {"space": 0x39, "enter": 0x1C, "return": 0x1C, "esc": 0x01, "escape": 0x01,
         "backspace": 0x0E, "tab": 0x0F, "up": 0x48, "down": 0x50, "left": 0x4B,
         "right": 0x4D, "home": 0x47, "end": 0x4F, "pageup": 0x49, "pagedown": 0x51,
         "insert": 0x52, "delete": 0x53, "shift": 0x2A, "lshift": 0x2A, "rshift": 0x36,
         "ctrl": 0x1D, "alt": 0x38, "capslock": 0x3A,
         **{f"f{i}": 0x3A + i for i in range(1, 11)}, "f11": 0x57, "f12": 0x58}
MODIFIERS = {"shift": 0x2A, "ctrl": 0x1D, "alt": 0x38}
#: BDA 0x417 bits of the modifier make codes
_SHIFT_BITS = {0x36: 0x01, 0x2A: 0x02, 0x1D: 0x04, 0x38: 0x08}
TEXT_PACE_NS = 80_000_000
DEFAULT_HOLD_NS = 50_000_000
#: how often the controller offers the next queued byte (a keyboard's byte time is ~1 ms)
BYTE_NS = 1_000_000


def parse_time(text: str, what: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(s|ms)?", text.strip())
    if not m:
        raise ConfigError(f"{what} {text!r}: expected a time like 0.5s, 200ms or 2")
    v = float(m.group(1))
    return int(round(v * (1e6 if m.group(2) == "ms" else 1e9)))


def parse_key(name: str) -> list[int]:
    """``shift+left`` -> the make codes to press, modifiers first."""
    parts = name.split("+")
    codes = []
    for mod in parts[:-1]:
        if mod.lower() not in MODIFIERS:
            raise ConfigError(f"key {name!r}: unknown modifier {mod!r} "
                              f"(expected {', '.join(MODIFIERS)})")
        codes.append(MODIFIERS[mod.lower()])
    key = parts[-1]
    if key.lower() in NAMED:
        codes.append(NAMED[key.lower()])
    elif len(key) == 1 and key in CHARS:
        code, shifted = CHARS[key]
        if shifted and 0x2A not in codes:
            codes.insert(0, 0x2A)
        codes.append(code)
    else:
        raise ConfigError(f"key {name!r}: not a key name (a letter or symbol, or one of "
                          f"{', '.join(sorted(NAMED))})")
    return codes


def parse_spec(spec: str) -> list[tuple[int, list[int]]]:
    """One ``--keys`` SPEC -> [(time_ns, scancode bytes)]."""
    t_text, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(f"--keys {spec!r}: expected TIME:KEY[:HOLD] or TIME:text:STRING")
    t = parse_time(t_text, f"--keys {spec!r}: time")
    if rest.startswith("text:"):
        text = rest[5:].replace("\\n", "\n")
        if not text:
            raise ConfigError(f"--keys {spec!r}: empty text")
        events = []
        for i, ch in enumerate(text):
            if ch not in CHARS:
                raise ConfigError(f"--keys {spec!r}: cannot type {ch!r}")
            codes = parse_key(ch) if ch not in "\n\t " else [CHARS[ch][0]]
            events += _press(t + i * TEXT_PACE_NS, codes, DEFAULT_HOLD_NS)
        return events
    key, _, hold_text = rest.partition(":")
    hold = parse_time(hold_text, f"--keys {spec!r}: hold") if hold_text else DEFAULT_HOLD_NS
    return _press(t, parse_key(key), hold)


def _press(t: int, codes: list[int], hold: int) -> list[tuple[int, list[int]]]:
    return [(t, list(codes)), (t + hold, [c | 0x80 for c in reversed(codes)])]


class Keyboard:
    """The keyboard behind the i8042 (machine.a20's data port), INT 09h and INT 16h."""

    def __init__(self, pc) -> None:
        self.pc = pc
        self.machine = pc.machine
        self.kbc = pc.machine.a20
        self.queue: list[int] = []
        self.script: list[tuple[int, int, list[int]]] = []   # (time, seq, bytes)
        self._script_timer = pc.timers.new_timer(self._script_due)
        self._byte_timer = pc.timers.new_timer(self._offer)
        pb = self.machine.pc_bios
        pb.register(0x09, self.int09, stub_code(0x09, after=bytes(
            (0x50, 0xB0, 0x20, 0xE6, 0x20, 0x58))))   # push ax; mov al,20h; out 20h,al; pop ax
        self.int16_stub = pb.register(0x16, self.int16, stub_code(0x16, before=b"\xFB"))

    # ------------------------------------------------------------------ input
    def add_script(self, specs) -> None:
        for spec in specs:
            for t, codes in parse_spec(spec):
                self.script.append((t, len(self.script), codes))
        self.script.sort()
        self._arm_script()

    def _arm_script(self) -> None:
        if self.script:
            self._script_timer.mod(self.script[0][0])

    def _script_due(self) -> None:
        now = self.pc.clock.now_ns
        while self.script and self.script[0][0] <= now:
            self.send(self.script.pop(0)[2])
        self._arm_script()

    def send(self, codes) -> None:
        """Bytes from the keyboard (a window's key events, the script)."""
        self.queue.extend(codes)
        self._offer()

    def _offer(self) -> None:
        """Put the next byte in the controller's output buffer once it is empty, IRQ 1."""
        if self.queue and self.kbc.kbc_data is None:
            self.kbc.kbc_data = self.queue.pop(0)
            self.pc.pic.pulse_irq(1)
        if self.queue:
            self._byte_timer.mod(self.pc.clock.now_ns + BYTE_NS)

    # ------------------------------------------------------------------ INT 09h
    def int09(self, cpu) -> None:
        m = self.machine
        code = m.inb(0x60)
        flags = m.read(BDA_KBD_FLAGS, 1)[0]
        make = code & 0x7F
        if make in _SHIFT_BITS:
            flags = flags & ~_SHIFT_BITS[make] if code & 0x80 else flags | _SHIFT_BITS[make]
        elif code == 0x3A:
            flags ^= 0x40
        elif not code & 0x80 and code != 0xE0:
            self._enqueue(self._keyword(code, flags))
        m.write(BDA_KBD_FLAGS, bytes((flags,)))

    def _keyword(self, code: int, flags: int) -> int:
        ascii_pair = ASCII.get(code)
        if ascii_pair is None or flags & 0x08:
            return code << 8
        shift = bool(flags & 0x03)
        ch = ascii_pair[1 if shift else 0]
        if flags & 0x40 and chr(ascii_pair[0]).isalpha():
            ch = ascii_pair[0 if shift else 1]
        if flags & 0x04:
            ch = ascii_pair[0] - 0x60 if chr(ascii_pair[0]).isalpha() else 0
        return code << 8 | ch

    def _enqueue(self, word: int) -> None:
        m = self.machine
        head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
        start, end = struct.unpack("<HH", m.read(0x480, 4))
        nxt = tail + 2 if tail + 2 < end else start
        if nxt == head:
            return   # buffer full: the key is dropped (a PC beeps)
        m.write(0x400 + tail, struct.pack("<H", word))
        m.write(BDA_KBD_TAIL, struct.pack("<H", nxt))

    # ------------------------------------------------------------------ INT 16h
    def int16(self, cpu) -> None:
        m = self.machine
        ah = cpu.regs[0] >> 8 & 0xFF
        head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
        if ah in (0x00, 0x10):
            if head == tail:
                R.wait(cpu, self.int16_stub)
                return
            R.set16(cpu, 0, struct.unpack("<H", m.read(0x400 + head, 2))[0])
            start, end = struct.unpack("<HH", m.read(0x480, 4))
            m.write(BDA_KBD_HEAD, struct.pack("<H", head + 2 if head + 2 < end else start))
        elif ah in (0x01, 0x11):
            if head != tail:
                R.set16(cpu, 0, struct.unpack("<H", m.read(0x400 + head, 2))[0])
            R.set_frame_flag(cpu, R.ZF, head == tail)
        elif ah == 0x02:
            R.set_al(cpu, m.read(BDA_KBD_FLAGS, 1)[0])
        elif ah == 0x12:
            f = m.read(BDA_KBD_FLAGS, 2)
            R.set16(cpu, 0, f[1] << 8 | f[0])
        # other functions: no-op, as SeaBIOS's handle_16XX


def keys_from_window(keys) -> list[list[int]]:
    """pygame key codes from the window (key-down events) -> make and break bytes for each
    key this keyboard has; other keys are ignored."""
    if not keys:
        return []
    import pygame

    out = []
    for k in keys:
        name = pygame.key.name(k).replace(" ", "")
        try:
            codes = parse_key(name)
        except ConfigError:
            continue
        out.append(codes + [c | 0x80 for c in reversed(codes)])
    return out


#: pygame's names of keys a PC keyboard has, beyond NAMED and the characters
_WINDOW_KEYS = {"left shift": 0x2A, "right shift": 0x36, "left ctrl": 0x1D, "right ctrl": 0x1D,
                "left alt": 0x38, "right alt": 0x38, "caps lock": 0x3A, "page up": 0x49,
                "page down": 0x51, "num lock": 0x45, "scroll lock": 0x46}


def scancode_of_window_key(key: int) -> int | None:
    """The set 1 make code of a pygame key (one key: modifiers are keys of their own), or
    None for a key this keyboard does not have."""
    import pygame

    name = pygame.key.name(key)
    if name in _WINDOW_KEYS:
        return _WINDOW_KEYS[name]
    if name.lower() in NAMED:
        return NAMED[name.lower()]
    if len(name) == 1 and name in CHARS:
        return CHARS[name][0]
    return None
