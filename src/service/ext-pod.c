/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The volume and pod methods of io.cpod that io.podman lacks: ListVolumes
 * and PruneVolumes with `cpod volume ls/prune --filter`'s filters (the
 * engine's volume_list and volume_prune, so a filter means what it means
 * locally), and CreatePod with every option of `cpod pod create`
 * (io.podman's PodCreate has no network or hostname).
 */

#include <stdlib.h>
#include <string.h>

#include "ext-internal.h"
#include "pod.h"
#include "util.h"
#include "volume.h"

/* Strings in one []string parameter at most. */

static VlJson *names_array(char *const *names, size_t n) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(names[i])) < 0)
                        a = vl_json_unref(a);
        return a;
}

static int method_list_volumes(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ const char **filters = NULL;
        CpodError err = {};
        Volume *v = NULL;
        size_t n_filters = 0, n = 0;
        Engine *e;

        int r = svc_string_list(call, "filters", vl_json_object_get(params, "filters"), &filters,
                                &n_filters);
        if (r < 0)
                return r == -E2BIG ? 0 : r;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = volume_list(e, filters, n_filters, &v, &n, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        VlJson *names = vl_json_new_array();
        for (size_t i = 0; names && i < n; i++)
                if (vl_json_array_append(names, vl_json_new_string(v[i].name)) < 0)
                        names = vl_json_unref(names);
        volume_array_free(v, n);
        return reply_one(call, "names", names);
}

static int method_prune_volumes(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ const char **filters = NULL;
        CpodError err = {};
        char **names = NULL;
        size_t n_filters = 0, n = 0;
        Engine *e;

        int r = svc_string_list(call, "filters", vl_json_object_get(params, "filters"), &filters,
                                &n_filters);
        if (r < 0)
                return r == -E2BIG ? 0 : r;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = volume_prune(e, filters, n_filters, &names, &n, &err);
        VlJson *a = r < 0 ? NULL : names_array(names, n);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        return reply_one(call, "names", a);
}

/* An optional string member; NULL when absent, null or empty (the engine's default). */
static const char *opt_string(const VlJson *o, const char *key) {
        const char *s = vl_json_get_string(vl_json_object_get(o, key));
        return s && *s ? s : NULL;
}

static int method_create_pod(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *create = vl_json_object_get(params, "create");
        _cleanup_free_ const char **labels = NULL, **publish = NULL;
        PodCreateOptions o = {
                .name = opt_string(create, "name"),
                .infra_image = opt_string(create, "infraImage"),
                .network = opt_string(create, "network"),
                .hostname = opt_string(create, "hostname"),
        };
        CpodError err = {};
        char id[65];
        Engine *e;
        int r;

        /* "" shares nothing, as `--share ""` does; absent is the default */
        if (!vl_json_is_null(vl_json_object_get(create, "share")))
                o.share = vl_json_get_string(vl_json_object_get(create, "share"));
        if ((r = svc_string_list(call, "create", vl_json_object_get(create, "labels"), &labels,
                                 &o.n_labels)) < 0 ||
            (r = svc_string_list(call, "create", vl_json_object_get(create, "publish"), &publish,
                                 &o.n_publish)) < 0)
                return r == -E2BIG ? 0 : r;
        o.labels = (char **)labels;
        o.publish = (char **)publish;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = pod_create(e, &o, id, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        return reply_one(call, "pod", vl_json_new_string(id));
}

int ext_pod_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {CPOD_IFACE ".ListVolumes", method_list_volumes},
                {CPOD_IFACE ".PruneVolumes", method_prune_volumes},
                {CPOD_IFACE ".CreatePod", method_create_pod},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
