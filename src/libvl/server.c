/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The server: listeners, connections and calls.
 *
 * A connection handles one call at a time. While a call is open (its handler
 * kept it to reply later), the connection reads nothing more, so replies
 * leave in call order; other connections go on. Each wake-up reads at most
 * one buffer's worth per connection, which keeps a busy client from starving
 * the others.
 */

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "server-internal.h"
#include "util.h"
#include <vl/transport.h>

static const VlServerLimits default_limits = {
        .max_message_size = 16u * 1024u * 1024u,
        .max_connections = 4096,
        .max_per_uid = 1024,
        .max_json_depth = 64,
};

static char *strdup_or_empty(const char *s) {
        return strdup(s ? s : "");
}

_public_ int vl_server_new(VlServer **ret, const char *vendor, const char *product, const char *version,
                           const char *url) {
        VlServer *s = calloc(1, sizeof(VlServer));
        if (!s)
                return -ENOMEM;
        s->limits = default_limits;
        s->vendor = strdup_or_empty(vendor);
        s->product = strdup_or_empty(product);
        s->version = strdup_or_empty(version);
        s->url = strdup_or_empty(url);
        int r = s->vendor && s->product && s->version && s->url ? service_bind_builtin(s) : -ENOMEM;
        if (r < 0) {
                vl_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

_public_ void vl_server_set_limits(VlServer *s, const VlServerLimits *limits) {
        s->limits = *limits;
        if (!s->limits.max_message_size)
                s->limits.max_message_size = default_limits.max_message_size;
        if (!s->limits.max_connections)
                s->limits.max_connections = default_limits.max_connections;
        if (!s->limits.max_per_uid)
                s->limits.max_per_uid = default_limits.max_per_uid;
        if (!s->limits.max_json_depth)
                s->limits.max_json_depth = default_limits.max_json_depth;
}

_public_ void vl_server_set_allow_missing(VlServer *s, bool enabled) {
        s->allow_missing = enabled;
}

_public_ void vl_server_set_accept_fds(VlServer *s, bool enabled) {
        s->accept_fds = enabled;
}

_public_ void vl_server_set_connect_handler(VlServer *s, VlConnectFn on_connect,
                                            VlDisconnectFn on_disconnect, void *userdata) {
        s->on_connect = on_connect;
        s->on_disconnect = on_disconnect;
        s->connect_userdata = userdata;
}

_public_ void vl_server_set_userdata(VlServer *s, void *userdata) {
        s->userdata = userdata;
}

_public_ void *vl_server_get_userdata(VlServer *s) {
        return s->userdata;
}

_public_ void vl_server_set_idle_handler(VlServer *s, VlServerIdleFn fn, void *userdata) {
        s->on_idle = fn;
        s->idle_userdata = userdata;
}

_public_ unsigned vl_server_n_connections(VlServer *s) {
        return s->n_conns;
}

/* ---- connections ---- */

Conn *conn_ref(Conn *c) {
        c->n_ref++;
        return c;
}

void conn_unref(Conn *c) {
        if (!c || --c->n_ref > 0)
                return;
        vl_stream_done(&c->stream, false);
        free(c);
}

static UidCount *uid_slot(VlServer *s, uid_t uid, bool create) {
        for (size_t i = 0; i < s->n_uids; i++)
                if (s->uids[i].uid == uid)
                        return &s->uids[i];
        if (!create || VL_GROW(s->uids, s->cap_uids, s->n_uids + 1) < 0)
                return NULL;
        s->uids[s->n_uids] = (UidCount){uid, 0};
        return &s->uids[s->n_uids++];
}

static void notify_idle(VlServer *s) {
        if (s->on_idle)
                s->on_idle(s, s->n_conns, s->idle_userdata);
}

/* Take the connection out of the server; keep_fd hands the socket on. */
void conn_detach(Conn *c, bool keep_fd) {
        VlServer *s = c->server;
        if (c->dead)
                return;
        c->dead = true;
        c->source = vl_source_free(c->source);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->kicked) {
                for (Conn **p = &s->kick_first; *p; p = &(*p)->kick_next)
                        if (*p == c) {
                                *p = c->kick_next;
                                break;
                        }
                c->kicked = false;
        }
        s->n_conns--;
        if (c->have_cred) {
                UidCount *u = uid_slot(s, c->cred.uid, false);
                if (u && u->n > 0)
                        u->n--;
        }
        if (s->on_disconnect)
                s->on_disconnect(s, c->stream.fd, s->connect_userdata);
        if (c->destroy)
                c->destroy(c->userdata);
        c->destroy = NULL;
        if (keep_fd)
                c->stream.fd = -1;
        vl_stream_done(&c->stream, keep_fd);
        /* a server made for one activated connection ends with it */
        if (s->n_conns == 0 && s->n_listeners == 0 && s->had_connected_fd && s->loop)
                vl_loop_quit(s->loop, 0);
        notify_idle(s);
        conn_unref(c);
}

static int conn_io(VlSource *src, int fd, uint32_t revents, void *userdata) {
        conn_process(userdata, revents);
        return 0;
}

static int kick_run(VlSource *src, uint64_t now, void *userdata) {
        VlServer *s = userdata;
        while (s->kick_first) {
                Conn *c = s->kick_first;
                s->kick_first = c->kick_next;
                c->kicked = false;
                conn_process(c, 0);
        }
        return 0;
}

void conn_kick(Conn *c) {
        VlServer *s = c->server;
        if (c->dead || c->kicked)
                return;
        if (!s->kick && vl_loop_add_timer(s->loop, 0, kick_run, s, &s->kick) < 0)
                return;
        c->kicked = true;
        c->kick_next = s->kick_first;
        s->kick_first = c;
        vl_source_set_time(s->kick, 0);
        vl_source_set_enabled(s->kick, true);
}

static int server_add_conn(VlServer *s, int fd) {
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        bool have_cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred);
        if (s->n_conns >= s->limits.max_connections)
                return -EMFILE;
        UidCount *u = NULL;
        if (have_cred) {
                u = uid_slot(s, cred.uid, true);
                if (!u)
                        return -ENOMEM;
                if (u->n >= s->limits.max_per_uid)
                        return -EUSERS;
        }
        if (s->on_connect && s->on_connect(s, fd, have_cred ? &cred : NULL, s->connect_userdata) < 0)
                return -EPERM;
        Conn *c = calloc(1, sizeof(Conn));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->server = s;
        c->cred = cred;
        c->have_cred = have_cred;
        vl_stream_init(&c->stream, fd, s->limits.max_message_size);
        c->stream.accept_fds = s->accept_fds;
        c->stream.peek = s->peek;
        c->events = EPOLLIN;
        int r = vl_loop_add_io(s->loop, fd, EPOLLIN, conn_io, c, &c->source);
        if (r < 0) {
                free(c);
                return r;
        }
        if (u)
                u->n++;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        notify_idle(s);
        return 0;
}

static int listener_io(VlSource *src, int fd, uint32_t revents, void *userdata) {
        VlServer *s = userdata;
        for (int i = 0; i < 64; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0; /* EAGAIN, or a transient error (EMFILE, ECONNABORTED) */
                if (server_add_conn(s, cfd) < 0)
                        close(cfd);
        }
        return 0;
}

static int ensure_loop(VlServer *s) {
        if (s->loop)
                return 0;
        int r = vl_loop_new(&s->loop);
        if (r < 0)
                return r;
        s->own_loop = true;
        return 0;
}

_public_ int vl_server_attach(VlServer *s, VlLoop *loop) {
        if (s->loop)
                return -EBUSY;
        s->loop = loop;
        return 0;
}

_public_ VlLoop *vl_server_get_loop(VlServer *s) {
        return ensure_loop(s) < 0 ? NULL : s->loop;
}

_public_ int vl_server_listen_fd(VlServer *s, int fd) {
        int r = ensure_loop(s);
        if (r < 0)
                return r;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        if (!vl_socket_is_listening(fd)) {
                /* an activated, already connected socket (exec:, --accept) */
                r = server_add_conn(s, fd);
                if (r == 0)
                        s->had_connected_fd = true;
                return r;
        }
        if (VL_GROW(s->listeners, s->cap_listeners, s->n_listeners + 1) < 0)
                return -ENOMEM;
        Listener *l = &s->listeners[s->n_listeners];
        r = vl_loop_add_io(s->loop, fd, EPOLLIN, listener_io, s, &l->source);
        if (r < 0)
                return r;
        l->fd = fd;
        s->n_listeners++;
        return 0;
}

_public_ int vl_server_listen(VlServer *s, const char *address) {
        int fd = vl_listen_address(address);
        if (fd < 0)
                return fd;
        int r = vl_server_listen_fd(s, fd);
        if (r < 0)
                close(fd);
        return r;
}

_public_ int vl_server_listen_auto(VlServer *s, const char *address) {
        int fds[16];
        int n = vl_activation_fds(fds, (int)ELEMENTSOF(fds));
        if (n < 0)
                return n;
        if (n == 0) {
                if (!address)
                        return -ENXIO;
                int r = vl_server_listen(s, address);
                return r < 0 ? r : 0;
        }
        int r = 0;
        for (int i = 0; i < n; i++) {
                if (r < 0) {
                        close(fds[i]);
                        continue;
                }
                r = vl_server_listen_fd(s, fds[i]);
                if (r < 0)
                        close(fds[i]);
        }
        return r < 0 ? r : n;
}

_public_ int vl_server_run(VlServer *s) {
        int r = ensure_loop(s);
        return r < 0 ? r : vl_loop_run(s->loop);
}

_public_ VlServer *vl_server_free(VlServer *s) {
        if (!s)
                return NULL;
        while (s->conns) {
                /* a call still referenced keeps its (dead) connection until unref */
                conn_detach(s->conns, false);
        }
        for (size_t i = 0; i < s->n_listeners; i++) {
                vl_source_free(s->listeners[i].source);
                close(s->listeners[i].fd);
        }
        vl_source_free(s->kick);
        free(s->listeners);
        for (size_t i = 0; i < s->n_slots; i++)
                free(s->slots[i].name);
        free(s->slots);
        for (size_t i = 0; i < s->n_ifaces; i++)
                vl_interface_free(s->ifaces[i]);
        free(s->ifaces);
        free(s->uids);
        vl_buf_free(&s->scratch);
        if (s->own_loop)
                vl_loop_free(s->loop);
        free(s->vendor);
        free(s->product);
        free(s->version);
        free(s->url);
        free(s);
        return NULL;
}
