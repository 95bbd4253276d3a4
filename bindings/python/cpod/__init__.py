# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python client for the cpod API (io.podman over Varlink), standard library only.

High level: :class:`cpod.Client` (``client.images``, ``client.containers``,
``client.pods``, ``client.volumes``, ``client.system``). Low level:
:mod:`cpod.varlink`, a complete Varlink client. Exceptions:
:mod:`cpod.errors`.
"""

from . import errors, varlink
from ._base import Progress, Session
from .client import Client, default_uri
from .containers import Container, LogStream
from .images import Image
from .pods import Pod, Volume
from .varlink import Record

__version__ = "0.1.0"

__all__ = ["Client", "default_uri", "Image", "Container", "Pod", "Volume", "Progress", "Session", "LogStream",
           "Record", "errors", "varlink", "__version__"]
