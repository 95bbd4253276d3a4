/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One connection's process: a VlServer with the three interfaces (io.podman,
 * io.projectatomic.podman, io.cpod), serving the socket it was handed until
 * the peer hangs up. The engine is opened on the first call that needs it,
 * so Ping and GetVersion answer even when the store cannot be opened.
 */

#include <stdio.h>
#include <time.h>

#include "io.podman.h"
#include "io.projectatomic.podman.h"
#include "io.cpod.h"
#include "ext-internal.h"
#include "containers-internal.h"
#include "service-internal.h"
#include "util.h"

int service_engine(Service *svc, VlCall *call, Engine **ret) {
        if (!svc->engine) {
                CpodError err = {};
                int r = engine_open(&svc->options, &svc->engine, &err);
                if (r < 0) {
                        svc->engine = NULL;
                        (void)reply_error_occurred(call, r, &err);
                        return r;
                }
        }
        *ret = svc->engine;
        return 0;
}

bool call_is_atomic(VlCall *call) {
        return startswith(vl_call_method(call), ATOMIC_IFACE ".") != NULL;
}

static const char *error_reason(int r, const CpodError *err, char *buf, size_t size) {
        if (err && err->code != 0 && err->message[0])
                return err->message;
        snprintf(buf, size, "%s", strerror(r < 0 ? -r : r));
        return buf;
}

/* ErrorOccurred of the interface the call came in on. */
static const char *error_occurred(VlCall *call) {
        if (call_is_atomic(call))
                return ATOMIC_IFACE ".ErrorOccurred";
        if (startswith(vl_call_method(call), CPOD_IFACE "."))
                return CPOD_IFACE ".ErrorOccurred";
        return PODMAN_IFACE ".ErrorOccurred";
}

int reply_error_occurred(VlCall *call, int r, const CpodError *err) {
        char buf[128];
        return vl_call_reply_error_string(call, error_occurred(call), "reason",
                                          error_reason(r, err, buf, sizeof(buf)));
}

int reply_image_error(VlCall *call, int r, const CpodError *err, const char *ref) {
        char buf[128];

        if (r != -ENOENT)
                return reply_error_occurred(call, r, err);
        if (call_is_atomic(call))
                return vl_call_reply_error_string(call, ATOMIC_IFACE ".ImageNotFound", "imagename", ref);

        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, "id", ref) < 0 ||
            vl_json_object_set_string(p, "reason", error_reason(r, err, buf, sizeof(buf))) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, PODMAN_IFACE ".ImageNotFound", p);
}

VlJson *json_strv(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();
        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        return vl_json_unref(a);
        return a;
}

int json_set_strv(VlJson *o, const char *key, char *const *v, size_t n) {
        VlJson *a = json_strv(v, n);
        if (!a)
                return -ENOMEM;
        return vl_json_object_set(o, key, a);
}

int reply_one(VlCall *call, const char *key, VlJson *v) {
        VlJson *o = vl_json_new_object();
        if (!o || !v || vl_json_object_set(o, key, v) < 0) {
                if (!o)
                        vl_json_unref(v);
                vl_json_unref(o);
                return -ENOMEM;
        }
        return vl_call_reply(call, o);
}

const char *format_go_time(int64_t t, char buf[static TIME_BUF_MAX]) {
        struct tm tm;
        time_t tt = (time_t)t;

        if (!gmtime_r(&tt, &tm) || strftime(buf, TIME_BUF_MAX, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm) == 0)
                snprintf(buf, TIME_BUF_MAX, "1970-01-01 00:00:00 +0000 UTC");
        return buf;
}

const char *format_rfc3339(int64_t t, char buf[static TIME_BUF_MAX]) {
        struct tm tm;
        time_t tt = (time_t)t;

        if (!gmtime_r(&tt, &tm) || strftime(buf, TIME_BUF_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, TIME_BUF_MAX, "1970-01-01T00:00:00Z");
        return buf;
}

int parse_rfc3339(const char *s, int64_t *ret) {
        struct tm tm = {};
        int n = 0, oh = 0, om = 0;

        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                         &tm.tm_min, &tm.tm_sec, &n) != 6)
                return -EINVAL;
        s += n;
        if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++)
                        ;
        int64_t offset = 0;
        if (*s == '+' || *s == '-') {
                if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || s[1 + n] != '\0')
                        return -EINVAL;
                offset = (oh * 3600 + om * 60) * (*s == '-' ? -1 : 1);
        } else if ((*s != 'Z' && *s != 'z') || s[1] != '\0')
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ret = (int64_t)timegm(&tm) - offset;
        return 0;
}

int service_prepare(const EngineOptions *options, ServicePrepared **ret) {
        ServicePrepared *sp = calloc(1, sizeof(*sp));
        VlIdlError ierr = {};
        int r;

        if (!sp)
                return -ENOMEM;
        sp->svc.options = *options;
        r = vl_server_new(&sp->server, SERVICE_VENDOR, SERVICE_PRODUCT, PROJECT_VERSION, SERVICE_URL);
        if (r < 0)
                goto fail;
        /* podman's clients (cockpit, python-podman) leave out fields they
         * consider defaults, e.g. RemoveContainer without force */
        vl_server_set_allow_missing(sp->server, true);
        if ((r = vl_server_add_interface(sp->server, io_podman_idl, &ierr)) < 0 ||
            (r = vl_server_add_interface(sp->server, io_projectatomic_podman_idl, &ierr)) < 0 ||
            (r = vl_server_add_interface(sp->server, io_cpod_idl, &ierr)) < 0) {
                fprintf(stderr, "cpod varlink: embedded interface: line %u: %s\n", ierr.line, ierr.message);
                goto fail;
        }
        if ((r = system_bind(sp->server, &sp->svc)) < 0 || (r = images_bind(sp->server, &sp->svc)) < 0 ||
            (r = containers_bind(sp->server, &sp->svc)) < 0 || (r = pods_bind(sp->server, &sp->svc)) < 0 ||
            (r = volumes_bind(sp->server, &sp->svc)) < 0 ||
            (r = images_registry_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_network_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_container_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_pod_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_registry_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_system_bind(sp->server, &sp->svc)) < 0 ||
            (r = ext_copy_bind(sp->server, &sp->svc)) < 0 || (r = ext_image_bind(sp->server, &sp->svc)) < 0)
                goto fail;
        *ret = sp;
        return 0;
fail:
        service_prepared_free(sp);
        return r;
}

ServicePrepared *service_prepared_free(ServicePrepared *sp) {
        if (!sp)
                return NULL;
        vl_server_free(sp->server);
        engine_close(sp->svc.engine);
        free(sp);
        return NULL;
}

int service_serve_connection(ServicePrepared *sp, int fd) {
        int r = vl_server_listen_fd(sp->server, fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return vl_server_run(sp->server);
}
