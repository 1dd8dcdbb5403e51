"""Migration channels by URI, as QEMU's migration/{socket,exec,file}.c: ``unix:PATH``,
``tcp:HOST:PORT``, ``exec:CMD`` (a shell command's stdin / stdout) and ``file:PATH``.

A channel moves bytes in one direction: ``write(buf)`` on the source, ``read_exact(n)``,
``readinto_exact(view)``, ``read_some(view)`` and ``readinto_views(views)`` on the
destination. ``abort()`` may be called from another thread to break a blocked transfer
(migrate_cancel).
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass

from vgaemu.migration.errors import MigrationError
from vgaemu.unixsock import listen_unix


@dataclass(frozen=True)
class MigrationURI:
    kind: str  # "unix" | "tcp" | "exec" | "file"
    target: object  # path, (host, port), or a shell command

    def __str__(self) -> str:
        if self.kind == "tcp":
            return f"tcp:{self.target[0]}:{self.target[1]}"
        return f"{self.kind}:{self.target}"


def parse_uri(uri: str) -> MigrationURI:
    if not isinstance(uri, str) or ":" not in uri:
        raise MigrationError(f"unknown migration protocol: {uri!r} (expected unix:PATH, "
                             "tcp:HOST:PORT, exec:CMD or file:PATH)")
    kind, rest = uri.split(":", 1)
    if kind in ("unix", "file", "exec"):
        if kind == "file":
            rest = rest.split(",", 1)[0]  # QEMU's ,offset= is not supported: plain path
        if not rest:
            raise MigrationError(f"migration URI {uri!r}: nothing after '{kind}:'")
        return MigrationURI(kind, rest)
    if kind == "tcp":
        host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise MigrationError(f"migration URI {uri!r}: expected tcp:HOST:PORT")
        return MigrationURI("tcp", (host.strip("[]") or "0.0.0.0", int(port)))
    raise MigrationError(f"unknown migration protocol: {kind}")


#: Socket buffers for the stream (the kernel caps them at net.core.[wr]mem_max): larger than
#: the default ~200 KiB so a PAGES record crosses in a few wakeups, not dozens.
SOCKET_BUFFER = 4 << 20
#: sendmsg takes at most IOV_MAX buffers per call (1024 on Linux).
_IOV_MAX = 1024


def _sendmsg_all(sock: socket.socket, bufs: list) -> None:
    """sendall over a gather list of bytes and 1-D byte memoryviews (so len() is their size
    and they go to sendmsg as they are: a sparse pass has one per page): resend whatever a
    partial sendmsg left."""
    views = bufs
    i, n = 0, len(views)
    while i < n:
        sent = sock.sendmsg(views[i:i + _IOV_MAX])
        while i < n and sent >= len(views[i]):
            sent -= len(views[i])
            i += 1
        if sent:
            if views is bufs:
                views = list(bufs)
            views[i] = memoryview(views[i])[sent:]


def _grow_buffers(sock: socket.socket) -> None:
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        except OSError:
            pass


class Channel:
    """One direction of a migration stream over a socket, a pipe or a file."""

    def __init__(self, *, sock: socket.socket | None = None, fileobj=None,
                 proc: subprocess.Popen | None = None, name: str = "") -> None:
        self._sock = sock
        self._file = fileobj
        self._proc = proc
        self.name = name
        self.aborted = False

    # -- source side --------------------------------------------------------------------
    def write(self, data) -> None:
        self.writev([data])

    def writev(self, bufs: list) -> None:
        """Write the buffers (bytes or 1-D byte memoryviews) in order: on a socket with
        sendmsg's gather list (one system call for a record's header and its runs of guest
        pages, no joining copy)."""
        try:
            if self._sock is not None:
                _sendmsg_all(self._sock, bufs)
            else:
                for b in bufs:
                    self._file.write(b)
        except (OSError, ValueError) as e:
            if self.aborted:
                raise MigrationError("migration cancelled") from None
            raise MigrationError(f"writing the migration stream to {self.name} failed: "
                                 f"{getattr(e, 'strerror', None) or e}") from None

    # -- destination side ---------------------------------------------------------------
    def readinto_exact(self, view: memoryview) -> None:
        view = memoryview(view).cast("B")
        got, n = 0, len(view)
        while got < n:
            try:
                if self._sock is not None:
                    # MSG_WAITALL: the kernel fills the whole view in one call, not one
                    # socket buffer's worth per call.
                    k = self._sock.recv_into(view[got:], 0, socket.MSG_WAITALL)
                else:
                    k = self._file.readinto(view[got:])
            except (OSError, ValueError) as e:
                raise MigrationError(f"reading the migration stream from {self.name} failed: "
                                     f"{getattr(e, 'strerror', None) or e}") from None
            if not k:
                raise MigrationError(f"the migration stream from {self.name} ended early "
                                     f"(connection closed or file truncated)")
            got += k

    def read_some(self, view: memoryview) -> int:
        """Read what is there, up to len(view), waiting only for the first byte; 0 at the
        end of the stream (the reader's read-ahead)."""
        try:
            if self._sock is not None:
                return self._sock.recv_into(view)
            read1 = getattr(self._file, "readinto1", None)
            return (read1 or self._file.readinto)(view) or 0
        except (OSError, ValueError) as e:
            raise MigrationError(f"reading the migration stream from {self.name} failed: "
                                 f"{getattr(e, 'strerror', None) or e}") from None

    def readinto_views(self, views: list) -> None:
        """Fill each view (a 1-D byte memoryview) in order: a socket scatters into them with
        recvmsg_into."""
        if self._sock is None or len(views) == 1:
            for v in views:
                self.readinto_exact(v)
            return
        views = list(views)
        i, n = 0, len(views)
        while i < n:
            try:
                k = self._sock.recvmsg_into(views[i:i + _IOV_MAX], 0, socket.MSG_WAITALL)[0]
            except (OSError, ValueError) as e:
                raise MigrationError(f"reading the migration stream from {self.name} failed: "
                                     f"{getattr(e, 'strerror', None) or e}") from None
            if not k:
                raise MigrationError(f"the migration stream from {self.name} ended early "
                                     f"(connection closed or file truncated)")
            while i < n and k >= len(views[i]):
                k -= len(views[i])
                i += 1
            if k:
                views[i] = views[i][k:]

    def read_exact(self, n: int) -> bytes:
        buf = bytearray(n)
        self.readinto_exact(memoryview(buf))
        return bytes(buf)

    # -- both ---------------------------------------------------------------------------
    def abort(self) -> None:
        """Break a transfer blocked in another thread."""
        self.aborted = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._proc is not None:
            try:
                self._proc.kill()
            except OSError:
                pass

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        if self._file is not None:
            try:
                self._file.close()
            except (OSError, ValueError, BrokenPipeError):
                pass
        if self._proc is not None:
            try:
                rc = self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                rc = self._proc.wait()
            if rc not in (0, None) and not self.aborted:
                raise MigrationError(f"exec migration command {self.name!r} exited with {rc}")


def connect(uri: MigrationURI, timeout: float = 10.0) -> Channel:
    """The source's end (migrate)."""
    try:
        if uri.kind == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            _grow_buffers(s)
            s.connect(uri.target)
            s.settimeout(None)
            return Channel(sock=s, name=str(uri))
        if uri.kind == "tcp":
            s = socket.create_connection(uri.target, timeout=timeout)
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _grow_buffers(s)
            return Channel(sock=s, name=str(uri))
        if uri.kind == "file":
            return Channel(fileobj=open(uri.target, "wb"), name=str(uri))
        if uri.kind == "exec":
            proc = subprocess.Popen(uri.target, shell=True, stdin=subprocess.PIPE)
            return Channel(fileobj=proc.stdin, proc=proc, name=uri.target)
    except OSError as e:
        raise MigrationError(f"cannot connect to {uri}: {e.strerror or e}") from None
    raise MigrationError(f"unknown migration protocol: {uri.kind}")


class Listener:
    """The destination's end before a source connects (``-incoming``/``migrate-incoming``)."""

    def __init__(self, uri: MigrationURI) -> None:
        self.uri = uri
        self._sock: socket.socket | None = None
        try:
            if uri.kind == "unix":
                # listening before the path appears (vgaemu.unixsock): a source that
                # polls for it is never refused
                self._sock = listen_unix(uri.target, 1)
            elif uri.kind == "tcp":
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(uri.target)
                s.listen(1)
                self._sock = s
            elif uri.kind == "file":
                if not os.path.isfile(uri.target):
                    raise MigrationError(f"cannot open {uri}: no such file")
        except OSError as e:
            raise MigrationError(f"cannot listen on {uri}: {e.strerror or e}") from None

    @property
    def port(self) -> int | None:
        return self._sock.getsockname()[1] if self.uri.kind == "tcp" and self._sock else None

    def accept(self) -> Channel:
        uri = self.uri
        try:
            if self._sock is not None:
                conn, _ = self._sock.accept()
                self._sock.close()
                _grow_buffers(conn)
                if uri.kind == "unix":
                    try:
                        os.unlink(uri.target)
                    except OSError:
                        pass
                return Channel(sock=conn, name=str(uri))
            if uri.kind == "file":
                return Channel(fileobj=open(uri.target, "rb"), name=str(uri))
            if uri.kind == "exec":
                proc = subprocess.Popen(uri.target, shell=True, stdout=subprocess.PIPE)
                return Channel(fileobj=proc.stdout, proc=proc, name=uri.target)
        except OSError as e:
            raise MigrationError(f"incoming migration on {uri}: {e.strerror or e}") from None
        raise MigrationError(f"unknown migration protocol: {uri.kind}")

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
