"""Front ends: three listeners on the VGA's output (the surface and the update rectangles).

- ``headless``: no display; PNG screenshots of the last frame or every K-th frame.
- ``window``: an interactive pygame window that copies only the changed rectangles.
- ``profile``: runs a guest with dirty tracking and with a forced full redraw and compares them.

As in v86's screen adapters, none of them reaches into the VGA model: each implements the
FrameSink protocol of ``vgaemu.guest`` and reads ``machine.vga.surface`` and the
``UpdateStats`` the display loop reported.  The names below are imported lazily so that
``import vgaemu.frontends`` does not start pygame.
"""

from __future__ import annotations

import os
from pathlib import Path

from vgaemu.errors import VGAEmuError


class FrontendError(VGAEmuError, ValueError):
    """A bad front-end option (frame count, scale, fps, paths) or an impossible request."""


def check_frames(frames, *, allow_none: bool = False) -> None:
    if frames is None and allow_none:
        return
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise FrontendError(f"frames must be a positive integer, got {frames!r}")


def load_main(main):
    """A guest's ``main``: a callable as given, or the ``main`` of a guest script path."""
    if callable(main):
        return main
    if isinstance(main, (str, os.PathLike)):
        from vgaemu.guest import load_script
        return load_script(Path(main))
    raise FrontendError(f"expected a guest main callable or a script path, got {type(main).__name__}")


_LAZY = {
    "HeadlessSink": "headless", "HeadlessResult": "headless", "run_headless": "headless",
    "WindowSink": "window", "WindowResult": "window", "run_window": "window",
    "ProfileReport": "profile", "FrameRecord": "profile",
}
# ``profile`` (the function) lives in ``vgaemu.frontends.profile``: a package attribute of that
# name is the submodule once it is imported, so import the function from the module itself.

__all__ = ["FrontendError", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
