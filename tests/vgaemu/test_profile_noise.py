"""The profiler's headline: medians over repeated runs, their spread, and "within the noise"
when runs of one kind differ by more than the two kinds do."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from tests.helpers import fake_info, fake_stats
from vgaemu.frontends.profile import ProfileReport, RunProfile, _ProfileSink
from vgaemu.frontends.progress import Progress


class FakeMachine:
    def __init__(self, w=64, h=40):
        self.vga = type("V", (), {})()
        self.vga.surface = np.zeros((h, w, 3), np.uint8)


def report(tracked_runs, full_runs) -> ProfileReport:
    """Runs given as lists of per-frame seconds; the first run of each kind fills the frames."""
    runs = {}
    for name, samples in (("tracked", tracked_runs), ("full", full_runs)):
        rp = RunProfile(name)
        sink = _ProfileSink(rp, Progress(len(samples[0]), name, enabled=False))
        for i, t in enumerate(samples[0], 1):
            sink.frame(FakeMachine(), fake_info(i, fake_stats(name == "full", 40, 1, 64 * 40, ((0, 0, 64, 40),)), t))
        for more in samples[1:]:
            rp.add_samples(more)
        runs[name] = rp
    return ProfileReport("fake", runs["tracked"], runs["full"])


def test_a_spike_in_one_run_moves_neither_the_medians_nor_the_verdict():
    calm = [1e-3] * 10
    spiky = [1e-3] * 9 + [50e-3]
    r = report([calm, spiky, calm], [[2e-3] * 10] * 3)
    assert [f.update_seconds for f in r.tracked.frames] == [1e-3] * 10
    t = r.totals()
    assert t["tracked"]["update_seconds"] == pytest.approx(10e-3)     # sum of per-frame medians
    assert t["time_saved_ratio"] == pytest.approx(0.5)
    # a single pair of runs alone could have shown anything from -195 % to +50 % ...
    assert t["time_saved_range"] == pytest.approx([1 - 59e-3 / 20e-3, 0.5])
    # ... but every frame agrees, so the verdict stands
    assert t["within_noise"] is False and "larger than the noise" in r.summary()
    assert "single pairs of runs alone: -195% to +50%" in r.verdict()


def test_a_clear_difference_is_reported_as_larger_than_the_noise():
    r = report([[1e-3] * 10, [1.1e-3] * 10, [1e-3] * 10], [[3e-3] * 10, [3.2e-3] * 10, [3e-3] * 10])
    t = r.totals()
    assert t["within_noise"] is False and t["noise_seconds"] == pytest.approx((3.2e-3 - 3e-3) * 10)
    assert "larger than the noise" in r.verdict() and "speed-up 3.0x" in r.verdict()


def test_the_frames_decide_by_a_sign_test():
    from vgaemu.frontends.profile import sign_test

    assert sign_test(0, 0) == 1.0 and sign_test(3, 3) == 1.0
    assert sign_test(10, 0) == sign_test(0, 10) == 2 / 2 ** 10
    # one run each: 5 faster frames of 5 could be chance (p = 1/16), 20 of 20 could not
    assert report([[1e-3] * 5], [[2e-3] * 5]).totals()["within_noise"] is True
    r = report([[1e-3] * 20], [[2e-3] * 20])
    assert r.totals()["within_noise"] is False and "tracking faster in 20 of 20 frames" in r.verdict()
    # the same totals, but the frames split evenly: no measurable difference
    alternating = [[1e-3, 3e-3] * 10], [[2e-3] * 20]
    r = report(*alternating)
    assert r.totals()["frames_tracked_faster"] == 10 and r.totals()["within_noise"] is True


def test_json_and_csv_carry_the_summary_numbers():
    r = report([[1e-3, 2e-3], [3e-3, 4e-3], [5e-3, 1e-3]], [[2e-3, 2e-3]] * 3)
    data = json.loads(r.to_json())
    assert data["totals"] == json.loads(json.dumps(r.totals()))
    assert data["verdict"] == r.verdict() and data["verdict"] in r.summary()
    assert data["runs"]["tracked"][0]["update_seconds"] == 3e-3
    assert data["runs"]["tracked"][0]["update_seconds_runs"] == [1e-3, 3e-3, 5e-3]
    rows = [row for row in csv.DictReader(io.StringIO(r.to_csv())) if row["run"] == "tracked"]
    assert [(float(x["update_seconds"]), float(x["update_seconds_min"]), float(x["update_seconds_max"]))
            for x in rows] == [(3e-3, 1e-3, 5e-3), (2e-3, 1e-3, 4e-3)]


def test_repr_is_a_summary_and_a_notebook_sees_the_plot():
    r = report([[1e-3] * 300] * 2, [[2e-3] * 300] * 2)
    assert len(repr(r)) < 200 and repr(r).startswith("<ProfileReport fake: 300 frames x 2 runs")
    assert len(repr(r.tracked)) < 100
    png = r._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_alternates_repeats_of_a_real_guest():
    from vgaemu.frontends.profile import profile

    r = profile("plasma", frames=3, repeat=2)
    assert r.frames == 3 and len(r.tracked.samples) == len(r.full.samples) == 2
    assert r.totals()["tracked"]["runs"] == 2 and r.totals()["lines_saved_ratio"] == 0.0
