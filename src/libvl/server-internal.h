/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The server's internals, shared by server.c (connections and calls) and
 * service.c (interfaces, bindings and org.varlink.service). */

#include <sys/socket.h>

#include "stream.h"
#include <vl/varlink.h>

typedef struct Binding {
        char *name; /* "interface.Method" */
        const VlInterface *iface;
        const VlMember *method;
        VlMethodFn fn;
        void *userdata;
        bool upgrade;
} Binding;

typedef struct Conn Conn;

typedef struct Listener {
        int fd;
        VlSource *source;
} Listener;

typedef struct UidCount {
        uid_t uid;
        unsigned n;
} UidCount;

struct VlServer {
        char *vendor, *product, *version, *url;
        VlInterface **ifaces;
        size_t n_ifaces, cap_ifaces;
        /* open addressing, keyed by full method name; n_slots is a power of 2 */
        Binding *slots;
        size_t n_slots, n_bindings;

        VlLoop *loop;
        bool own_loop;
        Listener *listeners;
        size_t n_listeners, cap_listeners;
        Conn *conns; /* doubly linked */
        unsigned n_conns;
        UidCount *uids;
        size_t n_uids, cap_uids;
        bool had_connected_fd;

        Conn *kick_first; /* connections to resume from the loop */
        VlSource *kick;

        VlServerLimits limits;
        bool accept_fds;
        bool allow_missing;
        bool peek; /* some method may upgrade */
        VlConnectFn on_connect;
        VlDisconnectFn on_disconnect;
        void *connect_userdata;
        VlServerIdleFn on_idle;
        void *idle_userdata;
        void *userdata;
        VlBuf scratch; /* reply serialization, reused */
};

struct Conn {
        unsigned n_ref;
        VlServer *server;
        VlSource *source;
        VlStream stream;
        struct ucred cred;
        bool have_cred;
        bool dead;        /* left the server: closed or upgraded */
        bool hup;         /* the peer is gone */
        bool dispatching; /* inside conn_process: flush once at the end */
        bool kicked;
        uint32_t events;
        VlCall *call; /* the call being handled; the next waits for it */
        Conn *prev, *next, *kick_next;
        void *userdata;
        void (*destroy)(void *);
};

struct VlCall {
        unsigned n_ref;
        Conn *conn;
        const Binding *binding;
        unsigned flags;
        bool done; /* final reply (or error) sent */
        VlJson *message;
};

/* service.c */
const Binding *server_find_binding(VlServer *s, const char *name);
int server_add_binding(VlServer *s, const char *name, const VlInterface *iface, const VlMember *m);
const VlInterface *server_find_interface(VlServer *s, const char *name, size_t len);
int service_bind_builtin(VlServer *s);

/* server.c */
Conn *conn_ref(Conn *c);
void conn_unref(Conn *c);
/* Take the connection out of the server; keep_fd hands the socket on. */
void conn_detach(Conn *c, bool keep_fd);
/* Resume the connection from the loop (after an asynchronous reply). */
void conn_kick(Conn *c);

/* call.c */
/* Read, dispatch and write what the connection can; revents from epoll (0 when kicked). */
void conn_process(Conn *c, uint32_t revents);
