"""Run the same real-mode code in unicorn (QEMU's TCG, the reference) and in vgaemu's X86CPU,
from the same registers and memory, and say where they part.

The sandbox (x86_sequences.LAYOUT) gives each segment register a 64 KiB window of RAM;
unicorn maps only those windows, so a wild access faults there.  The reference runs first,
one architectural instruction at a time (a REP string instruction is one instruction, though
unicorn counts each iteration), and stops at the first thing real mode does not define the
same way in both or that unicorn does not model as a 386 does: an interrupt or exception
(INT n, #DE, #UD -- unicorn reports them instead of going through the IVT), an access outside
its segment's 64 KiB (a store; a load there faults if it leaves the windows), port I/O
outside the test device, leaving the code window, or an instruction budget.  Everything
before that point must match exactly: the eight general registers, EIP, the segment
registers, the EFLAGS bits a 386 has (minus the arithmetic flags the SDM leaves undefined
after the instruction), every byte of the six windows and every OUT to the test device.

Known unicorn 2.1 bugs the generator steers around: LOCK NEG computes its flags from the
old value; with a UC_HOOK_MEM_READ installed a real-mode RETF pops a wrong CS.  Where QEMU
itself departs from a 386 the reference stops instead: a real-mode RETF whose CS pop wraps
past 64 KiB of stack reads CS beyond the segment in QEMU (test_vectors_cpu.py holds the
386's answer).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np
from unicorn import (UC_ARCH_X86, UC_HOOK_INSN, UC_HOOK_INTR, UC_HOOK_MEM_WRITE, UC_MODE_16, Uc,
                     UcError)
from unicorn import x86_const as X

from tests.vgaemu.cpu.x86_sequences import (CODE_IP, EFLAGS_COMPARED, LAYOUT, REGS32,
                                            WINDOW_SIZE, WINDOWS, undefined_flags)

SEGS = ("cs", "ds", "es", "ss", "fs", "gs")
UC_REG = {name: getattr(X, f"UC_X86_REG_{name.upper()}") for name in REGS32 + list(SEGS)}
UC_REG["eip"] = X.UC_X86_REG_EIP
UC_REG["eflags"] = X.UC_X86_REG_EFLAGS
STATE_KEYS = REGS32 + ["eip", "eflags"] + list(SEGS)
CODE_BASE = LAYOUT["cs"] << 4
#: Steps of the reference before a sequence counts as running away (a loop whose body hit CX).
STEP_BUDGET = 400


#: Instruction prefixes (operand/address size, segment overrides, LOCK, REP).
_PREFIXES = frozenset((0x66, 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0xF0, 0xF2, 0xF3))


def vgaemu_implements(code: bytes) -> bool:
    """Does vgaemu's CPU translate the 16-bit instruction that starts ``code``?  (The
    generated sequences hold only such instructions; random window bytes may not.)"""
    from vgaemu.cpu.decode import DecodeError, decode
    from vgaemu.cpu.translate import _DISPATCH

    try:
        ins = decode(lambda off: code[off], 0, False)
    except (DecodeError, IndexError):
        return False
    return ins.op in _DISPATCH


class ReferenceStop(Exception):
    """The reference reached something the comparison must not go past."""


def sandbox_memory(seed: int, code: bytes) -> dict[int, bytes]:
    """Random contents for every window, with `code` at CS:CODE_IP."""
    rng = np.random.default_rng(seed)
    mem = {base: bytearray(rng.bytes(WINDOW_SIZE)) for base in WINDOWS}
    mem[CODE_BASE][CODE_IP:CODE_IP + len(code)] = code
    return {base: bytes(b) for base, b in mem.items()}


def initial_state(regs: dict) -> dict:
    state = dict(regs)
    state.update({seg: LAYOUT[seg] for seg in SEGS})
    state["eip"] = CODE_IP
    return state


class UnicornReference:
    """unicorn in 16-bit mode over the sandbox windows."""

    def __init__(self, memory: dict[int, bytes], state: dict):
        self.uc = uc = Uc(UC_ARCH_X86, UC_MODE_16)
        for base, data in memory.items():
            uc.mem_map(base, WINDOW_SIZE)
            uc.mem_write(base, data)
        for seg in SEGS:
            uc.reg_write(UC_REG[seg], state[seg])
        for name in REGS32 + ["eip", "eflags"]:
            uc.reg_write(UC_REG[name], state[name])
        self.stop_reason: str | None = None
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        # writes only: with a UC_HOOK_MEM_READ installed, unicorn 2.1's real-mode RETF pops
        # a wrong CS (reads outside the windows still fault: the gaps are unmapped)
        uc.hook_add(UC_HOOK_MEM_WRITE, self._on_access)
        self.port_log: list[tuple[int, int, int]] = []
        uc.hook_add(UC_HOOK_INSN, self._on_in, None, 1, 0, X.UC_X86_INS_IN)
        uc.hook_add(UC_HOOK_INSN, self._on_out, None, 1, 0, X.UC_X86_INS_OUT)

    def _on_in(self, uc, port, size, _):
        if not any(first <= port and port + size <= first + n for first, n in TEST_PORTS):
            self.stop_reason = (self.stop_reason
                                or f"IN from port 0x{port:x} outside the test device")
            uc.emu_stop()
            return 0
        return port_value(port, size)

    def _on_out(self, uc, port, size, value, _):
        if not any(first <= port and port + size <= first + n for first, n in TEST_PORTS):
            self.stop_reason = (self.stop_reason
                                or f"OUT to port 0x{port:x} outside the test device")
            uc.emu_stop()
            return
        self.port_log.append((port, size, value & ((1 << (8 * size)) - 1)))

    def _on_interrupt(self, uc, intno, _):
        self.stop_reason = self.stop_reason or f"interrupt {intno}"
        uc.emu_stop()

    def _on_access(self, uc, access, address, size, value, _):
        for base in WINDOWS:
            if base <= address and address + size <= base + WINDOW_SIZE:
                return
        self.stop_reason = self.stop_reason or f"access 0x{address:x}+{size} outside the windows"
        uc.emu_stop()

    def state(self) -> dict:
        return {k: self.uc.reg_read(UC_REG[k]) for k in STATE_KEYS}

    def linear_pc(self) -> int:
        return (self.uc.reg_read(UC_REG["cs"]) << 4) + self.uc.reg_read(UC_REG["eip"])

    def fetch(self, n: int = 16) -> bytes:
        """The bytes at CS:EIP (ReferenceStop when EIP has left the code window, as a RET
        of a 32-bit EIP with junk in its top half does, or has reached bytes vgaemu does
        not claim to run -- an x87 escape in the window's random bytes, where a computed or
        self-modified jump went: vgaemu stops there by design)."""
        pc = self.linear_pc()
        if not CODE_BASE <= pc < CODE_BASE + WINDOW_SIZE - 16:
            raise ReferenceStop(f"EIP left the code window (linear 0x{pc:x})")
        code = bytes(self.uc.mem_read(pc, 16))
        if not vgaemu_implements(code):
            raise ReferenceStop(f"an instruction vgaemu does not implement: {code[:4].hex(' ')}")
        return code[:n]

    def _check_far_return(self) -> None:
        """QEMU's real-mode RETF adds the operand size to the *linear* address of the popped
        offset to find CS, so when SP + size passes 64 KiB it reads past the stack segment;
        a 386 wraps SP and reads CS at SS:(SP + size) & 0xFFFF, as vgaemu does.  Stop there:
        real mode does not define this the same way in both."""
        code = self.fetch()
        i, size = 0, 2
        while i < len(code) and code[i] in _PREFIXES:
            size = 4 if code[i] == 0x66 else size
            i += 1
        if i < len(code) and code[i] in (0xCA, 0xCB):
            sp = self.uc.reg_read(UC_REG["esp"]) & 0xFFFF
            if sp + size > 0xFFFF:
                raise ReferenceStop("RETF whose CS pop wraps the 64 KiB stack (QEMU reads on "
                                    "past the segment)")

    def step(self) -> None:
        """One architectural instruction (all iterations of a REP string instruction)."""
        self._check_far_return()
        start = (self.uc.reg_read(UC_REG["cs"]), self.uc.reg_read(UC_REG["eip"]))
        for _ in range(0x20000):
            pc = self.linear_pc()
            if not CODE_BASE <= pc < CODE_BASE + WINDOW_SIZE - 16:
                raise ReferenceStop(f"EIP left the code window (linear 0x{pc:x})")
            try:
                self.uc.emu_start(pc, 0, count=1)
            except UcError as exc:
                raise ReferenceStop(f"unicorn: {exc}") from None
            if self.stop_reason:
                raise ReferenceStop(self.stop_reason)
            if (self.uc.reg_read(UC_REG["cs"]), self.uc.reg_read(UC_REG["eip"])) != start:
                return
        raise ReferenceStop("an instruction that does not end")

    def window(self, base: int) -> bytes:
        return bytes(self.uc.mem_read(base, WINDOW_SIZE))


#: Port ranges of the sandbox's test device: (first port, count).  IN returns
#: `port_value(port, size)`; OUT is logged.  Both sides get the same device.
TEST_PORTS = ((0xE0, 0x10), (0x300, 0x40))


def port_value(port: int, size: int) -> int:
    return ((port * 0x9E3779B1 >> 5) ^ (size * 0x5A5A5A5A)) & ((1 << (8 * size)) - 1)


class TestPortDevice:
    """An io region per TEST_PORTS range on a machine's I/O address space."""

    def __init__(self, machine):
        from guestmem import MemoryRegion
        from guestmem.region import AccessConstraints, MemoryRegionOps

        self.log: list[tuple[int, int, int]] = []
        sizes = AccessConstraints(min_access_size=1, max_access_size=4)
        for first, count in TEST_PORTS:
            ops = MemoryRegionOps(read=lambda off, size, first=first: port_value(first + off, size),
                                  write=lambda off, value, size, first=first:
                                  self.log.append((first + off, size, value)),
                                  valid=sizes, impl=sizes)
            machine.system_io.add_subregion(first, MemoryRegion.io(f"test-ports-{first:x}",
                                                                   count, ops), priority=1)


_MACHINES: dict = {}


#: ``tb_cache=INTERP``: the TB cache on, every block on the interpreted tier; ``TIERED``:
#: every block interpreted on its first entry and translated on the next
INTERP, TIERED = "interp", "tiered"
_THRESHOLDS = {True: 0, INTERP: 1 << 40, TIERED: 1}


def sandbox_machine(tb_cache):
    """One Machine per CPU path, reused: building one costs more than a whole comparison.
    Each use resets the CPU, flushes its translations and reloads every window, so no state
    survives from one example to the next that the sandbox can observe.  ``tb_cache``: True
    (every block translated on its first entry), INTERP, TIERED or False (decode every
    instruction)."""
    from vgaemu.machine import Machine

    entry = _MACHINES.get(tb_cache)
    if entry is None:
        machine = Machine(memory="2M", vram="1M", tb_cache=tb_cache is not False)
        machine.cpu.tb_threshold = _THRESHOLDS.get(tb_cache, 0)
        entry = _MACHINES[tb_cache] = (machine, TestPortDevice(machine))
    machine, ports = entry
    machine.cpu.reset()
    machine.cpu.tb_cache.flush()
    ports.log.clear()
    return machine, ports


class VgaemuCPU:
    """vgaemu's X86CPU on the sandbox machine with the sandbox loaded."""

    def __init__(self, memory: dict[int, bytes], state: dict, *, tb_cache: bool):
        self.machine, self.ports = sandbox_machine(tb_cache)
        self.cpu = cpu = self.machine.cpu
        for base, data in memory.items():
            self.machine.write(base, data)
        for seg in SEGS:
            setattr(cpu, seg, state[seg])
        for name in REGS32 + ["eip", "eflags"]:
            setattr(cpu, name, state[name])

    def state(self) -> dict:
        return {k: getattr(self.cpu, k) for k in STATE_KEYS}

    def step(self) -> None:
        """One architectural instruction (repeats the CPU's step while a REP instruction is
        still on the same CS:EIP)."""
        cpu = self.cpu
        start = (cpu.cs, cpu.eip)
        for _ in range(0x20000):
            cpu.step()
            if (cpu.cs, cpu.eip) != start:
                return
        raise AssertionError(f"vgaemu: the instruction at {start[0]:04x}:{start[1]:04x} "
                             f"does not end")

    def run(self, max_instructions: int) -> None:
        self.cpu.run(max_instructions=max_instructions)

    def set_eflags_bits(self, mask: int, value: int) -> None:
        self.cpu.eflags = (self.cpu.eflags & ~mask) | (value & mask)

    def window(self, base: int) -> bytes:
        return self.machine.read(base, WINDOW_SIZE)


# ---------------------------------------------------------------------------- comparison

def diff_states(ref: dict, ours: dict, undefined: int = 0) -> list[str]:
    out = []
    for k in STATE_KEYS:
        a, b = ref[k], ours[k]
        if k == "eflags":
            mask = EFLAGS_COMPARED & ~undefined
            a, b = a & mask, b & mask
        if a != b:
            out.append(f"{k}: unicorn 0x{a:x}, vgaemu 0x{b:x}")
    return out


def diff_ports(ref, ours) -> list[str]:
    if ref.port_log != ours.ports.log:
        return [f"port writes: unicorn {ref.port_log}, vgaemu {ours.ports.log}"]
    return []


def diff_memory(ref, ours) -> list[str]:
    out = []
    for base in WINDOWS:
        a = np.frombuffer(ref.window(base), np.uint8)
        b = np.frombuffer(ours.window(base), np.uint8)
        bad = np.flatnonzero(a != b)
        if bad.size:
            shown = ", ".join(f"0x{base + int(i):x}: unicorn {a[i]:02x} vgaemu {b[i]:02x}"
                              for i in bad[:6])
            out.append(f"{bad.size} bytes differ in window 0x{base:x} ({shown})")
    return out


def disassemble(code: bytes, origin: int = CODE_IP) -> str:
    """ndisasm's listing when NASM's disassembler is installed, else hex."""
    if shutil.which("ndisasm"):
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(code)
            f.flush()
            res = subprocess.run(["ndisasm", "-b16", "-o", str(origin), f.name],
                                 capture_output=True, text=True, timeout=10)
            if res.returncode == 0:
                return res.stdout
    return code.hex(" ")


@dataclass
class Mismatch:
    where: str
    problems: list[str]


def describe(seq_code: bytes, state: dict, seed: int, mismatch: Mismatch) -> str:
    regs = " ".join(f"{k}={state[k]:x}" for k in STATE_KEYS)
    return (f"{mismatch.where}:\n  " + "\n  ".join(mismatch.problems)
            + f"\ninitial state: {regs}\nmemory seed: {seed}\ncode:\n{disassemble(seq_code)}")


def run_single_step(code: bytes, regs: dict, seed: int, *,
                    tb_cache: bool = True) -> tuple[int, int]:
    """Step both through `code`; fail on the first difference.  Returns the number of
    instructions compared (the reference may stop early) and every flag some instruction
    left undefined on the way (what a block-mode comparison of the same code must skip)."""
    memory = sandbox_memory(seed, code)
    state = initial_state(regs)
    ref = UnicornReference(memory, state)
    ours = VgaemuCPU(memory, state, tb_cache=tb_cache)
    hlt = CODE_IP + len(code) - 1
    n = undefined_seen = 0
    while n < STEP_BUDGET:
        before = ref.state()
        if before["eip"] == hlt:
            break
        try:
            insn = ref.fetch()
            ref.step()
        except ReferenceStop:
            break
        ours.step()
        n += 1
        undefined = undefined_flags(insn, before["ecx"])
        after = ref.state()
        problems = (diff_states(after, ours.state(), undefined) + diff_memory(ref, ours)
                    + diff_ports(ref, ours))
        if problems:
            where = (f"instruction {n} at {before['cs']:04x}:{before['eip']:04x} "
                     f"({insn[:8].hex(' ')})")
            raise AssertionError(describe(code, state, seed, Mismatch(where, problems)))
        if undefined:
            ours.set_eflags_bits(undefined, after["eflags"])
            undefined_seen |= undefined
    return n, undefined_seen


def reference_steps(code: bytes, regs: dict, seed: int) -> tuple[int, bool]:
    """(instructions the reference runs before it stops, whether it reached the final HLT)."""
    ref = UnicornReference(sandbox_memory(seed, code), initial_state(regs))
    hlt = CODE_IP + len(code) - 1
    for n in range(STEP_BUDGET):
        if ref.uc.reg_read(UC_REG["eip"]) == hlt:
            return n, True
        try:
            ref.step()
        except ReferenceStop:
            return n, False
    return STEP_BUDGET, False


def run_block(code: bytes, regs: dict, seed: int, final_undefined: int, *,
              tb_cache: bool = True) -> bool:
    """Run the whole sequence in one go in both (TBs, chaining, lazy flags across blocks),
    compare at the end.  Only sequences the reference runs to their HLT count; returns
    whether this one did."""
    n, complete = reference_steps(code, regs, seed)
    if not complete:
        return False
    memory = sandbox_memory(seed, code)
    state = initial_state(regs)
    ref = UnicornReference(memory, state)
    hlt = CODE_IP + len(code) - 1
    for _ in range(n):
        ref.step()
    assert ref.uc.reg_read(UC_REG["eip"]) == hlt
    ours = VgaemuCPU(memory, state, tb_cache=tb_cache)
    ours.run(n)
    problems = (diff_states(ref.state(), ours.state(), final_undefined) + diff_memory(ref, ours)
                + diff_ports(ref, ours))
    if problems:
        where = f"after the block of {n} instructions (tb_cache={tb_cache})"
        raise AssertionError(describe(code, state, seed, Mismatch(where, problems)))
    return True


def run_program(code: bytes, regs: dict, seed: int, *, tb_cache: bool = True,
                max_instructions: int = 5_000_000) -> None:
    """Run a longer program (a loop over a table) to its final HLT in one go in both --
    unicorn as one emu_start, the X86CPU as one run() -- and compare registers and every
    window at the end.  Such a program keeps its flags defined where it stores them."""
    memory = sandbox_memory(seed, code)
    state = initial_state(regs)
    ref = UnicornReference(memory, state)
    hlt = CODE_IP + len(code) - 1
    try:
        ref.uc.emu_start(CODE_BASE + CODE_IP, CODE_BASE + hlt)
    except UcError as exc:
        raise AssertionError(f"the reference failed: {exc}") from None
    assert ref.stop_reason is None, ref.stop_reason
    assert ref.uc.reg_read(UC_REG["eip"]) == hlt, "the reference did not reach the HLT"
    ref.uc.emu_start(CODE_BASE + hlt, 0, count=1)          # the HLT itself
    ours = VgaemuCPU(memory, state, tb_cache=tb_cache)
    ours.run(max_instructions)
    problems = (diff_states(ref.state(), ours.state()) + diff_memory(ref, ours)
                + diff_ports(ref, ours))
    if problems:
        where = f"at the end of the program (tb_cache={tb_cache})"
        raise AssertionError(describe(code, state, seed, Mismatch(where, problems)))


def run_chunks(code: bytes, regs: dict, seed: int, chunks: list[int], *,
               tb_cache: bool = True) -> int:
    """Run the X86CPU in slices of `chunks` instructions (run(max_instructions=k): a
    translation block that would overrun the budget must stop exactly there) and compare
    with the reference at every slice boundary.  Returns how many slices were compared."""
    memory = sandbox_memory(seed, code)
    state = initial_state(regs)
    ref = UnicornReference(memory, state)
    ours = VgaemuCPU(memory, state, tb_cache=tb_cache)
    hlt = CODE_IP + len(code) - 1
    undefined = done = compared = 0
    for k in chunks:
        n = 0
        while n < k and ref.uc.reg_read(UC_REG["eip"]) != hlt:
            before = ref.state()
            try:
                insn = ref.fetch()
                ref.step()
            except ReferenceStop:
                return compared
            undefined |= undefined_flags(insn, before["ecx"])
            n += 1
        if n == 0:
            break
        ours.run(n)
        done += n
        problems = (diff_states(ref.state(), ours.state(), undefined) + diff_memory(ref, ours)
                    + diff_ports(ref, ours))
        if problems:
            where = f"after {done} instructions in slices of {chunks} (tb_cache={tb_cache})"
            raise AssertionError(describe(code, state, seed, Mismatch(where, problems)))
        compared += 1
    return compared
