/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * CreateContainer: io.podman's Create struct (1.9 shapes: args is the image
 * followed by the command, optional fields may be left out or null) and
 * io.projectatomic.podman's (0.8 shapes: image, command, env and labels as
 * maps, resources in a struct), both mapped onto ContainerCreateOptions.
 * Fields the engine has no notion of are ignored when they hold their zero
 * value and refused otherwise (publish: no bridge networking yet).
 */

#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "containers-internal.h"
#include "util.h"

typedef struct CreateArgs {
        const VlJson *args, *command, *env, *labels, *cap_add, *cap_drop, *volumes, *tmpfs, *publish,
                *security_opt, *ulimit, *entrypoint, *resources;
        const char *image, *name, *pod, *user, *workdir, *hostname, *network, *restart, *memory,
                *stop_signal, *detach_keys, *log_driver, *entrypoint_str;
        bool tty, interactive, privileged, read_only, rm, init;
        int64_t pids_limit, stop_timeout, stop_signo, memory_bytes;
        double cpus;
} CreateArgs;

#define F(n, t, fn, m) \
        { n, t, fn, offsetof(CreateArgs, m), 0 }
#define FSTR(n, m)  F(n, VL_JSON_STRING, vl_json_dispatch_string, m)
#define FBOOL(n, m) F(n, VL_JSON_BOOL, vl_json_dispatch_bool, m)
#define FINT(n, m)  F(n, VL_JSON_INT, vl_json_dispatch_int64, m)
#define FJSON(n, m) F(n, -1, vl_json_dispatch_json, m)

static const VlJsonField podman_fields[] = {
        FJSON("args", args),
        FJSON("command", command),
        FJSON("env", env),
        FJSON("label", labels),
        FJSON("capAdd", cap_add),
        FJSON("capDrop", cap_drop),
        FJSON("volume", volumes),
        FJSON("tmpfs", tmpfs),
        FJSON("publish", publish),
        FJSON("securityOpt", security_opt),
        FJSON("ulimit", ulimit),
        FSTR("entrypoint", entrypoint_str),
        FSTR("name", name),
        FSTR("pod", pod),
        FSTR("user", user),
        FSTR("workDir", workdir),
        FSTR("hostname", hostname),
        FSTR("network", network),
        FSTR("restart", restart),
        FSTR("memory", memory),
        FSTR("stopSignal", stop_signal),
        FSTR("detachKeys", detach_keys),
        FSTR("logDriver", log_driver),
        FBOOL("tty", tty),
        FBOOL("interactive", interactive),
        FBOOL("privileged", privileged),
        FBOOL("readonly", read_only),
        FBOOL("rm", rm),
        FBOOL("init", init),
        FINT("pidsLimit", pids_limit),
        FINT("stopTimeout", stop_timeout),
        F("cpus", -1, vl_json_dispatch_double, cpus),
        {},
};

static const VlJsonField atomic_fields[] = {
        FJSON("args", args),
        FJSON("command", command),
        FJSON("env", env),
        FJSON("labels", labels),
        FJSON("cap_add", cap_add),
        FJSON("cap_drop", cap_drop),
        FJSON("volumes", volumes),
        FJSON("tmpfs", tmpfs),
        FJSON("publish", publish),
        FJSON("security_opts", security_opt),
        FJSON("entrypoint", entrypoint),
        FJSON("resources", resources),
        FSTR("image", image),
        FSTR("name", name),
        FSTR("user", user),
        FSTR("work_dir", workdir),
        FSTR("hostname", hostname),
        FSTR("network", network),
        FSTR("log_driver", log_driver),
        FBOOL("tty", tty),
        FBOOL("interactive", interactive),
        FBOOL("privileged", privileged),
        FBOOL("readonly_rootfs", read_only),
        FBOOL("rm", rm),
        FINT("stop_signal", stop_signo),
        FINT("stop_timeout", stop_timeout),
        {},
};

static const VlJsonField resource_fields[] = {
        FINT("memory", memory_bytes),
        FINT("pids_limit", pids_limit),
        F("cpus", -1, vl_json_dispatch_double, cpus),
        FJSON("ulimit", ulimit),
        {},
};

/* Everything the options point to that is not borrowed from the call. */
typedef struct Owned {
        char **strs[8];
        size_t n_strs;
        ContainerMount *mounts;
        size_t n_mounts;
        char signame[24];
} Owned;

static void owned_done(Owned *o) {
        for (size_t i = 0; i < o->n_strs; i++) {
                for (char **p = o->strs[i]; p && *p; p++)
                        free(*p);
                free(o->strs[i]);
        }
        for (size_t i = 0; i < o->n_mounts; i++) {
                free(o->mounts[i].type);
                free(o->mounts[i].source);
                free(o->mounts[i].destination);
                for (size_t j = 0; j < o->mounts[i].n_options; j++)
                        free(o->mounts[i].options[j]);
                free(o->mounts[i].options);
        }
        free(o->mounts);
}

/* A []string, or a [string]string map as "K=V"; skip the first `skip`. NULL-terminated copy. */
static int strv_of(Owned *o, const VlJson *v, size_t skip, char ***ret, size_t *ret_n) {
        bool map = vl_json_type(v) == VL_JSON_OBJECT;
        size_t n = map ? vl_json_object_length(v) : vl_json_array_length(v);
        n = n > skip ? n - skip : 0;
        char **s = calloc(n + 1, sizeof(char *));
        if (!s || o->n_strs >= ELEMENTSOF(o->strs)) {
                free(s);
                return -ENOMEM;
        }
        o->strs[o->n_strs++] = s;
        for (size_t i = 0; i < n; i++) {
                if (map) {
                        if (asprintf(&s[i], "%s=%s", vl_json_object_key(v, i),
                                     vl_json_get_string(vl_json_object_value(v, i)) ?: "") < 0) {
                                s[i] = NULL;
                                return -ENOMEM;
                        }
                } else if (!(s[i] = strdup(vl_json_get_string(vl_json_array_get(v, i + skip)) ?: "")))
                        return -ENOMEM;
        }
        *ret = s;
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* Splits a comma-separated option list into m's options. */
static int mount_options(ContainerMount *m, const char *opts) {
        _cleanup_free_ char *copy = strdup(opts ? opts : "");
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char **v = realloc(m->options, (m->n_options + 1) * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                m->options = v;
                if (!(v[m->n_options] = strdup(t)))
                        return -ENOMEM;
                m->n_options++;
        }
        return 0;
}

/* "SRC:DST[:OPTS]" (bind or named volume) or, for tmpfs, "DST[:OPTS]". */
static int add_mount(Owned *o, const char *spec, bool tmpfs) {
        _cleanup_free_ char *copy = strdup(spec);
        if (!copy)
                return -ENOMEM;
        ContainerMount *v = realloc(o->mounts, (o->n_mounts + 1) * sizeof(ContainerMount));
        if (!v)
                return -ENOMEM;
        o->mounts = v;
        ContainerMount *m = &v[o->n_mounts++];
        *m = (ContainerMount){};
        char *first = copy, *second = strchr(copy, ':'), *third = NULL;
        if (second)
                *second++ = '\0';
        if (second && (third = strchr(second, ':')))
                *third++ = '\0';
        if (tmpfs) {
                m->type = strdup("tmpfs");
                m->destination = strdup(first);
                return m->type && m->destination ? mount_options(m, second) : -ENOMEM;
        }
        if (!second || !*first || !*second)
                return -EINVAL;
        m->type = strdup(first[0] == '/' ? "bind" : "volume");
        m->source = strdup(first);
        m->destination = strdup(second);
        return m->type && m->source && m->destination ? mount_options(m, third) : -ENOMEM;
}

/* "512m", "1g", "1024": bytes. */
static int parse_bytes(const char *s, int64_t *ret) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
                return -EINVAL;
        const char *units = "bkmgt";
        const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : units;
        if (!u || (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2])))
                return -EINVAL;
        for (const char *p = units; p < u; p++)
                v *= 1024;
        *ret = (int64_t)v;
        return 0;
}

/* The entrypoint of io.podman's Create: a JSON array in a string, or one word. */
static int podman_entrypoint(Owned *o, const char *s, ContainerCreateOptions *c) {
        VlJson *v = NULL;

        if (!s || !*s)
                return 0;
        c->entrypoint_set = true;
        if (s[0] == '[' && vl_json_parse(s, strlen(s), NULL, &v, NULL) >= 0 &&
            vl_json_type(v) == VL_JSON_ARRAY) {
                for (size_t i = 0; i < vl_json_array_length(v); i++)
                        if (vl_json_type(vl_json_array_get(v, i)) != VL_JSON_STRING) {
                                vl_json_unref(v);
                                return -EINVAL;
                        }
                int r = strv_of(o, v, 0, &c->entrypoint, &c->n_entrypoint);
                vl_json_unref(v);
                return r;
        }
        vl_json_unref(v);
        VlJson *one = vl_json_new_array();
        if (!one || vl_json_array_append(one, vl_json_new_string(s)) < 0) {
                vl_json_unref(one);
                return -ENOMEM;
        }
        int r = strv_of(o, one, 0, &c->entrypoint, &c->n_entrypoint);
        vl_json_unref(one);
        return r;
}

static int lists(Owned *o, const CreateArgs *a, ContainerCreateOptions *c) {
        int r = 0;
        r = r < 0 ? r : strv_of(o, a->env, 0, &c->env, &c->n_env);
        r = r < 0 ? r : strv_of(o, a->labels, 0, &c->labels, &c->n_labels);
        r = r < 0 ? r : strv_of(o, a->cap_add, 0, &c->cap_add, &c->n_cap_add);
        r = r < 0 ? r : strv_of(o, a->cap_drop, 0, &c->cap_drop, &c->n_cap_drop);
        r = r < 0 ? r : strv_of(o, a->security_opt, 0, &c->security_opt, &c->n_security_opt);
        r = r < 0 ? r : strv_of(o, a->ulimit, 0, &c->ulimits, &c->n_ulimits);
        if (r >= 0 && a->entrypoint) {
                c->entrypoint_set = vl_json_array_length(a->entrypoint) > 0;
                r = strv_of(o, a->entrypoint, 0, &c->entrypoint, &c->n_entrypoint);
        }
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(a->volumes); i++)
                r = add_mount(o, vl_json_get_string(vl_json_array_get(a->volumes, i)), false);
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(a->tmpfs); i++)
                r = add_mount(o, vl_json_get_string(vl_json_array_get(a->tmpfs, i)), true);
        c->mounts = o->mounts;
        c->n_mounts = o->n_mounts;
        return r;
}

/* The image and the command: io.podman's args is [IMAGE, COMMAND...];
 * io.projectatomic.podman names the image and may give the command apart. */
static int image_and_command(Owned *o, const CreateArgs *a, ContainerCreateOptions *c, const char **bad) {
        bool has_image = a->image && *a->image;
        size_t n_args = vl_json_array_length(a->args);

        c->image = has_image    ? a->image
                   : n_args > 0 ? vl_json_get_string(vl_json_array_get(a->args, 0))
                                : NULL;
        if (!c->image || !*c->image) {
                *bad = "create.args";
                return -EINVAL;
        }
        if (n_args > (has_image ? 0u : 1u))
                return strv_of(o, a->args, has_image ? 0 : 1, &c->command, &c->n_command);
        if (vl_json_array_length(a->command) > 0)
                return strv_of(o, a->command, 0, &c->command, &c->n_command);
        return 0;
}

/* Fill c from a; -EINVAL with *bad naming the field at fault. */
static int create_options(Owned *o, CreateArgs *a, bool atomic, ContainerCreateOptions *c,
                          const char **bad) {
        int r = image_and_command(o, a, c, bad);
        if (r < 0)
                return r;
        if (vl_json_array_length(a->publish) > 0) {
                *bad = "create.publish";
                return -EOPNOTSUPP;
        }
        if (a->memory && *a->memory && parse_bytes(a->memory, &a->memory_bytes) < 0) {
                *bad = "create.memory";
                return -EINVAL;
        }
        if (!atomic && (r = podman_entrypoint(o, a->entrypoint_str, c)) < 0) {
                *bad = "create.entrypoint";
                return r;
        }
        if ((r = lists(o, a, c)) < 0) {
                *bad = r == -EINVAL ? "create.volume" : NULL;
                return r;
        }
        if (a->stop_signo > 0) {
                snprintf(o->signame, sizeof(o->signame), "%lld", (long long)a->stop_signo);
                c->stop_signal = o->signame;
        } else if (a->stop_signal && *a->stop_signal)
                c->stop_signal = a->stop_signal;
        c->name = a->name && *a->name ? a->name : NULL;
        c->pod = a->pod && *a->pod ? a->pod : NULL;
        c->user = a->user && *a->user ? a->user : NULL;
        c->workdir = a->workdir && *a->workdir ? a->workdir : NULL;
        c->hostname = a->hostname && *a->hostname ? a->hostname : NULL;
        c->network = a->network && *a->network ? a->network : NULL;
        c->restart = a->restart && *a->restart ? a->restart : NULL;
        c->detach_keys = a->detach_keys && *a->detach_keys ? a->detach_keys : NULL;
        c->log_driver = a->log_driver && *a->log_driver ? a->log_driver : NULL;
        c->tty = a->tty;
        c->interactive = a->interactive;
        c->privileged = a->privileged;
        c->read_only = a->read_only;
        c->rm = a->rm;
        c->init = a->init;
        c->memory = a->memory_bytes;
        c->cpus = a->cpus;
        c->pids_limit = a->pids_limit;
        c->stop_timeout = a->stop_timeout > 0 ? (int)MIN(a->stop_timeout, 3600 * 24) : 0;
        return 0;
}

int svc_create_container(VlCall *call, Service *svc, const VlJson *create) {
        return svc_create_container_with(call, svc, create, NULL, NULL);
}

int svc_create_container_with(VlCall *call, Service *svc, const VlJson *create, CreateHook hook,
                              void *userdata) {
        bool atomic = call_is_atomic(call);
        ContainerCreateOptions c = {};
        CreateArgs a = {.pids_limit = 0};
        CpodError err = {};
        const char *bad = NULL;
        Owned o = {};
        char id[65];
        Engine *e;

        if (vl_json_dispatch(create, atomic ? atomic_fields : podman_fields, &a, VL_JSON_ALLOW_EXTRA, &bad) <
                    0 ||
            (a.resources &&
             vl_json_dispatch(a.resources, resource_fields, &a, VL_JSON_ALLOW_EXTRA, &bad) < 0))
                return vl_call_reply_invalid_parameter(call, "create");
        int r = create_options(&o, &a, atomic, &c, &bad);
        if (r >= 0 && hook)
                r = hook(&c, userdata, &bad);
        if (r == -EINVAL || r == -EOPNOTSUPP) {
                owned_done(&o);
                if (r == -EINVAL)
                        return vl_call_reply_invalid_parameter(call, bad ? bad : "create");
                return vl_call_reply_error_string(
                        call, atomic ? ATOMIC_IFACE ".ErrorOccurred" : PODMAN_IFACE ".ErrorOccurred",
                        "reason", "publishing ports needs bridge networking, which is not supported");
        }
        if (r < 0 || service_engine(svc, call, &e) < 0) {
                owned_done(&o);
                return r < 0 ? r : 0;
        }
        r = container_create(e, &c, id, &err);
        owned_done(&o);
        if (r < 0)
                return r == -ENOENT ? reply_image_error(call, r, &err, c.image)
                                    : reply_error_occurred(call, r, &err);
        return reply_one(call, "container", vl_json_new_string(id));
}
