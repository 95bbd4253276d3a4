/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What remote mode shares with local mode for the commands served by the io.cpod interface (networks,
 * play kube, rename, port, cp, system check and df): the printers of the local commands, and the call.
 */

#include <vl/json.h>

#include "image.h"
#include "network.h"
#include "output.h"
#include "remote.h"

/* `cpod varlink` (main.c), also run by `cpod system service`. */
int cmd_varlink(Cli *cli, int argc, char **argv);

/*
 * Call io.cpod.<method> with params (taken; NULL: {}), as remote_call does for io.podman: on an error
 * reply returns -errno with err's message the reason: ENOENT for NetworkNotFound, ContainerNotFound and
 * ImageNotFound, EEXIST for NetworkAlreadyExists, EBUSY for NetworkInUse, EINVAL for InvalidKube and
 * InvalidParameter, ENOSYS when the service lacks io.cpod (podman, older cpod).
 */
int remote_cpod_call(Cli *cli, const char *method, VlJson *params, VlJson **ret, CpodError *err);

/* `image umount` options (cmd-image-manage.c): 0 to go on, -1 after --help, else the exit code. */
int cli_image_unmount_args(Cli *cli, int argc, char **argv, bool *ret_all, bool *ret_force);

/*
 * Where the network commands of cmd-network.c act: the engine (local mode) or the service
 * (remote-network.c). Each function takes the userdata passed with the ops, and returns 0 or -errno with err
 * set, as the engine's net_* functions do.
 */
typedef struct NetworkOps {
        int (*get)(void *u, const char *name, VlJson **ret, CpodError *err);
        int (*create)(void *u, const NetCreateOptions *o, char **ret_name, CpodError *err);
        int (*remove)(void *u, const char *name, bool force, CpodError *err);
        int (*connect)(void *u, const char *ctr, const char *network, char **aliases, size_t n_aliases,
                       const char *ip, CpodError *err);
        int (*disconnect)(void *u, const char *ctr, const char *network, bool force, CpodError *err);
} NetworkOps;

/* `network create`, `inspect`, `rm`, `connect` and `disconnect` (cmd-network.c: flags, help and output) over
 * ops and u; ops NULL: the engine's. */
int network_create_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u);
int network_inspect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u);
int network_rm_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u);
int network_connect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u);
int network_disconnect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u);

/* `network ls` output of netavark documents (cmd-network.c). */
int network_print_list(const VlJson *docs, const Output *out, bool quiet, bool no_trunc, CpodError *err);

/* `play kube` (cmd-kube.c): the file's text (stdin for "-"), at most one byte over the YAML limit; what
 * kube_play and kube_down returned, printed as local mode prints it. */
int kube_read_file(const char *path, char **ret, size_t *ret_len);
void kube_print_play(const VlJson *result);
void kube_print_down(const VlJson *removed);

/* `system df` and `system check` output (cmd-system.c); check returns the command's exit code. */
int system_df_print(const StoreUsage *u, const Output *out, CpodError *err);
int system_check_print(StoreReport *report);

/* `cpod info` and `cpod system info` (cmd-system.c): the command, its options (0 to go on, -1 after
 * --help, else the exit code), and its output of an io.podman PodmanInfo: YAML, or --format json or a
 * Go template. */
int cmd_info(Cli *cli, int argc, char **argv);
int cli_info_args(Cli *cli, int argc, char **argv, const char **ret_format);
int system_info_print(const VlJson *info, const char *format, CpodError *err);
