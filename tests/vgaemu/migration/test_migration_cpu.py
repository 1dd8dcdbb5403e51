"""The CPU's migration section: a program stopped mid-way on one machine finishes on another
with the same result, unreal mode's descriptor caches and the A20 gate included, and a bad
CPU section is refused before anything loads."""

from __future__ import annotations

import pytest

from tests.vgaemu.cpu.test_cpu_isa import LOOP, UNREAL
from vgaemu.machine import Machine
from vgaemu.migration import MigrationError
from vgaemu.migration.vmstate import decode_state, encode_state


def _machine(code: bytes) -> Machine:
    m = Machine(memory="2M", vram="1M")
    m.write(0x7C00, code)
    return m


def _migrate(src: Machine, tmp_path) -> Machine:
    path = str(tmp_path / "cpu.vgaemu")
    src.migration.migrate(f"file:{path}", timeout=60)
    dst = Machine(memory="2M", vram="1M")
    dst.incoming_migration(f"file:{path}").run()
    return dst


@pytest.mark.parametrize("stop_after", [1, 7, 2001, 4000])
def test_a_loop_stopped_anywhere_finishes_the_same_on_the_destination(tmp_path, stop_after):
    ref = _machine(LOOP)
    total = ref.cpu.run()
    src = _machine(LOOP)
    assert src.cpu.run(max_instructions=stop_after) == stop_after
    dst = _migrate(src, tmp_path)
    assert dst.cpu.run() == total - stop_after
    assert dst.cpu.halted
    for reg in ("eax", "ebx", "ecx", "edx", "esp", "eip", "eflags", "cs", "ss"):
        assert getattr(dst.cpu, reg) == getattr(ref.cpu, reg), reg
    assert dst.read(0x500, 4) == ref.read(0x500, 4)


def test_unreal_mode_and_a20_survive_migration(tmp_path):
    src = _machine(UNREAL)
    src.cpu.run(max_instructions=1000)
    src.a20.port92 = 0x00
    src.cpu.a20_mask = 0xFFEFFFFF
    dst = _migrate(src, tmp_path)
    assert dst.cpu.seg_limit[3] == 0xFFFFFFFF and dst.cpu.cr0 & 1 == 0
    assert dst.cpu.a20_mask == 0xFFEFFFFF and dst.a20.port92 == 0x00
    assert dst.vga.vram[0:4].tobytes() == bytes.fromhex("44332211")


def test_a_bad_cpu_section_is_refused_before_any_section_loads():
    src, dst = _machine(LOOP), Machine(memory="2M", vram="1M")
    src.cpu.run(max_instructions=10)
    src.outb(0x3C8, 7)
    src.outb(0x3C9, 0x2A)                   # the source's DAC differs from the destination's
    palette = bytes(dst.vga.state.palette)
    bad = []
    for name, version, blob in src.vmstate.save_all():
        if name == "cpu":
            state = decode_state(blob, name)
            state["regs"] = state["regs"][:7]
            blob = encode_state(state)
        bad.append((name, version, blob))
    before = dst.cpu.eip
    with pytest.raises(MigrationError, match="regs"):
        dst.vmstate.load_all(bad)
    assert dst.cpu.eip == before and bytes(dst.vga.state.palette) == palette
