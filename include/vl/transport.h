/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libvl transports: Varlink addresses, connecting, listening, socket
 * activation, spawning services and bridges.
 *
 * Addresses:
 *   unix:/path[;mode=0660]   a filesystem socket (mode applies when listening)
 *   unix:@name               an abstract socket
 *   tcp:host:port            IPv4, host name or [IPv6]; TCP_NODELAY is set
 *   exec:/path/to/service    spawn the service with a connected socket on fd 3
 *                            (LISTEN_FDS=1, LISTEN_FDNAMES=varlink)
 * Unknown ";key=value" parameters are refused rather than silently dropped.
 */

#include <stdbool.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum VlAddressKind {
        VL_ADDRESS_UNIX,
        VL_ADDRESS_ABSTRACT,
        VL_ADDRESS_TCP,
        VL_ADDRESS_EXEC,
} VlAddressKind;

typedef struct VlAddress {
        VlAddressKind kind;
        char *path; /* UNIX: path; ABSTRACT: name without '@'; EXEC: the command */
        char *host; /* TCP: host without brackets */
        char *port; /* TCP */
        int mode;   /* UNIX ";mode=": file mode, or -1 if not given */
} VlAddress;

/* Parse an address. Returns 0, or -EINVAL for anything malformed
 * (unknown scheme, empty path, bad port, bad or unknown parameter). */
int vl_address_parse(const char *address, VlAddress *ret);
void vl_address_done(VlAddress *a); /* frees the strings */

/*
 * Connect to an address. Returns a connected, non-blocking, O_CLOEXEC
 * socket fd, or a negative errno. For EXEC addresses the service is
 * spawned with a connected socketpair on fd 3 and *ret_pid (may be NULL)
 * is set; the caller reaps it (or passes it to vl_loop_add_child).
 */
int vl_connect_address(const char *address, pid_t *ret_pid);

/* Run `/bin/sh -c command` with a socketpair as its stdin and stdout and
 * return our end (non-blocking). Used for bridges ("ssh host varlink bridge"). */
int vl_spawn_bridge(const char *command, pid_t *ret_pid);

/* Create a listening, non-blocking, O_CLOEXEC socket. For UNIX addresses a
 * stale socket file is replaced and ";mode=" applied (default 0666 & ~umask).
 * EXEC addresses cannot be listened on (-EINVAL). */
int vl_listen_address(const char *address);

/*
 * Socket activation: the fds passed by a service manager (LISTEN_PID must
 * be our pid). With LISTEN_FDNAMES, only fds named "varlink" are returned
 * (or all if none has a name). The environment variables are unset.
 * Returns the number of fds (0 if not activated) and stores them, made
 * O_CLOEXEC, in fds[] (at most max).
 */
int vl_activation_fds(int *fds, int max);
/* True if fd is a listening socket (SO_ACCEPTCONN), false if connected. */
bool vl_socket_is_listening(int fd);

/*
 * Spawn command (through /bin/sh -c) as an activated service: a fresh
 * listening socket at a private abstract address is passed on fd 3 with
 * LISTEN_FDS=1, LISTEN_PID and LISTEN_FDNAMES=varlink, and VARLINK_ADDRESS
 * holds the address in the child's environment, so "$VARLINK_ADDRESS" in
 * the command line works. *ret_address (malloc'ed) is where to connect.
 */
int vl_spawn_activated(const char *command, char **ret_address, pid_t *ret_pid);

#ifdef __cplusplus
}
#endif
