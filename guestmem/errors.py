"""Exception hierarchy of guestmem.

Every error raised at guestmem's boundary derives from :class:`GuestMemError`, names the bad
value and says what was expected.  An operation that raises leaves the state it was asked to
change untouched (QEMU aborts or returns an Error in the same places; we raise instead).
"""


class GuestMemError(Exception):
    """Base of every guestmem error."""


class MemoryConfigError(GuestMemError):
    """Bad -m / -object / -device option strings or impossible size combinations."""


class RegionError(GuestMemError):
    """A MemoryRegion operation that QEMU would assert on or that makes no sense."""


class RAMBlockError(GuestMemError):
    """Bad RAMBlock allocation, lookup, resize or free."""


class BackendError(GuestMemError):
    """A host memory backend could not be created or used."""


class DeviceError(GuestMemError):
    """pc-dimm plug/unplug failures."""


class DirtyMemoryError(GuestMemError):
    """Bad ranges or clients passed to the dirty-memory bitmaps."""


class AccessError(GuestMemError):
    """An access was malformed before it reached the memory map (bad buffer, size, value)."""
