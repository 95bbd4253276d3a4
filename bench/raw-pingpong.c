/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The physical floor for a Varlink Ping: the same bytes as the call and its
 * reply over an AF_UNIX stream socket, with no JSON and no library.
 *
 *   raw-pingpong server PATH
 *   raw-pingpong client PATH [-t SECONDS] [-c CONNECTIONS] [-n CALLS]
 *
 * The server is one thread on epoll (like a libvl server): it reads what
 * arrived and writes one reply per NUL. The client runs one thread per
 * connection, each doing sequential calls (bench-harness.h).
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench-harness.h"

static const char call_msg[] = "{\"method\":\"org.example.ping.Ping\",\"parameters\":{\"ping\":\"x\"}}";
static const char reply_msg[] = "{\"parameters\":{\"ping\":\"x\"}}";

static int make_addr(const char *path, struct sockaddr_un *sa) {
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa->sun_path)) {
                fprintf(stderr, "socket path too long\n");
                return -1;
        }
        strcpy(sa->sun_path, path);
        return 0;
}

/* Writes all of p, waiting for the socket when it is full (the server's
 * sockets are non-blocking; replies are tiny, so this does not happen in
 * practice). */
static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        sched_yield();
                        continue;
                }
                if (k < 0)
                        return -1;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int run_server(const char *path) {
        struct sockaddr_un sa;
        if (make_addr(path, &sa) < 0)
                return 1;
        unlink(path);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0) {
                perror("raw-pingpong: listen");
                return 1;
        }
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
                perror("raw-pingpong: epoll");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);

        /* Up to 64 replies at once. */
        static char replies[64 * sizeof(reply_msg)];
        for (size_t i = 0; i < 64; i++)
                memcpy(replies + i * sizeof(reply_msg), reply_msg, sizeof(reply_msg));

        for (;;) {
                struct epoll_event events[64];
                int n = epoll_wait(ep, events, 64, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        perror("raw-pingpong: epoll_wait");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        int fd = events[i].data.fd;
                        if (fd == lfd) {
                                int c;
                                while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                                        struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                                        if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
                                                close(c);
                                }
                                continue;
                        }
                        char buf[65536];
                        ssize_t k = read(fd, buf, sizeof(buf));
                        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                                continue;
                        if (k <= 0) {
                                close(fd);
                                continue;
                        }
                        size_t nul = 0;
                        for (const char *p = buf; (p = memchr(p, '\0', (size_t)(buf + k - p))); p++)
                                nul++;
                        while (nul > 0) {
                                size_t m = nul > 64 ? 64 : nul;
                                if (write_all(fd, replies, m * sizeof(reply_msg)) < 0)
                                        break;
                                nul -= m;
                        }
                }
        }
}

typedef struct RawConn {
        int fd;
} RawConn;

static void *raw_connect(const char *path) {
        struct sockaddr_un sa;
        if (make_addr(path, &sa) < 0)
                return NULL;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("raw-pingpong: connect");
                return NULL;
        }
        RawConn *c = malloc(sizeof(*c));
        if (!c)
                return NULL;
        c->fd = fd;
        return c;
}

/* One call: the whole message with its NUL, then read up to the reply's NUL. */
static int raw_call(void *p) {
        RawConn *c = p;
        char buf[256];
        if (write_all(c->fd, call_msg, sizeof(call_msg)) < 0)
                return -1;
        for (;;) {
                ssize_t k = read(c->fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                if (buf[k - 1] == '\0')
                        return 0;
        }
}

static void raw_disconnect(void *p) {
        RawConn *c = p;
        close(c->fd);
        free(c);
}

static const BenchOps raw_ops = {raw_connect, raw_call, raw_disconnect};

int main(int argc, char **argv) {
        double secs = 3;
        unsigned conns = 1;
        uint64_t calls = 0;
        int o;

        if (argc < 3) {
                fprintf(stderr,
                        "usage: raw-pingpong server PATH | client PATH [-t SECS] [-c CONNS] [-n CALLS]\n");
                return 2;
        }
        if (strcmp(argv[1], "server") == 0)
                return run_server(argv[2]);
        if (strcmp(argv[1], "client") != 0)
                return 2;
        optind = 3;
        while ((o = getopt(argc, argv, "t:c:n:")) >= 0) {
                switch (o) {
                case 't':
                        secs = atof(optarg);
                        break;
                case 'c':
                        conns = (unsigned)atoi(optarg);
                        break;
                case 'n':
                        calls = strtoull(optarg, NULL, 10);
                        break;
                default:
                        return 2;
                }
        }
        signal(SIGPIPE, SIG_IGN);
        return bench_run(&raw_ops, argv[2], conns ? conns : 1, secs, calls);
}
