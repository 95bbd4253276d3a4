# SPDX-License-Identifier: LGPL-2.1-or-later
"""client.system: version, info, liveness, events."""

from __future__ import annotations

from typing import Sequence

from ._base import FieldStream, Manager
from .varlink import Record, VarlinkException

__all__ = ["System"]


class System(Manager):
    """Service-wide calls."""

    def version(self) -> Record:
        """GetVersion: version, go_version, git_commit, built, os_arch, remote_api_version."""
        return self._podman.GetVersion()

    @property
    def versions(self) -> Record:
        """The same as :meth:`version` (python-podman's spelling)."""
        return self.version()

    def info(self) -> Record:
        """GetInfo: host, registries, store and podman sections."""
        return self._podman.GetInfo().info

    def ping(self) -> bool:
        """True if the service answers (io.podman 1.x has no Ping: GetVersion stands in).

        Unlike the other calls this does not raise: an unreachable service gives False.
        """
        try:
            self._podman.GetVersion()
            return True
        except VarlinkException:
            return False

    def reset(self) -> None:
        """Removes every container, pod, volume and image (Reset)."""
        self._podman.Reset()

    def describe(self) -> Record:
        """org.varlink.service.GetInfo: vendor, product, version, url, interfaces."""
        return self._client.varlink.get_info()

    def events(self, filters: Sequence[str] = (), since: str = "", until: str = "") -> FieldStream:
        """Events as they come (GetEvents with more): Event records; close() the stream to stop."""
        return FieldStream(self._podman.GetEvents(list(filters), since, until, _more=True), "events")
