# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions of the Varlink client.

Every error a service replies with becomes an exception whose class is
named after the error's short name (``io.podman.ImageNotFound`` →
``ImageNotFound``), a subclass of :class:`VarlinkError` carrying
``.error`` (the qualified name) and ``.parameters``. Classes for errors
nobody declared in advance are made on first sight and reused, so
``except client.error_class("com.example.Oops")`` works too.

Failures on our side of the wire are :class:`VarlinkException`
subclasses that are not replies: :class:`ConnectionClosed`,
:class:`VarlinkTimeout`, :class:`ProtocolError`, :class:`ConnectionBusy`,
:class:`InterfaceSyntaxError`, and :class:`InvalidParameterError` (raised
before anything is sent; it also is an ``InvalidParameter``).
"""

from __future__ import annotations

import builtins
import threading
from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "VarlinkException", "VarlinkError", "ConnectionClosed", "VarlinkTimeout", "ProtocolError",
    "ConnectionBusy", "InterfaceSyntaxError", "InterfaceNotFound", "MethodNotFound",
    "MethodNotImplemented", "InvalidParameter", "InvalidParameterError", "PermissionDenied",
    "ExpectedMore", "ExpectedUpgrade", "error_class", "error_from_reply",
]


class VarlinkException(Exception):
    """Base class of everything this package raises."""


class ConnectionClosed(VarlinkException, builtins.ConnectionError):
    """The peer closed the connection (or it broke) before the expected reply."""


class VarlinkTimeout(VarlinkException, builtins.TimeoutError):
    """No reply within the call's timeout; the connection is closed (a late reply would be
    mistaken for the next call's)."""


class ProtocolError(VarlinkException):
    """The peer sent something that is not a Varlink message."""


class ConnectionBusy(VarlinkException):
    """A call was made while a ``more`` stream on the same connection is still open."""


class InterfaceSyntaxError(VarlinkException, ValueError):
    """An interface description does not follow the Varlink IDL grammar."""


class VarlinkError(VarlinkException):
    """An error reply: ``error`` is the qualified name, ``parameters`` its fields (a dict)."""

    #: the qualified error name this class stands for (None for the base class)
    ERROR: Optional[str] = None

    def __init__(self, error: Optional[str] = None, parameters: Optional[Mapping[str, Any]] = None) -> None:
        self.error: str = error or self.ERROR or "org.varlink.service.Error"
        self.parameters: Dict[str, Any] = dict(parameters or {})
        super().__init__(self.error, self.parameters)

    def __str__(self) -> str:
        p = self.parameters
        detail = p.get("reason") or p.get("message")
        if not detail and p:
            detail = ", ".join(f"{k}={v!r}" for k, v in p.items())
        return f"{self.error}: {detail}" if detail else self.error

    def __getattr__(self, name: str) -> Any:
        # error fields read like attributes: err.reason, err.id, err.method
        params = self.__dict__.get("parameters")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(name)

    def __reduce__(self):  # picklable, classes made on the fly included
        return (error_from_reply, (self.error, self.parameters))


_lock = threading.Lock()
_classes: Dict[str, Type[VarlinkError]] = {}


def _declare(qualified: str, *bases: type, doc: str = "") -> Type[VarlinkError]:
    short = qualified.rsplit(".", 1)[-1]
    cls = type(short, (VarlinkError,) + bases, {"ERROR": qualified, "__doc__": doc or f"``{qualified}``"})
    cls.__module__ = __name__
    _classes[qualified] = cls
    return cls


InterfaceNotFound = _declare("org.varlink.service.InterfaceNotFound",
                             doc="The service does not serve the interface (``.interface``).")
MethodNotFound = _declare("org.varlink.service.MethodNotFound", builtins.AttributeError,
                          doc="The interface has no such method (``.method``).")
MethodNotImplemented = _declare("org.varlink.service.MethodNotImplemented", builtins.NotImplementedError,
                                doc="The method is declared but the service does not implement it yet.")
InvalidParameter = _declare("org.varlink.service.InvalidParameter", builtins.ValueError,
                            doc="A parameter is missing, unknown or of the wrong type (``.parameter``).")
PermissionDenied = _declare("org.varlink.service.PermissionDenied", builtins.PermissionError,
                            doc="The caller may not call this method.")
ExpectedMore = _declare("org.varlink.service.ExpectedMore", doc="The method must be called with more=True.")
ExpectedUpgrade = _declare("org.varlink.service.ExpectedUpgrade",
                           doc="The method must be called with upgrade=True.")


class InvalidParameterError(InvalidParameter, builtins.TypeError):
    """Raised locally, before sending, when call parameters do not match the interface.

    ``.parameter`` names the offending field (dotted path for nested fields,
    ``[i]`` for array elements); ``.detail`` says what is wrong.
    """

    def __init__(self, parameter: str, detail: str = "") -> None:
        self.detail = detail
        super().__init__("org.varlink.service.InvalidParameter", {"parameter": parameter})

    def __str__(self) -> str:
        p = self.parameters.get("parameter", "")
        return f"invalid parameter {p!r}: {self.detail}" if self.detail else f"invalid parameter {p!r}"

    def __reduce__(self):
        return (type(self), (self.parameters.get("parameter", ""), self.detail))


def error_class(qualified: str) -> Type[VarlinkError]:
    """The exception class for a qualified error name (made once, then reused)."""
    cls = _classes.get(qualified)
    if cls is None:
        with _lock:
            cls = _classes.get(qualified)
            if cls is None:
                cls = _declare(qualified)
    return cls


def error_from_reply(error: str, parameters: Optional[Mapping[str, Any]]) -> VarlinkError:
    """The exception to raise for an error reply."""
    if not isinstance(parameters, Mapping):
        parameters = {}
    return error_class(error)(error, parameters)
