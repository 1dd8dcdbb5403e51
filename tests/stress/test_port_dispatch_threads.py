"""The CPU's port dispatch cache (PortDispatch) while another thread keeps swapping the
device behind a port, with a tiny switch interval and no lock around the OUTs.

The swapping thread publishes a sequence number as a seqlock: odd while a swap (one memory
transaction: del the device at 0x500, add the other) is in progress, even and bumped once it
is committed.  Model: an OUT that began and ended within one even sequence number reached the
device mapped in that state -- a cached entry never outlives the FlatView it came from, and
one taken from a view replaced meanwhile is not kept; after the swapper stops, every OUT
reaches the device mapped last."""

import threading
import time

from guestmem import AccessConstraints, MemoryRegion, MemoryRegionOps
from guestmem.region import memory_region_transaction
from vgaemu.machine import Machine

from tests.stress.harness import race


def _device(name: str, log: list) -> MemoryRegion:
    def write(offset, value, size):
        log.append(value)

    byte = AccessConstraints(1, 1)
    return MemoryRegion.io(name, 1, MemoryRegionOps(read=lambda o, s: 0, write=write,
                                                     valid=byte, impl=byte))


def test_out_never_reaches_a_device_swapped_out_before_it_began(stress_seconds):
    m = Machine(memory="2M", vram="1M")
    logs = ([], [])
    devs = (_device("a", logs[0]), _device("b", logs[1]))
    m.system_io.add_subregion(0x500, devs[0])
    seq = [0]                      # even: devs[(seq // 2) % 2] is at 0x500
    stop = threading.Event()
    out = m.cpu.ports.out[1]
    expect: list[tuple[int, int]] = []      # (token, device index) for stable OUTs

    def swapper():
        k = 0
        while not stop.is_set():
            seq[0] += 1                                  # odd: swapping
            with memory_region_transaction():
                m.system_io.del_subregion(devs[k % 2])
                m.system_io.add_subregion(0x500, devs[(k + 1) % 2])
            k += 1
            seq[0] += 1                                  # even: devs[k % 2] mapped
            time.sleep(0)

    def cpu():
        token = 0
        while not stop.is_set():
            token += 1
            before = seq[0]
            out(0x500, token & 0xFF)
            if before == seq[0] and not before & 1:
                expect.append((token & 0xFF, (before // 2) % 2, len(logs[0]), len(logs[1])))

    race([swapper, cpu], stress_seconds(1.5), stop)
    assert expect, "no OUT ran within one stable map"
    for token, dev, n0, n1 in expect:
        # the token is the last value the expected device logged when the OUT returned
        n = (n0, n1)[dev]
        assert n and logs[dev][n - 1] == token, (token, dev)
    final = (seq[0] // 2) % 2
    before = [len(log) for log in logs]
    out(0x500, 0x5A)
    assert len(logs[final]) == before[final] + 1 and logs[final][-1] == 0x5A
    assert len(logs[1 - final]) == before[1 - final]
