"""Issue 9.3 from the Python API: a guest's long fill or read over memory that nothing backs
fails before any buffer of that size exists, and fills are written in bounded pieces."""

import pytest

from vgaemu.errors import GuestError
from vgaemu.guest import Guest
from vgaemu.machine import Machine


@pytest.fixture
def guest():
    return Guest(Machine(memory="64M"))


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.mark.parametrize("call", ["fill", "read"])
def test_guest_fill_or_read_of_4_gib_fails_before_allocating(guest, call):
    """guest.fill/read over 4 GiB that no RAM backs fails at once (issue 9.3's fill bullet,
    from the Python API): no 4 GB buffer first."""
    before = rss_kib()
    with pytest.raises(GuestError, match=r"DECODE_ERROR at 0x4000000"):
        if call == "fill":
            guest.fill(0x100000, 0xFFEFFFFF, 1)
        else:
            guest.read(0x100000, 0xFFEFFFFF)
    assert rss_kib() - before < 64 * 1024


def test_guest_fill_in_pieces_matches_one_write(guest):
    guest.fill(0x100000, (3 << 20) + 6, 0x1234, unit=2)
    data = guest.read(0x100000, (3 << 20) + 6)
    assert data == bytes([0x34, 0x12]) * ((3 << 20) // 2 + 3)
    assert guest.read(0x100000 + (3 << 20) + 6, 2) == b"\0\0"
