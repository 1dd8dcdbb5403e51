"""IN/OUT: guest ports resolved to their device callbacks once per FlatView of the I/O space.

QEMU's TCG reaches a port through ``address_space_io`` like any MMIO: the FlatView finds the
MemoryRegionSection, memory_region_dispatch_read/write calls the region's ops.  The
AddressSpace's own ld/st fast paths remember only the last io range, so a program that
alternates ports of two devices (the VGA's bit mask and the PIC's EOI) looked the range up
again and again.  Here the CPU keeps, per port, the AddressSpace's ``io_dispatch`` entry --
QEMU's iotlb for the I/O space -- and calls ``ops.read`` / ``ops.write`` itself for an access
that entry says is one unsplit callback; everything else (unassigned ports, split or
big-endian accesses, an access leaving its range) goes through ``address_space_io``'s
ld/st as before, so MemTxResult and the split rules are unchanged.

A MemoryListener on the I/O space drops every entry when its map changes (a PCI BAR move, a
device added), and an entry taken from a view replaced meanwhile is dropped again at once.
"""

from __future__ import annotations

from guestmem import AddressSpace, MemoryListener, MemTxResult
from guestmem.rcu import rcu_read_side

_OK = MemTxResult.OK
#: port -> _NOT_DIRECT when no io region answers there (a hole: the slow path answers)
_NOT_DIRECT = False


class _IOMapListener(MemoryListener):
    def __init__(self, ports: "PortDispatch"):
        self.ports = ports

    def commit(self) -> None:
        self.ports.flush()


class PortDispatch:
    """The CPU's IN/OUT helpers over one I/O AddressSpace: ``inp[size](port)`` and
    ``out[size](port, value)`` for sizes 1, 2, 4, as ``ldub``/``lduw_le``/``ldl_le`` and
    ``stb``/``stw_le``/``stl_le`` of the address space (which they are, for any access the
    cached entry cannot take whole)."""

    def __init__(self, address_space: AddressSpace):
        self.address_space = address_space
        #: port -> the io_dispatch entry of the range there, or _NOT_DIRECT
        self.entries: dict = {}
        #: bumped by every flush (tests and the curious can see the map was followed)
        self.flushes = 0
        as_ = address_space
        self.inp = {1: self._build_in(1, as_.ldub), 2: self._build_in(2, as_.lduw_le),
                    4: self._build_in(4, as_.ldl_le)}
        self.out = {1: self._build_out(1, as_.stb), 2: self._build_out(2, as_.stw_le),
                    4: self._build_out(4, as_.stl_le)}
        self._listener = _IOMapListener(self)
        address_space.register_listener(self._listener)

    def close(self) -> None:
        self.address_space.unregister_listener(self._listener)
        self.flush()

    def flush(self) -> None:
        """The I/O map changed: forget every resolved port (emptied in place: the
        helpers hold the dict)."""
        self.flushes += 1
        self.entries.clear()

    def _resolve(self, port: int):
        """The entry for ``port`` from the current FlatView, remembered unless that view
        was replaced while we looked (a map change in another thread)."""
        as_ = self.address_space
        entry, fv = as_.io_dispatch(port)
        if entry is None:
            entry = _NOT_DIRECT
        entries = self.entries
        entries[port] = entry
        if as_.current_map() is not fv:
            entries.pop(port, None)
        return entry

    def _build_in(self, size: int, slow):
        entries = self.entries
        resolve = self._resolve
        vmask = (1 << (8 * size)) - 1
        align = size - 1

        @rcu_read_side
        def inp(port: int) -> int:
            e = entries.get(port)
            if e is None:
                e = resolve(port)
            if e and e.unit_le & size and port + size <= e.end:
                x = port - e.delta
                if not x & align:
                    return e.ops.read(x, size) & vmask
            return slow(port)

        return inp

    def _build_out(self, size: int, slow):
        entries = self.entries
        resolve = self._resolve
        vmask = (1 << (8 * size)) - 1
        align = size - 1

        @rcu_read_side
        def out(port: int, value: int):
            e = entries.get(port)
            if e is None:
                e = resolve(port)
            if e and e.unit_le & size and port + size <= e.end:
                x = port - e.delta
                if not x & align:
                    e.ops.write(x, value & vmask, size)
                    return _OK
            return slow(port, value)

        return out
