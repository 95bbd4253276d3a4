# SPDX-License-Identifier: LGPL-2.1-or-later
"""client.containers: the io.podman container methods."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional, Sequence

from ._base import Manager, Progress, Resource, Session, parse_json
from .varlink import Record, ReplyStream

__all__ = ["Container", "Containers", "LogStream"]


class LogStream(Iterator[Record]):
    """GetContainersLogs as an iterator of LogLine records (device, parseLogType, time, msg, cid).

    The service ends the stream with an empty LogLine, which is not yielded.
    :meth:`close` stops following (it closes the connection).
    """

    def __init__(self, stream: ReplyStream) -> None:
        self._stream = stream

    def __next__(self) -> Record:
        while True:
            line = next(self._stream).log
            if line is None:
                continue
            if not any(line.get(k) for k in ("msg", "time", "cid")):
                if self._stream.done:
                    raise StopIteration
                continue
            return line

    def close(self) -> None:
        """Stops following."""
        self._stream.close()

    def __enter__(self) -> "LogStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Container(Resource):
    """A container: ``id``, ``image``, ``imageid``, ``command``, ``createdat``, ``status``,
    ``names``, ``labels``, ``ports``, ``mounts``, ``containerrunning``... (io.podman's Container)."""

    def _ref(self) -> str:
        return self._data["id"]

    @property
    def name(self) -> str:
        """The container's name (io.podman gives one string in ``names``)."""
        return self._data.get("names") or ""

    @property
    def running(self) -> bool:
        """Whether the container ran at the last refresh."""
        return bool(self._data.get("containerrunning"))

    def refresh(self) -> "Container":
        """Reads the container again (GetContainer)."""
        self._data = self._client.podman.GetContainer(self._ref()).container
        return self

    def _then_refresh(self, reply: Any) -> "Container":
        return self.refresh()

    def start(self) -> "Container":
        """Starts it (StartContainer)."""
        return self._then_refresh(self._client.podman.StartContainer(self._ref()))

    def stop(self, timeout: int = -1) -> "Container":
        """Stops it, killing after ``timeout`` seconds (-1: the container's own) (StopContainer)."""
        return self._then_refresh(self._client.podman.StopContainer(self._ref(), timeout))

    def kill(self, signal: int = 15) -> "Container":
        """Sends a signal (KillContainer)."""
        return self._then_refresh(self._client.podman.KillContainer(self._ref(), signal))

    def restart(self, timeout: int = -1) -> "Container":
        """Restarts it (RestartContainer)."""
        return self._then_refresh(self._client.podman.RestartContainer(self._ref(), timeout))

    def init(self) -> "Container":
        """Prepares it without starting (InitContainer)."""
        return self._then_refresh(self._client.podman.InitContainer(self._ref()))

    def pause(self) -> "Container":
        """Freezes its processes (PauseContainer)."""
        return self._then_refresh(self._client.podman.PauseContainer(self._ref()))

    def unpause(self) -> "Container":
        """Thaws its processes (UnpauseContainer)."""
        return self._then_refresh(self._client.podman.UnpauseContainer(self._ref()))

    def remove(self, force: bool = False, volumes: bool = False) -> str:
        """Deletes it (RemoveContainer); returns its id."""
        return self._client.podman.RemoveContainer(self._ref(), force, volumes).container

    def wait(self, interval: int = 250) -> int:
        """Waits until it exits (WaitContainer, polling every ``interval`` ms); returns the exit code."""
        return self._client.podman.WaitContainer(self._ref(), interval).exitcode

    def inspect(self) -> Any:
        """The inspect document, parsed (InspectContainer)."""
        return parse_json(self._client.podman.InspectContainer(self._ref()).container)

    def logs(self, follow: bool = False, since: str = "", tail: int = -1, timestamps: bool = False) -> LogStream:
        """Its log lines (GetContainersLogs); with ``follow`` the stream waits for new lines
        until closed or the container exits."""
        return self._client.containers.logs([self._ref()], follow=follow, since=since, tail=tail,
                                            timestamps=timestamps)

    def stats(self) -> Record:
        """Resource usage (GetContainerStats)."""
        return self._client.podman.GetContainerStats(self._ref()).container

    def top(self, *descriptors: str) -> List[str]:
        """Its processes, ps-style (ListContainerProcesses), one line each."""
        return list(self._client.podman.ListContainerProcesses(self._ref(), list(descriptors)).container)

    def changes(self) -> Record:
        """Files changed, added and deleted (ListContainerChanges)."""
        return self._client.podman.ListContainerChanges(self._ref()).container

    def diff(self) -> List[Record]:
        """Changed paths (Diff)."""
        return list(self._client.podman.Diff(self._ref()).diffs)

    def export(self, path: str) -> str:
        """Writes the root filesystem as a tarball at ``path`` on the service's host (ExportContainer)."""
        return self._client.podman.ExportContainer(self._ref(), path).tarfile

    def commit(self, image_name: str, changes: Sequence[str] = (), author: str = "", message: str = "",
               pause: bool = True, format: str = "") -> Progress:
        """Makes an image of it (Commit with more): a progress stream; ``.wait()`` gives the id."""
        return Progress(self._client.podman.Commit(self._ref(), image_name, list(changes), author, message,
                                                   pause, format, _more=True))

    def mount(self) -> str:
        """Mounts its root filesystem (MountContainer); returns the path."""
        return self._client.podman.MountContainer(self._ref()).path

    def unmount(self, force: bool = False) -> None:
        """Unmounts it (UnmountContainer)."""
        self._client.podman.UnmountContainer(self._ref(), force)

    def attach(self, detach_keys: str = "", start: bool = False) -> Session:
        """Connects to its standard streams (Attach with upgrade); see :class:`Session`."""
        return Session(self._client.podman.Attach(self._ref(), detach_keys, start, _upgrade=True))

    def exec(self, cmd: Sequence[str], tty: bool = False, privileged: bool = False, user: Optional[str] = None,
             workdir: Optional[str] = None, env: Optional[Sequence[str]] = None,
             detach_keys: Optional[str] = None) -> Session:
        """Runs a command in it (ExecContainer with upgrade); ``.output()`` on the returned
        :class:`Session` gives (stdout, stderr, exit code)."""
        opts = {"name": self._ref(), "tty": tty, "privileged": privileged, "cmd": list(cmd), "user": user,
                "workdir": workdir, "env": list(env) if env is not None else None, "detachKeys": detach_keys}
        return Session(self._client.podman.ExecContainer(opts, _upgrade=True))


class Containers(Manager):
    """The containers of the service."""

    def _wrap(self, data: Record) -> Container:
        return Container(self._client, data)

    def list(self) -> List[Container]:
        """Every container (ListContainers)."""
        return [self._wrap(c) for c in self._podman.ListContainers().containers or []]

    def ps(self, all: bool = True, **opts: Any) -> List[Record]:
        """podman ps rows (Ps); keyword arguments are PsOpts fields (filters, last, size, sort...)."""
        return list(self._podman.Ps(dict(opts, all=all)).containers or [])

    def get(self, name: str) -> Container:
        """One container by name or id (GetContainer); raises ContainerNotFound."""
        return self._wrap(self._podman.GetContainer(name).container)

    def exists(self, name: str) -> bool:
        """Whether the container exists (ContainerExists answers 0 for yes)."""
        return self._podman.ContainerExists(name).exists == 0

    def create(self, image: str, command: Optional[Sequence[str]] = None, **options: Any) -> Container:
        """Creates a container (CreateContainer). Keyword arguments are fields of io.podman's
        Create struct (``name``, ``env``, ``tty``, ``publish``, ``workDir``...)."""
        create = dict(options)
        create["args"] = [image] + list(command or [])
        ident = self._podman.CreateContainer(create).container
        return self.get(ident)

    def logs(self, names: Sequence[str], follow: bool = False, latest: bool = False, since: str = "",
             tail: int = -1, timestamps: bool = False) -> LogStream:
        """Log lines of several containers (GetContainersLogs with more)."""
        return LogStream(self._podman.GetContainersLogs(list(names), follow, latest, since, tail, timestamps,
                                                        _more=True))

    def delete_stopped(self) -> List[str]:
        """Deletes every stopped container (DeleteStoppedContainers)."""
        return list(self._podman.DeleteStoppedContainers().containers or [])

    def by_status(self, *status: str) -> List[Container]:
        """Containers in one of the given states (GetContainersByStatus)."""
        return [self._wrap(c) for c in self._podman.GetContainersByStatus(list(status)).containerS or []]
