"""The DMA engine's RAM-to-RAM path (no DMAMapping: one FlatView look-up, one copy) against a
thread that keeps unplugging and replugging the DIMM it writes into. The transfer is a
read-side section, so the unplug waits for it rather than freeing memory under the copy.

Model: a transfer either finds the DIMM or does not (DST_UNASSIGNED); nothing raises. A
transfer the RAM path moved (one piece, nothing bounced) has every byte of the source in the
DIMM's backend at the destination rows -- the backend is the same one across replugs, and
no one else writes it. When the DIMM is missing at the RAM path's look-up, the transfer
falls back to the map/unmap path, which validates against the map it then sees: its row
mappings may refuse an unplug (the documented DeviceError, retried here) or, row by row,
bounce into a DIMM unplugged meanwhile -- the machine loop never lets a device unplug
memory in the middle of a transfer, so only the RAM path is held to the byte model."""

from __future__ import annotations

import threading

import numpy as np

from guestmem import AddressSpace, MachineMemory, MemoryRegion, RAMList
from guestmem.errors import DeviceError
from vgaemu import dma

from tests.stress.harness import race

P = 4096
SRC = 0x100000
W, H, DSTRIDE = 256, 16, 1024


def test_ram_transfers_into_a_dimm_being_unplugged(stress_seconds):
    rl = RAMList()
    sysmem = MemoryRegion.container("system", 1 << 64)
    mm = MachineMemory("16M,slots=2,maxmem=1G", ram_list=rl, system_memory=sysmem,
                       objects=["memory-backend-ram,id=mem1,size=4M"])
    as_ = AddressSpace(sysmem, "memory")
    engine = dma.DMAEngine(as_)
    engine.map_into(sysmem)
    dimm = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
    base = dimm.addr
    backend = mm.backends["mem1"]
    stop = threading.Event()
    errors: list[str] = []
    counts = {"done": 0, "unassigned": 0, "cycles": 0}

    def transfers():
        try:
            k = 0
            while not stop.is_set():
                k += 1
                pattern = np.full(W * H, k & 0xFF, dtype=np.uint8)
                as_.write(SRC, pattern)
                off = (k * 7 % 64) * P
                for reg, v in ((dma.REG_SRC_LO, SRC), (dma.REG_SRC_HI, 0),
                               (dma.REG_DST_LO, (base + off) & 0xFFFFFFFF),
                               (dma.REG_DST_HI, (base + off) >> 32), (dma.REG_WIDTH, W),
                               (dma.REG_HEIGHT, H), (dma.REG_SRC_STRIDE, W),
                               (dma.REG_DST_STRIDE, DSTRIDE)):
                    engine.set_reg(reg, v)
                engine.set_reg(dma.REG_CONTROL, dma.CTRL_2D | dma.CTRL_START)
                code = engine.error
                if code == dma.DMAError.NONE:
                    last = engine.last
                    if last.bytes != W * H:
                        errors.append(f"transfer {k}: DONE after {last.bytes} bytes")
                    if last.pieces == 1 and not last.bounced_pieces:
                        counts["done"] += 1
                        rows = np.lib.stride_tricks.as_strided(backend.host[off:], (H, W),
                                                               (DSTRIDE, 1))
                        if not (rows == k & 0xFF).all():
                            errors.append(f"transfer {k}: DONE but the backend holds other bytes")
                elif code == dma.DMAError.DST_UNASSIGNED:
                    counts["unassigned"] += 1
                else:
                    errors.append(f"transfer {k}: {code!r}")
        except BaseException as e:
            errors.append(f"transfers: {type(e).__name__}: {e}")

    def changer():
        try:
            while not stop.is_set():
                try:
                    mm.unplug("dimm1")
                except DeviceError as e:
                    if "DMA mapping" not in str(e):
                        raise
                    continue  # a fallback transfer holds a row mapping: try again
                d = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
                if d.addr != base:
                    errors.append(f"replugged at {d.addr:#x}, not {base:#x}")
                counts["cycles"] += 1
        except BaseException as e:
            errors.append(f"changer: {type(e).__name__}: {e}")

    race([transfers, changer], stress_seconds(1.5), stop)
    assert not errors, errors[:5]
    assert counts["done"] and counts["cycles"], counts
