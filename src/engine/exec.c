/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec: run another process in a running container with `<runtime> exec
 * --process FILE ID`. The process spec starts from the container's own
 * (environment, capabilities, rlimits, security settings) with the
 * command, user, working directory and environment of the exec on top.
 *
 * Without a terminal the runtime gets the caller's stdio and its exit code
 * is the process's. With one, the runtime sends the pty's master over a
 * console socket and the caller's stdio is relayed to it. A detached exec
 * gets /dev/null and is left to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "util.h"

#define EXEC_CONSOLE_TIMEOUT_MS 30000

static void json_unrefp_(VlJson **p) {
        vl_json_unref(*p);
}
#define _cleanup_json_ _cleanup_(json_unrefp_)

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

/* ---- is the command there? ---- */

static int open_in_root(int root_fd, const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* 0 executable, -ENOENT missing, -EACCES there but not runnable. */
static int check_one(int root_fd, const char *path) {
        struct stat st;
        _cleanup_close_ int fd = open_in_root(root_fd, path);
        if (fd < 0)
                return fd == -ENOTDIR ? -ENOENT : fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return -EACCES;
        return 0;
}

/* Find the command in the container as the runtime will (through $PATH unless it has a '/'), so a
 * missing one fails with 127 and an unrunnable one with 126, as with podman. */
static int exec_check_command(pid_t pid, const char *cmd, const char *cwd, const char *env_path,
                              CpodError *err) {
        char path[PATH_MAX];
        int r = -ENOENT, found = -ENOENT;

        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        _cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return cpod_error_errno(err, errno, "open the root of process %d", (int)pid);
        if (strchr(cmd, '/')) {
                snprintf(path, sizeof(path), "%s/%s", cmd[0] == '/' ? "" : cwd ? cwd : "/", cmd);
                r = check_one(root, path);
        } else {
                _cleanup_free_ char *copy = strdup(env_path ? env_path
                                                            : "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                                              "/usr/bin:/sbin:/bin");
                if (!copy)
                        return oom(err);
                char *save = NULL;
                for (char *d = strtok_r(copy, ":", &save); d && r < 0; d = strtok_r(NULL, ":", &save)) {
                        if (snprintf(path, sizeof(path), "%s/%s", d, cmd) >= (int)sizeof(path))
                                continue;
                        r = check_one(root, path);
                        if (r == -EACCES || r == -ENOSYS)
                                found = r;
                }
                if (r < 0)
                        r = found;
        }
        if (r == -ENOSYS)
                return 0; /* no openat2 (an old kernel): the runtime's own error will have to do */
        if (r == -ENOENT)
                return cpod_error(err, ENOENT,
                                  "executable file `%s` not found in $PATH: No such file or directory", cmd);
        if (r == -EACCES)
                return cpod_error(err, EACCES, "open executable `%s`: Permission denied", cmd);
        return 0;
}

/* ---- the process spec ---- */

/* Set K=V in an environment list, replacing K. A bare "K" is left out. */
static int env_put(char ***env, size_t *n, const char *kv) {
        const char *eq = strchr(kv, '=');
        if (!eq)
                return 0;
        size_t kl = (size_t)(eq - kv) + 1;
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*env)[i], kv, kl) == 0) {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = d;
                        return 0;
                }
        return ctr_strv_push(env, n, kv);
}

static const char *strv_env_get(char **env, size_t n, const char *key) {
        size_t kl = strlen(key);
        for (size_t i = 0; i < n; i++)
                if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
                        return env[i] + kl + 1;
        return NULL;
}

static int strv_json(char *const *v, size_t n, VlJson **ret) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        a = vl_json_unref(a);
        *ret = a;
        return a ? 0 : -ENOMEM;
}

static int exec_user(VlJson *proc, pid_t pid, const ExecOptions *o, char ***env, size_t *n_env,
                     CpodError *err) {
        SpecUser u = {};
        char rootfs[64];
        _cleanup_json_ VlJson *user = vl_json_new_object(), *gids = vl_json_new_array();

        snprintf(rootfs, sizeof(rootfs), "/proc/%d/root", (int)pid);
        int r = spec_resolve_user(rootfs, o->user, &u, err);
        if (r < 0)
                return cpod_error_wrap(err, "user `%s`", o->user);
        for (size_t i = 0; gids && i < u.n_additional_gids; i++)
                if (vl_json_array_append(gids, vl_json_new_int(u.additional_gids[i])) < 0)
                        r = -ENOMEM;
        if (r >= 0 && (!user || !gids || vl_json_object_set_int(user, "uid", u.uid) < 0 ||
                       vl_json_object_set_int(user, "gid", u.gid) < 0 ||
                       vl_json_object_set(user, "additionalGids", vl_json_ref(gids)) < 0 ||
                       vl_json_object_set(proc, "user", vl_json_ref(user)) < 0))
                r = -ENOMEM;
        if (r >= 0) {
                /* HOME follows the user unless the exec sets it */
                _cleanup_free_ char *home = NULL;
                if (asprintf(&home, "HOME=%s", u.home ? u.home : "/") < 0 || env_put(env, n_env, home) < 0)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                        if (startswith(o->env[i], "HOME="))
                                r = env_put(env, n_env, o->env[i]);
        }
        spec_user_done(&u);
        return r < 0 ? oom(err) : 0;
}

/* Every capability the container may hold (its bounding set) in every set: a container started
 * with them proves the runtime can grant them here. */
static int exec_privileged(VlJson *proc, CpodError *err) {
        static const char *const sets[] = {"effective", "permitted", "inheritable", "ambient"};
        VlJson *caps = vl_json_object_get(proc, "capabilities");
        VlJson *bounding = vl_json_object_get(caps, "bounding");
        if (vl_json_type(bounding) != VL_JSON_ARRAY)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                if (vl_json_object_set(caps, sets[i], vl_json_copy(bounding)) < 0)
                        return oom(err);
        return 0;
}

static int read_spec_process(const Container *c, VlJson **ret, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, cap = 0;
        _cleanup_close_ int fd = open(c->spec_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", c->spec_path);
        for (;;) {
                if (VL_GROW(text, cap, len + 65536) < 0)
                        return oom(err);
                ssize_t n = read(fd, text + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cpod_error_errno(err, errno, "read `%s`", c->spec_path);
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        _cleanup_json_ VlJson *spec = NULL;
        if (vl_json_parse(text, len, NULL, &spec, NULL) < 0)
                return cpod_error(err, EBADMSG, "`%s` is not valid JSON", c->spec_path);
        VlJson *proc = vl_json_object_get(spec, "process");
        if (vl_json_type(proc) != VL_JSON_OBJECT)
                return cpod_error(err, EBADMSG, "`%s` has no process", c->spec_path);
        *ret = vl_json_copy(proc);
        return *ret ? 0 : oom(err);
}

/* The size of the caller's terminal: its input's, else its output's; false when neither is one. */
static bool caller_size(const ContainerStdio *stdio, bool interactive, struct winsize *ret) {
        if (interactive && stdio->in_fd >= 0 && ioctl(stdio->in_fd, TIOCGWINSZ, ret) == 0 && ret->ws_row > 0)
                return true;
        return stdio->out_fd >= 0 && ioctl(stdio->out_fd, TIOCGWINSZ, ret) == 0 && ret->ws_row > 0;
}

/* The exec's terminal starts with the caller's size (consoleSize): the runtime sizes it before the
 * process runs, so even its first look at the size sees it. */
static int console_size(VlJson *proc, const ContainerStdio *stdio, bool interactive) {
        _cleanup_json_ VlJson *size = NULL;
        struct winsize ws;

        if (!caller_size(stdio, interactive, &ws))
                return 0;
        if (!(size = vl_json_new_object()) || vl_json_object_set_int(size, "height", ws.ws_row) < 0 ||
            vl_json_object_set_int(size, "width", ws.ws_col) < 0)
                return -ENOMEM;
        return vl_json_object_set(proc, "consoleSize", TAKE_PTR(size));
}

/* The exec's process: the container's, with the exec's command, terminal, env, user, cwd. */
static int exec_process(const Container *c, const ExecOptions *o, const ContainerStdio *stdio, bool tty,
                        char **ret_json, int *ret_code, CpodError *err) {
        _cleanup_json_ VlJson *proc = NULL, *args = NULL, *envj = NULL;
        char **env = NULL;
        size_t n_env = 0;
        VlJson *x;
        int r = read_spec_process(c, &proc, err);

        if (r < 0)
                return r;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(proc, "env"))
                if (vl_json_get_string(x) && (r = ctr_strv_push(&env, &n_env, vl_json_get_string(x))) < 0)
                        break;
        for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                r = env_put(&env, &n_env, o->env[i]);
        if (r < 0)
                r = oom(err);
        if (r >= 0 && o->user && *o->user)
                r = exec_user(proc, c->pid, o, &env, &n_env, err);
        if (r >= 0 && o->privileged)
                r = exec_privileged(proc, err);
        const char *cwd =
                o->workdir && *o->workdir ? o->workdir : vl_json_get_string(vl_json_object_get(proc, "cwd"));
        if (r >= 0)
                r = exec_check_command(c->pid, o->command[0], cwd, strv_env_get(env, n_env, "PATH"), err);
        if (r == -ENOENT || r == -EACCES)
                *ret_code = r == -ENOENT ? 127 : 126;
        if (r >= 0 &&
            (strv_json(o->command, o->n_command, &args) < 0 || strv_json(env, n_env, &envj) < 0 ||
             vl_json_object_set(proc, "args", vl_json_ref(args)) < 0 ||
             vl_json_object_set(proc, "env", vl_json_ref(envj)) < 0 ||
             vl_json_object_set_bool(proc, "terminal", tty) < 0 ||
             (o->workdir && *o->workdir && vl_json_object_set_string(proc, "cwd", o->workdir) < 0)))
                r = oom(err);
        ctr_strv_free(env);
        if (r < 0)
                return r;
        (void)vl_json_object_remove(proc, "consoleSize");
        if (tty && console_size(proc, stdio, o->interactive) < 0)
                return oom(err);
        *ret_json = vl_json_to_string(proc, 0);
        return *ret_json ? 0 : oom(err);
}

/* Write the process spec next to the bundle, under a name no other exec uses. */
static int exec_write_spec(Engine *e, const Container *c, const char *json, char **ret_path,
                           CpodError *err) {
        _cleanup_free_ char *dir = container_run_path(e, c->id, NULL), *path = NULL;
        if (!dir)
                return oom(err);
        for (int attempt = 0; attempt < 16; attempt++) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                free(path);
                if (asprintf(&path, "%s/exec-%x%lx.json", dir, (unsigned)getpid(),
                             (unsigned long)ts.tv_nsec + (unsigned long)attempt) < 0)
                        return oom(err);
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return cpod_error_errno(err, errno, "create `%s`", path);
                size_t len = strlen(json);
                for (size_t off = 0; off < len;) {
                        ssize_t n = write(fd, json + off, len - off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) {
                                int k = errno;
                                (void)unlink(path);
                                return cpod_error_errno(err, k, "write `%s`", path);
                        }
                        off += (size_t)n;
                }
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        return cpod_error(err, EEXIST, "no free exec session name in `%s`", dir);
}

/* ---- running the runtime ---- */

typedef struct ExecIo {
        int in, out, err; /* become the runtime's stdio (-1: /dev/null) */
        const char *cwd;  /* where the runtime starts (the console socket is named relative to it) */
} ExecIo;

/* The fds moved above 2 first, so dup2 in the child cannot overwrite one with another. */
static int exec_spawn(char **argv, const ExecIo *io, pid_t *ret_pid, CpodError *err) {
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int src[3] = {io->in, io->out, io->err}, fds[3] = {-1, -1, -1};
        int r = 0;

        if (null < 0)
                return cpod_error_errno(err, errno, "open `/dev/null`");
        for (size_t i = 0; i < 3; i++)
                if ((fds[i] = fcntl(src[i] >= 0 ? src[i] : null, F_DUPFD_CLOEXEC, 3)) < 0)
                        r = -errno;
        pid_t pid = r < 0 ? -1 : fork();
        if (pid == 0) {
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0 ||
                    (io->cwd && chdir(io->cwd) < 0))
                        _exit(125);
                execv(argv[0], argv);
                _exit(127);
        }
        if (pid < 0 && r == 0)
                r = -errno;
        for (size_t i = 0; i < 3; i++)
                safe_close(fds[i]);
        if (r < 0)
                return cpod_error_errno(err, -r, "run `%s`", argv[0]);
        *ret_pid = pid;
        return 0;
}

static int exec_wait(pid_t pid, int *ret_code) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

/* A listening socket named name in dir (bound through /proc/self/fd: the path may be too long for
 * sun_path). */
static int console_listen(const char *dir, const char *name, CpodError *err) {
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (dfd < 0 || s < 0)
                return cpod_error_errno(err, errno, "console socket in `%s`", dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
        (void)unlinkat(dfd, name, 0);
        if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
                return cpod_error_errno(err, errno, "console socket `%s/%s`", dir, name);
        return TAKE_FD(s);
}

/* Wait for the runtime to send the pty master (SCM_RIGHTS), or to exit without doing so. */
static int console_receive(int listen_fd, pid_t runtime, int *ret_master, CpodError *err) {
        for (int waited = 0; waited < EXEC_CONSOLE_TIMEOUT_MS; waited += 100) {
                struct pollfd p = {.fd = listen_fd, .events = POLLIN};
                int k = poll(&p, 1, 100);
                if (k < 0 && errno != EINTR)
                        return cpod_error_errno(err, errno, "wait for the console");
                if (k <= 0) {
                        siginfo_t si = {};
                        if (waitid(P_PID, (id_t)runtime, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
                                return -ECHILD; /* it failed and said why on stderr */
                        continue;
                }
                _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0)
                        return cpod_error_errno(err, errno, "accept the console");
                char data[256];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } cm = {};
                struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
                struct msghdr msg = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm, .msg_controllen = sizeof(cm)};
                if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
                        return cpod_error_errno(err, errno, "receive the console");
                struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
                if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                        return cpod_error(err, EBADMSG, "the runtime sent no terminal");
                memcpy(ret_master, CMSG_DATA(h), sizeof(int));
                return 0;
        }
        return cpod_error(err, ETIMEDOUT, "the runtime sent no terminal within %d s",
                          EXEC_CONSOLE_TIMEOUT_MS / 1000);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Copy the caller's input to the pty and the pty's output to the caller until the process is gone. */
static void console_relay(int master, int in, int out) {
        char buf[16384];
        bool in_open = in >= 0;

        for (;;) {
                struct pollfd p[2] = {{.fd = master, .events = POLLIN},
                                      {.fd = in_open ? in : -1, .events = POLLIN}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[0].revents) {
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                return; /* EIO: every holder of the terminal is gone */
                        if (out >= 0)
                                (void)write_all(out, buf, (size_t)n);
                }
                if (p[1].revents) {
                        ssize_t n = read(in, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                /* end of input reads as end of file in the terminal */
                                in_open = false;
                                (void)write_all(master, "\x04", 1);
                        } else
                                (void)write_all(master, buf, (size_t)n);
                }
        }
}

static int exec_tty(char **argv, const char *dir, const char *sock_name, const ContainerStdio *stdio,
                    bool interactive, int *ret_code, CpodError *err) {
        struct termios saved;
        pid_t pid;
        int in = interactive ? stdio->in_fd : -1, master = -1;
        _cleanup_close_ int ls = console_listen(dir, sock_name, err);

        if (ls < 0)
                return ls;
        ExecIo io = {.in = -1, .out = stdio->out_fd, .err = stdio->err_fd, .cwd = dir};
        int r = exec_spawn(argv, &io, &pid, err);
        if (r >= 0)
                r = console_receive(ls, pid, &master, err);
        ls = safe_close(ls);
        {
                _cleanup_close_ int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (d >= 0)
                        (void)unlinkat(d, sock_name, 0);
        }
        if (r >= 0) {
                struct winsize ws;
                if (caller_size(stdio, in >= 0, &ws))
                        (void)ioctl(master, TIOCSWINSZ, &ws);
                bool raw = in >= 0 && isatty(in) && tcgetattr(in, &saved) == 0;
                if (raw) {
                        struct termios t = saved;
                        cfmakeraw(&t);
                        (void)tcsetattr(in, TCSANOW, &t);
                }
                console_relay(master, in, stdio->out_fd);
                if (raw)
                        (void)tcsetattr(in, TCSANOW, &saved);
                safe_close(master);
        }
        if (pid > 0) {
                int code = 0, k = exec_wait(pid, &code);
                if (r == -ECHILD) /* the runtime failed before the process ran */
                        r = cpod_error(err, EIO, "the OCI runtime failed to run the command (exit code %d)",
                                       code);
                else if (r >= 0 && k < 0)
                        r = cpod_error_errno(err, -k, "wait for the OCI runtime");
                *ret_code = code;
        }
        return r;
}

int container_exec(Engine *e, const char *ref, const ExecOptions *o, const ContainerStdio *stdio,
                   int *ret_exit_code, CpodError *err) {
        static const ContainerStdio none = {.in_fd = -1, .out_fd = -1, .err_fd = -1};
        _cleanup_free_ char *json = NULL, *spec = NULL, *dir = NULL, *sock = NULL;
        char **argv = NULL;
        Container c = {};
        int code = 0;

        if (!o || o->n_command == 0 || !o->command[0] || !*o->command[0])
                return cpod_error(err, EINVAL, "exec needs a command");
        if (!stdio)
                stdio = &none;
        int r = container_get(e, ref, &c, err);
        if (r < 0)
                return r;
        if (c.state != CONTAINER_RUNNING || c.pid <= 0) {
                r = cpod_error(err, EINVAL, "can only exec in running containers: container %s is %s",
                               c.name, container_state_name(c.state));
                goto out;
        }
        bool tty = o->tty && !o->detach;
        r = exec_process(&c, o, stdio, tty, &json, &code, err);
        if (r >= 0)
                r = exec_write_spec(e, &c, json, &spec, err);
        if (r < 0)
                goto out;
        dir = container_run_path(e, c.id, NULL);
        if (!dir || asprintf(&sock, "%s.sock", strrchr(spec, '/') + 1) < 0) {
                r = oom(err);
                goto out;
        }
        const char *args[] = {"exec", "--process", spec, tty ? "--console-socket" : "--detach", sock, c.id};
        const char *const *a = args;
        const char *detached[] = {"exec", "--detach", "--process", spec, c.id};
        const char *plain[] = {"exec", "--process", spec, c.id};
        size_t n = ELEMENTSOF(args);
        if (o->detach)
                a = detached, n = ELEMENTSOF(detached);
        else if (!tty)
                a = plain, n = ELEMENTSOF(plain);
        r = runtime_exec_argv(e, c.runtime, a, n, &argv, err);
        if (r < 0)
                goto out;
        if (tty)
                r = exec_tty(argv, dir, sock, stdio, o->interactive, &code, err);
        else {
                ExecIo io = {.in = o->interactive && !o->detach ? stdio->in_fd : -1,
                             .out = o->detach ? -1 : stdio->out_fd,
                             .err = o->detach ? -1 : stdio->err_fd};
                pid_t pid;
                r = exec_spawn(argv, &io, &pid, err);
                if (r >= 0 && (r = exec_wait(pid, &code)) < 0)
                        r = cpod_error_errno(err, -r, "wait for the OCI runtime");
                if (r >= 0 && o->detach && code != 0)
                        r = cpod_error(err, EIO,
                                       "the OCI runtime failed to start the command (exit code %d)", code);
        }
out:
        if (spec)
                (void)unlink(spec);
        ctr_strv_free(argv);
        /* on failure, what podman exits with: the command is missing (127), cannot run (126), else 125 */
        if (ret_exit_code)
                *ret_exit_code = r >= 0 || code == 127 || code == 126 ? code : 125;
        container_done(&c);
        return r < 0 ? r : 0;
}
