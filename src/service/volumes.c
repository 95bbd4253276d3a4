/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The volume methods of io.podman: VolumeCreate, VolumeRemove, GetVolumes,
 * InspectVolume and VolumesPrune, on the engine's volumes (volume.h).
 *
 * A volume that does not exist is VolumeNotFound {id, reason}, except in
 * VolumeRemove, which reports every volume it did not remove, by name, in
 * its failures.
 */

#include <stdio.h>
#include <string.h>

#include "service-internal.h"
#include "util.h"
#include "volume.h"

/* Strings in one reply (names given to VolumeRemove and GetVolumes). */

int svc_kv_list(const VlJson *map, char ***ret, size_t *ret_n) {
        size_t n = vl_json_object_length(map);
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *value = vl_json_get_string(vl_json_object_value(map, i));
                if (asprintf(&v[i], "%s=%s", vl_json_object_key(map, i), value ? value : "") < 0) {
                        v[i] = NULL;
                        svc_kv_list_free(v, i);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

void svc_kv_list_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int reply_volume_error(VlCall *call, int r, const CpodError *err, const char *name) {
        char buf[160];
        const char *reason = buf;

        if (r != -ENOENT)
                return reply_error_occurred(call, r, err);
        if (err && err->code && err->message[0])
                reason = err->message;
        else
                snprintf(buf, sizeof(buf), "no such volume %.100s", name);
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, "id", name) < 0 ||
            vl_json_object_set_string(p, "reason", reason) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, PODMAN_IFACE ".VolumeNotFound", p);
}

/* A map member of a record: a copy of an object, or {}. */
static VlJson *map_or_empty(const VlJson *o) {
        return vl_json_type(o) == VL_JSON_OBJECT ? vl_json_copy(o) : vl_json_new_object();
}

/* io.podman Volume: name, labels, mountPoint, driver, options. */
static VlJson *volume_record(const Volume *v) {
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        r = r < 0 ? r : vl_json_object_set_string(o, "name", v->name);
        r = r < 0 ? r : vl_json_object_set(o, "labels", map_or_empty(v->labels));
        r = r < 0 ? r : vl_json_object_set_string(o, "mountPoint", v->mountpoint ? v->mountpoint : "");
        r = r < 0 ? r : vl_json_object_set_string(o, "driver", v->driver ? v->driver : "local");
        r = r < 0 ? r : vl_json_object_set(o, "options", map_or_empty(v->options));
        return r < 0 ? vl_json_unref(o) : o;
}

static int method_volume_create(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *opts = vl_json_object_get(params, "options");
        const char *name = vl_json_get_string(vl_json_object_get(opts, "volumeName"));
        const char *driver = vl_json_get_string(vl_json_object_get(opts, "driver"));
        char **labels = NULL, **options = NULL, *created = NULL;
        size_t n_labels = 0, n_options = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (svc_kv_list(vl_json_object_get(opts, "labels"), &labels, &n_labels) < 0 ||
            svc_kv_list(vl_json_object_get(opts, "options"), &options, &n_options) < 0) {
                svc_kv_list_free(labels, n_labels);
                return -ENOMEM;
        }
        VolumeCreateOptions o = {
                .name = name && *name ? name : NULL,
                .driver = driver && *driver ? driver : NULL,
                .labels = labels,
                .n_labels = n_labels,
                .options = options,
                .n_options = n_options,
        };
        int r = volume_create(e, &o, &created, &err);
        svc_kv_list_free(labels, n_labels);
        svc_kv_list_free(options, n_options);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        if (!created && !(created = strdup(o.name ? o.name : "")))
                return -ENOMEM;
        VlJson *v = vl_json_new_string(created);
        free(created);
        return reply_one(call, "volumeName", v);
}

static int method_get_volumes(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *args = vl_json_object_get(params, "args");
        bool all = vl_json_get_bool(vl_json_object_get(params, "all"));
        const char **names = NULL;
        size_t n_names = 0;
        CpodError err = {};
        Engine *e;
        int r;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        VlJson *a = vl_json_new_array();
        if (!a)
                return -ENOMEM;
        if (all) {
                Volume *vols = NULL;
                size_t n = 0;
                r = volume_list(e, NULL, 0, &vols, &n, &err);
                if (r < 0) {
                        vl_json_unref(a);
                        return reply_error_occurred(call, r, &err);
                }
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = vl_json_array_append(a, volume_record(&vols[i]));
                volume_array_free(vols, n);
        } else {
                r = svc_string_list(call, "args", args, &names, &n_names);
                if (r < 0) {
                        vl_json_unref(a);
                        return r == -E2BIG ? 0 : r;
                }
                for (size_t i = 0; r >= 0 && i < n_names; i++) {
                        Volume v = {};
                        r = volume_get(e, names[i], &v, &err);
                        if (r < 0) {
                                vl_json_unref(a);
                                r = reply_volume_error(call, r, &err, names[i]);
                                free(names);
                                return r;
                        }
                        r = vl_json_array_append(a, volume_record(&v));
                        volume_done(&v);
                }
                free(names);
        }
        if (r < 0) {
                vl_json_unref(a);
                return -ENOMEM;
        }
        return reply_one(call, "volumes", a);
}

static int method_inspect_volume(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = vl_json_get_string(vl_json_object_get(params, "name")) ?: "";
        CpodError err = {};
        VlJson *doc = NULL;
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = volume_inspect(e, name, &doc, &err);
        if (r < 0)
                return reply_volume_error(call, r, &err, name);
        _cleanup_free_ char *s = vl_json_to_string(doc, 0);
        vl_json_unref(doc);
        return s ? reply_one(call, "volume", vl_json_new_string(s)) : -ENOMEM;
}

/* Remove each volume named (all: every volume); a volume that is missing or in use goes to failures. */
static int method_volume_remove(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *opts = vl_json_object_get(params, "options");
        bool all = vl_json_get_bool(vl_json_object_get(opts, "all"));
        bool force = vl_json_get_bool(vl_json_object_get(opts, "force"));
        Volume *vols = NULL;
        const char **names = NULL;
        size_t n = 0, n_vols = 0;
        CpodError err = {};
        Engine *e;
        int r;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (all) {
                r = volume_list(e, NULL, 0, &vols, &n_vols, &err);
                if (r < 0)
                        return reply_error_occurred(call, r, &err);
                names = calloc(n_vols + 1, sizeof(char *));
                for (size_t i = 0; names && i < n_vols; i++)
                        names[i] = vols[i].name;
                n = n_vols;
                r = names ? 0 : -ENOMEM;
        } else if ((r = svc_string_list(call, "volumes", vl_json_object_get(opts, "volumes"), &names, &n)) ==
                   -E2BIG)
                return 0;

        VlJson *reply = vl_json_new_object(), *successes = vl_json_new_array(),
               *failures = vl_json_new_object();
        if (!reply || !successes || !failures)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                CpodError one = {};
                int k = volume_remove(e, names[i], force, &one);
                if (k >= 0)
                        r = vl_json_array_append(successes, vl_json_new_string(names[i]));
                else {
                        r = vl_json_object_set_string(
                                failures, names[i], one.code && one.message[0] ? one.message : strerror(-k));
                }
        }
        free(names);
        volume_array_free(vols, n_vols);
        if (r >= 0) {
                r = vl_json_object_set(reply, "successes", TAKE_PTR(successes));
                if (r >= 0)
                        r = vl_json_object_set(reply, "failures", TAKE_PTR(failures));
        }
        vl_json_unref(successes);
        vl_json_unref(failures);
        if (r < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        return vl_call_reply(call, reply);
}

static int method_volumes_prune(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        char **names = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = volume_prune(e, NULL, 0, &names, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *reply = vl_json_new_object();
        if (!reply || json_set_strv(reply, "prunedNames", names, n) < 0 ||
            vl_json_object_set(reply, "prunedErrors", vl_json_new_array()) < 0)
                reply = vl_json_unref(reply);
        svc_kv_list_free(names, n);
        return reply ? vl_call_reply(call, reply) : -ENOMEM;
}

int volumes_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {PODMAN_IFACE ".VolumeCreate", method_volume_create},
                {PODMAN_IFACE ".VolumeRemove", method_volume_remove},
                {PODMAN_IFACE ".GetVolumes", method_get_volumes},
                {PODMAN_IFACE ".InspectVolume", method_inspect_volume},
                {PODMAN_IFACE ".VolumesPrune", method_volumes_prune},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
