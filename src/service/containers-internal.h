/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container methods (containers*.c, container-json.c, stream.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "service-internal.h"

/* The parameters of the container methods that take simple ones. */
typedef struct ContainerArgs {
        const char *name;  /* "name", "id" */
        const char *other; /* path, detachKeys, image_name */
        const char *since, *until, *author, *message;
        const VlJson *list;     /* opts, status, args, names, changes, filter */
        int64_t number;         /* timeout, signal, interval, tail */
        bool force, volumes;    /* force; removeVolumes */
        bool all, latest, flag; /* all; latest; follow, start, pause */
        bool timestamps, number_set;
} ContainerArgs;

/* Fill a from params; on failure the call has been answered (InvalidParameter). */
int svc_container_args(VlCall *call, const VlJson *params, ContainerArgs *a);

/* The engine and the container ref names (state synced); on failure the
 * call has been answered (ContainerNotFound or ErrorOccurred). */
int svc_get_container(VlCall *call, Service *svc, const char *ref, Engine **ret_e, Container *ret);

/* Error replies of a container operation: -ENOENT ContainerNotFound {id,
 * reason}, a wrong state InvalidState {id, reason}, a runtime failure
 * RuntimeError, anything else ErrorOccurred. */
int reply_container_error(VlCall *call, int r, const CpodError *err, const char *id);

/* Records (container-json.c): io.podman Container, which is also
 * io.projectatomic.podman's ListContainerData; io.podman PsContainer. */
int svc_container(const Container *c, VlJson **ret);
int svc_ps_container(const Container *c, VlJson **ret);
int svc_container_stats(const ContainerStats *s, VlJson **ret);
/* RFC 3339 with nanoseconds in UTC, as k8s-file logs and events carry it. */
const char *format_rfc3339nano(int64_t ns, char buf[static TIME_BUF_MAX]);

/* CreateContainer of either interface: parse the Create struct, create,
 * answer the call. */
int svc_create_container(VlCall *call, Service *svc, const VlJson *create);
/* The same, with hook (when not NULL) adding to the options before the container is created; a hook's
 * -EINVAL, with *bad naming the parameter at fault, answers InvalidParameter. */
typedef int (*CreateHook)(ContainerCreateOptions *c, void *userdata, const char **bad);
int svc_create_container_with(VlCall *call, Service *svc, const VlJson *create, CreateHook hook,
                              void *userdata);

/*
 * Streams (stream.c): the producer runs in a child process of the
 * connection and writes replies with stream_emit; the connection's loop
 * passes them on as they come, so a follow neither blocks the loop nor
 * keeps the process when the client goes away (the producer is killed).
 * The producer must end with a final reply or an error.
 */
typedef int (*StreamFn)(Engine *e, int fd, void *userdata);
enum { STREAM_MORE = 'M', STREAM_FINAL = 'F', STREAM_ERROR = 'E' };
/* Takes params; error only with STREAM_ERROR. */
int stream_emit(int fd, char kind, const char *error, VlJson *params);
/* An ErrorOccurred (or the interface's error for r) from the producer. */
int stream_emit_error(int fd, VlCall *call, int r, const CpodError *err, const char *id);
/* Start the producer; the call is answered from the loop. */
int svc_stream(VlCall *call, Engine *e, StreamFn fn, void *userdata);

/* io.podman's ExecContainer on opts (its ExecOpts), called with upgrade; rows and cols (0: none) size the
 * exec's terminal. The call is answered. */
int svc_exec_session(VlCall *call, const VlJson *opts, unsigned flags, Service *svc, unsigned rows,
                     unsigned cols);

/* Binding of the groups (containers_bind binds the other two). */
int containers_bind(VlServer *s, Service *svc);
int containers_io_bind(VlServer *s, Service *svc);
int containers_upgrade_bind(VlServer *s, Service *svc);
