/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a container's k8s-file log (conmon writes it): lines of
 * "<RFC3339Nano time> stdout|stderr F|P <message>". Follow uses inotify on
 * the file and stops when the container is no longer running.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>

#include "container-internal.h"
#include "engine-internal.h"
#include "util.h"

/* "2024-01-02T03:04:05.123456789Z" or with a +hh:mm offset → ns */
static int64_t parse_time(const char *s) {
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return 0;
        int64_t ns = 0, scale = 100000000;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
                        ns += (*p - '0') * scale;
        int64_t off = 0;
        if (*p == '+' || *p == '-') {
                int h = 0, m = 0;
                sscanf(p + 1, "%d:%d", &h, &m);
                off = (h * 3600 + m * 60) * (*p == '+' ? 1 : -1);
        }
        return ((int64_t)timegm(&tm) - off) * 1000000000 + ns;
}

typedef struct LogLine {
        int64_t t;
        char *stream;
        bool partial;
        char *msg;
} LogLine;

static bool parse_line(char *line, LogLine *l) {
        char *sp1 = strchr(line, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        char *sp3 = sp2 ? strchr(sp2 + 1, ' ') : NULL;
        if (!sp3)
                return false;
        *sp1 = *sp2 = *sp3 = 0;
        l->t = parse_time(line);
        l->stream = sp1 + 1;
        l->partial = sp2[1] == 'P';
        l->msg = sp3 + 1;
        return true;
}

static bool in_range(const LogOptions *o, int64_t t) {
        return (!o->since || t >= o->since) && (!o->until || t <= o->until);
}

/* Emit complete lines of buf[0..*len), keep the tail; skip the first `skip` lines. */
static int emit(char *buf, size_t *len, const LogOptions *o, int64_t *skip, LogLineFn fn, void *ud) {
        size_t start = 0;
        for (;;) {
                char *nl = memchr(buf + start, '\n', *len - start);
                if (!nl)
                        break;
                *nl = 0;
                LogLine l;
                if (parse_line(buf + start, &l) && in_range(o, l.t)) {
                        if (*skip > 0)
                                (*skip)--;
                        else {
                                int r = fn(l.t, l.stream, l.partial, l.msg, strlen(l.msg), ud);
                                if (r < 0)
                                        return r;
                        }
                }
                start = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, *len - start);
        *len -= start;
        return 0;
}

static int64_t count_lines(int fd, const LogOptions *o) {
        char buf[65536], line[65536];
        size_t ll = 0;
        int64_t n = 0;
        ssize_t k;
        while ((k = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t i = 0; i < k; i++) {
                        if (buf[i] != '\n') {
                                if (ll < sizeof line - 1)
                                        line[ll++] = buf[i];
                                continue;
                        }
                        line[ll] = 0;
                        ll = 0;
                        LogLine l;
                        if (parse_line(line, &l) && in_range(o, l.t))
                                n++;
                }
        lseek(fd, 0, SEEK_SET);
        return n;
}

int container_logs(Engine *e, const char *ref, const LogOptions *o, LogLineFn fn, void *userdata,
                   CpodError *err) {
        Container c = {};
        int r = container_get(e, ref, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = container_path(e, c.id, "ctr.log");
        _cleanup_free_ char *buf = malloc(1 << 20);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        _cleanup_close_ int ifd = -1;
        size_t len = 0;
        int64_t skip = 0;
        if (!buf || !path) {
                container_done(&c);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        if (fd < 0 && errno != ENOENT) {
                container_done(&c);
                return cpod_error_errno(err, errno, "open `%s`", path);
        }
        if (fd >= 0 && o->tail >= 0) {
                int64_t total = count_lines(fd, o);
                skip = total > o->tail ? total - o->tail : 0;
        }
        if (o->follow && fd >= 0 && (ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) >= 0)
                (void)inotify_add_watch(ifd, path, IN_MODIFY);
        for (;;) {
                ssize_t k = fd >= 0 ? read(fd, buf + len, (1 << 20) - 1 - len) : 0;
                if (k > 0) {
                        len += (size_t)k;
                        r = emit(buf, &len, o, &skip, fn, userdata);
                        if (r < 0)
                                break;
                        if (len == (1 << 20) - 1)
                                len = 0; /* an absurdly long line: drop it */
                        continue;
                }
                if (!o->follow || fd < 0)
                        break;
                Container now = {};
                CpodError e2 = {};
                bool running = container_get(e, c.id, &now, &e2) >= 0 &&
                               (now.state == CONTAINER_RUNNING || now.state == CONTAINER_PAUSED);
                container_done(&now);
                if (!running) {
                        /* one last read after the exit */
                        while ((k = read(fd, buf + len, (1 << 20) - 1 - len)) > 0) {
                                len += (size_t)k;
                                if (emit(buf, &len, o, &skip, fn, userdata) < 0)
                                        break;
                        }
                        break;
                }
                struct pollfd p = {.fd = ifd, .events = POLLIN};
                if (poll(&p, 1, 250) > 0) {
                        char junk[4096];
                        while (read(ifd, junk, sizeof junk) > 0)
                                ;
                }
        }
        container_done(&c);
        return r < 0 ? r : 0;
}
