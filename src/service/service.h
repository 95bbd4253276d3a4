/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The Varlink service: `cpod varlink [--timeout MS] [ADDRESS]`, serving
 * io.podman and io.projectatomic.podman over the engine.
 *
 * argv[0] is the command name; the global options --root, --runroot,
 * --storage-driver and --registries-conf may appear in argv and are passed
 * to the engine of every connection. Returns the process exit status.
 */
int service_main(int argc, char **argv);
