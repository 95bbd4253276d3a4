# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Varlink client in pure Python (stdlib only).

>>> from cpod.varlink import Client
>>> with Client("unix:/run/podman/io.podman") as c:
...     c.get_info().interfaces
...     podman = c.interface("io.podman")
...     podman.GetVersion().version

See :class:`Client` for addresses, calls, streams, upgrades and timeouts,
:mod:`cpod.varlink.idl` for the interface parser and local type checks,
and :mod:`cpod.varlink.errors` for the exceptions.
"""

from .client import Client, InterfaceProxy, ReplyStream, Upgraded, parse_address
from .errors import (ConnectionBusy, ConnectionClosed, ExpectedMore, ExpectedUpgrade, InterfaceNotFound,
                     InterfaceSyntaxError, InvalidParameter, InvalidParameterError, MethodNotFound,
                     MethodNotImplemented, PermissionDenied, ProtocolError, VarlinkError, VarlinkException,
                     VarlinkTimeout, error_class)
from .idl import Interface, Record, parse_interface

__all__ = [
    "Client", "InterfaceProxy", "ReplyStream", "Upgraded", "parse_address",
    "VarlinkException", "VarlinkError", "ConnectionClosed", "ConnectionBusy", "VarlinkTimeout", "ProtocolError",
    "InterfaceSyntaxError", "InterfaceNotFound", "MethodNotFound", "MethodNotImplemented", "InvalidParameter",
    "InvalidParameterError", "PermissionDenied", "ExpectedMore", "ExpectedUpgrade", "error_class",
    "Interface", "Record", "parse_interface",
]
