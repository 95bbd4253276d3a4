# SPDX-License-Identifier: LGPL-2.1-or-later
"""client.images: the io.podman image methods."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence

from ._base import Manager, Progress, Resource, parse_json
from .varlink import Record

__all__ = ["Image", "Images"]


class Image(Resource):
    """An image: ``id``, ``digest``, ``repoTags``, ``repoDigests``, ``created``, ``size``,
    ``virtualSize``, ``labels``, ``parentId``, ``containers``... (io.podman's Image type)."""

    @property
    def tags(self) -> List[str]:
        """The repository tags (``repoTags``)."""
        return list(self._data.get("repoTags") or [])

    def _ref(self) -> str:
        return self._data["id"]

    def refresh(self) -> "Image":
        """Reads the image again (GetImage)."""
        self._data = self._client.podman.GetImage(self._ref()).image
        return self

    def tag(self, tag: str) -> "Image":
        """Adds a name (TagImage); returns the refreshed image."""
        self._client.podman.TagImage(self._ref(), tag)
        return self.refresh()

    def untag(self, tag: str) -> "Image":
        """Removes a name (UntagImage); returns the refreshed image."""
        self._client.podman.UntagImage(self._ref(), tag)
        return self.refresh()

    def remove(self, force: bool = False) -> str:
        """Deletes the image (RemoveImage); returns its id."""
        return self._client.podman.RemoveImage(self._ref(), force).image

    def delete(self, force: bool = False) -> Record:
        """Deletes the image, telling what was untagged and deleted (RemoveImageWithResponse)."""
        return self._client.podman.RemoveImageWithResponse(self._ref(), force).response

    def history(self) -> List[Record]:
        """The layers' history (HistoryImage): id, created, createdBy, tags, size, comment."""
        return list(self._client.podman.HistoryImage(self._ref()).history)

    def inspect(self) -> Any:
        """The inspect document, parsed (InspectImage)."""
        return parse_json(self._client.podman.InspectImage(self._ref()).image)

    def export(self, destination: str, compress: bool = False, tags: Sequence[str] = ()) -> str:
        """Writes the image to ``destination`` on the service's host (ExportImage): a path,
        ``docker-archive:PATH``, ``oci-archive:PATH`` or ``oci:DIR``. Returns the image id."""
        return self._client.podman.ExportImage(self._ref(), destination, compress, list(tags)).image

    def save(self, output: str, format: str = "docker-archive", more_tags: Sequence[str] = (),
             compress: bool = False, quiet: bool = True) -> Optional[str]:
        """Saves the image to ``output`` (ImageSave); returns the image id."""
        return self._client.images.save(self._ref(), output, format=format, more_tags=more_tags,
                                        compress=compress, quiet=quiet)

    def push(self, target: str, compress: bool = False, format: str = "", remove_signatures: bool = False,
             sign_by: str = "") -> Progress:
        """Pushes the image to ``target`` (PushImage): a progress stream."""
        return self._client.images.push(self._ref(), target, compress=compress, format=format,
                                        remove_signatures=remove_signatures, sign_by=sign_by)

    def exists(self) -> bool:
        """Whether the service still has the image (ImageExists)."""
        return self._client.images.exists(self._ref())

    def tree(self, what_requires: bool = False) -> str:
        """The layer tree as text (ImageTree)."""
        return self._client.podman.ImageTree(self._ref(), what_requires).tree

    def create_container(self, command: Optional[Sequence[str]] = None, **options: Any) -> Any:
        """Creates a container from this image (see :meth:`Containers.create`)."""
        return self._client.containers.create(self._ref(), command, **options)

    container = create_container


class Images(Manager):
    """The images of the service."""

    def _wrap(self, data: Record) -> Image:
        return Image(self._client, data)

    def list(self, filters: Optional[Iterable[str]] = None) -> List[Image]:
        """Every image (ListImages), or those matching podman-style ``filters``
        (ListImagesWithFilters, e.g. ``["label=a=b", "dangling=true"]``)."""
        if filters:
            images = self._podman.ListImagesWithFilters(list(filters)).images
        else:
            images = self._podman.ListImages().images
        return [self._wrap(i) for i in images or []]

    def get(self, name: str) -> Image:
        """One image by name, id or id prefix (GetImage); raises ImageNotFound."""
        return self._wrap(self._podman.GetImage(name).image)

    def exists(self, name: str) -> bool:
        """Whether the image exists (ImageExists answers 0 for yes)."""
        return self._podman.ImageExists(name).exists == 0

    def tag(self, name: str, tag: str) -> str:
        """Adds a name to an image (TagImage); returns the image id."""
        return self._podman.TagImage(name, tag).image

    def untag(self, name: str, tag: str) -> str:
        """Removes a name (UntagImage); returns the image id."""
        return self._podman.UntagImage(name, tag).image

    def remove(self, name: str, force: bool = False) -> str:
        """Deletes an image (RemoveImage); returns its id."""
        return self._podman.RemoveImage(name, force).image

    def history(self, name: str) -> List[Record]:
        """An image's history (HistoryImage)."""
        return list(self._podman.HistoryImage(name).history)

    def inspect(self, name: str) -> Any:
        """An image's inspect document, parsed (InspectImage)."""
        return parse_json(self._podman.InspectImage(name).image)

    def export(self, name: str, destination: str, compress: bool = False, tags: Sequence[str] = ()) -> str:
        """Writes an image to ``destination`` on the service's host (ExportImage)."""
        return self._podman.ExportImage(name, destination, compress, list(tags)).image

    def save(self, name: str, output: str, format: str = "docker-archive", more_tags: Sequence[str] = (),
             compress: bool = False, quiet: bool = True) -> Optional[str]:
        """Saves an image (and ``more_tags``) to ``output`` in ``format`` (docker-archive,
        oci-archive, oci-dir) with ImageSave; returns the image id."""
        options = {"name": name, "format": format, "output": output, "outputType": "file",
                   "moreTags": list(more_tags), "quiet": quiet, "compress": compress}
        return Progress(self._podman.ImageSave(options, _more=True)).wait()

    def load(self, path: str, name: str = "", quiet: bool = False, delete_file: bool = False) -> List[str]:
        """Loads a docker-archive or oci-archive from ``path`` on the service's host (LoadImage);
        returns the names (or ids) of the loaded images."""
        p = Progress(self._podman.LoadImage(name, path, quiet, delete_file, _more=True))
        ident = p.wait() or ""
        return [x for x in ident.split(",") if x]

    def import_image(self, source: str, reference: str = "", message: str = "",
                     changes: Sequence[str] = (), delete: bool = False) -> str:
        """Makes an image from a root filesystem tarball at ``source`` (ImportImage); returns its id."""
        return self._podman.ImportImage(source, reference, message, list(changes), delete).image

    def pull(self, name: str, username: str = "", password: str = "") -> Progress:
        """Pulls an image (PullImage with more): iterate for the progress lines;
        ``.wait()`` returns the image id."""
        creds = {"username": username, "password": password}
        return Progress(self._podman.PullImage(name, creds, _more=True))

    def push(self, name: str, target: str, compress: bool = False, format: str = "",
             remove_signatures: bool = False, sign_by: str = "") -> Progress:
        """Pushes an image to ``target`` (PushImage with more): a progress stream."""
        return Progress(self._podman.PushImage(name, target, compress, format, remove_signatures, sign_by,
                                               _more=True))

    def build(self, build: Dict[str, Any]) -> Progress:
        """Builds an image from a BuildInfo struct (BuildImage with more): a progress stream."""
        return Progress(self._podman.BuildImage(build, _more=True), field="image")

    def search(self, query: str, limit: Optional[int] = None, is_official: Optional[bool] = None,
               is_automated: Optional[bool] = None, star_count: int = 0) -> List[Record]:
        """Searches registries (SearchImages)."""
        flt = {"is_official": is_official, "is_automated": is_automated, "star_count": star_count}
        return list(self._podman.SearchImages(query, limit, flt).results or [])

    def prune(self, all: bool = False, filters: Sequence[str] = ()) -> List[str]:
        """Deletes unused images (ImagesPrune): dangling ones, or every unused one with ``all``."""
        return list(self._podman.ImagesPrune(all, list(filters)).pruned or [])

    def delete_unused(self) -> List[str]:
        """Deletes every image no container uses (DeleteUnusedImages)."""
        return list(self._podman.DeleteUnusedImages().images or [])
