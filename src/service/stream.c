/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replies made by a process of their own (GetContainersLogs, GetEvents,
 * WaitContainer): a producer process
 * forked from the connection's process writes one reply per line on a
 * pipe, "<kind><JSON>\n" with kind M (more), F (final) or E (error:
 * {"error": NAME, "parameters": {...}}); the connection's loop passes each
 * on as it arrives. The call stays open while the producer follows a log;
 * the loop keeps watching the client, and a client that hangs up gets its
 * producer killed, leaving every other connection (each its own process)
 * untouched.
 */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers-internal.h"
#include "util.h"

/* How often the loop looks whether the client is still there. */
#define CHECK_USEC (250 * 1000)
/* A reply line longer than this is a producer bug. */
#define MAX_LINE (8u << 20)

typedef struct Stream {
        VlCall *call;
        int fd;
        pid_t pid;
        VlSource *io, *timer;
        VlBuf buf;
        bool done;
} Stream;

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int stream_emit(int fd, char kind, const char *error, VlJson *params) {
        VlBuf b = VL_BUF_INIT;
        int r = vl_buf_append_char(&b, kind);

        if (error) {
                VlJson *o = vl_json_new_object();
                if (!o || vl_json_object_set_string(o, "error", error) < 0 ||
                    vl_json_object_set(o, "parameters", params ? params : vl_json_new_object()) < 0)
                        r = -ENOMEM;
                params = NULL;
                r = r < 0 ? r : vl_json_write(&b, o, 0);
                vl_json_unref(o);
        } else if (params)
                r = r < 0 ? r : vl_json_write(&b, params, 0);
        else
                r = r < 0 ? r : vl_buf_append_str(&b, "{}");
        vl_json_unref(params);
        r = r < 0 ? r : vl_buf_append_char(&b, '\n');
        r = r < 0 ? r : write_all(fd, b.data, b.len);
        vl_buf_free(&b);
        return r;
}

int stream_emit_error(int fd, VlCall *call, int r, const CpodError *err, const char *id) {
        char name[96], reason[160];
        const char *msg = err && err->code && err->message[0] ? err->message : NULL;
        bool atomic = call_is_atomic(call);
        VlJson *p = vl_json_new_object();

        if (!msg) {
                snprintf(reason, sizeof(reason), "%s", strerror(r < 0 ? -r : r));
                msg = reason;
        }
        if (!p)
                return -ENOMEM;
        if (r == -ENOENT && id) {
                snprintf(name, sizeof(name), "%s.ContainerNotFound", atomic ? ATOMIC_IFACE : PODMAN_IFACE);
                if (vl_json_object_set_string(p, atomic ? "name" : "id", id) < 0 ||
                    (!atomic && vl_json_object_set_string(p, "reason", msg) < 0)) {
                        vl_json_unref(p);
                        return -ENOMEM;
                }
        } else {
                snprintf(name, sizeof(name), "%s.ErrorOccurred", atomic ? ATOMIC_IFACE : PODMAN_IFACE);
                if (vl_json_object_set_string(p, "reason", msg) < 0) {
                        vl_json_unref(p);
                        return -ENOMEM;
                }
        }
        return stream_emit(fd, STREAM_ERROR, name, p);
}

static void stream_free(Stream *s) {
        vl_source_free(s->io);
        vl_source_free(s->timer);
        if (s->pid > 0) {
                (void)kill(s->pid, SIGKILL);
                while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        safe_close(s->fd);
        vl_buf_free(&s->buf);
        vl_call_unref(s->call);
        free(s);
}

/* One line from the producer: pass it on. Returns < 0 when the stream is over. */
static int stream_line(Stream *s, char *line, size_t len) {
        VlJson *v = NULL;
        int r;

        if (len < 1 || vl_json_parse(line + 1, len - 1, NULL, &v, NULL) < 0) {
                (void)reply_error_occurred(s->call, -EBADMSG, NULL);
                return -EBADMSG;
        }
        switch (line[0]) {
        case STREAM_MORE:
                if (!(vl_call_flags(s->call) & VL_CALL_MORE)) {
                        vl_json_unref(v);
                        return 0;
                }
                r = vl_call_reply_more(s->call, v);
                return r < 0 ? r : 0;
        case STREAM_FINAL:
                (void)vl_call_reply(s->call, v);
                return -ECANCELED;
        default: {
                const char *error = vl_json_get_string(vl_json_object_get(v, "error"));
                VlJson *p = vl_json_ref(vl_json_object_get(v, "parameters"));
                (void)vl_call_reply_error(s->call, error ? error : PODMAN_IFACE ".ErrorOccurred", p);
                vl_json_unref(v);
                return -ECANCELED;
        }
        }
}

static int on_data(VlSource *src, int fd, uint32_t revents, void *userdata) {
        Stream *s = userdata;
        char chunk[65536];
        ssize_t k = read(fd, chunk, sizeof(chunk));
        int r = 0;

        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (k > 0 && vl_buf_append(&s->buf, chunk, (size_t)k) < 0)
                r = -ENOMEM;
        for (char *nl; r >= 0 && s->buf.len > 0 && (nl = memchr(s->buf.data, '\n', s->buf.len));) {
                size_t n = (size_t)(nl - s->buf.data);
                r = stream_line(s, s->buf.data, n);
                memmove(s->buf.data, nl + 1, s->buf.len - n - 1);
                s->buf.len -= n + 1;
        }
        if (r >= 0 && (k <= 0 || s->buf.len > MAX_LINE)) {
                /* the producer ended without a final reply: it failed */
                (void)vl_call_reply_error_string(s->call,
                                                 call_is_atomic(s->call) ? ATOMIC_IFACE ".ErrorOccurred"
                                                                         : PODMAN_IFACE ".ErrorOccurred",
                                                 "reason", "the stream ended unexpectedly");
                r = -EPIPE;
        }
        if (r < 0)
                stream_free(s);
        return 0;
}

static int on_check(VlSource *src, uint64_t now, void *userdata) {
        Stream *s = userdata;
        if (!vl_call_connected(s->call)) {
                stream_free(s); /* the unanswered call closes the connection */
                return 0;
        }
        return vl_source_set_time(src, now + CHECK_USEC);
}

static _Noreturn void producer_run(int fd, Engine *e, StreamFn fn, void *userdata) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)signal(SIGPIPE, SIG_IGN);
        int r = fn(e, fd, userdata);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

int svc_stream(VlCall *call, Engine *e, StreamFn fn, void *userdata) {
        VlLoop *loop = vl_server_get_loop(vl_call_server(call));
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return reply_error_occurred(call, -errno, NULL);
        Stream *s = calloc(1, sizeof(Stream));
        if (!s) {
                close(p[0]);
                close(p[1]);
                return -ENOMEM;
        }
        s->fd = p[0];
        s->pid = fork();
        if (s->pid < 0) {
                int r = -errno;
                close(p[1]);
                s->pid = 0;
                s->call = NULL;
                stream_free(s);
                return reply_error_occurred(call, r, NULL);
        }
        if (s->pid == 0) {
                close(p[0]);
                producer_run(p[1], e, fn, userdata);
        }
        close(p[1]);
        s->call = vl_call_ref(call);
        int r = vl_loop_add_io(loop, s->fd, EPOLLIN, on_data, s, &s->io);
        if (r >= 0)
                r = vl_loop_add_timer(loop, vl_now_usec() + CHECK_USEC, on_check, s, &s->timer);
        if (r < 0) {
                (void)reply_error_occurred(call, r, NULL);
                stream_free(s);
        }
        return 0;
}
