"""--gif / --apng: the changed frames at their virtual frame times, decoded back and checked
against the screenshots of the same run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from vgaemu.clock import FRAME_NS
from vgaemu.frontends import FrontendError
from vgaemu.frontends.animation import AnimationRecorder
from vgaemu.frontends.imaging import read_png

REPO = Path(__file__).resolve().parents[2]


def decode(path):
    """[(rgb array, duration ms)] of every frame of an animated GIF/PNG."""
    with Image.open(path) as im:
        return [(np.asarray(f.convert("RGB")).copy(), f.info.get("duration")) for f in ImageSequence.Iterator(im)]


def picture(seed, shape=(12, 16)):
    return np.random.default_rng(seed).integers(0, 4, (*shape, 3)).astype(np.uint8) * 80


def test_recorder_keeps_changes_at_their_times_and_scales():
    rec = AnimationRecorder(scale=3)
    a, b = picture(1), picture(2)
    assert rec.add(a, 0)
    assert not rec.add(a, FRAME_NS, changed=False)        # dirty tracking: nothing redrawn
    assert not rec.add(a.copy(), 2 * FRAME_NS)            # redrawn, but the same pixels
    assert rec.add(b, 3 * FRAME_NS)
    assert not rec.add(b, 4 * FRAME_NS, changed=False)
    assert (len(rec), rec.seen, rec.skipped) == (2, 5, 3)
    # frame a lasts 3 frames (50 ms), frame b until one frame after the last refresh (33 ms)
    assert rec.durations_ms(1, FRAME_NS) == [50, 33]
    assert rec.durations_ms(10, FRAME_NS) == [50, 30]


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_saved_animation_decodes_to_the_frames(tmp_path, suffix):
    rec = AnimationRecorder(scale=2)
    pics = [picture(i) for i in range(4)]
    for i, p in enumerate(pics):
        rec.add(p, i * 2 * FRAME_NS)
    path = rec.save(tmp_path / f"a{suffix}")
    frames = decode(path)
    assert len(frames) == 4
    for (img, _), p in zip(frames, pics):
        assert img.shape == (24, 32, 3) and np.array_equal(img[::2, ::2], p)
    unit = 10 if suffix == ".gif" else 1
    assert [d for _, d in frames] == rec.durations_ms(unit, FRAME_NS)
    # the last frame lasts one frame period: 7 periods in all
    assert sum(d for _, d in frames) == pytest.approx(7 * FRAME_NS / 1e6, abs=unit)


def test_more_than_256_colours_exact_in_apng_quantized_in_gif(tmp_path):
    rec = AnimationRecorder(scale=2)
    ramp = np.stack(np.meshgrid(np.arange(64), np.arange(32)), -1).astype(np.uint8)
    rgb = np.concatenate([ramp * 4, np.full((32, 64, 1), 7, np.uint8)], axis=2)   # 2048 colours
    rec.add(rgb, 0)
    rec.add(picture(3), FRAME_NS)             # a 4-colour frame of another size after it
    frames = decode(rec.save(tmp_path / "q.png"))
    assert rec.lossy_frames == 0 and np.array_equal(frames[0][0][::2, ::2], rgb)
    frames = decode(rec.save(tmp_path / "q.gif"))
    assert rec.lossy_frames == 1 and np.abs(frames[0][0][::2, ::2].astype(int) - rgb).max() < 64
    assert np.array_equal(frames[1][0][::2, ::2][:12, :16], picture(3))


def test_bad_names_and_empty_recordings_are_errors(tmp_path):
    rec = AnimationRecorder()
    with pytest.raises(FrontendError, match="no frame"):
        rec.save(tmp_path / "x.gif")
    rec.add(picture(0), 0)
    with pytest.raises(FrontendError, match="cannot tell"):
        rec.save(tmp_path / "x.bmp")
    with pytest.raises(FrontendError, match="scale"):
        AnimationRecorder(scale=0)


def test_run_gif_and_apng_match_the_screenshots_of_the_run(tmp_path):
    """palette_cycle changes every frame: one animation frame per frame, 1/60 s each."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-m", "vgaemu", "run", "palette_cycle", "--headless", "--frames", "6",
                        "--screenshot-every", "1", "shots", "--gif", "a.gif", "--apng", "a.png"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    shots = [read_png(p) for p in sorted((tmp_path / "shots").glob("frame-*.png"))]
    assert len(shots) == 6
    for name, unit in (("a.gif", 10), ("a.png", 1)):
        frames = decode(tmp_path / name)
        assert len(frames) == 6
        for (img, _), shot in zip(frames, shots):
            assert np.array_equal(img, shot)
        # each frame starts at its virtual time (frame i at i x 16667 us, the guest's frame
        # wait), rounded to the format's unit; the last lasts one frame period
        times = [i * 16_667_000 for i in range(1, 7)] + [6 * 16_667_000 + FRAME_NS]
        ticks = [round(t / 1e6 / unit) for t in times]
        assert [d for _, d in frames] == [(b - a) * unit for a, b in zip(ticks, ticks[1:])]


def test_frames_where_nothing_changed_are_skipped(tmp_path):
    from vgaemu.frontends.animation import TeeSink
    from vgaemu.frontends.headless import HeadlessSink
    from vgaemu.guest import run_guest
    from vgaemu.machine import Machine

    def main(guest):
        guest.set_mode(0x13)
        for band in range(3):
            guest.fill(0xA0000 + band * 320 * 20, 320 * 20, 1 + band)
            for _ in range(5):           # one frame that shows the band, four idle ones
                guest.frame()

    rec = AnimationRecorder()
    frames = []
    sink = HeadlessSink(on_frame=lambda m, info: frames.append(m.vga.surface.copy()))
    run_guest(Machine(), main, TeeSink(sink, rec), max_frames=40)
    assert (len(frames), len(rec), rec.skipped) == (15, 3, 12)
    decoded = decode(rec.save(tmp_path / "t.gif"))
    assert [d for _, d in decoded] == [80, 80, 90]       # 5 frames each (83.3 ms), in 1/100 s
    for (img, _), shown in zip(decoded, frames[::5]):
        assert np.array_equal(img, shown)


def test_replay_gif_records_each_wait(tmp_path):
    from vgaemu.trace import replay

    trace = tmp_path / "t.json"
    trace.write_text('[{"op": "int", "num": "0x10", "ax": "0x0013"},\n'
                     '{"op": "fill", "addr": "0xA0000", "len": 3200, "val": 4},\n'
                     '{"op": "int", "num": "0x15", "ax": "0x8600", "cx": "0x0001", "dx": "0x86A0"},\n'
                     '{"op": "fill", "addr": "0xA0C80", "len": 3200, "val": 2},\n'
                     '{"op": "int", "num": "0x15", "ax": "0x8600", "cx": "0x0001", "dx": "0x86A0"}]\n')
    rec = AnimationRecorder()
    result = replay(trace, on_refresh=lambda m, st: rec.refresh(m, st))
    assert len(rec) == 2                     # after each wait; the end shows nothing new
    frames = decode(rec.save(tmp_path / "r.png"))
    assert [d for _, d in frames] == [100, 17]     # 0.1 s to the next wait, then one frame period
    assert np.array_equal(frames[-1][0], result.image)


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_a_mode_change_grows_the_canvas_instead_of_cropping(tmp_path, suffix):
    """Text mode then a larger mode: every frame on the largest canvas, top-left, black around."""
    rec = AnimationRecorder()
    small, large = np.full((10, 10, 3), 50, np.uint8), picture(5, (20, 30))
    rec.add(small, 0)
    rec.add(large, FRAME_NS)
    (a, _), (b, _) = decode(rec.save(tmp_path / f"m{suffix}"))
    assert a.shape == b.shape == (20, 30, 3)
    assert (a[:10, :10] == 50).all() and (a[10:] == 0).all() and (a[:, 10:] == 0).all()
    assert np.array_equal(b, large)
