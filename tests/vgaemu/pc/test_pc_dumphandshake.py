"""The oracle's screendump handshake over the debug console: each 'S' takes a screendump of
the VGA state at that moment and is answered with an NMI; ``vgaemu boot
--screenshot-on-debugcon OUT.png`` writes them as OUT-1.png, OUT-2.png ..."""

from __future__ import annotations

import io

import numpy as np
import pytest

from vgaemu.cli import main
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage
from vgaemu.pc.dumphandshake import DebugconScreendumps
from vgaemu.vga.display import read_image

from .asm import nasm

# Mode 13h; fill the screen with colour 1, ask for a dump (the oracle's snapshot_wait: 'S',
# then HLT with interrupts on until the NMI handler sets the flag), colour 2, dump, colour
# 4, then 'D' and cli; hlt -- the final picture.
GUEST = """
    xor ax, ax
    mov ds, ax
    mov word [2*4], nmi
    mov word [2*4+2], 0
    mov ax, 0x13
    int 0x10
    mov al, 1
    call fill
    call snapshot
    mov al, 2
    call fill
    call snapshot
    mov al, 4
    call fill
    mov al, 'D'
    out 0xe9, al
    cli
    hlt
fill:
    push es
    push ax
    mov ax, 0xa000
    mov es, ax
    pop ax
    xor di, di
    mov cx, 64000
    rep stosb
    pop es
    ret
snapshot:
    mov byte [flag], 0
    mov al, 'S'
    out 0xe9, al
    sti
.wait:
    hlt
    cmp byte [flag], 0
    je .wait
    ret
nmi:
    mov byte [cs:flag], 1
    iret
flag: db 0
times 510-($-$$) db 0
dw 0xaa55
"""


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "dumps.img"
    p.write_bytes(nasm(GUEST) + bytes(512 * 15))
    return p


def _colour(picture: np.ndarray) -> tuple:
    flat = picture.reshape(-1, picture.shape[-1])
    assert (flat == flat[0]).all(), "the picture is not one colour"
    return tuple(int(c) for c in flat[0][:3])


def test_each_S_gets_the_picture_of_that_moment_and_an_nmi(image):
    from vgaemu.golden import as_rgb

    m = Machine()
    out = io.BytesIO()
    pc = PC(m, hard_disks=[DiskImage(image, "hd", snapshot=True)], output=out)
    seen = []
    dumps = DebugconScreendumps(pc.platform, lambda n, mm: seen.append((n, np.array(as_rgb(mm.vga.surface)))))
    pc.boot()
    frames, why = run_frames(pc, _NullSink(), 600)
    assert why == "halted with interrupts disabled" and out.getvalue() == b"SSD"
    assert dumps.count == 2 and [n for n, _ in seen] == [1, 2]
    blue, green = (0, 0, 168), (0, 168, 0)      # EGA palette entries 1 and 2 (QEMU 6->8 bits)
    assert [_colour(p) for _, p in seen] == [blue, green]
    assert seen[0][1].shape == (400, 640, 3)
    # the guest went on after each dump only because the NMI came: it filled colour 4 last
    assert _colour(np.array(as_rgb(m.vga.surface))) == (168, 0, 0)


def test_without_the_handshake_the_guest_waits_for_ever(image):
    m = Machine()
    out = io.BytesIO()
    pc = PC(m, hard_disks=[DiskImage(image, "hd", snapshot=True)], output=out)
    pc.boot()
    frames, why = run_frames(pc, _NullSink(), 30)
    assert out.getvalue() == b"S" and frames == 30 and pc.platform.stopped is None


def test_cli_screenshot_on_debugcon_writes_numbered_dumps(tmp_path, image, capsys):
    shot = tmp_path / "out.png"
    rc = main(["boot", str(image), "--headless", "--serial", str(tmp_path / "con.txt"),
               "--screenshot", str(shot), "--screenshot-on-debugcon", str(shot)])
    assert rc == 0
    assert (tmp_path / "con.txt").read_bytes() == b"SSD"
    assert _colour(read_image(tmp_path / "out-1.png")) == (0, 0, 168)
    assert _colour(read_image(tmp_path / "out-2.png")) == (0, 168, 0)
    assert _colour(read_image(shot)) == (168, 0, 0)
    assert not (tmp_path / "out-3.png").exists()
    assert "2 debugcon screendump(s) written" in capsys.readouterr().out


def test_cli_screenshot_on_debugcon_needs_an_image_name(tmp_path, image, capsys):
    rc = main(["boot", str(image), "--headless", "--screenshot-on-debugcon",
               str(tmp_path / "dumps.gif")])
    assert rc != 0
    err = capsys.readouterr().err
    assert "--screenshot-on-debugcon" in err and ".png or .ppm" in err
    assert not list(tmp_path.glob("dumps*.gif")) and not list(tmp_path.glob("dumps-*"))


class _NullSink:
    def frame(self, machine, info):
        pass

    def keys(self):
        return []
