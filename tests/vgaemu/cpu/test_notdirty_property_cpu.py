"""The NOTDIRTY protocol with the real CPU, as a property.  Hypothesis writes a looping
program of `add eax, imm32` slots and byte stores -- into data RAM, into VRAM through the
LFB, and into the immediates of the program's own add instructions (before or after the
store, in the running TB or another, across a page boundary) and beside the code on its
own pages (a boot sector's stack and variables) -- and runs it in random slices; between
slices the host snapshots the VGA bits, syncs the MIGRATION bits of the code pages, writes code as a scripted guest,
DMAs into code or changes the memory map.  A naive interpreter over the same bytes is the
model: the CPU must end with the same registers and memory (so no stale TB ran), and every
VRAM page the program wrote since a snapshot must be dirty in the next one, as must every
code page it stored data on since a MIGRATION sync."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from guestmem import DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, MemoryRegion

from vgaemu.cpu.state import DS
from vgaemu.dma import DMA_MMIO_BASE, REG_CONTROL, REG_DST_LO, REG_LENGTH, REG_SRC_LO
from vgaemu.machine import Machine

CODE = 0x7FC0          # the program straddles the page boundary at 0x8000
DATA = 0x20000
LFB = 0xFD000000
DMA_SRC = 0x30000
VRAM_SPAN = 16 * 4096  # the VRAM pages the program may store to
#: data beside the code, on the code's two pages: 0x7000..CODE-1 and 0x8800..0x97BF
BESIDE = CODE - 0x7000

slot = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("store_data"), st.integers(0, 2 * 4096 - 1), st.integers(0, 255)),
    st.tuples(st.just("store_vram"), st.integers(0, VRAM_SPAN - 1), st.integers(0, 255)),
    st.tuples(st.just("store_code"), st.integers(0, 63), st.integers(0, 3), st.integers(0, 255)),
    st.tuples(st.just("store_beside"), st.integers(0, 2 * BESIDE - 1), st.integers(0, 255)),
)
event = st.one_of(
    st.just(("none",)), st.just(("snapshot",)), st.just(("remap",)), st.just(("sync",)),
    st.tuples(st.just("script"), st.integers(0, 63), st.integers(0, 3), st.integers(0, 255)),
    st.tuples(st.just("dma"), st.integers(0, 63), st.integers(0, 3), st.integers(0, 255)),
)


def assemble(slots):
    """Bytes of the program and the addresses of the add immediates."""
    adds = [i for i, s in enumerate(slots) if s[0] == "add"]
    addr, imm_at, out = CODE, {}, bytearray()
    for i, s in enumerate(slots):  # first pass: where each add's immediate lies
        if s[0] == "add":
            imm_at[i] = addr + 2
            addr += 8
        else:
            addr += 8
    for s in slots:
        if s[0] == "add":
            out += b"\x66\x05" + s[1].to_bytes(4, "little") + b"\x66\x90"  # add eax, imm32; nop
        else:
            if s[0] == "store_data":
                target = DATA + s[1]
            elif s[0] == "store_vram":
                target = LFB + s[1]
            elif s[0] == "store_beside":
                target = 0x7000 + s[1] if s[1] < BESIDE else 0x8800 + s[1] - BESIDE
            else:
                target = imm_at[adds[s[1] % len(adds)]] + s[2]
            out += b"\x67\xC6\x05" + target.to_bytes(4, "little") + bytes([s[-1]])  # mov byte [d32], imm8
    back = CODE - (CODE + len(out) + 6)  # dec ecx; jnz CODE; hlt
    out += b"\x66\x49\x0F\x85" + (back & 0xFFFF).to_bytes(2, "little") + b"\xF4"
    return bytes(out), [imm_at[i] for i in adds]


class Model:
    """Executes the program bytes one instruction at a time, as they are *now*."""

    def __init__(self, code: bytes, ecx: int):
        self.code = bytearray(code)
        self.mem: dict[int, int] = {}
        self.eax, self.ecx, self.pc = 0, ecx, CODE
        self.halted = False
        self.vram_pending: set[int] = set()
        self.code_pages_pending: set[int] = set()

    def poke(self, addr, value):
        if CODE <= addr < CODE + len(self.code):
            self.code[addr - CODE] = value
        else:
            self.mem[addr] = value
            if addr >= LFB:
                self.vram_pending.add((addr - LFB) >> 12)
            elif 0x7000 <= addr < 0xA000:
                self.code_pages_pending.add(addr >> 12)

    def run(self, n):
        done = 0
        while done < n and not self.halted:
            o = self.pc - CODE
            b = self.code
            if b[o] == 0x67:
                self.poke(int.from_bytes(b[o + 3:o + 7], "little"), b[o + 7])
                self.pc += 8
            elif b[o:o + 2] == b"\x66\x05":
                self.eax = (self.eax + int.from_bytes(b[o + 2:o + 6], "little")) & 0xFFFFFFFF
                self.pc += 6
            elif b[o:o + 2] == b"\x66\x90":
                self.pc += 2
            elif b[o:o + 2] == b"\x66\x49":
                self.ecx = (self.ecx - 1) & 0xFFFFFFFF
                self.pc += 2
            elif b[o:o + 2] == b"\x0F\x85":
                self.pc += 4
                if self.ecx:
                    self.pc = CODE
            else:
                assert b[o] == 0xF4, f"model lost its way at {self.pc:#x}"
                self.pc += 1
                self.halted = True
            done += 1
        return done


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(slots=st.lists(slot, min_size=2, max_size=14).filter(lambda s: any(x[0] == "add" for x in s)),
       loops=st.integers(1, 4),
       chunks=st.lists(st.tuples(st.integers(1, 30), event), max_size=12),
       threshold=st.sampled_from([0, 1, 2, 1 << 40]))
def test_cpu_notdirty_and_smc_against_a_naive_model(slots, loops, chunks, threshold):
    """... on both tiers: blocks translated at once, interpreted first, or always."""
    code, imms = assemble(slots)
    m = Machine(memory="1M", vram="1M")
    cpu = m.cpu
    cpu.tb_threshold = threshold
    try:
        m.write(CODE, code)
        m.write(DMA_SRC, bytes(range(256)))
        cpu.eip = CODE
        cpu.seg_limit[DS] = 0xFFFFFFFF  # flat DS ("unreal mode") for the LFB stores
        cpu.ecx = loops
        cpu.halted = False
        model = Model(code, loops)
        vram = m.vga.vram_mr
        vram.snapshot_and_clear_dirty(0, VRAM_SPAN, DIRTY_MEMORY_VGA)
        as_ = m.address_space_memory
        dirty = m.ram_list.dirty
        dirty.clear_dirty_range(0x7000, 0x3000, 1 << DIRTY_MEMORY_MIGRATION)
        extra = None
        for n, ev in chunks:
            assert cpu.run(max_instructions=n) == model.run(n)
            kind = ev[0]
            if kind == "snapshot":
                snap = vram.snapshot_and_clear_dirty(0, VRAM_SPAN, DIRTY_MEMORY_VGA)
                for page in model.vram_pending:
                    assert snap.get_dirty(snap.start + (page << 12), 1), f"VRAM page {page} lost"
                model.vram_pending.clear()
            elif kind == "sync":
                for page in model.code_pages_pending:
                    assert dirty.get_dirty(page << 12, 1, DIRTY_MEMORY_MIGRATION), \
                        f"code page {page:#x} lost a store"
                model.code_pages_pending.clear()
                dirty.clear_dirty_range(0x7000, 0x3000, 1 << DIRTY_MEMORY_MIGRATION)
            elif kind in ("script", "dma"):
                _, j, k, value = ev
                addr = imms[j % len(imms)] + k
                if kind == "script":
                    m.write(addr, bytes([value]))
                else:
                    as_.stl_le(DMA_MMIO_BASE + REG_SRC_LO, DMA_SRC + value)
                    as_.stl_le(DMA_MMIO_BASE + REG_DST_LO, addr)
                    as_.stl_le(DMA_MMIO_BASE + REG_LENGTH, 1)
                    as_.stl_le(DMA_MMIO_BASE + REG_CONTROL, 1)
                model.poke(addr, value)
            elif kind == "remap":
                if extra is None:
                    extra = MemoryRegion.alias("extra", m.vga.vram_mr, 0, 4096)
                    m.system_memory.add_subregion(0xE0000000, extra)
                else:
                    m.system_memory.del_subregion(extra)
                    extra = None
        total = 0
        while not model.halted and total < 100_000:
            step = model.run(1000)
            assert cpu.run(max_instructions=step) == step
            total += step
        assert cpu.halted
        assert cpu.eax == model.eax and cpu.ecx == model.ecx
        assert m.read(CODE, len(code)) == bytes(model.code), "code bytes differ"
        for addr, value in model.mem.items():
            assert m.read(addr, 1)[0] == value, f"memory at {addr:#x}"
        snap = vram.snapshot_and_clear_dirty(0, VRAM_SPAN, DIRTY_MEMORY_VGA)
        for page in model.vram_pending:
            assert snap.get_dirty(snap.start + (page << 12), 1), f"VRAM page {page} lost"
        for tb in cpu.tb_cache.tbs.values():  # no translation outlives its bytes
            assert tb.valid
    finally:
        cpu.close()
