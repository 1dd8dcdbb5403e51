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


@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_migrated_timers_fire_as_the_source_would(arms, rnd):
    """Model: a destination whose own start armed the same timers in another order, then
    loads each one's saved state in any order, fires them exactly as the source does."""
    n = len(arms)

    def build():
        clock = VirtualClock()
        tl = TimerList(clock)
        fired = []
        return tl, fired, [tl.new_timer(lambda i=i: fired.append(i)) for i in range(n)]

    src, src_fired, ts = build()
    for i, (deadline, armed) in enumerate(arms):
        ts[i].mod(deadline)
        if not armed:
            ts[i].delete()
    for i in rnd.sample(range(n), n):      # re-arm some: arming order is not index order
        if arms[i][1] and rnd.random() < 0.5:
            ts[i].mod(arms[i][0])
    saved = [t.vmstate_save() for t in ts]
    dst, dst_fired, td = build()
    for i in rnd.sample(range(n), n):
        td[i].mod(rnd.randint(0, 5))
    for i in rnd.sample(range(n), n):
        td[i].vmstate_load(saved[i])
    dst.next_seq = src.next_seq
    for tl in (src, dst):
        tl.clock.now_ns = 10
        tl.run_due()
    assert dst_fired == src_fired
    assert sorted(src_fired) == [i for i, (_, armed) in enumerate(arms) if armed]
