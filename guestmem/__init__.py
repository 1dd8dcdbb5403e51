"""guestmem: QEMU's guest-physical RAM subsystem (RAMBlocks, dirty bitmaps, MemoryRegions,
FlatViews, AddressSpaces, backends and pc-dimm) as a reusable Python library."""

from .address_space import (AddressSpace, DMADirection, DMAMapping, MemTxResult,
                            address_space_map, address_space_read, address_space_rw,
                            address_space_unmap, address_space_write, address_space_write_rom,
                            dma_memory_read, dma_memory_rw, dma_memory_write, io_root)
from .dirty import (DIRTY_CLIENTS_ALL, DIRTY_CLIENTS_NOCODE, DIRTY_MEMORY_CODE,
                    DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, TARGET_PAGE_BITS, TARGET_PAGE_SIZE,
                    ClearEpoch, DirtyBitmapSnapshot, DirtyClient, DirtyMemory, DirtyRange)
from .errors import (AccessError, BackendError, DeviceError, DirtyMemoryError, GuestMemError,
                     MemoryConfigError, RAMBlockError, RegionError)
from .flatview import FlatRange, FlatView
from .ramblock import RAMBlock, RAMBlockFlags, RAMList
from .rcu import rcu_read_side, synchronize_rcu
from .region import (AccessConstraints, Endianness, MemoryListener, MemoryRegion,
                     MemoryRegionOps, MemoryRegionSection, RegionKind,
                     memory_global_dirty_log_sync, memory_region_transaction,
                     memory_region_transaction_active, memory_region_transaction_begin,
                     memory_region_transaction_commit, unassigned_io_ops)

__all__ = [
    "AccessConstraints", "AccessError", "AddressSpace", "BackendError", "DIRTY_CLIENTS_ALL",
    "DIRTY_CLIENTS_NOCODE", "DIRTY_MEMORY_CODE", "DIRTY_MEMORY_MIGRATION", "DIRTY_MEMORY_VGA",
    "DMADirection", "DMAMapping", "DeviceError", "DirtyBitmapSnapshot", "DirtyClient",
    "DirtyMemory", "DirtyMemoryError", "DirtyRange", "Endianness", "FlatRange", "FlatView",
    "GuestMemError", "MemTxResult", "MemoryConfigError", "MemoryListener", "MemoryRegion",
    "MemoryRegionOps", "MemoryRegionSection", "RAMBlock", "RAMBlockError", "RAMBlockFlags",
    "RAMList", "RegionError", "TARGET_PAGE_BITS", "TARGET_PAGE_SIZE", "address_space_map",
    "address_space_read", "address_space_rw", "address_space_unmap", "address_space_write",
    "address_space_write_rom", "dma_memory_read", "dma_memory_rw", "dma_memory_write",
    "io_root", "memory_global_dirty_log_sync", "memory_region_transaction",
    "memory_region_transaction_begin", "memory_region_transaction_commit", "unassigned_io_ops",
    "ClearEpoch", "RegionKind", "memory_region_transaction_active", "rcu_read_side",
    "synchronize_rcu",
]

# Host memory backends, -m/-object/-device parsing, pc-dimm and the machine's RAM.
from .backends import (HostMemoryBackend, MemoryBackendFile, MemoryBackendMemfd,
                       MemoryBackendRam)
from .dimm import (PCDIMM, MemoryOpts, parse_device_opts, parse_memory_opts,
                   parse_object_opts)
from .machine_memory import MachineMemory

__all__ += [
    "HostMemoryBackend", "MachineMemory", "MemoryBackendFile", "MemoryBackendMemfd",
    "MemoryBackendRam", "MemoryOpts", "PCDIMM", "parse_device_opts", "parse_memory_opts",
    "parse_object_opts",
]
