# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: the Varlink ones, and one class per io.podman error.

``except cpod.errors.ImageNotFound as e: print(e.reason)``. io.podman's
``RuntimeError`` is exported as ``PodmanRuntimeError`` so it does not hide
Python's own.
"""

from .varlink.errors import (ConnectionBusy, ConnectionClosed, ExpectedMore, ExpectedUpgrade, InterfaceNotFound,
                             InterfaceSyntaxError, InvalidParameter, InvalidParameterError, MethodNotFound,
                             MethodNotImplemented, PermissionDenied, ProtocolError, VarlinkError,
                             VarlinkException, VarlinkTimeout, error_class)

ImageNotFound = error_class("io.podman.ImageNotFound")
ContainerNotFound = error_class("io.podman.ContainerNotFound")
NoContainerRunning = error_class("io.podman.NoContainerRunning")
PodNotFound = error_class("io.podman.PodNotFound")
VolumeNotFound = error_class("io.podman.VolumeNotFound")
PodContainerError = error_class("io.podman.PodContainerError")
NoContainersInPod = error_class("io.podman.NoContainersInPod")
InvalidState = error_class("io.podman.InvalidState")
ErrorOccurred = error_class("io.podman.ErrorOccurred")
PodmanRuntimeError = error_class("io.podman.RuntimeError")
WantsMoreRequired = error_class("io.podman.WantsMoreRequired")
ErrCtrStopped = error_class("io.podman.ErrCtrStopped")
ErrRequiresCgroupsV2ForRootless = error_class("io.podman.ErrRequiresCgroupsV2ForRootless")

__all__ = [
    "VarlinkException", "VarlinkError", "ConnectionClosed", "ConnectionBusy", "VarlinkTimeout", "ProtocolError",
    "InterfaceSyntaxError", "InterfaceNotFound", "MethodNotFound", "MethodNotImplemented", "InvalidParameter",
    "InvalidParameterError", "PermissionDenied", "ExpectedMore", "ExpectedUpgrade", "error_class",
    "ImageNotFound", "ContainerNotFound", "NoContainerRunning", "PodNotFound", "VolumeNotFound",
    "PodContainerError", "NoContainersInPod", "InvalidState", "ErrorOccurred", "PodmanRuntimeError",
    "WantsMoreRequired", "ErrCtrStopped", "ErrRequiresCgroupsV2ForRootless",
]
