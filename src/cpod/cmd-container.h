/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the container commands: the create/run flags, and small parsers (signals, times). */

#include <getopt.h>

#include "container.h"
#include "cpod.h"

/* podman's exit codes for run, start and exec when the runtime could not run the command. */
enum {
        CLI_EXIT_CANNOT_INVOKE = 126,
        CLI_EXIT_NOT_FOUND = 127,
};

enum {
        OPT_NAME = 0x200,
        OPT_ENV_FILE,
        OPT_ENTRYPOINT,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
        OPT_SECURITY_OPT,
        OPT_PRIVILEGED,
        OPT_READ_ONLY,
        OPT_CPUS,
        OPT_PIDS_LIMIT,
        OPT_ULIMIT,
        OPT_INIT,
        OPT_TMPFS,
        OPT_MOUNT,
        OPT_RM,
        OPT_RESTART,
        OPT_NETWORK,
        OPT_DETACH_KEYS,
        OPT_LOG_DRIVER,
        OPT_RUNTIME,
        OPT_STOP_SIGNAL,
        OPT_STOP_TIMEOUT,
        OPT_CIDFILE,
        OPT_PULL,
        OPT_HELP,
        OPT_POD,
};

typedef struct CreateArgs {
        ContainerCreateOptions o; /* its arrays and mounts are owned */
        bool detach, quiet, stop_timeout_set;
        const char *cidfile;
        char *owned_image;
} CreateArgs;

extern const struct option create_long_options[];
extern const char create_short_options[];
extern const char create_options_text[];

/* One create/run flag: 0 handled, 1 not a create flag, <0 error (printed). */
int create_flag(CreateArgs *a, int c, const char *arg);
int create_args_check(CreateArgs *a);
void create_args_done(CreateArgs *a);

int strv_push(char ***v, size_t *n, const char *s);
void strv_free_n(char **v, size_t n);
/* go-units' RAMInBytes ("512m", "1g", "100kb"). */
int parse_ram_bytes(const char *s, int64_t *ret);

/* "KILL", "SIGKILL", "9": the signal number, or -EINVAL. */
int cli_parse_signal(const char *s);
/* --since/--until values: RFC 3339 time, unix seconds[.frac], or a Go duration before now ("10m", "1h30m").
 * Result in unix nanoseconds. */
int cli_parse_time(const char *s, int64_t *ret_ns);
/* Exit code for a failed start/run/exec: 127 command not found, 126 cannot invoke, else 125; prints. */
int cli_start_error(const CpodError *err, int r);
/* Print "Error: …" for one container and remember the failure; used by the commands taking many. */
int cli_container_failed(const CpodError *err, int r);
/* The IDs of all containers (all: not only running ones), newest first; -errno. */
int cli_all_container_ids(Engine *e, bool all, char ***ret, size_t *ret_n, CpodError *err);
/* The same, only those in state (a ContainerState; -1 any). */
int cli_container_ids_in_state(Engine *e, bool all, int state, char ***ret, size_t *ret_n, CpodError *err);

/* Commands of the container group. */
extern const CliCommand cli_container_commands[];
int cmd_create(Cli *cli, int argc, char **argv);
int cmd_run(Cli *cli, int argc, char **argv);
int cmd_start(Cli *cli, int argc, char **argv);
int cmd_stop(Cli *cli, int argc, char **argv);
int cmd_kill(Cli *cli, int argc, char **argv);
int cmd_restart(Cli *cli, int argc, char **argv);
int cmd_rm(Cli *cli, int argc, char **argv);
int cmd_pause(Cli *cli, int argc, char **argv);
int cmd_unpause(Cli *cli, int argc, char **argv);
int cmd_wait(Cli *cli, int argc, char **argv);
int cmd_rename(Cli *cli, int argc, char **argv);
int cmd_container_exists(Cli *cli, int argc, char **argv);
int cmd_container_prune(Cli *cli, int argc, char **argv);
int cmd_container_cleanup(Cli *cli, int argc, char **argv);
int cmd_port(Cli *cli, int argc, char **argv);
int cmd_ps(Cli *cli, int argc, char **argv);
int cmd_container_inspect(Cli *cli, int argc, char **argv);
int cmd_logs(Cli *cli, int argc, char **argv);
int cmd_exec(Cli *cli, int argc, char **argv);
int cmd_attach(Cli *cli, int argc, char **argv);
/* attach's options (shared with remote mode): 0 to go on, -1 after --help, else the exit code. */
int cli_attach_args(Cli *cli, int argc, char **argv, const char **ret_keys, bool *ret_stdin,
                    bool *ret_sig_proxy);
int cmd_top(Cli *cli, int argc, char **argv);
int cmd_stats(Cli *cli, int argc, char **argv);
int cmd_mount(Cli *cli, int argc, char **argv);
int cmd_umount(Cli *cli, int argc, char **argv);
int cmd_export(Cli *cli, int argc, char **argv);
int cmd_commit(Cli *cli, int argc, char **argv);
int cmd_diff(Cli *cli, int argc, char **argv);
int cmd_cp(Cli *cli, int argc, char **argv);
int cmd_events(Cli *cli, int argc, char **argv);

/* Shared with remote mode (remote-containers.c): the local printers of top, stats and diff. */
#include "output.h"
int cli_print_top(char **header, size_t ncols, char ***rows, size_t nrows, char **descs, size_t ndescs);
extern const OutputColumn cli_stats_columns[];
int cli_stats_add(const ContainerStats *s, VlJson *rows, VlJson *items);
int cli_print_diff_json(char **paths, const char *kinds, size_t n);
/* `stats` with each round's rows printed by round(userdata, refs, n, out); NULL: the engine's. */
typedef int (*StatsRoundFn)(void *userdata, char **refs, size_t n, const Output *out);
int cli_stats_with(Cli *cli, int argc, char **argv, StatsRoundFn round, void *userdata);

/* cpod events with the event log's lines from source (remote mode; NULL: the local log). source passes
 * each line (the log's JSON) to line, in order, until line returns non-zero (past --until) or, when
 * !q->stream, the lines there are now are done; it prints its own errors and returns < 0 on failure. */
typedef struct EventsQuery {
        bool stream;
        int64_t since, until; /* ns, 0 unbounded */
} EventsQuery;
typedef int (*EventsLineFn)(const char *line, size_t len, void *userdata);
typedef int (*EventsSource)(Cli *cli, const EventsQuery *q, EventsLineFn line, void *userdata);
int cli_events(Cli *cli, int argc, char **argv, EventsSource source);
/* exec's flags into o (o->command: the arguments after the container, argv[optind]); 0, -1 after --help,
 * or an exit code (printed). o->env is owned (strv_free_n). */
int cli_parse_exec(Cli *cli, int argc, char **argv, ExecOptions *o, const char **keys);
