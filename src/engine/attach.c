/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attaching through conmon's attach socket (SOCK_SEQPACKET): packets from
 * conmon start with a stream byte (2 stdout, 3 stderr); stdin goes as plain
 * bytes. A terminal is put in raw mode and its size sent to conmon's winsz
 * fifo ("ROWS COLS\n").
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "container-internal.h"
#include "engine-internal.h"
#include "util.h"

#define ATTACH_BUF 32768

int attach_connect(const char *path, int *ret_fd, CpodError *err) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int dfd = -1;
        if (strlen(path) < sizeof sa.sun_path)
                strcpy(sa.sun_path, path);
        else {
                /* too long for sun_path: go through the directory's fd */
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : NULL;
                if (!dir)
                        return cpod_error(err, ENOMEM, "out of memory");
                dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return cpod_error_errno(err, errno, "open `%s`", dir);
                if (snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1) >=
                    (int)sizeof sa.sun_path)
                        return cpod_error(err, ENAMETOOLONG, "attach socket path too long: `%s`", path);
        }
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cpod_error_errno(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int k = errno;
                close(fd);
                return cpod_error_errno(err, k, "connect to the attach socket `%s`", path);
        }
        *ret_fd = fd;
        return 0;
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

static void send_winsz(int tty_fd, const char *winsz_path) {
        struct winsize ws;
        char buf[64];
        if (!winsz_path || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0)
                return;
        int fd = open(winsz_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return;
        int n = snprintf(buf, sizeof buf, "%u %u\n", ws.ws_row, ws.ws_col);
        (void)!write(fd, buf, (size_t)n);
        close(fd);
}

/* ctrl-p,ctrl-q → bytes 0x10 0x11 */
static size_t parse_detach_keys(const char *s, char out[8]) {
        size_t n = 0;
        if (!s)
                s = "ctrl-p,ctrl-q";
        _cleanup_free_ char *copy = strdup(s);
        for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < 8;
             t = strtok_r(NULL, ",", &save)) {
                const char *c = startswith(t, "ctrl-");
                if (c && strlen(c) == 1)
                        out[n++] = (char)((*c >= 'a' && *c <= 'z' ? *c - 'a' + 1 : *c & 0x1f));
                else if (strlen(t) == 1)
                        out[n++] = *t;
        }
        return n;
}

int attach_relay(int sock, const ContainerStdio *stdio, bool tty, const char *winsz_path, bool *ret_detached,
                 CpodError *err) {
        struct termios saved;
        bool raw = false, in_open = stdio->in_fd >= 0;
        char keys[8], *buf = malloc(ATTACH_BUF + 1);
        size_t n_keys = parse_detach_keys(stdio->detach_keys, keys), matched = 0;
        int r = 0;

        *ret_detached = false;
        if (!buf)
                return cpod_error(err, ENOMEM, "out of memory");
        if (tty && in_open && isatty(stdio->in_fd) && tcgetattr(stdio->in_fd, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(stdio->in_fd, TCSANOW, &t) == 0;
                send_winsz(stdio->in_fd, winsz_path);
        }
        for (;;) {
                struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
                                      {.fd = in_open ? stdio->in_fd : -1, .events = POLLIN}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = cpod_error_errno(err, errno, "poll");
                        break;
                }
                if (p[0].revents) {
                        ssize_t k = recv(sock, buf, ATTACH_BUF + 1, 0);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break; /* conmon closed: the container exited */
                        int out = buf[0] == 3 ? stdio->err_fd : stdio->out_fd;
                        if (out >= 0 && k > 1)
                                (void)write_all(out, buf + 1, (size_t)k - 1);
                }
                if (p[1].revents) {
                        ssize_t k = read(stdio->in_fd, buf, ATTACH_BUF);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                in_open = false;
                                (void)shutdown(sock, SHUT_WR);
                                continue;
                        }
                        for (ssize_t i = 0; tty && n_keys && i < k; i++) {
                                matched = buf[i] == keys[matched] ? matched + 1 : buf[i] == keys[0] ? 1 : 0;
                                if (matched == n_keys)
                                        *ret_detached = true;
                        }
                        if (*ret_detached)
                                break;
                        if (send(sock, buf, (size_t)k, MSG_NOSIGNAL) < 0 && errno != EINTR)
                                in_open = false;
                }
        }
        if (raw)
                tcsetattr(stdio->in_fd, TCSANOW, &saved);
        free(buf);
        return r;
}

int container_attach(Engine *e, const char *ref, const ContainerStdio *stdio, int *ret_exit_code,
                     bool *ret_detached, CpodError *err) {
        Container c = {};
        int sock = -1, code;
        int64_t when;
        int r = container_get(e, ref, &c, err);
        if (r < 0)
                return r;
        if (c.state != CONTAINER_RUNNING && c.state != CONTAINER_PAUSED) {
                r = cpod_error(err, EINVAL, "you can only attach to running containers");
                container_done(&c);
                return r;
        }
        _cleanup_free_ char *path = container_run_path(e, c.id, "attach");
        _cleanup_free_ char *winsz = container_run_path(e, c.id, "winsz");
        r = path && winsz ? attach_connect(path, &sock, err) : cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0)
                r = attach_relay(sock, stdio, c.tty, winsz, ret_detached, err);
        safe_close(sock);
        if (r >= 0 && !*ret_detached) {
                r = container_wait(e, c.id, "exited", &code, err);
                if (r >= 0 && ret_exit_code)
                        *ret_exit_code = code;
        }
        (void)when;
        container_done(&c);
        return r;
}
