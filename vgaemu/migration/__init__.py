"""Precopy live migration and save/restore (QEMU's migration/): the stream format
(``stream``), device-state sections (``vmstate``), transports by URI (``transport``), the
source's iteration over the MIGRATION dirty bitmap (``precopy``) and the destination
(``incoming``)."""

from vgaemu.migration.errors import MigrationError

__all__ = ["MigrationError"]
