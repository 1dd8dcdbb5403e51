"""Compiled code shared by the machines of one process (vgaemu.cpu.translate's code-object
cache): a second machine running the same guest code compiles nothing, yet its TBs read and
write its own memory."""

from vgaemu.cpu import translate
from vgaemu.machine import Machine

# 7C00 mov ax, [0500h]; inc ax; mov [0500h], ax; hlt
CODE = bytes.fromhex("A10005" "40" "A30005" "F4")


def run(m):
    m.write(0x7C00, CODE)
    m.cpu.eip, m.cpu.halted = 0x7C00, False
    m.cpu.tb_threshold = 0
    m.cpu.run(max_instructions=100)
    return m.cpu.tb_cache.lookup(0x7C00, 0, m.cpu.hflags)


def test_a_second_machine_reuses_the_code_and_keeps_its_own_memory():
    m1, m2 = Machine(memory="2M", vram="1M"), Machine(memory="2M", vram="1M")
    try:
        m1.write(0x500, b"\x10\x00")
        m2.write(0x500, b"\x20\x00")
        tb1, tb2 = run(m1), run(m2)
        assert tb1.func is not tb2.func and tb1.func.__code__ is tb2.func.__code__
        assert tb1.func.__globals__["RP"] is m1.cpu.tlb.read_pages
        assert tb2.func.__globals__["RP"] is m2.cpu.tlb.read_pages
        assert m1.read(0x500, 2) == b"\x11\x00" and m2.read(0x500, 2) == b"\x21\x00"
    finally:
        m1.cpu.close()
        m2.cpu.close()


def test_clear_code_cache_makes_the_next_machine_compile():
    m1 = Machine(memory="2M", vram="1M")
    m2 = Machine(memory="2M", vram="1M")
    try:
        tb1 = run(m1)
        translate.clear_code_cache()
        tb2 = run(m2)
        assert tb1.func.__code__ is not tb2.func.__code__
        assert tb1.func.__code__.co_code == tb2.func.__code__.co_code
    finally:
        m1.cpu.close()
        m2.cpu.close()
