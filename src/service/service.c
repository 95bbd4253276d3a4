/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * `cpod varlink`: the parent process. It takes socket-activated fds or binds
 * the address, accepts connections and forks one child per connection
 * (connection.c). It holds no engine state, so a child that blocks in a
 * pull or a wait, or crashes, affects its own connection only.
 *
 * The idle timeout counts only while no connection is open: a client that
 * keeps a connection open keeps the service. With no listening socket at
 * all (an activated, already connected socket) the service ends when its
 * last connection does.
 */

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <vl/loop.h>
#include <vl/transport.h>

#include "service-internal.h"
#include "service.h"
#include "util.h"

/* Connections served at once; more are closed right after accept. */
#define MAX_CHILDREN 1024u
/* Activated fds adopted at most. */
#define MAX_ACTIVATED 16
/* An idle timeout beyond a year is a typo, not a wish. */
#define MAX_TIMEOUT_MS (366ULL * 24 * 3600 * 1000)

typedef struct Parent {
        VlLoop *loop;
        EngineOptions options;
        ServicePrepared *prepared; /* parsed interfaces and bound methods, inherited by children */
        int listen_fds[MAX_ACTIVATED];
        VlSource *listen_sources[MAX_ACTIVATED];
        size_t n_listen;
        char *socket_path; /* bound by us: removed on exit */
        uint64_t timeout_usec;
        VlSource *idle;
        pid_t *children;
        size_t n_children, cap_children;
        bool refused_logged;
} Parent;

static void parent_done(Parent *p) {
        for (size_t i = 0; i < p->n_listen; i++) {
                vl_source_free(p->listen_sources[i]);
                safe_close(p->listen_fds[i]);
        }
        p->n_listen = 0;
        if (p->socket_path) {
                (void)unlink(p->socket_path);
                free(p->socket_path);
                p->socket_path = NULL;
        }
        p->loop = vl_loop_free(p->loop);
        p->prepared = service_prepared_free(p->prepared);
        free(p->children);
}

static void idle_update(Parent *p) {
        if (p->n_children > 0) {
                if (p->idle)
                        (void)vl_source_set_enabled(p->idle, false);
                return;
        }
        if (p->n_listen == 0) {
                /* nothing can connect any more */
                vl_loop_quit(p->loop, 0);
                return;
        }
        if (p->idle)
                (void)vl_source_set_time(p->idle, vl_now_usec() + p->timeout_usec);
}

static int on_idle(VlSource *s, uint64_t now, void *userdata) {
        Parent *p = userdata;
        if (p->n_children == 0)
                vl_loop_quit(p->loop, 0);
        return 0;
}

static int on_child(VlSource *s, pid_t pid, int status, void *userdata) {
        Parent *p = userdata;

        for (size_t i = 0; i < p->n_children; i++)
                if (p->children[i] == pid) {
                        p->children[i] = p->children[--p->n_children];
                        break;
                }
        vl_source_free(s);
        idle_update(p);
        return 0;
}

static int on_signal(VlSource *s, int signo, void *userdata) {
        Parent *p = userdata;

        /* connections end with the service, as they would under systemd's control-group kill */
        for (size_t i = 0; i < p->n_children; i++)
                (void)kill(p->children[i], SIGTERM);
        vl_loop_quit(p->loop, 0);
        return 0;
}

/* In the child: keep only fd (as 3) and stdio, restore signals, serve. */
static _Noreturn void child_run(Parent *p, int fd) {
        sigset_t none;

        if (fd != 3) {
                if (dup3(fd, 3, O_CLOEXEC) < 0)
                        _exit(EXIT_FAILURE);
        }
        /* the parent's listeners, epoll, signalfd and pidfds: the epoll
         * instance is shared, so it is closed, never modified */
        (void)close_range(4, UINT_MAX, 0);
        if (fd < 3)
                (void)close(fd);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGPIPE, SIG_IGN);

        int r = service_serve_connection(p->prepared, 3);
        if (r < 0)
                fprintf(stderr, "cpod varlink: connection: %s\n", strerror(-r));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

/* A unix peer must be root or the service's own user (the socket's mode is the first guard: this one
 * holds when a socket was made wider by hand); peers of other sockets (tcp:) carry no credentials. */
static bool peer_allowed(int fd) {
        struct sockaddr_storage sa;
        socklen_t sa_len = sizeof(sa);
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockname(fd, (struct sockaddr *)&sa, &sa_len) < 0 || sa.ss_family != AF_UNIX)
                return true;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
                return false;
        return cred.uid == 0 || cred.uid == geteuid();
}

/* Hand a connected socket (owned) to a new child. */
static int spawn_connection(Parent *p, int fd) {
        if (!peer_allowed(fd)) {
                fprintf(stderr, "cpod varlink: refusing a connection from another user\n");
                close(fd);
                return 0;
        }
        if (p->n_children >= MAX_CHILDREN || VL_GROW(p->children, p->cap_children, p->n_children + 1) < 0) {
                if (!p->refused_logged)
                        fprintf(stderr, "cpod varlink: too many connections, refusing new ones\n");
                p->refused_logged = true;
                close(fd);
                return 0;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(fd);
                fprintf(stderr, "cpod varlink: fork: %s\n", strerror(-r));
                return 0; /* a transient failure ends one connection, not the service */
        }
        if (pid == 0)
                child_run(p, fd);
        close(fd);
        p->refused_logged = false;
        p->children[p->n_children++] = pid;
        int r = vl_loop_add_child(p->loop, pid, on_child, p, NULL);
        if (r < 0) {
                /* cannot watch it: stop it rather than count it forever */
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                p->n_children--;
        }
        idle_update(p);
        return 0;
}

static int on_listen(VlSource *s, int fd, uint32_t revents, void *userdata) {
        Parent *p = userdata;

        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                fprintf(stderr, "cpod varlink: accept: %s\n", strerror(errno));
                                return 0;
                        }
                        return -errno;
                }
                spawn_connection(p, c);
        }
}

static int add_listener(Parent *p, int fd) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        int r = vl_loop_add_io(p->loop, fd, EPOLLIN, on_listen, p, &p->listen_sources[p->n_listen]);
        if (r < 0)
                return r;
        p->listen_fds[p->n_listen++] = fd;
        return 0;
}

/* mkdir -p of the parent directory of path; created directories are 0700. */
static int mkdir_parents(const char *path) {
        _cleanup_free_ char *d = strdup(path);
        if (!d)
                return -ENOMEM;
        char *slash = strrchr(d, '/');
        if (!slash || slash == d)
                return 0;
        *slash = '\0';
        for (char *q = d + 1;; q++) {
                bool end = *q == '\0';
                if (*q != '/' && !end)
                        continue;
                *q = '\0';
                if (mkdir(d, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (end)
                        return 0;
                *q = '/';
        }
}

int service_default_address(char **ret);
int service_default_address(char **ret) {
        char *a;

        if (geteuid() == 0)
                a = strdup("unix:/run/podman/io.podman");
        else {
                const char *rt = getenv("XDG_RUNTIME_DIR");
                if (!rt || rt[0] != '/')
                        return -ENXIO;
                if (asprintf(&a, "unix:%s/podman/io.podman", rt) < 0)
                        a = NULL;
        }
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

/* Bind address: a file socket gets its directory and mode 0600 unless the
 * address says otherwise. */
static int bind_address(Parent *p, const char *address) {
        _cleanup_(vl_address_done) VlAddress a = {.mode = -1};
        _cleanup_free_ char *with_mode = NULL;
        int r = vl_address_parse(address, &a);
        if (r < 0)
                return r;
        if (a.kind == VL_ADDRESS_EXEC)
                return -EINVAL;
        if (a.kind == VL_ADDRESS_UNIX) {
                r = mkdir_parents(a.path);
                if (r < 0)
                        return r;
                if (a.mode < 0) {
                        if (asprintf(&with_mode, "%s;mode=0600", address) < 0)
                                return -ENOMEM;
                        address = with_mode;
                }
        }
        int fd = vl_listen_address(address);
        if (fd < 0)
                return fd;
        if (a.kind == VL_ADDRESS_UNIX) {
                /* from here on the file is ours to remove */
                p->socket_path = TAKE_PTR(a.path);
        }
        r = add_listener(p, fd);
        if (r < 0)
                close(fd);
        return r;
}

/* Socket activation: listening fds are accepted on; connected ones (exec:,
 * Accept=yes) are served like accepted connections. Returns the number of
 * fds adopted. */
static int adopt_activated(Parent *p) {
        int fds[MAX_ACTIVATED];
        int n = vl_activation_fds(fds, MAX_ACTIVATED);
        if (n <= 0)
                return n;
        int r = 0;
        for (int i = 0; i < n; i++) {
                if (r < 0)
                        close(fds[i]);
                else if (vl_socket_is_listening(fds[i])) {
                        r = add_listener(p, fds[i]);
                        if (r < 0)
                                close(fds[i]);
                } else
                        r = spawn_connection(p, fds[i]);
        }
        return r < 0 ? r : n;
}

static void usage(FILE *f) {
        fputs("Usage: cpod varlink [--timeout MS] [ADDRESS]\n"
              "       cpod system service [--varlink] [--timeout MS] [ADDRESS]\n\n"
              "Serve the io.podman, io.projectatomic.podman and io.cpod Varlink interfaces.\n\n"
              "  -t, --timeout MS   exit after MS milliseconds without connections (0: never)\n"
              "  -h, --help         show this help\n\n"
              "Without socket activation the service listens on ADDRESS (default\n"
              "unix:/run/podman/io.podman, or unix:$XDG_RUNTIME_DIR/podman/io.podman when not root).\n",
              f);
}

enum { OPT_ROOT = 0x100, OPT_RUNROOT, OPT_STORAGE_DRIVER, OPT_REGISTRIES_CONF };

/* Returns 1 to go on, 0 to exit successfully (help), < 0 on a usage error. */
static int parse_args(int argc, char **argv, Parent *p, const char **ret_address) {
        static const struct option options[] = {
                {"timeout", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {"root", required_argument, NULL, OPT_ROOT},
                {"runroot", required_argument, NULL, OPT_RUNROOT},
                {"storage-driver", required_argument, NULL, OPT_STORAGE_DRIVER},
                {"registries-conf", required_argument, NULL, OPT_REGISTRIES_CONF},
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "t:h", options, NULL)) >= 0) {
                switch (c) {
                case 't': {
                        char *end;
                        errno = 0;
                        unsigned long long ms = strtoull(optarg, &end, 10);
                        if (errno || end == optarg || *end || optarg[0] == '-' || ms > MAX_TIMEOUT_MS) {
                                fprintf(stderr, "cpod varlink: invalid timeout `%s`\n", optarg);
                                return -EINVAL;
                        }
                        p->timeout_usec = ms * 1000;
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                case OPT_ROOT:
                        p->options.root = optarg;
                        break;
                case OPT_RUNROOT:
                        p->options.runroot = optarg;
                        break;
                case OPT_STORAGE_DRIVER:
                        p->options.storage_driver = optarg;
                        break;
                case OPT_REGISTRIES_CONF:
                        p->options.registries_conf = optarg;
                        break;
                default:
                        fprintf(stderr, "cpod varlink: unknown or incomplete option `%s`\n",
                                argv[optind - 1]);
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (argc - optind > 1) {
                fprintf(stderr, "cpod varlink: too many arguments\n");
                return -EINVAL;
        }
        *ret_address = optind < argc ? argv[optind] : NULL;
        return 1;
}

static int parent_setup(Parent *p, const char *address) {
        _cleanup_free_ char *def = NULL;
        int r;

        /* parsed once here rather than in every connection's child */
        r = service_prepare(&p->options, &p->prepared);
        if (r < 0) {
                fprintf(stderr, "cpod varlink: cannot set up the interfaces: %s\n", strerror(-r));
                return r;
        }
        r = vl_loop_new(&p->loop);
        if (r < 0)
                return r;
        if ((r = vl_loop_add_signal(p->loop, SIGTERM, on_signal, p, NULL)) < 0 ||
            (r = vl_loop_add_signal(p->loop, SIGINT, on_signal, p, NULL)) < 0)
                return r;
        if (p->timeout_usec > 0) {
                r = vl_loop_add_timer(p->loop, vl_now_usec() + p->timeout_usec, on_idle, p, &p->idle);
                if (r < 0)
                        return r;
        }
        r = adopt_activated(p);
        if (r < 0) {
                fprintf(stderr, "cpod varlink: socket activation: %s\n", strerror(-r));
                return r;
        }
        if (r > 0)
                return 0;
        if (!address) {
                r = service_default_address(&def);
                if (r < 0) {
                        fprintf(stderr, "cpod varlink: no address given and XDG_RUNTIME_DIR is not set\n");
                        return r;
                }
                address = def;
        }
        r = bind_address(p, address);
        if (r < 0)
                fprintf(stderr, "cpod varlink: listen on `%s`: %s\n", address, strerror(-r));
        return r;
}

int service_main(int argc, char **argv) {
        Parent p = {};
        const char *address = NULL;

        int r = parse_args(argc, argv, &p, &address);
        if (r <= 0)
                return r < 0 ? 2 : EXIT_SUCCESS;
        (void)signal(SIGPIPE, SIG_IGN);

        r = parent_setup(&p, address);
        if (r >= 0) {
                idle_update(&p);
                r = vl_loop_run(p.loop);
                if (r < 0)
                        fprintf(stderr, "cpod varlink: %s\n", strerror(-r));
        }
        parent_done(&p);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
