"""The ``vgaemu`` command line (also ``python -m vgaemu``).

    vgaemu run SCRIPT [--headless] [--frames N] [--screenshot PATH] [--screenshot-every K DIR]
                      [--scale S] [--fps F] [--record TRACE.json] [--gif F] [--apng F] [--qemu-compat]
    vgaemu demos [--names]                  (also: vgaemu run --list)
    vgaemu replay TRACE [--screenshot OUT.png] [--gif F] [--apng F] [--scale S] [--qemu-compat]
    (run/boot/replay also take -qmp unix:PATH,server=on,wait=off; run and boot take
     -incoming URI|defer and --save-on-exit FILE)
    vgaemu compare TRACE... (--qemu | --golden-dir DIR) [--out DIR] [--side-by-side]
    vgaemu boot IMAGE | -fda/-hda IMG | -drive file=IMG,if=floppy|ide  [--headless] [--frames N]
                [--screenshot PATH] [--keys SPEC] [--ips N] [--gif F] [--apng F]
                [-boot [order=]DRIVES[,once=DRIVES]]
                                            (vgaemu run PROG.com takes the same and --args)
    vgaemu profile SCRIPT|IMAGE|PROG.com [--frames N] [--repeat R] [--table] [--json F] [--csv F]
                   [--plot F] [--heatmap F] [--keys SPEC] [--ips N] [--args TAIL]
    vgaemu info [mtree [-f]|ramblock|memory-devices|all]
    vgaemu demo
    vgaemu -device help | -device pc-dimm,help | -object help

Every subcommand takes QEMU's machine options: ``-m 64M,slots=4,maxmem=1G``,
``-object memory-backend-ram,id=mem1,size=128M``, ``-device pc-dimm,id=dimm1,memdev=mem1``
(both repeatable) and ``--vram 16M``. SCRIPT is a path or the name of a demo shipped in
``vgaemu/roms/demos/`` (``vgaemu run plasma``). Errors print one line naming what is at fault
and exit 1 (2 for a usage error); set VGAEMU_TRACEBACK=1 to see the Python traceback as well.
Like a Unix tool it stops quietly on a closed pipe (141) and on Ctrl-C prints one line and
exits 130; output files are renamed into place only when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from vgaemu import __version__

DEFAULT_DEMO = "plasma"
HEADLESS_DEFAULT_FRAMES = 120
WINDOW_FPS = 60.0
FPS_HELP = ("frames per host second: the window's pace (default 60; 0 = unpaced); a headless "
            "run is unpaced unless given (--fps 60 runs in real time, e.g. a guest driven over -qmp)")
EXIT_ERROR = 1
EXIT_USAGE = 2


class CLIError(Exception):
    """A problem with what the user asked for; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line (``vgaemu run: error: ...``)."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _machine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("machine options (as QEMU's)")
    g.add_argument("-m", dest="memory", default=None, metavar="SIZE[,slots=N,maxmem=M]",
                   help="guest RAM, e.g. 64M or 64M,slots=4,maxmem=1G (default 64M, or what the script's MACHINE asks)")
    g.add_argument("-object", dest="objects", action="append", default=[], metavar="OPTS",
                   help="memory backend, e.g. memory-backend-ram,id=mem1,size=128M (repeatable)")
    g.add_argument("-device", dest="devices", action="append", default=[], metavar="OPTS",
                   help="device, e.g. pc-dimm,id=dimm1,memdev=mem1 (repeatable)")
    g.add_argument("--vram", default=None, metavar="SIZE", help="VGA memory (default 16M)")
    g.add_argument("--rtc-base", "-rtc", dest="rtc_base", default=None,
                   metavar="DATE|base=DATE[,clock=vm]",
                   help="the date the RTC shows at the start: 2020-01-01T00:00:00, utc or "
                        "localtime (default 2000-01-01T00:00:00, fixed so runs repeat); "
                        "-rtc takes QEMU's base=...,clock=vm,driftfix=... form")
    g.add_argument("--qemu-compat", action="store_true",
                   help="reproduce QEMU 7.2 where it differs from VGA hardware")
    g.add_argument("--no-tb-cache", dest="tb_cache", action="store_false",
                   help="the CPU decodes every instruction each time instead of caching "
                        "translation blocks (for comparison and debugging)")


def _pc_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-fda", action="append", default=[], metavar="IMG", help="floppy drive A: image")
    p.add_argument("-fdb", action="append", default=[], metavar="IMG", help="floppy drive B: image")
    p.add_argument("-hda", action="append", default=[], metavar="IMG", help="first IDE hard disk image")
    p.add_argument("-hdb", action="append", default=[], metavar="IMG", help="second IDE hard disk image")
    p.add_argument("-drive", action="append", default=[], metavar="file=IMG,format=raw,if=floppy|ide",
                   help="a drive as QEMU's -drive (repeatable)")
    p.add_argument("-boot", dest="boot", default=None, metavar="[order=]DRIVES[,once=DRIVES]",
                   help="boot order as QEMU's: a = floppy, c = hard disk (default order=cad: the "
                        "hard disk first); once= is used for the first boot only")
    p.add_argument("--snapshot", "-snapshot", action="store_true",
                   help="keep disk writes in memory instead of writing them to the image files")
    p.add_argument("--keys", action="append", default=[], metavar="SPEC",
                   help="scripted key input: TIME:KEY[:HOLD] (0.5s:space, 1s:shift+left:200ms) or "
                        "TIME:text:STRING (\\n = Enter); repeatable; @FILE reads one SPEC a line")
    p.add_argument("--serial", metavar="FILE", help="write debug console (0xE9) and COM1 output here "
                                                     "instead of stderr")
    p.add_argument("--ips", type=_positive_int, default=None, metavar="N",
                   help="guest instructions per virtual second (default 10000000)")
    p.add_argument("--headless", action="store_true", help="no window: run and write screenshots")
    p.add_argument("--frames", type=_positive_int, metavar="N",
                   help=f"stop after N frames (headless default: {HEADLESS_DEFAULT_FRAMES})")
    p.add_argument("--screenshot", metavar="PATH", help="write the last frame as a PNG")
    p.add_argument("--screenshot-every", nargs=2, metavar=("K", "DIR"),
                   help="write every K-th frame as DIR/frame-NNNNNN.png (headless)")
    p.add_argument("--screenshot-on-debugcon", metavar="OUT.png",
                   help="the QEMU oracle's handshake: each 'S' the guest writes to port 0xE9 "
                        "takes a screendump, OUT-1.png, OUT-2.png ..., answered with an NMI")
    p.add_argument("--scale", type=_positive_int, default=None, metavar="S", help="integer window scale")
    p.add_argument("--fps", type=_positive_float, default=None, metavar="F", help=FPS_HELP)
    _machine_options(p)


def _positive_int(text: str) -> int:
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _window_fps(args) -> float:
    return WINDOW_FPS if args.fps is None else args.fps


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return v


def _sub(sub, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help has a description and examples."""
    return sub.add_parser(name, help=summary, description=description, allow_abbrev=False,
                          epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


RUN_FRAMES_HELP = (f"stop after N frames, or earlier when the guest returns (default {HEADLESS_DEFAULT_FRAMES} "
                   "headless; a window runs until the guest returns or the window is closed)")


def _frames_option(p: argparse.ArgumentParser) -> None:
    """``--frames`` means the same everywhere: stop after N frames, or earlier when the guest
    returns; with no window the default is the same N."""
    p.add_argument("--frames", type=_positive_int, default=HEADLESS_DEFAULT_FRAMES, metavar="N",
                   help=f"stop after N frames, or earlier when the guest returns (default {HEADLESS_DEFAULT_FRAMES})")


def _recording_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("recording (Pillow)")
    g.add_argument("--gif", metavar="OUT.gif",
                   help="write the frames as an animated GIF at their frame times (unchanged frames skipped)")
    g.add_argument("--apng", metavar="OUT.png", help="the same as an animated PNG (exact colours, 1 ms timing)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vgaemu", allow_abbrev=False,
                     description="A VGA emulator on a Python model of QEMU's guest RAM core.",
                     epilog="examples:\n"
                            "  vgaemu demos                      list the demo guests\n"
                            "  vgaemu run plasma                 run one in a window\n"
                            "  vgaemu info mtree -f              QEMU's 'info mtree -f' of the machine\n"
                            "Run 'vgaemu SUBCOMMAND --help' for the options and examples of each.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"vgaemu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    parser.subcommands = sub.choices    # name -> its parser, for errors in the subcommand's words

    p = _sub(sub, "run", "run a guest script in a window (or --headless)",
             "Run a guest script (a Python file defining main(guest), or a demo name) on a fresh "
             "machine.\nWith a display it opens a window; --headless runs without one and writes "
             "screenshots.",
             "  vgaemu run plasma\n"
             "  vgaemu run text --headless --frames 60 --screenshot text.png\n"
             "  vgaemu run sprites --headless --frames 90 --gif sprites.gif --scale 1\n"
             "  vgaemu run my_guest.py -m 64M,slots=2,maxmem=1G --record session.json\n"
             "  vgaemu run --list")
    p.add_argument("script", metavar="SCRIPT", nargs="?",
                   help="guest script path, or a demo name (see 'vgaemu demos')")
    p.add_argument("--list", action="store_true", help="list the demos and exit (as 'vgaemu demos')")
    p.add_argument("--headless", action="store_true", help="no window: run and write screenshots")
    p.add_argument("--frames", type=_positive_int, default=None, metavar="N", help=RUN_FRAMES_HELP)
    p.add_argument("--screenshot", metavar="PATH", help="write the last frame as a PNG")
    p.add_argument("--screenshot-every", nargs=2, metavar=("K", "DIR"),
                   help="write every K-th frame as DIR/frame-NNNNNN.png (headless)")
    p.add_argument("--scale", type=_positive_int, default=None, metavar="S",
                   help="integer scale of the window and of --gif/--apng (default 1)")
    p.add_argument("--fps", type=_positive_float, default=None, metavar="F", help=FPS_HELP)
    p.add_argument("--overlay", action="store_true", help="start with the redrawn-lines overlay on (key D)")
    p.add_argument("--record", metavar="TRACE.json", help="record what the guest did as a replayable trace")
    _recording_options(p)
    g = p.add_argument_group("DOS .COM programs (SCRIPT ending in .com)")
    g.add_argument("--args", default="", metavar="TAIL", help="the program's command tail")
    g.add_argument("--keys", action="append", default=[], metavar="SPEC",
                   help="scripted key input, as 'vgaemu boot --keys'")
    g.add_argument("--serial", metavar="FILE", help="debug console / COM1 output file (default stderr)")
    g.add_argument("--ips", type=_positive_int, default=None, metavar="N",
                   help="guest instructions per virtual second (default 10000000)")
    _machine_options(p)
    _monitor_options(p, migration=True)

    p = _sub(sub, "demos", "list the demo guests, one line each",
             "List the demo guests that ship with vgaemu (package data), with what each shows.",
             "  vgaemu demos\n  vgaemu run $(vgaemu demos --names | head -1)")
    p.add_argument("--names", action="store_true", help="print only the names, one per line")

    p = _sub(sub, "boot", "boot a disk image on the PC platform (window or --headless)",
             "Boot a raw disk image as QEMU + SeaBIOS would: IMAGE is the first hard disk "
             "(QEMU's default);\n-fda/-hda/-drive as QEMU spells them. The x86 CPU runs the boot "
             "sector at 0000:7C00 with\nthe PIC, PIT, keyboard, INT 13h disks and the VGA BIOS.",
             "  vgaemu boot disk.img --scale 2\n"
             "  vgaemu boot -fda floppy.img --headless --frames 120 --screenshot out.png\n"
             "  vgaemu boot game.img --headless --keys 0.5s:space --keys 2s:text:hi\\n\n"
             "  vgaemu boot -fda game.img -qmp unix:/tmp/q.sock,server=on,wait=off\n"
             "  vgaemu boot -fda game.img --headless --frames 30 --save-on-exit s.vgaemu\n"
             "  vgaemu boot -fda game.img -incoming file:s.vgaemu      (resume it)\n"
             "  vgaemu boot oracle.img --headless --screenshot out.png --screenshot-on-debugcon out.png")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="raw disk image (the first IDE hard disk)")
    _pc_options(p)
    _recording_options(p)
    _monitor_options(p, migration=True)

    p = _sub(sub, "replay", "replay a guest trace (the oracle's format)",
             "Replay a trace of port writes, memory stores and INT 10h/15h calls on a freshly "
             "booted machine,\nas QEMU's oracle runs it, and write the final picture.",
             "  vgaemu replay tests/traces/text_blink.json --screenshot blink.png\n"
             "  vgaemu replay session.json --gif session.gif --scale 2")
    p.add_argument("trace", metavar="TRACE", help="trace file (JSON list, {'ops': [...]}, or JSON lines)")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="write the final picture (and OUT-<name>.png per screendump op)")
    p.add_argument("--scale", type=_positive_int, default=None, metavar="S",
                   help="integer scale of --gif/--apng (default 1)")
    _recording_options(p)
    _machine_options(p)
    _monitor_options(p)

    p = _sub(sub, "compare", "replay traces here and in real QEMU and diff the screenshots",
             "Replay each trace here and compare the picture with QEMU's: live (--qemu, needs "
             "qemu-system-x86\nand the oracle) or with screendumps QEMU made earlier (--golden-dir).",
             "  vgaemu compare tests/traces/*.json --golden-dir tests/golden/qemu\n"
             "  vgaemu compare my_trace.json --qemu --side-by-side --out /tmp/cmp")
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace files to replay")
    ref = p.add_mutually_exclusive_group(required=True)
    ref.add_argument("--qemu", action="store_true", help="compare against real QEMU (the oracle)")
    ref.add_argument("--golden-dir", metavar="DIR",
                     help="compare against screendumps QEMU made earlier (DIR/<trace>.png), no QEMU needed")
    p.add_argument("--out", default="compare-out", metavar="DIR",
                   help="where screenshots and diff images go (default ./compare-out)")
    p.add_argument("--side-by-side", action="store_true",
                   help="also write <trace>.side.png: QEMU | vgaemu (| diff) for every screenshot")
    _machine_options(p)

    p = _sub(sub, "profile", "measure what dirty tracking saves",
             "Run a guest with dirty tracking and with a full redraw every frame, alternately and "
             "repeatedly,\nand report the per-frame medians, their spread, and whether the "
             "difference is larger than the noise.",
             "  vgaemu profile plasma\n"
             "  vgaemu profile sprites --frames 120 --repeat 5 --plot sprites.png --json sprites.json\n"
             "  vgaemu profile vgaemu/roms/programs/plasma13.img --frames 60 --table\n"
             "  vgaemu profile intro.com --keys 1s:space --csv intro.csv")
    p.add_argument("script", metavar="SCRIPT",
                   help="guest script path, a demo name, a disk image to boot (.img, .ima, .flp, "
                        ".vfd, .dsk, .bin, .raw: a floppy up to 2.88 MB, else a hard disk) or a "
                        "DOS .COM program")
    _frames_option(p)
    p.add_argument("--repeat", type=_positive_int, default=3, metavar="R",
                   help="runs of each kind, alternated (default 3); per-frame times are medians over them")
    p.add_argument("--json", metavar="F", help="write the report (headline and per-frame numbers) as JSON")
    p.add_argument("--csv", metavar="F", help="write the per-frame numbers as CSV (one row per frame and run)")
    p.add_argument("--plot", metavar="F", help="PNG plot of per-frame cost, tracked vs full")
    p.add_argument("--heatmap", metavar="F", help="PNG of which scanlines were redrawn in which frame")
    p.add_argument("--table", action="store_true",
                   help="print the per-frame table of the tracked run: redraw and CPU counters "
                        "(instructions, TBs translated/executed/invalidated, SMC events)")
    g = p.add_argument_group("boot images and DOS .COM programs")
    g.add_argument("--keys", action="append", default=[], metavar="SPEC",
                   help="scripted key input, as 'vgaemu boot --keys'")
    g.add_argument("--ips", type=_positive_int, default=None, metavar="N",
                   help="guest instructions per virtual second (default 10000000)")
    g.add_argument("--args", default="", metavar="TAIL", help="a .COM program's command tail")
    _machine_options(p)

    p = _sub(sub, "info", "print the memory map, RAM blocks, memory devices, CPU counters (as QEMU's monitor)",
             "Print what QEMU's monitor prints for the machine the options describe.",
             "  vgaemu info mtree\n  vgaemu info mtree -f\n  vgaemu info ramblock\n  vgaemu info cpu\n"
             "  vgaemu info memory-devices -m 64M,slots=2,maxmem=1G \\\n"
             "      -object memory-backend-ram,id=m1,size=128M -device pc-dimm,id=d1,memdev=m1")
    p.add_argument("what", nargs="?", default="all", choices=["mtree", "ramblock", "memory-devices", "cpu", "all"],
                   help="which table (default all)")
    p.add_argument("-f", dest="flatview", action="store_true",
                   help="with mtree: the flattened view (FlatView) each address space uses")
    _machine_options(p)

    p = _sub(sub, "demo", f"run the default demo ({DEFAULT_DEMO}) in a window, or headless",
             f"Run the {DEFAULT_DEMO} demo in a window; with no display, headless with a screenshot.",
             "  vgaemu demo\n  vgaemu demo --screenshot /tmp/demo.png --frames 30\n"
             "  vgaemu demo --headless")
    p.add_argument("--headless", action="store_true",
                   help="no window even with a display: run and write the screenshot")
    p.add_argument("--screenshot", default="vgaemu-demo.png", metavar="PATH",
                   help="where the headless run writes its screenshot (default vgaemu-demo.png)")
    p.add_argument("--frames", type=_positive_int, default=None, metavar="N", help=RUN_FRAMES_HELP)
    _machine_options(p)
    return parser


# ---- helpers ----------------------------------------------------------------------------


def resolve_script(name: str) -> Path:
    """A script path as given, else the shipped demo of that name (``vgaemu/roms/demos/``)."""
    from vgaemu.demos import demo_names, demo_path

    p = Path(name)
    if p.is_file():
        return p
    if os.sep not in name and "/" not in name:
        cand = demo_path(name)
        if cand is not None:
            return cand
    raise CLIError(f"guest script not found: {name} (not a file, nor a demo; demos: "
                   f"{', '.join(demo_names()) or 'none'})")


def make_machine(args, main=None):
    """The machine of the command-line options, on top of what the script's MACHINE asks."""
    from vgaemu.guest import machine_options
    from vgaemu.machine import Machine

    opts = {"memory": "64M", "vram": "16M", "objects": (), "devices": (), "qemu_compat": False}
    if main is not None:
        opts.update(machine_options(main))
    if args.memory is not None:
        opts["memory"] = args.memory
    if args.vram is not None:
        opts["vram"] = args.vram
    opts["objects"] = (*opts["objects"], *args.objects)
    opts["devices"] = (*opts["devices"], *args.devices)
    opts["qemu_compat"] = bool(opts["qemu_compat"] or args.qemu_compat)
    opts["tb_cache"] = getattr(args, "tb_cache", True)
    rtc = getattr(args, "rtc_base", None)
    if rtc is not None:
        from vgaemu.pc.rtc import parse_rtc_option

        opts["rtc_base"] = parse_rtc_option(rtc) if "=" in rtc else rtc
    return Machine(**opts)


def display_available() -> bool:
    """True when a pygame window can be opened (a display server is there)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return False
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False
    try:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        pygame.display.init()
        ok = pygame.display.get_driver() not in ("dummy", "offscreen")
        pygame.display.quit()
        return ok
    except Exception:
        return False


def check_output_file(path, what: str) -> None:
    """Fail before the run, not after it, when ``path`` cannot be written. Nothing is created
    (an option error leaves no directory behind; the writer creates missing parents): an
    existing parent gets the file opened for writing without truncating it -- created and
    removed again when it did not exist; otherwise the nearest existing ancestor must be a
    directory we may create entries in."""
    p = Path(path)
    try:
        if p.is_dir():
            raise CLIError(f"{what} {path}: is a directory")
        for parent in reversed(p.parents):
            if parent.exists() and not parent.is_dir():
                raise CLIError(f"cannot write {what} {path}: {parent} is not a directory")
        if not p.parent.exists():
            base = next(a for a in p.absolute().parents if a.exists())
            if not os.access(base, os.W_OK | os.X_OK):
                raise CLIError(f"cannot write {what} {path}: cannot create directories in {base}")
            return
        if p.exists():
            with open(p, "r+b"):
                pass
        else:
            with open(p, "xb"):
                pass
            p.unlink()
    except OSError as e:
        raise CLIError(f"cannot write {what} {path}: {e.strerror or e}") from None


def check_output_dir(path, what: str) -> None:
    """Like check_output_file for a directory the run writes files into."""
    d = Path(path)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create {what} {path}: {e.strerror or e}") from None
    check_output_file(d / ".vgaemu-write-check", what)


def _say(msg: str) -> None:
    print(msg, flush=True)


#: What ended a run, in words (RunResult.stopped and the window's reason).
STOP_REASONS = {"returned": "the guest returned", "max_frames": "reached --frames",
                "quit": "the front end ended the run", "escape": "Esc pressed",
                "quit-key": "Ctrl+Alt+Q pressed", "window-closed": "window closed",
                "qmp-quit": "QMP quit"}


def _stop_reason(result, sink=None, machine=None) -> str:
    reason = getattr(sink, "quit_reason", None) if result.stopped == "quit" else None
    if result.stopped == "quit" and reason is None and machine is not None \
            and machine.loop.quit_requested:
        reason = "qmp-quit"     # the run ended because a monitor client sent quit
    return STOP_REASONS.get(reason or result.stopped, result.stopped)


@contextmanager
def _output(path: str | os.PathLike):
    """Write an output file atomically: the writer gets a temporary name in the same directory
    (same suffix, so PNG/GIF/JSON writers pick their format) that is renamed into place only
    when it succeeded, so Ctrl-C or an error never leaves a partial file behind."""
    final = Path(path)
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot write {path}: {e.strerror or e}") from None
    tmp = parent / f".{final.stem}.partial-{os.getpid()}{final.suffix}"
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def _animation_recorders(args) -> list[tuple[str, str, object]]:
    """(flag, path, recorder) for --gif / --apng, checked before the run."""
    from vgaemu.frontends.animation import AnimationRecorder, animation_format

    out = []
    for kind in ("gif", "apng"):
        path = getattr(args, kind, None)
        if path:
            animation_format(path, kind)
            check_output_file(path, f"--{kind}")
            out.append((kind, path, AnimationRecorder(scale=args.scale or 1)))
    return out


def _save_animations(recorders) -> None:
    for kind, path, rec in recorders:
        with _output(path) as tmp:
            rec.save(tmp, kind=kind)
        lossy = f", {rec.lossy_frames} reduced to 256 colours" if rec.lossy_frames else ""
        _say(f"{kind} of {len(rec)} frame(s) ({rec.skipped} unchanged skipped{lossy}) "
             f"written to {Path(path).resolve()}")


# ---- QMP monitor, incoming migration, save on exit (-qmp, -incoming, --save-on-exit) ------


def _monitor_options(p: argparse.ArgumentParser, *, migration: bool = False) -> None:
    g = p.add_argument_group("monitor and migration (as QEMU's)")
    g.add_argument("-qmp", dest="qmp", action="append", default=[], metavar="ADDR",
                   help="serve QMP: unix:PATH,server=on,wait=off or tcp:HOST:PORT,server=on "
                        "(wait=on, the default, waits for a client before the guest starts)")
    if migration:
        g.add_argument("-incoming", dest="incoming", default=None, metavar="URI|defer",
                       help="load the machine from a migration stream (unix:PATH, tcp:HOST:PORT, "
                            "exec:CMD, file:PATH) before running; 'defer' waits for QMP "
                            "migrate-incoming")
        g.add_argument("--save-on-exit", dest="save_on_exit", default=None, metavar="FILE",
                       help="when the run ends, save the machine to FILE (resume with "
                            "-incoming file:FILE)")


def _qmp_option(text: str) -> tuple[str, bool]:
    """``unix:PATH[,server=on][,wait=off]`` -> (address, wait)."""
    head, *opts = text.split(",")
    wait, server = True, True
    for opt in opts:
        key, _, val = opt.partition("=")
        val = val or "on"
        if val not in ("on", "off"):
            raise CLIError(f"-qmp {text}: {key}={val}: expected on or off")
        if key == "server":
            server = val == "on"
        elif key in ("wait", "nowait"):
            wait = (val == "on") if key == "wait" else False
        else:
            raise CLIError(f"-qmp {text}: unknown option {key!r} (expected server=, wait=)")
    if not server:
        raise CLIError(f"-qmp {text}: vgaemu only listens (server=on), it does not connect out")
    return head, wait


def _show_restored(guest):
    """The guest of a restored machine whose script cannot resume: time passes, the
    display runs, QMP can inspect it; nothing else changes the machine."""
    while True:
        guest.frame()


class MonitorSession:
    """What -qmp, -incoming and --save-on-exit add around a run."""

    def __init__(self, args, machine) -> None:
        self.args = args
        self.machine = machine
        self.servers = []
        path = getattr(args, "save_on_exit", None)
        if path:   # checked now: found out at exit, the session's state would be lost
            check_output_file(path, "--save-on-exit")

    def before_run(self, main, script, waiting=None):
        """Listen (QMP, -incoming) and wait for what must come first. ``waiting()`` is
        called every few ms while an incoming migration is awaited (the window's idle hook:
        it keeps answering, and closing it gives up the wait)."""
        machine, args = self.machine, self.args
        incoming = getattr(args, "incoming", None)
        inc = None
        if incoming is not None:  # listen before a client can ask for migrate-incoming
            inc = machine.incoming_migration(None if incoming == "defer" else incoming)
        waits = []
        for text in args.qmp:
            address, wait = _qmp_option(text)
            server = machine.qmp_listen(address)
            self.servers.append(server)
            _say(f"QMP monitor listening on {address}")
            if wait:
                waits.append(server)
        for server in waits:
            _say(f"waiting for a QMP client on {server.address} (wait=on)")
            server.wait_for_client()
        if inc is None:
            return main
        if incoming == "defer":
            _say("waiting for QMP migrate-incoming (-incoming defer)")
        else:
            _say(f"waiting for an incoming migration on {incoming}")
            inc.start_thread()
        while not inc.done.wait(0.02 if waiting is not None else 0.1):
            if waiting is not None:
                with machine.bql:
                    waiting()
            if machine.loop.quit_requested:
                raise CLIError("quit before the incoming migration arrived")
        if inc.status != "completed":
            raise CLIError(f"incoming migration failed: {inc.error}")
        _say(f"incoming migration completed: {inc.bytes_read} bytes, machine "
             f"{machine.loop.runstate.value}")
        if main is None:
            return None
        if main.__globals__.get("RESUMABLE") is True:
            _say(f"{script.name}: resuming the script on the restored machine")
            return main
        _say(f"{script.name} does not say it can resume (RESUMABLE = True), so it is not "
             "re-run: showing the restored machine")
        return _show_restored

    def after_run(self) -> None:
        machine, args = self.machine, self.args
        path = getattr(args, "save_on_exit", None)
        if path:
            try:       # as every output file: a missing directory is created
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CLIError(f"cannot write --save-on-exit {path}: {e.strerror or e}") from None
            info = machine.migration.migrate(f"file:{path}")
            _say(f"machine saved to {Path(path).resolve()} ({info['ram']['transferred']} bytes); "
                 f"resume with -incoming file:{path}")
        try:
            if self.servers and not machine.loop.quit_requested:
                _say("the guest run ended; QMP still serving until 'quit'")
                while not machine.loop.quit_requested:
                    time.sleep(0.05)
                deadline = time.monotonic() + 2
                while machine.migration.active and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            self.close()

    def close(self) -> None:
        for server in self.servers:
            server.close()
        self.servers = []


# ---- subcommands ------------------------------------------------------------------------


def cmd_demos(args) -> int:
    from vgaemu.demos import list_demos

    demos = list_demos()
    if getattr(args, "names", False):
        _say("\n".join(d.name for d in demos))
        return 0
    width = max((len(d.name) for d in demos), default=0)
    for d in demos:
        _say(f"{d.name:<{width}}  {d.summary}")
    return 0


def _checked_screen_outputs(args) -> int | None:
    """Check --screenshot-every K DIR and --screenshot before the run (nothing is created on
    an error); returns K or None."""
    every = None
    if args.screenshot_every:
        k, shot_dir = args.screenshot_every
        try:
            every = _positive_int(k)
        except argparse.ArgumentTypeError as e:
            raise CLIError(f"--screenshot-every K: {e}") from None
        check_output_dir(shot_dir, "--screenshot-every directory")
    if args.screenshot:
        check_output_file(args.screenshot, "--screenshot")
    return every


def cmd_run(args) -> int:
    from vgaemu.frontends.animation import TeeSink
    from vgaemu.guest import load_script, run_guest

    if args.list:
        return cmd_demos(args)
    if args.script is None:
        raise CLIError("give a guest SCRIPT (a file or a demo name; 'vgaemu demos' lists them)")
    if args.script.lower().endswith(".com"):
        return cmd_run_com(args)
    if args.keys or args.serial or args.ips or args.args:
        raise CLIError("--keys, --serial, --ips and --args are for DOS .COM programs")

    script = resolve_script(args.script)
    every = _checked_screen_outputs(args)
    if args.record:
        check_output_file(args.record, "--record trace")
    animations = _animation_recorders(args)
    if every and not args.headless:
        raise CLIError("--screenshot-every works with --headless (the window has F12 for screenshots)")
    main = load_script(script)
    machine = make_machine(args, main)
    monitor = MonitorSession(args, machine)
    window = None
    if not args.headless:
        from vgaemu.frontends.window import WindowSink

        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("SDL_VIDEODRIVER")):
            raise CLIError("no display to open a window on (DISPLAY is not set); use --headless")
        window = WindowSink(scale=args.scale or 1, fps=_window_fps(args), overlay=args.overlay,
                            title=f"vgaemu - {script.stem}")
    try:
        main = monitor.before_run(main, script, waiting=(lambda: window.idle(machine))
                                  if window is not None else None)
    except BaseException:
        if window is not None:
            window.close()
        raise
    recorder = None
    if args.record:
        from vgaemu.trace import TraceRecorder

        recorder = TraceRecorder()
    frames = args.frames
    listeners = [rec for _, _, rec in animations]
    if args.headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        from vgaemu.frontends.headless import HeadlessSink

        if frames is None:
            frames = HEADLESS_DEFAULT_FRAMES
        if every:
            Path(args.screenshot_every[1]).mkdir(parents=True, exist_ok=True)
        sink = HeadlessSink(screenshot_every=every, screenshot_dir=args.screenshot_every[1] if every else None,
                            fps=args.fps)
        result = run_guest(machine, main, TeeSink(sink, *listeners), max_frames=frames,
                           recorder=recorder, screendump_every=every)
        _say(f"{script.name}: {result.frames} frame(s), stopped: {_stop_reason(result, machine=machine)}")
        if args.screenshot:
            with _output(args.screenshot) as tmp:
                sink.write_screenshot(tmp)
            _say(f"screenshot written to {Path(args.screenshot).resolve()}")
        if every:
            _say(f"{len(sink.screenshots)} screenshot(s) written to {Path(args.screenshot_every[1]).resolve()}")
    else:
        sink = window
        try:
            result = run_guest(machine, main, TeeSink(sink, *listeners), max_frames=frames, recorder=recorder)
            if args.screenshot:
                with _output(args.screenshot) as tmp:
                    sink.screenshot(tmp)
            # A guest that ends by itself stays on screen until Esc, unless --frames bounded the run.
            if frames is None and result.stopped == "returned" and not sink.quit_requested and sink.frames:
                _say(f"{script.name}: the guest returned after {result.frames} frame(s); "
                     "Esc or closing the window quits")
                sink.hold()
        finally:
            sink.close()
        _say(f"{script.name}: {result.frames} frame(s), stopped: {_stop_reason(result, sink, machine)}")
    if recorder is not None:
        with _output(args.record) as tmp:
            recorder.save(tmp)
        _say(f"trace of {len(recorder)} op(s) written to {Path(args.record).resolve()}")
    _save_animations(animations)
    monitor.after_run()
    return 0


def cmd_replay(args) -> int:
    from vgaemu.trace import replay

    if not Path(args.trace).is_file():
        raise CLIError(f"trace not found: {args.trace}")
    if args.screenshot:
        check_output_file(args.screenshot, "--screenshot")
    animations = _animation_recorders(args)
    machine = make_machine(args)
    monitor = MonitorSession(args, machine)
    monitor.before_run(None, None)
    listeners = [rec for _, _, rec in animations]

    def on_refresh(machine, stats):
        for rec in listeners:
            rec.refresh(machine, stats)

    # screendumps stream to OUT-<name>.png as the ops run (bounded memory for any trace)
    result = replay(args.trace, screenshot=args.screenshot, machine=machine, keep_images=False,
                    on_refresh=on_refresh if listeners else None)
    _say(f"{args.trace}: {result.ops_run} op(s) replayed in {result.seconds:.2f} s")
    if args.screenshot:
        _say(f"screenshot written to {Path(args.screenshot).resolve()}")
        for d in result.screendumps:
            if d.path is not None:
                _say(f"screendump {d.name!r} written to {Path(d.path).resolve()}")
    elif result.screendumps:
        _say(f"{len(result.screendumps)} screendump op(s) not written (give --screenshot OUT.png "
             "to write them as OUT-<name>.png)")
    _save_animations(animations)
    monitor.after_run()
    return 0


def cmd_compare(args) -> int:
    from vgaemu.compare import compare, format_table

    out = Path(args.out)
    rows = compare(args.traces, qemu=args.qemu, golden_dir=args.golden_dir, out_dir=out,
                   qemu_compat=args.qemu_compat, side_by_side=args.side_by_side)
    # Said once the run has written there: a missing trace or oracle fails first, and then
    # no directory was created to point at.
    _say(f"vgaemu compare: pictures of differences are in {out.resolve()}")
    _say(format_table(rows))
    return 0 if all(r.matches for r in rows) else EXIT_ERROR


def cmd_profile(args) -> int:
    from vgaemu.frontends.profile import profile
    from vgaemu.guest import load_script
    from vgaemu.pc.program import PCProgram, is_program_path

    if is_program_path(args.script):
        from vgaemu.pc.platform import DEFAULT_IPS

        if not Path(args.script).is_file():
            raise CLIError(f"program not found: {args.script}")
        what = PCProgram(Path(args.script), keys=tuple(_key_specs(args)), ips=args.ips or DEFAULT_IPS,
                         args=args.args)
        main = None
        name = what.name
    else:
        if args.keys or args.ips or args.args:
            raise CLIError("--keys, --ips and --args are for boot images and DOS .COM programs")
        script = resolve_script(args.script)
        main = load_script(script)  # report a broken script once, before either run
        what, name = str(script), script.stem
    for flag in ("json", "csv", "plot", "heatmap"):
        if getattr(args, flag):
            check_output_file(getattr(args, flag), f"--{flag}")
    report = profile(what, frames=args.frames, repeat=args.repeat,
                     machine_factory=lambda: make_machine(args, main), name=name)
    _say(report.summary())
    if args.table:
        _say(report.frame_table())
    for flag, write in (("json", report.to_json), ("csv", report.to_csv),
                        ("plot", report.write_plot), ("heatmap", report.write_heatmap)):
        path = getattr(args, flag)
        if path:
            with _output(path) as tmp:
                write(tmp)
            _say(f"{flag} written to {Path(path).resolve()}")
    return 0


def format_memory_devices(machine) -> str:
    """HMP's ``info memory-devices`` and ``info memory_size_summary``."""
    out = []
    for dev in machine.memory.query_memory_devices():
        data = dev["data"]
        out.append(f"Memory device [{dev['type']}]: \"{data.get('id', '')}\"")
        for key in ("addr", "slot", "node", "size", "memdev", "hotplugged", "hotpluggable"):
            v = data[key]
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif key == "addr":
                v = f"0x{v:x}"
            out.append(f"  {key}: {v}")
    summary = machine.memory.query_memory_size_summary()
    out.append(f"base memory: {summary['base-memory']}")
    out.append(f"plugged memory: {summary['plugged-memory']}")
    return "\n".join(out)


def cmd_info(args) -> int:
    from guestmem.mtree import ramblock_info

    if args.flatview and args.what not in ("mtree", "all"):
        raise CLIError(f"-f goes with 'info mtree', not 'info {args.what}'")
    machine = make_machine(args)
    parts = []
    if args.what in ("mtree", "all"):
        parts.append(machine.mtree(flatview=args.flatview))
    if args.what in ("ramblock", "all"):
        parts.append(ramblock_info(machine.ram_list))
    if args.what in ("memory-devices", "all"):
        parts.append(format_memory_devices(machine))
    if args.what in ("cpu", "all"):
        cpu = machine.cpu
        parts.append(f"CPU: 386 real mode, {'translation blocks' if cpu.use_tb_cache else 'decode every instruction'}, "
                     f"A20 {'on' if cpu.a20_mask == 0xFFFFFFFF else 'off'}\n"
                     + cpu.counters.total.describe())
    _say("\n\n".join(p.rstrip("\n") for p in parts))
    return 0


def cmd_demo(args) -> int:
    from vgaemu.guest import load_script, run_guest

    script = resolve_script(DEFAULT_DEMO)
    main = load_script(script)
    machine = make_machine(args, main)
    if not args.headless and display_available():
        from vgaemu.frontends.window import WindowSink

        _say(f"vgaemu demo: {script.stem} in a window (Esc quits, F12 screenshot, D overlay, P pause)")
        sink = WindowSink(scale=2, title=f"vgaemu demo - {script.stem}")
        try:
            result = run_guest(machine, main, sink, max_frames=args.frames)
        finally:
            sink.close()
        _say(f"vgaemu demo: {result.frames} frame(s), stopped: {_stop_reason(result, sink)}")
        return 0
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from vgaemu.frontends.headless import HeadlessSink

    frames = args.frames or HEADLESS_DEFAULT_FRAMES
    check_output_file(args.screenshot, "--screenshot")
    sink = HeadlessSink()
    result = run_guest(machine, main, sink, max_frames=frames)
    with _output(args.screenshot) as tmp:
        sink.write_screenshot(tmp)
    why = "--headless" if args.headless else "no display found"
    _say(f"vgaemu demo: {why}, ran {script.stem} headless for {result.frames} frames")
    _say(f"screenshot written to {Path(args.screenshot).resolve()}")
    return 0


def _parse_drive(text: str) -> tuple[str, str]:
    """QEMU's -drive file=IMG,format=raw,if=floppy|ide -> (file, interface)."""
    opts = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise CLIError(f"-drive {text!r}: {part!r} is not KEY=VALUE")
        opts[key] = value
    unknown = set(opts) - {"file", "format", "if", "index", "media"}
    if unknown:
        raise CLIError(f"-drive {text!r}: unsupported option(s) {', '.join(sorted(unknown))}")
    if "file" not in opts:
        raise CLIError(f"-drive {text!r}: file= is required")
    if opts.get("format", "raw") != "raw":
        raise CLIError(f"-drive {text!r}: only format=raw images are supported")
    interface = opts.get("if", "ide")
    if interface not in ("floppy", "ide"):
        raise CLIError(f"-drive {text!r}: if={interface} is not supported (floppy or ide)")
    return opts["file"], interface


def _key_specs(args) -> list[str]:
    specs = []
    for spec in args.keys:
        if spec.startswith("@"):
            try:
                lines = Path(spec[1:]).read_text().splitlines()
            except OSError as e:
                raise CLIError(f"--keys {spec}: {e.strerror or e}") from None
            specs += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        else:
            specs.append(spec)
    return specs


def _make_pc(args, *, floppies=(), hard_disks=()):
    from vgaemu.pc.boot import PC
    from vgaemu.pc.disk import DiskImage
    from vgaemu.pc.platform import DEFAULT_IPS

    fl = [DiskImage(f, "floppy", snapshot=args.snapshot) for f in floppies]
    hd = [DiskImage(f, "hd", snapshot=args.snapshot) for f in hard_disks]
    output = None
    if args.serial:
        check_output_file(args.serial, "--serial")
        output = open(args.serial, "wb")
    order, once = _boot_option(getattr(args, "boot", None))
    machine = make_machine(args)
    return PC(machine, floppies=fl, hard_disks=hd, ips=args.ips or DEFAULT_IPS,
              output=output, keys=_key_specs(args), boot_order=order, boot_once=once)


def _boot_option(text: str | None) -> tuple[str, str | None]:
    """``-boot [order=]DRIVES[,once=DRIVES]`` -> (order, once), checked as QEMU checks them."""
    from vgaemu.errors import ConfigError
    from vgaemu.pc.boot import DEFAULT_BOOT_ORDER, check_boot_order

    order, once = DEFAULT_BOOT_ORDER, None
    if text is None:
        return order, once
    for k, part in enumerate(text.split(",")):
        key, eq, val = part.partition("=")
        if not eq and k == 0:
            key, val = "order", part   # QEMU's legacy form: -boot a
        if key not in ("order", "once"):
            raise CLIError(f"-boot {text}: unsupported option {key!r} (vgaemu takes order= "
                           "and once=)")
        try:
            checked = check_boot_order(val)
        except ConfigError as e:
            raise CLIError(f"-boot {text}: {e}") from None
        if key == "order":
            order = checked
        else:
            once = checked
    return order, once


def _run_pc(args, pc, title: str) -> int:
    """Run a booted PC in the window or headless, as ``run`` does for scripts: with
    -qmp, -incoming and --save-on-exit around it (MonitorSession)."""
    from vgaemu.pc.boot import run_frames

    from vgaemu.frontends.animation import TeeSink

    every = _checked_screen_outputs(args)
    animations = _animation_recorders(args)
    listeners = [rec for _, _, rec in animations]
    frames = args.frames
    machine = pc.machine
    monitor = MonitorSession(args, machine)
    window = None
    if not args.headless:
        from vgaemu.frontends.window import WindowSink

        if every:
            raise CLIError("--screenshot-every works with --headless (the window has F12 for screenshots)")
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("SDL_VIDEODRIVER")):
            raise CLIError("no display to open a window on (DISPLAY is not set); use --headless")
        window = WindowSink(scale=args.scale or 1, fps=_window_fps(args), overlay=False,
                            title=f"vgaemu - {title}", raw_keys=True)
    try:
        monitor.before_run(None, None, waiting=(lambda: window.idle(machine))
                           if window is not None else None)
    except BaseException:
        monitor.close()
        if window is not None:
            window.close()
        raise
    if getattr(args, "incoming", None) is not None:
        p = pc.platform
        _say(f"{title}: resuming at frame {p.frame_index}, {p.instructions} instructions, "
             f"{machine.clock.now_ns / 1e9:.3f} s of virtual time"
             + (f" (the program had stopped: {p.stopped})" if p.stopped else ""))
    try:
        if args.headless:
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
            from vgaemu.frontends.headless import HeadlessSink

            if frames is None:
                frames = HEADLESS_DEFAULT_FRAMES
            sink = HeadlessSink(screenshot_every=every,
                                screenshot_dir=args.screenshot_every[1] if every else None,
                                fps=args.fps)
            n, why = run_frames(pc, TeeSink(sink, *listeners), frames)
            _say(f"{title}: {n} frame(s), {why}; {pc.platform.instructions} instructions, "
                 f"{pc.machine.clock.now_ns / 1e9:.3f} s of virtual time")
            if args.screenshot:
                path = sink.write_screenshot(args.screenshot)
                _say(f"screenshot written to {Path(path).resolve()}")
        else:
            sink = window
            try:
                from vgaemu.guest import GuestExit
                try:
                    n, why = run_frames(pc, TeeSink(sink, *listeners), frames)
                except GuestExit:   # the window's own quit: Ctrl+Alt+Q or closing it
                    n, why = sink.frames, STOP_REASONS.get(sink.quit_reason, "window closed")
                if args.screenshot:
                    sink.screenshot(args.screenshot)
                # A program that stops by itself stays on screen, unless --frames bounded the run.
                if frames is None and not sink.quit_requested and sink.frames:
                    _say(f"{title}: {why} after {n} frame(s); Esc or closing the window quits")
                    sink.hold()
            finally:
                sink.close()
            _say(f"{title}: {n} frame(s), {why}; {pc.platform.instructions} instructions, "
                 f"{pc.machine.clock.now_ns / 1e9:.3f} s of virtual time")
    except BaseException:
        monitor.close()
        raise
    finally:
        pc.platform.output.flush()
    _save_animations(animations)
    monitor.after_run()
    return 0


def cmd_run_com(args) -> int:
    if args.record:
        raise CLIError("--record works with guest scripts, not .COM programs")
    args.snapshot = True
    pc = _make_pc(args)
    dos = pc.run_com(args.script, args.args)
    status = _run_pc(args, pc, Path(args.script).name)
    if dos.exit_code is not None and args.headless:
        _say(f"{Path(args.script).name}: exit code {dos.exit_code}")
    return status


def cmd_boot(args) -> int:
    floppies = list(args.fda) + list(args.fdb)
    hard_disks = ([args.image] if args.image else []) + list(args.hda) + list(args.hdb)
    for d in args.drive:
        f, interface = _parse_drive(d)
        (floppies if interface == "floppy" else hard_disks).append(f)
    if not floppies and not hard_disks:
        raise CLIError("nothing to boot: give IMAGE, -fda, -hda or -drive file=...")
    if len(floppies) > 2 or len(hard_disks) > 4:
        raise CLIError("at most 2 floppy drives and 4 IDE hard disks")
    dumps_to = args.screenshot_on_debugcon
    if dumps_to is not None:
        if Path(dumps_to).suffix.lower() not in (".png", ".ppm"):
            raise CLIError(f"--screenshot-on-debugcon {dumps_to}: give a .png or .ppm name "
                           "(dumps are written as NAME-1.png, NAME-2.png ...)")
        check_output_file(dumps_to, "--screenshot-on-debugcon")
    pc = _make_pc(args, floppies=floppies, hard_disks=hard_disks)
    dumps = None
    if dumps_to is not None:
        from vgaemu.pc.dumphandshake import DebugconScreendumps, png_writer

        dumps = DebugconScreendumps(pc.platform, png_writer(dumps_to))
    pc.boot()
    status = _run_pc(args, pc, Path((floppies or hard_disks)[0]).name)
    if dumps is not None:
        _say(f"{dumps.count} debugcon screendump(s) written as "
             f"{Path(dumps_to).resolve().with_suffix('')}-N{Path(dumps_to).suffix}")
    return status


COMMANDS = {"run": cmd_run, "boot": cmd_boot, "demos": cmd_demos, "replay": cmd_replay,
            "compare": cmd_compare, "profile": cmd_profile, "info": cmd_info, "demo": cmd_demo}


def _qom_help(args) -> str | None:
    """The text of a ``-device help`` / ``-object help`` style request among the options."""
    from vgaemu.qom_help import device_help, object_help

    for flag, values, helper in (("-device", getattr(args, "devices", ()), device_help),
                                 ("-object", getattr(args, "objects", ()), object_help)):
        for value in values:
            try:
                text = helper(value)
            except KeyError as e:
                raise CLIError(f"{flag} {value}: '{e.args[0]}' is not a valid {flag[1:]} type "
                               f"(see '{flag} help')") from None
            if text is not None:
                return text
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``vgaemu info mtree | head``): stop quietly, as Unix tools do,
        # and keep Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the broken pipe
    except KeyboardInterrupt:
        print("vgaemu: interrupted", file=sys.stderr)
        _exit_past_guest_threads(130)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-device"], ["-object"]):   # QEMU's 'qemu -device help' spelling
        argv.insert(0, "info")
    args, extras = parser.parse_known_args(argv)
    if extras:
        _unrecognized(parser, args, extras)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        text = _qom_help(args)
        if text is not None:
            _say(text)
            return 0
        status = COMMANDS[args.command](args)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # one line, no traceback (VGAEMU_TRACEBACK=1 shows it)
        if os.environ.get("VGAEMU_TRACEBACK"):
            raise
        print(f"vgaemu {args.command}: error: {_message(exc)}", file=sys.stderr)
        status = EXIT_ERROR
    _exit_past_guest_threads(status)
    return status


def _unrecognized(parser, args, extras: list[str]) -> None:
    """Report arguments nobody took as the subcommand's error (``vgaemu run: error: ...``,
    pointing at ``vgaemu run --help``), not the top-level parser's, and suggest the option a
    typo probably meant."""
    import difflib

    owner = parser.subcommands.get(args.command, parser) if args.command else parser
    message = f"unrecognized arguments: {' '.join(extras)}"
    options = [o for a in owner._actions for o in a.option_strings if o.startswith("--")]
    for word in extras:
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1)
            if close:
                message += f"; did you mean {close[0]}?"
            break
    owner.error(message)


def _exit_past_guest_threads(status: int) -> None:
    """A guest's non-daemon thread that outlived its run (already reported as an error by
    run_guest) would keep the interpreter from exiting: leave without waiting for it. Other
    threads (a Python program calling main()) are none of the CLI's business."""
    from vgaemu.guest import abandoned_threads

    if abandoned_threads():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _message(exc: BaseException) -> str:
    from guestmem.errors import GuestMemError
    from vgaemu.errors import VGAEmuError

    if isinstance(exc, (CLIError, VGAEmuError, GuestMemError)):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc} (an internal error; VGAEMU_TRACEBACK=1 shows where)"
