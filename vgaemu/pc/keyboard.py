"""The keyboard as programs see it: scancode set 1 through the i8042 (:mod:`.i8042`, port
0x60, IRQ 1), the BIOS's INT 09h that turns them into the BDA's type-ahead buffer and shift
flags, INT 16h that programs read them with, and scripted key input for headless runs
(``--keys``) and the window's key events.

A program that hooks INT 09h and reads port 0x60 itself (as games do) sees the bytes a PC
keyboard sends: make codes, break codes (| 80h), modifiers as keys of their own, and the
101-key keyboard's gray keys (arrows, Insert/Delete/Home/End/PgUp/PgDn, right Ctrl/Alt,
keypad / and Enter) behind an E0h prefix.  The BIOS side follows SeaBIOS's kbd.c: INT 09h
reads the byte, offers it to INT 15h AH=4Fh (the keyboard intercept: a hook that clears CF
swallows the key, one that changes AL changes it), then keeps the shift flags at 0417h/0418h
and 0496h and queues the IBM keycode (ASCII and scan code, E0h for the gray keys).
Ctrl+Alt+Del resets the machine.

Key script SPEC (repeatable): ``TIME:KEY[:HOLD]`` or ``TIME:text:STRING``.  TIME and HOLD
are ``0.5s``, ``200ms`` or plain seconds; KEY is a key name (``a``, ``space``, ``enter``,
``esc``, ``left``, ``f1``, ``kp5``, ``rctrl``...) with optional ``shift+``/``ctrl+``/``alt+``
prefixes; STRING is typed one character every 80 ms, ``\\n`` meaning Enter.
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
for _base, _lo, _hi in _ROWS:
    for _i, (_a, _b) in enumerate(zip(_lo, _hi)):
        CHARS[_a] = (_base + _i, False)
        CHARS[_b] = (_base + _i, True)
CHARS[" "] = (0x39, False)
CHARS["\n"] = (0x1C, False)
CHARS["\t"] = (0x0F, False)

#: A key is its set-1 make code, or 0xE000 | code for the E0-prefixed keys.
E0 = 0xE000
NAMED = {"space": 0x39, "enter": 0x1C, "return": 0x1C, "esc": 0x01, "escape": 0x01,
         "backspace": 0x0E, "tab": 0x0F, "capslock": 0x3A, "numlock": 0x45,
         "scrolllock": 0x46,
         "shift": 0x2A, "lshift": 0x2A, "rshift": 0x36, "ctrl": 0x1D, "lctrl": 0x1D,
         "rctrl": E0 | 0x1D, "alt": 0x38, "lalt": 0x38, "ralt": E0 | 0x38,
         "up": E0 | 0x48, "down": E0 | 0x50, "left": E0 | 0x4B, "right": E0 | 0x4D,
         "home": E0 | 0x47, "end": E0 | 0x4F, "pageup": E0 | 0x49, "pagedown": E0 | 0x51,
         "insert": E0 | 0x52, "delete": E0 | 0x53,
         **{f"kp{d}": c for d, c in zip("0123456789", (0x52, 0x4F, 0x50, 0x51, 0x4B, 0x4C,
                                                         0x4D, 0x47, 0x48, 0x49))},
         "kp.": 0x53, "kp*": 0x37, "kp-": 0x4A, "kp+": 0x4E, "kp/": E0 | 0x35,
         "kpenter": E0 | 0x1C,
         **{f"f{i}": 0x3A + i for i in range(1, 11)}, "f11": 0x57, "f12": 0x58}
MODIFIERS = {"shift": 0x2A, "ctrl": 0x1D, "alt": 0x38}
TEXT_PACE_NS = 80_000_000
DEFAULT_HOLD_NS = 50_000_000


def make_bytes(key: int) -> list[int]:
    """The bytes a key's press sends (E0 first for the gray keys)."""
    return [0xE0, key & 0x7F] if key & E0 else [key]


def break_bytes(key: int) -> list[int]:
    return [0xE0, key & 0x7F | 0x80] if key & E0 else [key | 0x80]


def parse_time(text: str, what: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(s|ms)?", text.strip())
    if not m:
        raise ConfigError(f"{what} {text!r}: expected a time like 0.5s, 200ms or 2")
    v = float(m.group(1))
    return int(round(v * (1e6 if m.group(2) == "ms" else 1e9)))


def parse_key(name: str) -> list[int]:
    """``shift+left`` -> the keys to press (see :data:`E0`), modifiers first.  The key
    itself may be ``+`` or end with it (``shift++``, ``kp+``)."""
    parts = name.split("+")
    if len(parts) > 1 and parts[-1] == "":   # "...+" : the key's own plus sign
        parts = parts[:-2] + [parts[-2] + "+"]
        if parts == [""]:
            parts = ["+"]
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


def _press(t: int, keys: list[int], hold: int) -> list[tuple[int, list[int]]]:
    """Press ``keys`` in order at ``t``, release them in reverse order ``hold`` later."""
    down = [b for k in keys for b in make_bytes(k)]
    up = [b for k in reversed(keys) for b in break_bytes(k)]
    return [(t, down), (t + hold, up)]


# BDA shift flags (SeaBIOS's KF0_*: 0417h/0418h as one word; KF1_* at 0496h)
KF0_RSHIFT = 0x0001
KF0_LSHIFT = 0x0002
KF0_CTRLACTIVE = 0x0004
KF0_ALTACTIVE = 0x0008
KF0_SCROLLACTIVE = 0x0010
KF0_NUMACTIVE = 0x0020
KF0_CAPSACTIVE = 0x0040
KF0_LCTRL = 0x0100
KF0_LALT = 0x0200
KF0_SCROLL = 0x1000
KF0_NUM = 0x2000
KF0_CAPS = 0x4000
KF1_LAST_E1 = 0x01
KF1_LAST_E0 = 0x02
KF1_RCTRL = 0x04
KF1_RALT = 0x08
KF1_101KBD = 0x10
BDA_KBD_FLAG1 = 0x496
BDA_KBD_LED = 0x497


def _keycode_table() -> dict[int, tuple[int, int, int, int]]:
    """Scan code -> the IBM keycodes (scan << 8 | ASCII) of the key alone, with Shift, with
    Ctrl and with Alt; 0 where the combination gives nothing.  ASCII F0h marks the
    combinations only the extended functions (INT 16h 10h/11h) report."""
    t: dict[int, tuple[int, int, int, int]] = {}
    ctrl_char = {0x03: 0x00, 0x07: 0x1E, 0x0C: 0x1F, 0x1A: 0x1B, 0x1B: 0x1D, 0x2B: 0x1C}
    for base, lo, hi in _ROWS:
        for i, (a, b) in enumerate(zip(lo, hi)):
            sc = base + i
            n, sh = sc << 8 | ord(a), sc << 8 | ord(b)
            if a.isalpha():
                t[sc] = (n, sh, sc << 8 | ord(a) - 0x60, sc << 8)
            elif base == 0x02:   # the digit row: Alt gives 78h-83h
                c = ctrl_char.get(sc)
                t[sc] = (n, sh, 0 if c is None else sc << 8 | c, (0x78 + i) << 8)
            else:
                c = ctrl_char.get(sc)
                t[sc] = (n, sh, 0 if c is None else sc << 8 | c, sc << 8 | 0xF0)
    t[0x01] = (0x011B, 0x011B, 0x011B, 0x01F0)
    t[0x0E] = (0x0E08, 0x0E08, 0x0E7F, 0x0EF0)
    t[0x0F] = (0x0F09, 0x0F00, 0x9400, 0xA5F0)
    t[0x1C] = (0x1C0D, 0x1C0D, 0x1C0A, 0x1CF0)
    t[0x37] = (0x372A, 0x372A, 0x9600, 0x37F0)
    t[0x39] = (0x3920,) * 4
    for i in range(10):   # F1-F10
        t[0x3B + i] = ((0x3B + i) << 8, (0x54 + i) << 8, (0x5E + i) << 8, (0x68 + i) << 8)
    pad_shift = "789-456+1230."
    pad_ctrl = (0x77, 0x8D, 0x84, 0x8E, 0x73, 0x8F, 0x74, 0x90, 0x75, 0x91, 0x76, 0x92, 0x93)
    for i, sc in enumerate(range(0x47, 0x54)):   # the keypad
        ch = pad_shift[i]
        plain = sc << 8 | ord(ch) if ch in "-+" else sc << 8
        t[sc] = (plain, sc << 8 | ord(ch), pad_ctrl[i] << 8, sc << 8 | 0xF0 if ch in "-+" else 0)
    t[0x56] = (0x565C, 0x567C, 0, 0)
    t[0x57] = (0x8500, 0x8700, 0x8900, 0x8B00)
    t[0x58] = (0x8600, 0x8800, 0x8A00, 0x8C00)
    return t


#: scan code -> (normal, shift, ctrl, alt) keycodes (SeaBIOS's scan_to_keycode facts)
KEYCODES = _keycode_table()
#: keypad Enter and keypad / (E0 1C, E0 35)
EXT_ENTER = (0xE00D, 0xE00D, 0xE00A, 0xA600)
EXT_SLASH = (0xE02F, 0xE02F, 0x9500, 0xA400)

# INT 09h: read the byte, offer it to INT 15h AH=4Fh with CF set; CF still set -> the
# service processes AL; then the EOI.  (SeaBIOS's handle_09 + process_key.)
_INT09_BEFORE = bytes((0x50,               # push ax
                       0xE4, 0x60,         # in al, 60h
                       0xB4, 0x4F,         # mov ah, 4Fh
                       0xF9,               # stc
                       0xCD, 0x15,         # int 15h
                       0x73, 0x03))        # jnc over the trap
_INT09_AFTER = bytes((0xB0, 0x20,          # mov al, 20h
                      0xE6, 0x20,          # out 20h, al
                      0x58))               # pop ax


class Keyboard:
    """The BIOS's keyboard services over the machine's i8042: INT 09h, INT 16h, and the key
    input of scripts and the window."""

    def __init__(self, pc) -> None:
        self.pc = pc
        self.machine = pc.machine
        self.kbc = pc.machine.i8042
        self.script: list[tuple[int, int, list[int]]] = []   # (time, seq, bytes)
        self._script_timer = pc.timers.new_timer(self._script_due)
        #: called for Ctrl+Alt+Del (the PC resets the machine)
        self.reset_request = None
        pb = self.machine.pc_bios
        pb.register(0x09, self.int09, stub_code(0x09, before=_INT09_BEFORE, after=_INT09_AFTER))
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

    def vmstate_section(self):
        """The ``pc.keyboard`` section: the scripted keys not yet sent (the destination
        has parsed the same ``--keys``, but the ones the source sent must not come again)
        and the timer of the next."""
        from vgaemu.migration.vmstate import schema_section

        schema = {"script": [(2, int)], "codes": [[range(0, 256)]], "timer": "timer"}

        def save() -> dict:
            return {"script": [[t, seq] for t, seq, _ in self.script],
                    "codes": [list(c) for _, _, c in self.script],
                    "timer": self._script_timer.vmstate_save()}

        def check(state: dict) -> None:
            from vgaemu.migration.errors import MigrationError

            if len(state["script"]) != len(state["codes"]):
                raise MigrationError("device state 'pc.keyboard': key times and bytes differ in number")

        def load(state: dict) -> None:
            self.script = [(t, seq, list(c)) for (t, seq), c in zip(state["script"], state["codes"])]
            self._script_timer.vmstate_load(state["timer"])

        return schema_section("pc.keyboard", 1, schema, save, load, check)

    def send(self, codes) -> None:
        """Bytes from the keyboard (a window's key events, the script)."""
        self.kbc.key_event(codes)

    # ------------------------------------------------------------------ INT 09h
    def _flags(self) -> tuple[int, int]:
        m = self.machine
        return (struct.unpack("<H", m.read(BDA_KBD_FLAGS, 2))[0], m.read(BDA_KBD_FLAG1, 1)[0])

    def _set_flags(self, flags0: int, flags1: int) -> None:
        self.machine.write(BDA_KBD_FLAGS, struct.pack("<H", flags0 & 0xFFFF))
        self.machine.write(BDA_KBD_FLAG1, bytes((flags1 & 0xFF,)))

    def int09(self, cpu) -> None:
        """The byte in AL, after the INT 15h 4Fh intercept let it through."""
        self.process_key(cpu.regs[0] & 0xFF)
        self.machine.outb(0x64, 0xAE)   # as SeaBIOS: old programs expect the keyboard on

    def process_key(self, code: int) -> None:
        flags0, flags1 = self._flags()
        if code in (0xE0, 0xE1):
            self._set_flags(flags0, flags1 | (KF1_LAST_E0 if code == 0xE0 else KF1_LAST_E1))
            return
        release = bool(code & 0x80)
        code &= 0x7F
        e0 = bool(flags1 & KF1_LAST_E0)
        if flags1 & (KF1_LAST_E0 | KF1_LAST_E1):
            if flags1 & KF1_LAST_E1 and code == 0x1D:
                return   # the middle of Pause (E1 1D 45)
            flags1 &= ~(KF1_LAST_E0 | KF1_LAST_E1)
            self._set_flags(flags0, flags1)
        hold = None   # (KF0 bits held, KF1 bits held, KF0 bits toggled on press)
        if code == 0x3A:
            hold = (KF0_CAPS, 0, KF0_CAPSACTIVE)
        elif code in (0x2A, 0x36):
            if e0:
                return   # the fake shifts around some gray keys
            hold = (KF0_LSHIFT if code == 0x2A else KF0_RSHIFT, 0, 0)
        elif code == 0x1D:
            hold = (KF0_CTRLACTIVE, KF1_RCTRL, 0) if e0 else (KF0_CTRLACTIVE | KF0_LCTRL, 0, 0)
        elif code == 0x38:
            hold = (KF0_ALTACTIVE, KF1_RALT, 0) if e0 else (KF0_ALTACTIVE | KF0_LALT, 0, 0)
        elif code == 0x45:
            if flags1 & KF1_LAST_E1:
                return   # Pause
            hold = (KF0_NUM, 0, KF0_NUMACTIVE)
        elif code == 0x46:
            if e0:
                return   # Ctrl+Break: not modelled
            hold = (KF0_SCROLL, 0, KF0_SCROLLACTIVE)
        elif code == 0x37 and e0 or code == 0x54:
            return   # Print Screen (INT 05h), SysReq (INT 15h 85h): not modelled
        elif code == 0x53 and not release and \
                flags0 & (KF0_CTRLACTIVE | KF0_ALTACTIVE) == KF0_CTRLACTIVE | KF0_ALTACTIVE:
            self.machine.write(0x472, struct.pack("<H", 0x1234))   # soft reset flag
            if self.reset_request is not None:
                self.reset_request("Ctrl+Alt+Del")
            return
        if hold is not None:
            bits0, bits1, toggle = hold
            if release:
                flags0 &= ~bits0
                flags1 &= ~bits1
            else:
                flags0 = (flags0 ^ toggle) | bits0
                flags1 |= bits1
            self._set_flags(flags0, flags1)
            return
        if release:
            return
        info = KEYCODES.get(code)
        if e0 and code in (0x1C, 0x35):
            info = EXT_ENTER if code == 0x1C else EXT_SLASH
        if info is None:
            return
        if flags0 & KF0_ALTACTIVE:
            word = info[3]
        elif flags0 & KF0_CTRLACTIVE:
            word = info[2]
        else:
            shift = bool(flags0 & (KF0_LSHIFT | KF0_RSHIFT))
            ascii_ = info[0] & 0xFF
            if (flags0 & KF0_NUMACTIVE and 0x47 <= code <= 0x53
                    or flags0 & KF0_CAPSACTIVE and 0x61 <= ascii_ <= 0x7A):
                shift = not shift
            word = info[1] if shift else info[0]
        if e0 and 0x47 <= code <= 0x53:   # the gray keys: E0 for ASCII, Alt: 97h-A3h
            word = (code + 0x50) << 8 if flags0 & KF0_ALTACTIVE else word & 0xFF00 | 0xE0
        if word:
            self.enqueue(word)

    def enqueue(self, word: int) -> bool:
        """Put a keycode in the BDA buffer; False when it is full (a PC beeps)."""
        m = self.machine
        head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
        start, end = struct.unpack("<HH", m.read(0x480, 4))
        nxt = tail + 2 if tail + 2 < end else start
        if nxt == head:
            return False
        m.write(0x400 + tail, struct.pack("<H", word))
        m.write(BDA_KBD_TAIL, struct.pack("<H", nxt))
        return True

    # ------------------------------------------------------------------ INT 16h
    def int16(self, cpu) -> None:
        m = self.machine
        ah = cpu.regs[0] >> 8 & 0xFF
        self._set_leds()
        if ah in (0x00, 0x01, 0x10, 0x11):
            self._dequeue(cpu, wait=ah in (0x00, 0x10), extended=ah >= 0x10)
        elif ah == 0x02:
            R.set_al(cpu, m.read(BDA_KBD_FLAGS, 1)[0])
        elif ah == 0x05:
            R.set_al(cpu, 0 if self.enqueue(cpu.regs[1] & 0xFFFF) else 1)
        elif ah == 0x09:
            R.set_al(cpu, 0x30)   # 10h-12h supported, 0Ah supported
        elif ah == 0x0A:
            R.set16(cpu, 3, (0x41 if self.kbc.mode & 0x40 else 0x83) << 8 | 0xAB)
        elif ah == 0x12:
            flags0, flags1 = self._flags()
            rc = KF1_RCTRL | KF1_RALT
            R.set16(cpu, 0, flags0 & ~(rc << 8) | (flags1 & rc) << 8)
        elif ah == 0x92:
            R.set_ah(cpu, 0x80)
        # other functions (03h typematic, A2h...): no-op, as SeaBIOS's handle_16XX

    def _dequeue(self, cpu, *, wait: bool, extended: bool) -> None:
        m = self.machine
        head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
        if head == tail:
            if wait:
                R.wait(cpu, self.int16_stub)
            else:
                R.set_frame_flag(cpu, R.ZF, True)
            return
        word = struct.unpack("<H", m.read(0x400 + head, 2))[0]
        R.set16(cpu, 0, reported_keycode(word, extended=extended))
        if not wait:
            R.set_frame_flag(cpu, R.ZF, False)
            return
        start, end = struct.unpack("<HH", m.read(0x480, 4))
        m.write(BDA_KBD_HEAD, struct.pack("<H", head + 2 if head + 2 < end else start))

    def _set_leds(self) -> None:
        """The keyboard's LEDs follow Scroll/Num/Caps Lock (SeaBIOS's set_leds)."""
        m = self.machine
        want = m.read(BDA_KBD_FLAGS, 1)[0] >> 4 & 0x07
        led = m.read(BDA_KBD_LED, 1)[0]
        if led & 0x07 != want:
            self.kbc.leds = want
            m.write(BDA_KBD_LED, bytes((led & ~0x07 | want,)))


def reported_keycode(word: int, *, extended: bool) -> int:
    """A buffered keycode as INT 16h reports it: the old functions (00h/01h) hide the
    101-key keyboard's codes (E0 for the gray keys, keypad Enter and /), and no function
    reports the F0h marker (SeaBIOS's dequeue_key)."""
    ascii_ = word & 0xFF
    if not extended:
        if ascii_ == 0xE0 and word & 0xFF00:
            word &= 0xFF00
        elif word in (0xE00D, 0xE00A):
            word = 0x1C00 | ascii_
        elif word == 0xE02F:
            word = 0x352F
    if ascii_ == 0xF0 and word & 0xFF00:
        word &= 0xFF00
    return word


def _pygame_keys() -> dict[int, int]:
    """pygame key constants -> our keys, for what pygame's key names do not say."""
    import pygame

    pairs = {"K_LSHIFT": 0x2A, "K_RSHIFT": 0x36, "K_LCTRL": 0x1D, "K_RCTRL": E0 | 0x1D,
             "K_LALT": 0x38, "K_RALT": E0 | 0x38, "K_CAPSLOCK": 0x3A, "K_NUMLOCK": 0x45,
             "K_SCROLLOCK": 0x46, "K_RETURN": 0x1C, "K_ESCAPE": 0x01, "K_BACKSPACE": 0x0E,
             "K_TAB": 0x0F, "K_SPACE": 0x39,
             "K_UP": E0 | 0x48, "K_DOWN": E0 | 0x50, "K_LEFT": E0 | 0x4B, "K_RIGHT": E0 | 0x4D,
             "K_HOME": E0 | 0x47, "K_END": E0 | 0x4F, "K_PAGEUP": E0 | 0x49,
             "K_PAGEDOWN": E0 | 0x51, "K_INSERT": E0 | 0x52, "K_DELETE": E0 | 0x53,
             "K_KP_PERIOD": 0x53, "K_KP_MULTIPLY": 0x37, "K_KP_MINUS": 0x4A,
             "K_KP_PLUS": 0x4E, "K_KP_DIVIDE": E0 | 0x35, "K_KP_ENTER": E0 | 0x1C,
             **{f"K_KP{d}": NAMED[f"kp{d}"] for d in range(10)},
             **{f"K_F{i}": NAMED[f"f{i}"] for i in range(1, 13)}}
    return {getattr(pygame, n): k for n, k in pairs.items() if hasattr(pygame, n)}


_PYGAME_KEYS: dict[int, int] | None = None


def window_key(pygame_key: int) -> int | None:
    """A pygame key constant -> our key, or None for a key this keyboard does not have."""
    global _PYGAME_KEYS
    if _PYGAME_KEYS is None:
        _PYGAME_KEYS = _pygame_keys()
    key = _PYGAME_KEYS.get(pygame_key)
    if key is not None:
        return key
    import pygame

    name = pygame.key.name(pygame_key)
    if len(name) == 1 and name in CHARS and not CHARS[name][1]:
        return CHARS[name][0]
    return None


def keys_from_window(events) -> list[list[int]]:
    """The window's key events -> the bytes each sends.  An event is ``(pygame key,
    pressed)`` -- a press sends the make code, a release the break code, so modifiers held
    in the window are held in the guest -- or a bare pygame key (a press and its release)."""
    out = []
    for ev in events or ():
        if isinstance(ev, tuple):
            k, down = ev
        else:
            k, down = ev, None
        key = window_key(k)
        if key is None:
            continue
        if down is None:
            out.append(make_bytes(key) + break_bytes(key))
        else:
            out.append(make_bytes(key) if down else break_bytes(key))
    return out
