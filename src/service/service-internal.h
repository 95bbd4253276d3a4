/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared by the service's sources (not used by the rest of cpod).
 *
 * Process model: the parent (service.c) only accepts connections; each
 * connection is served by a forked child (connection.c) that owns a
 * VlServer and, once a method needs it, an Engine. Handlers may block.
 */

#include <stdbool.h>
#include <stdint.h>

#include <vl/varlink.h>

#include "engine.h"
#include "image.h"

/* org.varlink.service.GetInfo of the service. There is no project web site
 * yet: the URL is a placeholder in a reserved domain, never a real host. */
#define SERVICE_VENDOR  "cpod"
#define SERVICE_PRODUCT "cpod"
#define SERVICE_URL     "https://cpod.invalid/"

#define PODMAN_IFACE "io.podman"
#define ATOMIC_IFACE "io.projectatomic.podman"

typedef struct Service {
        EngineOptions options; /* strings borrowed from argv */
        Engine *engine;        /* opened on first use, per connection */
} Service;

/* The VlServer with both interfaces parsed and every method bound, made
 * once by the parent before it forks: a connection's child only adds its
 * socket. It holds no engine state (the engine is opened in the child). */
typedef struct ServicePrepared {
        VlServer *server;
        Service svc;
} ServicePrepared;

int service_prepare(const EngineOptions *options, ServicePrepared **ret);
ServicePrepared *service_prepared_free(ServicePrepared *sp); /* accepts NULL */

/* Serve one connected socket (owned) with the prepared server until the
 * peer hangs up; the body of a connection's child process. Returns 0 or a
 * negative errno. */
int service_serve_connection(ServicePrepared *sp, int fd);

/* The engine of the connection, opened on first use. On failure the call
 * has been answered with ErrorOccurred and a negative errno is returned. */
int service_engine(Service *svc, VlCall *call, Engine **ret);

/* Which interface a call came in on (the handlers serving both). */
bool call_is_atomic(VlCall *call);

/* Error replies. They return what the reply returned (0 normally), so a
 * handler can end with `return reply_...(...)`. */
int reply_error_occurred(VlCall *call, int r, const CpodError *err);
/* -ENOENT becomes the interface's ImageNotFound for ref, anything else ErrorOccurred. */
int reply_image_error(VlCall *call, int r, const CpodError *err, const char *ref);

/* Binding of each group of handlers. */
int system_bind(VlServer *s, Service *svc);
int images_bind(VlServer *s, Service *svc);
int pods_bind(VlServer *s, Service *svc);            /* pods.c */
int volumes_bind(VlServer *s, Service *svc);         /* volumes.c */
int images_registry_bind(VlServer *s, Service *svc); /* images-registry.c */

/* A [string]string parameter as "K=V" strings (NULL-terminated, malloc'ed); -ENOMEM. */
int svc_kv_list(const VlJson *map, char ***ret, size_t *ret_n);
/* The strings of a []string parameter (validated by libvl), borrowed, NULL-terminated (free the array
 * only); more than SVC_STRING_LIST_MAX answers InvalidParameter and returns -E2BIG. */
#define SVC_STRING_LIST_MAX 4096
int svc_string_list(VlCall *call, const char *param, const VlJson *list, const char ***ret, size_t *ret_n);
void svc_kv_list_free(char **v, size_t n);

/* JSON helpers (NULL on allocation failure). */
VlJson *json_strv(char *const *v, size_t n);
int json_set_strv(VlJson *o, const char *key, char *const *v, size_t n);
/* Takes v; on failure frees it. A handler's reply of one member. */
int reply_one(VlCall *call, const char *key, VlJson *v);

/* Times: Go's time.String() form in UTC ("2018-04-19 13:03:59 +0000 UTC")
 * and RFC 3339 ("2018-04-19T13:03:59Z"). buf must hold 40 bytes. */
#define TIME_BUF_MAX 40
const char *format_go_time(int64_t t, char buf[static TIME_BUF_MAX]);
const char *format_rfc3339(int64_t t, char buf[static TIME_BUF_MAX]);
/* Parse an RFC 3339 time (as found in image configs) to Unix seconds; -EINVAL if malformed. */
int parse_rfc3339(const char *s, int64_t *ret);

/* Image replies (image-json.c). */
int svc_image_in_list(Engine *e, const Image *img, VlJson **ret); /* io.projectatomic.podman ImageInList */
int svc_image(Engine *e, const Image *img, VlJson **ret);         /* io.podman Image */
int svc_image_inspect(Engine *e, const Image *img, char **ret,
                      CpodError *err); /* podman's inspect document */
int svc_image_history(Engine *e, const Image *img, VlJson **ret, CpodError *err); /* []ImageHistory */
