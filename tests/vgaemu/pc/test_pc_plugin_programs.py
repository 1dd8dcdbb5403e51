"""The pytest plugin with boot images and .COM programs, as a user's test suite meets it:
``guest_screenshot("game.img", ...)`` / ``("typer.com", ..., keys=[...])`` next to the test
file, goldens in ``golden/``, ``--update-goldens`` to write them.  pytest runs on a small
project of its own (``pytester``, in a subprocess so the plugin loads through the installed
entry point)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vgaemu.frontends.imaging import read_png

from .asm import nasm

pytest_plugins = ["pytester"]

PROGRAMS = Path(__file__).resolve().parents[3] / "vgaemu" / "roms" / "programs"

# A .COM program that echoes what is typed (INT 21h AH=01h) until Enter, then exits with the
# number of characters typed as its exit code.
TYPER = r"""
    mov dx, prompt
    mov ah, 9
    int 21h
    xor bx, bx
.key:
    mov ah, 1
    int 21h
    cmp al, 13
    je .done
    inc bx
    jmp .key
.done:
    mov ax, 0x4c00
    mov al, bl
    int 21h
prompt: db "Type something: $"
"""

USER_TESTS = '''
import os


def test_typer(guest_screenshot):
    typed = os.environ.get("TYPED", "hello vgaemu")
    result = guest_screenshot("typer.com", "typer", keys=[f"0.2s:text:{typed}\\\\n"])
    assert result.run.stopped == f"program exited with code {len(typed)}"
    assert result.run.pc.platform.instructions > 0


def test_boot_sector(guest_screenshot):
    result = guest_screenshot("programs/hello.img", "hello", frames=30)
    assert result.run.stopped == "halted with interrupts disabled"
    assert result.frames < 30
'''


@pytest.fixture
def project(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_user=USER_TESTS)
    (pytester.path / "typer.com").write_bytes(nasm(TYPER, org=0x100))
    (pytester.path / "programs").mkdir()
    shutil.copy(PROGRAMS / "hello.img", pytester.path / "programs" / "hello.img")
    return pytester


def test_goldens_written_then_matched(project):
    project.runpytest_subprocess("--update-goldens").assert_outcomes(passed=2)
    typer = read_png(project.path / "golden" / "typer.png")
    hello = read_png(project.path / "golden" / "hello.png")
    assert typer.shape == hello.shape == (400, 720, 3)      # text mode 3, 9-dot cells
    ours = read_png(Path(__file__).resolve().parents[2] / "golden" / "pc-hello.png")
    assert np.array_equal(hello, ours)                        # the same picture as ours
    project.runpytest_subprocess().assert_outcomes(passed=2)


def test_other_keys_fail_against_the_golden(project, monkeypatch):
    project.runpytest_subprocess("--update-goldens").assert_outcomes(passed=2)
    monkeypatch.setenv("TYPED", "hello qemu!!")
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*typer: * pixels differ from the golden*"])
    assert (project.path / "golden" / "failures" / "typer.diff.png").is_file()


def test_bad_program_fails_with_the_reason(project):
    project.makepyfile(test_bad='''
def test_missing(guest_screenshot):
    guest_screenshot("nothing.img", "nothing")

def test_keys_with_a_script(guest_screenshot):
    guest_screenshot(lambda guest: None, "x", keys=["1s:a"])
''')
    result = project.runpytest_subprocess("test_bad.py")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*nothing: *nothing.img: no such program or disk image*",
                                 "*options of boot images and .COM programs*"])
