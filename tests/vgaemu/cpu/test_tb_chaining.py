"""TB chaining (QEMU's goto_tb / tb_add_jump / tb_jmp_unlink) with the real CPU: direct exits
link to their successors and later runs follow the links without a cache lookup; the budget
stays exact; the interrupt line is still sampled before every block of a chain; rewriting a
linked successor unlinks it so the new code runs.  Code is hand-assembled; each line says
what the bytes are."""

import pytest

from vgaemu.machine import Machine

# 7C00 inc ax; jmp 7C04; (7C03 hlt, skipped); 7C04 inc bx; dec cx; jnz 7C00; 7C08 hlt
# (two blocks: the second takes the JNZ as a side exit and ends with the HLT)
JUMPS = bytes.fromhex("40" "EB01" "F4" "43" "49" "75F8" "F4")


def asm(*lines: str) -> bytes:
    return bytes.fromhex("".join(lines))


@pytest.fixture(params=[0, None, False], ids=["tb", "tiered", "no-tb-cache"])
def machine(request):
    """"tb": every block translated on its first entry; "tiered": the default threshold
    (blocks interpreted first); "no-tb-cache": decode every instruction."""
    m = Machine(memory="2M", vram="1M", tb_cache=request.param is not False)
    if request.param is not None and request.param is not False:
        m.cpu.tb_threshold = request.param
    yield m
    m.cpu.close()


def start(m, code_at: dict, eip=0x7C00):
    for addr, code in code_at.items():
        m.write(addr, code)
    cpu = m.cpu
    cpu.eip = eip
    cpu.halted = False
    return cpu


def test_direct_exits_are_chained(machine):
    cpu = start(machine, {0x7C00: JUMPS})
    cpu.cx = 1000
    n = cpu.run(max_instructions=100_000)
    assert cpu.halted and (cpu.ax, cpu.bx, cpu.cx) == (1000, 1000, 0)
    assert n == 1000 * 5 + 1
    c = cpu.counters.total
    if cpu.use_tb_cache:
        a = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
        b = cpu.tb_cache.lookup(0x7C04, 0, cpu.hflags)
        assert a.jmp_dest[0] is b and b.jmp_dest[0] is a   # jmp 7C04 / jnz 7C00 taken
        assert (a, 0) in b.jmp_in and (b, 0) in a.jmp_in
        # every block after the first two lookups came through a link
        assert c.tbs_executed == 2000 and c.tbs_chained >= 1997 - 3 * cpu.tb_threshold
    else:
        assert c.tbs_chained == 0


@pytest.mark.parametrize("budget", [1, 2, 3, 7, 10, 11, 499, 5000])
def test_the_budget_is_exact_along_a_chain(budget):
    ms = [Machine(memory="2M", vram="1M", tb_cache=t) for t in (True, False)]
    try:
        regs = []
        for m in ms:
            cpu = start(m, {0x7C00: JUMPS})
            cpu.cx = 5000
            cpu.run(max_instructions=20)          # translate and link first
            assert cpu.run(max_instructions=budget) == budget
            regs.append((cpu.ax, cpu.bx, cpu.cx, cpu.eip))
        assert regs[0] == regs[1]
    finally:
        for m in ms:
            m.cpu.close()


class CountingPIC:
    """An interrupt controller whose INTR line rises after it was sampled `after` times."""

    def __init__(self, after: int, vector: int):
        self.after, self.vector, self.samples = after, vector, 0

    @property
    def int_output(self) -> bool:
        self.samples += 1
        return self.samples > self.after

    def acknowledge(self) -> int:
        self.after = 1 << 60
        return self.vector


def test_a_chain_samples_the_interrupt_line_before_every_block(machine):
    # 7C00 sti; 7C01 inc ax; jmp 7C05; (7C04 hlt); 7C05 inc bx; jmp 7C01 -- forever
    # handler at 0000:8000: mov cx, 1234h; hlt (IF is clear in the handler: the run ends)
    cpu = start(machine, {0x7C00: asm("FB", "40", "EB01", "F4", "43", "EBF9"),
                          0x8000: asm("B93412", "F4"),
                          0x20 * 4: asm("0080", "0000")})
    pic = CountingPIC(after=500, vector=0x20)
    cpu.pic = pic
    n = cpu.run(max_instructions=1_000_000)
    assert cpu.halted and cpu.cx == 0x1234 and n == 1 + 2 * (cpu.ax + cpu.bx) + 2
    # the line was sampled before every block (every instruction without the TB cache)
    # after the STI, and the interrupt was taken at the first sample that saw it high
    blocks = cpu.ax + cpu.bx if cpu.use_tb_cache else 2 * (cpu.ax + cpu.bx)
    assert pic.samples == 501 and blocks == 500
    if cpu.use_tb_cache:
        assert cpu.counters.total.tbs_chained >= 490 - 3 * cpu.tb_threshold


def test_rewriting_a_linked_successor_unlinks_it(machine):
    cpu = start(machine, {0x7C00: JUMPS})
    cpu.cx = 10
    cpu.run(max_instructions=100)
    assert cpu.bx == 10
    if cpu.use_tb_cache:
        a = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
        b = cpu.tb_cache.lookup(0x7C04, 0, cpu.hflags)
        assert a.jmp_dest[0] is b
    # the successor's INC BX becomes DEC BX (a scripted write, as a debugger would)
    machine.write(0x7C04, b"\x4B")
    if cpu.use_tb_cache:
        assert not b.valid and a.jmp_dest[0] is None and a.valid
    cpu.eip, cpu.cx, cpu.halted = 0x7C00, 10, False
    cpu.run(max_instructions=100)
    assert cpu.halted and cpu.bx == 0 and cpu.ax == 20


def test_a_store_into_a_linked_successor_runs_the_new_code(machine):
    # 7C00 mov byte [7C0Ah], 4Bh (DEC BX over INC BX); jmp 7C0A
    # 7C0A inc bx; hlt
    cpu = start(machine, {0x7C00: asm("C6060A7C4B", "EB03", "909090", "43", "F4")})
    # run once with the original code by entering past the store: links 7C05 -> 7C0A
    cpu.eip = 0x7C05
    cpu.run(max_instructions=10)
    assert cpu.bx == 1
    cpu.eip, cpu.halted = 0x7C00, False
    cpu.run(max_instructions=10)
    assert cpu.halted and cpu.bx == 0   # the DEC ran, not the stale INC
