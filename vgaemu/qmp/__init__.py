"""The QMP monitor (QEMU's docs/interop/qmp-spec.rst): ``protocol`` (the wire format),
``commands`` (what the monitor can do), ``hmp`` (human-monitor-command), ``server``
(sockets and sessions). Start one with ``Machine.qmp_listen("unix:/tmp/qmp.sock")`` or
``vgaemu run ... -qmp unix:/tmp/qmp.sock,server=on,wait=off``."""
