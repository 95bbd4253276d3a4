/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transports: connecting to and listening on Varlink addresses, socket
 * activation, and spawning services (exec:, activated) and bridges.
 *
 * Children are set up between fork() and execve() with async-signal-safe
 * calls only: their argv and environment are built before the fork, and
 * the one value only the child knows, its own pid for LISTEN_PID, is
 * written by hand into a buffer reserved for it. A close-on-exec pipe
 * reports a failed execve() back, so "exec:/missing" fails in the caller
 * with -ENOENT instead of a child exiting 127.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vl/loop.h>
#include <vl/transport.h>

#include "socket-internal.h"
#include "util.h"

extern char **environ;

static void address_donep(VlAddress *a) {
        vl_address_done(a);
}

/* ---- addresses to sockaddrs ---- */

static void sockaddr_un_from(const VlAddress *a, struct sockaddr_un *sa, socklen_t *len) {
        size_t l = strlen(a->path); /* bounded by vl_address_parse() */

        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (a->kind == VL_ADDRESS_ABSTRACT) {
                memcpy(sa->sun_path + 1, a->path, l);
                *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l);
        } else {
                memcpy(sa->sun_path, a->path, l);
                *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + 1);
        }
}

static int gai_to_errno(int e) {
        switch (e) {
        case EAI_SYSTEM:
                return errno > 0 ? -errno : -EIO;
        case EAI_MEMORY:
                return -ENOMEM;
        case EAI_AGAIN:
                return -EAGAIN;
        case EAI_FAMILY:
        case EAI_SERVICE:
        case EAI_SOCKTYPE:
        case EAI_BADFLAGS:
                return -EINVAL;
        default: /* EAI_NONAME, EAI_NODATA, EAI_FAIL, ... */
                return -EHOSTUNREACH;
        }
}

static int tcp_resolve(const VlAddress *a, bool passive, struct addrinfo **ret) {
        struct addrinfo hints = {
                .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
        };
        int e = getaddrinfo(a->host, a->port, &hints, ret);
        return e == 0 ? 0 : gai_to_errno(e);
}

/* ---- connecting ---- */

/* connect() on a blocking socket; a signal must not abandon the attempt. */
static int connect_blocking(int fd, const struct sockaddr *sa, socklen_t len) {
        if (connect(fd, sa, len) >= 0)
                return 0;
        if (errno != EINTR)
                return -errno;

        /* Interrupted: the kernel goes on connecting; wait for the outcome. */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        while (poll(&p, 1, -1) < 0)
                if (errno != EINTR)
                        return -errno;
        int err = 0;
        socklen_t l = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                return -errno;
        return -err;
}

static int connect_unix(const VlAddress *a) {
        struct sockaddr_un sa;
        socklen_t len;

        sockaddr_un_from(a, &sa, &len);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect_blocking(fd, (struct sockaddr *)&sa, len);
        if (r < 0)
                return r;
        r = fd_set_nonblock(fd, true);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

static int connect_tcp(const VlAddress *a) {
        struct addrinfo *ai;
        int r = tcp_resolve(a, false, &ai);
        if (r < 0)
                return r;

        r = -EHOSTUNREACH;
        for (struct addrinfo *i = ai; i; i = i->ai_next) {
                _cleanup_close_ int fd = socket(i->ai_family, i->ai_socktype | SOCK_CLOEXEC, i->ai_protocol);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                r = connect_blocking(fd, i->ai_addr, i->ai_addrlen);
                if (r < 0)
                        continue;
                int one = 1;
                if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
                    fd_set_nonblock(fd, true) < 0) {
                        r = -errno;
                        continue;
                }
                r = TAKE_FD(fd);
                break;
        }
        freeaddrinfo(ai);
        return r;
}

/* ---- spawning children ---- */

/* The environment of a service we start with a socket on fd 3. */
typedef struct SpawnEnv {
        char **envp;
        char *owned[4];
        size_t n_owned;
        char *pid_value; /* inside "LISTEN_PID=…": filled in by the child */
} SpawnEnv;

#define PID_DIGITS 24

static bool env_is_activation(const char *e) {
        static const char *const names[] = {
                "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=", "VARLINK_ADDRESS="};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (startswith(e, names[i]))
                        return true;
        return false;
}

static void spawn_env_done(SpawnEnv *env) {
        for (size_t i = 0; i < env->n_owned; i++)
                free(env->owned[i]);
        free(env->envp);
        *env = (SpawnEnv){};
}

static int spawn_env_add(SpawnEnv *env, size_t *n, const char *s, size_t extra) {
        size_t l = strlen(s);
        char *e = malloc(l + extra + 1);
        if (!e)
                return -ENOMEM;
        memcpy(e, s, l + 1);
        env->owned[env->n_owned++] = e;
        env->envp[(*n)++] = e;
        return 0;
}

/* Our environment minus any activation variables of our own, plus
 * LISTEN_FDS=1, LISTEN_FDNAMES=varlink, LISTEN_PID and, if given,
 * VARLINK_ADDRESS. */
static int spawn_env_new(SpawnEnv *ret, const char *varlink_address) {
        SpawnEnv env = {};
        size_t n_env = 0, n = 0;
        int r;

        while (environ && environ[n_env])
                n_env++;
        env.envp = calloc(n_env + ELEMENTSOF(env.owned) + 1, sizeof(char *));
        if (!env.envp)
                return -ENOMEM;
        for (size_t i = 0; i < n_env; i++)
                if (!env_is_activation(environ[i]))
                        env.envp[n++] = environ[i];

        if ((r = spawn_env_add(&env, &n, "LISTEN_FDS=1", 0)) < 0 ||
            (r = spawn_env_add(&env, &n, "LISTEN_FDNAMES=varlink", 0)) < 0 ||
            (r = spawn_env_add(&env, &n, "LISTEN_PID=", PID_DIGITS)) < 0)
                goto fail;
        env.pid_value = env.envp[n - 1] + strlen("LISTEN_PID=");

        if (varlink_address) {
                _cleanup_free_ char *s = malloc(strlen("VARLINK_ADDRESS=") + strlen(varlink_address) + 1);
                if (!s) {
                        r = -ENOMEM;
                        goto fail;
                }
                strcpy(stpcpy(s, "VARLINK_ADDRESS="), varlink_address);
                if ((r = spawn_env_add(&env, &n, s, 0)) < 0)
                        goto fail;
        }
        *ret = env;
        return 0;

fail:
        spawn_env_done(&env);
        return r;
}

typedef struct Spawn {
        const char *path;
        char *const *argv;
        char *const *envp;
        char *pid_value; /* where to write the child's pid, or NULL */
        int fd;          /* the socket to hand over */
        int targets[2];  /* the fd numbers it gets in the child */
        size_t n_targets;
} Spawn;

/* Async-signal-safe decimal formatting. */
static void format_pid(char *buf, pid_t pid) {
        char tmp[PID_DIGITS];
        size_t n = 0;
        unsigned long v = (unsigned long)pid;

        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v > 0 && n < sizeof(tmp));
        for (size_t i = 0; i < n; i++)
                buf[i] = tmp[n - 1 - i];
        buf[n] = '\0';
}

/* In the child after fork(): async-signal-safe calls only. */
static _Noreturn void spawn_child(const Spawn *sp, int errfd) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigset_t none;
        int fd, e;

        /* Ignored signals survive execve() and blocked ones stay blocked
         * (the loop blocks those it reads through a signalfd): reset both. */
        for (int sig = 1; sig < _NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);

        /* Move our fds out of the way of the target numbers first. */
        int high = fcntl(errfd, F_DUPFD_CLOEXEC, 10);
        if (high >= 0)
                errfd = high;
        fd = fcntl(sp->fd, F_DUPFD_CLOEXEC, 10);
        if (fd < 0)
                goto fail;
        for (size_t i = 0; i < sp->n_targets; i++)
                if (dup2(fd, sp->targets[i]) < 0) /* the copy is not close-on-exec */
                        goto fail;

        if (sp->pid_value)
                format_pid(sp->pid_value, getpid());
        execve(sp->path, sp->argv, sp->envp);

fail:
        e = errno;
        (void)!write(errfd, &e, sizeof(e));
        _exit(127);
}

static int spawn(const Spawn *sp, pid_t *ret_pid) {
        int pipefd[2];

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                close(pipefd[0]);
                spawn_child(sp, pipefd[1]);
        }

        close(pipefd[1]);
        int err = 0;
        ssize_t l;
        do
                l = read(pipefd[0], &err, sizeof(err));
        while (l < 0 && errno == EINTR);
        close(pipefd[0]);

        if (l == sizeof(err)) {
                /* execve() failed: the child is ours to reap. */
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return err > 0 ? -err : -EIO;
        }
        *ret_pid = pid;
        return 0;
}

static int connect_exec(const VlAddress *a, pid_t *ret_pid) {
        _cleanup_close_ int ours = -1, theirs = -1;
        SpawnEnv env;
        int pair[2], r;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        ours = pair[0];
        theirs = pair[1];

        r = spawn_env_new(&env, NULL);
        if (r < 0)
                return r;
        char *argv[] = {a->path, NULL};
        Spawn sp = {
                .path = a->path,
                .argv = argv,
                .envp = env.envp,
                .pid_value = env.pid_value,
                .fd = theirs,
                .targets = {3},
                .n_targets = 1,
        };
        r = spawn(&sp, &pid);
        spawn_env_done(&env);
        if (r < 0)
                return r;

        /* Only our end: the child's is another file description and stays blocking. */
        r = fd_set_nonblock(ours, true);
        if (r < 0)
                return r; /* unlikely; the child sees EOF and ends */
        if (ret_pid)
                *ret_pid = pid;
        return TAKE_FD(ours);
}

_public_ int vl_connect_address(const char *address, pid_t *ret_pid) {
        _cleanup_(address_donep) VlAddress a = {.mode = -1};
        int r;

        r = vl_address_parse(address, &a);
        if (r < 0)
                return r;

        switch (a.kind) {
        case VL_ADDRESS_UNIX:
        case VL_ADDRESS_ABSTRACT:
                r = connect_unix(&a);
                break;
        case VL_ADDRESS_TCP:
                r = connect_tcp(&a);
                break;
        case VL_ADDRESS_EXEC:
                return connect_exec(&a, ret_pid);
        default:
                return -EINVAL;
        }
        if (r >= 0 && ret_pid)
                *ret_pid = 0;
        return r;
}

_public_ int vl_spawn_bridge(const char *command, pid_t *ret_pid) {
        _cleanup_close_ int ours = -1, theirs = -1;
        int pair[2], r;
        pid_t pid;

        if (!command)
                return -EINVAL;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        ours = pair[0];
        theirs = pair[1];

        char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)command, NULL};
        Spawn sp = {
                .path = "/bin/sh",
                .argv = argv,
                .envp = environ,
                .fd = theirs,
                .targets = {0, 1},
                .n_targets = 2,
        };
        r = spawn(&sp, &pid);
        if (r < 0)
                return r;
        r = fd_set_nonblock(ours, true);
        if (r < 0)
                return r;
        if (ret_pid)
                *ret_pid = pid;
        return TAKE_FD(ours);
}

/* ---- listening ---- */

/* A socket file nobody listens on any more (ECONNREFUSED) is removed; one
 * somebody still serves is not ours to take. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sa, socklen_t len) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EADDRINUSE;

        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (probe < 0)
                return -errno;
        if (connect(probe, (const struct sockaddr *)sa, len) >= 0 || errno == EAGAIN || errno == EINPROGRESS)
                return -EADDRINUSE;
        if (errno != ECONNREFUSED)
                return 0; /* cannot tell; let bind() report */
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int listen_unix(const VlAddress *a) {
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        sockaddr_un_from(a, &sa, &len);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;

        if (a->kind == VL_ADDRESS_UNIX) {
                r = remove_stale_socket(a->path, &sa, len);
                if (r < 0)
                        return r;
                /* bind() creates the file with the socket inode's mode minus
                 * the umask: narrowing it first means the file is never more
                 * open than asked for, chmod() below makes it exact. */
                if (a->mode >= 0)
                        (void)fchmod(fd, (mode_t)a->mode);
        }

        if (bind(fd, (struct sockaddr *)&sa, len) < 0)
                return -errno;
        if (a->kind == VL_ADDRESS_UNIX && a->mode >= 0 && chmod(a->path, (mode_t)a->mode) < 0) {
                r = -errno;
                (void)unlink(a->path);
                return r;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                if (a->kind == VL_ADDRESS_UNIX)
                        (void)unlink(a->path);
                return r;
        }
        return TAKE_FD(fd);
}

static int listen_tcp(const VlAddress *a) {
        struct addrinfo *ai;
        int r = tcp_resolve(a, true, &ai);
        if (r < 0)
                return r;

        r = -EADDRNOTAVAIL;
        for (struct addrinfo *i = ai; i; i = i->ai_next) {
                _cleanup_close_ int fd =
                        socket(i->ai_family, i->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, i->ai_protocol);
                int one = 1;

                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                /* TCP_NODELAY is inherited by accepted sockets on Linux. */
                if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
                    bind(fd, i->ai_addr, i->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
                        r = -errno;
                        continue;
                }
                r = TAKE_FD(fd);
                break;
        }
        freeaddrinfo(ai);
        return r;
}

static int listen_parsed(const VlAddress *a) {
        switch (a->kind) {
        case VL_ADDRESS_UNIX:
        case VL_ADDRESS_ABSTRACT:
                return listen_unix(a);
        case VL_ADDRESS_TCP:
                return listen_tcp(a);
        default:
                return -EINVAL;
        }
}

_public_ int vl_listen_address(const char *address) {
        _cleanup_(address_donep) VlAddress a = {.mode = -1};

        int r = vl_address_parse(address, &a);
        if (r < 0)
                return r;
        return listen_parsed(&a);
}

/* ---- socket activation ---- */

/* A decimal number in 0..INT_MAX, digits only. */
static int parse_env_int(const char *s, int *ret) {
        long v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (*s - '0');
                if (v > INT_MAX)
                        return -ERANGE;
        }
        *ret = (int)v;
        return 0;
}

/* Is the idx-th colon-separated name "varlink"? */
static bool fd_name_is_varlink(const char *names, int idx) {
        for (int i = 0; i < idx; i++) {
                names = strchr(names, ':');
                if (!names)
                        return false;
                names++;
        }
        size_t l = strcspn(names, ":");
        return l == strlen("varlink") && strncmp(names, "varlink", l) == 0;
}

static int activation_fds(int *fds, int max) {
        const char *e_pid = getenv("LISTEN_PID"), *names = getenv("LISTEN_FDNAMES");
        int pid, n, r;

        if (!e_pid)
                return 0;
        r = parse_env_int(e_pid, &pid);
        if (r < 0)
                return -EINVAL;
        if (pid != getpid())
                return 0; /* meant for a process that forked us */
        const char *e_fds = getenv("LISTEN_FDS");
        if (!e_fds)
                return 0;
        r = parse_env_int(e_fds, &n);
        if (r < 0 || n > INT_MAX - 3)
                return -EINVAL;

        for (int i = 0; i < n; i++) {
                r = fd_set_cloexec(3 + i, true);
                if (r < 0)
                        return r;
        }

        bool any_varlink = false;
        for (int i = 0; names && i < n && !any_varlink; i++)
                any_varlink = fd_name_is_varlink(names, i);

        int count = 0;
        for (int i = 0; i < n && count < max; i++)
                if (!any_varlink || fd_name_is_varlink(names, i))
                        fds[count++] = 3 + i;
        return count;
}

_public_ int vl_activation_fds(int *fds, int max) {
        if (max < 0 || (!fds && max > 0))
                return -EINVAL;

        int r = activation_fds(fds, max);
        /* Never inherited by our own children, whatever the outcome. */
        if (getenv("LISTEN_PID")) {
                unsetenv("LISTEN_PID");
                unsetenv("LISTEN_FDS");
                unsetenv("LISTEN_FDNAMES");
        }
        return r;
}

_public_ bool vl_socket_is_listening(int fd) {
        int v = 0;
        socklen_t l = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0)
                return false;
        return v != 0;
}

/* ---- activated services ---- */

static uint64_t random_u64(void) {
        uint64_t v;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
                return v;
        /* No entropy yet: uniqueness, not secrecy, is what the name needs. */
        static uint64_t counter;
        return vl_now_usec() * 6364136223846793005ull + ++counter;
}

_public_ int vl_spawn_activated(const char *command, char **ret_address, pid_t *ret_pid) {
        _cleanup_(address_donep) VlAddress a = {.mode = -1};
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *address = NULL;
        SpawnEnv env;
        char buf[64];
        pid_t pid;
        int r;

        if (!command || !ret_address)
                return -EINVAL;

        snprintf(buf, sizeof(buf), "unix:@vl-%d-%016" PRIx64, (int)getpid(), random_u64());
        address = strdup(buf);
        if (!address)
                return -ENOMEM;
        r = vl_address_parse(address, &a);
        if (r < 0)
                return r;
        fd = listen_parsed(&a);
        if (fd < 0)
                return fd;
        /* The child gets the socket as systemd would hand it over: blocking.
         * Nobody else shares this file description, we close ours below. */
        r = fd_set_nonblock(fd, false);
        if (r < 0)
                return r;

        r = spawn_env_new(&env, address);
        if (r < 0)
                return r;
        char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)command, NULL};
        Spawn sp = {
                .path = "/bin/sh",
                .argv = argv,
                .envp = env.envp,
                .pid_value = env.pid_value,
                .fd = fd,
                .targets = {3},
                .n_targets = 1,
        };
        r = spawn(&sp, &pid);
        spawn_env_done(&env);
        if (r < 0)
                return r;

        *ret_address = TAKE_PTR(address);
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}
