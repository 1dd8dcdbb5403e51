"""MemoryRegion: the tree devices edit (QEMU's system/memory.c, include/exec/memory.h).

Kinds, as in QEMU: ``container`` (only groups subregions), ``ram`` (a RAMBlock, optionally
over a host memory backend), ``rom`` (RAM the guest cannot write: writes are dropped),
``rom_device`` (reads come from its RAM while in romd mode, writes go to its ops), ``io``
(read/write callbacks), ``alias`` (a window onto another region at an offset).

Subregions keep QEMU's list order: sorted by descending priority and, among equal
priorities, the one added (or moved) last comes first -- and therefore wins where they
overlap, because the FlatView renderer lets earlier subregions claim addresses first.

Every change runs inside a transaction; FlatViews are rebuilt once, at the outermost
memory_region_transaction_commit(), only for the address spaces whose tree changed.  The
set of address spaces is held weakly, so independent machines never see each other's
updates and a dropped AddressSpace simply disappears.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import threading
import weakref
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Callable

from .dirty import (DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_NUM,
                    TARGET_PAGE_BITS,
                    DirtyBitmapSnapshot, DirtyClient)
from .errors import DirtyMemoryError, RAMBlockError, RegionError
from .ramblock import RAMBlockFlags, RAMList

UINT64_MAX = (1 << 64) - 1
SIZE_2_64 = 1 << 64


# ------------------------------------------------------------------------------------------
# ops
# ------------------------------------------------------------------------------------------
class Endianness(Enum):
    """Device endianness of an io region (DEVICE_LITTLE/BIG/NATIVE_ENDIAN).  NATIVE is the
    target's order; our target (a PC) is little-endian."""

    LITTLE = "little"
    BIG = "big"
    NATIVE = "native"

    @property
    def is_big(self) -> bool:
        return self is Endianness.BIG

    @property
    def byteorder(self) -> str:
        return "big" if self is Endianness.BIG else "little"


_ACCESS_SIZES = (1, 2, 4, 8)


@dataclass(frozen=True)
class AccessConstraints:
    """MemoryRegionOps.valid / .impl: allowed access sizes and whether unaligned accesses
    are accepted (valid) or can be handled by the callbacks (impl)."""

    min_access_size: int = 1
    max_access_size: int = 4
    unaligned: bool = False

    def check(self, what: str) -> None:
        for name in ("min_access_size", "max_access_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v not in _ACCESS_SIZES:
                raise RegionError(f"{what}.{name} = {v!r}: expected one of {_ACCESS_SIZES}")
        if self.min_access_size > self.max_access_size:
            raise RegionError(f"{what}: min_access_size {self.min_access_size} > max_access_size "
                              f"{self.max_access_size}")


@dataclass
class MemoryRegionOps:
    """Callbacks of an io / rom_device region.

    read(offset, size) -> int and write(offset, value, size) see accesses already split or
    combined to the `impl` sizes; `valid` decides which guest accesses are accepted at all
    (others give MemTxResult.DECODE_ERROR, as memory_region_access_valid does).

    read_block(offset, n) -> np.ndarray (n uint8) and write_block(offset, data: np.ndarray)
    are an extension QEMU does not have and does not need: in C one callback per access unit
    costs nanoseconds, in Python microseconds, so a 64 KiB ``rep stosb`` into the VGA window
    would run 65,536 callbacks. When a region offers them, an access that covers more than
    one implemented access unit (and whose every unit would be valid) is handed over whole,
    as the bytes in guest address order; the hook must give exactly the result of the
    per-unit accesses in address order (state, side effects, dirty bits). ``data`` is a
    read-only view of the caller's buffer, valid only during the call. Without them the
    per-unit split/combine of access_with_adjusted_size is used, as in QEMU.
    """

    read: Callable[[int, int], int] | None = None
    write: Callable[[int, int, int], None] | None = None
    endianness: Endianness = Endianness.LITTLE
    valid: AccessConstraints = field(default_factory=AccessConstraints)
    impl: AccessConstraints = field(default_factory=AccessConstraints)
    read_block: Callable[[int, int], "object"] | None = None
    write_block: Callable[[int, "object"], None] | None = None

    def check(self, what: str = "ops") -> None:
        for name in ("read", "write", "read_block", "write_block"):
            fn = getattr(self, name)
            if fn is not None and not callable(fn):
                raise RegionError(f"{what}.{name} must be callable or None, got {fn!r}")
        if not isinstance(self.endianness, Endianness):
            raise RegionError(f"{what}.endianness must be an Endianness, got {self.endianness!r}")
        for name in ("valid", "impl"):
            c = getattr(self, name)
            if not isinstance(c, AccessConstraints):
                raise RegionError(f"{what}.{name} must be AccessConstraints, got {c!r}")
            c.check(f"{what}.{name}")


def _unassigned_io_read(offset: int, size: int) -> int:
    return UINT64_MAX


def _unassigned_io_write(offset: int, value: int, size: int) -> None:
    return None


#: QEMU's unassigned_io_ops (system/ioport.c): the ops of the I/O address space's root, so a
#: port nobody claims reads all-ones and swallows writes, successfully.
unassigned_io_ops = MemoryRegionOps(read=_unassigned_io_read, write=_unassigned_io_write,
                                    endianness=Endianness.NATIVE)


# ------------------------------------------------------------------------------------------
# transactions and the (weak) set of address spaces
# ------------------------------------------------------------------------------------------
_transaction_depth = 0
_pending_roots: set = set()
_pending_spaces: list = []  # address spaces to rebuild whatever their root (global dirty log)
_address_spaces: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()
_as_serial = itertools.count()


#: Machines may be created in several threads: an insertion while another thread iterates
#: the dictionary would raise "dictionary changed size during iteration".
_address_spaces_lock = threading.Lock()


def _register_address_space(as_) -> None:
    with _address_spaces_lock:
        _address_spaces[next(_as_serial)] = as_


def address_spaces() -> list:
    """The live address spaces, in creation order (QEMU's address_spaces list)."""
    with _address_spaces_lock:
        items = list(_address_spaces.items())
    return [v for _, v in sorted(items, key=lambda kv: kv[0])]


#: Map changes come from one thread at a time (QEMU makes them under the BQL); accesses never
#: take this lock -- they read the published FlatView (see guestmem.rcu).
_map_lock = threading.RLock()


def memory_region_transaction_begin() -> None:
    """Start (or nest) a transaction: FlatViews are rebuilt at the outermost commit only.
    Another thread's transaction waits until this one is committed."""
    global _transaction_depth
    _map_lock.acquire()
    _transaction_depth += 1


def memory_region_transaction_commit() -> None:
    """End a transaction; at depth 0 rebuild the FlatViews of every changed address space and
    tell their MemoryListeners what changed."""
    global _transaction_depth, _pending_roots, _pending_spaces
    if _transaction_depth <= 0 or not _map_lock.acquire(blocking=False):
        raise RegionError("memory_region_transaction_commit() without a matching begin()")
    _map_lock.release()  # the probe's own hold; the one from begin() is released below
    try:
        _transaction_depth -= 1
        if _transaction_depth:
            return
        while _pending_roots or _pending_spaces:
            roots, spaces = _pending_roots, _pending_spaces
            _pending_roots, _pending_spaces = set(), []
            views: dict = {}
            _transaction_depth += 1  # listeners may edit the map; their edits land in a new round
            try:
                for as_ in address_spaces():
                    if as_.root in roots or any(as_ is s for s in spaces):
                        as_._update_topology(views)
            finally:
                _transaction_depth -= 1
    finally:
        _map_lock.release()


def memory_region_transaction_active() -> bool:
    """Is the calling thread inside a transaction, with changes not yet published?"""
    if not _map_lock.acquire(blocking=False):
        return False  # another thread's transaction
    try:
        return _transaction_depth > 0
    finally:
        _map_lock.release()


@contextlib.contextmanager
def memory_region_transaction():
    """`with memory_region_transaction(): ...` -- begin/commit as a context manager."""
    memory_region_transaction_begin()
    try:
        yield
    finally:
        memory_region_transaction_commit()


def _roots_of(mr: "MemoryRegion") -> set:
    """Top-level regions whose rendering can include `mr` (through containers and aliases)."""
    roots, seen, stack = set(), set(), [mr]
    while stack:
        r = stack.pop()
        if id(r) in seen:
            continue
        seen.add(id(r))
        stack.extend(r._aliased_by)
        if r.container is None:
            roots.add(r)
        else:
            stack.append(r.container)
    return roots


def _changed(mr: "MemoryRegion") -> None:
    _pending_roots.update(_roots_of(mr))


def _global_dirty_log_changed(ram_list: RAMList) -> None:
    """memory_global_dirty_log_start/stop: masks of every RAM range change, so rebuild; tell
    listeners through log_global_start/stop."""
    on = ram_list.global_dirty_log
    memory_region_transaction_begin()
    try:
        for as_ in address_spaces():
            if ram_list in as_._ram_lists:
                as_._pending_global_log(on)
                _pending_spaces.append(as_)
    finally:
        memory_region_transaction_commit()


def memory_global_dirty_log_sync(ram_list: RAMList | None = None) -> None:
    """memory_global_dirty_log_sync: run every listener's log_sync over the RAM sections."""
    for as_ in address_spaces():
        if ram_list is None or ram_list in as_._ram_lists:
            as_._log_sync(None)


# ------------------------------------------------------------------------------------------
# listeners
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MemoryRegionSection:
    """One FlatRange as a listener sees it (QEMU's MemoryRegionSection)."""

    mr: "MemoryRegion"
    address_space: object
    offset_within_region: int
    size: int
    offset_within_address_space: int
    readonly: bool
    dirty_log_mask: int = 0
    #: for log_start/log_stop: the mask before the change
    old_dirty_log_mask: int | None = None


class MemoryListener:
    """Follows the map of one AddressSpace (AddressSpace.register_listener).

    Override what you need.  region_add/region_del come per FlatRange; log_start/log_stop
    when a range's dirty_log_mask gains/loses clients (section.old_dirty_log_mask holds the
    previous mask); log_sync before dirty bits of a region are read; begin/commit bracket
    each topology update.
    """

    priority = 0

    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def region_add(self, section: MemoryRegionSection) -> None: ...
    def region_del(self, section: MemoryRegionSection) -> None: ...
    def region_nop(self, section: MemoryRegionSection) -> None: ...
    def log_start(self, section: MemoryRegionSection) -> None: ...
    def log_stop(self, section: MemoryRegionSection) -> None: ...
    def log_sync(self, section: MemoryRegionSection) -> None: ...
    def log_global_start(self) -> None: ...
    def log_global_stop(self) -> None: ...


# ------------------------------------------------------------------------------------------
# MemoryRegion
# ------------------------------------------------------------------------------------------
def _int(what: str, v) -> int:
    if isinstance(v, bool):
        raise RegionError(f"{what} {v!r} is not an integer")
    try:
        return operator.index(v)
    except TypeError:
        raise RegionError(f"{what} {v!r} is not an integer") from None


def _size(what: str, v) -> int:
    v = _int(what, v)
    if v == UINT64_MAX:
        return SIZE_2_64  # memory_region_init: UINT64_MAX means the full 2^64
    if not 0 <= v <= SIZE_2_64:
        raise RegionError(f"{what} {v:#x} out of range: expected 0..2^64")
    return v


def _client(client) -> int:
    if isinstance(client, bool):
        raise RegionError(f"unknown dirty client {client!r}")
    try:
        c = operator.index(client)
    except TypeError:
        raise RegionError(f"unknown dirty client {client!r}: expected a DirtyClient") from None
    if not 0 <= c < DIRTY_MEMORY_NUM:
        raise RegionError(f"unknown dirty client {client!r}: expected one of "
                          f"{[f'{m.name}={m.value}' for m in DirtyClient]}")
    return c


class RegionKind(StrEnum):
    """What a MemoryRegion is (QEMU tells them apart by ram/rom_device/ops/alias fields).
    A StrEnum, so ``mr.kind == "io"`` keeps working."""

    CONTAINER = "container"
    RAM = "ram"
    ROM = "rom"
    ROM_DEVICE = "rom_device"
    IO = "io"
    ALIAS = "alias"


_RAM_KINDS = (RegionKind.RAM, RegionKind.ROM)


class MemoryRegion:
    """A node of the memory tree.  Build with the classmethods container/ram/rom/rom_device/
    io/alias; map with add_subregion; read the result through an AddressSpace."""

    def __init__(self, name: str, size: int, kind: RegionKind | str = RegionKind.CONTAINER):
        if not isinstance(name, str):
            raise RegionError(f"region name must be a string, got {name!r}")
        try:
            kind = RegionKind(kind)
        except ValueError:
            raise RegionError(f"region {name!r}: unknown kind {kind!r}: expected one of "
                              f"{', '.join(k.value for k in RegionKind)}") from None
        self.name = name
        self.size = _size(f"size of region {name!r}", size)
        self.kind = kind
        self.addr = 0
        self.priority = 0
        self.enabled = True
        self.container: MemoryRegion | None = None
        self.subregions: list[MemoryRegion] = []
        self.ram_block = None
        self.ram_list: RAMList | None = None
        self.backend = None
        self.readonly = False
        self.romd_mode = True
        self.terminates = False
        self.ops: MemoryRegionOps | None = None
        self.alias: MemoryRegion | None = None
        self.alias_offset = 0
        self.dirty_log_mask = 0
        self.nonvolatile = False
        self._aliased_by: weakref.WeakSet = weakref.WeakSet()
        self._dead = False

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def container(cls, name: str, size: int) -> "MemoryRegion":
        """memory_region_init: a pure container."""
        return cls(name, size, RegionKind.CONTAINER)

    @classmethod
    def _with_ram(cls, name, size, kind, ram_list, backend=None, max_size=None):
        mr = cls(name, size, kind)
        if not isinstance(ram_list, RAMList):
            raise RegionError(f"region {name!r}: ram_list must be a RAMList, got {ram_list!r}")
        if mr.size == 0:
            raise RegionError(f"region {name!r}: RAM size must be positive")
        if backend is not None:
            bsize = getattr(backend, "size", None)
            if not isinstance(bsize, int) or getattr(backend, "host", None) is None:
                raise RegionError(f"region {name!r}: backend {backend!r} has no host memory")
            if mr.size > bsize:
                raise RegionError(f"region {name!r}: size {mr.size:#x} is larger than backend "
                                  f"{getattr(backend, 'id', '?')!r} ({bsize:#x} bytes)")
            if max_size is not None:
                raise RegionError(f"region {name!r}: a backend-backed region cannot be resizeable")
        block = ram_list.ram_block_add(name, mr.size, max_size=max_size, mr=mr, backend=backend)
        ram_list.add_global_log_observer(_global_dirty_log_changed)
        mr.ram_block = block
        mr.ram_list = ram_list
        mr.backend = backend
        mr.terminates = True
        if block.flags & RAMBlockFlags.READONLY:
            mr.readonly = True
        return mr

    @classmethod
    def ram(cls, name: str, size: int, *, ram_list: RAMList, backend=None,
            max_size: int | None = None) -> "MemoryRegion":
        """memory_region_init_ram / _resizeable_ram / host_memory_backend_get_memory."""
        return cls._with_ram(name, size, RegionKind.RAM, ram_list, backend, max_size)

    @classmethod
    def rom(cls, name: str, size: int, *, ram_list: RAMList) -> "MemoryRegion":
        """memory_region_init_rom: RAM the guest reads; guest writes are dropped."""
        mr = cls._with_ram(name, size, RegionKind.ROM, ram_list)
        mr.readonly = True
        return mr

    @classmethod
    def rom_device(cls, name: str, size: int, ops: MemoryRegionOps, *,
                   ram_list: RAMList) -> "MemoryRegion":
        """memory_region_init_rom_device: reads from RAM in romd mode, writes to `ops`."""
        if not isinstance(ops, MemoryRegionOps):
            raise RegionError(f"region {name!r}: ops must be MemoryRegionOps, got {ops!r}")
        ops.check(f"region {name!r} ops")
        mr = cls._with_ram(name, size, RegionKind.ROM_DEVICE, ram_list)
        mr.ops = ops
        return mr

    @classmethod
    def io(cls, name: str, size: int, ops: MemoryRegionOps) -> "MemoryRegion":
        """memory_region_init_io."""
        if not isinstance(ops, MemoryRegionOps):
            raise RegionError(f"region {name!r}: ops must be MemoryRegionOps, got {ops!r}")
        ops.check(f"region {name!r} ops")
        mr = cls(name, size, RegionKind.IO)
        mr.ops = ops
        mr.terminates = True
        return mr

    @classmethod
    def alias(cls, name: str, target: "MemoryRegion", offset: int, size: int) -> "MemoryRegion":
        """memory_region_init_alias: [offset, offset+size) of `target`."""
        if not isinstance(target, MemoryRegion):
            raise RegionError(f"alias {name!r}: target must be a MemoryRegion, got {target!r}")
        mr = cls(name, size, RegionKind.ALIAS)
        offset = _int(f"alias {name!r} offset", offset)
        if offset < 0 or offset + mr.size > target.size:
            raise RegionError(f"alias {name!r}: window {offset:#x}+{mr.size:#x} is outside target "
                              f"{target.name!r} (size {target.size:#x})")
        mr.alias = target
        mr.alias_offset = offset
        target._aliased_by.add(mr)
        return mr

    # -- predicates ------------------------------------------------------------------------
    def is_ram(self) -> bool:
        """memory_region_is_ram (ram and rom; not rom_device)."""
        return self.kind in _RAM_KINDS

    def is_rom(self) -> bool:
        return self.is_ram() and self.readonly

    def is_romd(self) -> bool:
        return self.kind is RegionKind.ROM_DEVICE and self.romd_mode

    def type_name(self, legacy: bool = False) -> str:
        """memory_region_type, as `info mtree` prints it.  Current QEMU calls a region with
        no container (a tree's root) "container"; before that change (QEMU <= 10.x, e.g. the
        7.2 packaged by Debian) it said "i/o" -- pass legacy=True for that."""
        if self.alias is not None:
            return self.alias.type_name(legacy)
        if self.is_romd():
            return "romd"
        if self.is_rom():
            return "rom"
        if self.is_ram():
            return "ram"
        if self.container is None and not legacy:
            return "container"
        return "i/o"

    def effective_dirty_log_mask(self) -> int:
        """memory_region_get_dirty_log_mask: VGA (set_log) plus MIGRATION while the machine's
        global dirty log runs, plus CODE for every RAM-backed region (TCG always tracks it)."""
        mask = self.dirty_log_mask
        rb = self.ram_block
        if rb is not None:
            if self.ram_list is not None and self.ram_list.global_dirty_log:
                mask |= 1 << DIRTY_MEMORY_MIGRATION
            mask |= 1 << DIRTY_MEMORY_CODE
        return mask

    def _is_mapped(self) -> bool:
        if self.container is not None:
            return True
        return any(a._is_mapped() for a in list(self._aliased_by))

    def _ancestors(self) -> set:
        out, r = set(), self
        while r is not None:
            out.add(id(r))
            r = r.container
        return out

    def _reaches(self, targets: set) -> bool:
        seen, stack = set(), [self]
        while stack:
            r = stack.pop()
            if id(r) in targets:
                return True
            if id(r) in seen:
                continue
            seen.add(id(r))
            stack.extend(r.subregions)
            if r.alias is not None:
                stack.append(r.alias)
        return False

    def _check_alive(self) -> None:
        if self._dead:
            raise RegionError(f"region {self.name!r}: its RAMBlock has been freed")

    # -- tree edits ------------------------------------------------------------------------
    def _insert_sorted(self, sub: "MemoryRegion") -> None:
        subs = self.subregions
        for i, other in enumerate(subs):
            if sub.priority >= other.priority:
                subs.insert(i, sub)
                return
        subs.append(sub)

    def add_subregion(self, offset: int, mr: "MemoryRegion", priority: int = 0) -> None:
        """memory_region_add_subregion(_overlap): map `mr` at `offset` inside this region.
        Higher priority wins where subregions overlap; among equals the newest wins."""
        if not isinstance(mr, MemoryRegion):
            raise RegionError(f"add_subregion: {mr!r} is not a MemoryRegion")
        offset = _int(f"offset of {mr.name!r}", offset)
        priority = _int(f"priority of {mr.name!r}", priority)
        if self.alias is not None:
            raise RegionError(f"cannot add {mr.name!r} to alias {self.name!r}: aliases have no "
                              f"subregions")
        if mr.container is not None:
            raise RegionError(f"region {mr.name!r} is already a subregion of "
                              f"{mr.container.name!r}; del_subregion it first")
        if mr is self or mr._reaches(self._ancestors()):
            raise RegionError(f"adding {mr.name!r} to {self.name!r} would make the memory tree "
                              f"a cycle")
        mr._check_alive()
        if offset < 0 or offset + mr.size > self.size:
            raise RegionError(f"region {mr.name!r} ({mr.size:#x} bytes) at offset {offset:#x} does "
                              f"not fit in {self.name!r} (size {self.size:#x})")
        with memory_region_transaction():
            mr.addr = offset
            mr.priority = priority
            mr.container = self
            self._insert_sorted(mr)
            _changed(self)

    add_subregion_overlap = add_subregion

    def del_subregion(self, mr: "MemoryRegion") -> None:
        """memory_region_del_subregion."""
        if not isinstance(mr, MemoryRegion) or mr.container is not self:
            name = getattr(mr, "name", mr)
            raise RegionError(f"region {name!r} is not a subregion of {self.name!r}")
        with memory_region_transaction():
            _changed(self)
            self.subregions.remove(mr)
            mr.container = None

    def set_enabled(self, enabled: bool) -> None:
        """memory_region_set_enabled: a disabled region (and its subtree) is not rendered."""
        enabled = bool(enabled)
        if enabled == self.enabled:
            return
        with memory_region_transaction():
            self.enabled = enabled
            _changed(self)

    def set_address(self, addr: int) -> None:
        """memory_region_set_address: move within the container; the moved region becomes
        the newest among its priority (QEMU re-adds it)."""
        addr = _int(f"address of {self.name!r}", addr)
        c = self.container
        if c is not None and (addr < 0 or addr + self.size > c.size):
            raise RegionError(f"region {self.name!r} ({self.size:#x} bytes) at {addr:#x} does not "
                              f"fit in {c.name!r} (size {c.size:#x})")
        if c is None and addr < 0:
            raise RegionError(f"address {addr:#x} of {self.name!r} is negative")
        if addr == self.addr:
            return
        with memory_region_transaction():
            self.addr = addr
            if c is not None:
                c.subregions.remove(self)
                c._insert_sorted(self)
                _changed(c)

    def _check_size(self, size: int, from_block: bool = False) -> None:
        c = self.container
        if c is not None and self.addr + size > c.size:
            raise RegionError(f"size {size:#x} makes {self.name!r} overflow its container "
                              f"{c.name!r} (offset {self.addr:#x}, size {c.size:#x})")
        for s in self.subregions:
            if s.addr + s.size > size:
                raise RegionError(f"size {size:#x} of {self.name!r} would cut off subregion "
                                  f"{s.name!r} at {s.addr:#x}+{s.size:#x}")
        if self.alias is not None and self.alias_offset + size > self.alias.size:
            raise RegionError(f"alias {self.name!r}: window {self.alias_offset:#x}+{size:#x} is "
                              f"outside target {self.alias.name!r} (size {self.alias.size:#x})")
        if self.ram_block is not None and not from_block and size > self.ram_block.used_length:
            raise RegionError(f"size {size:#x} of {self.name!r} exceeds its RAMBlock's used length "
                              f"{self.ram_block.used_length:#x} (use ram_resize)")
        if self.ram_block is not None and size == 0:
            raise RegionError(f"RAM region {self.name!r} cannot have size 0")

    def set_size(self, size: int) -> None:
        """memory_region_set_size."""
        size = _size(f"size of {self.name!r}", size)
        self._check_size(size)
        if size == self.size:
            return
        with memory_region_transaction():
            self.size = size
            _changed(self)

    def _check_block_resize(self, size: int) -> None:
        self._check_size(size, from_block=True)

    def _set_size_from_block(self, size: int) -> None:
        with memory_region_transaction():
            self.size = size
            _changed(self)

    def ram_resize(self, new_size: int) -> None:
        """memory_region_ram_resize -> qemu_ram_resize (resizeable RAM only)."""
        if self.ram_block is None:
            raise RegionError(f"region {self.name!r} has no RAMBlock to resize")
        self._check_alive()
        try:
            self.ram_block.resize(new_size)
        except RAMBlockError as e:
            raise RegionError(str(e)) from None

    def set_alias_offset(self, offset: int) -> None:
        """memory_region_set_alias_offset."""
        if self.alias is None:
            raise RegionError(f"region {self.name!r} is not an alias")
        offset = _int(f"alias offset of {self.name!r}", offset)
        if offset < 0 or offset + self.size > self.alias.size:
            raise RegionError(f"alias {self.name!r}: window {offset:#x}+{self.size:#x} is outside "
                              f"target {self.alias.name!r} (size {self.alias.size:#x})")
        if offset == self.alias_offset:
            return
        with memory_region_transaction():
            self.alias_offset = offset
            _changed(self)

    def set_readonly(self, readonly: bool) -> None:
        """memory_region_set_readonly."""
        readonly = bool(readonly)
        if readonly == self.readonly:
            return
        with memory_region_transaction():
            self.readonly = readonly
            _changed(self)

    def rom_device_set_romd(self, romd_mode: bool) -> None:
        """memory_region_rom_device_set_romd: leave romd mode to send reads to the ops too."""
        if self.kind is not RegionKind.ROM_DEVICE:
            raise RegionError(f"region {self.name!r} is not a rom_device")
        romd_mode = bool(romd_mode)
        if romd_mode == self.romd_mode:
            return
        with memory_region_transaction():
            self.romd_mode = romd_mode
            _changed(self)

    # -- RAM and dirty logging -------------------------------------------------------------
    def _ram_target(self) -> tuple["MemoryRegion", int]:
        mr, off = self, 0
        while mr.alias is not None:
            off += mr.alias_offset
            mr = mr.alias
        if mr.ram_block is None:
            raise RegionError(f"region {self.name!r} is not backed by RAM")
        mr._check_alive()
        return mr, off

    def get_ram_addr(self) -> int:
        """memory_region_get_ram_addr: where this region starts in the ram_addr space."""
        mr, off = self._ram_target()
        return mr.ram_block.offset + off

    def _ram_range(self, addr, size) -> tuple["MemoryRegion", int, int]:
        addr = _int("address", addr)
        size = _int("size", size)
        if addr < 0 or size < 0 or addr + size > self.size:
            raise RegionError(f"range {addr:#x}+{size:#x} is outside region {self.name!r} "
                              f"(size {self.size:#x})")
        mr, off = self._ram_target()
        return mr, mr.ram_block.offset + off + addr, size

    def get_ram_ptr(self):
        """memory_region_get_ram_ptr: a numpy uint8 view of this region's host memory (writes
        through it are not dirty-tracked: call set_dirty)."""
        mr, off = self._ram_target()
        return mr.ram_block.host[off:off + self.size]

    def set_log(self, log: bool, client) -> None:
        """memory_region_set_log: turn dirty logging for `client` on or off.  CODE is always
        on for RAM (TCG); MIGRATION normally follows RAMList.global_dirty_log_start().  On an
        alias it applies to the aliased RAM region."""
        c = _client(client)
        if c == DIRTY_MEMORY_CODE:
            raise RegionError("DirtyClient.CODE cannot be set per region: CODE is always "
                              "tracked for RAM, as under TCG")
        mr = self
        while mr.alias is not None:
            mr = mr.alias
        old = mr.dirty_log_mask
        new = (old | (1 << c)) if log else (old & ~(1 << c))
        if new == old:
            return
        with memory_region_transaction():
            mr.dirty_log_mask = new
            _changed(mr)

    def get_dirty(self, addr: int, size: int, client) -> bool:
        """memory_region_get_dirty: is any page of [addr, addr+size) dirty for `client`?"""
        c = _client(client)
        mr, start, size = self._ram_range(addr, size)
        return mr.ram_list.dirty.get_dirty(start, size, c)

    def set_dirty(self, addr: int, size: int) -> None:
        """memory_region_set_dirty: mark for every client that logs this region.

        Devices call this after every store into their own RAM (the VGA window marks VRAM
        per access), so a RAM region's in-range int arguments skip the general checks and go
        straight to DirtyMemory.set_dirty_range, whose small-range path needs no lock for a
        page that is already dirty."""
        rb = self.ram_block
        if (rb is not None and type(addr) is int and type(size) is int and 0 <= addr
                and 0 < size and addr + size <= self.size and not self._dead):
            self.ram_list.dirty.set_dirty_range(rb.offset + addr, size,
                                                self.effective_dirty_log_mask())
            return
        mr, start, size = self._ram_range(addr, size)
        mr.ram_list.dirty.set_dirty_range(start, size, mr.effective_dirty_log_mask())

    def dirty_setter(self) -> Callable[[int, int], None]:
        """A ``set_dirty(addr, size)`` for a device that marks its own RAM after every small
        store (the VGA's planar window, once per byte): the same marks as
        :meth:`set_dirty`, but a store into the page it last found dirty for every client
        returns at once while that page's ClearEpoch lives and the region's log mask and
        the global dirty log are as they were -- QEMU's TLB entry without NOTDIRTY, for a
        device.  The remembered page is one tuple, replaced whole (threads see one)."""
        if self.ram_block is None:
            raise RegionError(f"region {self.name!r} has no RAM to mark dirty")
        mr = self
        ram_list = self.ram_list
        last = [(None, None, None, None)]  # no page: a negative addr >> 12 can be -1

        def set_dirty(addr: int, size: int) -> None:
            page, epoch, log_mask, global_log = last[0]
            try:
                if (addr >> TARGET_PAGE_BITS == page and epoch.live
                        and (addr + size - 1) >> TARGET_PAGE_BITS == page
                        and mr.dirty_log_mask == log_mask
                        and ram_list.global_dirty_log == global_log):
                    return
            except TypeError:  # not integers: set_dirty names the bad value
                mr.set_dirty(addr, size)
                return
            log_mask, global_log = mr.dirty_log_mask, ram_list.global_dirty_log
            rb = mr.ram_block
            if (rb is not None and type(addr) is int and type(size) is int and 0 <= addr
                    and 0 < size and addr + size <= mr.size and not mr._dead):
                epoch = ram_list.dirty.set_dirty_range(rb.offset + addr, size,
                                                       mr.effective_dirty_log_mask())
                # (a ram_addr page is a region page: blocks start on page boundaries)
                if epoch is not None:
                    last[0] = (addr >> TARGET_PAGE_BITS, epoch, log_mask, global_log)
                return
            mr.set_dirty(addr, size)

        return set_dirty

    def reset_dirty(self, addr: int, size: int, client) -> None:
        """memory_region_reset_dirty."""
        c = _client(client)
        mr, start, size = self._ram_range(addr, size)
        mr.ram_list.dirty.reset_dirty_range(start, size, c)

    def test_and_clear_dirty(self, addr: int, size: int, client) -> bool:
        """memory_region_test_and_clear_dirty."""
        c = _client(client)
        mr, start, size = self._ram_range(addr, size)
        _log_sync_region(mr)
        return mr.ram_list.dirty.test_and_clear_dirty(start, size, c)

    def snapshot_and_clear_dirty(self, addr: int, size: int, client) -> DirtyBitmapSnapshot:
        """memory_region_snapshot_and_clear_dirty: sync the listeners' logs, then copy and
        clear the client's bits over [addr, addr+size) (page-aligned hull) atomically."""
        rb = self.ram_block
        if (rb is not None and type(addr) is int and type(size) is int
                and (type(client) is int or type(client) is DirtyClient)
                and 0 <= client < DIRTY_MEMORY_NUM and 0 <= addr and 0 < size
                and addr + size <= self.size and not self._dead):
            # A display loop's once-per-frame call: DirtyMemory takes its int fast path.
            _log_sync_region(self)
            return self.ram_list.dirty.snapshot_and_clear_dirty(rb.offset + addr, size, client)
        c = _client(client)
        mr, start, size = self._ram_range(addr, size)
        _log_sync_region(mr)
        return mr.ram_list.dirty.snapshot_and_clear_dirty(start, size, c)

    def sync_dirty_log(self) -> None:
        """memory_region_sync_dirty_bitmap: let MemoryListeners fold their dirty logs into
        the bitmaps (what snapshot_and_clear_dirty does first). A display loop calls it
        before testing the bitmap itself, so an idle frame builds no snapshot."""
        if _log_sync_spaces:  # _log_sync_region's own first test, without its call
            _log_sync_region(self)

    def snapshot_get_dirty(self, snap: DirtyBitmapSnapshot, addr: int, size: int) -> bool:
        """memory_region_snapshot_get_dirty: was any page of [addr, addr+size) dirty in `snap`?"""
        if not isinstance(snap, DirtyBitmapSnapshot):
            raise RegionError(f"{snap!r} is not a DirtyBitmapSnapshot")
        mr, start, size = self._ram_range(addr, size)
        try:
            return snap.get_dirty(start, size)
        except DirtyMemoryError as e:
            raise RegionError(f"region {self.name!r}: {e}") from None

    def _block_freed(self) -> None:
        self._dead = True

    def __repr__(self) -> str:
        extra = f" -> {self.alias.name!r}@{self.alias_offset:#x}" if self.alias is not None else ""
        return (f"<MemoryRegion {self.kind.value} {self.name!r} size={self.size:#x} addr={self.addr:#x} "
                f"prio={self.priority}{extra}{'' if self.enabled else ' disabled'}>")


#: Address spaces that have a listener with a log_sync hook, as weak references that take
#: themselves out when their space dies. Empty in most machines: then a dirty-log sync -- run
#: before every display snapshot -- is one test of a plain set (a WeakSet's would be a Python
#: call to its __len__).
_log_sync_spaces: set[weakref.ref] = set()


def _note_log_sync(as_, has_log_sync: bool) -> None:
    ref = as_._log_sync_ref
    if ref is None:
        ref = as_._log_sync_ref = weakref.ref(as_, _log_sync_spaces.discard)
    if has_log_sync:
        _log_sync_spaces.add(ref)
    else:
        _log_sync_spaces.discard(ref)


def _log_sync_region(mr: MemoryRegion) -> None:
    """memory_region_sync_dirty_log: let listeners fold their logs into the bitmaps."""
    if not _log_sync_spaces:
        return
    for as_ in address_spaces():
        if as_._has_log_sync:
            as_._log_sync(mr)
