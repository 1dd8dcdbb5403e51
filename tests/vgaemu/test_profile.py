"""The redraw-cost profiler: per-frame numbers, totals, JSON/CSV and the two pictures."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from tests.helpers import fake_info, fake_stats

from vgaemu.frontends.imaging import read_png
from vgaemu.frontends.profile import (HEAT_FULL, HEAT_NONE, HEAT_OFF, HEAT_ON, RUN_COLOURS,
                                      ProfileReport, RunProfile, _ProfileSink)
from vgaemu.frontends.progress import Progress


class FakeMachine:
    def __init__(self, w, h):
        self.vga = type("V", (), {})()
        self.vga.surface = np.zeros((h, w, 3), np.uint8)


def fake_report(frames=30, w=64, h=40) -> ProfileReport:
    """Tracked: frame 1 full, then one 4-line band moving down; full run: all lines each frame."""
    runs = {}
    for name in ("tracked", "full"):
        rp = RunProfile(name)
        sink = _ProfileSink(rp, Progress(frames, name, enabled=False))
        m = FakeMachine(w, h)
        for i in range(1, frames + 1):
            if name == "full" or i == 1:
                st = fake_stats(True, h, 3, w * h, ((0, 0, w, h),))
                t = 1e-3
            else:
                y = (i * 2) % (h - 4)
                st = fake_stats(False, 4, 1, 4 * w, ((0, y, w, 2), (0, y + 2, w, 2)))
                t = 1e-4
            sink.frame(m, fake_info(i, st, t))
        runs[name] = rp
    return ProfileReport("fake", runs["tracked"], runs["full"])


def test_totals_and_ratio():
    r = fake_report()
    t = r.totals()
    assert t["tracked"]["frames"] == t["full"]["frames"] == 30
    assert t["tracked"]["full_frames"] == 1 and t["full"]["full_frames"] == 30
    assert t["tracked"]["lines_redrawn"] == 40 + 29 * 4
    assert t["full"]["lines_redrawn"] == 30 * 40
    assert t["time_saved_ratio"] == pytest.approx(1 - (1e-3 + 29e-4) / 30e-3)
    assert t["speedup"] == pytest.approx(30e-3 / (1e-3 + 29e-4))


def test_json_and_csv(tmp_path):
    r = fake_report()
    data = json.loads(r.to_json(tmp_path / "p.json"))
    assert json.loads((tmp_path / "p.json").read_text()) == data
    assert len(data["runs"]["tracked"]) == 30
    assert data["runs"]["tracked"][1] == {"index": 2, "full": False, "lines_redrawn": 4,
                                          "dirty_pages": 1, "bytes_converted": 256,
                                          "update_seconds": 1e-4, "width": 64, "height": 40,
                                          "instructions": 0, "tbs_translated": 0,
                                          "tbs_invalidated": 0, "smc_events": 0,
                                          "notdirty_writes": 0, "tbs_executed": 0,
                                          "update_seconds_runs": [1e-4]}
    rows = list(csv.DictReader(io.StringIO(r.to_csv(tmp_path / "p.csv"))))
    assert len(rows) == 60 and {row["run"] for row in rows} == {"tracked", "full"}
    assert rows[0]["full"] == "1" and rows[1]["lines_redrawn"] == "4"
    assert "time saved" in r.summary()


def test_heatmap_marks_exactly_the_redrawn_lines():
    r = fake_report()
    m = r.tracked.line_matrix()
    assert m.shape == (30, 40) and m[0].all()
    for i in range(1, 30):
        y = ((i + 1) * 2) % 36
        assert np.flatnonzero(m[i]).tolist() == list(range(y, y + 4))


def _has_colour(img, rgb):
    return bool((np.abs(img.astype(int) - np.array(rgb, int)).sum(axis=2) <= 3).any())


def test_plot_and_heatmap_pictures(tmp_path):
    r = fake_report()
    plot = read_png(r.write_plot(tmp_path / "plot.png"))
    heat = read_png(r.write_heatmap(tmp_path / "heat.png"))
    assert plot.shape[0] > 300 and plot.shape[1] > 600
    for colour in RUN_COLOURS.values():
        assert _has_colour(plot, colour)
    for colour in (HEAT_ON, HEAT_FULL, HEAT_OFF):
        assert _has_colour(heat, colour.astype(int))
    # text was drawn (dark anti-aliased pixels outside the plot area, top-left title)
    assert (plot[:40, :400] < 100).any()


def test_heatmap_greys_lines_a_mode_lacks(tmp_path):
    r = fake_report()
    # the tracked run switches to a taller mode half-way: the early frames lack lines 40..79
    sink = _ProfileSink(r.tracked, Progress(None, "x", enabled=False))
    sink.frame(FakeMachine(64, 80), fake_info(31, fake_stats(True, 80, 5, 64 * 80, ((0, 0, 64, 80),)), 1e-3))
    heat = read_png(r.write_heatmap(tmp_path / "heat.png"))
    assert _has_colour(heat, HEAT_NONE.astype(int))


def test_heatmap_many_frames_and_lines(tmp_path):
    rp = RunProfile("tracked")
    sink = _ProfileSink(rp, Progress(None, "x", enabled=False))
    m = FakeMachine(16, 1200)
    for i in range(1, 3001):
        y = (i * 7) % 1200
        sink.frame(m, fake_info(i, fake_stats(False, 1, 1, 16, ((0, y, 16, 1),)), 1e-5))
    r = ProfileReport("big", rp, rp)
    heat = read_png(r.write_heatmap(tmp_path / "heat.png"))
    assert heat.shape[1] <= 1100 and heat.shape[0] <= 800
    read_png(r.write_plot(tmp_path / "plot.png"))


# -- on a real Machine ---------------------------------------------------------------------------
GUEST = '''
def main(guest):
    guest.set_mode(0x13)
    for i in range(60):
        if i % 20 == 19:
            guest.set_dac(0, [[i % 64, 0, 0]])       # palette change: a full redraw
        guest.fill(0xA0000 + (i * 3 % 196) * 320, 320 * 2, 32 + i)
        guest.frame()
'''


@pytest.fixture
def script(tmp_path):
    p = tmp_path / "bands.py"
    p.write_text(GUEST)
    return p


class Recorder:
    def __init__(self):
        self.stats = []

    def frame(self, machine, info):
        self.stats.append(info.stats)

    def keys(self):
        return []


def test_profile_numbers_match_the_vga(script, tmp_path):
    from vgaemu.frontends.profile import profile
    from vgaemu.guest import load_script, run_guest
    from vgaemu.machine import Machine
    report = profile(script, frames=45)
    rec = Recorder()
    run_guest(Machine(), load_script(script), rec, max_frames=45)
    assert report.frames == 45 == len(rec.stats)
    for fr, st in zip(report.tracked.frames, rec.stats):
        assert (fr.full, fr.lines_redrawn, fr.dirty_pages, fr.bytes_converted) == \
            (st.full, st.lines_redrawn, st.dirty_pages, st.bytes_converted)
    assert all(f.full and f.lines_redrawn == f.height for f in report.full.frames)
    t = report.totals()
    assert 1 <= t["tracked"]["full_frames"] < 10
    assert t["tracked"]["lines_redrawn"] < t["full"]["lines_redrawn"] / 5
    assert t["tracked"]["bytes_converted"] < t["full"]["bytes_converted"]
    # the heat map's rows are the lines the VGA reported redrawn
    m = report.tracked.line_matrix()
    assert [int(row.sum()) for row in m] == [f.lines_redrawn for f in report.tracked.frames]
    for name, write in (("p.json", report.to_json), ("p.csv", report.to_csv),
                        ("plot.png", report.write_plot), ("heat.png", report.write_heatmap)):
        write(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 100


def test_profile_machine_options_and_errors(script):
    from vgaemu.errors import ConfigError, GuestError
    from vgaemu.frontends import FrontendError
    from vgaemu.frontends.profile import profile
    from vgaemu.machine import Machine
    r = profile(script, frames=3, memory="32M", vram="8M")
    assert r.frames == 3
    with pytest.raises(FrontendError, match="frames"):
        profile(script, frames=0)
    with pytest.raises(FrontendError, match="not both"):
        profile(script, frames=3, machine_factory=Machine, vram="8M")
    with pytest.raises(ConfigError):
        profile(script, frames=3, vram="bogus")
    with pytest.raises(GuestError):
        profile(script.parent / "missing.py", frames=3)


def test_progress_bar_on_request(script, capsys):
    from vgaemu.frontends.profile import profile
    profile(script, frames=5, progress=True)
    err = capsys.readouterr().err
    assert "5/5 frames" in err and "dirty tracking" in err and "full redraw" in err
    profile(script, frames=5)                 # stderr is not a TTY under pytest: silent
    assert capsys.readouterr().err == ""
