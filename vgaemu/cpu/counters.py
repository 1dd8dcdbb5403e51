"""The CPU's event counters, per frame and in total (what `vgaemu info` and the profiler show).

The hot paths (generated TB code, the TLB slow paths, the TB cache) bump plain attributes of
one `CPUCounters` object (`counters.instructions += n`): one attribute store, no call.  Those
live attributes count the current frame; `end_frame()` folds them into the running total and
starts the next frame, so the hot paths never touch two places.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

#: Every counter, in the order reports print them.
COUNTER_NAMES = (
    "instructions",      # guest instructions executed (TB path and decode-every-instruction path)
    "tbs_translated",    # translation blocks compiled and inserted into the TB cache
    "tbs_executed",      # blocks entered, translated or interpreted (chained entries included)
    "tbs_chained",       # TB entries reached through a successor link, without a cache lookup
    "tbs_invalidated",   # TBs removed because code under them was written or remapped
    "smc_events",        # writes (by anyone) that hit translated code and invalidated a TB
    "tlb_fills",         # softmmu TLB entries filled from the FlatView
    "tlb_flushes",       # whole-TLB flushes (memory map changes)
    "notdirty_writes",   # CPU stores that took QEMU's NOTDIRTY slow path to a clean RAM page
    "blocks_interpreted",  # block entries run by the first tier, before (or instead of) a TB
)


@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    """The counters at one moment (or over one frame): a plain, comparable record."""

    instructions: int = 0
    tbs_translated: int = 0
    tbs_executed: int = 0
    tbs_chained: int = 0
    tbs_invalidated: int = 0
    smc_events: int = 0
    tlb_fills: int = 0
    tlb_flushes: int = 0
    notdirty_writes: int = 0
    blocks_interpreted: int = 0

    def __add__(self, other: "CounterSnapshot") -> "CounterSnapshot":
        if not isinstance(other, CounterSnapshot):
            return NotImplemented
        return CounterSnapshot(*(getattr(self, n) + getattr(other, n) for n in COUNTER_NAMES))

    def __sub__(self, other: "CounterSnapshot") -> "CounterSnapshot":
        if not isinstance(other, CounterSnapshot):
            return NotImplemented
        return CounterSnapshot(*(getattr(self, n) - getattr(other, n) for n in COUNTER_NAMES))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def describe(self) -> str:
        """One `name value` pair per line, as `vgaemu info` prints them."""
        width = max(map(len, COUNTER_NAMES))
        return "\n".join(f"{n:<{width}} {getattr(self, n)}" for n in COUNTER_NAMES)


assert tuple(f.name for f in fields(CounterSnapshot)) == COUNTER_NAMES


class CPUCounters:
    """Live counters of one CPU.  The attributes named in COUNTER_NAMES count the current
    frame; `frame` and `total` give snapshots, `end_frame()` closes the frame."""

    __slots__ = COUNTER_NAMES + ("_before", "frames", "last_frame")

    def __init__(self):
        for n in COUNTER_NAMES:
            setattr(self, n, 0)
        #: the total of every closed frame
        self._before = CounterSnapshot()
        #: how many frames were closed
        self.frames = 0
        #: the counts of the frame closed last (what the profiler's per-frame row shows)
        self.last_frame = CounterSnapshot()

    @property
    def frame(self) -> CounterSnapshot:
        """The counts since the last `end_frame()`."""
        return CounterSnapshot(*(getattr(self, n) for n in COUNTER_NAMES))

    @property
    def total(self) -> CounterSnapshot:
        """The counts since the counters were created (or `reset()`)."""
        return self._before + self.frame

    def end_frame(self) -> CounterSnapshot:
        """Close the current frame: add it to the total, zero the live counts, and return it."""
        done = self.frame
        self._before = self._before + done
        for n in COUNTER_NAMES:
            setattr(self, n, 0)
        self.frames += 1
        self.last_frame = done
        return done

    def reset(self) -> None:
        """Forget everything (machine reset)."""
        self.__init__()

    def __repr__(self) -> str:
        t = self.total
        return (f"CPUCounters(instructions={t.instructions}, tbs_translated={t.tbs_translated}, "
                f"tbs_invalidated={t.tbs_invalidated}, smc_events={t.smc_events}, "
                f"tlb_fills={t.tlb_fills}, notdirty_writes={t.notdirty_writes})")
