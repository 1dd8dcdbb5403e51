"""The command line as QEMU users and shell users expect it: monitor-shaped info, -device help,
quiet broken pipes, Ctrl-C with exit status 130 and no partial files, help with examples."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vgaemu.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
TRACE_WITH_DUMPS = REPO / "tests" / "traces" / "edge_attr_blanked.json"


def env():
    e = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")])
    return e


def vgaemu(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vgaemu", *args], capture_output=True, text=True,
                          cwd=cwd, env=env(), timeout=300)


def test_demos_lists_every_demo_with_one_line():
    from vgaemu.demos import demo_names

    r = vgaemu("demos")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert [l.split()[0] for l in lines] == demo_names() and len(lines) >= 7
    assert all(len(l.split(None, 1)) == 2 for l in lines)      # a name and its summary
    assert vgaemu("run", "--list").stdout == r.stdout
    assert vgaemu("demos", "--names").stdout.split() == demo_names()


def test_load_script_takes_a_demo_name_as_the_cli_does():
    from vgaemu import load_script
    from vgaemu.errors import GuestError

    main = load_script("plasma")
    assert main.__vgaemu_script__.endswith(os.path.join("demos", "plasma.py"))
    with pytest.raises(GuestError, match="nor a demo: dimm, modex"):
        load_script("no_such_demo")


def test_info_mtree_f_is_the_flatview(tmp_path):
    from vgaemu.machine import Machine

    r = vgaemu("info", "mtree", "-f")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == Machine().mtree(flatview=True).strip()
    assert r.stdout.startswith("FlatView #0\n")
    bad = vgaemu("info", "ramblock", "-f")
    assert bad.returncode == 1 and "-f goes with 'info mtree'" in bad.stderr


def test_device_and_object_help_list_models_and_every_property():
    from guestmem.dimm import _BACKEND_PROPS, _DEVICE_PROPS

    r = vgaemu("info", "-device", "help")
    assert r.returncode == 0 and 'name "pc-dimm", desc "DIMM memory module"' in r.stdout
    assert vgaemu("-device", "help").stdout == r.stdout          # QEMU's spelling, no subcommand
    r = vgaemu("-device", "pc-dimm,help")
    assert r.stdout.startswith("pc-dimm options:\n")
    assert {m.group(1) for m in re.finditer(r"^  ([a-z-]+)=<", r.stdout, re.M)} == _DEVICE_PROPS | {"size"}
    r = vgaemu("-object", "help")
    assert r.stdout.split()[5:] == sorted(_BACKEND_PROPS)
    r = vgaemu("-object", "memory-backend-file,help")
    assert {m.group(1) for m in re.finditer(r"^  ([a-z-]+)=<", r.stdout, re.M)} == \
        _BACKEND_PROPS["memory-backend-file"]
    bad = vgaemu("-device", "virtio-gpu,help")
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "'virtio-gpu' is not a valid device type" in bad.stderr


def test_closed_pipe_ends_quietly():
    """``vgaemu info | head -1``: the reader is gone before vgaemu writes."""
    p = subprocess.Popen([sys.executable, "-m", "vgaemu", "info", "all"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env())
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert p.returncode == 141 and err == ""


def test_ctrl_c_one_line_status_130_no_partial_files(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "vgaemu", "run", "plasma", "--headless", "--frames", "1000000",
                          "--screenshot", "shot.png", "--record", "t.json", "--gif", "a.gif",
                          "--screenshot-every", "5", "every"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env(),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((tmp_path / "every").glob("frame-*.png")):     # wait until frames are running
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (out, err)
    assert err == "vgaemu: interrupted\n"
    # the frames written so far are whole files; none of the outputs of the end exists
    assert sorted(q.name for q in tmp_path.iterdir()) == ["every"]
    assert not [q for q in (tmp_path / "every").iterdir() if not q.name.startswith("frame-")]


def test_outputs_are_renamed_into_place(tmp_path):
    from vgaemu.cli import CLIError, _output

    with pytest.raises(RuntimeError):
        with _output(tmp_path / "x.png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted while writing")
    assert list(tmp_path.iterdir()) == []
    with _output(tmp_path / "x.png") as tmp:
        tmp.write_bytes(b"whole")
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]

    with _output(tmp_path / "new" / "y.png") as tmp:     # the writer creates missing parents
        tmp.write_bytes(b"whole")
    assert (tmp_path / "new" / "y.png").read_bytes() == b"whole"
    with pytest.raises(CLIError, match="cannot write"):
        with _output(tmp_path / "x.png" / "z.png"):
            pass


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def test_every_subcommand_has_a_description_examples_and_option_help():
    for name, sub in _subparsers().items():
        assert sub.description, name
        assert sub.epilog and sub.epilog.startswith("examples:\n  vgaemu "), name
        for action in sub._actions:
            assert action.help, f"vgaemu {name} {action.option_strings or action.dest}: no help line"


def test_frames_means_the_same_in_run_demo_and_profile():
    subs = _subparsers()
    helps = {n: next(a for a in subs[n]._actions if "--frames" in a.option_strings) for n in ("run", "demo", "profile")}
    assert all(a.help.startswith("stop after N frames, or earlier when the guest returns") for a in helps.values())
    assert subs["profile"].parse_args(["plasma"]).frames == 120        # as headless run


def test_compare_says_where_it_writes_and_a_bad_option_creates_nothing(tmp_path):
    r = vgaemu("compare", str(REPO / "tests" / "traces" / "text_blink.json"), "--golden-dir",
               str(tmp_path / "nope"), "--out", "outdir", cwd=tmp_path)
    assert r.returncode == 1 and "no such directory" in r.stderr
    assert not (tmp_path / "outdir").exists()
    r = vgaemu("compare", str(REPO / "tests" / "traces" / "text_blink.json"), "--golden-dir",
               str(REPO / "tests" / "golden" / "qemu"), cwd=tmp_path)
    assert f"pictures of differences are in {tmp_path / 'compare-out'}" in r.stdout
    r = vgaemu("run", "plasma", "--headless", "--frames", "2", "--screenshot-every", "x", "shots", cwd=tmp_path)
    assert r.returncode == 1 and not (tmp_path / "shots").exists()
    r = vgaemu("run", "plasma", "--headless", "--frames", "2", "--gif", "a.png", cwd=tmp_path)
    assert r.returncode == 1 and "ending in .gif" in r.stderr


def test_compare_with_golden_dir_needs_no_qemu(tmp_path, monkeypatch):
    from vgaemu.compare import compare

    monkeypatch.setenv("PATH", "")           # no qemu-system-* to be found
    rows = compare([REPO / "tests" / "traces" / "text_blink.json"], golden_dir=REPO / "tests" / "golden" / "qemu",
                   out_dir=tmp_path / "o")
    assert rows and all(r.error is None for r in rows)


def test_replay_says_screendumps_were_skipped_and_run_names_no_internals(tmp_path):
    r = vgaemu("replay", str(TRACE_WITH_DUMPS), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "screendump op(s) not written (give --screenshot OUT.png" in r.stdout
    r = vgaemu("run", "plasma", "--headless", "--frames", "2", cwd=tmp_path)
    assert "stopped: reached --frames" in r.stdout and "max_frames" not in r.stdout
