/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libvl protocol: Varlink servers and clients.
 *
 * A server owns interfaces (IDL text), method handlers and listening
 * sockets, and runs on a VlLoop. Every call's parameters are validated
 * against the interface before the handler runs; a handler only sees
 * well-typed input. Calls on one connection are handled one at a time and
 * answered in order; a handler may keep a call (vl_call_ref) and reply
 * later from the loop, and other connections go on meanwhile.
 *
 * A client connection is blocking-style by default (vl_client_call), with
 * an asynchronous interface for programs with a loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <vl/idl.h>
#include <vl/json.h>
#include <vl/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ucred; /* <sys/socket.h> with _GNU_SOURCE */

/* Standard errors of org.varlink.service. */
#define VL_ERROR_INTERFACE_NOT_FOUND    "org.varlink.service.InterfaceNotFound"
#define VL_ERROR_METHOD_NOT_FOUND       "org.varlink.service.MethodNotFound"
#define VL_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define VL_ERROR_INVALID_PARAMETER      "org.varlink.service.InvalidParameter"
#define VL_ERROR_PERMISSION_DENIED      "org.varlink.service.PermissionDenied"
#define VL_ERROR_EXPECTED_MORE          "org.varlink.service.ExpectedMore"
#define VL_ERROR_EXPECTED_UPGRADE       "org.varlink.service.ExpectedUpgrade"

/* Call flags, on both sides. At most one of MORE, ONEWAY, UPGRADE. */
enum {
        VL_CALL_MORE = 1 << 0,
        VL_CALL_ONEWAY = 1 << 1,
        VL_CALL_UPGRADE = 1 << 2,
};

/* ======================= Server ======================= */

typedef struct VlServer VlServer;
typedef struct VlCall VlCall;

/*
 * A method handler. params is the validated parameter object (never NULL;
 * borrowed for the duration of the call). flags tell what the caller asked
 * for (VL_CALL_*). The handler replies with vl_call_reply*() before it
 * returns, or takes a reference with vl_call_ref() and replies later.
 * A negative return without a reply closes the connection (a server bug).
 */
typedef int (*VlMethodFn)(VlCall *call, const VlJson *params, unsigned flags, void *userdata);

/* Called when a connection opens (may refuse it by returning < 0) or closes. */
typedef int (*VlConnectFn)(VlServer *s, int fd, const struct ucred *cred, void *userdata);
typedef void (*VlDisconnectFn)(VlServer *s, int fd, void *userdata);

typedef struct VlServerLimits {
        size_t max_message_size;  /* default 16 MiB */
        unsigned max_connections; /* default 4096 */
        unsigned max_per_uid;     /* default 1024 */
        unsigned max_json_depth;  /* default 64 */
} VlServerLimits;

/* vendor/product/version/url are answered by org.varlink.service.GetInfo. */
int vl_server_new(VlServer **ret, const char *vendor, const char *product, const char *version,
                  const char *url);
VlServer *vl_server_free(VlServer *s); /* closes every connection; accepts NULL */

void vl_server_set_limits(VlServer *s, const VlServerLimits *limits);
/* Accept calls that leave out non-nullable fields (off by default: such a
 * call gets InvalidParameter). For services whose clients treat absent
 * fields as zero values. Replies are always checked strictly. */
void vl_server_set_allow_missing(VlServer *s, bool enabled);
/* Pass fds received with SCM_RIGHTS to handlers (off by default). */
void vl_server_set_accept_fds(VlServer *s, bool enabled);
void vl_server_set_connect_handler(VlServer *s, VlConnectFn on_connect, VlDisconnectFn on_disconnect,
                                   void *userdata);
void vl_server_set_userdata(VlServer *s, void *userdata);
void *vl_server_get_userdata(VlServer *s);

/* Adds an interface from its IDL text (copied). err may be NULL. */
int vl_server_add_interface(VlServer *s, const char *idl, VlIdlError *err);
/* Binds "interface.Method" to a handler. -ENOENT if no such method was
 * declared. Declared methods without a handler answer MethodNotImplemented. */
int vl_server_bind(VlServer *s, const char *method, VlMethodFn fn, void *userdata);
/* Like vl_server_bind, for a method that may hand its connection over with
 * vl_call_reply_upgrade. Connections of a server with such a method never
 * read past the end of a call (one more syscall per message). */
int vl_server_bind_upgrade(VlServer *s, const char *method, VlMethodFn fn, void *userdata);

/* Listen on an address (see transport.h), or adopt an fd (listening or
 * connected; the server owns it afterwards). */
int vl_server_listen(VlServer *s, const char *address);
int vl_server_listen_fd(VlServer *s, int fd);
/* Adopt socket-activated fds if there are any; otherwise listen on
 * address (may be NULL: then -ENXIO when not activated). Returns the number
 * of activated fds adopted (0 when it listened on address). */
int vl_server_listen_auto(VlServer *s, const char *address);

/* Attach to a loop (before the first listen or after; default: a loop of
 * the server's own, see vl_server_get_loop). */
int vl_server_attach(VlServer *s, VlLoop *loop);
VlLoop *vl_server_get_loop(VlServer *s);
/* Runs the server's loop until vl_loop_quit or an error. */
int vl_server_run(VlServer *s);

/* Number of open connections (for idle exit). */
unsigned vl_server_n_connections(VlServer *s);
/* Called whenever the number of connections changes (e.g. to arm an idle timer). */
typedef void (*VlServerIdleFn)(VlServer *s, unsigned n_connections, void *userdata);
void vl_server_set_idle_handler(VlServer *s, VlServerIdleFn fn, void *userdata);

/* ---- Calls (server side) ---- */

VlCall *vl_call_ref(VlCall *c);
VlCall *vl_call_unref(VlCall *c); /* an unanswered call whose last ref goes closes its connection */

const char *vl_call_method(VlCall *c); /* fully qualified */
unsigned vl_call_flags(VlCall *c);
VlServer *vl_call_server(VlCall *c);
/* Peer credentials of the connection (SO_PEERCRED); -ENODATA on TCP. */
int vl_call_peer_cred(VlCall *c, struct ucred *ret);
/* Is the peer still connected? (false once a hang-up was seen) */
bool vl_call_connected(VlCall *c);
/* Per-connection user data (set from a handler, kept across calls). */
void vl_call_set_connection_userdata(VlCall *c, void *userdata, void (*destroy)(void *));
void *vl_call_get_connection_userdata(VlCall *c);

/* The final reply; params may be NULL ({}); takes params. For a oneway call
 * nothing is sent. */
int vl_call_reply(VlCall *c, VlJson *params);
/* An intermediate reply with "continues": only for calls with VL_CALL_MORE
 * (-EPROTO otherwise); takes params. */
int vl_call_reply_more(VlCall *c, VlJson *params);
/* An error reply; error is fully qualified; params may be NULL; takes params. */
int vl_call_reply_error(VlCall *c, const char *error, VlJson *params);
int vl_call_reply_invalid_parameter(VlCall *c, const char *parameter);
/* Convenience: an error with a single string parameter, e.g. ("reason", "…"). */
int vl_call_reply_error_string(VlCall *c, const char *error, const char *key, const char *value);

/* Reply and hand the raw connection over (VL_CALL_UPGRADE calls of methods
 * bound with vl_server_bind_upgrade): the reply is written, the connection
 * leaves the server, and *ret_fd is the socket (blocking mode restored).
 * Bytes the client sent after the upgrading call were never read by the
 * server: all of them are still in the socket. */
int vl_call_reply_upgrade(VlCall *c, VlJson *params, int *ret_fd);

/* File descriptors received with this call (if accepting fds is on): the
 * caller takes ownership with take (-EBADF if none at idx). */
int vl_call_n_fds(VlCall *c);
int vl_call_take_fd(VlCall *c, int idx);
/* Queue an fd (duplicated) to send with the next reply. */
int vl_call_push_fd(VlCall *c, int fd);

/* ======================= Client ======================= */

typedef struct VlClient VlClient;

/* Connect to an address (transport.h). exec: addresses spawn the service;
 * the child is killed and reaped on vl_client_free. */
int vl_client_connect(VlClient **ret, const char *address);
/* Wrap a connected socket fd (owned afterwards); pid (or 0) is a child to
 * reap on free (bridges). */
int vl_client_new_fd(VlClient **ret, int fd, pid_t pid);
/* Run a bridge command and talk through its stdio. */
int vl_client_connect_bridge(VlClient **ret, const char *command);
VlClient *vl_client_free(VlClient *c); /* accepts NULL */

/* Timeout for synchronous calls, in microseconds (0 = none, the default). */
void vl_client_set_timeout(VlClient *c, uint64_t usec);
void vl_client_set_max_message_size(VlClient *c, size_t max);
/* Allow SCM_RIGHTS fds on this connection. */
void vl_client_set_accept_fds(VlClient *c, bool enabled);
int vl_client_get_fd(VlClient *c);

/*
 * A synchronous call. params may be NULL ({}); borrowed. flags: 0,
 * VL_CALL_ONEWAY (returns after sending), VL_CALL_MORE (returns the first
 * reply; then vl_client_next until !*ret_continues), VL_CALL_UPGRADE (then
 * vl_client_take_upgraded).
 * On a Varlink error reply: returns 1 with *ret_error set to the error name (borrowed, valid until the next
 * call on c) and *ret_params to its parameters. On success returns 0 and *ret_error NULL. Transport
 * failures: -ECONNRESET (closed), -ETIMEDOUT, -EPROTO (bad message), -E2BIG (message over the limit), other
 * negative errnos. *ret_params (may be NULL to ignore) is a new reference.
 */
int vl_client_call(VlClient *c, const char *method, const VlJson *params, unsigned flags,
                   VlJson **ret_params, const char **ret_error);
/* The next reply of a VL_CALL_MORE call; same returns as vl_client_call.
 * *ret_continues tells whether more replies follow. */
int vl_client_next(VlClient *c, VlJson **ret_params, const char **ret_error, bool *ret_continues);
/* Did the last reply carry "continues": true? */
bool vl_client_continues(VlClient *c);

/* After a successful VL_CALL_UPGRADE call: the raw socket (blocking) and
 * the bytes that already arrived after the reply (malloc'ed, may be empty). */
int vl_client_take_upgraded(VlClient *c, int *ret_fd, char **ret_pending, size_t *ret_n_pending);

/* Send a raw message (already serialized, without the NUL) and read raw
 * replies: for bridges and tools that pass JSON through. */
int vl_client_send_raw(VlClient *c, const char *json, size_t len);
/* One whole message (without NUL) into *ret (malloc'ed). */
int vl_client_recv_raw(VlClient *c, char **ret, size_t *ret_len);

/* ---- Asynchronous calls ---- */

/* Called once per reply; continues tells whether more follow. error is NULL
 * on success. A negative r reports a transport failure (params NULL). */
typedef void (*VlReplyFn)(VlClient *c, int r, const VlJson *params, const char *error, bool continues,
                          void *userdata);

/* Queue a call; replies arrive through fn while the client is attached to
 * a loop (vl_client_attach) or driven by vl_client_process. */
int vl_client_call_async(VlClient *c, const char *method, const VlJson *params, unsigned flags, VlReplyFn fn,
                         void *userdata);
int vl_client_attach(VlClient *c, VlLoop *loop);
/* Non-blocking progress: write what can be written, read and dispatch what
 * arrived. Returns > 0 if something happened, 0 if nothing, < 0 on error. */
int vl_client_process(VlClient *c);
/* The poll events the client currently waits for (POLLIN, POLLOUT). */
short vl_client_get_events(VlClient *c);

/* File descriptors received with the last reply. */
int vl_client_n_fds(VlClient *c);
int vl_client_take_fd(VlClient *c, int idx);
/* Queue an fd (duplicated) to send with the next call. */
int vl_client_push_fd(VlClient *c, int fd);

#ifdef __cplusplus
}
#endif
