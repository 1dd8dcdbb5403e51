"""The QMP server: an asyncio loop in a thread beside the guest, any number of clients.

Each connection gets the greeting, negotiates capabilities, then runs its commands in order;
commands that change the machine go through ``machine.post`` (between guest steps, under the
BQL), from an executor thread so a slow command never blocks other clients. Events from the
machine (``machine.loop.emit_event``) go to every client in command mode. A client that
disconnects mid-command loses nothing: the command completes; only its reply is dropped.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading
import traceback
from typing import Any

from vgaemu.errors import VGAEmuError
from vgaemu.qmp import commands as qmp_commands
from vgaemu.qmp.protocol import (COMMAND_NOT_FOUND, JSONStreamParser, ParseError, QMPError,
                                 check_request, encode)
from vgaemu.unixsock import listen_unix

_READ_CHUNK = 65536


class QMPServerError(VGAEmuError, ValueError):
    """A QMP address that cannot be served (bad syntax, socket in use...)."""


def parse_address(address: Any) -> tuple[str, Any]:
    """``unix:PATH[,server=on,wait=off]``, ``tcp:HOST:PORT[,...]``, a path, or (host, port)
    -> ("unix", path) / ("tcp", (host, port)). Options after the first comma are the CLI's."""
    if isinstance(address, tuple) and len(address) == 2:
        return "tcp", (str(address[0]), int(address[1]))
    if isinstance(address, os.PathLike):
        return "unix", os.fspath(address)
    if not isinstance(address, str) or not address:
        raise QMPServerError(f"QMP address {address!r}: expected unix:PATH or tcp:HOST:PORT")
    head = address.split(",", 1)[0]
    if head.startswith("unix:"):
        path = head[5:]
        if not path:
            raise QMPServerError(f"QMP address {address!r}: the unix socket path is empty")
        return "unix", path
    if head.startswith("tcp:"):
        host, sep, port = head[4:].rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise QMPServerError(f"QMP address {address!r}: expected tcp:HOST:PORT")
        return "tcp", (host or "127.0.0.1", int(port))
    if ":" not in head:
        return "unix", head
    raise QMPServerError(f"QMP address {address!r}: expected unix:PATH or tcp:HOST:PORT")


class _Session:
    def __init__(self, server: "QMPServer", reader, writer) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.negotiated = False
        self.closed = False
        self.quit_after_reply = False

    def send(self, msg: dict) -> None:
        if self.closed:
            return
        try:
            self.writer.write(encode(msg))
        except (ConnectionError, RuntimeError, OSError):
            self.closed = True

    async def run(self) -> None:
        server = self.server
        self.send({"QMP": {"version": qmp_commands.version_info(), "capabilities": []}})
        parser = JSONStreamParser()
        try:
            while not self.closed:
                data = await self.reader.read(_READ_CHUNK)
                if not data:
                    break
                for item in parser.feed(data):
                    await self.handle(item)
                await self._drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            server._sessions.discard(self)
            try:
                self.writer.close()
            except Exception:
                pass

    async def _drain(self) -> None:
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            self.closed = True

    async def handle(self, item: Any) -> None:
        if isinstance(item, ParseError):
            self.send({"error": QMPError(item.desc).to_json()})
            return
        msg_id = item.get("id") if isinstance(item, dict) else None
        reply: dict[str, Any]
        try:
            name, args, msg_id = check_request(item)
            reply = {"return": await self.execute(name, args)}
        except QMPError as e:
            reply = {"error": e.to_json()}
        except Exception as e:  # a bug in a command: report it, keep the connection
            traceback.print_exc(file=sys.stderr)
            reply = {"error": QMPError(f"internal error: {type(e).__name__}: {e}").to_json()}
        if msg_id is not None:
            reply["id"] = msg_id
        self.send(reply)
        if self.quit_after_reply:
            self.quit_after_reply = False
            await self._drain()
            qmp_commands.quit_machine(self.server.machine)
            self.server._loop.call_later(0.05, self.server._close_all)

    async def execute(self, name: str, args: dict) -> Any:
        if not self.negotiated:
            if name != "qmp_capabilities":
                raise QMPError("Expecting capabilities negotiation with 'qmp_capabilities'",
                               COMMAND_NOT_FOUND)
            cmd = qmp_commands.lookup(name)
            cmd.fn(qmp_commands.CommandContext(self.server.machine, self.server, self),
                   qmp_commands.check_arguments(cmd, args))
            self.negotiated = True
            return {}
        if name == "qmp_capabilities":
            raise QMPError("Capabilities negotiation is already complete, command ignored",
                           COMMAND_NOT_FOUND)
        cmd = qmp_commands.lookup(name)
        args = qmp_commands.check_arguments(cmd, args)
        ctx = qmp_commands.CommandContext(self.server.machine, self.server, self)
        machine = self.server.machine
        if cmd.on_machine:
            def work():
                return machine.post(lambda: cmd.fn(ctx, args)).result()
        else:
            def work():
                return cmd.fn(ctx, args)
        # Run in an executor thread, shielded: a client that goes away mid-command does not
        # cancel the work (the machine change happens or does not, as a whole).
        fut = asyncio.get_running_loop().run_in_executor(None, _call_mapped, work)
        return await asyncio.shield(fut)


def _call_mapped(work):
    """Run a command; errors that are not QMPErrors become GenericError with their text."""
    from guestmem.errors import GuestMemError

    try:
        return work()
    except QMPError:
        raise
    except (VGAEmuError, GuestMemError) as e:
        raise QMPError(str(e)) from None


class QMPServer:
    """``QMPServer(machine, "unix:/tmp/qmp.sock")``; ``start()``, ``close()``."""

    def __init__(self, machine, address: Any) -> None:
        self.machine = machine
        self.address = address
        self.kind, self.where = parse_address(address)
        self._sessions: set[_Session] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._ready = threading.Event()
        self._client_seen = threading.Event()
        self._start_error: BaseException | None = None
        self._closed = False

    # -- lifetime -----------------------------------------------------------------------
    def start(self) -> None:
        if self.kind == "unix":
            path = self.where
            if os.path.exists(path):
                if not stat.S_ISSOCK(os.stat(path).st_mode):
                    raise QMPServerError(f"QMP socket path {path!r} exists and is not a socket")
                os.unlink(path)  # a stale socket from an earlier run, as QEMU does
        self._thread = threading.Thread(target=self._run, name="qmp-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            raise QMPServerError(f"cannot listen for QMP on {self.address}: "
                                 f"{self._start_error}") from self._start_error
        self.machine.loop.add_event_listener(self._on_event)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            if self.kind == "unix":
                # the path appears listening (vgaemu.unixsock): a client polling for it
                # is never refused
                coro = asyncio.start_unix_server(self._accept,
                                                 sock=listen_unix(self.where, 100))
            else:
                host, port = self.where
                coro = asyncio.start_server(self._accept, host=host, port=port,
                                            reuse_address=True)
            self._server = loop.run_until_complete(coro)
            if self.kind == "tcp":
                self.where = self._server.sockets[0].getsockname()[:2]
        except BaseException as e:  # reported by start()
            self._start_error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    @property
    def port(self) -> int | None:
        return self.where[1] if self.kind == "tcp" else None

    async def _accept(self, reader, writer) -> None:
        session = _Session(self, reader, writer)
        self._sessions.add(session)
        self._client_seen.set()
        await session.run()

    def wait_for_client(self, timeout: float | None = None) -> bool:
        return self._client_seen.wait(timeout)

    def _on_event(self, event: dict) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            loop.call_soon_threadsafe(self._broadcast, event)
        except RuntimeError:  # loop closed meanwhile
            pass

    def _broadcast(self, event: dict) -> None:
        for s in list(self._sessions):
            if s.negotiated:
                s.send(event)

    def _close_all(self) -> None:
        for s in list(self._sessions):
            s.closed = True
            try:
                s.writer.close()
            except Exception:
                pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.machine.loop.remove_event_listener(self._on_event)
        loop = self._loop
        if loop is not None and loop.is_running():
            def shutdown():
                if self._server is not None:
                    self._server.close()
                self._close_all()
                loop.call_later(0.01, loop.stop)
            loop.call_soon_threadsafe(shutdown)
        if self._thread is not None:
            self._thread.join(5)
        if self.kind == "unix":
            try:
                if stat.S_ISSOCK(os.stat(self.where).st_mode):
                    os.unlink(self.where)
            except OSError:
                pass
        if self in getattr(self.machine, "qmp_servers", []):
            self.machine.qmp_servers.remove(self)

    def __enter__(self) -> "QMPServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["QMPServer", "QMPServerError", "parse_address"]
