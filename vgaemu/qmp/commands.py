"""The QMP commands vgaemu implements, with QEMU's argument names, reply shapes and errors.

Each command is a function ``(ctx, args) -> return value`` registered with its argument
schema in QAPI's notation (``"*name"`` is optional). Arguments are checked before anything
runs, with QEMU's messages. A command marked ``on_machine`` runs through ``machine.post``,
i.e. between guest steps under the BQL; the others only read thread-safe state or start a
background job (migration).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from vgaemu import __version__
from vgaemu.qmp.protocol import (COMMAND_NOT_FOUND, DEVICE_NOT_FOUND, GENERIC_ERROR,
                                 QMPError)


@dataclass
class CommandContext:
    machine: Any
    server: Any = None
    session: Any = None


@dataclass(frozen=True)
class Command:
    name: str
    fn: Callable[[CommandContext, dict], Any]
    args: dict[str, Any]
    on_machine: bool
    #: Extra arguments go to the command unchecked (device_add's driver properties).
    open_args: bool = False


COMMANDS: dict[str, Command] = {}


def command(name: str, args: dict[str, Any] | None = None, *, on_machine: bool = True,
            open_args: bool = False):
    def register(fn):
        COMMANDS[name] = Command(name, fn, dict(args or {}), on_machine, open_args)
        return fn
    return register


# ---- argument checking --------------------------------------------------------------------

_TYPE_NAMES = {"str": "string", "int": "integer", "bool": "boolean", "number": "number",
               "list": "array", "dict": "object"}


def _type_ok(kind: Any, value: Any) -> bool:
    if isinstance(kind, tuple):  # an enum
        return isinstance(value, str)
    if kind == "any":
        return True
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    raise AssertionError(kind)


def check_arguments(cmd: Command, args: dict) -> dict:
    """QAPI's visitor checks: missing, unexpected, wrong type, enum value; in that order."""
    out = {}
    for spec, kind in cmd.args.items():
        optional = spec.startswith("*")
        name = spec.lstrip("*")
        if name not in args:
            if not optional:
                raise QMPError(f"Parameter '{name}' is missing")
            continue
        value = args[name]
        if not _type_ok(kind, value):
            expected = "string" if isinstance(kind, tuple) else _TYPE_NAMES.get(kind, kind)
            raise QMPError(f"Invalid parameter type for '{name}', expected: {expected}")
        if isinstance(kind, tuple) and value not in kind:
            raise QMPError(f"Parameter '{name}' does not accept value '{value}'")
        out[name] = value
    known = {s.lstrip("*") for s in cmd.args}
    for name in args:
        if name not in known:
            if not cmd.open_args:
                raise QMPError(f"Parameter '{name}' is unexpected")
            out[name] = args[name]
    return out


def lookup(name: str) -> Command:
    cmd = COMMANDS.get(name)
    if cmd is None:
        raise QMPError(f"The command {name} has not been found", COMMAND_NOT_FOUND)
    return cmd


def version_info() -> dict:
    major, minor, micro = (int(x) for x in __version__.split(".")[:3])
    return {"qemu": {"major": major, "minor": minor, "micro": micro},
            "package": f"vgaemu {__version__}"}


# ---- the commands -------------------------------------------------------------------------

@command("qmp_capabilities", {"*enable": "list"}, on_machine=False)
def qmp_capabilities(ctx, args):
    # Reached only in capabilities-negotiation mode; the server answers it in command mode.
    for cap in args.get("enable", []):
        raise QMPError(f"Capability '{cap}' not available")
    return {}


@command("query-version", on_machine=False)
def query_version(ctx, args):
    return version_info()


@command("query-commands", on_machine=False)
def query_commands(ctx, args):
    return [{"name": n} for n in COMMANDS]


@command("query-status", on_machine=False)
def query_status(ctx, args):
    loop = ctx.machine.loop
    return {"running": loop.running, "status": loop.runstate.value}


@command("stop")
def stop(ctx, args):
    from vgaemu.mainloop import RunState

    loop = ctx.machine.loop
    if loop.runstate is RunState.INMIGRATE:
        ctx.machine.incoming_autostart = False
    elif loop.runstate is RunState.RUNNING:
        loop.vm_stop(RunState.PAUSED)
    return {}


@command("cont")
def cont(ctx, args):
    from vgaemu.mainloop import RunState

    loop = ctx.machine.loop
    if loop.runstate is RunState.INMIGRATE:
        ctx.machine.incoming_autostart = True
    elif loop.runstate is RunState.FINISH_MIGRATE:
        raise QMPError("Migration is not finalized yet")
    elif loop.runstate is RunState.SHUTDOWN:
        raise QMPError("Resetting the Virtual Machine is required")
    else:
        loop.vm_start()
    return {}


@command("system_reset")
def system_reset(ctx, args):
    pc_reset = getattr(getattr(ctx.machine, "pc", None), "system_reset", None)
    if pc_reset is not None:
        pc_reset("host-qmp-system-reset")   # CPU, devices, POST and boot (vgaemu.pc.boot)
    else:
        ctx.machine.reset()
    ctx.machine.loop.emit_event("RESET", {"guest": False, "reason": "host-qmp-system-reset"})
    return {}


@command("inject-nmi")
def inject_nmi(ctx, args):
    """NMI to the CPU (QEMU's x86 nmi_monitor_handle): only a machine whose CPU runs guest
    code on the PC platform (``vgaemu boot``/.COM programs, vgaemu.pc) can take one."""
    pc = getattr(ctx.machine, "pc", None)
    if pc is None:
        raise QMPError("this feature or command is not currently supported")
    pc.inject_nmi()
    return {}


@command("quit", on_machine=False)
def quit_(ctx, args):
    # As QEMU: the reply goes out first, then SHUTDOWN and the end of the run (the session
    # calls quit_machine once the reply is flushed).
    if ctx.session is not None:
        ctx.session.quit_after_reply = True
    else:
        quit_machine(ctx.machine)
    return {}


def quit_machine(machine) -> None:
    machine.loop.emit_event("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
    machine.loop.request_quit()


# ---- memory backends and pc-dimm ----------------------------------------------------------

def _opt_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.replace(",", ",,")
    raise QMPError(f"Invalid parameter type for '{key}', expected: scalar")


_BACKEND_ARG_TYPES = {"size": "int", "align": "int", "mem-path": "str", "share": "bool",
                      "prealloc": "bool", "readonly": "bool", "discard-data": "bool",
                      "seal": "bool", "hugetlb": "bool", "merge": "bool", "dump": "bool",
                      "prealloc-threads": "int", "reserve": "bool", "policy": "str",
                      "x-use-canonical-path-for-ramblock-id": "bool"}


def _strip_option(msg: str, option: str) -> str:
    prefix = f"{option}: "
    return msg[len(prefix):] if msg.startswith(prefix) else msg


@command("object-add", {"qom-type": "str", "id": "str"}, open_args=True)
def object_add(ctx, args):
    from guestmem.errors import GuestMemError

    qom_type, obj_id = args["qom-type"], args["id"]
    parts = [qom_type, f"id={_opt_value('id', obj_id)}"]
    for key, value in args.items():
        if key in ("qom-type", "id"):
            continue
        kind = _BACKEND_ARG_TYPES.get(key)
        if kind is not None and not _type_ok(kind, value):
            raise QMPError(f"Invalid parameter type for '{key}', expected: {_TYPE_NAMES[kind]}")
        parts.append(f"{key}={_opt_value(key, value)}")
    text = ",".join(parts)
    try:
        ctx.machine.memory.add_object(text)
    except GuestMemError as e:
        raise QMPError(_strip_option(str(e), f"-object {text}")) from None
    return {}


@command("object-del", {"id": "str"})
def object_del(ctx, args):
    from guestmem.errors import GuestMemError

    try:
        ctx.machine.memory.del_object(args["id"])
    except GuestMemError as e:
        raise QMPError(str(e)) from None
    return {}


@command("query-objects")
def query_objects(ctx, args):
    """The user-creatable objects (memory backends), as qom-list of /objects shows them."""
    return [{"id": b.id, "qom-type": getattr(b, "qom_type", None) or _qom_type(b),
             "properties": b.properties()}
            for b in ctx.machine.memory.backends.values()]


def _qom_type(backend) -> str:
    from guestmem.dimm import BACKEND_TYPES

    for name, cls in BACKEND_TYPES.items():
        if type(backend) is cls:
            return name
    return type(backend).__name__


@command("device_add", {"driver": "str", "*id": "str"}, open_args=True)
def device_add(ctx, args):
    from guestmem.errors import GuestMemError

    driver = args["driver"]
    if ctx.machine.migration.active:
        raise QMPError("device_add not allowed while migrating")
    if driver != "pc-dimm":
        raise QMPError(f"'{driver}' is not a valid device model name")
    parts = [driver]
    for key, value in args.items():
        if key == "driver":
            continue
        if key in ("memdev", "id") and not isinstance(value, str):
            raise QMPError(f"Invalid parameter type for '{key}', expected: string")
        if key in ("slot", "addr", "node") and (isinstance(value, bool)
                                                or not isinstance(value, int)):
            raise QMPError(f"Invalid parameter type for '{key}', expected: integer")
        parts.append(f"{key}={_opt_value(key, value)}")
    text = ",".join(parts)
    try:
        ctx.machine.memory.plug(text, hotplugged=True)
    except GuestMemError as e:
        raise QMPError(_strip_option(str(e), f"-device {text}")) from None
    return {}


@command("device_del", {"id": "str"})
def device_del(ctx, args):
    from guestmem.errors import GuestMemError

    dev_id = args["id"]
    mem = ctx.machine.memory
    if ctx.machine.migration.active:
        raise QMPError("device_del not allowed while migrating")
    if not any(d.id == dev_id for d in mem.dimms):
        raise QMPError(f"Device '{dev_id}' not found", DEVICE_NOT_FOUND)
    try:
        mem.unplug(dev_id)
    except GuestMemError as e:
        raise QMPError(str(e)) from None
    ctx.machine.loop.emit_event("DEVICE_DELETED",
                                {"device": dev_id, "path": f"/machine/peripheral/{dev_id}"})
    return {}


@command("query-memory-devices")
def query_memory_devices(ctx, args):
    return ctx.machine.memory.query_memory_devices()


@command("query-memory-size-summary")
def query_memory_size_summary(ctx, args):
    return ctx.machine.memory.query_memory_size_summary()


# ---- display ------------------------------------------------------------------------------

@command("screendump", {"filename": "str", "*device": "str", "*head": "int",
                        "*format": ("ppm", "png")})
def screendump(ctx, args):
    """QEMU's qmp_screendump: update the display, then write the surface (ppm by default)."""
    import numpy as np

    from vgaemu.errors import VGAEmuError
    from vgaemu.vga.display import write_png, write_ppm

    if args.get("device") not in (None, "vga", "video0"):
        raise QMPError(f"Device '{args['device']}' not found", DEVICE_NOT_FOUND)
    if args.get("head", 0) != 0:
        raise QMPError(f"Head '{args['head']}' for device '{args.get('device', 'vga')}' not found")
    filename = args["filename"]
    directory = os.path.dirname(os.path.abspath(filename))
    if not os.path.isdir(directory):
        raise QMPError(f"failed to open file '{filename}': No such file or directory")
    vga = ctx.machine.vga
    stats = vga.update_display()
    ctx.machine.last_update = stats
    rgb = np.ascontiguousarray(vga.surface)
    try:
        (write_png if args.get("format", "ppm") == "png" else write_ppm)(filename, rgb)
    except (OSError, VGAEmuError) as e:
        raise QMPError(f"failed to write '{filename}': {e}") from None
    return {}


@command("x-vgaemu-query-display")
def query_display(ctx, args):
    """For tools: the displayed mode and size, and what the last display update did."""
    import dataclasses

    vga = ctx.machine.vga
    height, width = vga.surface.shape[:2]
    last = getattr(ctx.machine, "last_update", None)
    out: dict[str, Any] = {"width": int(width), "height": int(height)}
    if last is not None:
        d = dataclasses.asdict(last)
        out["mode"] = d.pop("mode")
        d["rects"] = [list(r) for r in d["rects"]]
        out["last-update"] = {k.replace("_", "-"): v for k, v in d.items()}
    else:
        out["mode"] = None
    return out


# ---- human monitor ------------------------------------------------------------------------

@command("human-monitor-command", {"command-line": "str", "*cpu-index": "int"})
def human_monitor_command(ctx, args):
    from vgaemu.qmp.hmp import run_hmp

    return run_hmp(ctx.machine, args["command-line"])


# ---- migration ----------------------------------------------------------------------------

def _migration_error(e) -> QMPError:
    return QMPError(str(e))


@command("migrate", {"uri": "str", "*detach": "bool", "*resume": "bool", "*blk": "bool",
                     "*inc": "bool"}, on_machine=False)
def migrate(ctx, args):
    from vgaemu.migration import MigrationError

    if args.get("resume"):
        raise QMPError("Cannot resume if there is no paused migration")
    if args.get("blk") or args.get("inc"):
        raise QMPError("Block migration is not supported by vgaemu")
    try:
        ctx.machine.migration.start(args["uri"])
    except MigrationError as e:
        raise _migration_error(e) from None
    return {}


@command("migrate-incoming", {"uri": "str"}, on_machine=False)
def migrate_incoming(ctx, args):
    from vgaemu.migration import MigrationError
    from vgaemu.migration.incoming import start_incoming_thread

    try:
        start_incoming_thread(ctx.machine, args["uri"], from_qmp=True)
    except MigrationError as e:
        raise _migration_error(e) from None
    return {}


@command("query-migrate", on_machine=False)
def query_migrate(ctx, args):
    m = ctx.machine
    inc = getattr(m, "incoming", None)
    if inc is not None and (m.migration.status == "none"):
        return inc.info()
    return m.migration.info()


@command("migrate_cancel", on_machine=False)
def migrate_cancel(ctx, args):
    ctx.machine.migration.cancel()
    return {}


@command("migrate-set-parameters", {"*max-bandwidth": "int", "*downtime-limit": "int",
                                    "*x-vgaemu-max-iterations": "int"}, on_machine=False)
def migrate_set_parameters(ctx, args):
    from vgaemu.migration import MigrationError

    try:
        ctx.machine.migration.set_parameters(args)
    except MigrationError as e:
        raise _migration_error(e) from None
    return {}


@command("query-migrate-parameters", on_machine=False)
def query_migrate_parameters(ctx, args):
    return ctx.machine.migration.parameters()


__all__ = ["COMMANDS", "Command", "CommandContext", "check_arguments", "lookup",
           "version_info", "GENERIC_ERROR"]
