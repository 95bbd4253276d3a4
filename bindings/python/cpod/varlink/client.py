# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Varlink client: addresses, one reused connection, calls and streams."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import (ConnectionBusy, ConnectionClosed, InvalidParameterError, ProtocolError, VarlinkTimeout,
                     error_from_reply)
from .idl import SERVICE_INTERFACE, Interface, Record, parse_interface, to_record

__all__ = ["Client", "ReplyStream", "Upgraded", "InterfaceProxy", "parse_address"]

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_decode = json.JSONDecoder().decode

# The socket is put on fd 3 by posix_spawn; the shell sets LISTEN_PID to its
# own pid and execs the service, which therefore keeps that pid.
_EXEC_SHIM = 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"'
_SERVICE = parse_interface(SERVICE_INTERFACE)
_READ_SIZE = 65536


def parse_address(address: str) -> Tuple[str, Any]:
    """Splits a Varlink address into (kind, target).

    ``unix:/path`` and ``unix:@abstract`` give ("unix", path) (a leading NUL
    for abstract names), ``tcp:host:port`` and ``tcp:[v6]:port`` give
    ("tcp", (host, port)), ``exec:/path`` gives ("exec", path). Parameters
    after ``;`` (``;mode=0600``) are ignored by clients.
    """
    kind, sep, rest = address.partition(":")
    if not sep or not rest:
        raise ValueError(f"invalid Varlink address {address!r}")
    rest = rest.split(";", 1)[0]
    if kind == "unix":
        if rest.startswith("@"):
            return "unix", "\0" + rest[1:]
        return "unix", rest
    if kind == "tcp":
        host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"invalid tcp address {address!r} (want tcp:HOST:PORT)")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return "tcp", (host, int(port))
    if kind == "exec":
        return "exec", rest
    raise ValueError(f"unsupported Varlink address {address!r} (unix:, tcp: or exec:)")


class _Connection:
    """One socket (and the child process at its other end, for exec: and bridges)."""

    __slots__ = ("sock", "proc", "buf", "timeout", "label", "linger")

    def __init__(self, sock: socket.socket, proc: Any, label: str, linger: float = 1.0) -> None:
        self.sock = sock
        self.proc = proc
        self.linger = linger
        self.buf = bytearray()
        self.timeout: Optional[float] = sock.gettimeout()
        self.label = label

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        _reap(self.proc, self.linger)
        self.proc = None


class _Child:
    """The little of subprocess.Popen that _reap needs, for a posix_spawn()ed pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode  # type: ignore[return-value]

    def terminate(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


def _reap(proc: Any, linger: float) -> None:
    """Waits ``linger`` seconds for a child that just lost its socket, then ends it."""
    if proc is None:
        return
    try:
        proc.wait(timeout=linger)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Upgraded:
    """The connection after an ``upgrade`` call: raw bytes from here on.

    ``reply`` is the upgrading call's reply, ``socket`` the socket, and
    ``buffered`` the bytes that arrived after the reply's NUL (read them
    before the socket). :meth:`recv` and :meth:`sendall` do that for you.
    The client does not use this connection again.
    """

    def __init__(self, reply: Record, conn: _Connection) -> None:
        self.reply = reply
        self.socket: socket.socket = conn.sock
        self.buffered = bytes(conn.buf)
        self._conn = conn

    def recv(self, n: int = _READ_SIZE) -> bytes:
        """Buffered bytes first, then the socket's (b"" at end of stream)."""
        if self.buffered:
            data, self.buffered = self.buffered[:n], self.buffered[n:]
            return data
        return self.socket.recv(n)

    def sendall(self, data: bytes) -> None:
        """Writes raw bytes to the peer."""
        self.socket.sendall(data)

    def close(self) -> None:
        """Closes the socket (and reaps the exec:/bridge child)."""
        self._conn.close()

    def __enter__(self) -> "Upgraded":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ReplyStream(Iterator[Record]):
    """The replies of a ``more`` call, as an iterator.

    It ends after the reply without ``continues``. Varlink cannot cancel a
    call, so closing the stream early (:meth:`close`, leaving a ``with``
    block, or dropping the iterator) closes the connection; the client's
    next call opens a new one.
    """

    def __init__(self, client: "Client", conn: _Connection, method: str, iface: Optional[Interface],
                 timeout: Optional[float]) -> None:
        self._client = client
        self._conn: Optional[_Connection] = conn
        self._method = method
        self._iface = iface
        self._timeout = timeout
        self.count = 0

    def __iter__(self) -> "ReplyStream":
        return self

    def __next__(self) -> Record:
        conn = self._conn
        if conn is None:
            raise StopIteration
        try:
            msg = self._client._read_reply(conn, self._method, self._timeout, self.count)
        except BaseException:
            self._finish()
            raise
        self.count += 1
        if not msg.get("continues"):
            self._finish()
        return self._client._decode_reply(self._method, self._iface, msg)

    def _finish(self) -> None:
        if self._conn is not None and self._client._busy is self:
            self._client._busy = None
        self._conn = None

    @property
    def done(self) -> bool:
        """True once the last reply was read (or the stream was closed)."""
        return self._conn is None

    def close(self) -> None:
        """Stops following: closes the connection if replies may still come."""
        conn = self._conn
        if conn is not None:
            self._finish()
            self._client._drop(conn)

    def __enter__(self) -> "ReplyStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Client:
    """A Varlink client over one connection, opened on first use and reused.

    ``address`` is ``unix:/path``, ``unix:@name``, ``tcp:host:port`` or
    ``exec:/path/to/service`` (the service is started on a connected
    socketpair, as socket activation would). With
    ``bridge="ssh host varlink bridge"`` the command is run by ``/bin/sh``
    and spoken to over its stdin/stdout. With ``activate="cmd args"`` the
    command is started with a *listening* socket (LISTEN_FDS=1), for
    services that cannot take a connected one; each connection starts one
    such child, ended when the connection closes.

    ``timeout`` (seconds, None = wait forever) bounds connecting and every
    wait for a reply; a call can override it. Calls to interfaces whose
    description the client knows (:meth:`interface`, :meth:`add_interface`,
    or every interface with ``introspect=True``) are checked locally before
    they are sent, and their replies are decoded by the declared types.

    One client is one connection: use it from one thread at a time.
    """

    def __init__(self, address: Optional[str] = None, *, bridge: Optional[str] = None,
                 activate: Union[str, Sequence[str], None] = None, timeout: Optional[float] = None,
                 introspect: bool = False) -> None:
        if (address is not None) + (bridge is not None) + (activate is not None) != 1:
            raise ValueError("give exactly one of address, bridge and activate")
        if address is not None:
            parse_address(address)  # fail early on a malformed address
        self.address = address
        self.bridge = bridge
        self.activate = shlex.split(activate) if isinstance(activate, str) else (
            list(activate) if activate is not None else None)
        self.timeout = timeout
        self.introspect = introspect
        self._conn: Optional[_Connection] = None
        self._busy: Optional[ReplyStream] = None
        self._interfaces: Dict[str, Interface] = {"org.varlink.service": _SERVICE}
        self._no_description: set = set()

    def __repr__(self) -> str:
        return f"<cpod.varlink.Client {self.address or 'bridge ' + repr(self.bridge or self.activate)}>"

    # ------------------------------------------------------------------ connection

    def _connect(self) -> _Connection:
        timeout = self.timeout
        if self.bridge is not None:
            return self._spawn(["/bin/sh", "-c", self.bridge], "stdio", f"bridge {self.bridge!r}")
        if self.activate is not None:
            return self._spawn(self.activate, "listen", f"activated {shlex.join(self.activate)!r}")
        assert self.address is not None
        kind, target = parse_address(self.address)
        if kind == "exec":
            return self._spawn([target], "exec", self.address)
        try:
            if kind == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(timeout)
                    sock.connect(target)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(target, timeout=timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except socket.timeout:
            raise VarlinkTimeout(f"connecting to {self.address} timed out") from None
        except OSError as e:
            raise ConnectionClosed(f"cannot connect to {self.address}: {e.strerror or e}") from e
        return _Connection(sock, None, self.address)

    def _spawn(self, argv: List[str], mode: str, label: str) -> _Connection:
        """Starts a service on a new socket: "exec" hands it a connected socket on fd 3,
        "listen" a listening one (libvarlink's --activate), "stdio" its stdin/stdout."""
        listener = None
        if mode == "listen":
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind("")  # an autobound abstract name
            listener.listen(16)
            ours, theirs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), listener
        else:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if mode == "stdio":
                proc = subprocess.Popen(argv, stdin=theirs, stdout=theirs, close_fds=True)
            else:
                env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="varlink")
                env.pop("LISTEN_PID", None)
                proc = _Child(os.posix_spawn("/bin/sh", ["sh", "-c", _EXEC_SHIM, "sh"] + argv, env,
                                             file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3)]))
            if listener is not None:
                ours.settimeout(self.timeout)
                ours.connect(listener.getsockname())
        except OSError as e:
            ours.close()
            raise ConnectionClosed(f"cannot start {label}: {e}") from e
        finally:
            theirs.close()
        ours.settimeout(self.timeout)
        # a service on a listening socket waits for more connections: end it at once
        return _Connection(ours, proc, label, linger=0.0 if listener is not None else 1.0)

    def _connection(self) -> _Connection:
        if self._busy is not None:
            raise ConnectionBusy("a 'more' stream is still open on this connection: read it to the end or "
                                 "close it first")
        conn = self._conn
        if conn is None:
            conn = self._conn = self._connect()
        return conn

    def _drop(self, conn: _Connection) -> None:
        if self._conn is conn:
            self._conn = None
        conn.close()

    def close(self) -> None:
        """Closes the connection (a later call opens a new one)."""
        if self._busy is not None:
            self._busy._finish()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ wire

    def _send(self, conn: _Connection, data: bytes) -> None:
        try:
            conn.sock.sendall(data)
        except socket.timeout:
            self._drop(conn)
            raise VarlinkTimeout(f"sending to {conn.label} timed out") from None
        except OSError as e:
            self._drop(conn)
            raise ConnectionClosed(f"connection to {conn.label} broke while sending: {e.strerror or e}") from e

    def _read_reply(self, conn: _Connection, method: str, timeout: Optional[float], count: int = 0
                    ) -> Dict[str, Any]:
        buf = conn.buf
        i = buf.find(b"\0")
        if i < 0:
            sock = conn.sock
            if timeout != conn.timeout:
                sock.settimeout(timeout)
                conn.timeout = timeout
            while i < 0:
                start = len(buf)
                try:
                    chunk = sock.recv(_READ_SIZE)
                except socket.timeout:
                    self._drop(conn)
                    raise VarlinkTimeout(f"no reply to {method} from {conn.label} within {timeout} s") from None
                except OSError as e:
                    self._drop(conn)
                    raise ConnectionClosed(f"connection to {conn.label} broke while waiting for the reply "
                                           f"to {method}: {e.strerror or e}") from e
                if not chunk:
                    self._drop(conn)
                    after = f" (after {count} replies)" if count else ""
                    partial = " in the middle of a message" if buf else ""
                    raise ConnectionClosed(f"{conn.label} closed the connection{partial} while {method} "
                                           f"was waiting for a reply{after}")
                buf += chunk
                i = buf.find(b"\0", start)
        raw = bytes(buf[:i])
        del buf[:i + 1]
        try:
            msg = _decode(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self._drop(conn)
            raise ProtocolError(f"{conn.label} sent a message that is not JSON: {e}") from None
        if not isinstance(msg, dict):
            self._drop(conn)
            raise ProtocolError(f"{conn.label} sent a message that is not a JSON object")
        err = msg.get("error")
        if err is not None:
            if not isinstance(err, str):
                self._drop(conn)
                raise ProtocolError(f"{conn.label} sent an error that is not a string")
            if self._busy is not None and self._busy._conn is conn:
                self._busy._finish()
            raise self._make_error(err, msg.get("parameters"))
        return msg

    def _make_error(self, error: str, parameters: Any) -> Exception:
        return error_from_reply(error, parameters if isinstance(parameters, Mapping) else {})

    def _decode_reply(self, method: str, iface: Optional[Interface], msg: Dict[str, Any]) -> Record:
        params = msg.get("parameters")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            raise ProtocolError(f"the reply to {method} has parameters that are not an object")
        if iface is not None:
            return iface.decode_reply(method, params)
        return to_record(params)

    # ------------------------------------------------------------------ calls

    def _interface_for(self, method: str) -> Optional[Interface]:
        name = method.rpartition(".")[0]
        iface = self._interfaces.get(name)
        if iface is None and self.introspect and name and name not in self._no_description:
            try:
                iface = self.load_interface(name)
            except Exception:
                self._no_description.add(name)
        return iface

    def call(self, method: str, parameters: Optional[Mapping[str, Any]] = None, *, more: bool = False,
             oneway: bool = False, upgrade: bool = False, timeout: Union[float, None, str] = "default",
             **kwargs: Any) -> Any:
        """Calls a fully qualified method.

        Parameters come as a mapping and/or keyword arguments. Returns a
        :class:`Record` of the reply's parameters; with ``more=True`` a
        :class:`ReplyStream`; with ``oneway=True`` None (nothing comes
        back); with ``upgrade=True`` an :class:`Upgraded` connection.
        ``timeout`` (seconds) overrides the client's for this call.

        Error replies raise the matching :class:`VarlinkError` subclass.
        Parameters that do not match a known interface raise
        :class:`InvalidParameterError` and nothing is sent.
        """
        if more + oneway + upgrade > 1:
            raise ValueError("more, oneway and upgrade exclude each other")
        if "." not in method:
            raise ValueError(f"{method!r} is not a qualified method name (interface.Method)")
        if kwargs:
            parameters = dict(parameters or {}, **kwargs)
        if timeout == "default":
            timeout = self.timeout
        iface = self._interface_for(method)
        if iface is not None:
            parameters = iface.encode_call(method, parameters)
        msg: Dict[str, Any] = {"method": method}
        if parameters:
            msg["parameters"] = parameters
        if more:
            msg["more"] = True
        elif oneway:
            msg["oneway"] = True
        elif upgrade:
            msg["upgrade"] = True
        try:
            data = _encode(msg).encode("utf-8") + b"\0"
        except (TypeError, ValueError) as e:
            raise InvalidParameterError("parameters", f"cannot be sent as JSON: {e}") from None
        conn = self._connection()
        self._send(conn, data)
        if oneway:
            return None
        if more:
            stream = ReplyStream(self, conn, method, iface, timeout)  # type: ignore[arg-type]
            self._busy = stream
            return stream
        reply = self._read_reply(conn, method, timeout)  # type: ignore[arg-type]
        if reply.get("continues"):
            self._drop(conn)
            raise ProtocolError(f"{conn.label} answered {method} with 'continues' though the call had no 'more'")
        result = self._decode_reply(method, iface, reply)
        if upgrade:
            self._conn = None
            return Upgraded(result, conn)
        return result

    # ------------------------------------------------------------------ introspection

    def get_info(self) -> Record:
        """org.varlink.service.GetInfo: vendor, product, version, url, interfaces."""
        return self.call("org.varlink.service.GetInfo")

    def get_interface_description(self, interface: str) -> str:
        """The IDL text of one interface the service serves."""
        return self.call("org.varlink.service.GetInterfaceDescription", {"interface": interface}).description

    def load_interface(self, interface: str) -> Interface:
        """Fetches, parses and remembers an interface's description (once)."""
        iface = self._interfaces.get(interface)
        if iface is None:
            iface = parse_interface(self.get_interface_description(interface))
            self._interfaces[iface.name] = iface
        return iface

    def add_interface(self, description: Union[str, Interface]) -> Interface:
        """Makes an interface known without asking the service (e.g. from a .varlink file)."""
        iface = description if isinstance(description, Interface) else parse_interface(description)
        self._interfaces[iface.name] = iface
        return iface

    def interface(self, name: str) -> "InterfaceProxy":
        """A proxy whose attributes are the interface's methods: ``client.interface("io.podman").ListImages()``."""
        return InterfaceProxy(self, self.load_interface(name))


class InterfaceProxy:
    """Methods of one interface as Python callables.

    Positional arguments map to the method's input fields in declaration
    order, keyword arguments by name. ``_more``, ``_oneway``, ``_upgrade``
    and ``_timeout`` select the call mode. The result is what
    :meth:`Client.call` returns.
    """

    def __init__(self, client: Client, interface: Interface) -> None:
        self._client = client
        self._interface = interface

    @property
    def interface(self) -> Interface:
        """The parsed interface description."""
        return self._interface

    def __dir__(self) -> List[str]:
        return sorted(set(self._interface.methods) | set(super().__dir__()))

    def __repr__(self) -> str:
        return f"<InterfaceProxy {self._interface.name}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        m = self._interface.method(name)  # MethodNotFound is an AttributeError too
        client, qualified = self._client, f"{self._interface.name}.{m.name}"
        names = [f.name for f in m.input.fields]

        def method(*args: Any, _more: bool = False, _oneway: bool = False, _upgrade: bool = False,
                   _timeout: Union[float, None, str] = "default", **kwargs: Any) -> Any:
            if len(args) > len(names):
                raise TypeError(f"{m.name}() takes {len(names)} positional arguments but {len(args)} were given")
            params = dict(zip(names, args))
            for k in kwargs:
                if k in params:
                    raise TypeError(f"{m.name}() got multiple values for argument {k!r}")
            params.update(kwargs)
            return client.call(qualified, params, more=_more, oneway=_oneway, upgrade=_upgrade, timeout=_timeout)

        method.__name__ = m.name
        method.__qualname__ = f"{self._interface.name}.{m.name}"
        method.__doc__ = (m.doc + "\n\n" if m.doc else "") + m.signature()
        return method
