# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod.Client: the high-level entry point."""

from __future__ import annotations

import os
from typing import Any, Optional

from . import varlink
from .containers import Containers
from .images import Images
from .pods import Pods, Volumes
from .system import System

__all__ = ["Client", "default_uri"]

INTERFACE = "io.podman"


def default_uri() -> str:
    """Where the service is: $PODMAN_VARLINK_ADDRESS, else /run/podman/io.podman for root,
    else $XDG_RUNTIME_DIR/podman/io.podman."""
    env = os.environ.get("PODMAN_VARLINK_ADDRESS")
    if env:
        return env
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.geteuid() != 0 and runtime:
        return f"unix:{runtime}/podman/io.podman"
    return "unix:/run/podman/io.podman"


class Client:
    """A connection to a cpod (or podman 1.x) service speaking io.podman.

    >>> import cpod
    >>> with cpod.Client("unix:/run/podman/io.podman") as client:
    ...     for image in client.images.list():
    ...         print(image.id, image.repoTags)

    ``uri`` is any Varlink address (``unix:``, ``tcp:``, ``exec:``); without
    one, ``bridge`` (a command spoken to over its stdio, e.g.
    ``"ssh host varlink bridge"``), then $PODMAN_VARLINK_BRIDGE, then
    :func:`default_uri` are used. ``timeout`` (seconds) bounds every wait
    for a reply; None waits as long as the service works.

    The interface description is fetched once, on first use; every call is
    checked against it before it is sent.
    """

    def __init__(self, uri: Optional[str] = None, *, bridge: Optional[str] = None,
                 timeout: Optional[float] = None, interface: str = INTERFACE) -> None:
        if uri is None and bridge is None:
            bridge = os.environ.get("PODMAN_VARLINK_BRIDGE") or None
            if bridge is None:
                uri = default_uri()
        self.uri = uri
        self.varlink = varlink.Client(uri, bridge=bridge, timeout=timeout)
        self._interface_name = interface
        self._podman: Optional[varlink.InterfaceProxy] = None
        self.system = System(self)
        self.images = Images(self)
        self.containers = Containers(self)
        self.pods = Pods(self)
        self.volumes = Volumes(self)

    @property
    def podman(self) -> Any:
        """The io.podman interface proxy, for methods the managers do not wrap."""
        if self._podman is None:
            self._podman = self.varlink.interface(self._interface_name)
        return self._podman

    def close(self) -> None:
        """Closes the connection."""
        self.varlink.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<cpod.Client {self.uri or 'bridge'}>"
