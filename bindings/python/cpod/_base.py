# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the high-level API: resources, managers, progress streams, upgraded sessions."""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from .varlink import Record, ReplyStream, Upgraded

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Resource", "Manager", "Progress", "Session", "FieldStream", "parse_json"]


def parse_json(text: str) -> Any:
    """Inspect methods return their document as a JSON string: parse it."""
    return json.loads(text) if text else {}


class Resource:
    """An object the service knows (image, container, pod, volume).

    The fields of the last reply read as attributes (``image.repoTags``);
    :meth:`refresh` asks the service again.
    """

    def __init__(self, client: "Client", data: Record) -> None:
        self._client = client
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __dir__(self) -> List[str]:
        return sorted(set(self._data) | set(super().__dir__()))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._key()}>"

    def _key(self) -> str:
        return str(self._data.get("id") or self._data.get("name") or "")

    @property
    def data(self) -> Record:
        """The fields of the last reply, as a Record."""
        return self._data

    def asdict(self) -> Dict[str, Any]:
        """The fields as a plain dict."""
        return self._data.asdict()

    def refresh(self) -> "Resource":
        """Reads the object again from the service; returns self."""
        raise NotImplementedError


class Manager:
    """Base class of client.images, client.containers, ..."""

    def __init__(self, client: "Client") -> None:
        self._client = client

    @property
    def _podman(self) -> Any:
        return self._client.podman


class Progress(Iterator[str]):
    """A MoreResponse stream (pull, push, commit, build, load, save).

    Iterating yields the log lines as they come; :attr:`id` is set by the
    final reply, and :meth:`wait` reads everything and returns it. The first
    reply is read when the object is made, so a failing call raises at once.
    """

    def __init__(self, stream: Any, field: str = "reply") -> None:
        self._field = field
        self.id: Optional[str] = None
        self.logs: List[str] = []
        self._pending: List[str] = []
        if isinstance(stream, ReplyStream):
            self._stream: Optional[ReplyStream] = stream
            self._take(next(stream))
        else:  # a plain reply (the service answered once)
            self._stream = None
            self._take(stream)

    def _take(self, reply: Record) -> None:
        r = reply.get(self._field) or {}
        logs = r.get("logs") or []
        self.logs.extend(logs)
        self._pending.extend(logs)
        if r.get("id"):
            self.id = r.get("id")

    def __next__(self) -> str:
        while not self._pending:
            if self._stream is None or self._stream.done:
                raise StopIteration
            self._take(next(self._stream))
        return self._pending.pop(0)

    def wait(self) -> Optional[str]:
        """Reads to the end; returns the final id."""
        for _ in self:
            pass
        return self.id

    def close(self) -> None:
        """Stops following (closes the connection if the stream had not ended)."""
        if self._stream is not None:
            self._stream.close()


class FieldStream(Iterator[Any]):
    """A ``more`` stream yielding one field of each reply; :meth:`close` stops following."""

    def __init__(self, stream: ReplyStream, field: str) -> None:
        self._stream = stream
        self._field = field

    def __next__(self) -> Any:
        return next(self._stream)[self._field]

    def close(self) -> None:
        """Stops following (closes the connection if the stream had not ended)."""
        self._stream.close()

    def __enter__(self) -> "FieldStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Session:
    """An upgraded Attach/ExecContainer connection with podman's framing.

    Each frame is an 8-byte header (byte 0 the stream: 0 stdout, 1 stdin,
    2 stderr, 3 resize, 4 exit code, 5 hang-up; bytes 4-7 the big-endian
    length) and its payload.
    """

    STDOUT, STDIN, STDERR, RESIZE, EXIT, HANGUP = 0, 1, 2, 3, 4, 5

    def __init__(self, upgraded: Upgraded) -> None:
        self._up = upgraded
        self._buf = bytearray()
        self.exit_code: Optional[int] = None

    @property
    def socket(self) -> Any:
        """The raw socket."""
        return self._up.socket

    def _fill(self, n: int) -> bool:
        while len(self._buf) < n:
            chunk = self._up.recv()
            if not chunk:
                return False
            self._buf += chunk
        return True

    def read_frame(self) -> Optional[Tuple[int, bytes]]:
        """The next (stream, payload), or None at the end of the connection."""
        if not self._fill(8):
            return None
        kind = self._buf[0]
        (length,) = struct.unpack(">I", bytes(self._buf[4:8]))
        if not self._fill(8 + length):
            return None
        payload = bytes(self._buf[8:8 + length])
        del self._buf[:8 + length]
        if kind == self.EXIT and len(payload) >= 4:
            self.exit_code = struct.unpack(">I", payload[:4])[0]
        return kind, payload

    def __iter__(self) -> Iterator[Tuple[int, bytes]]:
        while True:
            f = self.read_frame()
            if f is None:
                return
            yield f
            if f[0] == self.EXIT:
                return

    def _send(self, kind: int, payload: bytes) -> None:
        self._up.sendall(struct.pack(">B3xI", kind, len(payload)) + payload)

    def write(self, data: bytes) -> None:
        """Sends bytes to the process's standard input."""
        self._send(self.STDIN, data)

    def resize(self, width: int, height: int) -> None:
        """Tells the terminal size."""
        self._send(self.RESIZE, json.dumps({"Width": width, "Height": height}).encode())

    def hangup(self) -> None:
        """Says the client is done (detaches)."""
        self._send(self.HANGUP, b"")

    def output(self) -> Tuple[bytes, bytes, Optional[int]]:
        """Reads to the end: (stdout, stderr, exit code)."""
        out, err = bytearray(), bytearray()
        for kind, payload in self:
            if kind == self.STDOUT:
                out += payload
            elif kind == self.STDERR:
                err += payload
        return bytes(out), bytes(err), self.exit_code

    def close(self) -> None:
        """Closes the connection."""
        self._up.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
