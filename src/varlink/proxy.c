/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <poll.h>
#include <sys/socket.h>

#include "varlink-tool.h"

/* Like cli_write_all, but waits when fd is non-blocking (inherited sockets often are). */
static int write_blocking(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                return -errno;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static bool is_hangup(int r) {
        return r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN;
}

/* One read from from and its copy to to. Returns > 0 if data moved, 0 at end of input, -errno on
 * failure of the read (-ESHUTDOWN for the write side: the reader went away). */
static int pump(int from, int to, char *buf, size_t size) {
        ssize_t n;
        int r;

        do
                n = read(from, buf, size);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                return 1;
        if (n < 0)
                return is_hangup(-errno) ? 0 : -errno;
        if (n == 0)
                return 0;
        r = write_blocking(to, buf, (size_t)n);
        if (r < 0)
                return is_hangup(r) ? -ESHUTDOWN : r;
        return 1;
}

/* Tells the reader of fd that no more data comes: a socket can say so and stay open, anything else
 * has to be closed (we exit right after). */
static void end_output(int fd) {
        if (shutdown(fd, SHUT_WR) < 0)
                close(fd);
}

int cli_proxy(int in_fd, int out_fd, int sock, const char *pending, size_t n_pending) {
        static char buf[65536];
        bool in_open = true;
        int r;

        if (n_pending > 0) {
                r = write_blocking(out_fd, pending, n_pending);
                if (r < 0)
                        return is_hangup(r) ? 0 : r;
        }
        /* The service closing its side ends the session: whatever we would still send cannot be answered. */
        for (;;) {
                struct pollfd p[2] = {
                        {.fd = sock, .events = POLLIN},
                        {.fd = in_open ? in_fd : -1, .events = POLLIN},
                };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents) {
                        r = pump(sock, out_fd, buf, sizeof buf);
                        if (r == -ESHUTDOWN)
                                return 0;
                        if (r <= 0) {
                                end_output(out_fd);
                                return r;
                        }
                }
                if (in_open && p[1].revents) {
                        r = pump(in_fd, sock, buf, sizeof buf);
                        if (r == 0 || r == -ESHUTDOWN) {
                                in_open = false;
                                (void)shutdown(sock, SHUT_WR);
                        } else if (r < 0)
                                return r;
                }
        }
}
