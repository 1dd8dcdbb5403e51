"""CPUCounters: live per-frame counts, totals across frames, snapshots."""

from vgaemu.cpu.counters import COUNTER_NAMES, CounterSnapshot, CPUCounters


def test_frames_and_totals():
    c = CPUCounters()
    assert c.frame == CounterSnapshot() and c.total == CounterSnapshot()
    c.instructions += 100
    c.tlb_fills += 2
    assert c.frame.instructions == 100 and c.total.instructions == 100
    done = c.end_frame()
    assert done.instructions == 100 and done.tlb_fills == 2
    assert c.last_frame == done and c.frames == 1
    assert c.frame == CounterSnapshot() and c.instructions == 0
    c.instructions += 5
    c.smc_events += 1
    assert c.total.instructions == 105 and c.total.smc_events == 1 and c.total.tlb_fills == 2
    assert c.frame.instructions == 5
    c.reset()
    assert c.total == CounterSnapshot() and c.frames == 0


def test_snapshot_arithmetic_and_report():
    a = CounterSnapshot(instructions=10, notdirty_writes=3)
    b = CounterSnapshot(instructions=4, notdirty_writes=1)
    assert (a - b).instructions == 6 and (a + b).notdirty_writes == 4
    d = a.as_dict()
    assert tuple(d) == COUNTER_NAMES and d["instructions"] == 10
    text = a.describe()
    assert text.splitlines()[0].split() == ["instructions", "10"]
    assert len(text.splitlines()) == len(COUNTER_NAMES)
    assert "instructions=0" in repr(CPUCounters())
