# SPDX-License-Identifier: LGPL-2.1-or-later
"""client.pods and client.volumes: the io.podman pod and volume methods."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ._base import Manager, Resource, parse_json
from .varlink import Record

__all__ = ["Pod", "Pods", "Volume", "Volumes"]


class Pod(Resource):
    """A pod: ``id``, ``name``, ``createdat``, ``cgroup``, ``status``, ``labels``,
    ``numberofcontainers``, ``containersinfo`` (io.podman's ListPodData)."""

    def _ref(self) -> str:
        return self._data["id"]

    def refresh(self) -> "Pod":
        """Reads the pod again (GetPod)."""
        self._data = self._client.podman.GetPod(self._ref()).pod
        return self

    def inspect(self) -> Any:
        """The inspect document, parsed (InspectPod)."""
        return parse_json(self._client.podman.InspectPod(self._ref()).pod)

    def start(self) -> "Pod":
        """Starts every container (StartPod)."""
        self._client.podman.StartPod(self._ref())
        return self.refresh()

    def stop(self, timeout: int = -1) -> "Pod":
        """Stops every container (StopPod)."""
        self._client.podman.StopPod(self._ref(), timeout)
        return self.refresh()

    def restart(self) -> "Pod":
        """Restarts every container (RestartPod)."""
        self._client.podman.RestartPod(self._ref())
        return self.refresh()

    def kill(self, signal: int = 15) -> "Pod":
        """Signals every container (KillPod)."""
        self._client.podman.KillPod(self._ref(), signal)
        return self.refresh()

    def pause(self) -> "Pod":
        """Freezes every container (PausePod)."""
        self._client.podman.PausePod(self._ref())
        return self.refresh()

    def unpause(self) -> "Pod":
        """Thaws every container (UnpausePod)."""
        self._client.podman.UnpausePod(self._ref())
        return self.refresh()

    def remove(self, force: bool = False) -> str:
        """Deletes the pod (RemovePod); returns its id."""
        return self._client.podman.RemovePod(self._ref(), force).pod

    def top(self, *descriptors: str) -> List[str]:
        """Processes of its containers (TopPod)."""
        return list(self._client.podman.TopPod(self._ref(), False, list(descriptors)).stats)

    def stats(self) -> List[Record]:
        """Resource usage of its containers (GetPodStats)."""
        return list(self._client.podman.GetPodStats(self._ref()).containers)


class Pods(Manager):
    """The pods of the service."""

    def list(self) -> List[Pod]:
        """Every pod (ListPods)."""
        return [Pod(self._client, p) for p in self._podman.ListPods().pods or []]

    def get(self, name: str) -> Pod:
        """One pod (GetPod); raises PodNotFound."""
        return Pod(self._client, self._podman.GetPod(name).pod)

    def create(self, name: str = "", labels: Optional[Dict[str, str]] = None, share: Sequence[str] = (),
               infra: bool = True, infra_command: str = "", infra_image: str = "", cgroup_parent: str = "",
               publish: Sequence[str] = ()) -> Pod:
        """Creates a pod (CreatePod)."""
        create = {"name": name, "cgroupParent": cgroup_parent, "labels": dict(labels or {}), "share": list(share),
                  "infra": infra, "infraCommand": infra_command, "infraImage": infra_image,
                  "publish": list(publish)}
        return self.get(self._podman.CreatePod(create).pod)

    def by_status(self, *statuses: str) -> List[str]:
        """Ids of the pods in one of the states (GetPodsByStatus)."""
        return list(self._podman.GetPodsByStatus(list(statuses)).pods)


class Volume(Resource):
    """A volume: ``name``, ``labels``, ``mountPoint``, ``driver``, ``options``."""

    def _key(self) -> str:
        return str(self._data.get("name") or "")

    def refresh(self) -> "Volume":
        """Reads the volume again (GetVolumes)."""
        found = self._client.podman.GetVolumes([self.name], False).volumes or []
        if not found:
            from .errors import error_class
            raise error_class("io.podman.VolumeNotFound")("io.podman.VolumeNotFound",
                                                         {"id": self.name, "reason": "no such volume"})
        self._data = found[0]
        return self

    def inspect(self) -> Any:
        """The inspect document, parsed (InspectVolume)."""
        return parse_json(self._client.podman.InspectVolume(self.name).volume)

    def remove(self, force: bool = False) -> Record:
        """Deletes the volume (VolumeRemove): successes and failures."""
        return self._client.podman.VolumeRemove({"volumes": [self.name], "all": False, "force": force})


class Volumes(Manager):
    """The volumes of the service."""

    def list(self, names: Sequence[str] = ()) -> List[Volume]:
        """Every volume, or the named ones (GetVolumes)."""
        vols = self._podman.GetVolumes(list(names), not names).volumes or []
        return [Volume(self._client, v) for v in vols]

    def get(self, name: str) -> Volume:
        """One volume; raises VolumeNotFound."""
        return Volume(self._client, {"name": name}).refresh()  # type: ignore[arg-type]

    def create(self, name: str = "", driver: str = "", labels: Optional[Dict[str, str]] = None,
               options: Optional[Dict[str, str]] = None) -> Volume:
        """Creates a volume (VolumeCreate)."""
        opts = {"volumeName": name, "driver": driver, "labels": dict(labels or {}), "options": dict(options or {})}
        return self.get(self._podman.VolumeCreate(opts).volumeName)

    def remove(self, names: Sequence[str] = (), all: bool = False, force: bool = False) -> Record:
        """Deletes volumes (VolumeRemove): successes and failures."""
        return self._podman.VolumeRemove({"volumes": list(names), "all": all, "force": force})

    def prune(self) -> Record:
        """Deletes unused volumes (VolumesPrune): prunedNames, prunedErrors."""
        return self._podman.VolumesPrune()
