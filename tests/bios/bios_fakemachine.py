"""A tiny stand-in machine for BIOS unit tests: VGA index/data registers, the attribute
flip-flop, the DAC and Bochs DISPI on an I/O bus that logs every access, and flat memory.

It models only what the BIOS reads back (no planar VRAM): enough to test BDA contents, the
register values a mode set programs, and text-mode memory, independently of the VGA model.
"""

from __future__ import annotations


class FakeIO:
    def __init__(self) -> None:
        self.log: list[tuple[str, int, int]] = []
        self.misc = 0x00
        self.sr_index = self.gr_index = self.cr_index = 0
        self.sr = bytearray(256)
        self.gr = bytearray(256)
        self.cr = bytearray(256)
        self.ar = bytearray(21)
        self.ar_index = 0
        self.ar_flip = 0
        self.dac = bytearray(768)
        self.dac_w = self.dac_r = self.dac_sub = 0
        self.dac_rgb = bytearray(3)
        self.pel_mask = 0xFF
        self.dispi_index = 0
        self.dispi = [0] * 11
        self.dispi[0] = 0xB0C0
        self.dispi[0xA] = 256  # 16 MiB in 64K units
        self.getcaps = False

    # AddressSpace-like API
    def stb(self, port: int, val: int) -> int:
        self.log.append(("out", port, val))
        self.write(port, val)
        return 0

    def ldub(self, port: int) -> int:
        v = self.read(port)
        self.log.append(("in", port, v))
        return v

    def stw_le(self, port: int, val: int) -> int:
        self.log.append(("outw", port, val))
        if port == 0x1CE:
            self.dispi_index = val
        elif port == 0x1CF:
            i = self.dispi_index
            if i == 0:
                if 0xB0C0 <= val <= 0xB0C5:
                    self.dispi[0] = val
            elif i == 4:
                self.getcaps = bool(val & 0x02)
                self.dispi[4] = val & ~0x02
            elif i < len(self.dispi) and i != 0xA:
                self.dispi[i] = val
        else:
            self.stb(port, val & 0xFF)
            self.stb(port + 1, val >> 8)
        return 0

    def lduw_le(self, port: int) -> int:
        if port == 0x1CF:
            i = self.dispi_index
            if self.getcaps and i in (1, 2, 3):
                return {1: 16000, 2: 12000, 3: 32}[i]
            return self.dispi[i] if i < len(self.dispi) else 0
        return self.ldub(port) | (self.ldub(port + 1) << 8)

    def _crtc_base(self) -> int:
        return 0x3D4 if self.misc & 1 else 0x3B4

    def write(self, port: int, val: int) -> None:
        base = self._crtc_base()
        if port == 0x3C0:
            if self.ar_flip == 0:
                self.ar_index = val & 0x3F
            else:
                idx = self.ar_index & 0x1F
                if idx < 21:
                    self.ar[idx] = val
            self.ar_flip ^= 1
        elif port == 0x3C2:
            self.misc = val
        elif port == 0x3C4:
            self.sr_index = val
        elif port == 0x3C5:
            self.sr[self.sr_index] = val
        elif port == 0x3CE:
            self.gr_index = val
        elif port == 0x3CF:
            self.gr[self.gr_index] = val
        elif port == base:
            self.cr_index = val
        elif port == base + 1:
            self.cr[self.cr_index] = val
        elif port == 0x3C6:
            self.pel_mask = val
        elif port == 0x3C7:
            self.dac_r = val
            self.dac_sub = 0
        elif port == 0x3C8:
            self.dac_w = val
            self.dac_sub = 0
        elif port == 0x3C9:
            self.dac_rgb[self.dac_sub] = val & 0x3F
            self.dac_sub += 1
            if self.dac_sub == 3:
                self.dac[self.dac_w * 3:self.dac_w * 3 + 3] = self.dac_rgb
                self.dac_w = (self.dac_w + 1) & 0xFF
                self.dac_sub = 0

    def read(self, port: int) -> int:
        base = self._crtc_base()
        if port in (0x3DA, 0x3BA) and port == base + 6:
            self.ar_flip = 0
            return 0
        if port == 0x3C0:
            return self.ar_index
        if port == 0x3C1:
            idx = self.ar_index & 0x1F
            return self.ar[idx] if idx < 21 else 0
        if port == 0x3CC:
            return self.misc
        if port == 0x3C4:
            return self.sr_index
        if port == 0x3C5:
            return self.sr[self.sr_index]
        if port == 0x3CE:
            return self.gr_index
        if port == 0x3CF:
            return self.gr[self.gr_index]
        if port == base:
            return self.cr_index
        if port == base + 1:
            return self.cr[self.cr_index]
        if port == 0x3C6:
            return self.pel_mask
        if port == 0x3C9:
            v = self.dac[self.dac_r * 3 + self.dac_sub]
            self.dac_sub += 1
            if self.dac_sub == 3:
                self.dac_sub = 0
                self.dac_r = (self.dac_r + 1) & 0xFF
            return v
        return 0xFF


class FakeMemory:
    """Flat guest memory: 1 MiB + 64K (A20 on), plus a sparse LFB."""

    def __init__(self) -> None:
        self.ram = bytearray(0x110000)
        self.high: dict[int, int] = {}
        self.writes = 0

    def _get(self, a: int) -> int:
        return self.ram[a] if a < len(self.ram) else self.high.get(a, 0)

    def _set(self, a: int, v: int) -> None:
        if a < len(self.ram):
            self.ram[a] = v
        else:
            self.high[a] = v

    def ldub(self, a: int) -> int:
        return self._get(a)

    def stb(self, a: int, v: int) -> int:
        self.writes += 1
        self._set(a, v & 0xFF)
        return 0

    def lduw_le(self, a: int) -> int:
        return self._get(a) | (self._get(a + 1) << 8)

    def stw_le(self, a: int, v: int) -> int:
        self.writes += 1
        self._set(a, v & 0xFF)
        self._set(a + 1, (v >> 8) & 0xFF)
        return 0

    def read_bytes(self, a: int, n: int) -> bytes:
        if a + n <= len(self.ram):
            return bytes(self.ram[a:a + n])
        return bytes(self._get(a + i) for i in range(n))

    def write(self, a: int, data: bytes) -> int:
        self.writes += 1
        if a + len(data) <= len(self.ram):
            self.ram[a:a + len(data)] = data
        else:
            for i, b in enumerate(data):
                self._set(a + i, b)
        return 0


class FakeMachine:
    def __init__(self) -> None:
        self.address_space_io = FakeIO()
        self.address_space_memory = FakeMemory()
