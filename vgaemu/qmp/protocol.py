"""The QMP wire protocol (QEMU's docs/interop/qmp-spec.rst): a streaming JSON splitter,
request checks with QEMU's messages, and the error type commands raise.

The splitter does what QEMU's json-streamer does: it counts braces and brackets outside
strings, so several requests in one packet and one request over several packets both work,
and it answers garbage between requests with an error without dropping the connection.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any

#: QEMU's QapiErrorClass values.
GENERIC_ERROR = "GenericError"
COMMAND_NOT_FOUND = "CommandNotFound"
DEVICE_NOT_FOUND = "DeviceNotFound"
DEVICE_NOT_ACTIVE = "DeviceNotActive"

#: QEMU's json-streamer limits: a request larger or deeper than this is refused.
MAX_TOKEN_SIZE = 64 << 20
MAX_NESTING = 1024


class QMPError(Exception):
    """A command's failure as QMP reports it: ``{"error": {"class": ..., "desc": ...}}``."""

    def __init__(self, desc: str, error_class: str = GENERIC_ERROR) -> None:
        super().__init__(desc)
        self.desc = desc
        self.error_class = error_class

    def to_json(self) -> dict:
        return {"class": self.error_class, "desc": self.desc}


@dataclass(frozen=True)
class ParseError:
    """Input that is not a JSON value; answered with a GenericError, the connection stays."""

    desc: str


class JSONStreamParser:
    """Feed bytes, get complete top-level values (and ParseErrors) in order."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf: list[str] = []
        self._size = 0
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._junk: list[str] = []
        self._overflow = False

    def feed(self, data: bytes) -> list[Any]:
        out: list[Any] = []
        for ch in self._decoder.decode(data):
            self._char(ch, out)
        return out

    def _flush_junk(self, out: list) -> None:
        if not self._junk:
            return
        text = "".join(self._junk)
        self._junk = []
        try:
            json.loads(text)
        except ValueError:
            out.append(ParseError(f"JSON parse error, invalid keyword '{text[:64]}'"))
        else:  # a bare number, string, true/false/null
            out.append(ParseError("QMP input must be a JSON object"))

    def _char(self, ch: str, out: list) -> None:
        if self._depth == 0:
            if ch in "{[":
                self._flush_junk(out)
                self._buf = [ch]
                self._size = 1
                self._depth = 1
                self._overflow = False
            elif ch in " \t\r\n":
                self._flush_junk(out)
            elif ch in "}]":
                self._flush_junk(out)
                out.append(ParseError(f"JSON parse error, stray '{ch}'"))
            elif ch == "\xff" or ch == "\ufffd":  # QEMU: 0xFF resets the parser
                self._junk = []
            else:
                self._junk.append(ch)
            return
        if self._overflow:
            pass
        else:
            self._buf.append(ch)
            self._size += 1
        if self._in_string:
            if self._escape:
                self._escape = False
            elif ch == "\\":
                self._escape = True
            elif ch == '"':
                self._in_string = False
            return
        if ch == '"':
            self._in_string = True
        elif ch in "{[":
            self._depth += 1
            if self._depth > MAX_NESTING:
                self._overflow = True
        elif ch in "}]":
            self._depth -= 1
            if self._depth == 0:
                self._finish(out)
        if self._size > MAX_TOKEN_SIZE:
            self._overflow = True

    def _finish(self, out: list) -> None:
        text = "".join(self._buf)
        self._buf = []
        if self._overflow:
            self._overflow = False
            out.append(ParseError("JSON parse error, too large or too deeply nested"))
            return
        try:
            out.append(json.loads(text))
        except ValueError as e:
            # JSONDecodeError has .msg; a number past Python's int-to-str digit limit is a
            # plain ValueError (and a 5000-digit id could not be echoed back anyway)
            msg = e.msg if isinstance(e, json.JSONDecodeError) else "number too large"
            out.append(ParseError(f"JSON parse error, {msg.lower()}"))


def check_request(obj: Any) -> tuple[str, dict, Any]:
    """QEMU's qmp_dispatch_check_obj: (command, arguments, id) or QMPError."""
    if not isinstance(obj, dict):
        raise QMPError("QMP input must be a JSON object")
    for key, val in obj.items():
        if key == "execute":
            if not isinstance(val, str):
                raise QMPError("QMP input member 'execute' must be a string")
        elif key == "arguments":
            if not isinstance(val, dict):
                raise QMPError("QMP input member 'arguments' must be an object")
        elif key == "exec-oob":
            raise QMPError("QMP input member 'exec-oob' is unexpected")
        elif key != "id":
            raise QMPError(f"QMP input member '{key}' is unexpected")
    if "execute" not in obj:
        raise QMPError("QMP input lacks member 'execute'")
    return obj["execute"], obj.get("arguments", {}), obj.get("id")


def encode(msg: dict) -> bytes:
    return (json.dumps(msg, separators=(", ", ": ")) + "\r\n").encode()
