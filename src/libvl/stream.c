/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "stream.h"
#include "util.h"
#include <vl/loop.h>

#define IN_INITIAL     4096u
#define IN_READ_MAX    (256u * 1024u) /* bytes per read: bounds one connection's turn */
#define BUF_KEEP_LIMIT (64u * 1024u)  /* larger buffers are freed once empty */

void vl_stream_init(VlStream *s, int fd, size_t max_message) {
        *s = (VlStream){.fd = fd, .max_message = max_message};
}

void vl_stream_close_in_fds(VlStream *s) {
        for (unsigned i = 0; i < s->n_in_fds; i++)
                safe_close(s->in_fds[i]);
        s->n_in_fds = 0;
}

void vl_stream_done(VlStream *s, bool keep_fd) {
        vl_stream_close_in_fds(s);
        for (unsigned i = 0; i < s->n_out_fds; i++)
                safe_close(s->out_fds[i]);
        s->n_out_fds = 0;
        free(s->in);
        free(s->out);
        s->in = s->out = NULL;
        s->in_cap = s->out_cap = s->in_len = s->out_len = s->in_start = s->out_start = 0;
        if (!keep_fd)
                safe_close(s->fd);
        s->fd = -1;
}

/* Make room for at least one more read of input. */
static int in_make_room(VlStream *s) {
        if (s->in_len == 0)
                s->in_start = 0;
        if (s->in && s->in_start + s->in_len < s->in_cap)
                return 0;
        if (s->in_start > 0) {
                memmove(s->in, s->in + s->in_start, s->in_len);
                s->in_start = 0;
                if (s->in_len < s->in_cap)
                        return 0;
        }
        size_t limit = s->max_message + 1;
        if (s->in_cap >= limit)
                return -E2BIG;
        size_t n = s->in_cap ? s->in_cap * 2 : IN_INITIAL;
        if (n > limit)
                n = limit;
        char *p = realloc(s->in, n);
        if (!p)
                return -ENOMEM;
        s->in = p;
        s->in_cap = n;
        return 0;
}

static void collect_fds(VlStream *s, struct msghdr *mh) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *)CMSG_DATA(c);
                for (size_t i = 0; i < n; i++) {
                        if (s->n_in_fds < VL_STREAM_MAX_FDS)
                                s->in_fds[s->n_in_fds++] = fds[i];
                        else
                                safe_close(fds[i]);
                }
        }
}

static ssize_t recv_some(VlStream *s, char *p, size_t n, int flags) {
        if (!s->accept_fds || (flags & MSG_PEEK)) {
                ssize_t k =
                        recv(s->fd, p, n, flags | (s->blocking && !(flags & MSG_PEEK) ? 0 : MSG_DONTWAIT));
                if (k < 0 && errno == ENOTSOCK && !(flags & MSG_PEEK))
                        k = read(s->fd, p, n);
                return k;
        }
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * VL_STREAM_MAX_FDS)];
        } control;
        struct iovec iov = {p, n};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = &control,
                            .msg_controllen = sizeof(control)};
        ssize_t k = recvmsg(s->fd, &mh, flags | (s->blocking ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
        if (k >= 0)
                collect_fds(s, &mh);
        return k;
}

static int consume_peeked(VlStream *s, char *dst, size_t n) {
        size_t done = 0;
        while (done < n) {
                ssize_t k = recv_some(s, dst + done, n - done, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -ECONNRESET;
                done += (size_t)k;
        }
        return 0;
}

int vl_stream_read(VlStream *s) {
        int r = in_make_room(s);
        if (r < 0)
                return r;
        size_t free_bytes = s->in_cap - s->in_start - s->in_len;
        if (free_bytes > IN_READ_MAX)
                free_bytes = IN_READ_MAX;
        char *dst = s->in + s->in_start + s->in_len;
        ssize_t k = recv_some(s, dst, free_bytes, s->peek ? MSG_PEEK : 0);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (k == 0) {
                s->eof = true;
                return -ECONNRESET;
        }
        if (s->peek) {
                /* Take bytes up to and including the first NUL only: whatever
                 * follows may be raw data after an upgrading call. */
                char *nul = memchr(dst, 0, (size_t)k);
                if (nul)
                        k = nul - dst + 1;
                r = consume_peeked(s, dst, (size_t)k);
                if (r < 0)
                        return r;
        }
        s->in_len += (size_t)k;
        return (int)k;
}

int vl_stream_take(VlStream *s, char **ret, size_t *ret_len) {
        if (!s->in)
                return 0; /* nothing was read yet */
        char *base = s->in + s->in_start;
        char *nul = s->in_len > s->in_scanned ? memchr(base + s->in_scanned, 0, s->in_len - s->in_scanned)
                                              : NULL;
        if (!nul) {
                s->in_scanned = s->in_len;
                if (s->in_len > s->max_message)
                        return -E2BIG;
                return 0;
        }
        size_t len = (size_t)(nul - base);
        if (len > s->max_message)
                return -E2BIG;
        s->in_start += len + 1;
        s->in_len -= len + 1;
        s->in_scanned = 0;
        *ret = base;
        *ret_len = len;
        return 1;
}

char *vl_stream_out_reserve(VlStream *s, size_t n) {
        if (s->out_start > 0 && s->out_start == s->out_len)
                s->out_start = s->out_len = 0;
        if (s->out_len + n > s->out_cap) {
                if (s->out_start > 0) {
                        memmove(s->out, s->out + s->out_start, s->out_len - s->out_start);
                        s->out_len -= s->out_start;
                        s->out_start = 0;
                }
                if (VL_GROW(s->out, s->out_cap, s->out_len + n) < 0)
                        return NULL;
        }
        return s->out + s->out_len;
}

int vl_stream_queue(VlStream *s, const char *p, size_t n) {
        char *dst = vl_stream_out_reserve(s, n);
        if (!dst)
                return -ENOMEM;
        memcpy(dst, p, n);
        s->out_len += n;
        return 0;
}

static ssize_t send_some(VlStream *s, const char *p, size_t n) {
        if (s->n_out_fds == 0) {
                ssize_t k = send(s->fd, p, n, MSG_NOSIGNAL);
                if (k < 0 && errno == ENOTSOCK)
                        k = write(s->fd, p, n);
                return k;
        }
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * VL_STREAM_MAX_FDS)];
        } control = {};
        struct iovec iov = {(void *)p, n};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = &control,
                            .msg_controllen = CMSG_SPACE(sizeof(int) * s->n_out_fds)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * s->n_out_fds);
        memcpy(CMSG_DATA(c), s->out_fds, sizeof(int) * s->n_out_fds);
        ssize_t k = sendmsg(s->fd, &mh, MSG_NOSIGNAL);
        if (k > 0) {
                for (unsigned i = 0; i < s->n_out_fds; i++)
                        safe_close(s->out_fds[i]);
                s->n_out_fds = 0;
        }
        return k;
}

int vl_stream_flush(VlStream *s) {
        while (s->out_start < s->out_len) {
                ssize_t k = send_some(s, s->out + s->out_start, s->out_len - s->out_start);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                s->out_start += (size_t)k;
        }
        s->out_start = s->out_len = 0;
        if (s->out_cap > BUF_KEEP_LIMIT) {
                free(s->out);
                s->out = NULL;
                s->out_cap = 0;
        }
        if (s->in_len == 0 && s->in_cap > BUF_KEEP_LIMIT) {
                free(s->in);
                s->in = NULL;
                s->in_cap = s->in_start = 0;
        }
        return 1;
}

int vl_stream_flush_all(VlStream *s, uint64_t timeout_usec) {
        uint64_t deadline = timeout_usec ? vl_now_usec() + timeout_usec : 0;
        for (;;) {
                int r = vl_stream_flush(s);
                if (r != 0)
                        return r;
                int ms = -1;
                if (deadline) {
                        uint64_t now = vl_now_usec();
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        ms = (int)((deadline - now + 999) / 1000);
                }
                struct pollfd p = {.fd = s->fd, .events = POLLOUT};
                if (poll(&p, 1, ms) < 0 && errno != EINTR)
                        return -errno;
        }
}

int vl_stream_take_fd(VlStream *s, unsigned idx) {
        if (idx >= s->n_in_fds || s->in_fds[idx] < 0)
                return -EBADF;
        int fd = s->in_fds[idx];
        s->in_fds[idx] = -1;
        return fd;
}

int vl_stream_push_fd(VlStream *s, int fd) {
        if (s->n_out_fds >= VL_STREAM_MAX_FDS)
                return -ENOBUFS;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        s->out_fds[s->n_out_fds++] = copy;
        return 0;
}
