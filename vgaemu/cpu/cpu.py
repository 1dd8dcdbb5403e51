"""X86CPU: the 386 in real-address mode (and the unreal-mode tricks boot code plays with
CR0.PE), running guest code out of the machine's address space.

``run()`` looks the block at CS:EIP up in the TB cache (keyed by guest-physical PC, CS base
and the mode bits, as QEMU's tb_lookup) and calls it.  Execution is tiered, as JITs whose
compiler is slow do it (v86 counts block entries before compiling; QEMU has no tier because
its TCG translates in microseconds, ours in a millisecond): a block seen for the first time
becomes an InterpretedBlock, run one decoded instruction at a time, and only the entry
after its first ``tb_threshold`` translates it (vgaemu.cpu.translate) into a TB that replaces it.
Both tiers live in the TB cache and protect their pages, so a write to their code kills
either one the same way.  With ``tb_cache=False`` every instruction is decoded again each
time it runs (the "decode-every-instruction" path, for comparison and debugging): only the
Python code for one decoded instruction is memoised, keyed by its bytes, so nothing depends
on what memory held before.
"""

from __future__ import annotations

from vgaemu.errors import VGAEmuError

from .counters import CPUCounters
from .state import (ARITH, CC_SUB, CS, DF, ES, FLAGS_FIXED, HF_A20OFF, HF_CS32, HF_PE,
                    HF_SS32, IF, MASKS, REG8, REG16, REG32, SEG_NAMES, SIZE_INDEX, SS, TF,
                    cc_op, lazy_arith)
from .tb import InterpretedBlock, TBCache, TBCacheError, TranslationBlock
from .tlb import SoftTLB
from .portio import PortDispatch
from .translate import EXIT_NOCHAIN, TB_MAX_INSNS, Translator, UnimplementedInstruction

EFLAGS_WRITABLE_16 = 0x7FD5
EFLAGS_WRITABLE_32 = 0x7FD5 | 0x40000 | 0x200000   # + AC and ID, as QEMU's POPF in real mode
#: Where the BIOS ROM lives (QEMU's isa-bios window of pc.bios: the 64 KiB below 1 MiB).
BIOS_TRAP_LO, BIOS_TRAP_HI = 0xF0000, 0x100000
_INSN_CACHE_MAX = 1 << 16
#: A block translated this many times at one key (its code keeps being rewritten) is run by
#: the decode-every-instruction path from then on: compiling costs more than it saves.
SMC_RETRANSLATE_LIMIT = 6
#: How many translations per TB key _translate keeps for reuse by identical bytes.
_BY_BYTES_VERSIONS = 4
#: A block is interpreted on this many entries and translated on the next one (0: translate
#: at once, a single tier).  Measured (benchmarks/bench_tb_tiers.py, README "The x86
#: CPU"): half the blocks of the short programs run once, but the interpreted tier still
#: generates and compiles Python per instruction (~0.1-0.3 ms each, shared only by
#: identical shapes), which costs more than translating the whole block (~0.4-0.6 ms), so
#: every threshold above 0 made them slower (hello 42 -> 43-50 ms, smc 100 -> 109-150 ms).
#: The tier pays once it runs a block without generating code; until then it is opt-in.
TB_TRANSLATE_THRESHOLD = 0


class CPUError(VGAEmuError):
    """The guest did something this real-mode CPU does not model (a protected-mode
    interrupt, a bad control register value)."""


class X86CPU:
    """One 386 CPU attached to ``machine`` (anything with ``address_space_memory`` and
    ``address_space_io``; a :class:`vgaemu.Machine` also gives it the BIOS services).

    Registers are attributes: ``eax``/``ax``/``al``/``ah``.., ``esp``.., ``cs``/``ds``..
    (setting a segment register loads it as a real-mode MOV does), ``eip``/``ip``,
    ``eflags``/``flags`` (materialised from the lazy condition codes), ``cr0``.
    """

    def __init__(self, machine, *, tb_cache: bool = True, ud_on_unimplemented: bool = False,
                 counters: CPUCounters | None = None,
                 tb_threshold: int = TB_TRANSLATE_THRESHOLD):
        self.machine = machine
        self.address_space = machine.address_space_memory
        self.address_space_io = machine.address_space_io
        self.counters = counters if counters is not None else CPUCounters()
        self.tlb = SoftTLB(self.address_space, self.counters)
        self.ports = PortDispatch(self.address_space_io)
        self.tb_cache = TBCache(self.address_space, self.tlb, self.counters)
        self.use_tb_cache = bool(tb_cache)
        self.tb_threshold = tb_threshold
        self.ud_on_unimplemented = bool(ud_on_unimplemented)
        self.translator = Translator(self)
        self._insn_cache: dict = {}
        #: TB key -> how many times it was translated (since the last tb_cache flush)
        self._translations: dict = {}
        self._translations_gen = 0
        #: TB key -> [(code bytes, function, size, icount, source)], newest first: the last
        #: few translations made there (since the last tb_cache flush), for rewritten code
        #: that returns to bytes seen before
        self._by_bytes: dict = {}
        self._done = 0   # instructions run() has executed so far (for RDTSC)
        #: hardware interrupt vectors waiting for IF (a PIC would feed this)
        self.pending_irqs: list[int] = []
        #: the interrupt controller, when a platform attaches one (QEMU's
        #: cpu_get_pic_interrupt): ``int_output`` is the INTR pin, ``acknowledge()`` the
        #: INTA cycle giving the vector.  Checked between translation blocks.
        self.pic = None
        #: QEMU's cpu_exit: a device that armed a timer earlier than the end of the running
        #: slice asks the CPU to return at the next block boundary (platform.run_until)
        self.exit_request = False
        self._a20_mask = 0xFFFFFFFF
        self.reset()

    # ------------------------------------------------------------------ reset and state
    def reset(self) -> None:
        """The state after RESET, except that CS:IP is 0000:7C00 with SP at 7C00 (where a
        BIOS hands over to a boot sector) -- the machine has no firmware to run at
        F000:FFF0."""
        self.regs = [0] * 8
        self.regs[4] = 0x7C00
        self.eip = 0x7C00
        self.eflags_rest = FLAGS_FIXED
        self.cc = (0, 0, 0, 0, 0)
        self.seg_sel = [0] * 6
        self.seg_base = [0] * 6
        self.seg_limit = [0xFFFF] * 6
        self.seg_flags = [0] * 6
        self.cr = [0x10, 0, 0, 0, 0]  # CR0.ET: a 387-compatible coprocessor interface
        self.gdtr = (0, 0xFFFF)
        self.idtr = (0, 0x3FF)
        self.hflags = 0 if self._a20_mask == 0xFFFFFFFF else HF_A20OFF
        self.halted = False
        self.pending_irqs.clear()
        self.nmi_pending = False
        self.nmi_blocked = False

    def close(self) -> None:
        self.tb_cache.close()
        self.tlb.close()
        self.ports.close()

    # registers as attributes -----------------------------------------------------------
    def _reg32(i):
        def get(self):
            return self.regs[i]

        def set_(self, v):
            self.regs[i] = _check(v, 0xFFFFFFFF, REG32[i])
        return property(get, set_)

    def _reg16(i):
        def get(self):
            return self.regs[i] & 0xFFFF

        def set_(self, v):
            self.regs[i] = self.regs[i] & 0xFFFF0000 | _check(v, 0xFFFF, REG16[i])
        return property(get, set_)

    def _reg8(i):
        r, sh = (i, 0) if i < 4 else (i - 4, 8)

        def get(self):
            return self.regs[r] >> sh & 0xFF

        def set_(self, v):
            self.regs[r] = self.regs[r] & ~(0xFF << sh) | _check(v, 0xFF, REG8[i]) << sh
        return property(get, set_)

    def _sreg(i):
        def get(self):
            return self.seg_sel[i]

        def set_(self, v):
            self.load_seg(i, _check(v, 0xFFFF, SEG_NAMES[i]))
        return property(get, set_)

    eax, ecx, edx, ebx = _reg32(0), _reg32(1), _reg32(2), _reg32(3)
    esp, ebp, esi, edi = _reg32(4), _reg32(5), _reg32(6), _reg32(7)
    ax, cx, dx, bx = _reg16(0), _reg16(1), _reg16(2), _reg16(3)
    sp, bp, si, di = _reg16(4), _reg16(5), _reg16(6), _reg16(7)
    al, cl, dl, bl = _reg8(0), _reg8(1), _reg8(2), _reg8(3)
    ah, ch, dh, bh = _reg8(4), _reg8(5), _reg8(6), _reg8(7)
    es, cs, ss = _sreg(0), _sreg(1), _sreg(2)
    ds, fs, gs = _sreg(3), _sreg(4), _sreg(5)
    del _reg32, _reg16, _reg8, _sreg

    @property
    def a20_mask(self) -> int:
        """0xFFFFFFFF with the A20 gate on, 0xFFEFFFFF with it off (address line 20 held
        low).  Part of the TB key (HF_A20OFF), so translated code needs no mask with it on."""
        return self._a20_mask

    @a20_mask.setter
    def a20_mask(self, mask: int) -> None:
        if mask not in (0xFFFFFFFF, 0xFFEFFFFF):
            raise CPUError(f"a20_mask {mask!r}: expected 0xFFFFFFFF or 0xFFEFFFFF")
        self._a20_mask = mask
        self._set_hflag(HF_A20OFF, mask != 0xFFFFFFFF)

    @property
    def tb_threshold(self) -> int:
        """How many entries of a block are interpreted before the next one translates it
        (0: translate on the first entry, a single-tier CPU)."""
        return self._tb_threshold

    @tb_threshold.setter
    def tb_threshold(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise CPUError(f"tb_threshold {n!r}: expected an integer >= 0 (block entries "
                           f"before translation)")
        self._tb_threshold = n

    @property
    def ip(self) -> int:
        return self.eip & 0xFFFF

    @ip.setter
    def ip(self, v: int) -> None:
        self.eip = _check(v, 0xFFFF, "ip")

    def get_eflags(self) -> int:
        return (self.eflags_rest & ~ARITH) | lazy_arith(*self.cc)

    def set_eflags(self, v: int, size: int = 4) -> None:
        """POPF/IRET in real mode: every flag but VM/RF is writable (IOPL too)."""
        w = EFLAGS_WRITABLE_32 if size == 4 else EFLAGS_WRITABLE_16
        new = (self.eflags_rest & ~w) | (v & w) | FLAGS_FIXED
        self.eflags_rest = new & ~ARITH | FLAGS_FIXED
        self.cc = (0, v & ARITH, 0, 0, 0)

    eflags = property(get_eflags, lambda self, v: self.set_eflags(_check(v, 0xFFFFFFFF,
                                                                        "eflags"), 4))
    flags = property(lambda self: self.get_eflags() & 0xFFFF,
                     lambda self, v: self.set_eflags(_check(v, 0xFFFF, "flags"), 2))

    @property
    def cr0(self) -> int:
        return self.cr[0]

    @cr0.setter
    def cr0(self, v: int) -> None:
        self.write_cr(0, _check(v, 0xFFFFFFFF, "cr0"))

    def __repr__(self) -> str:
        r = " ".join(f"{n}={self.regs[i]:08X}" for i, n in enumerate(REG32))
        s = " ".join(f"{n}={self.seg_sel[i]:04X}" for i, n in enumerate(SEG_NAMES))
        return f"<X86CPU {r} eip={self.eip:08X} eflags={self.get_eflags():08X} {s}>"

    # ------------------------------------------------------------------ segments, CRs
    def load_seg(self, i: int, sel: int) -> int:
        """Load segment register ``i``; returns the new base.  Real mode (and vm86-like
        real mode with cached limits): base = selector * 16, limit and attributes stay, so
        "unreal mode" keeps its 4 GiB limit.  Protected mode: the GDT descriptor."""
        sel &= 0xFFFF
        if not self.cr[0] & 1:
            self.seg_sel[i] = sel
            base = sel << 4
            self.seg_base[i] = base
            return base
        if sel & 4:
            raise CPUError(f"loading {SEG_NAMES[i]} with LDT selector {sel:#06x}: no LDT")
        if sel < 4:  # the null selector
            if i in (CS, SS):
                raise CPUError(f"loading the null selector into {SEG_NAMES[i]}")
            self.seg_sel[i] = sel
            self.seg_base[i] = 0
            self.seg_limit[i] = 0
            return 0
        gbase, glimit = self.gdtr
        off = sel & ~7
        if off + 7 > glimit:
            raise CPUError(f"selector {sel:#06x} is beyond the GDT limit {glimit:#x}")
        lo = self._ld(gbase + off, 4)
        hi = self._ld(gbase + off + 4, 4)
        base = (lo >> 16) | (hi & 0xFF) << 16 | (hi & 0xFF000000)
        limit = (lo & 0xFFFF) | (hi & 0xF0000)
        if hi & 0x800000:  # G: 4 KiB granularity
            limit = limit << 12 | 0xFFF
        self.seg_sel[i] = sel
        self.seg_base[i] = base
        self.seg_limit[i] = limit
        self.seg_flags[i] = hi & 0x00F0FF00
        if i == CS:
            self._set_hflag(HF_CS32, hi & 0x400000)
        elif i == SS:
            self._set_hflag(HF_SS32, hi & 0x400000)
        return base

    def _set_hflag(self, bit: int, on) -> None:
        self.hflags = (self.hflags | bit) if on else (self.hflags & ~bit)

    def write_cr(self, n: int, v: int) -> None:
        v &= 0xFFFFFFFF
        if n == 0:
            if v & 0x80000000:
                raise CPUError("CR0.PG (paging) is not modelled: this CPU runs real mode and "
                               "flat/unreal segments only")
            self.cr[0] = v | 0x10
            self._set_hflag(HF_PE, v & 1)
        elif n in (2, 3, 4):
            self.cr[n] = v
        else:
            raise CPUError(f"no control register CR{n}")

    # ------------------------------------------------------------------ memory helpers
    def _ld(self, lin: int, size: int) -> int:
        return self.tlb.load(lin & self._a20_mask, size)

    def _st(self, lin: int, size: int, v: int) -> bool:
        """A store from Python (pushes of INT/IRET/far calls, BIOS services): the path
        generated code takes, so a stack beside the code on its page is one store."""
        return self.translator.st(lin & self._a20_mask, size, v & MASKS[SIZE_INDEX[size]])

    def code_byte(self, lin: int) -> int:
        mv = self.tlb.read_pages.get(lin >> 12)
        if mv is not None:
            return mv[lin & 4095]
        return self.tlb.load(lin, 1)

    def _push(self, size: int, v: int) -> None:
        if self.hflags & HF_SS32:
            sp = (self.regs[4] - size) & 0xFFFFFFFF
            self.regs[4] = sp
        else:
            sp = (self.regs[4] - size) & 0xFFFF
            self.regs[4] = self.regs[4] & 0xFFFF0000 | sp
        self._st(self.seg_base[SS] + sp, size, v)

    def _pop(self, size: int) -> int:
        if self.hflags & HF_SS32:
            sp = self.regs[4]
            self.regs[4] = (sp + size) & 0xFFFFFFFF
        else:
            sp = self.regs[4] & 0xFFFF
            self.regs[4] = self.regs[4] & 0xFFFF0000 | (sp + size) & 0xFFFF
        return self._ld(self.seg_base[SS] + sp, size)

    # ------------------------------------------------------------------ control transfer
    def interrupt(self, vector: int) -> None:
        """Real-mode interrupt delivery (INT n, exceptions, IRQs): push FLAGS, CS, IP, clear
        IF and TF, and jump through the IVT at IDTR.base + 4 * vector."""
        if self.cr[0] & 1:
            raise CPUError(f"interrupt {vector:#04x} in protected mode: protected-mode "
                           f"interrupts are not modelled (only real and unreal mode)")
        base, limit = self.idtr
        if vector * 4 + 3 > limit:
            raise CPUError(f"interrupt {vector:#04x} is beyond the IVT limit {limit:#x} "
                           f"(a real 386 would shut down)")
        self._push(2, self.get_eflags() & 0xFFFF)
        self._push(2, self.seg_sel[CS])
        self._push(2, self.eip & 0xFFFF)
        self.eflags_rest &= ~(IF | TF | 0x40000)
        off = self._ld(base + vector * 4, 2)
        sel = self._ld(base + vector * 4 + 2, 2)
        self.load_seg(CS, sel)
        self.eip = off
        self.halted = False

    def exception(self, vector: int) -> None:
        """A fault: ``cpu.eip`` already points at the faulting instruction."""
        self.interrupt(vector)

    def iret(self, size: int) -> None:
        ip = self._pop(size)
        cs = self._pop(size) & 0xFFFF
        fl = self._pop(size)
        self.load_seg(CS, cs)
        self.eip = ip & MASKS[SIZE_INDEX[size]]
        self.set_eflags(fl, size)
        self.nmi_blocked = False   # the end of an NMI handler lets the next NMI in:
        if self.nmi_pending:       # one latched meanwhile is taken right after the IRET
            self._take_nmi()

    def far_call(self, sel: int, off: int, size: int, ret_eip: int) -> None:
        self._push(size, self.seg_sel[CS])
        self._push(size, ret_eip)
        self.far_jump(sel, off)

    def far_jump(self, sel: int, off: int) -> None:
        self.load_seg(CS, sel)
        self.eip = off

    def far_ret(self, size: int, imm: int) -> None:
        ip = self._pop(size)
        cs = self._pop(size) & 0xFFFF
        if imm:
            if self.hflags & HF_SS32:
                self.regs[4] = (self.regs[4] + imm) & 0xFFFFFFFF
            else:
                self.regs[4] = self.regs[4] & 0xFFFF0000 | (self.regs[4] + imm) & 0xFFFF
        self.load_seg(CS, cs)
        self.eip = ip

    def nmi(self) -> None:
        """Raise NMI (QEMU's CPU_INTERRUPT_NMI, QMP ``inject-nmi``): taken through vector 2
        whatever IF says, waking a HLT, when the CPU next runs -- the host raises it between
        slices, so that is the next instruction boundary.  While its handler runs a further
        NMI is latched (one, as on a 386) and taken right after the handler's IRET."""
        self.nmi_pending = True

    def _take_nmi(self) -> None:
        self.nmi_pending = False
        self.nmi_blocked = True
        self.interrupt(2)

    def raise_irq(self, vector: int) -> None:
        """A hardware interrupt: delivered before the next TB once IF is set (and it wakes
        a HLT)."""
        self.pending_irqs.append(vector & 0xFF)

    def rdtsc(self, in_block: int = 0) -> int:
        """The time-stamp counter: the machine's virtual clock in ns (1 GHz) plus one tick
        per instruction executed since the clock last advanced (QEMU's icount idea), so a
        program timing itself with RDTSC sees time pass within a frame.  ``in_block``: the
        instructions the running block executed before the RDTSC."""
        clock = getattr(self.machine, "clock", None)
        base = clock.now_ns if clock is not None else 0
        return base + self.counters.instructions + self._done + in_block

    def bios_call(self, vector: int) -> None:
        """A BIOS trap stub ran (0F FF nn in the BIOS ROM): the service for ``vector``,
        then the stub's IRET returns to the caller."""
        bios = getattr(self.machine, "pc_bios", None)
        if bios is None:
            raise CPUError(f"BIOS trap for INT {vector:02X}h but the machine has no BIOS")
        bios.service(self, vector)

    # ------------------------------------------------------------------ string instructions
    def string_op(self, kind: str, size: int, asz: int, rep: int, seg: int) -> bool:
        """MOVS CMPS STOS LODS SCAS INS OUTS with or without a REP prefix, on cpu state.
        Returns True when a store invalidated the running TB."""
        R = self.regs
        am = 0xFFFFFFFF if asz == 4 else 0xFFFF
        cnt = R[1] & am if rep else 1
        if not cnt:
            return False
        step = -size if self.eflags_rest & DF else size
        es = self.seg_base[ES]
        src = self.seg_base[seg]
        stop = False
        vmask = MASKS[SIZE_INDEX[size]]
        ports = self.ports
        port = R[2] & 0xFFFF
        a = b = 0
        while cnt:
            si = R[6] & am
            di = R[7] & am
            if kind in ("stos", "movs") and step > 0 and cnt > 1:
                n, hit = self._bulk(kind, size, cnt, src + si, es + di, si, di, am)
                if n:
                    stop |= hit
                    cnt -= n
                    R[7] = R[7] & ~am | (di + n * size) & am
                    if kind == "movs":
                        R[6] = R[6] & ~am | (si + n * size) & am
                    continue
            if kind == "movs":
                stop |= self._st(es + di, size, self._ld(src + si, size))
            elif kind == "stos":
                stop |= self._st(es + di, size, R[0] & vmask)
            elif kind == "lods":
                v = self._ld(src + si, size)
                R[0] = (R[0] & ~vmask | v) if size < 4 else v
            elif kind == "cmps":
                a = self._ld(src + si, size)
                b = self._ld(es + di, size)
            elif kind == "scas":
                a = R[0] & vmask
                b = self._ld(es + di, size)
            elif kind == "ins":
                v = ports.inp[size](port)
                stop |= self._st(es + di, size, v)
            else:  # outs
                v = self._ld(src + si, size)
                ports.out[size](port, v)
            if kind in ("movs", "cmps", "lods", "outs"):
                R[6] = R[6] & ~am | (si + step) & am
            if kind in ("movs", "cmps", "stos", "scas", "ins"):
                R[7] = R[7] & ~am | (di + step) & am
            cnt -= 1
            if kind in ("cmps", "scas"):
                self.cc = (cc_op(CC_SUB, size), (a - b) & vmask, a, b, 0)
                if rep == 0xF3 and a != b or rep == 0xF2 and a == b:
                    break
        if rep:
            R[1] = R[1] & ~am | cnt
        return stop

    def _bulk(self, kind: str, size: int, cnt: int, src_lin: int, dst_lin: int, si: int,
              di: int, am: int) -> tuple[int, bool]:
        """A run of forward STOS/MOVS elements that stays in one destination page (and one
        source page) without wrapping the offset, stored as one piece: a slice store where
        the page is directly writable, else SoftTLB.store_bytes (NOTDIRTY, MMIO block ops
        and code invalidation happen there).  Returns (elements done -- 0: do one element
        the slow way --, the running TB was invalidated)."""
        a20 = self._a20_mask
        dst = dst_lin & a20
        n = min(cnt, (4096 - (dst & 4095)) // size, (am + 1 - di) // size)
        if kind == "movs":
            s = src_lin & a20
            n = min(n, (4096 - (s & 4095)) // size, (am + 1 - si) // size)
            if n <= 1:
                return 0, False
            if s < dst < s + n * size:  # overlapping forward copy replicates: element-wise
                return 0, False
            mv = self.tlb.read_pages.get(s >> 12)
            if mv is not None:
                o = s & 4095
                data = bytes(mv[o:o + n * size])
            else:
                data = self.address_space.read_bytes(s, n * size)
        else:
            if n <= 1:
                return 0, False
            data = (self.regs[0] & MASKS[SIZE_INDEX[size]]).to_bytes(size, "little") * n
        wmv = self.tlb.write_pages.get(dst >> 12)
        if wmv is not None:
            o = dst & 4095
            wmv[o:o + len(data)] = data
            return n, False
        return n, self.tlb.store_bytes(dst, data)

    # ------------------------------------------------------------------ running
    def run(self, max_instructions: int | None = None, until=None) -> int:
        """Run until ``max_instructions`` have executed (exactly: a block that would overrun
        the budget is executed instruction by instruction), ``until(cpu)`` is true (checked
        before every block, and between the turns of a block that loops on itself), or HLT
        with no interrupt pending.  Returns the number of instructions executed.

        A TB that leaves through a direct exit (a jump, a branch, the fall-through) is
        linked to the TB it reached (tb_add_jump), and from then on that exit leads straight
        to its successor without the cache lookup (QEMU's goto_tb chaining); interrupts, the
        budget and ``until`` are still checked before every block."""
        budget = (1 << 62) if max_instructions is None else int(max_instructions)
        done = 0
        counters = self.counters
        tbc = self.tb_cache
        tbs = tbc.tbs
        use_tbs = self.use_tb_cache
        tb_exec = chained = 0
        seg_base = self.seg_base
        pending = self.pending_irqs
        pic = self.pic
        if self.nmi_pending and not self.nmi_blocked and budget > 0:
            self._take_nmi()
        link = tbc.link
        nochain = EXIT_NOCHAIN
        last = None      # the TB that just ran, when it left through a direct exit
        slot = 0
        try:
            while done < budget:
                self._done = done
                if until is not None and until(self):
                    break
                if self.eflags_rest & IF and (pending or pic is not None and pic.int_output):
                    self.halted = False
                    self.interrupt(pending.pop(0) if pending else pic.acknowledge())
                    last = None
                if self.exit_request:   # a device asked the platform loop to look (the RTC)
                    break
                left = budget - done
                if last is not None:   # (a direct exit: no HLT, no mode change)
                    tb = last.jmp_dest[slot]
                    if tb is not None and tb.icount <= left:
                        chained += 1
                        tbc.running = tb
                        r = tb.func(self, left if until is None else tb.icount)
                        done += r >> 2
                        slot = r & 3
                        last = tb if slot != nochain else None
                        continue
                elif self.halted:
                    break
                cs_base = seg_base[1]
                pc = (cs_base + self.eip) & self._a20_mask
                if use_tbs:
                    tb = tbs.get((pc, cs_base, self.hflags))
                    if tb is None and left > 1:   # step() never needs a whole block
                        tb = self._tb_miss(pc, cs_base)
                    if tb is not None and tb.icount <= left:
                        if last is not None:
                            link(last, slot, tb)
                        tbc.running = tb
                        r = tb.func(self, left if until is None else tb.icount)
                        done += r >> 2
                        tb_exec += 1
                        slot = r & 3
                        last = tb if slot != nochain else None
                        continue
                last = None
                tbc.running = None
                done += self._exec_one(pc, cs_base)
        finally:
            tbc.running = None
            self._done = 0
            counters.instructions += done
            counters.tbs_executed += tb_exec + chained
            counters.tbs_chained += chained
        return done

    def step(self) -> int:
        """Execute exactly one instruction (or deliver a pending interrupt and execute the
        handler's first instruction)."""
        return self.run(max_instructions=1)

    def _bios_trap_ok(self, pc: int) -> bool:
        return BIOS_TRAP_LO <= pc < BIOS_TRAP_HI and getattr(self.machine, "pc_bios", None) is not None

    def _tb_miss(self, pc: int, cs_base: int) -> TranslationBlock | None:
        """No block at ``pc``: code seen for the first time (or rewritten) starts on the
        interpreted tier; code that went back to bytes translated here before reuses that
        translation at once (it costs no compile)."""
        if not self._tb_threshold:
            return self._translate(pc, cs_base)
        key = (pc, cs_base, self.hflags)
        if self._translations_gen == self.tb_cache.generation and key in self._by_bytes:
            tb = self._reuse_translation(pc, key)
            if tb is not None:
                return tb
        if self.tlb.code_ram_addr(pc) is None:
            return None
        hflags = self.hflags
        try:
            insns = self.translator.gather(cs_base, self.eip, hflags, TB_MAX_INSNS)
        except UnimplementedInstruction:
            return None   # _exec_one reports it (or raises #UD)
        size = insns[-1].next_eip - insns[0].eip
        if not 0 < size <= 4096 or self.tlb.code_ram_addr((pc + size - 1) & 0xFFFFFFFF) is None:
            return None
        itb = InterpretedBlock(pc, cs_base, hflags, size, insns)
        itb.func = lambda cpu, budget: cpu._interpret(itb, budget)
        try:
            return self.tb_cache.insert(itb)
        except TBCacheError:
            return None

    def _interpret(self, itb: InterpretedBlock, budget: int) -> int:
        """An InterpretedBlock's ``func``: its instructions one at a time, each through the
        one-instruction function the decode-every-instruction path uses, until one leaves
        the straight line (a taken branch, an interrupt, a fault) or a write kills the
        block.  Its entry after ``tb_threshold`` translates it and runs the TB instead
        (the CPU loop finds the TB from the next entry on).  Returns what a TB returns;
        no exit of an interpreted block is chained."""
        itb.hits += 1
        if itb.hits > self._tb_threshold:
            tb = self._promote(itb)
            if tb is not None:
                self.tb_cache.running = tb
                return tb.func(self, budget)
        self.counters.blocks_interpreted += 1
        fns = itb.fns
        ipmask = 0xFFFFFFFF if itb.flags & HF_CS32 else 0xFFFF
        n = 0
        for i, ins in enumerate(itb.insns):
            fn = fns[i]
            if fn is None:
                fn = fns[i] = self._insn_function(ins, itb.pc, itb.flags)
                if fn is None:   # unimplemented, #UD raised in the guest
                    return (n + 1) << 2 | EXIT_NOCHAIN
            self._done += n
            r = fn(self, 1) >> 2
            self._done -= n
            n += r
            if not r or self.eip != ins.next_eip & ipmask or not itb.valid or n >= budget:
                break
        return n << 2 | EXIT_NOCHAIN

    def _promote(self, itb: InterpretedBlock) -> TranslationBlock | None:
        """Translate the block ``itb`` stands for; the TB replaces it in the cache.  None
        when it cannot be translated (it is then interpreted for as long as it lives)."""
        tbc = self.tb_cache
        running, tbc.running = tbc.running, None   # being replaced is not being killed
        try:
            tb = self._translate(itb.pc, itb.cs_base)
        finally:
            tbc.running = running
        if tb is None or itb.valid:
            itb.hits = -(1 << 62)
            return None
        return tb

    def _insn_function(self, ins, pc: int, hflags: int):
        """The memoised one-instruction function for ``ins`` (None when it is unimplemented
        and the CPU raised #UD in the guest instead)."""
        trap = self._bios_trap_ok(pc)
        key = (ins.eip, hflags, ins.raw, trap)
        fn = self._insn_cache.get(key)
        if fn is None:
            tr = self.translator
            try:
                source = tr.generate_one(ins, hflags, trap)
            except UnimplementedInstruction:
                if not self.ud_on_unimplemented:
                    raise
                self.exception(6)
                return None
            fn = tr.compile_shared(source, f"insn@{pc:#x}")
            if len(self._insn_cache) >= _INSN_CACHE_MAX:
                self._insn_cache.clear()
            self._insn_cache[key] = fn
        return fn

    def _translate(self, pc: int, cs_base: int) -> TranslationBlock | None:
        """Translate and insert the TB at ``pc``; None when the code is not in RAM/ROM (it
        then runs one instruction at a time, uncached) or cannot be translated (the
        decode path reports it)."""
        tlb = self.tlb
        if tlb.code_ram_addr(pc) is None:
            return None
        hflags = self.hflags
        counts = self._translations
        if self._translations_gen != self.tb_cache.generation:
            counts.clear()
            self._by_bytes.clear()
            self._translations_gen = self.tb_cache.generation
        key = (pc, cs_base, hflags)
        seen = counts.get(key, 0)
        if seen:
            tb = self._reuse_translation(pc, key)
            if tb is not None:
                return tb
        if seen >= SMC_RETRANSLATE_LIMIT:
            return None   # self-modifying hot spot: decode it each time instead
        counts[key] = seen + 1
        tr = self.translator
        try:
            insns = tr.gather(cs_base, self.eip, hflags, TB_MAX_INSNS)
            source, used = tr.generate(insns, hflags, self._bios_trap_ok(pc))
        except UnimplementedInstruction:
            return None
        insns = insns[:used]
        size = insns[-1].next_eip - insns[0].eip
        if tlb.code_ram_addr((pc + size - 1) & 0xFFFFFFFF) is None:
            return None
        # code translated here before was rewritten: its next versions likely differ only
        # in literals (a patched immediate), which compile_shared turns into a call
        func = (tr.compile_shared if seen else tr.compile)(source, f"tb@{pc:#x}")
        tb = TranslationBlock(pc, cs_base, hflags, size, func, icount=used, source=source)
        try:
            tb = self.tb_cache.insert(tb)
        except TBCacheError:
            return None
        data = self._code_bytes(pc, size)
        if data is not None:
            # the translation is a function of (key, bytes) alone: remember a few per key
            versions = self._by_bytes.setdefault(key, [])
            versions.insert(0, (bytes(data), func, size, used, source))
            del versions[_BY_BYTES_VERSIONS:]
        return tb

    def _reuse_translation(self, pc: int, key: tuple) -> TranslationBlock | None:
        """Rewritten code that went back to bytes translated at ``key`` before (a patch
        undone, a routine copied in again): that translation again, no decode/compile."""
        for data, func, size, icount, source in self._by_bytes.get(key, ()):
            if self._code_bytes(pc, size) == data:
                tb = TranslationBlock(pc, key[1], key[2], size, func, icount=icount,
                                      source=source)
                try:
                    return self.tb_cache.insert(tb)
                except TBCacheError:
                    return None
        return None

    def _code_bytes(self, pc: int, size: int):
        """The ``size`` bytes of guest-physical code at ``pc`` (None where a page has no
        read entry): what a translation there was made from."""
        rp = self.tlb.read_pages
        o = pc & 4095
        mv = rp.get(pc >> 12)
        if mv is None:
            return None
        if o + size <= 4096:
            return mv[o:o + size]
        mv2 = rp.get((pc >> 12) + 1)
        if mv2 is None:
            return None
        return bytes(mv[o:]) + bytes(mv2[:o + size - 4096])

    def _exec_one(self, pc: int, cs_base: int) -> int:
        """Decode the instruction at CS:EIP and run it (the tb_cache=False path)."""
        try:
            ins = self.translator.gather(cs_base, self.eip, self.hflags, 1)[0]
        except UnimplementedInstruction:
            if not self.ud_on_unimplemented:
                raise
            self.exception(6)
            return 1
        fn = self._insn_function(ins, pc, self.hflags)
        if fn is None:
            return 1
        return fn(self, 1) >> 2


def _check(v, limit: int, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= limit:
        raise CPUError(f"register {name}={v!r}: expected an integer 0..{limit:#x}")
    return v
