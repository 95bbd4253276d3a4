/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Remote mode (cpod --remote, --url): commands run through a cpod (or podman 1.x) service's io.podman
 * interface and print what local mode prints. The rows handed to output.c are built from the API's
 * records with the same fields local mode uses.
 */

#include <vl/json.h>

#include "cpod.h"

/* The address remote mode connects to: --url, else $CONTAINER_HOST when it is a Varlink address, else
 * $PODMAN_VARLINK_ADDRESS, else the service's default socket. */
const char *remote_address(const Cli *cli, char *buf, size_t n);

/* Run the command cli->command names (argv as for its local run function) remotely; commands without a
 * remote implementation fail with exit code 125. */
int remote_run(Cli *cli, int argc, char **argv);
/* Close the connection, if one was opened. */
void remote_close(Cli *cli);

/*
 * Call io.podman.<method> with params (taken; NULL: {}). On success returns 0 with *ret (may be NULL) the
 * reply's parameters. On a Varlink error reply or a transport failure, returns -errno with err set: the
 * error's reason as the message, ENOENT for ContainerNotFound/ImageNotFound, EBUSY for InvalidState.
 * Nothing is printed.
 */
int remote_call(Cli *cli, const char *method, VlJson *params, VlJson **ret, CpodError *err);
/* The same, with the connection error printed and CLI_EXIT_ERROR returned when no service answers. */
struct VlClient *remote_client(Cli *cli);

/* Call parameters: {"key": "value"}; {"k1": "v1", "k2": "v2"}. NULL on ENOMEM. */
VlJson *remote_params1(const char *key, const char *value);

/* A command run remotely: its path ("image ls", "cpod " left out) and its function. Each remote-*.c
 * file has a table of its commands, ended by an entry with path NULL; remote_run looks in all of them. */
typedef struct RemoteCommand {
        const char *path;
        int (*run)(Cli *cli, int argc, char **argv);
} RemoteCommand;

extern const RemoteCommand remote_container_commands[];  /* remote-containers.c */
extern const RemoteCommand remote_image_commands[];      /* remote-images.c */
extern const RemoteCommand remote_pod_volume_commands[]; /* remote-pods.c */
extern const RemoteCommand remote_network_commands[];    /* remote-network.c */
extern const RemoteCommand remote_system_commands[];     /* remote-system.c */

/* Commands. */
int remote_images(Cli *cli, int argc, char **argv);
int remote_inspect(Cli *cli, int argc, char **argv);
int remote_image_inspect(Cli *cli, int argc, char **argv);
int remote_container_inspect(Cli *cli, int argc, char **argv);
int remote_history(Cli *cli, int argc, char **argv);
int remote_ps(Cli *cli, int argc, char **argv);
int remote_create(Cli *cli, int argc, char **argv);
int remote_run_command(Cli *cli, int argc, char **argv);
/* Image inspect documents as local mode prints them, from the service's. */
int remote_image_document(Cli *cli, const char *ref, VlJson **ret, CpodError *err);
