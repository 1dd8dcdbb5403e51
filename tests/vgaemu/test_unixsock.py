"""listen_unix: the socket path appears only when it already accepts connections."""

from __future__ import annotations

import os
import socket

import pytest

from vgaemu.unixsock import listen_unix


def test_the_path_appears_listening(tmp_path, monkeypatch):
    path = str(tmp_path / "q.sock")
    seen = []
    real_listen = socket.socket.listen

    def listen(self, *a):
        seen.append(os.path.exists(path))   # the final path must not exist yet
        return real_listen(self, *a)

    monkeypatch.setattr(socket.socket, "listen", listen)
    s = listen_unix(path, 4)
    try:
        assert seen == [False]
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        conn, _ = s.accept()
        c.sendall(b"hi")
        assert conn.recv(2) == b"hi"
        conn.close()
        c.close()
    finally:
        s.close()
    assert sorted(os.listdir(tmp_path)) == ["q.sock"]


def test_a_stale_socket_is_replaced(tmp_path):
    path = str(tmp_path / "q.sock")
    old = listen_unix(path, 1)
    old.close()                      # its file stays, as after a crash
    s = listen_unix(path, 1)
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        c.close()
    finally:
        s.close()


def test_failure_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        listen_unix(str(tmp_path / "no" / "such" / "dir" / "q.sock"), 1)
    d = tmp_path / "d"
    d.mkdir()
    (d / "q.sock").mkdir()           # rename cannot replace a directory
    with pytest.raises(OSError):
        listen_unix(str(d / "q.sock"), 1)
    assert os.listdir(d) == ["q.sock"]
