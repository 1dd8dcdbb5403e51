"""The hardware-vs-QEMU policy: its constructors, its checks, and mixes of the two sides.

The pure policies are covered pixel for pixel by the corpus (tests/vgaemu/test_qemu_pixels.py);
here each mix is compared with the pure policy it departs from, so the difference must be
exactly the row that was changed.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from vgaemu.compat import Compat
from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.vga.geometry import compute_geometry

from tests.vga.scenarios import SCENARIOS, attr, crtc
from tests.vga.vgaprog import run

README = Path(__file__).resolve().parents[2] / "README.md"
QEMU = Compat.qemu_7_2()
HARDWARE = Compat.hardware()


def scenario(name: str, compat: Compat) -> Machine:
    m = Machine(memory="32M", vram="16M", compat=compat)
    run(m, SCENARIOS[name]())
    m.vga.update_display()
    return m


def picture(m: Machine) -> np.ndarray:
    return np.ascontiguousarray(m.vga.display.surface)


# -- the object --------------------------------------------------------------------------

def test_the_two_pure_policies():
    assert all(getattr(HARDWARE, f) is True for f in Compat.field_names())
    assert all(getattr(QEMU, f) is False for f in Compat.field_names())
    assert HARDWARE == Compat() and HARDWARE.differences() == ()
    assert QEMU.differences() == Compat.field_names()


def test_replace_changes_only_the_named_rows_and_is_frozen():
    mixed = QEMU.replace(blink=True, pel_mask=True)
    assert set(Compat.field_names()) - set(mixed.differences()) == {"blink", "pel_mask"}
    assert QEMU.blink is False  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        mixed.blink = False
    assert hash(mixed) == hash(QEMU.replace(pel_mask=True, blink=True))


@pytest.mark.parametrize("changes, message", [
    ({"blonk": True}, "Compat has no field blonk; expected one of blink, "),
    ({"blink": 1}, r"Compat.blink=1: expected True \(hardware\) or False"),
    ({"pel_mask": "yes"}, "Compat.pel_mask='yes'"),
])
def test_replace_rejects_bad_rows(changes, message):
    with pytest.raises(ConfigError, match=message):
        QEMU.replace(**changes)


def test_every_row_is_in_the_readme_table():
    """README's hardware-vs-QEMU table names the field of each row."""
    text = README.read_text()
    section = text[text.index("### VGA hardware and QEMU 7.2"):]
    section = section[:section.index("\n## ")]
    named = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    assert named == set(Compat.field_names())


# -- the machine's edge ------------------------------------------------------------------

def test_machine_takes_a_policy_or_the_bool():
    assert Machine(memory="32M").compat == HARDWARE
    assert Machine(memory="32M", qemu_compat=True).compat == QEMU
    mixed = QEMU.replace(blink=True)
    m = Machine(memory="32M", compat=mixed)
    assert m.compat is mixed and m.vga.compat is mixed and m.vga.display.compat is mixed
    assert m.vga.window.compat is mixed and m.vga.ports.compat is mixed
    assert Machine(memory="32M", compat=QEMU, qemu_compat=True).compat == QEMU


@pytest.mark.parametrize("kw, message", [
    ({"compat": "qemu"}, "compat='qemu': expected a vgaemu.Compat"),
    ({"compat": HARDWARE, "qemu_compat": True}, "qemu_compat=True contradicts compat="),
    ({"qemu_compat": "yes"}, "qemu_compat='yes': expected True or False"),
])
def test_machine_rejects_bad_policies(kw, message):
    with pytest.raises(ConfigError, match=message):
        Machine(memory="32M", **kw)


def test_compat_is_exported_from_the_package():
    import vgaemu

    assert vgaemu.Compat is Compat


# -- mixes -------------------------------------------------------------------------------

def test_qemu_with_hardware_blink_differs_only_in_blinking_cells():
    """QEMU 7.2's text rendering with the hardware's blink: 16 frames on, the characters with
    attribute bit 7 vanish; every other pixel (cursor timer included) stays QEMU's."""
    pure, mixed = scenario("text80", QEMU), scenario("text80", QEMU.replace(blink=True))
    for _ in range(16):
        pure.frame()
        mixed.frame()
    a, b = picture(pure), picture(mixed)
    diff = (a != b).any(axis=2)
    assert diff.any()
    g = mixed.vga.display.geometry
    attrs = mixed.vga.vram[g.cell_addr * 4 + 1]
    cells = np.repeat(np.repeat(attrs & 0x80 != 0, g.ch, axis=0), g.cw, axis=1)
    assert not (diff & ~cells[:diff.shape[0], :diff.shape[1]]).any()
    assert a.shape == b.shape


def test_hardware_with_qemu_pel_mask_keeps_the_other_registers():
    m = Machine(memory="32M", compat=HARDWARE.replace(pel_mask=False))
    m.outb(0x3C2, 0x67)
    m.outb(0x3C6, 0x0F)
    assert m.inb(0x3C6) == 0  # QEMU: the mask is not a register
    m.inb(0x3DA)
    m.outb(0x3C0, 0x12)
    assert m.inb(0x3C0) == 0x12  # hardware: the index reads back in the data state


def test_hardware_without_the_64k_plane_wrap():
    """GR6 map 0 (128 KiB at A0000) in planar mode: the hardware wraps window offset 0x10000
    to planar address 0; with ``planes_wrap_64k=False`` it reaches address 0x10000."""
    for compat, addr in ((HARDWARE, 0), (HARDWARE.replace(planes_wrap_64k=False), 0x10000)):
        m = Machine(memory="32M", compat=compat)
        vga = m.vga
        vga.vram[:] = 0
        # all planes enabled, planar addressing, A0000/128K, write mode 0, bit mask 0xFF
        for port, index, value in ((0x3C4, 2, 0x0F), (0x3C4, 4, 0x06), (0x3CE, 6, 0x01),
                                   (0x3CE, 8, 0xFF)):
            m.outb(port, index)
            m.outb(port + 1, value)
        m.write(0xA0000 + 0x10000, b"\x5A")
        assert bytes(vga.vram[4 * addr:4 * addr + 4]) == b"\x5A" * 4
        assert not vga.vram[:4 * addr].any() and not vga.vram[4 * addr + 4:].any()


def test_qemu_with_partial_text_rows():
    """An 8x14 font in 400 lines: QEMU shows 28 whole rows (392 lines); with the hardware's
    partial rows the 29th row shows in part, the other rows stay QEMU's."""
    m = scenario("text80", QEMU)
    run(m, crtc(0x09, 0x0D))
    s = m.vga.state
    whole = compute_geometry(s, QEMU)
    part = compute_geometry(s, QEMU.replace(partial_text_rows=True))
    assert (whole.rows, whole.height) == (28, 392)
    assert (part.rows, part.height) == (29, 400)
    assert part.cw == whole.cw and np.array_equal(part.cell_addr[:28], whole.cell_addr)


def test_qemu_with_live_graphics_registers():
    """Plane enable (AR12) changed in mode 12h: QEMU 7.2 leaves the picture stale until the
    VRAM under it is written; with live graphics registers it shows at once."""
    pure = scenario("mode12", QEMU)
    mixed = scenario("mode12", QEMU.replace(live_graphics_registers=True))
    assert np.array_equal(picture(pure), picture(mixed))
    for m in (pure, mixed):
        m.frame()  # QEMU's first full update left the scenario's dirty pages set
        run(m, attr(0x12, 0x01))
        m.frame()
    hardware = scenario("mode12", HARDWARE)
    run(hardware, attr(0x12, 0x01))
    hardware.frame()
    assert np.array_equal(picture(mixed), picture(hardware))
    assert not np.array_equal(picture(pure), picture(mixed))


def test_a_guest_script_asks_for_a_policy(tmp_path):
    """``MACHINE = {"compat": ...}`` in a guest script builds that machine (the CLI's path)."""
    from vgaemu.guest import load_script, machine_options

    script = tmp_path / "mixed.py"
    script.write_text("from vgaemu import Compat\n"
                      "MACHINE = {'compat': Compat.qemu_7_2().replace(blink=True)}\n"
                      "def main(guest):\n    pass\n")
    m = Machine(**machine_options(load_script(script)))
    assert m.compat == QEMU.replace(blink=True)
