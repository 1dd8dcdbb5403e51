"""The pc machine's RAM: initial RAM from ``-m``, the device-memory region and pc-dimm hotplug.

Follows QEMU's pc machine:

* Initial RAM (hw/core/machine.c create_default_memdev + hw/i386/pc_piix.c pc_init1 +
  hw/i386/pc.c pc_memory_init): one memory-backend-ram ``pc.ram`` (or the backend named by
  ``memdev=``) whose RAM region is mapped through two aliases, ``ram-below-4g`` at 0 and
  ``ram-above-4g`` at 4 GiB, split at the lowmem limit (3.5 GiB, moved down to 3 GiB when
  the RAM does not fit below it).  It is not a device and cannot be unplugged.
* Device memory (pc_get_device_memory_range / machine_memory_devices_init): present when
  ``maxmem > size``; base = ROUND_UP(4 GiB + above-4g RAM, 1 GiB), size = (maxmem - size)
  + 1 GiB per slot (room for 1 GiB-aligned DIMMs), a container named ``device-memory``.
* pc-dimm plug (pc_dimm_pre_plug / memory_device_pre_plug / memory_device_get_free_addr):
  a free slot (or the one asked for), the first free address aligned to the backend's
  alignment (or the one asked for), the backend's RAM region mapped into device-memory.
  Every check runs before anything changes, so a failed plug leaves no trace.
* A backend's RAM region -- and so its RAMBlock -- is made when the backend is
  (host_memory_backend_memory_complete): ``-object`` backends get their ram_addr_t range
  before the machine's ``pc.ram``, as QEMU creates them first.  Unplug frees the slot and
  the address range; the backend keeps its RAMBlock (and its data) until ``object-del``.

A MachineMemory holds all its state itself: two instances (say a migration source and
destination) share no backend, RAMBlock or map.
"""

from __future__ import annotations

from typing import Any, Iterable

from .backends import HostMemoryBackend, MemoryBackendFile, MemoryBackendRam
from .dimm import (
    ACPI_MAX_RAM_SLOTS, GiB, RAM_ADDR_MAX, MemoryOpts, PCDIMM,
    parse_device_opts, parse_memory_opts, parse_object_opts,
)
from .rcu import synchronize_rcu
from .region import (MemoryRegion, memory_region_transaction_active,
                     memory_region_transaction_begin, memory_region_transaction_commit)

from .errors import BackendError, DeviceError, GuestMemError, MemoryConfigError, RAMBlockError

__all__ = ["MachineMemory", "PC_DEFAULT_RAM_ID", "PC_MAX_RAM_BELOW_4G", "FOUR_GIB"]

#: MachineClass.default_ram_id of the pc machines
PC_DEFAULT_RAM_ID = "pc.ram"
#: pc_piix.c: default max-ram-below-4g (3.5 GiB) and the gigabyte-aligned split (3 GiB)
PC_MAX_RAM_BELOW_4G = 0xE0000000
_PC_GIGABYTE_LOWMEM = 0xC0000000
FOUR_GIB = 1 << 32


def _align_up(x: int, a: int) -> int:
    return -(-x // a) * a


class MachineMemory:
    """Guest RAM of a pc machine: ``-m``, ``-object memory-backend-*``, ``-device pc-dimm``.

    ``memory`` is the ``-m`` value (string, byte count, MemoryOpts or None for 128 MiB).
    ``objects`` are backends or ``-object`` strings (strings make backends this machine
    owns and closes), ``devices`` are PCDIMMs or ``-device`` strings plugged cold
    (hotplugged=False).  ``memdev`` names a backend for initial RAM (QEMU's
    ``-machine memory-backend=``); ``mem_path`` makes the default RAM a file backend
    (QEMU's ``-mem-path``).
    """

    def __init__(self, memory: str | int | MemoryOpts | None = None, *, ram_list: Any,
                 system_memory: MemoryRegion,
                 objects: Iterable[str | HostMemoryBackend] = (),
                 devices: Iterable[str | PCDIMM] = (),
                 memdev: str | HostMemoryBackend | None = None,
                 mem_path: str | None = None,
                 max_ram_below_4g: int = PC_MAX_RAM_BELOW_4G,
                 max_slots: int = ACPI_MAX_RAM_SLOTS) -> None:
        self.opts = parse_memory_opts(memory, max_slots=max_slots)
        self.ram_list = ram_list
        self.system_memory = system_memory
        self.backends: dict[str, HostMemoryBackend] = {}
        self._owned: set[str] = set()
        self._dimms: list[PCDIMM] = []
        #: backend id -> the RAM region (owner of its RAMBlock) the backend got when it was
        #: created; plugging maps it, object-del frees it
        self._backend_mrs: dict[str, MemoryRegion] = {}
        self._closed = False

        cold = [parse_device_opts(d) if isinstance(d, str) else d for d in devices]
        for d in cold:
            if not isinstance(d, PCDIMM):
                raise MemoryConfigError(f"devices: expected PCDIMM or -device string, got {d!r}")
        created: list[HostMemoryBackend] = []
        try:
            for obj in objects:
                b = self.add_object(obj)
                if isinstance(obj, str):
                    created.append(b)
            self._init_ram(memdev, mem_path, max_ram_below_4g)
            try:
                for d in cold:
                    self.plug(d, hotplugged=False)
            except BaseException:
                self._teardown()
                raise
        except BaseException:
            # Close what this constructor made (the -object backends and pc.ram); backends
            # the caller passed in stay open and unmapped.
            for mr in self._backend_mrs.values():
                self._free_ram_region(mr)
            self._backend_mrs.clear()
            for b in created + [self.backends[i] for i in self._owned if i in self.backends]:
                if not b.is_mapped:
                    b.close()
            self.backends.clear()
            self._owned.clear()
            self._closed = True
            raise

    # -- initial RAM ---------------------------------------------------------------------
    def _init_ram(self, memdev: str | HostMemoryBackend | None, mem_path: str | None,
                  max_ram_below_4g: int) -> None:
        ram_size = self.opts.size
        if memdev is not None:
            backend = self._resolve_backend(memdev, "-machine memory-backend")
            if backend.size != ram_size:
                raise MemoryConfigError(
                    f"Machine memory size (0x{ram_size:x}) does not match the size of the "
                    f"memory backend '{backend.id}' (0x{backend.size:x})")
            if backend.is_mapped:
                raise MemoryConfigError(f"memory backend {backend.id} can't be used multiple "
                                        "times.")
            owned = False
            ram_mr = self._backend_mrs.get(backend.id)
        else:
            if PC_DEFAULT_RAM_ID in self.backends:
                raise MemoryConfigError(
                    f"object name '{PC_DEFAULT_RAM_ID}' is reserved for the default RAM "
                    "backend, it can't be used for any other purposes. Change the object's "
                    "'id' to something else")
            try:
                if mem_path is not None:
                    backend = MemoryBackendFile(PC_DEFAULT_RAM_ID, ram_size, mem_path)
                else:
                    backend = MemoryBackendRam(PC_DEFAULT_RAM_ID, ram_size)
            except BackendError as e:
                raise MemoryConfigError(f"-m: {e}") from e
            owned = True
            ram_mr = None

        # pc_piix.c pc_init1(): where the RAM splits around the PCI hole below 4 GiB.
        lowmem = max_ram_below_4g or PC_MAX_RAM_BELOW_4G
        if ram_size >= lowmem and lowmem > _PC_GIGABYTE_LOWMEM:
            lowmem = _PC_GIGABYTE_LOWMEM
        if ram_size >= lowmem:
            self.below_4g_mem_size, self.above_4g_mem_size = lowmem, ram_size - lowmem
        else:
            self.below_4g_mem_size, self.above_4g_mem_size = ram_size, 0

        # pc_memory_init(): the device-memory window above high RAM.
        self.device_memory_base = 0
        self.device_memory_size = 0
        if self.opts.hotplug_enabled:
            base = _align_up(FOUR_GIB + self.above_4g_mem_size, GiB)
            size = (self.opts.maxmem - self.opts.size) + GiB * self.opts.slots
            if base + size > RAM_ADDR_MAX + 1:
                raise MemoryConfigError(f"unsupported amount of maximum memory: "
                                        f"0x{self.opts.maxmem:x}")
            self.device_memory_base, self.device_memory_size = base, size

        if ram_mr is None or ram_mr.ram_block is None or ram_mr.ram_block.backend is not backend:
            try:
                ram_mr = MemoryRegion.ram(backend.id, ram_size, ram_list=self.ram_list,
                                          backend=backend)
            except GuestMemError as e:
                if owned:
                    backend.close()
                raise MemoryConfigError(f"-m: cannot set up guest RAM: {e}") from e
        backend.set_mapped(True)
        if owned:
            self.backends[backend.id] = backend
            self._owned.add(backend.id)
        self.ram_backend = backend
        self.ram_mr = ram_mr
        self.ram_below_4g = MemoryRegion.alias("ram-below-4g", ram_mr, 0, self.below_4g_mem_size)
        self.ram_above_4g = None
        if self.above_4g_mem_size:
            self.ram_above_4g = MemoryRegion.alias("ram-above-4g", ram_mr,
                                                   self.below_4g_mem_size,
                                                   self.above_4g_mem_size)
        self.device_memory = None
        if self.device_memory_size:
            self.device_memory = MemoryRegion.container("device-memory",
                                                        self.device_memory_size)
        memory_region_transaction_begin()
        try:
            self.system_memory.add_subregion(0, self.ram_below_4g)
            if self.ram_above_4g is not None:
                self.system_memory.add_subregion(FOUR_GIB, self.ram_above_4g)
            if self.device_memory is not None:
                self.system_memory.add_subregion(self.device_memory_base, self.device_memory)
        finally:
            memory_region_transaction_commit()

    @property
    def ram_block(self) -> Any:
        """The initial RAM's RAMBlock (idstr "pc.ram" unless memdev= named another backend)."""
        return self.ram_mr.ram_block

    @property
    def ram_size(self) -> int:
        return self.opts.size

    @property
    def maxram_size(self) -> int:
        return self.opts.maxmem

    @property
    def ram_slots(self) -> int:
        return self.opts.slots

    @property
    def dimms(self) -> list[PCDIMM]:
        """Plugged DIMMs, by address (the order QEMU's memory_device_build_list gives)."""
        return sorted(self._dimms, key=lambda d: d.addr)

    # -- backends (-object / object-add / object-del) -----------------------------------
    def add_object(self, obj: str | HostMemoryBackend) -> HostMemoryBackend:
        """Register a backend (``-object`` / QMP object-add).  Strings create owned backends."""
        self._check_open()
        if isinstance(obj, str):
            probe = obj.split(",")
            for item in probe[1:]:
                if item.startswith("id=") and item[3:] in self.backends:
                    raise MemoryConfigError(f"-object {obj}: attempt to add duplicate object "
                                            f"id '{item[3:]}'")
            backend = parse_object_opts(obj)
            if backend.id in self.backends:  # id with an escaped comma, checked late
                backend.close()
                raise MemoryConfigError(f"-object {obj}: attempt to add duplicate object id "
                                        f"'{backend.id}'")
            try:
                self._backend_mrs[backend.id] = self._backend_region(backend)
            except BaseException:
                backend.close()
                raise
            self.backends[backend.id] = backend
            self._owned.add(backend.id)
            return backend
        if not isinstance(obj, HostMemoryBackend):
            raise MemoryConfigError(f"objects: expected a memory backend or -object string, "
                                    f"got {obj!r}")
        if obj.closed:
            raise MemoryConfigError(f"memory backend '{obj.id}' is closed")
        other = self.backends.get(obj.id)
        if other is obj:
            return obj
        if other is not None:
            raise MemoryConfigError(f"attempt to add duplicate object id '{obj.id}'")
        if not obj.is_mapped:
            self._backend_mrs[obj.id] = self._backend_region(obj)
        self.backends[obj.id] = obj
        return obj

    def _backend_region(self, backend: HostMemoryBackend) -> MemoryRegion:
        """The backend's RAM region and RAMBlock, made as the backend is created."""
        try:
            return MemoryRegion.ram(backend.id, backend.size, ram_list=self.ram_list,
                                    backend=backend)
        except GuestMemError as e:
            raise MemoryConfigError(f"memory backend '{backend.id}': cannot set up its "
                                    f"memory: {e}") from e

    def del_object(self, id: str) -> None:
        """QMP object-del: refused while a DIMM or the machine RAM uses the backend."""
        self._check_open()
        backend = self.backends.get(id)
        if backend is None:
            raise MemoryConfigError(f"object '{id}' not found")
        if backend.is_mapped:
            raise MemoryConfigError(f"object '{id}' is in use, can not be deleted")
        mr = self._backend_mrs.get(id)
        if mr is not None:
            if memory_region_transaction_active():
                # the old FlatView may still map the block until the outer commit: freeing
                # it now would let accesses keep writing into it
                raise MemoryConfigError(f"object '{id}' cannot be deleted inside a memory "
                                        "region transaction; commit it first")
            try:
                self._free_ram_region(mr)
            except RAMBlockError as e:
                raise MemoryConfigError(f"object '{id}' can not be deleted: {e}") from None
            del self._backend_mrs[id]
        del self.backends[id]
        if id in self._owned:
            self._owned.discard(id)
            backend.close()

    def _resolve_backend(self, memdev: str | HostMemoryBackend, what: str) -> HostMemoryBackend:
        if isinstance(memdev, HostMemoryBackend):
            other = self.backends.get(memdev.id)
            if other is not None and other is not memdev:
                raise DeviceError(f"{what}: a different backend with id '{memdev.id}' is "
                                  "already registered")
            if memdev.closed:
                raise DeviceError(f"{what}: memory backend '{memdev.id}' is closed")
            return memdev
        backend = self.backends.get(memdev)
        if backend is None:
            known = ", ".join(sorted(self.backends)) or "none"
            raise DeviceError(f"{what}: memdev '{memdev}' not found: no memory backend with "
                              f"that id (known: {known})")
        return backend

    # -- pc-dimm plug / unplug -----------------------------------------------------------
    def plug(self, dimm: str | PCDIMM, *, hotplugged: bool = True) -> PCDIMM:
        """device_add pc-dimm: validate everything, then map the DIMM.  Returns the PCDIMM."""
        self._check_open()
        if isinstance(dimm, str):
            dimm = parse_device_opts(dimm)
        if not isinstance(dimm, PCDIMM):
            raise DeviceError(f"expected a PCDIMM or a -device pc-dimm string, got {dimm!r}")
        if dimm.plugged:
            raise DeviceError(f"pc-dimm '{dimm.id}' is already plugged")
        if dimm.id is not None and (dimm.id == PC_DEFAULT_RAM_ID or
                                    any(d.id == dimm.id for d in self._dimms)):
            raise DeviceError(f"Duplicate ID '{dimm.id}' for device")

        # pc_dimm_realize(): the backend must be set and free.
        if dimm.memdev is None:
            raise DeviceError("'memdev' property is not set")
        backend = self._resolve_backend(dimm.memdev, f"pc-dimm '{dimm.id}'")
        if backend.is_mapped:
            raise DeviceError(f"can't use already busy memdev: {backend.id}")
        if dimm.node != 0:
            raise DeviceError(f"'DIMM property node has value {dimm.node}' which exceeds the "
                              "number of numa nodes: 1")

        slot = self._get_free_slot(dimm.requested_slot)
        size = backend.size
        addr = self._get_free_addr(dimm.requested_addr, backend.align, size)

        # Everything checked: map the backend's region (made now for a backend that was
        # never registered here).  Undo a new allocation if mapping fails.
        mr = self._backend_mrs.get(backend.id)
        new = mr is None or mr.ram_block is None or mr.ram_block.backend is not backend
        if new:
            try:
                mr = MemoryRegion.ram(backend.id, size, ram_list=self.ram_list, backend=backend)
            except GuestMemError as e:
                raise DeviceError(f"pc-dimm '{dimm.id}': cannot create the RAM region of "
                                  f"memdev '{backend.id}': {e}") from e
        try:
            self.device_memory.add_subregion(addr - self.device_memory_base, mr)
        except BaseException:
            if new:
                self._free_ram_region(mr)
            raise
        self._backend_mrs[backend.id] = mr
        if backend.id not in self.backends:
            self.backends[backend.id] = backend
        backend.set_mapped(True)
        dimm.slot, dimm.addr, dimm.mr, dimm.backend = slot, addr, mr, backend
        dimm.hotplugged = hotplugged
        dimm.machine = self
        self._dimms.append(dimm)
        return dimm

    def _get_free_slot(self, hint: int | None) -> int:
        """pc_dimm_get_free_slot()."""
        max_slots = self.opts.slots
        if hint is not None and (hint < 0 or (max_slots and hint >= max_slots)):
            raise DeviceError(f"invalid slot number {hint}, valid range is "
                              f"[0-{max_slots - 1 if max_slots else 0}]")
        if max_slots <= 0:
            raise DeviceError("no slots where allocated, please specify the 'slots' option")
        used = {d.slot for d in self._dimms}
        if hint is not None:
            if hint in used:
                raise DeviceError(f"slot {hint} is busy")
            return hint
        for s in range(max_slots):
            if s not in used:
                return s
        raise DeviceError("no free slots available")

    def _get_free_addr(self, hint: int | None, align: int, size: int) -> int:
        """memory_device_check_addable() + memory_device_get_free_addr()."""
        if self.device_memory is None:
            raise DeviceError("the configuration is not prepared for memory devices (e.g., "
                              "for memory hotplug), consider specifying the maxmem option")
        used = sum(d.size for d in self._dimms)
        total = self.opts.maxmem - self.opts.size
        if used + size > total:
            raise DeviceError(f"not enough space, currently 0x{used:x} in use of total space "
                              f"for memory devices 0x{total:x}")
        start = self.device_memory_base
        end = start + self.device_memory_size
        if start % align:
            raise DeviceError(f"the alignment (0x{align:x}) is not supported")
        if hint is not None and hint % align:
            raise DeviceError(f"address must be aligned to 0x{align:x} bytes")
        if size % align:
            raise DeviceError(f"backend memory size must be multiple of 0x{align:x}")
        if hint is not None:
            if hint < start:
                raise DeviceError(f"can't add memory device [0x{hint:x}:0x{size:x}] before "
                                  f"0x{start:x}")
            if hint + size > end:
                raise DeviceError(f"can't add memory device [0x{hint:x}:0x{size:x}] beyond "
                                  f"0x{end:x}")
            new = hint
        else:
            new = start
        for d in self.dimms:
            if d.addr < new + size and new < d.addr + d.size:
                if hint is not None:
                    name = d.id if d.id is not None else "(unnamed)"
                    raise DeviceError(f"address range conflicts with memory device id='{name}'")
                new = _align_up(d.addr + d.size, align)
        if new + size > end:
            raise DeviceError("could not find position in guest address space for memory "
                              "device - memory fragmented due to alignments")
        return new

    def unplug(self, dimm: str | PCDIMM) -> PCDIMM:
        """device_del: unmap the DIMM, free its slot and address range, and wait for
        accesses still writing through the old map, so nothing lands in the backend after
        this returns.  The backend keeps its RAMBlock (ram_addr_t range and data) until
        object-del, as in QEMU."""
        self._check_open()
        target = self._find_dimm(dimm)
        self._check_not_dma_mapped(target)
        if memory_region_transaction_active():
            # the old FlatView stays published until the outer commit: accesses could keep
            # writing into the backend after the unplug returned
            raise DeviceError(f"pc-dimm '{target.id}' cannot be unplugged inside a memory "
                              "region transaction; commit it first")
        memory_region_transaction_begin()
        try:
            self.device_memory.del_subregion(target.mr)
        finally:
            memory_region_transaction_commit()
        # A write that began on the old map may still be storing into the backend.  Wait for
        # it (QEMU's RCU grace period), so that when device_del returns the backend's data is
        # final: a later read, re-plug or migration of it sees every write that succeeded.
        synchronize_rcu()
        target.backend.set_mapped(False)
        self._dimms.remove(target)
        target.slot, target.addr = target.requested_slot, target.requested_addr
        target.mr = None
        target.backend = None
        target.machine = None
        return target

    @staticmethod
    def _check_not_dma_mapped(dimm: PCDIMM) -> None:
        """QEMU keeps a region alive while address_space_map holds it; we refuse the unplug
        instead, so the DIMM's memory never outlives its place in the map."""
        block = dimm.mr.ram_block
        # tuple() copies the set in one step under the GIL: another thread may unmap meanwhile
        live = tuple(block.dma_mappings) if block is not None else ()
        if live:
            first = min(repr(m) for m in live)
            raise DeviceError(f"pc-dimm '{dimm.id}' cannot be unplugged while DMA mapping "
                              f"{first} is live; unmap it first")

    def _find_dimm(self, dimm: str | PCDIMM) -> PCDIMM:
        if isinstance(dimm, PCDIMM):
            if dimm not in self._dimms:
                raise DeviceError(f"pc-dimm '{dimm.id}' is not plugged into this machine")
            return dimm
        if dimm in (PC_DEFAULT_RAM_ID, "ram-below-4g", "ram-above-4g") or (
                dimm == self.ram_backend.id):
            raise DeviceError(f"'{dimm}' is the machine's initial RAM, which is not a memory "
                              "device and cannot be unplugged")
        for d in self._dimms:
            if d.id == dimm:
                return d
        raise DeviceError(f"Device '{dimm}' not found")

    def _free_ram_region(self, mr: MemoryRegion) -> None:
        """Give the region's RAMBlock (and its ram_addr_t range) back to the RAMList."""
        block = getattr(mr, "ram_block", None)
        if block is not None and block in self.ram_list.blocks:
            self.ram_list.ram_block_free(block)

    # -- QMP -----------------------------------------------------------------------------
    def query_memory_devices(self) -> list[dict[str, Any]]:
        """query-memory-devices: a MemoryDeviceInfo per plugged DIMM, by address."""
        return [d.info() for d in self.dimms]

    def query_memory_size_summary(self) -> dict[str, int]:
        """query-memory-size-summary: base-memory (ram_size) and plugged-memory (DIMMs)."""
        return {"base-memory": self.opts.size,
                "plugged-memory": sum(d.size for d in self._dimms)}

    # -- lifetime ------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise DeviceError("this MachineMemory is closed")

    def _teardown(self) -> None:
        for d in list(self._dimms):
            self.unplug(d)
        memory_region_transaction_begin()
        try:
            for mr in (self.ram_below_4g, self.ram_above_4g, self.device_memory):
                if mr is not None:
                    self.system_memory.del_subregion(mr)
        finally:
            memory_region_transaction_commit()
        self._free_ram_region(self.ram_mr)
        self.ram_backend.set_mapped(False)
        for mr in self._backend_mrs.values():
            self._free_ram_region(mr)
        self._backend_mrs.clear()

    def close(self) -> None:
        """Unplug every DIMM, unmap and free initial RAM, close the backends made here."""
        if self._closed:
            return
        self._teardown()
        for id in list(self._owned):
            self.backends[id].close()
        self._owned.clear()
        self.backends.clear()
        self._closed = True

    def __enter__(self) -> "MachineMemory":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"MachineMemory(size=0x{self.opts.size:x}, slots={self.opts.slots}, "
                f"maxmem=0x{self.opts.maxmem:x}, dimms={len(self._dimms)})")
