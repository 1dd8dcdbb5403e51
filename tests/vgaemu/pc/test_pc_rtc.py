"""The MC146818 RTC/CMOS: time from the virtual clock and a base date, BCD/binary, 12/24 h,
SET, the flags of register C and IRQ 8, the CMOS bytes QEMU sets, INT 1Ah 02h-05h."""

from __future__ import annotations

import io
import struct
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.disk import DiskImage
from vgaemu.pc.platform import PCPlatform
from vgaemu.pc.rtc import (DEFAULT_RTC_BASE, parse_rtc_base, parse_rtc_option, _days_from_civil)

from .asm import nasm

S = 10**9


def cmos(m, i):
    m.outb(0x70, i)
    return m.inb(0x71)


def wcmos(m, i, v):
    m.outb(0x70, i)
    m.outb(0x71, v)


def clock_regs(m):
    return [cmos(m, i) for i in (0, 2, 4, 6, 7, 8, 9, 0x32)]


def test_default_base_is_fixed_and_reads_bcd():
    m = Machine()
    assert m.rtc.base == datetime.fromisoformat(DEFAULT_RTC_BASE)
    # 2000-01-01 00:00:00, a Saturday (7; Sunday is 1), century 20
    assert clock_regs(m) == [0, 0, 0, 7, 1, 1, 0, 0x20]
    assert cmos(m, 0xA) == 0x26 and cmos(m, 0xB) == 0x02 and cmos(m, 0xD) == 0x80


def test_time_follows_the_virtual_clock():
    m = Machine(rtc_base="2020-02-28T23:59:58")
    assert clock_regs(m) == [0x58, 0x59, 0x23, 6, 0x28, 0x02, 0x20, 0x20]
    m.clock.advance(3 * S)   # 2020 is a leap year
    assert clock_regs(m) == [0x01, 0x00, 0x00, 7, 0x29, 0x02, 0x20, 0x20]
    m.clock.advance(86400 * S)
    assert clock_regs(m)[4:6] == [0x01, 0x03]


def test_binary_and_12_hour_modes():
    m = Machine(rtc_base="1999-12-31T13:05:09")
    wcmos(m, 0xB, 0x02 | 0x04)          # binary, 24 h
    assert clock_regs(m) == [9, 5, 13, 6, 31, 12, 99, 19]
    wcmos(m, 0xB, 0x04)                 # binary, 12 h: 1 PM
    assert cmos(m, 4) == 0x80 | 1
    wcmos(m, 0xB, 0x00)                 # BCD, 12 h
    assert cmos(m, 4) == 0x81
    m.clock.advance(11 * 3600 * S)      # 00:05 -> 12 AM
    assert cmos(m, 4) == 0x12 and cmos(m, 9) == 0x00 and cmos(m, 0x32) == 0x20


def test_set_bit_freezes_then_takes_the_written_time():
    m = Machine()
    wcmos(m, 0xB, 0x82)                 # SET
    for i, v in ((0, 0x30), (2, 0x45), (4, 0x12), (7, 0x15), (8, 0x06), (9, 0x24)):
        wcmos(m, i, v)
    m.clock.advance(5 * S)
    assert cmos(m, 0) == 0x30           # stopped
    wcmos(m, 0xB, 0x02)                 # run again from what was written
    m.clock.advance(2 * S)
    assert [cmos(m, i) for i in (0, 2, 4, 7, 8, 9)] == [0x32, 0x45, 0x12, 0x15, 0x06, 0x24]
    assert m.rtc.datetime() == datetime(2024, 6, 15, 12, 45, 32)


def test_write_while_running_and_divider_reset():
    m = Machine()
    wcmos(m, 2, 0x10)                   # minutes = 10, at once
    m.clock.advance(S)
    assert cmos(m, 2) == 0x10 and cmos(m, 0) == 1
    wcmos(m, 0xA, 0x66)                 # divider in reset: the clock stops
    m.clock.advance(10 * S)
    assert cmos(m, 0) == 1
    wcmos(m, 0xA, 0x26)
    m.clock.advance(S)
    assert cmos(m, 0) == 2


def test_uip_in_the_last_244us_of_each_second():
    m = Machine()
    m.clock.advance(S - 300_000)
    assert not cmos(m, 0xA) & 0x80
    m.clock.advance(100_000)
    assert cmos(m, 0xA) & 0x80
    m.clock.advance(200_000)
    assert not cmos(m, 0xA) & 0x80 and cmos(m, 0) == 1


def test_register_c_flags_are_latched_and_cleared_by_reading():
    m = Machine()
    assert cmos(m, 0xC) == 0
    m.clock.advance(S // 1024 + 1)      # one periodic tick at the default 1024 Hz
    assert cmos(m, 0xC) == 0x40         # PF, no IRQF: PIE is off
    assert cmos(m, 0xC) == 0
    wcmos(m, 1, 0xC0), wcmos(m, 3, 0xC0), wcmos(m, 5, 0xC0)   # alarm every second
    m.clock.advance(S)
    assert cmos(m, 0xC) == 0x70         # PF, AF, UF
    wcmos(m, 1, 0x05), wcmos(m, 3, 0x00), wcmos(m, 5, 0x00)   # alarm at 00:00:05
    m.clock.advance(2 * S)              # now 3 s
    assert cmos(m, 0xC) & 0x20 == 0
    m.clock.advance(2 * S)              # 5 s
    assert cmos(m, 0xC) & 0x20


def test_index_port_nmi_mask_and_write_only_registers():
    m = Machine()
    m.outb(0x70, 0x80 | 0x0D)
    assert m.rtc.nmi_disabled and m.inb(0x71) == 0x80 and m.inb(0x70) == 0xFF
    wcmos(m, 0xD, 0x00)                 # read-only
    wcmos(m, 0x0C, 0xFF)
    assert cmos(m, 0xD) == 0x80 and cmos(m, 0xC) == 0
    assert not m.rtc.nmi_disabled
    wcmos(m, 0x40, 0x5A)                # plain CMOS RAM
    assert cmos(m, 0x40) == 0x5A and cmos(m, 0xC0) == 0x5A   # index wraps at 128


def test_cmos_memory_bytes_as_qemu_sets_them(tmp_path):
    assert cmos(Machine("128M"), 0x17) == 0xFF   # extended memory is capped at 65535 KiB
    m = Machine("32M")
    assert (cmos(m, 0x15), cmos(m, 0x16)) == (0x80, 0x02)      # 640 KiB
    ext = (32 - 1) * 1024
    assert cmos(m, 0x17) | cmos(m, 0x18) << 8 == ext == cmos(m, 0x30) | cmos(m, 0x31) << 8
    assert cmos(m, 0x34) | cmos(m, 0x35) << 8 == (32 - 16) * 16
    assert [cmos(m, i) for i in (0x5B, 0x5C, 0x5D, 0x5F)] == [0, 0, 0, 0]
    img = tmp_path / "f.img"
    img.write_bytes(bytes(1440 * 1024))
    hd = tmp_path / "h.img"
    hd.write_bytes(bytes(16 * 63 * 512 * 20))
    PC(m, floppies=[DiskImage(img, "floppy")], hard_disks=[DiskImage(hd, "hd")],
       output=io.BytesIO())
    assert cmos(m, 0x10) == 0x40                    # a 1.44M drive A:, no B:
    assert cmos(m, 0x14) == 0x01 | 0x02 | 0x04      # one floppy, FPU, PS/2 mouse
    assert cmos(m, 0x12) == 0xF0 and cmos(m, 0x19) == 47
    assert cmos(m, 0x1B) | cmos(m, 0x1C) << 8 == 20 and cmos(m, 0x1D) == 16 and cmos(m, 0x23) == 63
    assert (cmos(m, 0x3D), cmos(m, 0x38)) == (0x12, 0x30)   # QEMU's "cad": disk, floppy, CD
    total = sum(cmos(m, i) for i in range(0x10, 0x2E))
    assert cmos(m, 0x2E) << 8 | cmos(m, 0x2F) == total


def test_above_4g_memory_bytes():
    m = Machine("4G")
    above = m.memory.above_4g_mem_size // 65536
    assert above and cmos(m, 0x5B) | cmos(m, 0x5C) << 8 | cmos(m, 0x5D) << 16 == above
    assert cmos(m, 0x34) | cmos(m, 0x35) << 8 == min(65535, (m.memory.below_4g_mem_size - (16 << 20)) // 65536)


def test_bad_bases_and_options():
    assert parse_rtc_base("2006-06-17")[0] == datetime(2006, 6, 17)
    assert parse_rtc_option("base=2006-06-17T16:01:21,clock=vm,driftfix=slew") == "2006-06-17T16:01:21"
    assert abs((parse_rtc_base("utc")[0] - datetime.utcnow()).total_seconds()) < 5
    for bad in ("yesterday", "2020-13-01", "1800-01-01", 5):
        with pytest.raises(ConfigError):
            Machine(rtc_base=bad)
    for bad in ("base", "clock=host", "driftfix=fast", "speed=2", "base=never"):
        with pytest.raises(ConfigError):
            parse_rtc_option(bad)


@settings(max_examples=200, deadline=None)
@given(st.integers(1900, 2199), st.integers(-30, 30), st.integers(-40, 80))
def test_days_from_civil_matches_datetime(y, m, d):
    from datetime import date

    yy, mm = y + (m - 1) // 12, (m - 1) % 12 + 1
    want = (date(yy, mm, 1) - date(1970, 1, 1)).days + d - 1
    assert _days_from_civil(y, m, d) == want


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 200 * 365 * 86400), st.sampled_from([0x00, 0x02, 0x04, 0x06]))
def test_registers_round_trip_in_every_mode(secs, mode):
    """Writing back what the registers show (under SET) keeps the time, in every mode."""
    m = Machine(rtc_base="1900-01-01")
    m.rtc.set_time((secs - 2208988800) * S)   # 1900-01-01 + secs
    want = m.rtc.datetime()
    wcmos(m, 0xB, mode)
    regs = clock_regs(m)
    wcmos(m, 0xB, 0x80 | mode)
    for i, v in zip((0, 2, 4, 6, 7, 8, 9, 0x32), regs):
        wcmos(m, i, v)
    wcmos(m, 0xB, mode)
    assert m.rtc.datetime() == want


def test_periodic_interrupt_through_the_slave_pic(tmp_path):
    """A program enabling PIE at 64 Hz gets IRQ 8 (INT 70h) that often, acknowledging by
    reading register C and EOI-ing both PICs."""
    code = nasm("""
    cli
    xor ax, ax
    mov ds, ax
    mov word [0x70*4], irq8
    mov word [0x70*4+2], 0
    in al, 0xa1
    and al, 0xfe          ; unmask IRQ 8
    out 0xa1, al
    mov al, 0x0a
    out 0x70, al
    mov al, 0x2a          ; rate 10: 64 Hz
    out 0x71, al
    mov al, 0x0b
    out 0x70, al
    in al, 0x71
    or al, 0x40           ; PIE
    out 0x71, al
    sti
spin: cmp word [count], 64
    jb spin
    cli
    hlt
irq8:
    push ax
    inc word [cs:count]
    mov al, 0x0c
    out 0x70, al
    in al, 0x71           ; ack the RTC
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    pop ax
    iret
count: dw 0
    times 510-($-$$) db 0
    dw 0xaa55
    """)
    img = tmp_path / "p.img"
    img.write_bytes(code)
    pc = PC(Machine(), floppies=[DiskImage(img, "floppy")], output=io.BytesIO())
    pc.boot()
    pc.platform.run_until(3 * S)
    assert pc.platform.stopped == "halted with interrupts disabled"
    # one interrupt each 1/64 s of virtual time from the start: the 64th at 1 s (the RTC's
    # timer, armed in the middle of a CPU slice, ends that slice early to be on time)
    assert abs(pc.machine.clock.now_ns - S) < S // 10000


def test_int1a_reads_and_sets_the_rtc(tmp_path):
    code = nasm("""
    mov ah, 02h
    int 1ah
    mov [res], cx
    mov [res+2], dx
    mov ah, 04h
    int 1ah
    mov [res+4], cx
    mov [res+6], dx
    mov cx, 0x2359        ; 23:59:50
    mov dx, 0x5000
    mov ah, 03h
    int 1ah
    mov cx, 0x2099        ; 2099-12-31
    mov dx, 0x1231
    mov ah, 05h
    int 1ah
    mov [res+8], ax
    cli
    hlt
res: dw 0, 0, 0, 0, 0
    times 510-($-$$) db 0
    dw 0xaa55
    """)
    img = tmp_path / "t.img"
    img.write_bytes(code)
    pc = PC(Machine(rtc_base="2021-07-04T09:08:07"), floppies=[DiskImage(img, "floppy")],
            output=io.BytesIO())
    pc.boot()
    pc.platform.run_until(S)
    m = pc.machine
    res = m.read(0x7C00 + code.index(b"\0" * 10, code.index(b"\xFA\xF4")), 10)
    cx, dx, cx2, dx2, ax = struct.unpack("<5H", res)
    assert (cx, dx) == (0x0908, 0x0700) and (cx2, dx2) == (0x2021, 0x0704)
    assert ax == 0x02
    m.clock.advance(15 * S)   # past midnight: 2100-01-01 00:00:05
    assert m.rtc.datetime().replace(microsecond=0) == datetime(2100, 1, 1, 0, 0, 5)


def test_machine_without_platform_has_no_irq_but_platform_wires_it():
    m = Machine()
    assert m.rtc.irq is None
    PCPlatform(m, output=io.BytesIO())
    assert m.rtc.irq is not None


def test_rtc_state_migrates():
    from vgaemu.migration.vmstate import decode_state, encode_state

    a = Machine(rtc_base="2010-05-05")
    wcmos(a, 0x40, 0x77)
    a.clock.advance(90 * S)
    sec = next(s for s in a.vmstate if s.name == "mc146818rtc")
    blob = encode_state(sec.save())
    b = Machine()
    b.clock.now_ns = a.clock.now_ns
    sb = next(s for s in b.vmstate if s.name == "mc146818rtc")
    sb.load(decode_state(blob, "mc146818rtc"), 1)
    assert clock_regs(b) == clock_regs(a) and cmos(b, 0x40) == 0x77


@pytest.mark.parametrize("index", [0x80, 256, -1])
def test_rtc_index_out_of_range_is_refused_by_the_check(index):
    """A stream whose RTC index is not one a port 0x70 write leaves (value & 0x7F): the
    section loaded it and the next read of port 0x71 raised IndexError. Now the check,
    which runs before any section loads, refuses it."""
    from vgaemu.migration import MigrationError
    from vgaemu.migration.vmstate import decode_state

    a = Machine()
    sec = next(s for s in a.vmstate if s.name == "mc146818rtc")
    state = decode_state(encode_state_of(sec), "mc146818rtc")
    state["index"] = index
    with pytest.raises(MigrationError, match=f"'mc146818rtc': field 'index' = {index} does not fit"):
        sec.check(state, 2)


def encode_state_of(section) -> bytes:
    from vgaemu.migration.vmstate import encode_state

    return encode_state(section.save())


def test_cli_rtc_base_and_qemu_spelling(tmp_path):
    from vgaemu.cli import main

    code = nasm("""
    mov ah, 04h
    int 1ah
    mov al, ch
    out 0xe9, al
    mov al, cl
    out 0xe9, al
    mov ah, 02h
    int 1ah
    mov al, ch
    out 0xe9, al
    mov al, cl
    out 0xe9, al
    cli
    hlt
    times 510-($-$$) db 0
    dw 0xaa55
    """)
    img = tmp_path / "r.img"
    img.write_bytes(code)
    for opt in (["--rtc-base", "2031-04-05T06:07:08"], ["-rtc", "base=2031-04-05T06:07:08,clock=vm"]):
        out = tmp_path / "serial.bin"
        assert main(["boot", "-fda", str(img), "--headless", "--frames", "2", "--serial", str(out),
                     *opt]) == 0
        assert out.read_bytes() == bytes((0x20, 0x31, 0x06, 0x07))
    assert main(["boot", "-fda", str(img), "--headless", "-rtc", "clock=host"]) != 0


def test_dos_date_and_time_are_the_rtcs(tmp_path):
    p = tmp_path / "d.com"
    p.write_bytes(nasm("""
    mov ah, 2ah
    int 21h
    mov [res], cx
    mov [res+2], dx
    mov [res+4], al
    mov ah, 2ch
    int 21h
    mov [res+6], cx
    mov [res+8], dx
    mov cx, 1999          ; set 1999-02-30: invalid
    mov dx, 0x021e
    mov ah, 2bh
    int 21h
    mov [res+10], al
    mov cx, 0x0102        ; set 01:02:03.00
    mov dx, 0x0300
    mov ah, 2dh
    int 21h
    mov [res+11], al
    int 20h
res: times 12 db 0
    """, org=0x100))
    pc = PC(Machine(rtc_base="2024-03-10T17:30:15"), output=io.BytesIO())
    pc.run_com(p)
    pc.platform.run_until(S // 2)
    from vgaemu.pc.dos import PSP_SEG

    data = pc.machine.read(PSP_SEG * 16 + 0x100 + len(p.read_bytes()) - 12, 12)
    year, md, wd, hm, sc, bad, ok = struct.unpack("<HHBxHHBB", data)
    assert (year, md, wd) == (2024, 0x030A, 0)     # a Sunday
    assert hm == 17 << 8 | 30 and sc >> 8 == 15
    assert bad == 0xFF and ok == 0
    assert pc.machine.rtc.datetime().replace(microsecond=0) == datetime(2024, 3, 10, 1, 2, 3)
