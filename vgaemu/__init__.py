"""vgaemu: a VGA/framebuffer emulator on guestmem, a Python model of QEMU's guest RAM core.

    from vgaemu import Machine, run_guest, replay, profile, Guest
"""

__version__ = "0.1.0"

# Imported on first use, so ``import vgaemu`` (and ``vgaemu --version``) stays cheap and does
# not start pygame.
_LAZY = {
    "Machine": ("vgaemu.machine", "Machine"),
    "Compat": ("vgaemu.compat", "Compat"),
    "replay": ("vgaemu.trace", "replay"),
    "TraceRecorder": ("vgaemu.trace", "TraceRecorder"),
    "profile": ("vgaemu.frontends.profile", "profile"),
    "Guest": ("vgaemu.guest", "Guest"),
    "run_guest": ("vgaemu.guest", "run_guest"),
    "load_script": ("vgaemu.guest", "load_script"),
}

__all__ = ["__version__", *_LAZY]

# ``vgaemu.replay`` is the function of the trace module ``vgaemu.trace``, imported on first
# use too: the CLI's ``boot`` and ``run`` never need it (json, dataclasses: ~6 ms).


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'vgaemu' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
