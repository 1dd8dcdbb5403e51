"""Issue 9 section 3: hostile input to the CLI gives one clean line, a non-zero exit and
bounded memory. Each case runs ``python -m vgaemu`` as a user would; the child's peak RSS
comes from ``os.wait4`` in a small launcher (its own rusage, not pytest's size inherited
through fork), and an address-space rlimit keeps a regression from eating the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

#: "a few hundred MB at most" (issue 9); a healthy run of these cases stays under 150 MB.
RSS_LIMIT_MB = 400
#: The child may not map more than this: a regression fails fast instead of swapping.
CHILD_AS_LIMIT = 6 << 30


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    rss_mb: float


#: The child is started from this small launcher, not forked from pytest: Linux keeps a
#: process's peak RSS across fork and exec, so a child forked from a large pytest process
#: would report pytest's own size. The launcher forks the CLI from its few MB, applies the
#: address-space limit, and writes the CLI's own wait4 peak RSS (KB) to the given pipe.
_LAUNCHER = """
import os, resource, sys
limit, rss_fd = int(sys.argv[1]), int(sys.argv[2])
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.close(rss_fd)
    os.execv(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
os.write(rss_fd, str(usage.ru_maxrss).encode())
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def vgaemu(*args, cwd=None, timeout=240, stdin=None) -> Run:
    """Run the CLI in a child; return its exit status, output and peak RSS."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VGAEMU_TRACEBACK")}
    env["SDL_VIDEODRIVER"] = "dummy"
    # This tree's vgaemu, not whichever one the interpreter has installed.
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                         env.get("PYTHONPATH", "")])
    rss_r, rss_w = os.pipe()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            p = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(CHILD_AS_LIMIT), str(rss_w), sys.executable,
                 "-m", "vgaemu", *map(str, args)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                pass_fds=(rss_w,))
        finally:
            os.close(rss_w)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        with os.fdopen(rss_r, "rb") as f:
            rss_kb = int(f.read() or 0)
        out.seek(0)
        err.seek(0)
        return Run(p.returncode, out.read(), err.read(), rss_kb / 1024)


def assert_clean_failure(r: Run, command: str, *fragments: str) -> str:
    """Non-zero exit, exactly one line on stderr in the documented form, no traceback, no
    "internal error", bounded memory; returns the line."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode not in (0, None), (r.returncode, r.stderr)
    assert len(lines) == 1, r.stderr[-3000:]
    line = lines[0]
    assert line.startswith(f"vgaemu {command}: error: "), line
    assert "Traceback" not in r.stderr and "internal error" not in line, line
    assert "error: error:" not in line, line
    for f in fragments:
        assert f in line, line
    assert r.rss_mb < RSS_LIMIT_MB, f"peak RSS {r.rss_mb:.0f} MB"
    return line


def write_trace(tmp_path: Path, ops, name="t.json") -> Path:
    p = tmp_path / name
    p.write_text(ops if isinstance(ops, str) else json.dumps(ops))
    return p


# ---- replay: JSON that the decoder chokes on -------------------------------------------------

def test_deeply_nested_json_is_one_line(tmp_path):
    p = write_trace(tmp_path, "[" * 100_000)
    assert_clean_failure(vgaemu("replay", p), "replay", "t.json", "nested too deeply")


def test_json_lines_deeply_nested_is_one_line(tmp_path):
    p = write_trace(tmp_path, '{"op": "nop"}\n' + '{"op": "comment", "x": ' + "[" * 50_000 + "\n")
    assert_clean_failure(vgaemu("replay", p), "replay", "t.json:2", "nested too deeply")


def test_number_with_5000_digits_is_one_line(tmp_path):
    p = write_trace(tmp_path, '[{"op": "outb", "port": ' + "9" * 5000 + ', "val": 1}]')
    assert_clean_failure(vgaemu("replay", p), "replay", "t.json", "4300 digits")


def test_huge_negative_hex_string_is_named_briefly(tmp_path):
    p = write_trace(tmp_path, [{"op": "outb", "port": "-0x" + "F" * 5000, "val": 1}])
    line = assert_clean_failure(vgaemu("replay", p), "replay", "op #0 (outb): port=-0xFFFFFFFF...",
                                "out of range")
    assert len(line) < 300


# ---- replay: a fill far larger than the machine ----------------------------------------------

def test_fill_of_4_gib_fails_before_allocating(tmp_path):
    p = write_trace(tmp_path, [{"op": "fill", "addr": "0x100000", "len": "0xFFEFFFFF", "val": 1}])
    assert_clean_failure(vgaemu("replay", p), "replay", "op #0 (fill)",
                         "outside any memory region")


def test_large_valid_fill_runs_in_bounded_memory(tmp_path):
    """256 MiB of guest RAM filled: the RSS is the guest's RAM, not a second copy of it."""
    p = write_trace(tmp_path, [{"op": "fill", "addr": "0x100000", "len": "0x0FF00000", "val": 7},
                               {"op": "halt"}])
    r = vgaemu("replay", p, "-m", "256M")
    assert r.returncode == 0, r.stderr
    assert r.rss_mb < 256 + RSS_LIMIT_MB // 2, r.rss_mb


# ---- replay: thousands of screendumps --------------------------------------------------------

def test_3000_screendumps_stay_in_bounded_memory(tmp_path):
    p = write_trace(tmp_path, [{"op": "screendump"}] * 3000)
    r = vgaemu("replay", p)
    assert r.returncode == 0, r.stderr
    assert "3000 op(s) replayed" in r.stdout
    assert r.rss_mb < 200, f"peak RSS {r.rss_mb:.0f} MB"


def test_screendumps_of_1600x1200_stream_to_disk(tmp_path):
    """Every dump's PNG is written as the op runs; none is kept in memory by the CLI."""
    trace = json.loads((Path(__file__).resolve().parents[1] / "traces" /
                        "vbe_32bpp_1600x1200.json").read_text())
    ops = [o for o in trace if o["op"] not in ("screendump", "halt")]
    p = write_trace(tmp_path, ops + [{"op": "screendump"}] * 40)
    r = vgaemu("replay", p, "--screenshot", tmp_path / "out.png")
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("out-*.png"))) == 40
    assert r.rss_mb < 200, f"peak RSS {r.rss_mb:.0f} MB"


# ---- DMA: a source range that wraps 2**64 ----------------------------------------------------

def test_dma_source_that_wraps_2_64_is_bad_length(tmp_path):
    regs = [("0xFEB00010", "0xFFFFFFF0"), ("0xFEB00014", "0xFFFFFFFF"), ("0xFEB00018", "0xA0000"),
            ("0xFEB0001C", "0"), ("0xFEB00020", "0x100"), ("0xFEB00004", "1")]
    script = tmp_path / "dma_wrap.py"
    script.write_text(
        "from vgaemu import dma\n"
        "def main(guest):\n"
        "    dma.attach(guest.machine)\n"
        + "".join(f"    guest.writel({a}, {v})\n" for a, v in regs)
        + "    st = guest.readl(0xFEB00008)\n"
        "    assert st & 4 and (st >> 8) & 0xFF == 1, hex(st)\n"
        "    guest.dma.copy(0xFFFFFFFFFFFFFFF0, 0xA0000, 0x100)\n")
    assert_clean_failure(vgaemu("run", script, "--headless", "--frames", "1"), "run",
                         "dma_wrap.py:12", "DMA copy", "BAD_LENGTH")


# ---- guests that fail in ways a plain exception does not -------------------------------------

def guest_script(tmp_path: Path, body: str, name="g.py") -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


def test_guest_base_exception_subclass_is_one_line(tmp_path):
    s = guest_script(tmp_path, "class Boom(BaseException):\n    pass\n\n"
                               "def main(guest):\n    guest.frame()\n    raise Boom('gave up')\n")
    assert_clean_failure(vgaemu("run", s, "--headless", "--frames", "5"), "run",
                         "g.py:6: Boom: gave up")


def test_guest_sys_exit_with_status_is_a_failure_and_exit_0_a_return(tmp_path):
    s = guest_script(tmp_path, "import sys\ndef main(guest):\n    guest.frame()\n    sys.exit(3)\n")
    assert_clean_failure(vgaemu("run", s, "--headless", "--frames", "5"), "run",
                         "g.py:4: SystemExit: 3")
    ok = guest_script(tmp_path, "import sys\ndef main(guest):\n    guest.frame()\n    sys.exit(0)\n",
                      "ok.py")
    r = vgaemu("run", ok, "--headless", "--frames", "5")
    assert r.returncode == 0 and "1 frame(s), stopped: the guest returned" in r.stdout, r.stderr


def test_exception_in_a_guest_thread_fails_the_run(tmp_path):
    s = guest_script(tmp_path, "import threading\n"
                               "def work():\n    raise ValueError('worker failed')\n\n"
                               "def main(guest):\n"
                               "    t = threading.Thread(target=work, name='worker')\n"
                               "    t.start()\n    t.join()\n"
                               "    for _ in range(3):\n        guest.frame()\n")
    line = assert_clean_failure(vgaemu("run", s, "--headless", "--frames", "5"), "run",
                                "g.py:3: ValueError: worker failed", "(in guest thread 'worker')")
    assert "frame(s)" not in line


def test_guest_thread_that_never_ends_does_not_hang_the_exit(tmp_path):
    s = guest_script(tmp_path, "import threading, time\n"
                               "def main(guest):\n"
                               "    threading.Thread(target=time.sleep, args=(3600,), name='sleeper').start()\n"
                               "    guest.frame()\n")
    assert_clean_failure(vgaemu("run", s, "--headless", "--frames", "5", timeout=60), "run",
                         "guest thread(s) 'sleeper' still running", "after main() returned")


def test_guest_daemon_thread_is_allowed(tmp_path):
    s = guest_script(tmp_path, "import threading, time\n"
                               "def main(guest):\n"
                               "    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"
                               "    guest.frame()\n")
    r = vgaemu("run", s, "--headless", "--frames", "5", timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ---- output paths are checked before the run -------------------------------------------------

MARKER_GUEST = "def main(guest):\n    open({marker!r}, 'w').close()\n    guest.frame()\n"


@pytest.mark.parametrize("flag", ["--record", "--screenshot"])
def test_unwritable_run_output_fails_before_the_guest_runs(tmp_path, flag):
    marker = tmp_path / "guest-ran"
    s = guest_script(tmp_path, MARKER_GUEST.format(marker=str(marker)))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = vgaemu("run", s, "--headless", "--frames", "3", flag, blocker / "out.x")
    assert_clean_failure(r, "run", f"cannot write {flag}", "a-file is not a directory")
    assert not marker.exists()


def test_screenshot_into_proc_is_one_line_naming_the_path(tmp_path):
    r = vgaemu("run", "text", "--headless", "--frames", "2", "--screenshot", "/proc/vgaemu-shot.png")
    line = assert_clean_failure(r, "run", "cannot write --screenshot /proc/vgaemu-shot.png")
    assert "Couldn't open" not in line


@pytest.mark.parametrize("flag", ["--plot", "--heatmap", "--json", "--csv"])
def test_profile_outputs_are_checked_before_profiling(tmp_path, flag):
    r = vgaemu("profile", "text", "--frames", "2", flag, "/proc/vgaemu-out")
    line = assert_clean_failure(r, "profile", f"cannot write {flag} /proc/vgaemu-out")
    assert "dirty tracking" not in r.stdout, line


def test_replay_screenshot_directory_is_refused(tmp_path):
    p = write_trace(tmp_path, [{"op": "screendump"}])
    assert_clean_failure(vgaemu("replay", p, "--screenshot", tmp_path), "replay",
                         "--screenshot", "is a directory")


def test_existing_output_is_not_truncated_by_the_check(tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("precious")
    r = vgaemu("run", "missing-script-xyz", "--headless", "--record", out)
    assert r.returncode != 0 and out.read_text() == "precious"
    r = vgaemu("run", "text", "--headless", "--frames", "1", "--screenshot", tmp_path / "new" / "s.png")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "new" / "s.png").is_file()


def test_guest_that_fails_with_a_thread_still_running_exits_at_once(tmp_path):
    s = guest_script(tmp_path, "import threading, time\n"
                               "def main(guest):\n"
                               "    threading.Thread(target=time.sleep, args=(3600,)).start()\n"
                               "    raise RuntimeError('broken')\n")
    assert_clean_failure(vgaemu("run", s, "--headless", "--frames", "5", timeout=60), "run",
                         "g.py:4: RuntimeError: broken")
