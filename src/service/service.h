/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <vl/json.h>

#include "engine.h"

/*
 * The Varlink service: `cpod varlink [--timeout MS] [ADDRESS]` (also run as
 * `cpod system service`), serving io.podman, io.projectatomic.podman and
 * io.cpod over the engine.
 *
 * argv[0] is the command name; the global options --root, --runroot,
 * --storage-driver and --registries-conf may appear in argv and are passed
 * to the engine of every connection. Returns the process exit status.
 */
int service_main(int argc, char **argv);

/* What GetInfo answers: io.podman's PodmanInfo (podman true) or io.projectatomic.podman's shape, for
 * the store of e and the registries of o. Also what `cpod info` prints. */
int service_info(Engine *e, const EngineOptions *o, bool podman, VlJson **ret, CpodError *err);
