"""Import every module of the two packages once, in the main thread, before any test runs.

No thread of a test then imports a module of ours for the first time, so no test's timing
or thread interleaving includes an import.  (This once also kept pytest's assert rewriting
of our modules out of threads, CPython gh-106905; the plugin now takes back the rewrite
marks, see vgaemu/testing.py, and an editable install is never marked.)"""

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
