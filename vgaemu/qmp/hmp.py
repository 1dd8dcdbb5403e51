"""``human-monitor-command``: the HMP ``info`` commands vgaemu has, as text (QEMU's
monitor/hmp-cmds.c prints them; an unknown command is answered in the text, not as an error,
as QEMU does)."""

from __future__ import annotations

import shlex

from vgaemu.cli import format_memory_devices

_INFO_HELP = ("info memory-devices  -- show memory devices\n"
              "info memory_size_summary -- show the amount of initially allocated and "
              "present hotpluggable (if enabled) memory in bytes.\n"
              "info migrate  -- show migration status\n"
              "info mtree [-f]  -- show memory tree (-f: dump flat view for address spaces)\n"
              "info pci  -- show PCI info\n"
              "info ramblock  -- Display system ramblock information\n"
              "info status  -- show the current VM status (running|paused)\n"
              "info version  -- show the version of QEMU\n")


def run_hmp(machine, line: str) -> str:
    try:
        words = shlex.split(line)
    except ValueError as e:
        return f"{e}\n"
    if not words:
        return ""
    if words[0] != "info":
        return f"unknown command: '{words[0]}'\n"
    if len(words) == 1:
        return _INFO_HELP
    what, rest = words[1], words[2:]
    if what == "mtree":
        flat = False
        for opt in rest:
            if opt == "-f":
                flat = True
            else:
                return f"info mtree: invalid option '{opt}'\n"
        return machine.mtree(flatview=flat)
    if rest:
        return f"info {what}: too many arguments\n"
    if what == "pci":
        pc = getattr(machine, "pc", None)
        if pc is None or getattr(pc, "pci", None) is None:
            return "info pci: this machine has no PCI bus (the PC platform, vgaemu boot/run, has)\n"
        return pc.pci.info()
    if what == "ramblock":
        from guestmem.mtree import ramblock_info

        return ramblock_info(machine.ram_list)
    if what in ("memory-devices", "memory_size_summary"):
        text = format_memory_devices(machine)
        if what == "memory_size_summary":
            text = "\n".join(text.splitlines()[-2:])
        return text + "\n"
    if what == "status":
        loop = machine.loop
        if loop.running:
            return "VM status: running\n"
        return f"VM status: paused ({loop.runstate.value})\n" if loop.runstate.value != "paused" \
            else "VM status: paused\n"
    if what == "version":
        from vgaemu import __version__

        return f"{__version__} (vgaemu)\n"
    if what == "migrate":
        return _info_migrate(machine)
    return f"unknown command: 'info {what}'\n"


def _info_migrate(machine) -> str:
    info = machine.migration.info()
    out = [f"Migration status: {info['status']}"]
    for key in ("total-time", "expected-downtime", "downtime", "setup-time"):
        if key in info:
            out.append(f"{key.replace('-', ' ')}: {info[key]} ms")
    ram = info.get("ram")
    if ram:
        out.append(f"transferred ram: {ram['transferred'] >> 10} kbytes")
        out.append(f"throughput: {ram['mbps']:.2f} mbps")
        out.append(f"remaining ram: {ram['remaining'] >> 10} kbytes")
        out.append(f"total ram: {ram['total'] >> 10} kbytes")
        out.append(f"duplicate: {ram['duplicate']} pages")
        out.append(f"normal: {ram['normal']} pages")
        out.append(f"dirty sync count: {ram['dirty-sync-count']}")
        out.append(f"dirty pages rate: {ram['dirty-pages-rate']} pages")
    return "\n".join(out) + "\n"
