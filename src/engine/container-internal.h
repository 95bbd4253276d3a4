/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers shared by the container modules (container.c, container-inspect.c,
 * container-check.c, runtime.c, spec.c, attach.c, logs.c, exec.c,
 * container-fs.c, stats.c). Not a public API.
 *
 * Paths of a container (id is the 64-hex ID):
 *   <root>/containers/<id>/config.json      the OCI spec written at create
 *   <root>/containers/<id>/userdata/        hosts, resolv.conf, hostname
 *   <root>/containers/<id>/{upper,work}/    the overlay's writable part
 *   <root>/containers/<id>/ctr.log          k8s-file log (conmon writes it)
 *   <runroot>/containers/<id>/              the bundle given to conmon and the runtime
 *                                           (config.json there is a symlink to the one above)
 *   <runroot>/containers/<id>/merged/       the root filesystem while mounted
 *   <runroot>/containers/<id>/attach        conmon's attach socket (SOCK_SEQPACKET)
 *   <runroot>/containers/<id>/ctl, winsz    conmon's control fifos
 *   <runroot>/containers/<id>/exit/<id>     exit file (the decimal exit code)
 *   <runroot>/containers/<id>/{pidfile,conmon.pid}
 *   <runroot>/locks/<id>                    lock file (flock) for lifecycle changes
 *   <runroot>/locks/<id>.rm                 held by an attached `run --rm` until it removed the container
 *   <runroot>/runtime/                      the OCI runtime's own state (--root)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vl/json.h>

#include "container.h"
#include "image.h"

/* Take the container's lock (exclusive flock on <runroot>/locks/<id>);
 * *ret_fd is the lock, released by container_unlock (or close). */
int container_lock(Engine *e, const char *id, int *ret_fd, CpodError *err);
void container_unlock(int fd);

/* <runroot>/locks/<id>.rm (malloc'ed, NULL on allocation failure). An attached `run --rm` holds an
 * exclusive flock on it from before the container starts until it removed the container, so the
 * exit command waits for it instead of racing it for the container's lock (docs/design/containers.md). */
char *container_rm_lock_path(Engine *e, const char *id);

/* Remove a container whose lock is held and whose row is loaded: kill it when force (else a running
 * one fails with -EBUSY), delete the runtime's state, unmount, delete the row, the files and the
 * locks' files. */
int container_remove_locked(Engine *e, Container *c, bool force, bool volumes, CpodError *err);

/* Resolve a name, full ID or unique ID prefix to the full ID
 * (-ENOENT "no such container", -ENOTUNIQ for an ambiguous prefix). */
int container_resolve(Engine *e, const char *ref, char ret_id[65], CpodError *err);

/* Read a container's row as stored, without syncing its state with conmon
 * and the exit file (container_get does both). */
int container_load_row(Engine *e, const char *id, Container *ret, CpodError *err);

/* Bring the row's state in line with reality (conmon alive? exit file
 * written? runtime state) and store it when it changed. Call with the lock
 * held when the caller is going to act on the state. */
int container_sync(Engine *e, Container *c, CpodError *err);

/* The create options as stored (the "config" column): a JSON object with
 * the members of podman's inspect Config/HostConfig that cpod keeps
 * (Env, Cmd, Entrypoint, User, WorkingDir, Hostname, Tty, OpenStdin,
 * StopSignal, StopTimeout, Labels, Privileged, Init, ...). */
int container_load_config(Engine *e, const char *id, VlJson **ret, CpodError *err);

/* Paths (malloc'ed): <root>/containers/<id>[/name] and <runroot>/containers/<id>[/name];
 * name may be NULL. NULL on allocation failure. */
char *container_path(Engine *e, const char *id, const char *name);
char *container_run_path(Engine *e, const char *id, const char *name);

/* Mount / unmount the container's root filesystem at <runroot>/containers/<id>/merged
 * (overlay of the image's layers plus upper/work). Mounting an already mounted one is a no-op. */
int container_mount_rootfs(Engine *e, const Container *c, CpodError *err);
int container_unmount_rootfs(Engine *e, const char *id, CpodError *err);

/* The exit file: 1 with the code and its mtime (ns), 0 when not written yet. */
int container_read_exit(Engine *e, const char *id, int *ret_code, int64_t *ret_time);

/* Store the container's state columns (state, pid, conmon_pid, exit_code,
 * started_at, finished_at, restart_count) from c. */
int container_save_state(Engine *e, const Container *c, CpodError *err);

/* Check every container for leftovers (row without files, files without
 * row, a running state without conmon, stale mounts); repair when asked.
 * Findings are appended to report. For `cpod system check`. */
int container_check(Engine *e, bool repair, StoreReport *report, CpodError *err);

/* ---- runtime.c ---- */

/* The path of the OCI runtime ("crun", "runc" or a path; NULL means crun). */
int runtime_path(const char *runtime, char **ret, CpodError *err);

/* argv to run the container's OCI runtime with the given subcommand and
 * arguments: { "/usr/bin/crun", "--root", "<runroot>/runtime", args..., NULL }.
 * Free with ctr_strv_free. */
int runtime_exec_argv(Engine *e, const char *runtime, const char *const *args, size_t n_args,
                      char ***ret_argv, CpodError *err);

/* Run the runtime (as runtime_exec_argv builds it) and wait; its stderr
 * becomes the error message when it fails ("crun kill: <stderr>"). */
int runtime_run(Engine *e, const char *runtime, const char *const *args, size_t n_args, CpodError *err);

/* Where conmon is (malloc'ed). */
int runtime_conmon_path(char **ret, CpodError *err);

/* Spawn conmon for a container (create) or an exec session, with the sync
 * pipe: waits until the runtime created the process and returns its pid.
 * argv_extra is appended to the common arguments (e.g. "--exec",
 * "--exec-process-spec", PATH for exec). The common arguments are
 * --api-version 1 -c ID -u SESSION -r RUNTIME -b BUNDLE -p PIDFILE -n NAME
 * --exit-dir EXIT_DIR --socket-dir-path SOCKET_DIR --full-attach
 * [-l k8s-file:LOG] [-t] [-i] [--conmon-pidfile] [--exit-command ...].
 * An error message from the runtime (sent by conmon through the sync pipe)
 * fails with -ENOENT ("executable file not found"), -EACCES ("permission
 * denied") or -EIO, the runtime's message included. */
typedef struct ConmonOptions {
        const char *session;        /* -u: the container ID, or the exec session ID */
        const char *bundle;         /* -b */
        const char *pidfile;        /* -p */
        const char *conmon_pidfile; /* --conmon-pidfile, may be NULL */
        const char *log_path;       /* k8s-file path, NULL for none */
        const char *exit_dir;       /* --exit-dir */
        const char *socket_dir;     /* --socket-dir-path */
        bool tty, interactive;
        bool exit_command; /* pass `cpod ... container cleanup ID` as the exit command */
        const char *const *argv_extra;
        size_t n_argv_extra;
} ConmonOptions;
int runtime_conmon_spawn(Engine *e, const Container *c, const ConmonOptions *o, pid_t *ret_conmon_pid,
                         pid_t *ret_pid, CpodError *err);

/* A start whose cpod was killed after spawning conmon leaves the row "configured" (or "created") while
 * conmon goes on creating the container. Wait for that create to end (bounded), then make c "running"
 * when the start got that far, else delete what the runtime made and make c "configured" again. True
 * when c's state changed (not saved). Lock held. */
bool runtime_settle_start(Engine *e, Container *c);

/* Kill a running container with SIGKILL, wait for its exit, delete the runtime's state (lock held). */
int runtime_kill_and_delete(Engine *e, Container *c, CpodError *err);

/* Is the process alive (kill(pid, 0), zombies and pid 0 count as dead)? */
bool runtime_pid_alive(pid_t pid);

/* ---- attach.c ---- */

/* Connect to conmon's attach socket (SOCK_SEQPACKET) at path. */
int attach_connect(const char *path, int *ret_fd, CpodError *err);
/* Relay stdio through a connected attach socket until the container closes
 * it (exit) or the detach keys are typed (*ret_detached true). With tty, a
 * terminal in_fd is put in raw mode and its size sent to the winsz fifo
 * (winsz_path may be NULL). */
int attach_relay(int sock_fd, const ContainerStdio *stdio, bool tty, const char *winsz_path,
                 bool *ret_detached, CpodError *err);

/* ---- spec.c ---- */

/* The user of a process resolved in the container's root filesystem
 * ("uid[:gid]", "name[:group]"; names through rootfs/etc/passwd and
 * rootfs/etc/group). Missing files or names fail with a message for names,
 * numeric IDs always work. */
typedef struct SpecUser {
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char *home; /* from passwd, "/" when unknown */
} SpecUser;
int spec_resolve_user(const char *rootfs, const char *user, SpecUser *ret, CpodError *err);
/* The same with explicit passwd and group files (either may be NULL). */
int spec_resolve_user_files(const char *passwd, const char *group, const char *user, SpecUser *ret,
                            CpodError *err);
void spec_user_done(SpecUser *u);

/* Everything the OCI spec of a container depends on; spec_build is pure
 * apart from stat()ing bind mount sources and reading the seccomp file. */
typedef struct SpecInput {
        const ContainerCreateOptions *o;
        const char *id;
        const char *name;
        const VlJson *image_config;       /* the image config's "config" object, may be NULL */
        const char *rootfs;               /* root.path */
        const char *userdata;             /* directory holding hosts, resolv.conf, hostname */
        const char *hostname;             /* NULL: the first 12 characters of the ID */
        const SpecUser *user;             /* resolved; NULL for root */
        uint64_t nofile_hard, nproc_hard; /* the caller's hard limits (RLIM_INFINITY for none) */
        const char *seccomp_path;         /* the default profile; NULL or missing file: no seccomp */
        const char *init_path;            /* catatonit, used when o->init */
        const char *volumes_dir;          /* <root>/volumes */
        const char *netns_path;           /* join this network namespace (container:, ns:), or NULL */
        const char *arch;                 /* uname machine ("x86_64"); NULL: this machine's */
} SpecInput;
/* Build the OCI runtime spec. Errors name the option at fault. */
int spec_build(const SpecInput *in, VlJson **ret, CpodError *err);
/* The process arguments: entrypoint + cmd after the options' overrides. */
int spec_process_args(const ContainerCreateOptions *o, const VlJson *image_config, char ***ret,
                      size_t *ret_n, CpodError *err);
/* The process environment: PATH default, image Env, options, HOSTNAME, TERM. */
int spec_process_env(const ContainerCreateOptions *o, const VlJson *image_config, const char *hostname,
                     char ***ret, size_t *ret_n, CpodError *err);
/* Capability names ("CAP_CHOWN", ...) after privileged, --cap-add and --cap-drop (ALL allowed). */
int spec_capabilities(const ContainerCreateOptions *o, char ***ret, size_t *ret_n, CpodError *err);
/* Translate a containers-common seccomp profile for arch ("x86_64") and the
 * given capabilities into the OCI linux.seccomp object. */
int spec_seccomp_translate(const VlJson *profile, const char *arch, char *const *caps, size_t n_caps,
                           VlJson **ret, CpodError *err);

/* ---- seccomp-cache.c ---- */

/* For crun: when the spec's seccomp section was compiled before, add crun's compiled filter as the
 * run.oci.seccomp_bpf_data annotation and return 1. Else return 0 with ret_key set to the cache key
 * to store the filter under after the first start ("" when there is nothing to cache). */
int seccomp_cache_apply(Engine *e, const char *runtime, VlJson *spec, char ret_key[65]);
/* Store the filter crun compiled for container id (<runroot>/runtime/<id>/seccomp.bpf) under key. */
void seccomp_cache_store(Engine *e, const char *id, const char *key);

/* ---- small helpers ---- */

void ctr_strv_free(char **v);                           /* NULL-terminated; accepts NULL */
int ctr_strv_push(char ***v, size_t *n, const char *s); /* copies s, keeps the array NULL-terminated */
int64_t ctr_now_nsec(void);                             /* CLOCK_REALTIME in ns */
/* RFC 3339 with nanoseconds in UTC ("2024-01-02T03:04:05.123456789Z") into buf (>= 40 bytes). */
void ctr_format_rfc3339nano(int64_t ns, char *buf, size_t size);

/* ---- container.c, shared with container-inspect.c and container-check.c ---- */

/* Set err to "out of memory" and return -ENOMEM. */
int ctr_oom(CpodError *err);
/* Is path a mount point (its device differs from its parent's)? */
bool ctr_path_is_mount(const char *path);
/* Delete a container's directories under root and runroot and its lock files; always 0. */
int ctr_remove_files(Engine *e, const char *id);
/* A JSON array of the n strings (NULL on allocation failure). */
VlJson *ctr_strv_json(char *const *v, size_t n);
