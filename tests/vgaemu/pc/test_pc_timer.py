"""TimerList: earliest first, ties in arming order, re-arming and deleting."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from vgaemu.clock import VirtualClock
from vgaemu.errors import ConfigError
from vgaemu.pc.timer import TimerList


def test_order_rearm_delete():
    clock = VirtualClock()
    tl = TimerList(clock)
    fired = []
    a = tl.new_timer(lambda: fired.append("a"))
    b = tl.new_timer(lambda: fired.append("b"))
    c = tl.new_timer(lambda: fired.append("c"))
    a.mod(30)
    b.mod(10)
    c.mod(10)
    b.mod(20)        # re-arm replaces the old deadline
    assert tl.deadline() == 10
    c.delete()
    assert tl.deadline() == 20 and not c.pending
    clock.now_ns = 25
    assert tl.run_due() == 1 and fired == ["b"]
    clock.now_ns = 100
    tl.run_due()
    assert fired == ["b", "a"] and tl.deadline() is None
    with pytest.raises(ConfigError):
        a.mod(1.5)


@given(st.lists(st.integers(0, 50), max_size=30))
def test_fires_in_deadline_then_arming_order(deadlines):
    clock = VirtualClock()
    tl = TimerList(clock)
    fired = []
    for i, d in enumerate(deadlines):
        tl.new_timer(lambda i=i: fired.append(i)).mod(d)
    clock.now_ns = 50
    tl.run_due()
    assert fired == sorted(range(len(deadlines)), key=lambda i: (deadlines[i], i))
