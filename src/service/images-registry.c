/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * io.podman's image methods that talk to registries: PullImage and
 * PushImage (streaming the engine's status lines as MoreResponse replies
 * when called with more) and SearchImages. Registries and their security
 * come from the service's registries.conf (`cpod varlink --registries-conf`).
 */

#include <stdio.h>

#include "images-internal.h"
#include "registry.h"
#include "util.h"

static VlJson *more_response(VlJson *logs, const char *id) {
        VlJson *o = vl_json_new_object();
        if (!o || !logs || vl_json_object_set(o, "logs", logs) < 0 ||
            vl_json_object_set_string(o, "id", id) < 0) {
                if (!o)
                        vl_json_unref(logs);
                return vl_json_unref(o);
        }
        return o;
}

/* Remember digest; 0 if it was already there, -ENOMEM. */
static int remember(Progress *p, const char *digest, size_t len) {
        for (size_t i = 0; i < p->n_seen; i++)
                if (strlen(p->seen[i]) == len && strncmp(p->seen[i], digest, len) == 0)
                        return 0;
        char **v = reallocarray(p->seen, p->n_seen + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        p->seen = v;
        if (!(p->seen[p->n_seen] = strndup(digest, len)))
                return -ENOMEM;
        p->n_seen++;
        return 1;
}

static void on_message(const char *line, void *userdata) {
        Progress *p = userdata;

        if (p->error < 0)
                return;
        const char *d = startswith(line, "Copying blob ");
        if (!d)
                d = startswith(line, "Copying config ");
        if (d && remember(p, d, strcspn(d, " ")) < 0) {
                p->error = -ENOMEM;
                return;
        }
        if (!(vl_call_flags(p->call) & VL_CALL_MORE)) {
                if (vl_json_array_append(p->logs, vl_json_new_string(line)) < 0)
                        p->error = -ENOMEM;
                return;
        }
        VlJson *logs = vl_json_new_array();
        if (!logs || vl_json_array_append(logs, vl_json_new_string(line)) < 0) {
                vl_json_unref(logs);
                p->error = -ENOMEM;
                return;
        }
        VlJson *o = vl_json_new_object();
        if (!o || vl_json_object_set(o, "reply", more_response(logs, "")) < 0) {
                vl_json_unref(o);
                p->error = -ENOMEM;
                return;
        }
        int r = vl_call_reply_more(p->call, o);
        if (r < 0)
                p->error = r; /* the peer went away: later lines are dropped */
}

/* Byte counts are not streamed; a blob's completion is, once, as podman words it. */
static void on_progress(const char *digest, uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;
        char line[DIGEST_MAX + 32];

        if (done < total || p->error < 0)
                return;
        int r = remember(p, digest, strlen(digest));
        if (r < 0)
                p->error = r;
        if (r <= 0)
                return;
        snprintf(line, sizeof(line), "Copying blob %s done", digest);
        on_message(line, p);
}

void progress_done(Progress *p) {
        vl_json_unref(p->logs);
        for (size_t i = 0; i < p->n_seen; i++)
                free(p->seen[i]);
        free(p->seen);
}

int progress_init(Progress *p, VlCall *call, RegistryProgress *ret) {
        *p = (Progress){.call = call};
        if (!(vl_call_flags(call) & VL_CALL_MORE) && !(p->logs = vl_json_new_array()))
                return -ENOMEM;
        *ret = (RegistryProgress){.message = on_message, .progress = on_progress, .userdata = p};
        return 0;
}

/* The final reply: the logs collected (none with more) and id. */
int progress_finish(Progress *p, const char *id) {
        VlJson *logs = p->logs ? TAKE_PTR(p->logs) : vl_json_new_array();
        return reply_one(p->call, "reply", more_response(logs, id));
}

static void registry_options(const Service *svc, RegistryOptions *ret) {
        *ret = (RegistryOptions){.tls_verify = -1, .registries_conf = svc->options.registries_conf};
}

typedef struct PullArgs {
        const char *name;
        const VlJson *creds;
} PullArgs;

static int method_pull_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        static const VlJsonField fields[] = {
                {"name", VL_JSON_STRING, vl_json_dispatch_string, offsetof(PullArgs, name), 0},
                {"creds", -1, vl_json_dispatch_json, offsetof(PullArgs, creds), 0},
                {},
        };
        _cleanup_free_ char *creds = NULL;
        PullArgs a = {};
        PullOptions o = {};
        Progress p;
        CpodError err = {};
        char **ids = NULL;
        size_t n = 0;
        Engine *e;

        if (vl_json_dispatch(params, fields, &a, VL_JSON_ALLOW_EXTRA, NULL) < 0 || !a.name || !a.name[0])
                return vl_call_reply_invalid_parameter(call, "name");
        registry_options(userdata, &o.registry);
        const char *user = vl_json_get_string(vl_json_object_get(a.creds, "username"));
        const char *pass = vl_json_get_string(vl_json_object_get(a.creds, "password"));
        if (user && user[0]) {
                if (asprintf(&creds, "%s:%s", user, pass ? pass : "") < 0)
                        return -ENOMEM;
                o.registry.creds = creds;
        }
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (progress_init(&p, call, &o.progress) < 0)
                return -ENOMEM;
        int r = image_pull(e, a.name, &o, &ids, &n, &err);
        if (r < 0)
                r = reply_image_error(call, r, &err, a.name);
        else if (p.error == -ENOMEM)
                r = -ENOMEM;
        else
                r = progress_finish(&p, n > 0 ? ids[0] : "");
        progress_done(&p);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        return r;
}

static int method_push_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        PushOptions o = {};
        Progress p;
        CpodError err = {};
        char digest[DIGEST_MAX] = "";
        ImageArgs a;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0)
                return 0;
        if (!a.name[0])
                return vl_call_reply_invalid_parameter(call, "name");
        registry_options(userdata, &o.registry);
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (progress_init(&p, call, &o.progress) < 0)
                return -ENOMEM;
        int r = image_push(e, a.name, a.other[0] ? a.other : NULL, &o, digest, &err);
        if (r < 0)
                r = reply_image_error(call, r, &err, a.name);
        else if (p.error == -ENOMEM)
                r = -ENOMEM;
        else
                r = progress_finish(&p, digest);
        progress_done(&p);
        return r;
}

/* One ImageSearchResult; NULL on allocation failure. */
static VlJson *search_result(const SearchResult *s) {
        _cleanup_free_ char *registry = strdup(s->name);
        if (!registry)
                return NULL;
        char *slash = strchr(registry, '/');
        if (slash)
                *slash = '\0';
        VlJson *o = vl_json_new_object();
        if (!o || vl_json_object_set_string(o, "description", "") < 0 ||
            vl_json_object_set_bool(o, "is_official", false) < 0 ||
            vl_json_object_set_bool(o, "is_automated", false) < 0 ||
            vl_json_object_set_string(o, "registry", registry) < 0 ||
            vl_json_object_set_string(o, "name", s->name) < 0 ||
            vl_json_object_set_int(o, "star_count", 0) < 0)
                return vl_json_unref(o);
        return o;
}

static int method_search_images(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Service *svc = userdata;
        RegistryOptions o;
        CpodError err = {};
        SearchResult *v = NULL;
        size_t n = 0;

        const char *query = vl_json_get_string(vl_json_object_get(params, "query"));
        if (!query || !query[0])
                return vl_call_reply_invalid_parameter(call, "query");
        const VlJson *limit = vl_json_object_get(params, "limit");
        int64_t max = vl_json_is_null(limit) ? 0 : vl_json_get_int(limit);
        if (max < 0)
                return vl_call_reply_invalid_parameter(call, "limit");

        /* Catalog results are never official or automated and have no stars:
         * a filter asking for any of these matches nothing. */
        const VlJson *filter = vl_json_object_get(params, "filter");
        const VlJson *official = vl_json_object_get(filter, "is_official");
        const VlJson *automated = vl_json_object_get(filter, "is_automated");
        const VlJson *stars = vl_json_object_get(filter, "star_count");
        bool none = (!vl_json_is_null(official) && vl_json_get_bool(official)) ||
                    (!vl_json_is_null(automated) && vl_json_get_bool(automated)) ||
                    (!vl_json_is_null(stars) && vl_json_get_int(stars) > 0);

        registry_options(svc, &o);
        int r = registry_search(query, &o, false, (size_t)max, &v, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *results = vl_json_new_array();
        for (size_t i = 0; results && !none && i < n; i++)
                if (vl_json_array_append(results, search_result(&v[i])) < 0)
                        results = vl_json_unref(results);
        search_results_free(v, n);
        return reply_one(call, "results", results);
}

int images_registry_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {PODMAN_IFACE ".PullImage", method_pull_image},
                {PODMAN_IFACE ".PushImage", method_push_image},
                {PODMAN_IFACE ".SearchImages", method_search_images},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
