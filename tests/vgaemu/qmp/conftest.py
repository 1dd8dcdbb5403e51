"""Fixtures for the QMP tests: a machine serving QMP on a unix socket, a raw-socket client for
protocol-level checks, and a guest running in a thread beside the monitor."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading

import pytest

from vgaemu.machine import Machine


@pytest.fixture
def sockdir():
    # AF_UNIX paths are limited to ~100 bytes: pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="vgq") as d:
        yield d


@pytest.fixture
def qmp_machine(sockdir):
    machine = Machine(memory="64M,slots=4,maxmem=1G")
    path = os.path.join(sockdir, "qmp.sock")
    server = machine.qmp_listen(f"unix:{path}")
    yield machine, path
    server.close()


class RawQMP:
    """A line-oriented raw client: send bytes, read JSON messages."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""

    def recv(self) -> dict:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send(self, data: bytes | dict) -> None:
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        self.sock.sendall(data)

    def cmd(self, execute: str, **arguments) -> dict:
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.send(msg)
        while True:
            reply = self.recv()
            if "event" not in reply:
                return reply

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_client(qmp_machine):
    clients = []

    def connect(negotiate: bool = True) -> RawQMP:
        c = RawQMP(qmp_machine[1])
        clients.append(c)
        c.greeting = c.recv()
        if negotiate:
            assert c.cmd("qmp_capabilities") == {"return": {}}
        return c
    yield connect
    for c in clients:
        c.close()
