/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OCI runtime and conmon: spawning them, the sync pipe, and the
 * lifecycle operations built on them (start, stop, kill, pause, wait,
 * cleanup). No shell, no mount binaries: one conmon per container, one
 * runtime process per operation.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "network.h"
#include "pod.h"
#include "util.h"
#include "volume.h"

extern char **environ;

#define RUNTIME_STDERR_MAX 4000

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

static int find_in_path(const char *name, char **ret) {
        const char *path = getenv("PATH");
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return -errno;
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        static const char *const fallback[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin",
                                               "/usr/libexec/podman", "/usr/lib/cri-o-runc/sbin"};
        _cleanup_free_ char *copy = strdup(path ? path : "");
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (asprintf(ret, "%s/%s", d, name) < 0)
                        return -ENOMEM;
                if (access(*ret, X_OK) == 0)
                        return 0;
                free(*ret);
        }
        for (size_t i = 0; i < ELEMENTSOF(fallback); i++) {
                if (asprintf(ret, "%s/%s", fallback[i], name) < 0)
                        return -ENOMEM;
                if (access(*ret, X_OK) == 0)
                        return 0;
                free(*ret);
        }
        *ret = NULL;
        return -ENOENT;
}

int runtime_path(const char *runtime, char **ret, CpodError *err) {
        const char *name = runtime && *runtime ? runtime : "crun";
        int r = find_in_path(name, ret);
        if (r < 0)
                return cpod_error_errno(err, -r, "OCI runtime `%s` not found", name);
        return 0;
}

int runtime_conmon_path(char **ret, CpodError *err) {
        int r = find_in_path("conmon", ret);
        return r < 0 ? cpod_error_errno(err, -r, "conmon not found") : 0;
}

int runtime_exec_argv(Engine *e, const char *runtime, const char *const *args, size_t n_args,
                      char ***ret_argv, CpodError *err) {
        _cleanup_free_ char *path = NULL, *root = NULL;
        char **v = NULL;
        size_t n = 0;
        int r = runtime_path(runtime, &path, err);
        if (r < 0)
                return r;
        if (asprintf(&root, "%s/runtime", e->runroot) < 0)
                return oom(err);
        r = ctr_strv_push(&v, &n, path);
        r = r < 0 ? r : ctr_strv_push(&v, &n, "--root");
        r = r < 0 ? r : ctr_strv_push(&v, &n, root);
        for (size_t i = 0; r >= 0 && i < n_args; i++)
                r = ctr_strv_push(&v, &n, args[i]);
        if (r < 0) {
                ctr_strv_free(v);
                return oom(err);
        }
        *ret_argv = v;
        return 0;
}

/* The first line-ish of what a runtime printed, without its "crun: " noise. */
static void trim_message(char *s) {
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = 0;
}

int runtime_run(Engine *e, const char *runtime, const char *const *args, size_t n_args, CpodError *err) {
        char **argv = NULL, buf[RUNTIME_STDERR_MAX + 1];
        int p[2], status = 0, r;
        size_t len = 0;
        pid_t pid;
        posix_spawn_file_actions_t fa;

        r = runtime_exec_argv(e, runtime, args, n_args, &argv, err);
        if (r < 0)
                return r;
        if (pipe2(p, O_CLOEXEC) < 0) {
                ctr_strv_free(argv);
                return cpod_error_errno(err, errno, "pipe");
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], 2);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (r != 0) {
                close(p[0]);
                r = cpod_error_errno(err, r, "run `%s`", argv[0]);
                ctr_strv_free(argv);
                return r;
        }
        for (ssize_t k; (k = read(p[0], buf + len, RUNTIME_STDERR_MAX - len)) != 0;) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break;
                len += (size_t)k;
                if (len == RUNTIME_STDERR_MAX) { /* drain the rest */
                        char junk[512];
                        while (read(p[0], junk, sizeof junk) > 0)
                                ;
                        break;
                }
        }
        close(p[0]);
        buf[len] = 0;
        trim_message(buf);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        r = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                r = cpod_error(err, EIO, "%s %s: %s", runtime ? runtime : "crun", n_args ? args[0] : "",
                               len ? buf : "failed");
        ctr_strv_free(argv);
        return r;
}

bool runtime_pid_alive(pid_t pid) {
        char path[64], buf[512];
        if (pid <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        const char *s = strrchr(buf, ')');
        return s && s[1] == ' ' && s[2] != 'Z' && s[2] != 'X';
}

/* The cpod binary conmon runs as exit command: $CPOD_BINARY, else this program when it is cpod. */
static char *cpod_binary(void) {
        const char *env = getenv("CPOD_BINARY");
        char buf[4200];
        if (env && *env)
                return strdup(env);
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        const char *base = strrchr(buf, '/');
        return base && streq(base + 1, "cpod") ? strdup(buf) : NULL;
}

static int conmon_argv(Engine *e, const Container *c, const ConmonOptions *o, char ***ret, CpodError *err) {
        _cleanup_free_ char *conmon = NULL, *rt = NULL, *rtroot = NULL, *log = NULL, *self = cpod_binary();
        char **v = NULL;
        size_t n = 0;
        int r = runtime_conmon_path(&conmon, err);
        if (r < 0)
                return r;
        r = runtime_path(c->runtime, &rt, err);
        if (r < 0)
                return r;
        if (asprintf(&rtroot, "%s/runtime", e->runroot) < 0 ||
            asprintf(&log, "k8s-file:%s", o->log_path ? o->log_path : "/dev/null") < 0)
                return oom(err);
        const char *fixed[] = {conmon,
                               "--api-version",
                               "1",
                               "-c",
                               c->id,
                               "-u",
                               o->session,
                               "-r",
                               rt,
                               "-b",
                               o->bundle,
                               "-p",
                               o->pidfile,
                               "-n",
                               c->name,
                               "--exit-dir",
                               o->exit_dir,
                               "--socket-dir-path",
                               o->socket_dir,
                               "--full-attach",
                               "-l",
                               log,
                               "--log-level",
                               "error",
                               "--no-sync-log",
                               "--runtime-arg",
                               "--root",
                               "--runtime-arg",
                               rtroot};
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fixed); i++)
                r = ctr_strv_push(&v, &n, fixed[i]);
        if (r >= 0 && o->tty)
                r = ctr_strv_push(&v, &n, "-t");
        if (r >= 0 && o->interactive)
                r = ctr_strv_push(&v, &n, "-i");
        if (r >= 0 && o->conmon_pidfile) {
                r = ctr_strv_push(&v, &n, "--conmon-pidfile");
                r = r < 0 ? r : ctr_strv_push(&v, &n, o->conmon_pidfile);
        }
        if (r >= 0 && o->exit_command && self) {
                const char *ec[] = {"--root",    e->root,   "--runroot", e->runroot,
                                    "container", "cleanup", c->id};
                r = ctr_strv_push(&v, &n, "--exit-command");
                r = r < 0 ? r : ctr_strv_push(&v, &n, self);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(ec); i++) {
                        r = ctr_strv_push(&v, &n, "--exit-command-arg");
                        r = r < 0 ? r : ctr_strv_push(&v, &n, ec[i]);
                }
        }
        for (size_t i = 0; r >= 0 && i < o->n_argv_extra; i++)
                r = ctr_strv_push(&v, &n, o->argv_extra[i]);
        if (r < 0) {
                ctr_strv_free(v);
                return oom(err);
        }
        *ret = v;
        return 0;
}

/* Read conmon's {"data": N, "message": "..."} from the sync pipe. */
static int sync_read(int fd, int64_t *ret_data, char *msg, size_t msg_size) {
        char buf[8192];
        size_t len = 0;
        *msg = 0;
        for (;;) {
                ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EPIPE;
                len += (size_t)k;
                buf[len] = 0;
                _cleanup_(vl_json_unrefp) VlJson *j = NULL;
                char *nl = memchr(buf, '\n', len);
                if (vl_json_parse(buf, nl ? (size_t)(nl - buf) : len, NULL, &j, NULL) == 0) {
                        *ret_data = vl_json_get_int(vl_json_object_get(j, "data"));
                        snprintf(msg, msg_size, "%s",
                                 vl_json_get_string(vl_json_object_get(j, "message")) ?: "");
                        return 0;
                }
                if (len == sizeof buf - 1)
                        return -EBADMSG;
        }
}

static int runtime_error(const char *msg, CpodError *err) {
        char m[900];
        snprintf(m, sizeof m, "%s", msg);
        trim_message(m);
        if (strstr(m, "executable file not found") || strstr(m, "No such file or directory"))
                return cpod_error(err, ENOENT, "%s", m);
        if (strstr(m, "ermission denied"))
                return cpod_error(err, EACCES, "%s", m);
        return cpod_error(err, EIO, "%s", *m ? m : "the OCI runtime failed");
}

int runtime_conmon_spawn(Engine *e, const Container *c, const ConmonOptions *o, pid_t *ret_conmon_pid,
                         pid_t *ret_pid, CpodError *err) {
        char **argv = NULL, msg[1024];
        int p[2], r, status;
        pid_t pid;
        int64_t data = -1;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;

        r = conmon_argv(e, c, o, &argv, err);
        if (r < 0)
                return r;
        if (pipe2(p, O_CLOEXEC) < 0) {
                ctr_strv_free(argv);
                return cpod_error_errno(err, errno, "pipe");
        }
        /* dup2 onto 3 clears O_CLOEXEC only when the numbers differ */
        int w = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
        close(p[1]);
        size_t n_env = 0;
        while (environ[n_env])
                n_env++;
        char **envp = calloc(n_env + 2, sizeof(char *));
        if (!envp || w < 0) {
                close(p[0]);
                safe_close(w);
                free(envp);
                ctr_strv_free(argv);
                return oom(err);
        }
        size_t k = 0;
        for (size_t i = 0; i < n_env; i++)
                if (!startswith(environ[i], "_OCI_") && !startswith(environ[i], "NOTIFY_SOCKET=") &&
                    !startswith(environ[i], "LISTEN_"))
                        envp[k++] = environ[i];
        envp[k++] = (char *)"_OCI_SYNCPIPE=3";
        envp[k] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, w, 3);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        r = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(w);
        free(envp);
        if (r != 0) {
                close(p[0]);
                r = cpod_error_errno(err, r, "run `%s`", argv[0]);
                ctr_strv_free(argv);
                return r;
        }
        ctr_strv_free(argv);
        r = sync_read(p[0], &data, msg, sizeof msg);
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return cpod_error(err, EIO, "conmon failed before reporting the container's pid");
        if (data < 0)
                return runtime_error(msg, err);
        *ret_pid = (pid_t)data;
        *ret_conmon_pid = 0;
        if (o->conmon_pidfile) {
                char buf[32];
                _cleanup_close_ int fd = open(o->conmon_pidfile, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (n > 0) {
                        buf[n] = 0;
                        *ret_conmon_pid = (pid_t)atoi(buf);
                }
        }
        return 0;
}

/* ---- waiting for the exit file ---- */

/* Wait up to timeout_ms (-1: forever) for the exit file; 1 when it is there, 0 on timeout. Also returns
 * 1 when conmon is gone (the caller's sync decides). The file is usually there already when an attached
 * run sees its stream end: look first, as closing an inotify instance waits for an RCU grace period
 * (5-7 ms here). */
static int wait_exit_file(Engine *e, const Container *c, int timeout_ms) {
        int code;
        int64_t when;
        if (container_read_exit(e, c->id, &code, &when) > 0)
                return 1;
        /* no wait: closing an inotify instance waits for an RCU grace period (5-13 ms), not worth it */
        if (timeout_ms == 0)
                return c->conmon_pid > 0 && !runtime_pid_alive(c->conmon_pid) ? 1 : 0;
        _cleanup_free_ char *dir = container_run_path(e, c->id, "exit");
        _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (dir && ifd >= 0)
                (void)inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
        for (;;) {
                if (container_read_exit(e, c->id, &code, &when) > 0)
                        return 1;
                if (c->conmon_pid > 0 && !runtime_pid_alive(c->conmon_pid))
                        return container_read_exit(e, c->id, &code, &when) > 0 ? 1 : 1;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
                if (timeout_ms >= 0 && elapsed >= timeout_ms)
                        return 0;
                long left = timeout_ms < 0 ? 250 : MIN(250, timeout_ms - elapsed);
                struct pollfd pfd = {.fd = ifd, .events = POLLIN};
                if (ifd >= 0 && poll(&pfd, 1, (int)left) > 0) {
                        char buf[4096];
                        while (read(ifd, buf, sizeof buf) > 0)
                                ;
                } else if (ifd < 0) {
                        struct timespec ts = {0, 5000000};
                        nanosleep(&ts, NULL);
                }
        }
}

/* ---- start ---- */

static int prepare_run_dir(Engine *e, const Container *c, CpodError *err) {
        _cleanup_free_ char *dir = container_run_path(e, c->id, NULL), *base = NULL, *spec = NULL;
        char p[4200];
        static const char *const stale[] = {"attach", "ctl", "winsz", "pidfile", "conmon.pid", "oom"};
        if (!dir || asprintf(&base, "%s/containers", e->runroot) < 0)
                return oom(err);
        (void)mkdir(base, 0700);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s`", dir);
        snprintf(p, sizeof p, "%s/exit", dir);
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s`", p);
        snprintf(p, sizeof p, "%s/exit/%s", dir, c->id);
        (void)unlink(p);
        for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
                snprintf(p, sizeof p, "%s/%s", dir, stale[i]);
                (void)unlink(p);
        }
        snprintf(p, sizeof p, "%s/config.json", dir);
        (void)unlink(p);
        if (symlink(c->spec_path, p) < 0)
                return cpod_error_errno(err, errno, "link `%s`", p);
        return 0;
}

static int runtime_simple(Engine *e, const Container *c, const char *cmd, const char *arg, CpodError *err) {
        const char *args[] = {cmd, c->id, arg};
        if (arg) {
                args[1] = arg;
                args[2] = c->id;
        }
        return runtime_run(e, c->runtime, args, arg ? 3 : 2, err);
}

/* ---- deleting the runtime's state ---- */

static bool runtime_is_crun(const Container *c) {
        const char *rt = c->runtime && *c->runtime ? c->runtime : "crun";
        const char *base = strrchr(rt, '/');
        return streq(base ? base + 1 : rt, "crun");
}

/* rmdir a container's cgroup (relative path, as crun's status names it) in every hierarchy: the
 * unified one, or each v1 controller mount (cpu and cpuacct may be one mount under two names). */
static int cgroup_remove(const char *path) {
        char p[4200];
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
                snprintf(p, sizeof p, "/sys/fs/cgroup/%s", path);
                return rmdir(p) < 0 && errno != ENOENT ? -errno : 0;
        }
        DIR *d = opendir("/sys/fs/cgroup");
        struct dirent *de;
        int r = d ? 0 : -errno;
        while (r >= 0 && d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s", de->d_name, path);
                if (rmdir(p) < 0 && errno != ENOENT && errno != ENOTDIR)
                        r = -errno;
        }
        if (d)
                closedir(d);
        return r;
}

/* What `crun delete` does for a container that has exited, without a runtime process: crun keeps
 * the state in <runroot>/runtime/<id> (status, config.json, seccomp.bpf, exec.fifo) and the
 * container's cgroup; cpod's specs have no hooks to run. Anything unexpected (a live pid, a systemd
 * cgroup, a busy cgroup, an unreadable status) fails, and the caller asks the runtime instead. */
static int crun_delete_exited(Engine *e, const Container *c) {
        char dir[4200], p[4300], buf[8192];
        snprintf(dir, sizeof dir, "%s/runtime/%s", e->runroot, c->id);
        snprintf(p, sizeof p, "%s/status", dir);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT && access(dir, F_OK) < 0 ? 0 : -EIO; /* nothing to delete */
        ssize_t n = read(fd, buf, sizeof buf - 1);
        _cleanup_(vl_json_unrefp) VlJson *st = NULL;
        if (n <= 0 || n == sizeof buf - 1 || vl_json_parse(buf, (size_t)n, NULL, &st, NULL) < 0)
                return -EIO;
        const char *cg = vl_json_get_string(vl_json_object_get(st, "cgroup-path"));
        if (runtime_pid_alive((pid_t)vl_json_get_int(vl_json_object_get(st, "pid"))) ||
            vl_json_get_bool(vl_json_object_get(st, "systemd-cgroup")))
                return -EBUSY;
        if (cg && *cg && (strstr(cg, "..") || cgroup_remove(cg) < 0))
                return -EBUSY;
        _cleanup_close_ int dfd = -1;
        snprintf(p, sizeof p, "%s/runtime", e->runroot);
        dfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0 ? -errno : layer_rm_rf_at(dfd, c->id);
}

static bool runtime_state_exists(Engine *e, const Container *c) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/runtime/%s", e->runroot, c->id);
        return access(dir, F_OK) == 0;
}

/* Delete the runtime's state of a container that is not running (lock held). */
static void runtime_delete(Engine *e, const Container *c) {
        if (runtime_is_crun(c) && !runtime_pid_alive(c->pid) && crun_delete_exited(e, c) >= 0)
                return;
        (void)runtime_simple(e, c, "delete", "--force", NULL);
}

/* What `crun start` does for cpod's containers, without a runtime process (~5-8 ms of exec, dynamic
 * linking and crun's re-exec of a sealed copy of itself): the container's init waits at the end of
 * `crun create` reading <state>/exec.fifo; start opens the fifo for writing, unlinks it (crun reports
 * "created" while it exists, "running" after) and writes one byte. The rest of crun's start is for
 * poststart hooks and sd_notify, which cpod's specs do not use. Any surprise (no fifo, no reader:
 * the init is gone) fails before anything changed, and the caller runs `crun start`, which reports
 * the error. */
static int crun_start_direct(Engine *e, const Container *c) {
        char p[4300];
        struct stat st;
        snprintf(p, sizeof p, "%s/runtime/%s/exec.fifo", e->runroot, c->id);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
                return -EIO;
        if (unlink(p) < 0)
                return -errno;
        /* the init can die between the open and the write: no SIGPIPE for a library's caller */
        const char zero = 0; /* what crun writes */
        sigset_t pipe_set, old;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        ssize_t n;
        do
                n = write(fd, &zero, 1);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EPIPE && !sigismember(&old, SIGPIPE)) {
                struct timespec now = {0, 0};
                (void)sigtimedwait(&pipe_set, NULL, &now);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return n == 1 ? 0 : -EIO;
}

static int runtime_start(Engine *e, const Container *c, CpodError *err) {
        if (runtime_is_crun(c) && crun_start_direct(e, c) >= 0)
                return 0;
        return runtime_simple(e, c, "start", NULL, err);
}

/* After the first create of a container whose seccomp filter is not cached yet (create left the key
 * in <root>/containers/<id>/seccomp.key), store the filter the runtime compiled. */
static void seccomp_cache_fill(Engine *e, const Container *c) {
        _cleanup_free_ char *path = container_path(e, c->id, "seccomp.key");
        char key[80];
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        ssize_t n = fd >= 0 ? read(fd, key, sizeof key - 1) : -1;
        if (n != 64)
                return;
        key[n] = 0;
        seccomp_cache_store(e, c->id, key);
        (void)unlink(path);
}

/* The state after a start and the cleared stop flag and error, in one transaction (one commit). */
static int save_started(Engine *e, const Container *c, CpodError *err) {
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = db_run(e->db, "UPDATE containers SET stopped_by_user = 0, error = NULL WHERE id = ?1",
                   DB_PARAMS(c->id), err);
        if (r >= 0)
                r = container_save_state(e, c, err);
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        return db_commit(e->db, err);
}

/* conmon runs `<runtime> create`; we run `<runtime> start`. With attach_fd, connect to the attach socket
 * in between so no output is lost. Called with the lock held. */
static int start_locked(Engine *e, Container *c, int *ret_attach_fd, CpodError *err) {
        _cleanup_free_ char *bundle = container_run_path(e, c->id, NULL), *pidfile = NULL, *cpidfile = NULL,
                            *exit_dir = NULL, *log = NULL, *sock = NULL;
        int r = prepare_run_dir(e, c, err);
        if (r >= 0 && c->pod_id) /* join the pod's namespaces, starting its infra container first */
                r = pod_member_prepare(e, c, err);
        if (r < 0)
                return r;
        pidfile = container_run_path(e, c->id, "pidfile");
        cpidfile = container_run_path(e, c->id, "conmon.pid");
        exit_dir = container_run_path(e, c->id, "exit");
        log = container_path(e, c->id, "ctr.log");
        sock = container_run_path(e, c->id, "attach");
        if (!bundle || !pidfile || !cpidfile || !exit_dir || !log || !sock)
                return oom(err);
        char state_dir[4200];
        snprintf(state_dir, sizeof state_dir, "%s/runtime/%s", e->runroot, c->id);
        if (access(state_dir, F_OK) == 0) /* a leftover from a previous run */
                runtime_delete(e, c);
        /* bridge networks: the namespace the spec joins, configured by netavark while the root file
         * system is mounted and the runtime creates the container */
        NetPending *net = NULL;
        r = net_container_setup_begin(e, c->id, c->name, NULL, &net, err);
        if (r >= 0)
                r = container_mount_rootfs(e, c, err);
        if (r >= 0)
                r = volume_container_mount(e, c->id, err);
        if (r < 0) {
                (void)net_container_setup_finish(e, net, NULL);
                (void)net_container_teardown(e, c->id, NULL);
                return r;
        }
        ConmonOptions o = {.session = c->id,
                           .bundle = bundle,
                           .pidfile = pidfile,
                           .conmon_pidfile = cpidfile,
                           .log_path = log,
                           .exit_dir = exit_dir,
                           .socket_dir = bundle,
                           .tty = c->tty,
                           .interactive = c->interactive,
                           .exit_command = true};
        r = runtime_conmon_spawn(e, c, &o, &c->conmon_pid, &c->pid, err);
        if (r >= 0)
                seccomp_cache_fill(e, c);
        if (r >= 0 && ret_attach_fd)
                r = attach_connect(sock, ret_attach_fd, err);
        if (r >= 0) /* the network is ready before the container's process runs */
                r = net_container_setup_finish(e, TAKE_PTR(net), err);
        if (r >= 0)
                r = runtime_start(e, c, err);
        if (r < 0) {
                CpodError ignored = {};
                (void)net_container_setup_finish(e, TAKE_PTR(net), &ignored);
                if (c->pid > 0)
                        (void)runtime_simple(e, c, "delete", "--force", &ignored);
                if (c->conmon_pid > 0)
                        (void)kill(c->conmon_pid, SIGKILL);
                (void)container_unmount_rootfs(e, c->id, &ignored);
                (void)net_container_teardown(e, c->id, &ignored);
                if (ret_attach_fd)
                        *ret_attach_fd = safe_close(*ret_attach_fd);
                return r;
        }
        c->state = CONTAINER_RUNNING;
        c->started_at = ctr_now_nsec();
        c->finished_at = 0;
        c->exit_code = 0;
        r = save_started(e, c, err);
        (void)events_write(e, "container", "start", c->id, c->name, c->image_name, NULL);
        return r < 0 ? r : 0;
}

/* ---- a start whose cpod was killed ---- */

static void sleep_ms(long ms) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
}

/* /proc/<pid>/cmdline into buf (NUL-separated arguments, NUL-terminated); its length, 0 when unreadable. */
static size_t proc_cmdline(pid_t pid, char *buf, size_t size) {
        char path[64];
        size_t len = 0;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        for (ssize_t k; fd >= 0 && len < size - 1 && (k = read(fd, buf + len, size - 1 - len)) > 0;)
                len += (size_t)k;
        buf[len] = 0;
        return len;
}

/* Does the argument list (len bytes) hold `opt value`, or opt alone when value is NULL? */
static bool argv_has(const char *argv, size_t len, const char *opt, const char *value) {
        for (const char *a = argv; a < argv + len; a += strlen(a) + 1) {
                const char *v = a + strlen(a) + 1;
                if (streq(a, opt) && (!value || (v < argv + len && streq(v, value))))
                        return true;
        }
        return false;
}

static const char *base_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* The conmon that runs container c's start (`-c ID -b BUNDLE`, not an exec session), found in /proc: a
 * cpod killed before conmon wrote conmon.pid left no other trace of it. 0 when there is none. */
static pid_t conmon_find(Engine *e, const Container *c) {
        _cleanup_free_ char *bundle = container_run_path(e, c->id, NULL), *buf = malloc(65536);
        DIR *d = bundle && buf ? opendir("/proc") : NULL;
        struct dirent *de;
        pid_t found = 0;
        while (d && !found && (de = readdir(d))) {
                pid_t pid = (pid_t)atoi(de->d_name);
                size_t len = pid > 0 ? proc_cmdline(pid, buf, 65536) : 0;
                if (len > 0 && streq(base_name(buf), "conmon") && argv_has(buf, len, "-c", c->id) &&
                    argv_has(buf, len, "-b", bundle) && !argv_has(buf, len, "-e", NULL) &&
                    !argv_has(buf, len, "--exec", NULL) && runtime_pid_alive(pid))
                        found = pid;
        }
        if (d)
                closedir(d);
        return found;
}

/* Is conmon past the runtime's create without a container: running its exit command (a child with
 * `cleanup ID`), because the create failed or nobody read its report? That exit command waits for the
 * container's lock. */
static bool conmon_in_exit_command(pid_t cp, const Container *c) {
        char path[96], list[512], *save = NULL;
        _cleanup_free_ char *buf = malloc(65536);
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)cp, (int)cp);
        _cleanup_close_ int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        ssize_t n = fd >= 0 ? read(fd, list, sizeof list - 1) : -1;
        if (n <= 0)
                return false;
        list[n] = 0;
        for (char *p = strtok_r(list, " \n", &save); p; p = strtok_r(NULL, " \n", &save)) {
                size_t len = proc_cmdline((pid_t)atoi(p), buf, 65536);
                if (argv_has(buf, len, "cleanup", c->id))
                        return true;
        }
        return false;
}

static pid_t live_conmon(Engine *e, const Container *c) {
        _cleanup_free_ char *path = container_run_path(e, c->id, "conmon.pid");
        char buf[32];
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        pid_t cp = 0;
        if (n > 0) {
                buf[n] = 0;
                cp = (pid_t)atoi(buf);
        }
        return runtime_pid_alive(cp) ? cp : conmon_find(e, c);
}

static pid_t pidfile_pid(Engine *e, const Container *c) {
        _cleanup_free_ char *path = container_run_path(e, c->id, "pidfile");
        char buf[32];
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (n <= 0)
                return 0;
        buf[n] = 0;
        return (pid_t)atoi(buf);
}

static bool exec_fifo_exists(Engine *e, const Container *c) {
        char p[4300];
        snprintf(p, sizeof p, "%s/runtime/%s/exec.fifo", e->runroot, c->id);
        return access(p, F_OK) == 0;
}

bool runtime_settle_start(Engine *e, Container *c) {
        char dir[4200];
        ContainerState old = c->state;
        pid_t cp = 0, pid = 0;
        int i;
        /* cpod stores "created" only for such a start (a sync without the lock saw conmon.pid) */
        if (c->state != CONTAINER_CONFIGURED && c->state != CONTAINER_CREATED)
                return false;
        snprintf(dir, sizeof dir, "%s/containers/%s", e->runroot, c->id);
        if (access(dir, F_OK) < 0)
                return false; /* never started */
        for (i = 0; i < 1000; i++) {
                cp = live_conmon(e, c);
                pid = pidfile_pid(e, c);
                if (cp <= 0 || pid > 0 || conmon_in_exit_command(cp, c))
                        break;
                sleep_ms(10);
        }
        for (int k = 0; i == 1000 && k < 100; k++) {
                /* a create that hangs for 10 s: end it (its runtime process goes with conmon, PDEATHSIG) */
                if ((cp = live_conmon(e, c)) <= 0)
                        break;
                (void)kill(cp, SIGKILL);
                for (int j = 0; j < 100 && runtime_pid_alive(cp); j++)
                        sleep_ms(10);
        }
        c->pid = pid;
        if (pid > 0 && runtime_pid_alive(pid) && !exec_fifo_exists(e, c)) {
                /* started before its cpod died: running, watched by conmon (whose report was read) */
                c->conmon_pid = cp;
                c->state = CONTAINER_RUNNING;
                if (c->started_at == 0)
                        c->started_at = ctr_now_nsec();
                return true;
        }
        /* Created and never started, or the create failed. When nobody read conmon's report, conmon
         * cannot serve the container (it leaves after its exit command, without an exit file): delete
         * what the runtime made, the caller starts afresh or removes. A conmon that watches the container
         * writes its exit file now: wait until it runs its exit command (which waits for our lock), so
         * that nothing of it lands in a new start's run directory. */
        if (runtime_state_exists(e, c))
                runtime_delete(e, c);
        for (int j = 0; cp > 0 && j < 1000 && runtime_pid_alive(cp) && !conmon_in_exit_command(cp, c); j++)
                sleep_ms(10);
        static const char *const gone[] = {"conmon.pid", "pidfile"}; /* for syncs without the lock */
        for (size_t k = 0; k < ELEMENTSOF(gone); k++) {
                _cleanup_free_ char *p = container_run_path(e, c->id, gone[k]);
                if (p)
                        (void)unlink(p);
        }
        c->conmon_pid = 0;
        c->pid = 0;
        c->state = CONTAINER_CONFIGURED;
        return c->state != old;
}

static int lock_and_load(Engine *e, const char *ref, Container *c, int *lock_fd, CpodError *err) {
        char id[65];
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        r = container_lock(e, id, lock_fd, err);
        if (r < 0)
                return r;
        r = container_load_row(e, id, c, err);
        if (r >= 0 && runtime_settle_start(e, c))
                r = container_save_state(e, c, err);
        if (r >= 0)
                r = container_sync(e, c, err);
        if (r < 0) {
                container_done(c);
                *lock_fd = safe_close(*lock_fd);
        }
        return r;
}

/* An attached start of a --rm container removes it itself, as soon as it exits. Its exit command
 * (container_cleanup) would race it for the container's lock, remove the exit file before it is read,
 * and compete for the CPU: hold <id>.rm from before the start until the removal is done, which the
 * exit command waits for. -1 when the lock cannot be had (the exit command then cleans up). */
static int rm_lock_take(Engine *e, const Container *c) {
        _cleanup_free_ char *path = container_rm_lock_path(e, c->id);
        int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                fd = safe_close(fd);
        return fd;
}

/* Wait while an attached `run --rm` holds the container's <id>.rm (it ends with the container removed,
 * or with its process gone). */
static void rm_lock_wait(Engine *e, const char *id) {
        _cleanup_free_ char *path = container_rm_lock_path(e, id);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
        while (fd >= 0 && flock(fd, LOCK_SH) < 0 && errno == EINTR)
                ;
}

static int finish_attached(Engine *e, Container *c, int sock, const ContainerStdio *stdio,
                           int *ret_exit_code, bool *ret_detached, CpodError *err) {
        _cleanup_free_ char *winsz = container_run_path(e, c->id, "winsz");
        bool detached = false;
        int r = attach_relay(sock, stdio, c->tty, winsz, &detached, err);
        close(sock);
        *ret_detached = detached;
        if (r < 0 || detached)
                return r;
        (void)wait_exit_file(e, c, -1);
        int code = -1;
        int64_t when;
        if (container_read_exit(e, c->id, &code, &when) <= 0)
                code = -1;
        if (ret_exit_code)
                *ret_exit_code = code;
        if (c->rm) {
                CpodError ignored = {};
                (void)container_remove(e, c->id, true, true, &ignored);
        }
        return 0;
}

int container_start(Engine *e, const char *ref, const ContainerStdio *attach, int *ret_exit_code,
                    CpodError *err) {
        Container c = {};
        int lock = -1, sock = -1;
        int r = lock_and_load(e, ref, &c, &lock, err);
        if (r < 0)
                return r;
        if (c.state == CONTAINER_RUNNING) {
                container_unlock(lock);
                if (attach) {
                        bool detached;
                        r = container_attach(e, c.id, attach, ret_exit_code, &detached, err);
                }
                container_done(&c);
                return r;
        }
        int rm_lock = attach && c.rm ? rm_lock_take(e, &c) : -1;
        if (c.state == CONTAINER_PAUSED)
                r = cpod_error(err, EBUSY, "container %s is paused: unpause it instead", c.name);
        else if (c.state == CONTAINER_REMOVING)
                r = cpod_error(err, EBUSY, "container %s is being removed", c.name);
        else {
                /* a start killed midway was settled by lock_and_load: nothing is "created" here */
                r = start_locked(e, &c, attach ? &sock : NULL, err);
        }
        container_unlock(lock);
        bool detached = false;
        if (r >= 0 && attach)
                r = finish_attached(e, &c, sock, attach, ret_exit_code, &detached, err);
        /* after the removal (its file is gone then), or for the exit command to do it */
        if (rm_lock >= 0 && r >= 0 && !detached && attach->keep_rm_lock && *attach->keep_rm_lock < 0) {
                *attach->keep_rm_lock = rm_lock;
                /* The exit command closes the store after us: leave the checkpoint (and the WAL's
                 * priming, db_close) to it, even when it opened the store late. */
                (void)sqlite3_db_config(e->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        } else
                safe_close(rm_lock);
        container_done(&c);
        return r;
}

/* ---- stop, kill, pause ---- */

static int signal_number(const char *s) {
        static const struct {
                const char *name;
                int no;
        } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                    {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"TERM", SIGTERM}, {"STOP", SIGSTOP},
                    {"CONT", SIGCONT}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR},   {"ALRM", SIGALRM}};
        if (!s || !*s)
                return SIGTERM;
        if (*s >= '0' && *s <= '9')
                return atoi(s);
        const char *n = startswith(s, "SIG") ?: s;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (strcasecmp(sigs[i].name, n) == 0)
                        return sigs[i].no;
        return SIGTERM;
}

static int stop_signal(Engine *e, const Container *c) {
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL;
        if (container_load_config(e, c->id, &cfg, NULL) < 0)
                return SIGTERM;
        return signal_number(
                vl_json_get_string(vl_json_object_get(vl_json_object_get(cfg, "Config"), "StopSignal")));
}

static int kill_locked(Engine *e, const Container *c, int signo, CpodError *err) {
        char sig[16];
        snprintf(sig, sizeof sig, "%d", signo);
        const char *args[] = {"kill", c->id, sig};
        int r = runtime_run(e, c->runtime, args, 3, err);
        if (r < 0 && c->pid > 0 &&
            kill(c->pid, signo) == 0) /* the runtime lost its state: signal directly */
                r = 0;
        /* the container exited between our look at it and the runtime's ("open pidfd: No such
         * process"): nothing left to signal, and rm -f or stop must not fail for it */
        if (r < 0 && c->pid > 0 && !runtime_pid_alive(c->pid)) {
                cpod_error_clear(err);
                r = 0;
        }
        return r;
}

/* Record an exit seen while holding the lock: state from the exit file, rootfs unmounted (also for a
 * start killed before the container ran, back to "configured"). */
static int settle_exited(Engine *e, Container *c, CpodError *err) {
        int r = container_sync(e, c, err);
        if (r >= 0 && (c->state == CONTAINER_EXITED || c->state == CONTAINER_STOPPED ||
                       c->state == CONTAINER_CONFIGURED)) {
                (void)net_container_teardown(e, c->id, NULL);
                r = container_unmount_rootfs(e, c->id, err);
        }
        return r;
}

static int stop_locked(Engine *e, Container *c, int timeout, CpodError *err) {
        int r;
        if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_PAUSED)
                return 0;
        r = db_run(e->db, "UPDATE containers SET stopped_by_user = 1 WHERE id = ?1", DB_PARAMS(c->id), err);
        if (r < 0)
                return r;
        int sig = stop_signal(e, c);
        if (timeout != 0)
                r = kill_locked(e, c, sig, err);
        if (c->state == CONTAINER_PAUSED)
                (void)runtime_simple(e, c, "resume", NULL, NULL);
        if (r < 0 || wait_exit_file(e, c, timeout < 0 ? 10000 : timeout * 1000) == 0) {
                r = kill_locked(e, c, SIGKILL, err);
                if (r < 0)
                        return r;
                if (wait_exit_file(e, c, 10000) == 0)
                        return cpod_error(err, ETIMEDOUT, "container %s did not exit after SIGKILL",
                                          c->name);
        }
        r = settle_exited(e, c, err);
        (void)events_write(e, "container", "stop", c->id, c->name, c->image_name, NULL);
        return r;
}

int container_stop(Engine *e, const char *ref, int timeout, CpodError *err) {
        Container c = {};
        int lock;
        int r = lock_and_load(e, ref, &c, &lock, err);
        if (r < 0)
                return r;
        r = stop_locked(e, &c, timeout, err);
        container_unlock(lock);
        container_done(&c);
        return r;
}

int container_kill(Engine *e, const char *ref, int signo, CpodError *err) {
        Container c = {};
        int lock;
        int r = lock_and_load(e, ref, &c, &lock, err);
        if (r < 0)
                return r;
        if (c.state != CONTAINER_RUNNING && c.state != CONTAINER_PAUSED)
                r = cpod_error(
                        err, EINVAL,
                        "can only kill running containers. %s is in state %s: container state improper",
                        c.id, container_state_name(c.state));
        else
                r = kill_locked(e, &c, signo ? signo : SIGKILL, err);
        if (r >= 0)
                (void)events_write(e, "container", "kill", c.id, c.name, c.image_name, NULL);
        container_unlock(lock);
        container_done(&c);
        return r;
}

int container_restart(Engine *e, const char *ref, int timeout, CpodError *err) {
        Container c = {};
        int lock;
        int r = lock_and_load(e, ref, &c, &lock, err);
        if (r < 0)
                return r;
        r = stop_locked(e, &c, timeout, err);
        if (r >= 0)
                r = start_locked(e, &c, NULL, err);
        if (r >= 0)
                (void)events_write(e, "container", "restart", c.id, c.name, c.image_name, NULL);
        container_unlock(lock);
        container_done(&c);
        return r;
}

static int pause_common(Engine *e, const char *ref, bool pause, CpodError *err) {
        Container c = {};
        int lock;
        int r = lock_and_load(e, ref, &c, &lock, err);
        if (r < 0)
                return r;
        if (c.state != (pause ? CONTAINER_RUNNING : CONTAINER_PAUSED))
                r = cpod_error(err, EINVAL, "%s is not %s, can't %s: container state improper", c.id,
                               pause ? "running" : "paused", pause ? "pause" : "unpause");
        else
                r = runtime_simple(e, &c, pause ? "pause" : "resume", NULL, err);
        if (r >= 0) {
                c.state = pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
                r = container_save_state(e, &c, err);
                (void)events_write(e, "container", pause ? "pause" : "unpause", c.id, c.name, c.image_name,
                                   NULL);
        }
        container_unlock(lock);
        container_done(&c);
        return r;
}

int container_pause(Engine *e, const char *ref, CpodError *err) {
        return pause_common(e, ref, true, err);
}

int container_unpause(Engine *e, const char *ref, CpodError *err) {
        return pause_common(e, ref, false, err);
}

/* ---- wait and cleanup ---- */

static bool condition_met(const char *cond, ContainerState s) {
        if (!cond || !*cond || streq(cond, "stopped"))
                return s == CONTAINER_EXITED || s == CONTAINER_STOPPED || s == CONTAINER_CONFIGURED ||
                       s == CONTAINER_CREATED;
        if (streq(cond, "exited"))
                return s == CONTAINER_EXITED || s == CONTAINER_STOPPED;
        if (streq(cond, "next-exit"))
                return false;
        return streq(cond, container_state_name(s));
}

int container_wait(Engine *e, const char *ref, const char *condition, int *ret_exit_code, CpodError *err) {
        char id[65];
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        for (;;) {
                Container c = {};
                CpodError e2 = {};
                r = container_get(e, id, &c, &e2);
                if (r == -ENOENT) {
                        if (condition && streq(condition, "removed"))
                                return 0;
                        return cpod_error(err, ENOENT, "no such container %s", ref);
                }
                if (r < 0) {
                        *err = e2;
                        return r;
                }
                bool met = condition_met(condition, c.state);
                /* "stopped" on a container that never ran is met at once; one that runs waits for its exit
                 */
                if (met) {
                        if (ret_exit_code)
                                *ret_exit_code = c.exit_code;
                        container_done(&c);
                        return 0;
                }
                if (c.state == CONTAINER_RUNNING || c.state == CONTAINER_PAUSED)
                        (void)wait_exit_file(e, &c, 250);
                else {
                        struct timespec ts = {0, 50000000};
                        nanosleep(&ts, NULL);
                }
                container_done(&c);
        }
}

/* "always", "unless-stopped", "on-failure[:N]" */
static bool should_restart(Engine *e, const Container *c) {
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL;
        _cleanup_free_ char *by_user = NULL;
        if (container_load_config(e, c->id, &cfg, NULL) < 0)
                return false;
        const VlJson *p = vl_json_object_get(vl_json_object_get(cfg, "HostConfig"), "RestartPolicy");
        const char *name = vl_json_get_string(vl_json_object_get(p, "Name")) ?: "";
        int64_t max = vl_json_get_int(vl_json_object_get(p, "MaximumRetryCount"));
        if (db_get_text(e->db, "SELECT stopped_by_user FROM containers WHERE id = ?1", DB_PARAMS(c->id),
                        &by_user, NULL) > 0 &&
            by_user && streq(by_user, "1"))
                return false;
        if (streq(name, "always") || streq(name, "unless-stopped"))
                return true;
        if (streq(name, "on-failure"))
                return c->exit_code != 0 && (max <= 0 || c->restart_count < max);
        return false;
}

bool container_cleanup_wait(const char *runroot, const char *id) {
        char path[4300];
        if (!runroot || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
                return false;
        snprintf(path, sizeof path, "%s/locks/%s.rm", runroot, id);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
                ;
        snprintf(path, sizeof path, "%s/containers/%s", runroot, id);
        return access(path, F_OK) < 0 && errno == ENOENT;
}

int container_cleanup(Engine *e, const char *ref, CpodError *err) {
        Container c = {};
        CpodError e2 = {};
        char id[65];
        int lock;
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        rm_lock_wait(e, id);
        /* an attached run --rm removed it while we waited: its run directory goes only with the row */
        _cleanup_free_ char *dir = container_run_path(e, id, NULL);
        if (dir && access(dir, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = lock_and_load(e, id, &c, &lock, &e2);
        if (r == -ENOENT)
                return 0; /* removed meanwhile (an attached run --rm, or rm -f) */
        if (r < 0) {
                *err = e2;
                return r;
        }
        if (c.state == CONTAINER_RUNNING || c.state == CONTAINER_PAUSED) {
                container_unlock(lock);
                container_done(&c);
                return 0; /* still running (a restart won the race): nothing to clean */
        }
        if (c.rm) {
                (void)events_write(e, "container", "died", c.id, c.name, c.image_name, NULL);
                r = container_remove_locked(e, &c, true, true, err);
                container_unlock(lock);
                container_done(&c);
                return r;
        }
        runtime_delete(e, &c);
        r = settle_exited(e, &c, err);
        if (r >= 0)
                (void)events_write(e, "container", "died", c.id, c.name, c.image_name, NULL);
        if (r >= 0 && c.state == CONTAINER_EXITED && should_restart(e, &c)) {
                c.restart_count++;
                r = start_locked(e, &c, NULL, err);
        }
        container_unlock(lock);
        container_done(&c);
        return r;
}

/* Used by container_remove: stop hard and delete the runtime's state. Lock held. */
int runtime_kill_and_delete(Engine *e, Container *c, CpodError *err) {
        int r = 0;
        if (c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED) {
                r = kill_locked(e, c, SIGKILL, err);
                /* it may have died on its own meanwhile: then there is nothing to kill */
                if (r < 0 && c->pid > 0 && kill(c->pid, 0) < 0 && errno == ESRCH) {
                        cpod_error_clear(err);
                        r = 0;
                }
                if (c->state == CONTAINER_PAUSED)
                        (void)runtime_simple(e, c, "resume", NULL, NULL);
                if (r >= 0)
                        (void)wait_exit_file(e, c, 10000);
                r = r < 0 ? r : container_sync(e, c, err);
        }
        if (c->state != CONTAINER_CONFIGURED || runtime_state_exists(e, c))
                runtime_delete(e, c);
        return r; /* the caller tears the network down while it removes the rest */
}
