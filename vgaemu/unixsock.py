"""A listening Unix socket whose path appears only once it accepts connections.

bind() creates the socket file and listen() comes after it, so a client that waits for the
path (a script polling for QEMU's ``-qmp unix:PATH`` or ``-incoming unix:PATH`` socket, as
ours do) can connect in between and be refused.  Binding to a temporary name in the same
directory, listening, then renaming it over the final path makes the path's appearance mean
"ready" (rename is atomic, and a Unix socket stays bound to its inode across it).
"""

from __future__ import annotations

import os
import socket


def listen_unix(path: str, backlog: int) -> socket.socket:
    """A socket listening at ``path`` (an existing socket file there is replaced, as QEMU
    replaces a stale one).  OSError as bind/listen/rename raise it; nothing is left behind."""
    d, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(d, f".{name}.{os.getpid()}.tmp")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if os.path.exists(tmp):
            os.unlink(tmp)
        s.bind(tmp)
        s.listen(backlog)
        os.rename(tmp, path)
    except BaseException:
        s.close()
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return s
