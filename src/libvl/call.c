/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Calls: decoding a message, checking it against the interface, running the
 * handler, and writing replies in order. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "server-internal.h"
#include "util.h"

static void conn_update_events(Conn *c) {
        if (c->dead)
                return;
        uint32_t want = 0;
        if (!c->call && !c->stream.eof && !c->hup)
                want |= EPOLLIN;
        if (vl_stream_has_output(&c->stream))
                want |= EPOLLOUT;
        if (c->hup && !vl_stream_has_output(&c->stream)) {
                /* epoll reports a hang-up whatever we ask for: stop listening
                 * until the open call ends */
                vl_source_set_enabled(c->source, false);
                return;
        }
        if (want != c->events && vl_source_set_io_events(c->source, want) >= 0)
                c->events = want;
}

/* After writing outside of conn_process: push the bytes out now. */
static void conn_after_write(Conn *c) {
        if (c->dead || c->dispatching)
                return;
        if (vl_stream_flush(&c->stream) < 0) {
                conn_detach(c, false);
                return;
        }
        if (!c->call)
                conn_kick(c);
        else
                conn_update_events(c);
}

static int queue_message(Conn *c, const char *error, const VlJson *params, bool continues) {
        VlBuf *b = &c->server->scratch;
        vl_buf_clear(b);
        int r = 0;
        if (error) {
                r |= vl_buf_append(b, "{\"error\":", 9);
                r |= vl_json_write_string(b, error, strlen(error), 0);
                r |= vl_buf_append(b, ",\"parameters\":", 14);
        } else
                r |= vl_buf_append(b, "{\"parameters\":", 14);
        if (params)
                r |= vl_json_write(b, params, 0);
        else
                r |= vl_buf_append(b, "{}", 2);
        if (continues)
                r |= vl_buf_append(b, ",\"continues\":true", 17);
        r |= vl_buf_append(b, "}", 2); /* with the terminating NUL */
        if (r < 0)
                return -ENOMEM;
        return vl_stream_queue(&c->stream, b->data, b->len);
}

#ifdef VL_VALIDATE_REPLIES
static int check_reply(VlCall *call, const char *error, const VlJson *params) {
        const Binding *b = call->binding;
        const char *bad = NULL;
        int r;
        if (!b)
                return 0;
        if (error) {
                const char *dot = strrchr(error, '.');
                if (!dot || (size_t)(dot - error) != strlen(b->iface->name) ||
                    strncmp(error, b->iface->name, (size_t)(dot - error)) != 0)
                        return 0; /* an error of another interface: not ours to check */
                r = vl_interface_validate_error(b->iface, dot + 1, params, &bad);
        } else
                r = vl_interface_validate(b->iface, b->method->output, params, &bad);
        if (r < 0 && r != -ENOENT) {
                fprintf(stderr, "libvl: reply of %s%s%s does not match its interface at '%s'\n", b->name,
                        error ? " with " : "", error ? error : "", bad ? bad : "?");
                return -EBADMSG;
        }
        return 0;
}
#endif

static int call_send(VlCall *call, const char *error, VlJson *params, bool continues) {
        Conn *c = call->conn;
        int r;
        if (call->done)
                r = -EALREADY;
        else if (continues && !(call->flags & VL_CALL_MORE))
                r = -EPROTO;
        else if (!c || c->dead || c->hup)
                r = -ECONNRESET;
        else
                r = 0;
#ifdef VL_VALIDATE_REPLIES
        if (r == 0)
                r = check_reply(call, error, params);
#endif
        if (r == 0 && !(call->flags & VL_CALL_ONEWAY))
                r = queue_message(c, error, params, continues);
        vl_json_unref(params);
        if (!continues && (r == 0 || r == -ECONNRESET)) {
                call->done = true;
                if (c && c->call == call)
                        c->call = NULL;
        }
        if (c)
                conn_after_write(c);
        return r;
}

_public_ int vl_call_reply(VlCall *call, VlJson *params) {
        return call_send(call, NULL, params, false);
}

_public_ int vl_call_reply_more(VlCall *call, VlJson *params) {
        return call_send(call, NULL, params, true);
}

_public_ int vl_call_reply_error(VlCall *call, const char *error, VlJson *params) {
        return call_send(call, error, params, false);
}

_public_ int vl_call_reply_error_string(VlCall *call, const char *error, const char *key,
                                        const char *value) {
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, key, value) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, error, p);
}

_public_ int vl_call_reply_invalid_parameter(VlCall *call, const char *parameter) {
        return vl_call_reply_error_string(call, VL_ERROR_INVALID_PARAMETER, "parameter", parameter);
}

_public_ int vl_call_reply_upgrade(VlCall *call, VlJson *params, int *ret_fd) {
        Conn *c = call->conn;
        if (!(call->flags & VL_CALL_UPGRADE) || !call->binding || !call->binding->upgrade) {
                vl_json_unref(params);
                return -EPROTO;
        }
        if (!c || c->dead || c->hup || call->done) {
                vl_json_unref(params);
                return call->done ? -EALREADY : -ECONNRESET;
        }
        int r = queue_message(c, NULL, params, false);
        vl_json_unref(params);
        call->done = true;
        c->call = NULL;
        if (r == 0)
                r = vl_stream_flush_all(&c->stream, 0);
        if (r < 0) {
                conn_detach(c, false);
                return r;
        }
        int fd = c->stream.fd;
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        conn_detach(c, true);
        *ret_fd = fd;
        return 0;
}

_public_ VlCall *vl_call_ref(VlCall *call) {
        if (call)
                call->n_ref++;
        return call;
}

_public_ VlCall *vl_call_unref(VlCall *call) {
        if (!call || --call->n_ref > 0)
                return NULL;
        Conn *c = call->conn;
        if (c) {
                if (c->call == call)
                        c->call = NULL;
                /* Nobody will ever answer: the client would wait forever. */
                if (!call->done && !(call->flags & VL_CALL_ONEWAY))
                        conn_detach(c, false);
                else if (!c->dispatching && !c->dead)
                        conn_kick(c);
                conn_unref(c);
        }
        vl_json_unref(call->message);
        free(call);
        return NULL;
}

_public_ const char *vl_call_method(VlCall *call) {
        return call->binding ? call->binding->name : "";
}

_public_ unsigned vl_call_flags(VlCall *call) {
        return call->flags;
}

_public_ VlServer *vl_call_server(VlCall *call) {
        return call->conn ? call->conn->server : NULL;
}

_public_ int vl_call_peer_cred(VlCall *call, struct ucred *ret) {
        if (!call->conn || !call->conn->have_cred)
                return -ENODATA;
        *ret = call->conn->cred;
        return 0;
}

_public_ bool vl_call_connected(VlCall *call) {
        return call->conn && !call->conn->dead && !call->conn->hup;
}

_public_ void vl_call_set_connection_userdata(VlCall *call, void *userdata, void (*destroy)(void *)) {
        Conn *c = call->conn;
        if (!c)
                return;
        if (c->destroy)
                c->destroy(c->userdata);
        c->userdata = userdata;
        c->destroy = destroy;
}

_public_ void *vl_call_get_connection_userdata(VlCall *call) {
        return call->conn ? call->conn->userdata : NULL;
}

_public_ int vl_call_n_fds(VlCall *call) {
        return call->conn ? (int)call->conn->stream.n_in_fds : 0;
}

_public_ int vl_call_take_fd(VlCall *call, int idx) {
        if (!call->conn || idx < 0)
                return -EBADF;
        return vl_stream_take_fd(&call->conn->stream, (unsigned)idx);
}

_public_ int vl_call_push_fd(VlCall *call, int fd) {
        if (!call->conn || call->conn->dead)
                return -ECONNRESET;
        return vl_stream_push_fd(&call->conn->stream, fd);
}

/* ---- dispatch ---- */

/* Decode the call header. Anything malformed is a protocol error: the
 * connection closes (there is no call to answer). */
static int parse_header(VlJson *m, const char **ret_method, const VlJson **ret_params, unsigned *ret_flags) {
        const char *method = NULL;
        const VlJson *params = NULL;
        unsigned flags = 0;
        if (vl_json_type(m) != VL_JSON_OBJECT)
                return -EPROTO;
        for (size_t i = 0, n = vl_json_object_length(m); i < n; i++) {
                const char *k = vl_json_object_key(m, i);
                const VlJson *v = vl_json_object_value(m, i);
                VlJsonType t = vl_json_type(v);
                unsigned bit = 0;
                if (streq(k, "method")) {
                        if (t != VL_JSON_STRING)
                                return -EPROTO;
                        method = vl_json_get_string(v);
                } else if (streq(k, "parameters")) {
                        if (t != VL_JSON_OBJECT && t != VL_JSON_NULL)
                                return -EPROTO;
                        params = t == VL_JSON_OBJECT ? v : NULL;
                } else if (streq(k, "more"))
                        bit = VL_CALL_MORE;
                else if (streq(k, "oneway"))
                        bit = VL_CALL_ONEWAY;
                else if (streq(k, "upgrade"))
                        bit = VL_CALL_UPGRADE;
                else if (!strchr(k, '.'))
                        return -EPROTO; /* unknown keys close; vendor keys ("org.x.y") are ignored */
                if (bit) {
                        if (t != VL_JSON_BOOL && t != VL_JSON_NULL)
                                return -EPROTO;
                        if (vl_json_get_bool(v))
                                flags |= bit;
                }
        }
        if (!method || (flags & (flags - 1)))
                return -EPROTO; /* no method, or more than one of more/oneway/upgrade */
        *ret_method = method;
        *ret_params = params;
        *ret_flags = flags;
        return 0;
}

static VlJson *empty_object(void) {
        static VlJson *empty;
        if (!empty)
                empty = vl_json_new_object(); /* kept for the process's life */
        return empty;
}

static int route(VlCall *call, const char *method, const VlJson *params) {
        VlServer *s = call->conn->server;
        const Binding *b = server_find_binding(s, method);
        if (!b) {
                const char *dot = strrchr(method, '.');
                if (!dot || !server_find_interface(s, method, (size_t)(dot - method))) {
                        size_t n = dot ? (size_t)(dot - method) : strlen(method);
                        char iface[256];
                        snprintf(iface, sizeof(iface), "%.*s", (int)MIN(n, sizeof(iface) - 1), method);
                        return vl_call_reply_error_string(call, VL_ERROR_INTERFACE_NOT_FOUND, "interface",
                                                          iface);
                }
                return vl_call_reply_error_string(call, VL_ERROR_METHOD_NOT_FOUND, "method", method);
        }
        call->binding = b;
        const char *bad = NULL;
        if (vl_interface_validate_flags(b->iface, b->method->input, params,
                                        s->allow_missing ? VL_VALIDATE_ALLOW_MISSING : 0, &bad) < 0)
                return vl_call_reply_invalid_parameter(call, bad ? bad : "parameters");
        if (!b->fn)
                return vl_call_reply_error_string(call, VL_ERROR_METHOD_NOT_IMPLEMENTED, "method", method);
        const VlJson *p = params ? params : empty_object();
        if (!p)
                return -ENOMEM;
        return b->fn(call, p, call->flags, b->userdata);
}

static int dispatch_message(Conn *c, const char *msg, size_t len) {
        VlServer *s = c->server;
        VlJsonLimits lim = {.max_depth = s->limits.max_json_depth, .max_size = s->limits.max_message_size};
        VlJson *m = NULL;
        const char *method;
        const VlJson *params;
        unsigned flags;
        int r = vl_json_parse(msg, len, &lim, &m, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EPROTO;
        r = parse_header(m, &method, &params, &flags);
        if (r < 0) {
                vl_json_unref(m);
                return r;
        }
        VlCall *call = calloc(1, sizeof(VlCall));
        if (!call) {
                vl_json_unref(m);
                return -ENOMEM;
        }
        *call = (VlCall){.n_ref = 1, .conn = conn_ref(c), .flags = flags, .message = m};
        c->call = call;
        r = route(call, method, params);
        if (!call->done) {
                if (r < 0 && !c->dead)
                        conn_detach(c, false); /* the handler failed without answering */
                else if (call->n_ref == 1 && (flags & VL_CALL_ONEWAY))
                        call->done = true; /* a oneway handler need not reply */
        }
        vl_call_unref(call);
        return 0;
}

void conn_process(Conn *c, uint32_t revents) {
        int r = 0;
        if (c->dead)
                return;
        conn_ref(c);
        c->dispatching = true;
        if (revents & (EPOLLHUP | EPOLLERR))
                c->hup = true;
        if (revents & EPOLLOUT)
                r = vl_stream_flush(&c->stream);
        bool readable = revents & (EPOLLIN | EPOLLHUP | EPOLLERR);
        while (r >= 0 && !c->dead && !c->call) {
                if (readable) {
                        r = vl_stream_read(&c->stream);
                        readable = c->stream.peek; /* peek mode reads one message at a time */
                        if (r == -ECONNRESET)
                                r = 0;
                        if (r < 0)
                                break;
                }
                char *msg;
                size_t len;
                r = vl_stream_take(&c->stream, &msg, &len);
                if (r <= 0)
                        break;
                r = dispatch_message(c, msg, len);
        }
        c->dispatching = false;
        if (!c->dead) {
                if (r >= 0)
                        r = vl_stream_flush(&c->stream);
                if (r < 0 || (!c->call && !vl_stream_has_output(&c->stream) && (c->stream.eof || c->hup)))
                        conn_detach(c, false);
                else
                        conn_update_events(c);
        }
        conn_unref(c);
}
