import mmap

import numpy as np
import pytest

from guestmem.dirty import DirtyClient, TARGET_PAGE_SIZE
from guestmem.errors import RAMBlockError
from guestmem.ramblock import RAM_OFFSET_ALIGN, RAMBlockFlags, RAMList

P = TARGET_PAGE_SIZE
MiB = 1 << 20


def test_first_block_at_zero_and_next_after_aligned():
    rl = RAMList()
    a = rl.ram_block_add("a", 5 * P)
    b = rl.ram_block_add("b", 3 * P)
    assert a.offset == 0
    assert b.offset == RAM_OFFSET_ALIGN == 64 * P
    assert a.host.dtype == np.uint8 and len(a.host) == 5 * P
    assert a.used_length == a.max_length == 5 * P
    assert rl.blocks == [a, b]


def test_unaligned_size_is_page_aligned():
    rl = RAMList()
    a = rl.ram_block_add("a", 100)
    assert a.used_length == P and len(a.host) == P


def test_freed_gap_is_reused_best_fit():
    rl = RAMList()
    a = rl.ram_block_add("a", 1 * MiB)          # 0
    b = rl.ram_block_add("b", 1 * MiB)          # 1M
    c = rl.ram_block_add("c", 4 * MiB)          # 2M
    d = rl.ram_block_add("d", 1 * MiB)          # 6M
    assert [x.offset for x in (a, b, c, d)] == [0, MiB, 2 * MiB, 6 * MiB]
    rl.ram_block_free(c)                       # 4 MiB gap at 2M
    rl.ram_block_free(a)                       # gap at 0 is not after any block: not reusable
    e = rl.ram_block_add("e", 2 * MiB)
    assert e.offset == 2 * MiB
    f = rl.ram_block_add("f", 1 * MiB)          # best fit: the 2 MiB hole left at 4M..6M
    assert f.offset == 4 * MiB
    g = rl.ram_block_add("g", 2 * MiB)          # nothing fits before: after the last block
    assert g.offset == 7 * MiB


def test_best_fit_prefers_smallest_gap():
    rl = RAMList()
    blocks = [rl.ram_block_add(f"b{i}", MiB) for i in range(6)]
    rl.ram_block_free(blocks[1])                # 1 MiB gap
    rl.ram_block_free(blocks[3])
    rl.ram_block_free(blocks[4])                # 2 MiB gap
    x = rl.ram_block_add("x", MiB)
    assert x.offset == MiB
    y = rl.ram_block_add("y", 2 * MiB)
    assert y.offset == 3 * MiB


def test_lookup_by_ram_addr_and_mru():
    rl = RAMList()
    blocks = [rl.ram_block_add(f"b{i}", (i + 1) * P) for i in range(50)]
    for b in blocks:
        got, off = rl.block_from_ram_addr(b.offset + b.max_length - 1)
        assert got is b and off == b.max_length - 1
    assert rl.mru_block is blocks[-1]
    with pytest.raises(RAMBlockError, match="Bad ram offset"):
        rl.block_from_ram_addr(blocks[0].offset + blocks[0].max_length)
    with pytest.raises(RAMBlockError):
        rl.block_from_ram_addr(-1)


def test_new_blocks_start_dirty_for_all_clients():
    rl = RAMList()
    a = rl.ram_block_add("a", 3 * P, max_size=8 * P)
    for c in DirtyClient:
        assert rl.dirty.all_dirty(a.offset, 3 * P, c)
        assert not rl.dirty.get_dirty(a.offset + 3 * P, 5 * P, c)


def test_resize_within_max_sets_new_range_dirty():
    rl = RAMList()
    a = rl.ram_block_add("a", 2 * P, max_size=16 * P)
    assert a.flags & RAMBlockFlags.RESIZEABLE
    rl.dirty.clear_dirty_range(a.offset, 16 * P)
    a.resize(5 * P)
    assert a.used_length == 5 * P
    for c in DirtyClient:
        assert rl.dirty.all_dirty(a.offset, 5 * P, c)
    with pytest.raises(RAMBlockError, match="Size too large"):
        a.resize(17 * P)
    assert a.used_length == 5 * P
    b = rl.ram_block_add("b", 2 * P)
    with pytest.raises(RAMBlockError, match="Size mismatch"):
        b.resize(3 * P)
    assert b.used_length == 2 * P
    b.resize(2 * P)  # same size: fine


def test_dirty_bitmaps_grow_with_blocks():
    rl = RAMList()
    rl.ram_block_add("a", P)
    b = rl.ram_block_add("b", 64 * MiB)
    assert rl.dirty.npages >= (b.offset + b.max_length) // P


def test_two_ramlists_share_nothing():
    r1, r2 = RAMList(), RAMList()
    a1 = r1.ram_block_add("ram", 4 * P)
    a2 = r2.ram_block_add("ram", 4 * P)
    assert a1.offset == a2.offset == 0
    a1.host[:4] = 1
    assert a2.host[:4].tolist() == [0, 0, 0, 0]
    r1.dirty.clear_dirty_range(0, 4 * P)
    assert r2.dirty.all_dirty(0, 4 * P, DirtyClient.VGA)


def test_adopted_host_and_shared_mmap():
    rl = RAMList()
    mem = np.zeros(8 * P, dtype=np.uint8)
    a = rl.ram_block_add("a", 8 * P, host=mem)
    a.host[7] = 9
    assert mem[7] == 9
    s = rl.ram_block_add("s", P, flags=RAMBlockFlags.SHARED)
    assert s.is_shared


class FakeBackend:
    def __init__(self, size, share=False, readonly=False):
        self._mm = mmap.mmap(-1, size)
        self.host = np.frombuffer(self._mm, dtype=np.uint8)
        self.size, self.id, self.share, self.readonly, self.mapped = size, "mem0", share, readonly, False


def test_backend_memory_is_used():
    rl = RAMList()
    be = FakeBackend(4 * P, share=True)
    blk = rl.ram_block_add("mem0", 4 * P, backend=be)
    blk.host[100] = 0x5A
    assert be.host[100] == 0x5A
    assert blk.is_shared and blk.backend is be


@pytest.mark.parametrize("kwargs, match", [
    (dict(idstr="", size=P), "non-empty"),
    (dict(idstr="a", size=P), "already registered"),
    (dict(idstr="z", size=0), "positive"),
    (dict(idstr="z", size=-P), "positive"),
    (dict(idstr="z", size=2 * P, max_size=P), "smaller"),
    (dict(idstr="z", size=2 * P, host=np.zeros(P, np.uint8)), "smaller than the block"),
    (dict(idstr="z", size=P, host=np.zeros(P, np.uint16)), "uint8"),
    (dict(idstr="z", size="big"), "not an integer"),
])
def test_add_errors_leave_list_unchanged(kwargs, match):
    rl = RAMList()
    rl.ram_block_add("a", P)
    before = (list(rl.blocks), rl.dirty.npages, rl.version)
    kw = dict(kwargs)
    idstr, size = kw.pop("idstr"), kw.pop("size")
    with pytest.raises(RAMBlockError, match=match):
        rl.ram_block_add(idstr, size, **kw)
    assert (list(rl.blocks), rl.dirty.npages, rl.version) == before


def test_free_errors():
    r1, r2 = RAMList(), RAMList()
    a = r1.ram_block_add("a", P)
    with pytest.raises(RAMBlockError):
        r2.ram_block_free(a)
    r1.ram_block_free(a)
    with pytest.raises(RAMBlockError):
        r1.ram_block_free(a)
    with pytest.raises(RAMBlockError):
        r1.ram_block_free("a")
    assert r1.blocks == []


def test_code_hook_called_before_dirty_on_protected_pages():
    rl = RAMList()
    a = rl.ram_block_add("a", 4 * P)
    calls = []

    def hook(addr, length):
        calls.append((addr, length, rl.dirty.get_dirty(addr, length, DirtyClient.CODE)))
        rl.dirty.set_dirty_range(addr, length, 1 << DirtyClient.CODE)  # no code left: unprotect

    rl.code_invalidate_hook = hook
    rl.invalidate_and_set_dirty(a.offset + 10, 4, 0b111)   # page dirty in CODE: no hook
    assert calls == []
    rl.dirty.reset_dirty_range(a.offset + P, P, DirtyClient.CODE)  # protect page 1
    rl.invalidate_and_set_dirty(a.offset + P + 8, 16, 0b111)
    assert calls == [(a.offset + P + 8, 16, False)]
    assert rl.dirty.get_dirty(a.offset + P, P, DirtyClient.CODE)
    assert rl.dirty.get_dirty(a.offset + P, P, DirtyClient.VGA)


def test_code_hook_owns_the_code_bit_of_a_page_that_keeps_code():
    """A write beside translated code leaves the page protected when the hook says so (QEMU's
    tb_invalidate_phys_range unprotects only pages with no TB left); the other clients are
    still marked."""
    rl = RAMList()
    a = rl.ram_block_add("a", 4 * P)
    rl.code_invalidate_hook = lambda addr, length: None   # the code on the page survives
    rl.dirty.reset_dirty_range(a.offset + P, P, DirtyClient.CODE)
    rl.invalidate_and_set_dirty(a.offset + P + 8, 16, 0b111)
    assert not rl.dirty.get_dirty(a.offset + P, P, DirtyClient.CODE)
    assert rl.dirty.get_dirty(a.offset + P, P, DirtyClient.VGA)
    assert rl.dirty.get_dirty(a.offset + P, P, DirtyClient.MIGRATION)


def test_offsets_and_order_match_a_real_qemu_pc_machine():
    """`info ramblock` of qemu-system-x86_64 -M pc -m 128 -vga std (QEMU 7.2): blocks created
    in this order land at these offsets and are listed largest-first."""
    rl = RAMList()
    created = [("pc.ram", 128 * MiB, None), ("pc.bios", 256 << 10, None),
               ("pc.rom", 128 << 10, None), ("0000:00:02.0/vga.vram", 16 * MiB, None),
               ("0000:00:02.0/vga.rom", 64 << 10, None),
               ("/rom@etc/acpi/tables", 128 << 10, 2 * MiB),
               ("/rom@etc/table-loader", 4096, 64 << 10), ("/rom@etc/acpi/rsdp", 4096, None)]
    for name, size, max_size in created:
        rl.ram_block_add(name, size, max_size=max_size)
    assert [(b.idstr, b.offset) for b in rl.qemu_order] == [
        ("pc.ram", 0x0), ("0000:00:02.0/vga.vram", 0x8080000),
        ("/rom@etc/acpi/tables", 0x90C0000), ("pc.bios", 0x8000000), ("pc.rom", 0x8040000),
        ("0000:00:02.0/vga.rom", 0x9080000), ("/rom@etc/table-loader", 0x92C0000),
        ("/rom@etc/acpi/rsdp", 0x9300000)]
