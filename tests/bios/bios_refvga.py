"""A compact reference VGA for BIOS tests: QEMU 7.2's memory access and screen rules.

Just enough of hw/display/vga.c (planar window with write modes 0-3, read modes 0/1, latches,
chain-4, odd/even; Bochs DISPI with bank/LFB; vga_draw_text / vga_draw_graphic incl. the
QEMU-specific rules: 16-pixel cells for 40 columns, 9th column for 0xB0-0xDF, bright
backgrounds, cursor visible on the first dump, PEL mask ignored) to check the BIOS pixel
for pixel against QEMU's screendumps independently of the machine under development.
"""

from __future__ import annotations

import numpy as np

from bios_fakemachine import FakeIO

VRAM_SIZE = 16 * 1024 * 1024
LFB = 0xFD000000
MASK16 = [sum(0xFF << (8 * i) for i in range(4) if v & (1 << i)) for v in range(16)]


def c6_to_8(v):
    v = v & 0x3F
    b = v & 1
    return (v << 2) | (b << 1) | b


class RefIO(FakeIO):
    def __init__(self, vga: "RefVGA") -> None:
        super().__init__()
        self.vga = vga
        self.dispi = [0] * 11
        self.dispi[0] = 0xB0C0
        self.dispi[0xA] = VRAM_SIZE >> 16
        self.dac_8bit = False
        # QEMU 7.2's sr_vbe: the sequencer as memory access sees it while VBE is enabled; only
        # vbe_update_vgaregs ever modifies it (from reset zeros), so 4 bpp modes drop writes.
        self.sr_vbe = bytearray(8)
        self.dac_state = 0

    def read(self, port):
        if port == 0x3C7:
            return self.dac_state
        return super().read(port)

    def sr_eff(self, i):
        return self.sr_vbe[i] if self.dispi[4] & 1 else self.sr[i]

    SR_MASK = (0x03, 0x3D, 0x0F, 0x3F, 0x0E, 0x00, 0x00, 0xFF)
    GR_MASK = (0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF) + (0,) * 7

    def _write_std(self, port, val):
        if port == 0x3C4:
            val &= 7
        elif port == 0x3C5:
            val &= self.SR_MASK[self.sr_index & 7]
        elif port == 0x3CE:
            val &= 0x0F
        elif port == 0x3CF:
            val &= self.GR_MASK[self.gr_index & 0x0F]
        if port == 0x3C7:
            self.dac_state = 3
        elif port == 0x3C8:
            self.dac_state = 0
        if port == 0x3C9:
            self.dac_rgb[self.dac_sub] = val
            self.dac_sub += 1
            if self.dac_sub == 3:
                self.dac[self.dac_w * 3:self.dac_w * 3 + 3] = self.dac_rgb
                self.dac_w = (self.dac_w + 1) & 0xFF
                self.dac_sub = 0
            return
        if port == 0x3C0 and self.ar_flip == 1:
            idx = self.ar_index & 0x1F
            if idx <= 0x0F:
                val &= 0x3F
            elif idx == 0x10:
                val &= ~0x10
            elif idx == 0x12:
                val &= 0x3F
            elif idx == 0x13:
                val &= 0x0F
            elif idx == 0x14:
                val &= 0x0F
        super().write(port, val)

    def stw_le(self, port, val):
        if port == 0x1CF:
            self.log.append(("outw", port, val))
            i = self.dispi_index
            d = self.dispi
            if i == 0:
                if 0xB0C0 <= val <= 0xB0C5:
                    d[0] = val
            elif i == 4:
                self.getcaps = bool(val & 0x02)
                if (val & 1) and not (d[4] & 1):
                    d[6] = d[8] = d[9] = 0
                    d[4] |= 1
                    self._fixup()
                    self._update_vgaregs()
                    if not (val & 0x80):
                        self.vga.vram[:d[2] * self.vga.vbe_line_offset] = 0
                elif not (val & 1):
                    self.vga.bank_offset = 0
                self.dac_8bit = bool(val & 0x20)
                d[4] = val & ~0x02
            elif i == 5:
                d[5] = val
                self.vga.bank_offset = val << 16
            elif i in (1, 2, 3, 6, 7, 8, 9):
                d[i] = val
                if d[4] & 1:
                    self._fixup()
                    self._update_vgaregs()
            return 0
        return super().stw_le(port, val)

    def _fixup(self):
        d = self.dispi
        bpp = d[3] if d[3] in (4, 8, 15, 16, 24, 32) else 8
        d[3] = bpp
        if d[6] < d[1]:
            d[6] = d[1]
        bytes_pp = 0 if bpp == 4 else (bpp + 7) // 8
        line = d[6] >> 1 if bpp == 4 else d[6] * bytes_pp
        maxy = VRAM_SIZE // line
        d[7] = maxy
        offset = (d[8] >> 1) if bpp == 4 else d[8] * bytes_pp
        offset += d[9] * line
        self.vga.vbe_line_offset = line
        self.vga.vbe_start_addr = offset // 4

    def _update_vgaregs(self):
        d = self.dispi
        self.gr[6] = (self.gr[6] & ~0x0C) | 0x05
        self.cr[0x17] |= 3
        self.cr[0x13] = (self.vga.vbe_line_offset >> 3) & 0xFF
        self.cr[1] = ((d[1] >> 3) - 1) & 0xFF
        h = d[2] - 1
        self.cr[0x12] = h & 0xFF
        self.cr[7] = (self.cr[7] & ~0x42) | ((h >> 7) & 2) | ((h >> 3) & 0x40)
        self.cr[0x18] = 0xFF
        self.cr[7] |= 0x10
        self.cr[9] |= 0x40
        if d[3] == 4:
            shift = 0
            self.sr_vbe[1] &= ~8
        else:
            shift = 2
            self.sr_vbe[4] |= 0x08
            self.sr_vbe[2] |= 0x0F
        self.gr[5] = (self.gr[5] & ~0x60) | (shift << 5)
        self.cr[9] &= ~0x9F

    def write(self, port, val):
        self._write_std(port, val)
        base = self._crtc_base()
        if self.dispi[4] & 1 and port in (0x3CF, base + 1):
            self._update_vgaregs()


class RefMemory:
    """Guest memory: RAM, the legacy VGA window at 0xA0000 and the LFB."""

    def __init__(self, vga: "RefVGA") -> None:
        self.vga = vga
        self.ram = bytearray(0x2000000)

    def ldub(self, a):
        if 0xA0000 <= a < 0xC0000:
            return self.vga.mem_readb(a - 0xA0000)
        if LFB <= a < LFB + VRAM_SIZE:
            return int(self.vga.vram[a - LFB])
        return self.ram[a] if a < len(self.ram) else 0

    def stb(self, a, v):
        v &= 0xFF
        if 0xA0000 <= a < 0xC0000:
            self.vga.mem_writeb(a - 0xA0000, v)
        elif LFB <= a < LFB + VRAM_SIZE:
            self.vga.vram[a - LFB] = v
        elif a < len(self.ram):
            self.ram[a] = v
        return 0

    def lduw_le(self, a):
        return self.ldub(a) | (self.ldub(a + 1) << 8)

    def stw_le(self, a, v):
        self.stb(a, v & 0xFF)
        self.stb(a + 1, v >> 8)
        return 0

    def read_bytes(self, a, n):
        if a + n <= 0xA0000 or (0xC0000 <= a and a + n <= len(self.ram)):
            return bytes(self.ram[a:a + n])
        if LFB <= a and a + n <= LFB + VRAM_SIZE:
            return self.vga.vram[a - LFB:a - LFB + n].tobytes()
        return bytes(self.ldub(a + i) for i in range(n))

    def write(self, a, data):
        n = len(data)
        if a + n <= 0xA0000 or (0xC0000 <= a and a + n <= len(self.ram)):
            self.ram[a:a + n] = data
        elif LFB <= a and a + n <= LFB + VRAM_SIZE:
            self.vga.vram[a - LFB:a - LFB + n] = np.frombuffer(bytes(data), np.uint8)
        else:
            for i, b in enumerate(data):
                self.stb(a + i, b)
        return 0


class RefVGA:
    def __init__(self) -> None:
        self.vram = np.zeros(VRAM_SIZE, np.uint8)
        self.latch = 0
        self.bank_offset = 0
        self.vbe_line_offset = 0
        self.vbe_start_addr = 0
        self.address_space_io = self.io = RefIO(self)
        self.address_space_memory = RefMemory(self)

    # ---- hw/display/vga.c vga_mem_readb / vga_mem_writeb
    def _map(self, addr):
        mm = (self.io.gr[6] >> 2) & 3
        if mm == 0:
            return addr
        if mm == 1:
            return None if addr >= 0x10000 else addr + self.bank_offset
        if mm == 2:
            addr -= 0x10000
        else:
            addr -= 0x18000
        return addr if 0 <= addr < 0x8000 else None

    def _v32(self, a):
        return int.from_bytes(self.vram[a * 4:a * 4 + 4].tobytes(), "little")

    def mem_readb(self, addr):
        io = self.io
        addr = self._map(addr)
        if addr is None:
            return 0xFF
        if io.sr_eff(4) & 0x08:
            return int(self.vram[addr])
        if io.gr[5] & 0x10:
            plane = (io.gr[4] & 2) | (addr & 1)
            return int(self.vram[((addr & ~1) << 1) | plane])
        self.latch = self._v32(addr)
        if not (io.gr[5] & 0x08):
            return (self.latch >> (8 * (io.gr[4] & 3))) & 0xFF
        ret = (self.latch ^ MASK16[io.gr[2] & 0xF]) & MASK16[io.gr[7] & 0xF]
        ret |= ret >> 16
        ret |= ret >> 8
        return (~ret) & 0xFF

    def mem_writeb(self, addr, val):
        io = self.io
        addr = self._map(addr)
        if addr is None:
            return
        if io.sr_eff(4) & 0x08:
            if io.sr_eff(2) & (1 << (addr & 3)):
                self.vram[addr] = val
            return
        if io.gr[5] & 0x10:
            plane = addr & 1
            if io.sr_eff(2) & (1 << plane):
                self.vram[((addr & ~1) << 1) | plane] = val
            return
        wm = io.gr[5] & 3
        if wm == 1:
            v = self.latch
        else:
            if wm == 0:
                b = io.gr[3] & 7
                val = ((val >> b) | (val << (8 - b))) & 0xFF
                v = val * 0x01010101
                sm = MASK16[io.gr[1] & 0xF]
                v = (v & ~sm) | (MASK16[io.gr[0] & 0xF] & sm)
                bit_mask = io.gr[8]
            elif wm == 2:
                v = MASK16[val & 0xF]
                bit_mask = io.gr[8]
            else:
                b = io.gr[3] & 7
                val = ((val >> b) | (val << (8 - b))) & 0xFF
                bit_mask = io.gr[8] & val
                v = MASK16[io.gr[0] & 0xF]
            fs = io.gr[3] >> 3
            if fs == 1:
                v &= self.latch
            elif fs == 2:
                v |= self.latch
            elif fs == 3:
                v ^= self.latch
            bm = bit_mask * 0x01010101
            v = (v & bm) | (self.latch & ~bm)
        wmask = MASK16[io.sr_eff(2) & 0xF]
        old = self._v32(addr)
        new = (old & ~wmask) | (v & wmask)
        self.vram[addr * 4:addr * 4 + 4] = np.frombuffer(
            (new & 0xFFFFFFFF).to_bytes(4, "little"), np.uint8)

    # ---- rendering
    def _palette16(self):
        io = self.io
        out = np.zeros((16, 3), np.uint8)
        for i in range(16):
            v = io.ar[i]
            if io.ar[0x10] & 0x80:
                v = ((io.ar[0x14] & 0xF) << 4) | (v & 0xF)
            else:
                v = ((io.ar[0x14] & 0xC) << 4) | (v & 0x3F)
            out[i] = [c6_to_8(io.dac[v * 3 + k]) for k in range(3)]
        return out

    def _palette256(self):
        d = np.frombuffer(bytes(self.io.dac), np.uint8).reshape(256, 3)
        if self.io.dac_8bit:
            return d.copy()
        v = d & 0x3F
        b = v & 1
        return ((v << 2) | (b << 1) | b).astype(np.uint8)

    def render(self):
        io = self.io
        if not (io.ar_index & 0x20):
            return np.zeros((1, 1, 3), np.uint8)  # blank
        if io.gr[6] & 1 or io.dispi[4] & 1:
            return self._graphic()
        return self._text()

    def _text(self):
        io = self.io
        cheight = (io.cr[9] & 0x1F) + 1
        cw = 8 if io.sr[1] & 1 else 9
        if io.sr[1] & 0x08:
            cw = 16
        width = io.cr[1] + 1
        vde = io.cr[0x12] | ((io.cr[7] & 2) << 7) | ((io.cr[7] & 0x40) << 3)
        height = (vde + 1) // cheight
        pal = self._palette16()
        v = io.sr[3]
        fonts = [((((v >> 4) & 1) | ((v << 1) & 6)) * 8192 * 4 + 2),
                 ((((v >> 5) & 1) | ((v >> 1) & 6)) * 8192 * 4 + 2)]
        start = io.cr[0x0D] | (io.cr[0x0C] << 8)
        line_offset = io.cr[0x13] << 3
        cursor = (io.cr[0x0E] << 8) | io.cr[0x0F]
        img = np.zeros((height * cheight, width * cw, 3), np.uint8)
        vram = self.vram
        for cy in range(height):
            base = start * 4 + cy * line_offset
            for cx in range(width):
                src = base + cx * 4
                ch, attr = int(vram[src]), int(vram[src + 1])
                fp = fonts[(attr >> 3) & 1] + 32 * 4 * ch
                fg, bg = pal[attr & 0xF], pal[attr >> 4]
                y0, x0 = cy * cheight, cx * cw
                for r in range(cheight):
                    bits = int(vram[fp + 4 * r])
                    row = [(bits >> (7 - k)) & 1 for k in range(8)]
                    if cw == 9:
                        dup = 0xB0 <= ch <= 0xDF and io.ar[0x10] & 4
                        row.append(row[7] if dup else 0)
                    elif cw == 16:
                        row = [b for b in row for _ in (0, 1)]
                    img[y0 + r, x0:x0 + cw] = np.where(np.array(row)[:, None] == 1, fg, bg)
                if src == (start + (cursor - start)) * 4 and not (io.cr[0x0A] & 0x20):
                    ls, ll = io.cr[0x0A] & 0x1F, io.cr[0x0B] & 0x1F
                    ll = min(ll, cheight - 1)
                    if ll >= ls and ls < cheight:
                        img[y0 + ls:y0 + ll + 1, x0:x0 + cw] = fg
        return img

    def _graphic(self):
        io = self.io
        d = io.dispi
        vbe = bool(d[4] & 1)
        if vbe:
            width, height = d[1], d[2]
            line_offset = self.vbe_line_offset
            start = self.vbe_start_addr
            depth = d[3]
        else:
            width = (io.cr[1] + 1) * 8
            height = (io.cr[0x12] | ((io.cr[7] & 2) << 7) | ((io.cr[7] & 0x40) << 3)) + 1
            line_offset = io.cr[0x13] << 3
            start = io.cr[0x0D] | (io.cr[0x0C] << 8)
            depth = 0
        line_compare = io.cr[0x18] | ((io.cr[7] & 0x10) << 4) | ((io.cr[9] & 0x40) << 3)
        if vbe:
            line_compare = 65535
        shift = (io.gr[5] >> 5) & 3
        double_scan = io.cr[9] >> 7
        if io.cr[0x17] & 1:  # QEMU 7.2: CGA addressing ignores the max scan line
            multi_scan = (((io.cr[9] & 0x1F) + 1) << double_scan) - 1
        else:
            multi_scan = double_scan
        disp_width = width
        sr1 = io.sr_eff(1)
        if shift in (0, 1) and sr1 & 8:
            disp_width <<= 1
        if shift == 0:
            kind = "4d2" if sr1 & 8 else "4"
            pal = self._palette16()
        elif shift == 1:
            kind = "2d2" if sr1 & 8 else "2"
            pal = self._palette16()
        else:
            pal = self._palette256()
            kind = {0: "8d2", 8: "8"}.get(depth, str(depth))
        img = np.zeros((height, disp_width, 3), np.uint8)
        vram = self.vram
        plane_mask = MASK16[io.ar[0x12] & 0xF]
        addr1 = start * 4
        y1 = 0
        mrun = multi_scan
        for y in range(height):
            addr = addr1
            if not (io.cr[0x17] & 1):
                sh = 14 + ((io.cr[0x17] >> 6) & 1)
                addr = (addr & ~(1 << sh)) | ((y1 & 1) << sh)
            if not (io.cr[0x17] & 2):
                addr = (addr & ~0x8000) | ((y1 & 2) << 14)
            img[y] = self._line(kind, addr, width, pal, plane_mask)
            if not mrun:
                mask = (io.cr[0x17] & 3) ^ 3
                if (y1 & mask) == mask:
                    addr1 += line_offset
                y1 += 1
                mrun = multi_scan
            else:
                mrun -= 1
            if y == line_compare:
                addr1 = 0
        return img

    def _line(self, kind, addr, width, pal, plane_mask):
        vram = self.vram
        if kind in ("4", "4d2", "2", "2d2"):
            n = width >> 3
            words = vram[addr:addr + 4 * n].reshape(n, 4).astype(np.uint32)
            words = words & np.array([(plane_mask >> (8 * p)) & 0xFF for p in range(4)],
                                     np.uint32)
            bits = np.unpackbits(words.astype(np.uint8), axis=1).reshape(n, 4, 8)
            if kind.startswith("4"):
                idx = bits[:, 0] | (bits[:, 1] << 1) | (bits[:, 2] << 2) | (bits[:, 3] << 3)
                idx = idx.reshape(-1)
            else:
                p0 = words[:, 0].astype(np.uint8)
                p1 = words[:, 1].astype(np.uint8)
                p2 = words[:, 2].astype(np.uint8)
                p3 = words[:, 3].astype(np.uint8)

                def two(lo, hi):
                    sh = np.array([6, 4, 2, 0], np.uint8)
                    return ((lo[:, None] >> sh) & 3) | (((hi[:, None] >> sh) & 3) << 2)
                idx = np.concatenate([two(p0, p2), two(p1, p3)], axis=1).reshape(-1)
            px = pal[idx]
            if kind.endswith("d2"):
                px = np.repeat(px, 2, axis=0)
            return px[:len(px)]
        if kind == "8d2":
            n = width >> 3
            b = vram[addr:addr + 4 * n]
            return np.repeat(pal[b], 2, axis=0)
        if kind == "8":
            return pal[vram[addr:addr + width]]
        depth = int(kind)
        if depth in (15, 16):
            v = vram[addr:addr + 2 * width].view("<u2").astype(np.uint32)
            if depth == 15:  # QEMU draws 15 bpp itself: 5-bit values << 3, no replication
                r, g, b = (v >> 10) & 31, (v >> 5) & 31, v & 31
                return np.stack([r << 3, g << 3, b << 3], axis=1).astype(np.uint8)
            r, g, b = (v >> 11) & 31, (v >> 5) & 63, v & 31
            return np.stack([(r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)],
                            axis=1).astype(np.uint8)
        bpp = 3 if depth == 24 else 4
        v = vram[addr:addr + bpp * width].reshape(width, bpp)
        return v[:, [2, 1, 0]]


class RefMachine:
    """FakeMachine-compatible: address_space_io / address_space_memory + vga.render()."""

    def __init__(self) -> None:
        self.vga = RefVGA()
        self.address_space_io = self.vga.address_space_io
        self.address_space_memory = self.vga.address_space_memory
        self.lfb_addr = LFB
