"""Import every module of the two packages once, in the main thread, before any test runs.

vgaemu registers a pytest plugin, so pytest rewrites the asserts of every module of the
distribution as it is imported, with ``ast.parse``.  CPython 3.11's AST converter keeps its
recursion depth in per-interpreter state (gh-106905), so two threads importing modules for
the first time at once (a QMP or migration thread and a test) can fail with "SystemError:
AST constructor recursion depth mismatch".  With everything imported up front, no thread
imports a module of ours for the first time during a test.  Outside pytest nothing is
rewritten and this cannot happen."""

from __future__ import annotations

import importlib
import pkgutil

import guestmem
import vgaemu


def _import_all() -> None:
    for package in (guestmem, vgaemu):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


_import_all()
