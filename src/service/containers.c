/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Container methods of io.podman and io.projectatomic.podman that answer
 * at once: listing, inspecting, the lifecycle, waiting, mounts, changes,
 * stats and processes. Where both interfaces have a method, one handler
 * serves both (call_is_atomic shapes errors and replies).
 *
 * Not implemented (MethodNotImplemented, the handler is left unbound):
 * InitContainer, AttachControl, ContainerCheckpoint, ContainerRestore
 * (no CRIU), ContainerRunlabel, ContainerArtifacts, CreateFromCC.
 */

#include <stdio.h>
#include <string.h>

#include "containers-internal.h"
#include "util.h"

#define ARG_STR(n, f) \
        { n, VL_JSON_STRING, vl_json_dispatch_string, offsetof(ContainerArgs, f), 0 }
#define ARG_BOOL(n, f) \
        { n, VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(ContainerArgs, f), 0 }
#define ARG_INT(n) \
        { n, VL_JSON_INT, dispatch_number, 0, 0 }
#define ARG_JSON(n, f) \
        { n, -1, vl_json_dispatch_json, offsetof(ContainerArgs, f), 0 }

/* The numbers share one member; their field offset is 0, so field is the ContainerArgs. */
static int dispatch_number(const char *name, const VlJson *v, void *field) {
        ContainerArgs *a = field;
        a->number = vl_json_get_int(v);
        a->number_set = true;
        return 0;
}

/* Every parameter name of the container methods, mapped onto ContainerArgs;
 * libvl has already checked each call against its method's signature. */
static const VlJsonField container_fields[] = {
        ARG_STR("name", name),
        ARG_STR("id", name),
        ARG_STR("path", other),
        ARG_STR("detachKeys", other),
        ARG_STR("image_name", other),
        ARG_STR("since", since),
        ARG_STR("until", until),
        ARG_STR("author", author),
        ARG_STR("message", message),
        ARG_JSON("opts", list),
        ARG_JSON("status", list),
        ARG_JSON("args", list),
        ARG_JSON("names", list),
        ARG_JSON("changes", list),
        ARG_JSON("filter", list),
        ARG_INT("timeout"),
        ARG_INT("signal"),
        ARG_INT("interval"),
        ARG_INT("tail"),
        ARG_BOOL("force", force),
        ARG_BOOL("removeVolumes", volumes),
        ARG_BOOL("all", all),
        ARG_BOOL("latest", latest),
        ARG_BOOL("follow", flag),
        ARG_BOOL("start", flag),
        ARG_BOOL("pause", flag),
        ARG_BOOL("timestamps", timestamps),
        {},
};

int svc_container_args(VlCall *call, const VlJson *params, ContainerArgs *a) {
        const char *bad = NULL;

        *a = (ContainerArgs){};
        if (vl_json_dispatch(params, container_fields, a, VL_JSON_ALLOW_EXTRA, &bad) < 0) {
                (void)vl_call_reply_invalid_parameter(call, bad ? bad : "parameters");
                return -EINVAL;
        }
        if (!a->name)
                a->name = "";
        if (!a->other)
                a->other = "";
        return 0;
}

static const char *iface_error(VlCall *call, const char *name, char *buf, size_t size) {
        snprintf(buf, size, "%s.%s", call_is_atomic(call) ? ATOMIC_IFACE : PODMAN_IFACE, name);
        return buf;
}

static int reply_id_reason(VlCall *call, const char *error, const char *id, const char *reason) {
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, "id", id) < 0 ||
            vl_json_object_set_string(p, "reason", reason) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, error, p);
}

int reply_container_error(VlCall *call, int r, const CpodError *err, const char *id) {
        char name[96], reason[160];
        const char *msg = err && err->code && err->message[0] ? err->message : NULL;

        if (!msg) {
                snprintf(reason, sizeof(reason), "%s", strerror(r < 0 ? -r : r));
                msg = reason;
        }
        if (call_is_atomic(call)) {
                if (r == -ENOENT)
                        return vl_call_reply_error_string(call, ATOMIC_IFACE ".ContainerNotFound", "name",
                                                          id);
                return vl_call_reply_error_string(
                        call,
                        iface_error(call, r == -EIO ? "RuntimeError" : "ErrorOccurred", name, sizeof(name)),
                        "reason", msg);
        }
        if (r == -ENOENT)
                return reply_id_reason(call, PODMAN_IFACE ".ContainerNotFound", id, msg);
        if (r == -EINVAL || r == -EBUSY)
                return reply_id_reason(call, PODMAN_IFACE ".InvalidState", id, msg);
        if (r == -EIO)
                return vl_call_reply_error_string(call, PODMAN_IFACE ".RuntimeError", "reason", msg);
        return vl_call_reply_error_string(call, PODMAN_IFACE ".ErrorOccurred", "reason", msg);
}

int svc_get_container(VlCall *call, Service *svc, const char *ref, Engine **ret_e, Container *ret) {
        CpodError err = {};
        int r = service_engine(svc, call, ret_e);
        if (r < 0)
                return r;
        r = container_get(*ret_e, ref, ret, &err);
        if (r < 0)
                (void)reply_container_error(call, r == -EINVAL ? -ENOENT : r, &err, ref);
        return r;
}

/* Records of every container (or the running ones) that pass keep. */
static int list_records(VlCall *call, Service *svc, bool all, bool ps,
                        bool (*keep)(const Container *, void *), void *userdata, VlJson **ret) {
        Container *cs = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(svc, call, &e) < 0)
                return -EIO;
        int r = container_list(e, all, &cs, &n, &err);
        if (r < 0) {
                (void)reply_error_occurred(call, r, &err);
                return r;
        }
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++) {
                VlJson *v = NULL;
                if (keep && !keep(&cs[i], userdata))
                        continue;
                r = ps ? svc_ps_container(&cs[i], &v) : svc_container(&cs[i], &v);
                if (r < 0 || vl_json_array_append(a, v) < 0)
                        a = vl_json_unref(a);
        }
        container_array_free(cs, n);
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

static int method_list_containers(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *a = NULL;
        int r = list_records(call, userdata, true, false, NULL, NULL, &a);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? 0 : reply_one(call, "containers", a);
}

static bool has_status(const Container *c, void *userdata) {
        const VlJson *list = userdata;
        for (size_t i = 0; i < vl_json_array_length(list); i++)
                if (streq(vl_json_get_string(vl_json_array_get(list, i)), container_state_name(c->state)))
                        return true;
        return false;
}

static int method_by_status(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ContainerArgs a;
        VlJson *v = NULL;

        if (svc_container_args(call, params, &a) < 0)
                return 0;
        int r = list_records(call, userdata, true, false, has_status, (void *)a.list, &v);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? 0 : reply_one(call, "containerS", v);
}

typedef struct PsArgs {
        bool all, latest, quiet, no_trunc;
        int64_t last;
        const VlJson *filters;
        const char *sort;
} PsArgs;

static int method_ps(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        static const VlJsonField fields[] = {
                {"all", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(PsArgs, all), 0},
                {"latest", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(PsArgs, latest), 0},
                {"last", VL_JSON_INT, vl_json_dispatch_int64, offsetof(PsArgs, last), 0},
                {"filters", -1, vl_json_dispatch_json, offsetof(PsArgs, filters), 0},
                {},
        };
        PsArgs o = {};
        VlJson *v = NULL;

        if (vl_json_dispatch(vl_json_object_get(params, "opts"), fields, &o, VL_JSON_ALLOW_EXTRA, NULL) < 0)
                return vl_call_reply_invalid_parameter(call, "opts");
        if (vl_json_array_length(o.filters) > 0)
                return vl_call_reply_error_string(call, PODMAN_IFACE ".ErrorOccurred", "reason",
                                                  "ps filters are not supported");
        int r = list_records(call, userdata, o.all || o.latest || o.last > 0, true, NULL, NULL, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        /* newest first: keep the first `last` (1 for latest) */
        int64_t keep = o.latest ? 1 : o.last;
        while (keep > 0 && (int64_t)vl_json_array_length(v) > keep) {
                VlJson *t = vl_json_new_array();
                for (int64_t i = 0; t && i < keep; i++)
                        if (vl_json_array_append(t, vl_json_ref(vl_json_array_get(v, (size_t)i))) < 0)
                                t = vl_json_unref(t);
                vl_json_unref(v);
                v = t;
                if (!v)
                        return -ENOMEM;
        }
        return reply_one(call, "containers", v);
}

static int method_get_container(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ContainerArgs a;
        Container c = {};
        VlJson *v = NULL;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 ||
            svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        int r = svc_container(&c, &v);
        container_done(&c);
        return r < 0 ? r : reply_one(call, "container", v);
}

/* IDs of the containers args names (all, or the newest with latest). */
static int method_by_context(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Container *cs = NULL;
        size_t n = 0;
        CpodError err = {};
        ContainerArgs a;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        VlJson *ids = vl_json_new_array();
        if (!ids)
                return -ENOMEM;
        int r = a.all || a.latest ? container_list(e, true, &cs, &n, &err) : 0;
        for (size_t i = 0; r >= 0 && i < n && (!a.latest || i == 0); i++)
                r = vl_json_array_append(ids, vl_json_new_string(cs[i].id));
        container_array_free(cs, n);
        for (size_t i = 0; r >= 0 && !a.all && !a.latest && i < vl_json_array_length(a.list); i++) {
                const char *ref = vl_json_get_string(vl_json_array_get(a.list, i));
                Container c = {};
                r = container_get(e, ref, &c, &err);
                if (r < 0) {
                        vl_json_unref(ids);
                        return reply_container_error(call, r, &err, ref);
                }
                r = vl_json_array_append(ids, vl_json_new_string(c.id));
                container_done(&c);
        }
        if (r < 0) {
                vl_json_unref(ids);
                return reply_error_occurred(call, r, &err);
        }
        return reply_one(call, "containers", ids);
}

static int method_inspect(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *method = strrchr(vl_call_method(call), '.') + 1;
        CpodError err = {};
        ContainerArgs a;
        VlJson *doc = NULL;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_inspect(e, a.name, &doc, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        const VlJson *part = doc;
        if (streq(method, "ContainerStateData"))
                part = vl_json_object_get(doc, "State");
        else if (streq(method, "ContainerConfig"))
                part = vl_json_object_get(doc, "Config");
        _cleanup_free_ char *s = vl_json_to_string(part, 0);
        vl_json_unref(doc);
        if (!s)
                return -ENOMEM;
        return reply_one(call, streq(method, "InspectContainer") ? "container" : "config",
                         vl_json_new_string(s));
}

static int method_exists(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ContainerArgs a;
        Container c = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_get(e, a.name, &c, &err);
        if (r < 0 && r != -ENOENT && r != -EINVAL)
                return reply_error_occurred(call, r, &err);
        if (r >= 0)
                container_done(&c);
        return reply_one(call, "exists", vl_json_new_int(r >= 0 ? 0 : 1));
}

static int method_create(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return svc_create_container(call, userdata, vl_json_object_get(params, "create"));
}

typedef enum LifeOp {
        OP_START,
        OP_STOP,
        OP_RESTART,
        OP_KILL,
        OP_PAUSE,
        OP_UNPAUSE,
        OP_REMOVE,
        OP_EVICT
} LifeOp;

static int life_op(const char *method, LifeOp *ret) {
        static const struct {
                const char *name;
                LifeOp op;
        } map[] = {
                {"StartContainer", OP_START},     {"StopContainer", OP_STOP},
                {"RestartContainer", OP_RESTART}, {"KillContainer", OP_KILL},
                {"PauseContainer", OP_PAUSE},     {"UnpauseContainer", OP_UNPAUSE},
                {"RemoveContainer", OP_REMOVE},   {"EvictContainer", OP_EVICT},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(method, map[i].name)) {
                        *ret = map[i].op;
                        return 0;
                }
        return -ENOENT;
}

/* Start, stop, restart, kill, pause, unpause, remove, evict: reply the ID. */
static int method_lifecycle(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ContainerArgs a;
        Container c = {};
        LifeOp op;
        Engine *e;

        if (life_op(strrchr(vl_call_method(call), '.') + 1, &op) < 0)
                return -EINVAL;
        if (svc_container_args(call, params, &a) < 0 ||
            svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        /* a negative or absent timeout: the container's own stop timeout */
        int timeout = a.number_set && a.number >= 0 ? (int)MIN(a.number, 3600 * 24) : -1;
        int r;
        switch (op) {
        case OP_START:
                r = container_start(e, c.id, NULL, NULL, &err);
                break;
        case OP_STOP:
                r = container_stop(e, c.id, timeout, &err);
                break;
        case OP_RESTART:
                r = container_restart(e, c.id, timeout, &err);
                break;
        case OP_KILL:
                r = a.number < 0 || a.number > 64
                            ? cpod_error(&err, EINVAL, "invalid signal %lld", (long long)a.number)
                            : container_kill(e, c.id, a.number ? (int)a.number : 15, &err);
                break;
        case OP_PAUSE:
                r = container_pause(e, c.id, &err);
                break;
        case OP_UNPAUSE:
                r = container_unpause(e, c.id, &err);
                break;
        default:
                r = container_remove(e, c.id, a.force || op == OP_EVICT, a.volumes, &err);
        }
        r = r < 0 ? reply_container_error(call, r, &err, a.name)
                  : reply_one(call, "container", vl_json_new_string(c.id));
        container_done(&c);
        return r;
}

static int method_delete_stopped(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        char **ids = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_prune(e, &ids, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *v = json_strv(ids, n);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        return reply_one(call, "containers", v);
}

typedef struct WaitJob {
        VlCall *call;
        const char *id, *ref;
} WaitJob;

static int produce_wait(Engine *e, int fd, void *userdata) {
        const WaitJob *j = userdata;
        CpodError err = {};
        int code = 0;

        int r = container_wait(e, j->id, "stopped", &code, &err);
        if (r < 0)
                return stream_emit_error(fd, j->call, r, &err, j->ref);
        VlJson *o = vl_json_new_object();
        if (!o || vl_json_object_set_int(o, "exitcode", code) < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return stream_emit(fd, STREAM_FINAL, NULL, o);
}

/* The engine waits on the exit file (interval, a polling hint, is not
 * needed). The wait runs as a stream producer, so a client that goes away
 * does not leave a process waiting for a container that never exits. */
static int method_wait(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ContainerArgs a;
        Container c = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 ||
            svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        WaitJob j = {.call = call, .id = c.id, .ref = a.name};
        int r = svc_stream(call, e, produce_wait, &j);
        container_done(&c);
        return r;
}

int containers_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {ATOMIC_IFACE ".ListContainers", method_list_containers},
                {ATOMIC_IFACE ".GetContainer", method_get_container},
                {ATOMIC_IFACE ".CreateContainer", method_create},
                {ATOMIC_IFACE ".InspectContainer", method_inspect},
                {ATOMIC_IFACE ".StartContainer", method_lifecycle},
                {ATOMIC_IFACE ".StopContainer", method_lifecycle},
                {ATOMIC_IFACE ".RestartContainer", method_lifecycle},
                {ATOMIC_IFACE ".KillContainer", method_lifecycle},
                {ATOMIC_IFACE ".PauseContainer", method_lifecycle},
                {ATOMIC_IFACE ".UnpauseContainer", method_lifecycle},
                {ATOMIC_IFACE ".RemoveContainer", method_lifecycle},
                {ATOMIC_IFACE ".WaitContainer", method_wait},
                {ATOMIC_IFACE ".DeleteStoppedContainers", method_delete_stopped},
                {PODMAN_IFACE ".ListContainers", method_list_containers},
                {PODMAN_IFACE ".Ps", method_ps},
                {PODMAN_IFACE ".GetContainersByStatus", method_by_status},
                {PODMAN_IFACE ".GetContainer", method_get_container},
                {PODMAN_IFACE ".GetContainersByContext", method_by_context},
                {PODMAN_IFACE ".CreateContainer", method_create},
                {PODMAN_IFACE ".InspectContainer", method_inspect},
                {PODMAN_IFACE ".ContainerInspectData", method_inspect},
                {PODMAN_IFACE ".ContainerConfig", method_inspect},
                {PODMAN_IFACE ".ContainerStateData", method_inspect},
                {PODMAN_IFACE ".ContainerExists", method_exists},
                {PODMAN_IFACE ".StartContainer", method_lifecycle},
                {PODMAN_IFACE ".StopContainer", method_lifecycle},
                {PODMAN_IFACE ".RestartContainer", method_lifecycle},
                {PODMAN_IFACE ".KillContainer", method_lifecycle},
                {PODMAN_IFACE ".PauseContainer", method_lifecycle},
                {PODMAN_IFACE ".UnpauseContainer", method_lifecycle},
                {PODMAN_IFACE ".RemoveContainer", method_lifecycle},
                {PODMAN_IFACE ".EvictContainer", method_lifecycle},
                {PODMAN_IFACE ".WaitContainer", method_wait},
                {PODMAN_IFACE ".DeleteStoppedContainers", method_delete_stopped},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        int r = containers_io_bind(s, svc);
        return r < 0 ? r : containers_upgrade_bind(s, svc);
}
