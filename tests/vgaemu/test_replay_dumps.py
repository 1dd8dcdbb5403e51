"""replay(keep_images=...): the screendumps a caller keeps in memory (issue 9.3: a trace of
thousands of dumps used gigabytes because every picture was kept)."""

import numpy as np
import pytest

from vgaemu.trace import replay

TRACE = [{"op": "int10", "ax": "0x13"},
         {"op": "screendump", "name": "a"},
         {"op": "screendump", "name": "b"},
         {"op": "fill", "addr": "0xA0000", "len": 320, "val": 4},
         {"op": "screendump", "name": "c"}]


def test_default_keeps_every_dump_and_equal_pictures_share_one_array():
    r = replay(TRACE)
    a, b, c = (r.dump(n).image for n in "abc")
    assert a is b and a is not c  # nothing drawn between a and b
    assert not a.flags.writeable and not c.flags.writeable
    assert (c[:2] != a[:2]).any() and (c[2:] == a[2:]).all()  # one doubled line
    assert r.image.flags.writeable  # the final picture is the caller's own copy


def test_keep_none_writes_files_and_keeps_no_picture(tmp_path):
    r = replay(TRACE, keep_images=False, screenshot=tmp_path / "out.png")
    assert [d.name for d in r.screendumps] == ["a", "b", "c"]
    assert all(d.image is None for d in r.screendumps)
    assert all(d.path.is_file() for d in r.screendumps)


def test_keep_named_dumps_only():
    r = replay(TRACE, keep_images=["c"])
    assert r.dump("a").image is None and r.dump("b").image is None
    assert r.dump("c").image.shape == (400, 640, 3)


def test_many_dumps_kept_by_default_cost_one_picture_when_nothing_changes():
    r = replay([{"op": "screendump"}] * 500)
    images = {id(d.image) for d in r.screendumps}
    assert len(images) == 1


@pytest.mark.parametrize("keep", [True, False])
def test_final_image_is_the_same_either_way(keep):
    assert np.array_equal(replay(TRACE, keep_images=keep).image, replay(TRACE).image)
