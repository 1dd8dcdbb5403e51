"""The x86 CPU of the machine: a 386 in real-address mode whose code runs as translation
blocks compiled to Python, over a softmmu TLB that follows QEMU's NOTDIRTY protocol.

- :mod:`.state` registers, flags and the lazy condition codes;
- :mod:`.decode` the instruction decoder; :mod:`.translate` the TB code generator;
- :mod:`.cpu` :class:`X86CPU` (run loop, interrupts, string instructions);
- :mod:`.tlb` the softmmu TLB, :mod:`.tb` translation blocks and the TB cache guarded by
  the CODE dirty bitmap, :mod:`.counters` the per-frame counters.
"""

from .counters import CounterSnapshot, CPUCounters
from .cpu import CPUError, X86CPU
from .tb import TBCache, TranslationBlock
from .tlb import SoftTLB
from .translate import UnimplementedInstruction

__all__ = ["CPUCounters", "CounterSnapshot", "CPUError", "SoftTLB", "TBCache",
           "TranslationBlock", "UnimplementedInstruction", "X86CPU"]
