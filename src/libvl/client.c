/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The client. Synchronous calls keep the socket blocking and bound by
 * SO_RCVTIMEO/SO_SNDTIMEO, so a call costs one write and one read, like a
 * hand-written client. Asynchronous calls switch the socket to non-blocking
 * and queue their reply handlers in call order.
 */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "stream.h"
#include "util.h"
#include <vl/transport.h>
#include <vl/varlink.h>

typedef struct Pending {
        VlReplyFn fn;
        void *userdata;
} Pending;

struct VlClient {
        VlStream stream;
        pid_t pid;
        uint64_t timeout;
        bool nonblocking;
        bool broken;
        bool in_more; /* a synchronous "more" call has replies to come */
        bool continues;
        bool upgraded;
        VlJson *reply;
        char *error;
        Pending *queue;
        size_t q_head, q_len, q_cap;
        VlSource *source;
};

#define CLIENT_MAX_DEPTH 256u

static int client_new(VlClient **ret, int fd, pid_t pid) {
        VlClient *c = calloc(1, sizeof(VlClient));
        if (!c)
                return -ENOMEM;
        vl_stream_init(&c->stream, fd, VL_JSON_DEFAULT_MAX_SIZE);
        c->stream.blocking = true;
        c->pid = pid;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                int r = -errno;
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

_public_ int vl_client_new_fd(VlClient **ret, int fd, pid_t pid) {
        return client_new(ret, fd, pid);
}

_public_ int vl_client_connect(VlClient **ret, const char *address) {
        pid_t pid = 0;
        int fd = vl_connect_address(address, &pid);
        if (fd < 0)
                return fd;
        int r = client_new(ret, fd, pid);
        if (r < 0) {
                close(fd);
                if (pid > 0) {
                        kill(pid, SIGTERM);
                        waitpid(pid, NULL, 0);
                }
        }
        return r;
}

_public_ int vl_client_connect_bridge(VlClient **ret, const char *command) {
        pid_t pid = 0;
        int fd = vl_spawn_bridge(command, &pid);
        if (fd < 0)
                return fd;
        int r = client_new(ret, fd, pid);
        if (r < 0) {
                close(fd);
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
        return r;
}

_public_ VlClient *vl_client_free(VlClient *c) {
        if (!c)
                return NULL;
        vl_source_free(c->source);
        vl_stream_done(&c->stream, c->upgraded);
        if (c->pid > 0) {
                /* closing our end lets a well-behaved service exit by itself */
                for (int i = 0; i < 50 && waitpid(c->pid, NULL, WNOHANG) == 0; i++) {
                        if (i == 10)
                                kill(c->pid, SIGTERM);
                        usleep(2000);
                }
                if (waitpid(c->pid, NULL, WNOHANG) == 0) {
                        kill(c->pid, SIGKILL);
                        waitpid(c->pid, NULL, 0);
                }
        }
        vl_json_unref(c->reply);
        free(c->error);
        free(c->queue);
        free(c);
        return NULL;
}

static void set_socket_timeout(int fd, uint64_t usec) {
        struct timeval tv = {.tv_sec = (time_t)(usec / 1000000), .tv_usec = (suseconds_t)(usec % 1000000)};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

_public_ void vl_client_set_timeout(VlClient *c, uint64_t usec) {
        c->timeout = usec;
        set_socket_timeout(c->stream.fd, usec);
}

_public_ void vl_client_set_max_message_size(VlClient *c, size_t max) {
        c->stream.max_message = max ? max : VL_JSON_DEFAULT_MAX_SIZE;
}

_public_ void vl_client_set_accept_fds(VlClient *c, bool enabled) {
        c->stream.accept_fds = enabled;
}

_public_ int vl_client_get_fd(VlClient *c) {
        return c->stream.fd;
}

static int set_nonblocking(VlClient *c, bool nonblocking) {
        if (c->nonblocking == nonblocking)
                return 0;
        int fl = fcntl(c->stream.fd, F_GETFL);
        if (fl < 0 || fcntl(c->stream.fd, F_SETFL, nonblocking ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
                return -errno;
        c->nonblocking = nonblocking;
        c->stream.blocking = !nonblocking;
        return 0;
}

static int queue_call(VlClient *c, const char *method, const VlJson *params, unsigned flags) {
        if (flags & (flags - 1) || flags & ~(unsigned)(VL_CALL_MORE | VL_CALL_ONEWAY | VL_CALL_UPGRADE))
                return -EINVAL;
        if (params && vl_json_type(params) != VL_JSON_OBJECT)
                return -EINVAL;
        VlBuf b = VL_BUF_INIT;
        int r = vl_buf_append(&b, "{\"method\":", 10);
        r |= vl_json_write_string(&b, method, strlen(method), 0);
        if (params && vl_json_object_length(params) > 0) {
                r |= vl_buf_append(&b, ",\"parameters\":", 14);
                r |= vl_json_write(&b, params, 0);
        }
        if (flags & VL_CALL_MORE)
                r |= vl_buf_append_str(&b, ",\"more\":true");
        else if (flags & VL_CALL_ONEWAY)
                r |= vl_buf_append_str(&b, ",\"oneway\":true");
        else if (flags & VL_CALL_UPGRADE)
                r |= vl_buf_append_str(&b, ",\"upgrade\":true");
        r |= vl_buf_append(&b, "}", 2);
        if (r == 0)
                r = vl_stream_queue(&c->stream, b.data, b.len);
        vl_buf_free(&b);
        return r < 0 ? -ENOMEM : 0;
}

/* Decode one reply. Returns 0 (success) or 1 (error reply) and fills the
 * client's reply state; -EPROTO for anything malformed. */
static int decode_reply(VlClient *c, const char *msg, size_t len, bool more_allowed) {
        VlJsonLimits lim = {.max_depth = CLIENT_MAX_DEPTH, .max_size = c->stream.max_message};
        VlJson *m = NULL;
        int r = vl_json_parse(msg, len, &lim, &m, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EPROTO;
        const VlJson *params = NULL, *error = NULL, *cont = NULL;
        const char *k;
        const VlJson *v;
        if (vl_json_type(m) != VL_JSON_OBJECT)
                goto bad;
        VL_JSON_FOREACH_MEMBER (k, v, m) {
                if (streq(k, "parameters"))
                        params = v;
                else if (streq(k, "error"))
                        error = v;
                else if (streq(k, "continues"))
                        cont = v;
        }
        if ((params && vl_json_type(params) != VL_JSON_OBJECT && vl_json_type(params) != VL_JSON_NULL) ||
            (error && vl_json_type(error) != VL_JSON_STRING) ||
            (cont && vl_json_type(cont) != VL_JSON_BOOL && vl_json_type(cont) != VL_JSON_NULL))
                goto bad;
        c->continues = cont && vl_json_get_bool(cont);
        if (c->continues && !more_allowed)
                goto bad;
        free(c->error);
        c->error = NULL;
        if (error && !(c->error = strdup(vl_json_get_string(error)))) {
                vl_json_unref(m);
                return -ENOMEM;
        }
        vl_json_unref(c->reply);
        c->reply = m;
        return error ? 1 : 0;
bad:
        vl_json_unref(m);
        return -EPROTO;
}

/* The parameters of the current reply, as a new reference ({} if absent). */
static VlJson *reply_params(VlClient *c) {
        VlJson *p = vl_json_object_get(c->reply, "parameters");
        if (p && vl_json_type(p) == VL_JSON_OBJECT)
                return vl_json_ref(p);
        return vl_json_new_object();
}

/* Wait for one whole message. */
static int read_message(VlClient *c, char **ret, size_t *ret_len) {
        for (;;) {
                int r = vl_stream_take(&c->stream, ret, ret_len);
                if (r != 0)
                        return r < 0 ? r : 0;
                r = vl_stream_read(&c->stream);
                if (r == 0)
                        return -ETIMEDOUT; /* SO_RCVTIMEO expired */
                if (r < 0)
                        return r;
        }
}

static int sync_reply(VlClient *c, bool more, VlJson **ret_params, const char **ret_error) {
        char *msg;
        size_t len;
        int r = read_message(c, &msg, &len);
        if (r >= 0)
                r = decode_reply(c, msg, len, more);
        if (r < 0) {
                c->broken = true;
                c->in_more = false;
                return r;
        }
        c->in_more = more && c->continues;
        if (ret_params) {
                VlJson *p = reply_params(c);
                if (!p)
                        return -ENOMEM;
                *ret_params = p;
        }
        if (ret_error)
                *ret_error = c->error;
        return r;
}

_public_ int vl_client_call(VlClient *c, const char *method, const VlJson *params, unsigned flags,
                            VlJson **ret_params, const char **ret_error) {
        if (c->broken || c->upgraded)
                return -ENOTCONN;
        if (c->in_more || c->q_len > 0)
                return -EBUSY;
        int r = set_nonblocking(c, false);
        if (r < 0)
                return r;
        vl_stream_close_in_fds(&c->stream);
        r = queue_call(c, method, params, flags);
        if (r < 0)
                return r;
        r = vl_stream_flush_all(&c->stream, c->timeout);
        if (r < 0) {
                c->broken = true;
                return r == -EPIPE ? -ECONNRESET : r;
        }
        if (flags & VL_CALL_ONEWAY) {
                if (ret_params)
                        *ret_params = NULL;
                if (ret_error)
                        *ret_error = NULL;
                return 0;
        }
        r = sync_reply(c, flags & VL_CALL_MORE, ret_params, ret_error);
        if (r == 0 && (flags & VL_CALL_UPGRADE))
                c->upgraded = true;
        return r;
}

_public_ int vl_client_next(VlClient *c, VlJson **ret_params, const char **ret_error, bool *ret_continues) {
        if (!c->in_more)
                return -ENOMSG;
        int r = sync_reply(c, true, ret_params, ret_error);
        if (r >= 0 && ret_continues)
                *ret_continues = c->continues;
        return r;
}

_public_ bool vl_client_continues(VlClient *c) {
        return c->continues;
}

_public_ int vl_client_take_upgraded(VlClient *c, int *ret_fd, char **ret_pending, size_t *ret_n_pending) {
        if (!c->upgraded || c->stream.fd < 0)
                return -ENOTCONN;
        const char *p;
        size_t n = vl_stream_pending(&c->stream, &p);
        char *copy = malloc(n + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, p, n);
        copy[n] = 0;
        set_socket_timeout(c->stream.fd, 0);
        *ret_fd = c->stream.fd;
        c->stream.fd = -1;
        c->stream.in_len = 0;
        *ret_pending = copy;
        *ret_n_pending = n;
        return 0;
}

_public_ int vl_client_send_raw(VlClient *c, const char *json, size_t len) {
        if (c->broken)
                return -ENOTCONN;
        int r = set_nonblocking(c, false);
        if (r < 0)
                return r;
        if (memchr(json, 0, len))
                return -EINVAL;
        r = vl_stream_queue(&c->stream, json, len);
        if (r == 0)
                r = vl_stream_queue(&c->stream, "", 1);
        if (r == 0)
                r = vl_stream_flush_all(&c->stream, c->timeout);
        return r < 0 ? r : 0;
}

_public_ int vl_client_recv_raw(VlClient *c, char **ret, size_t *ret_len) {
        if (c->broken)
                return -ENOTCONN;
        int r = set_nonblocking(c, false);
        if (r < 0)
                return r;
        char *msg;
        size_t len;
        r = read_message(c, &msg, &len);
        if (r < 0)
                return r;
        char *copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, msg, len + 1);
        *ret = copy;
        *ret_len = len;
        return 0;
}

/* ---- asynchronous calls ---- */

_public_ int vl_client_call_async(VlClient *c, const char *method, const VlJson *params, unsigned flags,
                                  VlReplyFn fn, void *userdata) {
        if (c->broken || c->upgraded)
                return -ENOTCONN;
        if (c->in_more || (flags & VL_CALL_UPGRADE))
                return -EBUSY;
        int r = set_nonblocking(c, true);
        if (r < 0)
                return r;
        if (!(flags & VL_CALL_ONEWAY)) {
                if (c->q_head > 0 && c->q_head == c->q_len)
                        c->q_head = c->q_len = 0;
                if (VL_GROW(c->queue, c->q_cap, c->q_len + 1) < 0)
                        return -ENOMEM;
        }
        r = queue_call(c, method, params, flags);
        if (r < 0)
                return r;
        if (!(flags & VL_CALL_ONEWAY))
                c->queue[c->q_len++] = (Pending){fn, userdata};
        if (c->source)
                vl_source_set_io_events(c->source, EPOLLIN | EPOLLOUT);
        return 0;
}

static void fail_all(VlClient *c, int r) {
        c->broken = true;
        while (c->q_head < c->q_len) {
                Pending p = c->queue[c->q_head++];
                if (p.fn)
                        p.fn(c, r, NULL, NULL, false, p.userdata);
        }
}

_public_ int vl_client_process(VlClient *c) {
        if (c->broken)
                return -ENOTCONN;
        int r = set_nonblocking(c, true);
        if (r < 0)
                return r;
        int progress = 0;
        r = vl_stream_flush(&c->stream);
        if (r < 0) {
                fail_all(c, r);
                return r;
        }
        if (c->q_head < c->q_len) {
                r = vl_stream_read(&c->stream);
                if (r < 0) {
                        fail_all(c, r);
                        return r;
                }
                progress |= r > 0;
        }
        while (c->q_head < c->q_len) {
                char *msg;
                size_t len;
                r = vl_stream_take(&c->stream, &msg, &len);
                if (r == 0)
                        break;
                if (r > 0)
                        r = decode_reply(c, msg, len, true);
                if (r < 0) {
                        fail_all(c, r);
                        return r;
                }
                progress = 1;
                Pending p = c->queue[c->q_head];
                bool more = c->continues;
                if (!more)
                        c->q_head++;
                VlJson *params = reply_params(c);
                if (p.fn)
                        p.fn(c, 0, params, c->error, more, p.userdata);
                vl_json_unref(params);
        }
        return progress;
}

_public_ short vl_client_get_events(VlClient *c) {
        short e = 0;
        if (c->q_head < c->q_len)
                e |= POLLIN;
        if (vl_stream_has_output(&c->stream))
                e |= POLLOUT;
        return e;
}

static int client_io(VlSource *s, int fd, uint32_t revents, void *userdata) {
        VlClient *c = userdata;
        vl_client_process(c);
        uint32_t want = 0;
        short e = vl_client_get_events(c);
        if (e & POLLIN)
                want |= EPOLLIN;
        if (e & POLLOUT)
                want |= EPOLLOUT;
        if (c->broken)
                vl_source_set_enabled(s, false);
        else
                vl_source_set_io_events(s, want);
        return 0;
}

_public_ int vl_client_attach(VlClient *c, VlLoop *loop) {
        if (c->source)
                return -EBUSY;
        int r = set_nonblocking(c, true);
        if (r < 0)
                return r;
        return vl_loop_add_io(loop, c->stream.fd, EPOLLIN | EPOLLOUT, client_io, c, &c->source);
}

_public_ int vl_client_n_fds(VlClient *c) {
        return (int)c->stream.n_in_fds;
}

_public_ int vl_client_take_fd(VlClient *c, int idx) {
        return idx < 0 ? -EBADF : vl_stream_take_fd(&c->stream, (unsigned)idx);
}

_public_ int vl_client_push_fd(VlClient *c, int fd) {
        return vl_stream_push_fd(&c->stream, fd);
}
