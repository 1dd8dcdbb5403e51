"""VBE 1024x768x32 sprites, blitted by the DMA engine from a back buffer in RAM.

The guest keeps its frame in ordinary RAM and, each frame, asks the DMA engine to copy only
the rectangles that changed into the linear framebuffer (a 2-D transfer: width, height,
source and destination strides). DMA writes to the LFB set the VGA dirty bits exactly as in
QEMU (``address_space_unmap`` marks the pages), so the display loop redraws just those few
dozen lines per frame out of 768: run ``vgaemu profile sprites --frames 120`` to see it.
"""

import numpy as np

from vgaemu.romfile import rom_path

W, H = 1024, 768
PITCH = W * 4
BACK = 0x01000000        # back buffer: 16 MiB into guest RAM (3 MiB long)
STAGE = 0x01400000       # one sprite's rectangle, packed, ready for a 2-D DMA
SIZE = 40                # sprite size in pixels
FONT = np.unpackbits(np.frombuffer(rom_path("vgafont8.bin").read_bytes(), np.uint8)).reshape(256, 8, 8)


def rgb(r, g, b):
    return (r << 16) | (g << 8) | b       # 32 bpp VBE: 0x00RRGGBB, bytes B G R x in memory


def backdrop():
    y, x = np.mgrid[0:H, 0:W]
    r = (20 + 40 * y / H).astype(np.uint32)
    g = (30 + 60 * x / W).astype(np.uint32)
    b = (80 + 100 * y / H).astype(np.uint32)
    img = (r << 16) | (g << 8) | b
    img[(x % 64 == 0) | (y % 64 == 0)] = rgb(70, 90, 150)
    text(img, 24, 24, "VBE 1024x768x32: sprites blitted by the DMA engine", rgb(255, 255, 255), 2)
    text(img, 24, 52, "from a RAM back buffer; only their lines are redrawn", rgb(200, 220, 255), 2)
    return img


def text(img, x, y, s, colour, scale=1):
    for i, ch in enumerate(s):
        glyph = np.kron(FONT[ord(ch)], np.ones((scale, scale), np.uint8))
        cell = img[y: y + 8 * scale, x + 8 * scale * i: x + 8 * scale * (i + 1)]
        cell[glyph == 1] = colour


def sphere(colour):
    """A shaded ball: colour (0xRRGGBB), lit from the top left; alpha = inside the circle."""
    y, x = (np.mgrid[0:SIZE, 0:SIZE] + 0.5 - SIZE / 2) / (SIZE / 2)
    inside = x * x + y * y < 1
    z = np.sqrt(np.clip(1 - x * x - y * y, 0, 1))
    light = np.clip(0.25 + 0.75 * (-0.5 * x - 0.5 * y + 0.7 * z), 0, 1)
    spec = np.clip(-0.4 * x - 0.4 * y + 0.82 * z, 0, 1) ** 20
    chans = [((colour >> s) & 0xFF) * light + 255 * spec for s in (16, 8, 0)]
    r, g, b = (np.clip(c, 0, 255).astype(np.uint32) for c in chans)
    return (r << 16) | (g << 8) | b, inside


def main(guest):
    guest.vbe_set_mode(0x144)                      # 1024x768x32 with the LFB (SeaVGABIOS list)
    lfb = guest.lfb_base
    bg = backdrop()
    canvas = bg.copy()                             # the guest's picture of its back buffer
    guest.write(BACK, canvas)
    guest.dma.copy(BACK, lfb, W * H * 4)           # first frame: the whole screen
    colours = [0xE04040, 0x40C040, 0x4080F0, 0xF0C030, 0xC050D0, 0x40D0D0]
    rng = np.random.default_rng(7)
    sprites = [dict(img=sphere(c), x=float(rng.integers(50, W - 90)), y=float(rng.integers(100, H - 90)),
                    dx=float(rng.uniform(-5, 5)), dy=float(rng.uniform(-4, 4))) for c in colours]
    while True:
        rects = []
        for s in sprites:                          # erase everything at the old places...
            ox, oy = int(s["x"]), int(s["y"])
            canvas[oy: oy + SIZE, ox: ox + SIZE] = bg[oy: oy + SIZE, ox: ox + SIZE]
            s["x"] += s["dx"]
            s["y"] += s["dy"]
            if not 0 <= s["x"] <= W - SIZE:
                s["dx"] = -s["dx"]
                s["x"] = min(max(s["x"], 0), W - SIZE)
            if not 90 <= s["y"] <= H - SIZE:
                s["dy"] = -s["dy"]
                s["y"] = min(max(s["y"], 90), H - SIZE)
            nx, ny = int(s["x"]), int(s["y"])
            rects.append((min(ox, nx), min(oy, ny), max(ox, nx) + SIZE, max(oy, ny) + SIZE))
        for s in sprites:                          # ...then draw everything at the new ones
            nx, ny = int(s["x"]), int(s["y"])
            pix, alpha = s["img"]
            view = canvas[ny: ny + SIZE, nx: nx + SIZE]
            view[alpha] = pix[alpha]
        for x0, y0, x1, y1 in rects:
            # The changed rectangle (old and new place), packed in RAM, then one 2-D DMA blit.
            rect = np.ascontiguousarray(canvas[y0:y1, x0:x1])
            guest.write(STAGE, rect)
            guest.dma.blit(STAGE, lfb + y0 * PITCH + x0 * 4, (x1 - x0) * 4, y1 - y0, (x1 - x0) * 4, PITCH)
        yield
