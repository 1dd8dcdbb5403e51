"""guestmem: QEMU's guest-physical RAM subsystem (RAMBlocks, dirty bitmaps, MemoryRegions,
FlatViews, AddressSpaces, backends and pc-dimm) as a reusable Python library."""
