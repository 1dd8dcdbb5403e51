"""A DIMM hot-plugged while the guest runs, then used as the back buffer for DMA blits.

The machine starts with 64 MiB and two free DIMM slots (QEMU: ``-m 64M,slots=2,maxmem=1G``).
After a second, the guest does what ``object_add`` + ``device_add pc-dimm`` do in QEMU's
monitor: a 64 MiB RAM backend, plugged into the device-memory region above 4 GiB. From then
on the animation is drawn into the DIMM and the DMA engine (64-bit source address) copies it
to the 800x600x32 framebuffer. The guest also reads the migration dirty bitmap of the DIMM
to show how many of its pages it wrote each frame.
"""

import numpy as np

from guestmem.dirty import DIRTY_MEMORY_MIGRATION
from vgaemu.romfile import rom_path

MACHINE = {"memory": "64M,slots=2,maxmem=1G"}   # what `vgaemu run dimm` builds

W, H = 800, 600
PITCH = W * 4
BOX_X, BOX_Y, BOX_W, BOX_H = 200, 150, 400, 300   # the animated window
PLUG_AT_FRAME = 60
FONT = np.unpackbits(np.frombuffer(rom_path("vgafont8.bin").read_bytes(), np.uint8)).reshape(256, 8, 8)


def text_strip(lines, width=W, colour=0xFFFFFF, bg=0x202040):
    """Lines of 8x8 text, scaled 2x, as 0x00RRGGBB pixels."""
    img = np.full((20 * len(lines) + 8, width), bg, np.uint32)
    for row, s in enumerate(lines):
        for i, ch in enumerate(s[: (width - 32) // 16]):
            glyph = np.kron(FONT[ord(ch)], np.ones((2, 2), np.uint8))
            cell = img[6 + 20 * row: 22 + 20 * row, 16 + 16 * i: 32 + 16 * i]
            cell[glyph == 1] = colour
    return img


def main(guest):
    machine = guest.machine
    guest.vbe_set_mode(0x143)                   # 800x600x32, LFB
    lfb = guest.lfb_base
    guest.fill(lfb, W * H * 4, 0x00101828, unit=4)
    y, x = np.mgrid[0:BOX_H, 0:BOX_W].astype(np.float32)
    dimm = None
    frame = 0
    while True:
        if frame == PLUG_AT_FRAME:              # hot-plug: object_add + device_add
            machine.memory.add_object("memory-backend-ram,id=backbuf,size=64M")
            dimm = machine.memory.plug("pc-dimm,id=dimm1,memdev=backbuf")
            machine.ram_list.global_dirty_log_start()   # let us watch its pages (MIGRATION)
            dimm_mr = dimm.mr if hasattr(dimm, "mr") else None
        if dimm is None:
            status = [f"64 MiB RAM, {machine.memory.ram_slots} free DIMM slots",
                      f"hot-plug of a 64 MiB DIMM in {PLUG_AT_FRAME - frame:2d} frames"]
            strip = text_strip(status)
            guest.write(lfb + 40 * PITCH, strip)
        else:
            back = dimm.addr                   # above 4 GiB: the DMA engine takes 64-bit addresses
            t = frame / 20
            v = np.sin(x / 23 + t) * np.cos(y / 17 - t) + np.sin(np.hypot(x - 200, y - 150) / 12 - 2 * t)
            r = (128 + 120 * np.sin(v * 2)).astype(np.uint32)
            g = (128 + 120 * np.sin(v * 2 + 2)).astype(np.uint32)
            b = (128 + 120 * np.sin(v * 2 + 4)).astype(np.uint32)
            guest.write(back, (r << 16) | (g << 8) | b)
            guest.dma.blit(back, lfb + BOX_Y * PITCH + BOX_X * 4, BOX_W * 4, BOX_H, BOX_W * 4, PITCH)
            written = "?"
            if dimm_mr is not None:
                snap = dimm_mr.snapshot_and_clear_dirty(0, dimm_mr.size, DIRTY_MEMORY_MIGRATION)
                written = int(snap.pages_in(snap.start, snap.end - snap.start).sum())
            info = machine.memory.query_memory_devices()[0]["data"]
            status = [f"{info['id']}: slot {info['slot']}, 0x{info['addr']:X}, {info['size'] >> 20} MiB",
                      f"back buffer in the DIMM: {written:3d} pages dirty",
                      f"(frame {frame}, DMA-blitted to the LFB)"]
            guest.write(back + 0x800000, text_strip(status))
            guest.dma.copy(back + 0x800000, lfb + 40 * PITCH, (20 * len(status) + 8) * PITCH)
        frame += 1
        yield
