"""Address spaces created in several threads while others list them (machines built in
threads, `info mtree`, a global dirty-log start): nothing raises, every space created is
listed while it lives, and a dead one drops out."""

from __future__ import annotations

import gc
import threading

from guestmem.address_space import AddressSpace
from guestmem.region import MemoryRegion, address_spaces

from tests.stress.harness import race


def test_spaces_created_and_listed_concurrently(stress_seconds):
    stop = threading.Event()
    errors: list[str] = []
    keep: list = []   # every third space lives to the end: it must still be listed then

    def creator(k):
        try:
            n = 0
            while not stop.is_set():
                as_ = AddressSpace(MemoryRegion.container(f"c{k}.{n}", 1 << 16), f"as{k}.{n}")
                if not any(a is as_ for a in address_spaces()):
                    errors.append(f"{as_.name} is live but not listed")
                if n % 3 == 0:
                    keep.append(as_)
                n += 1
        except BaseException as e:
            errors.append(f"creator {k}: {type(e).__name__}: {e}")

    def lister():
        try:
            while not stop.is_set():
                address_spaces()
        except BaseException as e:
            errors.append(f"lister: {type(e).__name__}: {e}")

    race([lambda k=k: creator(k) for k in range(3)] + [lister], stress_seconds(1.0), stop)
    assert not errors, errors[:5]
    listed = {id(a) for a in address_spaces()}
    assert all(id(a) in listed for a in keep)
    names = {a.name for a in keep}
    keep.clear()
    gc.collect()
    assert not names & {a.name for a in address_spaces()}
