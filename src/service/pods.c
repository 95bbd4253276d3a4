/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The pod methods of io.podman on the engine's pods (pod.h): creation,
 * listing, inspection, the lifecycle, processes and resource use.
 *
 * A pod that does not exist is PodNotFound {name, reason}; other failures
 * are ErrorOccurred {reason}. GetPodStats without a running container is
 * NoContainerRunning, as in podman.
 *
 * CreatePod: every pod has an infra container (infra false is refused when
 * the caller sends it; an absent infra means true), share lists the
 * namespaces ("cgroup" is accepted and has no effect, "none" shares
 * nothing, an empty list is the default net, ipc and uts); cgroupParent and
 * infraCommand are not supported.
 *
 * GenerateKube answers the Pod document of a pod or container as YAML and,
 * with service, the Service document ("" without).
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "containers-internal.h"
#include "kube.h"
#include "pod.h"
#include "service-internal.h"
#include "util.h"
#include "yaml.h"

/* Names given to GetPodsByContext, statuses to GetPodsByStatus. */
#define MAX_POD_ARGS 4096

typedef struct PodArgs {
        const char *name;   /* name; pod (TopPod) */
        const VlJson *list; /* statuses, args, descriptors */
        int64_t number;     /* timeout, signal */
        bool number_set;
        bool force, all, latest;
} PodArgs;

#define ARG_STR(n, f) \
        { n, VL_JSON_STRING, vl_json_dispatch_string, offsetof(PodArgs, f), 0 }
#define ARG_BOOL(n, f) \
        { n, VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(PodArgs, f), 0 }
#define ARG_INT(n) \
        { n, VL_JSON_INT, dispatch_number, 0, 0 }
#define ARG_JSON(n, f) \
        { n, -1, vl_json_dispatch_json, offsetof(PodArgs, f), 0 }

/* The numbers share one member; their field offset is 0, so field is the PodArgs. */
static int dispatch_number(const char *name, const VlJson *v, void *field) {
        PodArgs *a = field;
        a->number = vl_json_get_int(v);
        a->number_set = true;
        return 0;
}

static const VlJsonField pod_fields[] = {
        ARG_STR("name", name),
        ARG_STR("pod", name),
        ARG_JSON("statuses", list),
        ARG_JSON("args", list),
        ARG_JSON("descriptors", list),
        ARG_INT("timeout"),
        ARG_INT("signal"),
        ARG_BOOL("force", force),
        ARG_BOOL("all", all),
        ARG_BOOL("latest", latest),
        {},
};

static int pod_args(VlCall *call, const VlJson *params, PodArgs *a) {
        const char *bad = NULL;

        *a = (PodArgs){};
        if (vl_json_dispatch(params, pod_fields, a, VL_JSON_ALLOW_EXTRA, &bad) < 0) {
                (void)vl_call_reply_invalid_parameter(call, bad ? bad : "parameters");
                return -EINVAL;
        }
        if (vl_json_array_length(a->list) > MAX_POD_ARGS) {
                (void)vl_call_reply_invalid_parameter(call, "args");
                return -E2BIG;
        }
        if (!a->name)
                a->name = "";
        return 0;
}

static int reply_pod_error(VlCall *call, int r, const CpodError *err, const char *name) {
        char buf[160];
        const char *reason = buf;

        if (r != -ENOENT)
                return reply_error_occurred(call, r, err);
        if (err && err->code && err->message[0])
                reason = err->message;
        else
                snprintf(buf, sizeof(buf), "no pod with name or ID %.100s found: no such pod", name);
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, "name", name) < 0 ||
            vl_json_object_set_string(p, "reason", reason) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, PODMAN_IFACE ".PodNotFound", p);
}

/* The engine and the pod ref names; on failure the call has been answered. */
static int get_pod(VlCall *call, Service *svc, const char *ref, Engine **ret_e, Pod *ret) {
        CpodError err = {};
        int r = service_engine(svc, call, ret_e);
        if (r < 0)
                return r;
        r = pod_get(*ret_e, ref, ret, &err);
        if (r < 0)
                (void)reply_pod_error(call, r, &err, ref);
        return r;
}

/* The pod and its containers (states synced); on failure the call has been answered. */
static int get_pod_containers(VlCall *call, Service *svc, const char *ref, Engine **ret_e, Pod *ret,
                              Container **ret_c, size_t *ret_n) {
        CpodError err = {};
        int r = get_pod(call, svc, ref, ret_e, ret);
        if (r < 0)
                return r;
        r = pod_containers(*ret_e, ret, ret_c, ret_n, &err);
        if (r < 0) {
                pod_done(ret);
                (void)reply_pod_error(call, r, &err, ref);
        }
        return r;
}

static VlJson *labels_object(char *const *labels, size_t n) {
        VlJson *o = vl_json_new_object();
        for (size_t i = 0; o && i < n; i++) {
                const char *eq = strchr(labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(labels[i], eq ? (size_t)(eq - labels[i]) : strlen(labels[i]));
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        o = vl_json_unref(o);
        }
        return o;
}

/* io.podman ListPodData. */
static VlJson *pod_record(const Pod *p, const Container *c, size_t n) {
        char created[TIME_BUF_MAX], count[24];
        VlJson *o = vl_json_new_object(), *members = vl_json_new_array();
        int r = o && members ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                VlJson *m = vl_json_new_object();
                if (!m || vl_json_object_set_string(m, "name", c[i].name ? c[i].name : "") < 0 ||
                    vl_json_object_set_string(m, "id", c[i].id) < 0 ||
                    vl_json_object_set_string(m, "status", container_state_name(c[i].state)) < 0) {
                        vl_json_unref(m);
                        r = -ENOMEM;
                } else
                        r = vl_json_array_append(members, m);
        }
        snprintf(count, sizeof(count), "%zu", n);
        r = r < 0 ? r : vl_json_object_set_string(o, "id", p->id);
        r = r < 0 ? r : vl_json_object_set_string(o, "name", p->name);
        r = r < 0 ? r : vl_json_object_set_string(o, "createdat", format_rfc3339(p->created, created));
        r = r < 0 ? r : vl_json_object_set_string(o, "cgroup", "");
        r = r < 0 ? r : vl_json_object_set_string(o, "status", pod_status(c, n));
        r = r < 0 ? r : vl_json_object_set(o, "labels", labels_object(p->labels, p->n_labels));
        r = r < 0 ? r : vl_json_object_set_string(o, "numberofcontainers", count);
        r = r < 0 ? r : vl_json_object_set(o, "containersinfo", TAKE_PTR(members));
        vl_json_unref(members);
        return r < 0 ? vl_json_unref(o) : o;
}

/* ---- create ---- */

/* share ([]string) as the engine's comma-separated list; NULL for the default. */
static int share_text(const VlJson *share, char **ret) {
        VlBuf b = VL_BUF_INIT;
        size_t n = vl_json_array_length(share);
        int r = 0;

        *ret = NULL;
        if (n == 0)
                return 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *s = vl_json_get_string(vl_json_array_get(share, i));
                if (!s || !*s || streq(s, "cgroup") || streq(s, "none"))
                        continue;
                if (b.len > 0)
                        r = vl_buf_append_char(&b, ',');
                if (r >= 0)
                        r = vl_buf_append_str(&b, s);
        }
        if (r >= 0)
                r = vl_buf_append_char(&b, '\0');
        if (r < 0) {
                vl_buf_free(&b);
                return -ENOMEM;
        }
        *ret = (char *)b.data; /* "" when only cgroup or none: nothing shared */
        return 0;
}

static int reply_unsupported(VlCall *call, const char *what) {
        char reason[160];
        snprintf(reason, sizeof(reason), "%s is not supported by cpod", what);
        return vl_call_reply_error_string(call, PODMAN_IFACE ".ErrorOccurred", "reason", reason);
}

static int method_create_pod(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *create = vl_json_object_get(params, "create");
        const VlJson *infra = vl_json_object_get(create, "infra");
        const char *name = vl_json_get_string(vl_json_object_get(create, "name"));
        const char *image = vl_json_get_string(vl_json_object_get(create, "infraImage"));
        const char *parent = vl_json_get_string(vl_json_object_get(create, "cgroupParent"));
        const char *command = vl_json_get_string(vl_json_object_get(create, "infraCommand"));
        const VlJson *publish = vl_json_object_get(create, "publish");
        char **labels = NULL, *share = NULL, id[65];
        size_t n_labels = 0;
        CpodError err = {};
        Engine *e;

        if (infra && !vl_json_get_bool(infra))
                return reply_unsupported(call, "a pod without an infra container");
        if (parent && *parent)
                return reply_unsupported(call, "cgroupParent");
        if (command && *command)
                return reply_unsupported(call, "infraCommand");
        if (vl_json_array_length(publish) > MAX_POD_ARGS)
                return vl_call_reply_invalid_parameter(call, "create");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        const char **ports = NULL;
        size_t n_ports = vl_json_array_length(publish);
        if (n_ports > 0 && !(ports = calloc(n_ports + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n_ports; i++)
                ports[i] = vl_json_get_string(vl_json_array_get(publish, i)) ?: "";
        if (svc_kv_list(vl_json_object_get(create, "labels"), &labels, &n_labels) < 0 ||
            share_text(vl_json_object_get(create, "share"), &share) < 0) {
                free(ports);
                svc_kv_list_free(labels, n_labels);
                return -ENOMEM;
        }
        PodCreateOptions o = {
                .name = name && *name ? name : NULL,
                .infra_image = image && *image ? image : NULL,
                .share = share,
                .labels = labels,
                .n_labels = n_labels,
                .publish = (char **)ports,
                .n_publish = n_ports,
        };
        int r = pod_create(e, &o, id, &err);
        free(ports);
        free(share);
        svc_kv_list_free(labels, n_labels);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return reply_one(call, "pod", vl_json_new_string(id));
}

/* ---- listing and inspection ---- */

/* Records (or IDs) of every pod that passes keep. On failure the call has been answered. */
static int list_pods(VlCall *call, Service *svc, bool ids, bool (*keep)(const char *status, void *),
                     void *userdata, VlJson **ret) {
        Pod *pods = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(svc, call, &e) < 0)
                return -EIO;
        int r = pod_list(e, &pods, &n, &err);
        if (r < 0) {
                (void)reply_error_occurred(call, r, &err);
                return -EIO;
        }
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++) {
                Container *c = NULL;
                size_t nc = 0;
                CpodError one = {};
                if (pod_containers(e, &pods[i], &c, &nc, &one) < 0) /* removed meanwhile */
                        continue;
                if (!keep || keep(pod_status(c, nc), userdata)) {
                        VlJson *v = ids ? vl_json_new_string(pods[i].id) : pod_record(&pods[i], c, nc);
                        if (vl_json_array_append(a, v) < 0)
                                a = vl_json_unref(a);
                }
                container_array_free(c, nc);
        }
        pod_array_free(pods, n);
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

static int method_list_pods(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *a = NULL;
        int r = list_pods(call, userdata, false, NULL, NULL, &a);
        return r == -EIO ? 0 : r < 0 ? r : reply_one(call, "pods", a);
}

static bool has_status(const char *status, void *userdata) {
        const VlJson *list = userdata;
        for (size_t i = 0; i < vl_json_array_length(list); i++) {
                const char *s = vl_json_get_string(vl_json_array_get(list, i));
                if (s && strcasecmp(s, status) == 0)
                        return true;
        }
        return false;
}

/* podman's statuses are capitalized ("Running"); any case matches. */
static int method_by_status(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *a = NULL;
        PodArgs p;

        if (pod_args(call, params, &p) < 0)
                return 0;
        int r = list_pods(call, userdata, true, has_status, (void *)p.list, &a);
        return r == -EIO ? 0 : r < 0 ? r : reply_one(call, "pods", a);
}

static int method_get_pod(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Container *c = NULL;
        size_t n = 0;
        PodArgs a;
        Pod p = {};
        Engine *e;

        if (pod_args(call, params, &a) < 0 || get_pod_containers(call, userdata, a.name, &e, &p, &c, &n) < 0)
                return 0;
        VlJson *v = pod_record(&p, c, n);
        container_array_free(c, n);
        pod_done(&p);
        return v ? reply_one(call, "pod", v) : -ENOMEM;
}

/* InspectPod and PodStateData: podman's pod inspect document as a string. */
static int method_inspect_pod(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        bool state = streq(vl_call_method(call), PODMAN_IFACE ".PodStateData");
        CpodError err = {};
        VlJson *doc = NULL;
        PodArgs a;
        Engine *e;

        if (pod_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = pod_inspect(e, a.name, &doc, &err);
        if (r < 0)
                return reply_pod_error(call, r, &err, a.name);
        _cleanup_free_ char *s = vl_json_to_string(doc, 0);
        vl_json_unref(doc);
        return s ? reply_one(call, state ? "config" : "pod", vl_json_new_string(s)) : -ENOMEM;
}

/* IDs of the pods args names (all, or the newest with latest). */
static int method_by_context(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Pod *pods = NULL;
        size_t n = 0;
        CpodError err = {};
        PodArgs a;
        Engine *e;

        if (pod_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        VlJson *ids = vl_json_new_array();
        if (!ids)
                return -ENOMEM;
        int r = a.all || a.latest ? pod_list(e, &pods, &n, &err) : 0;
        for (size_t i = 0; r >= 0 && i < n && (!a.latest || i == 0); i++)
                r = vl_json_array_append(ids, vl_json_new_string(pods[i].id));
        pod_array_free(pods, n);
        for (size_t i = 0; r >= 0 && !a.all && !a.latest && i < vl_json_array_length(a.list); i++) {
                const char *ref = vl_json_get_string(vl_json_array_get(a.list, i)) ?: "";
                Pod p = {};
                r = pod_get(e, ref, &p, &err);
                if (r < 0) {
                        vl_json_unref(ids);
                        return reply_pod_error(call, r, &err, ref);
                }
                r = vl_json_array_append(ids, vl_json_new_string(p.id));
                pod_done(&p);
        }
        if (r < 0) {
                vl_json_unref(ids);
                return reply_error_occurred(call, r, &err);
        }
        return reply_one(call, "pods", ids);
}

/* ---- lifecycle ---- */

/* Start, stop, restart, kill, pause, unpause, remove: reply the pod's ID. */
static int method_lifecycle(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *method = strrchr(vl_call_method(call), '.') + 1;
        CpodError err = {};
        PodArgs a;
        Pod p = {};
        Engine *e;
        int r;

        if (pod_args(call, params, &a) < 0 || get_pod(call, userdata, a.name, &e, &p) < 0)
                return 0;
        if (streq(method, "StartPod"))
                r = pod_start(e, p.id, &err);
        else if (streq(method, "StopPod"))
                /* a negative or absent timeout: each container's own stop timeout */
                r = pod_stop(e, p.id, a.number_set && a.number >= 0 ? (int)MIN(a.number, 3600 * 24) : -1,
                             &err);
        else if (streq(method, "RestartPod"))
                r = pod_restart(e, p.id, &err);
        else if (streq(method, "KillPod"))
                r = a.number < 0 || a.number > 64
                            ? cpod_error(&err, EINVAL, "invalid signal %lld", (long long)a.number)
                            : pod_kill(e, p.id, a.number ? (int)a.number : 15, &err);
        else if (streq(method, "PausePod"))
                r = pod_pause(e, p.id, &err);
        else if (streq(method, "UnpausePod"))
                r = pod_unpause(e, p.id, &err);
        else
                r = pod_remove(e, p.id, a.force, NULL, &err);
        r = r < 0 ? reply_pod_error(call, r, &err, a.name)
                  : reply_one(call, "pod", vl_json_new_string(p.id));
        pod_done(&p);
        return r;
}

/* ---- processes and resource use ---- */

/* ps descriptors (AIX format names) for the engine's columns. */
static const char *descriptor_header(const char *d) {
        static const char *const map[][2] = {
                {"user", "USER"},    {"pid", "PID"},       {"ppid", "PPID"}, {"pcpu", "%CPU"},
                {"%cpu", "%CPU"},    {"etime", "ELAPSED"}, {"tty", "TTY"},   {"time", "TIME"},
                {"args", "COMMAND"}, {"comm", "COMMAND"},
        };
        for (size_t i = 0; d && i < ELEMENTSOF(map); i++)
                if (streq(d, map[i][0]))
                        return map[i][1];
        return NULL;
}

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

/* Append one tab-separated line of the kept columns (all when none is kept). */
static int append_line(VlJson *a, char **cells, size_t ncols, const bool *keep, size_t nkeep) {
        VlBuf b = VL_BUF_INIT;
        int r = 0;
        bool first = true;

        for (size_t c = 0; r >= 0 && c < ncols; c++) {
                if (nkeep > 0 && (c >= 64 || !keep[c]))
                        continue;
                if (!first)
                        r = vl_buf_append_char(&b, '\t');
                if (r >= 0)
                        r = vl_buf_append_str(&b, cells[c] ? cells[c] : "");
                first = false;
        }
        if (r >= 0)
                r = vl_buf_append_char(&b, '\0');
        if (r >= 0)
                r = vl_json_array_append(a, vl_json_new_string(b.data));
        vl_buf_free(&b);
        return r;
}

/* The newest pod's ID for latest; on failure the call has been answered. */
static int latest_pod(VlCall *call, Service *svc, char ret[65]) {
        Pod *pods = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(svc, call, &e) < 0)
                return -EIO;
        int r = pod_list(e, &pods, &n, &err);
        if (r < 0) {
                (void)reply_error_occurred(call, r, &err);
                return r;
        }
        if (n == 0) {
                (void)reply_pod_error(call, -ENOENT, NULL, "latest");
                r = -ENOENT;
        } else
                snprintf(ret, 65, "%s", pods[0].id);
        pod_array_free(pods, n);
        return r;
}

/* The processes of the pod's running containers: one header line, then a line per process. */
static int method_top_pod(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Container *c = NULL;
        size_t n = 0, nkeep = 0;
        bool keep[64] = {};
        char latest[65];
        PodArgs a;
        Pod p = {};
        Engine *e;
        int r = 0;

        if (pod_args(call, params, &a) < 0)
                return 0;
        if (a.latest) {
                if (latest_pod(call, userdata, latest) < 0)
                        return 0;
                a.name = latest;
        }
        if (get_pod_containers(call, userdata, a.name, &e, &p, &c, &n) < 0)
                return 0;
        VlJson *lines = vl_json_new_array();
        bool header = false, running = false;
        for (size_t i = 0; lines && r >= 0 && i < n; i++) {
                char **hdr = NULL, ***rows = NULL;
                size_t ncols = 0, nrows = 0;
                CpodError err = {};
                if (c[i].state != CONTAINER_RUNNING)
                        continue;
                running = true;
                r = container_top(e, c[i].id, &hdr, &ncols, &rows, &nrows, &err);
                if (r == -ENOENT || r == -EINVAL) { /* stopped or removed meanwhile */
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        (void)reply_error_occurred(call, r, &err);
                        r = -EIO;
                        break;
                }
                for (size_t d = 0; !header && d < vl_json_array_length(a.list); d++) {
                        const char *h = descriptor_header(vl_json_get_string(vl_json_array_get(a.list, d)));
                        for (size_t k = 0; h && k < ncols && k < ELEMENTSOF(keep); k++)
                                if (streq(hdr[k], h) && !keep[k])
                                        keep[k] = true, nkeep++;
                }
                if (!header)
                        r = append_line(lines, hdr, ncols, keep, nkeep);
                header = true;
                for (size_t k = 0; k < nrows; k++) {
                        if (r >= 0)
                                r = append_line(lines, rows[k], ncols, keep, nkeep);
                        strv_free_n(rows[k], ncols);
                }
                free(rows);
                strv_free_n(hdr, ncols);
        }
        container_array_free(c, n);
        pod_done(&p);
        if (r == -EIO) {
                vl_json_unref(lines);
                return 0;
        }
        if (!lines || r < 0) {
                vl_json_unref(lines);
                return -ENOMEM;
        }
        if (!running) {
                vl_json_unref(lines);
                return vl_call_reply_error_string(
                        call, PODMAN_IFACE ".ErrorOccurred", "reason",
                        "pod top can only be used on pods with at least one running container");
        }
        return reply_one(call, "stats", lines);
}

static int method_pod_stats(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Container *c = NULL;
        size_t n = 0;
        PodArgs a;
        Pod p = {};
        Engine *e;
        int r = 0;

        if (pod_args(call, params, &a) < 0 || get_pod_containers(call, userdata, a.name, &e, &p, &c, &n) < 0)
                return 0;
        VlJson *stats = vl_json_new_array();
        for (size_t i = 0; stats && r >= 0 && i < n; i++) {
                ContainerStats s = {};
                CpodError err = {};
                VlJson *v = NULL;
                if (c[i].state != CONTAINER_RUNNING || container_stats(e, c[i].id, &s, &err) < 0)
                        continue;
                r = svc_container_stats(&s, &v);
                free(s.name);
                if (r >= 0)
                        r = vl_json_array_append(stats, v);
        }
        container_array_free(c, n);
        VlJson *reply = vl_json_new_object();
        if (!stats || r < 0 || !reply || vl_json_object_set_string(reply, "pod", p.id) < 0) {
                vl_json_unref(stats);
                vl_json_unref(reply);
                pod_done(&p);
                return -ENOMEM;
        }
        pod_done(&p);
        if (vl_json_array_length(stats) == 0) {
                vl_json_unref(stats);
                vl_json_unref(reply);
                return vl_call_reply_error(call, PODMAN_IFACE ".NoContainerRunning", vl_json_new_object());
        }
        if (vl_json_object_set(reply, "containers", stats) < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        return vl_call_reply(call, reply);
}

/* ---- Kubernetes YAML ---- */

/* One document as YAML text, "" for none. */
static VlJson *yaml_string(const VlJson *doc) {
        VlBuf b = VL_BUF_INIT;
        int r = doc ? yaml_write(&b, doc) : 0;
        if (r >= 0)
                r = vl_buf_append_char(&b, '\0');
        VlJson *s = r >= 0 ? vl_json_new_string(b.data) : NULL;
        vl_buf_free(&b);
        return s;
}

static int method_generate_kube(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = vl_json_get_string(vl_json_object_get(params, "name")) ?: "";
        bool service = vl_json_get_bool(vl_json_object_get(params, "service"));
        CpodError err = {};
        VlJson *docs = NULL;
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = kube_generate(e, name, service, &docs, &err);
        if (r < 0) /* as podman: a pod or a container, ErrorOccurred when neither */
                return reply_error_occurred(call, r, &err);
        VlJson *o = vl_json_new_object();
        r = o ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set(o, "pod", yaml_string(vl_json_array_get(docs, 0)));
        r = r < 0 ? r
                  : vl_json_object_set(o, "service",
                                       yaml_string(service ? vl_json_array_get(docs, 1) : NULL));
        vl_json_unref(docs);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return reply_one(call, "pod", o);
}

int pods_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {PODMAN_IFACE ".CreatePod", method_create_pod},
                {PODMAN_IFACE ".ListPods", method_list_pods},
                {PODMAN_IFACE ".GetPod", method_get_pod},
                {PODMAN_IFACE ".InspectPod", method_inspect_pod},
                {PODMAN_IFACE ".PodStateData", method_inspect_pod},
                {PODMAN_IFACE ".StartPod", method_lifecycle},
                {PODMAN_IFACE ".StopPod", method_lifecycle},
                {PODMAN_IFACE ".RestartPod", method_lifecycle},
                {PODMAN_IFACE ".KillPod", method_lifecycle},
                {PODMAN_IFACE ".PausePod", method_lifecycle},
                {PODMAN_IFACE ".UnpausePod", method_lifecycle},
                {PODMAN_IFACE ".RemovePod", method_lifecycle},
                {PODMAN_IFACE ".TopPod", method_top_pod},
                {PODMAN_IFACE ".GetPodStats", method_pod_stats},
                {PODMAN_IFACE ".GetPodsByStatus", method_by_status},
                {PODMAN_IFACE ".GetPodsByContext", method_by_context},
                {PODMAN_IFACE ".GenerateKube", method_generate_kube},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
