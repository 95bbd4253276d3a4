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
/* remote_call with call flags: VL_CALL_UPGRADE, then vl_client_take_upgraded(cli->client, ...). */
int remote_call_flags(Cli *cli, const char *method, VlJson *params, unsigned flags, VlJson **ret,
                      CpodError *err);
/* The same for io.cpod.<method> (remote-ext.h has remote_cpod_call): one error map serves both
 * interfaces (ENOENT for the *NotFound errors, EEXIST, EBUSY, EINVAL, ENOSYS when the service lacks the
 * method or interface). */
int remote_cpod_call_flags(Cli *cli, const char *method, VlJson *params, unsigned flags, VlJson **ret,
                           CpodError *err);
/* After a call with VL_CALL_UPGRADE: the raw socket, with the bytes read past the reply in *ret_pending
 * (*ret_n of them); the client is spent and closed. -errno with err set on failure. */
int remote_take_socket(Cli *cli, char **ret_pending, size_t *ret_n, CpodError *err);

/* --help among a remote command's options: the local command prints it (its text is local mode's, and it
 * needs no engine for that); returns its exit code. */
int remote_local_help(Cli *cli, int argc, char **argv);
/* The options of a command that needs none of them (shortopts and options: its own, their values ignored;
 * NULL: --help alone) and min..max arguments: 0 to go on, -1 after --help, else the exit code. */
int remote_help_only(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                     int min, int max);
/* The same, with the value of the option value_opt (the last one given) in *ret_value (left as it is when
 * the option is not given). */
int remote_args_value(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                      int value_opt, const char **ret_value, int min, int max);
/* The same for -f/--force (*ret_force) and --help; filter_error non-NULL adds --filter, refused with that
 * message ("": accepted and ignored). */
int remote_force_args(Cli *cli, int argc, char **argv, int min, int max, const char *filter_error,
                      bool *ret_force);
/* `X exists NAME`: call method (io.cpod's when cpod) with {"name": NAME}; exit 0 when it exists, 1 when not.
 * options: the command's (its extra flags accepted and ignored), NULL for --help alone. */
int remote_exists(Cli *cli, int argc, char **argv, const struct option *options, bool cpod,
                  const char *method);

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
/*
 * Attach to container ref through io.podman.Attach (start: start it first, as run and start -a do) and
 * relay the terminal: its output to stdout and stderr, stdin when interactive (raw, with its size, when
 * tty and stdin is a terminal; tty < 0: the container's own setting), the signals cpod receives to the
 * container when sig_proxy. Returns the exit code local mode returns (the container's, 0 after a detach,
 * 125-127 when it could not run).
 */
int remote_attach(Cli *cli, const char *ref, bool start, bool interactive, int tty, const char *detach_keys,
                  bool sig_proxy);
/* Fetch the file at remote_path on the service's host (io.podman.ReceiveFile on a connection of its own,
 * deleting it there) into out_fd; out_fd < 0 only removes it. The whole file is read even when writing
 * fails, so that the service removes it. */
int remote_receive_file(Cli *cli, const char *remote_path, int out_fd, CpodError *err);
/* Image inspect documents as local mode prints them, from the service's. */
int remote_image_document(Cli *cli, const char *ref, VlJson **ret, CpodError *err);
