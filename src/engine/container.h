/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Containers: creation (the OCI runtime spec is written by cpod), and the
 * lifecycle on an OCI runtime (crun by default, runc selectable) under
 * conmon. conmon keeps a container's stdio, its k8s-file log, its exit
 * code (exit file) and its attach socket while no cpod process runs; no
 * cpod process stays behind for a running container. conmon's exit command
 * (`cpod [global options] container cleanup ID`) unmounts the root
 * filesystem, applies --rm and the restart policy.
 *
 * Storage: <root>/containers/<id>/{config.json (the OCI spec), userdata/,
 * upper/, work/, ctr.log}, rows in the containers table; <runroot>/
 * containers/<id>/{merged/ (rootfs mount), attach (socket), ctl (fifo),
 * exit/ (exit files), conmon.pid, pidfile}; a lock file per container in
 * <runroot>/locks/<id> serializes lifecycle changes.
 *
 * State is computed, not trusted: a container marked running whose conmon
 * is gone and whose exit file exists is exited with that code
 * (container_sync).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vl/json.h>

#include "engine.h"

typedef enum ContainerState {
        CONTAINER_CONFIGURED, /* created in the database only */
        CONTAINER_CREATED,    /* runtime created it (crun create), not started */
        CONTAINER_RUNNING,
        CONTAINER_PAUSED,
        CONTAINER_STOPPED, /* stopped, may be restarted */
        CONTAINER_EXITED,
        CONTAINER_REMOVING,
        CONTAINER_UNKNOWN,
} ContainerState;

/* "configured", "created", "running", … (podman's names). */
const char *container_state_name(ContainerState s);

typedef struct ContainerMount {
        char *type;        /* "bind", "tmpfs", "volume" */
        char *source;      /* host path, volume name, or NULL for tmpfs */
        char *destination; /* path in the container */
        char **options;    /* "ro", "rw", "nosuid", "size=64m", "z", "U", ... */
        size_t n_options;
} ContainerMount;

typedef struct ContainerCreateOptions {
        const char *image; /* reference, resolved with image_get */
        const char *name;  /* NULL: a generated "adjective_noun" name */
        char **command;    /* overrides the image's Cmd when n_command > 0 */
        size_t n_command;
        char **entrypoint; /* overrides the image's Entrypoint when entrypoint_set */
        size_t n_entrypoint;
        bool entrypoint_set;
        char **env; /* "K=V", applied over the image's Env */
        size_t n_env;
        char **labels; /* "K=V" */
        size_t n_labels;
        const char *user; /* "uid[:gid]" or "name[:group]" resolved in the image's /etc/passwd */
        const char *workdir;
        const char *hostname;
        bool privileged, read_only, tty, interactive, init, rm;
        char **cap_add, **cap_drop;
        size_t n_cap_add, n_cap_drop;
        char **security_opt; /* "seccomp=unconfined", "seccomp=PATH", "no-new-privileges", "label=disable" */
        size_t n_security_opt;
        int64_t memory;     /* bytes, 0 = unlimited */
        double cpus;        /* 0 = unlimited */
        int64_t pids_limit; /* 0 = default (2048, podman's), -1 = unlimited */
        char **ulimits;     /* "nofile=1024:2048" */
        size_t n_ulimits;
        ContainerMount *mounts; /* from -v, --mount and --tmpfs (the CLI parses them) */
        size_t n_mounts;
        const char *restart; /* "no", "on-failure[:N]", "always", "unless-stopped" */
        const char *network; /* "none", "host", "bridge", network names ("a,b"), "container:ID", "ns:PATH";
                              * NULL: "bridge" when ports are published, else "none" */
        const char *runtime; /* "crun" (default), "runc", or a path */
        const char *log_driver;  /* "k8s-file" (default), "none" */
        const char *stop_signal; /* default from the image, else SIGTERM */
        int stop_timeout;        /* seconds, default 10 */
        const char *detach_keys; /* default "ctrl-p,ctrl-q" */
        const char *pod;         /* join this pod (name or ID), or "new:NAME" to create it first */
        /* bridge networks (network.h) */
        char **publish; /* -p "[host_ip:][host_port:]container_port[/proto]" */
        size_t n_publish;
        bool publish_all; /* -P: the image's exposed ports on random host ports */
        char **dns;       /* --dns servers */
        size_t n_dns;
        char **add_hosts; /* --add-host "name:ip" */
        size_t n_add_hosts;
        char **network_aliases; /* --network-alias */
        size_t n_network_aliases;
        const char *ip, *mac_address; /* --ip, --mac-address */
} ContainerCreateOptions;

typedef struct Container {
        char id[65];
        char *name;
        char image_id[65];
        char *image_name; /* as given at create, normalized */
        char **command;   /* the process args (entrypoint + cmd) */
        size_t n_command;
        int64_t created;                 /* unix seconds */
        int64_t started_at, finished_at; /* unix nanoseconds, 0 if never */
        ContainerState state;
        int exit_code; /* valid when exited/stopped */
        pid_t pid, conmon_pid;
        bool tty, interactive, rm;
        char *runtime;
        char **labels; /* "K=V" */
        size_t n_labels;
        char *pod_id; /* NULL when not in a pod */
        int restart_count;
        char *spec_path; /* <root>/containers/<id>/config.json */
} Container;

void container_done(Container *c);
void container_array_free(Container *c, size_t n);

int container_create(Engine *e, const ContainerCreateOptions *o, char ret_id[65], CpodError *err);
/* Resolve a name, ID or unique ID prefix; syncs state. -ENOENT "no such container". */
int container_get(Engine *e, const char *ref, Container *ret, CpodError *err);
/* All containers (running only unless all), newest first, states synced. */
int container_list(Engine *e, bool all, Container **ret, size_t *ret_n, CpodError *err);
/* podman's container inspect document. */
int container_inspect(Engine *e, const char *ref, VlJson **ret, CpodError *err);

/* Start: mount the rootfs, run conmon (which runs `<runtime> create`), then
 * `<runtime> start`. For attach, pass stdio fds: the call returns after the
 * container exits, with the exit code in *ret_exit_code, forwarding stdin,
 * stdout and stderr through conmon's attach socket (a tty is put in raw
 * mode and resized). Without attach it returns once the container runs. */
typedef struct ContainerStdio {
        int in_fd, out_fd, err_fd; /* -1 for none */
        const char *detach_keys;
        /* container_start of a --rm container: where to hand the lock that keeps its exit command
         * waiting while this process removes it, instead of closing it at once. A CLI process keeps it
         * until it exits, after closing the store, so the exit command closes the store last and the
         * checkpoint SQLite runs at the last close is not on the command's path. NULL: closed. */
        int *keep_rm_lock;
} ContainerStdio;
int container_start(Engine *e, const char *ref, const ContainerStdio *attach, int *ret_exit_code,
                    CpodError *err);
/* Attach to a running container (`cpod attach`); returns 0 when the
 * container exits (with its code) or when the user detaches with the detach
 * keys (*ret_detached true). */
int container_attach(Engine *e, const char *ref, const ContainerStdio *stdio, int *ret_exit_code,
                     bool *ret_detached, CpodError *err);

/* Send the stop signal, wait timeout seconds, then SIGKILL. Stopping a
 * stopped container is not an error (podman prints its ID). */
int container_stop(Engine *e, const char *ref, int timeout, CpodError *err);
int container_kill(Engine *e, const char *ref, int signo, CpodError *err);
int container_restart(Engine *e, const char *ref, int timeout, CpodError *err);
int container_pause(Engine *e, const char *ref, CpodError *err);
int container_unpause(Engine *e, const char *ref, CpodError *err);
/* Remove; a running container needs force (then it is killed first).
 * volumes: remove anonymous volumes too. */
int container_remove(Engine *e, const char *ref, bool force, bool volumes, CpodError *err);
int container_prune(Engine *e, char ***ret_ids, size_t *ret_n, CpodError *err);
int container_rename(Engine *e, const char *ref, const char *new_name, CpodError *err);

/* Wait for a condition ("stopped" (default: exited or stopped), "exited",
 * "running", "paused", "removed"…) and return the exit code. */
int container_wait(Engine *e, const char *ref, const char *condition, int *ret_exit_code, CpodError *err);

/* Called by conmon's exit command: record the exit code, unmount, apply
 * --rm and the restart policy. */
int container_cleanup(Engine *e, const char *ref, CpodError *err);
/* The exit command's first step, before it opens the store: wait while an attached `run --rm` holds
 * the container's <id>.rm lock (it removes the container, then exits); true when the container (a
 * full ID) is gone then and container_cleanup has nothing to do. */
bool container_cleanup_wait(const char *runroot, const char *id);

typedef struct LogOptions {
        bool follow, timestamps;
        int64_t since, until; /* unix nanoseconds, 0 = unbounded */
        int64_t tail;         /* lines, -1 = all */
} LogOptions;
/* One line of a k8s-file log: time (ns), stream ("stdout"/"stderr"),
 * partial flag, message without newline. Return < 0 to stop. */
typedef int (*LogLineFn)(int64_t time_ns, const char *stream, bool partial, const char *msg, size_t len,
                         void *userdata);
int container_logs(Engine *e, const char *ref, const LogOptions *o, LogLineFn fn, void *userdata,
                   CpodError *err);

typedef struct ExecOptions {
        char **command;
        size_t n_command;
        char **env;
        size_t n_env;
        const char *user, *workdir;
        bool tty, interactive, detach, privileged;
} ExecOptions;
/* Run a command in a running container; *ret_exit_code is its exit code. On failure
 * *ret_exit_code is still set to what podman exits with: 127 when the command is not
 * found (-ENOENT), 126 when it cannot run (-EACCES), else 125. detach returns once it
 * runs; tty relays stdio through a terminal (in raw mode when in_fd is one). */
int container_exec(Engine *e, const char *ref, const ExecOptions *o, const ContainerStdio *stdio,
                   int *ret_exit_code, CpodError *err);

/* ps-style process table of the container (`top`): rows of columns. */
int container_top(Engine *e, const char *ref, char ***ret_header, size_t *ret_ncols, char ****ret_rows,
                  size_t *ret_nrows, CpodError *err);

typedef struct ContainerStats {
        char id[65];
        char *name;
        double cpu_percent;
        uint64_t cpu_nano, mem_usage, mem_limit, net_in, net_out, block_in, block_out, pids;
} ContainerStats;
int container_stats(Engine *e, const char *ref, ContainerStats *ret, CpodError *err);

/* The root filesystem: mount (counted) and unmount. */
int container_mount(Engine *e, const char *ref, char **ret_path, CpodError *err);
int container_unmount(Engine *e, const char *ref, bool force, CpodError *err);
/* Export the root filesystem as a tar to path ("-" stdout). */
int container_export(Engine *e, const char *ref, const char *path, CpodError *err);
/* Changes against the image: 'A' added, 'C' changed, 'D' deleted. */
int container_diff(Engine *e, const char *ref, char ***ret_paths, char **ret_kinds, size_t *ret_n,
                   CpodError *err);
/* Commit the container's changes as a new image (a layer on top of its image). */
typedef struct CommitOptions {
        const char *name, *message, *author;
        char **changes;
        size_t n_changes;
        bool pause; /* pause the container while committing (default true) */
} CommitOptions;
int container_commit(Engine *e, const char *ref, const CommitOptions *o, char ret_image_id[65],
                     CpodError *err);
/* Copy into (to_container) or out of a container, with archive semantics
 * (like `docker cp`): src/dst paths on each side. */
int container_copy(Engine *e, const char *ref, bool to_container, const char *src, const char *dst,
                   CpodError *err);
/* The same rules between two host paths, owners kept (remote cp stages through a directory). */
int container_copy_host(const char *src, const char *dst, CpodError *err);

/* Events: an append-only JSON-lines log in <runroot>/events/events.log. */
int events_write(Engine *e, const char *type, const char *status, const char *id, const char *name,
                 const char *image, CpodError *err);
