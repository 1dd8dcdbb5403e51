"""The 8042 keyboard controller and the PS/2 keyboard behind it (facts from QEMU's
hw/input/pckbd.c and hw/input/ps2.c, SeaBIOS's hw/ps2port.c, the IBM PC/AT technical
reference): data port 0x60, status/command port 0x64, IRQ 1.

Controller: the status register (output buffer full, system flag, command/data, keyboard
not inhibited, mouse data), the command byte (20h read / 60h write: keyboard interrupt,
system flag, keyboard disabled, translation), self test AAh (55h, sets the system flag),
interface tests ABh/A9h, keyboard disable/enable ADh/AEh, mouse port disable/enable
A7h/A8h, the input port C0h, the output port D0h/D1h (bit 1: A20 through
:mod:`vgaemu.cpu.a20`; bit 0 low: system reset), D2h/D3h (write the output buffer as the
keyboard / the mouse), DDh/DFh (A20 off/on), and the output line pulses F0h-FFh (FEh: reset).

Keyboard (bytes written to port 0x60 with no controller command pending): FFh reset (FA AA),
F5h/F4h scanning off/on, F6h defaults, EDh LEDs, EEh echo, F2h identify (FA AB 41 with
translation, as QEMU), F0h get/set the scancode set, F3h typematic rate; anything else gets
FEh (resend).  It sends scancode set 1 (what the controller's translation gives a PC with
the set-2 keyboard QEMU has); with translation off it still sends set 1 -- only protected-mode
OSes turn translation off, and they are out of scope.  A keyboard byte takes
:data:`BYTE_NS` to arrive after the previous one (a PS/2 byte takes about 1 ms on the wire);
a key pressed while scanning is off is lost, while the controller has the keyboard disabled
it waits in the keyboard.  There is no mouse: D4h (write to the mouse) is ignored.
"""

from __future__ import annotations

from collections import deque

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

# status register (QEMU's KBD_STAT_*)
STAT_OBF = 0x01
STAT_IBF = 0x02
STAT_SELFTEST = 0x04
STAT_CMD = 0x08
STAT_UNLOCKED = 0x10
STAT_MOUSE_OBF = 0x20
# command byte (KBD_MODE_*)
MODE_KBD_INT = 0x01
MODE_MOUSE_INT = 0x02
MODE_SYS = 0x04
MODE_NO_KEYLOCK = 0x08
MODE_DISABLE_KBD = 0x10
MODE_DISABLE_MOUSE = 0x20
MODE_KCC = 0x40
#: the command byte SeaBIOS's ps2_keyboard_setup leaves: keyboard IRQ, translation, no mouse
MODE_AFTER_POST = MODE_KBD_INT | MODE_KCC | MODE_DISABLE_MOUSE
# keyboard replies
KBD_ACK = 0xFA
KBD_BAT_OK = 0xAA
KBD_ECHO = 0xEE
KBD_RESEND = 0xFE
#: how long a keyboard byte takes to reach the controller
BYTE_NS = 1_000_000
#: the scancode set numbers F0h 00h reports, with translation on (QEMU's translate_table)
_TRANSLATED_SET = {1: 0x43, 2: 0x41, 3: 0x3F}

_BYTE = AccessConstraints(min_access_size=1, max_access_size=1)


class I8042:
    """The controller (ports 0x60/0x64) and its keyboard, as SeaBIOS's POST leaves them.
    A platform :meth:`attach`-es IRQ 1 and the byte timer; ``reset_request(reason)`` is
    what a reset pulse calls (default: :meth:`vgaemu.Machine.reset`)."""

    def __init__(self, machine) -> None:
        self.machine = machine
        self.a20 = machine.a20
        self.irq = None          # set_irq(level) of IRQ 1, once attached
        self.irq_level = False
        self._timer = None
        self._now = lambda: machine.clock.now_ns
        self.reset_request = lambda reason: machine.reset()
        self.status = STAT_SELFTEST | STAT_UNLOCKED
        self.mode = MODE_AFTER_POST
        self.pending_cmd: int | None = None     # controller command awaiting its data byte
        self.obf_data: int | None = None        # the output buffer
        self.obf_mouse = False
        self.last_data = 0x00                   # what a read of an empty buffer gives
        self.ctrl_replies: deque[int] = deque()
        # the keyboard
        self.kbd_queue: deque[int] = deque()
        self.kbd_param_cmd: int | None = None   # keyboard command awaiting its parameter
        self.scan_enabled = True
        self.scancode_set = 2
        self.leds = 0
        self.data_mr = MemoryRegion.io("i8042-data", 1, MemoryRegionOps(
            read=self._read_data, write=self._write_data, valid=_BYTE, impl=_BYTE))
        self.cmd_mr = MemoryRegion.io("i8042-cmd", 1, MemoryRegionOps(
            read=self._read_status, write=self._write_command, valid=_BYTE, impl=_BYTE))
        machine.system_io.add_subregion(0x60, self.data_mr)
        machine.system_io.add_subregion(0x64, self.cmd_mr)

    def attach(self, platform) -> None:
        """IRQ 1 through ``platform``'s PIC, keyboard bytes paced by its timers."""
        self.irq = lambda level: platform.pic.set_irq(1, level)
        self._timer = platform.timers.new_timer(self._deliver)
        self._now = lambda: platform.clock.now_ns
        self._update_irq()

    # ------------------------------------------------------------------ the keyboard
    def key_event(self, codes) -> None:
        """Scancode bytes of key presses and releases (the window, a key script): lost
        while scanning is off (F5h), as QEMU's ps2_put_keycode."""
        if self.scan_enabled:
            self._kbd_send(codes)

    def _kbd_send(self, data) -> None:
        self.kbd_queue.extend(b & 0xFF for b in data)
        self._deliver()

    def _keyboard_write(self, value: int) -> None:
        """A byte for the keyboard itself (ps2_write_keyboard)."""
        cmd = self.kbd_param_cmd
        if cmd is not None:
            self.kbd_param_cmd = None
            if cmd == 0xED:
                self.leds = value & 0x07
                self._kbd_send((KBD_ACK,))
            elif cmd == 0xF0:
                if value == 0:
                    s = self.scancode_set
                    self._kbd_send((KBD_ACK, _TRANSLATED_SET[s] if self.mode & MODE_KCC else s))
                elif value in (1, 2, 3):
                    self.scancode_set = value
                    self._kbd_send((KBD_ACK,))
                else:
                    self._kbd_send((KBD_RESEND,))
            else:   # F3h typematic rate/delay: accepted, keys repeat only as scripted
                self._kbd_send((KBD_ACK,))
            return
        if value in (0xED, 0xF0, 0xF3):
            self.kbd_param_cmd = value
            self._kbd_send((KBD_ACK,))
        elif value == 0xFF:
            self.kbd_queue.clear()
            self._defaults()
            self.scan_enabled = True
            self._kbd_send((KBD_ACK, KBD_BAT_OK))
        elif value == 0xF5:
            self._defaults()
            self.scan_enabled = False
            self._kbd_send((KBD_ACK,))
        elif value == 0xF4:
            self.scan_enabled = True
            self._kbd_send((KBD_ACK,))
        elif value == 0xF6:
            self._defaults()
            self._kbd_send((KBD_ACK,))
        elif value == 0xF2:
            self._kbd_send((KBD_ACK, 0xAB, 0x41 if self.mode & MODE_KCC else 0x83))
        elif value == 0xEE:
            self._kbd_send((KBD_ECHO,))
        elif 0xF7 <= value <= 0xFD:   # set-3 key modes
            self._kbd_send((KBD_ACK,))
        else:
            self._kbd_send((KBD_RESEND,))

    def _defaults(self) -> None:
        self.scancode_set = 2
        self.leds = 0

    # ------------------------------------------------------------------ output buffer
    def _put(self, value: int, *, mouse: bool = False) -> None:
        self.obf_data = value & 0xFF
        self.obf_mouse = mouse
        self._update_irq()

    def _deliver(self) -> None:
        """Fill an empty output buffer: the controller's replies first, then the next
        keyboard byte unless the controller has the keyboard disabled.  Keyboard bytes
        are paced :data:`BYTE_NS` apart by the timer when a platform is attached."""
        if self.obf_data is None:
            if self.ctrl_replies:
                self._put(self.ctrl_replies.popleft())
            elif self.kbd_queue and not self.mode & MODE_DISABLE_KBD:
                if self._timer is None or not self._timer.pending:
                    self._put(self.kbd_queue.popleft())
                    if self._timer is not None and self.kbd_queue:
                        self._timer.mod(self._now() + BYTE_NS)
                    return
        if self._timer is not None and self.kbd_queue and not self._timer.pending:
            self._timer.mod(self._now() + BYTE_NS)

    def _update_irq(self) -> None:
        level = (self.obf_data is not None and not self.obf_mouse
                 and bool(self.mode & MODE_KBD_INT))
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def _controller_reply(self, value: int) -> None:
        """A byte the controller itself answers with goes ahead of keyboard data: one
        sitting unread in the buffer goes back to the head of the keyboard's queue."""
        if self.obf_data is not None and not self.obf_mouse:
            self.kbd_queue.appendleft(self.obf_data)
            self.obf_data = None
        self.ctrl_replies.append(value & 0xFF)
        self._deliver()

    # ------------------------------------------------------------------ ports
    def _read_status(self, offset: int, size: int) -> int:
        st = self.status & ~(STAT_OBF | STAT_MOUSE_OBF | STAT_IBF)
        if self.obf_data is not None:
            st |= STAT_OBF | (STAT_MOUSE_OBF if self.obf_mouse else 0)
        return st

    def _read_data(self, offset: int, size: int) -> int:
        """Reading takes the byte out of the buffer (a read of an empty buffer gives the
        last byte again, as QEMU's)."""
        v = self.obf_data
        if v is None:
            return self.last_data
        self.last_data = v
        self.obf_data = None
        self.obf_mouse = False
        self._update_irq()
        self._deliver()
        return v

    def _write_data(self, offset: int, value: int, size: int) -> None:
        value &= 0xFF
        self.status &= ~STAT_CMD
        cmd, self.pending_cmd = self.pending_cmd, None
        if cmd is None:
            self._keyboard_write(value)
        elif cmd == 0x60:
            self.mode = value
            self._update_irq()
            self._deliver()
        elif cmd == 0xD1:
            self._write_outport(value)
        elif cmd == 0xD2:
            self._controller_reply(value)
        elif cmd == 0xD3:
            if self.obf_data is None:
                self._put(value, mouse=True)
        # D4h (to the mouse): there is no mouse

    def _write_outport(self, value: int) -> None:
        self.a20.set_kbc_output(value)
        if not value & 0x01:
            self.reset_request("keyboard controller output port (reset line low)")

    def _write_command(self, offset: int, value: int, size: int) -> None:
        value &= 0xFF
        self.status |= STAT_CMD
        self.pending_cmd = None
        if value == 0x20:
            self._controller_reply(self.mode)
        elif 0x21 <= value <= 0x3F:
            self._controller_reply(0x00)   # the rest of the controller's RAM
        elif value in (0x60, 0xD1, 0xD2, 0xD3, 0xD4):
            self.pending_cmd = value
        elif value == 0xA7:
            self.mode |= MODE_DISABLE_MOUSE
        elif value == 0xA8:
            self.mode &= ~MODE_DISABLE_MOUSE
        elif value in (0xA9, 0xAB):
            self._controller_reply(0x00)   # interface test passed
        elif value == 0xAA:
            self.status |= STAT_SELFTEST
            self._controller_reply(0x55)
        elif value == 0xAD:
            self.mode |= MODE_DISABLE_KBD
            self._update_irq()
        elif value == 0xAE:
            self.mode &= ~MODE_DISABLE_KBD
            self._deliver()
        elif value == 0xC0:
            self._controller_reply(0x80)   # input port: keyboard not inhibited
        elif value == 0xD0:
            self._controller_reply(self.a20.kbc_output)
        elif value == 0xDD:
            self.a20.set_kbc_output(self.a20.kbc_output & ~0x02)
        elif value == 0xDF:
            self.a20.set_kbc_output(self.a20.kbc_output | 0x02)
        elif value == 0xE0:
            self._controller_reply(0x00)   # test inputs
        elif value >= 0xF0:
            if not value & 0x01:   # pulse the reset line (FEh, and every even Fxh)
                self.reset_request("keyboard controller reset pulse (command FEh)")
        # other commands: ignored, as QEMU logs and ignores them

    # ------------------------------------------------------------------ reset
    def system_reset(self) -> None:
        """What SeaBIOS's POST leaves after a reset: controller and keyboard as at start."""
        self.status = STAT_SELFTEST | STAT_UNLOCKED
        self.mode = MODE_AFTER_POST
        self.pending_cmd = None
        self.obf_data = None
        self.obf_mouse = False
        self.ctrl_replies.clear()
        self.kbd_queue.clear()
        self.kbd_param_cmd = None
        self.scan_enabled = True
        self._defaults()
        if self._timer is not None:
            self._timer.delete()
        self._update_irq()

    # ------------------------------------------------------------------ migration
    def vmstate_section(self):
        """The ``pckbd`` section (QEMU's vmstate_kbd with its PS/2 keyboard): controller
        registers, the output buffer and the bytes queued behind it, the keyboard's
        settings, and the timer pacing its bytes."""
        from vgaemu.migration.vmstate import schema_section

        byte = range(0, 256)
        schema = {"status": byte, "mode": byte, "pending_cmd": "int?", "obf_data": "int?",
                  "obf_mouse": bool, "last_data": byte, "ctrl_replies": [byte],
                  "kbd_queue": [byte], "kbd_param_cmd": "int?", "scan_enabled": bool,
                  "scancode_set": range(1, 4), "leds": range(0, 8), "irq_level": bool,
                  "timer": "timer"}

        def save() -> dict:
            return {"status": self.status, "mode": self.mode, "pending_cmd": self.pending_cmd,
                    "obf_data": self.obf_data, "obf_mouse": self.obf_mouse,
                    "last_data": self.last_data, "ctrl_replies": list(self.ctrl_replies),
                    "kbd_queue": list(self.kbd_queue), "kbd_param_cmd": self.kbd_param_cmd,
                    "scan_enabled": self.scan_enabled, "scancode_set": self.scancode_set,
                    "leds": self.leds, "irq_level": self.irq_level,
                    "timer": None if self._timer is None else self._timer.vmstate_save()}

        def load(state: dict) -> None:
            for key in ("status", "mode", "pending_cmd", "obf_data", "obf_mouse", "last_data",
                        "kbd_param_cmd", "scan_enabled", "scancode_set", "leds", "irq_level"):
                setattr(self, key, state[key])
            self.ctrl_replies = deque(state["ctrl_replies"])
            self.kbd_queue = deque(state["kbd_queue"])
            if self._timer is not None:   # the PIC's pins were restored with its own section
                self._timer.vmstate_load(state["timer"])

        return schema_section("pckbd", 1, schema, save, load)
