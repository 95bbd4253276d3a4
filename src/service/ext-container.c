/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The container methods of io.cpod that io.podman lacks: CreateContainer
 * (io.podman's Create record read by containers-create.c, plus CreateExtra:
 * anonymous volumes, published ports, DNS servers, extra hosts, a static IP
 * and MAC address, network aliases and the OCI runtime, which local `cpod
 * create` passes to container_create and io.podman's record has no field
 * for in cpod's engine), and ExecDetached (`cpod exec -d`, which io.podman's
 * ExecContainer cannot report a start failure for: its exec runs on after
 * the connection hangs up), and ExecContainer (io.podman's, with the size of
 * the client's terminal for the exec's).
 */

#include <stdlib.h>
#include <string.h>

#include "containers-internal.h"
#include "ext-internal.h"
#include "util.h"

#define EXTRA_MAX 1024 /* strings in one list: far more than a command line holds */

typedef struct Extra {
        const VlJson *volume, *publish, *dns, *add_host, *network_alias;
        const char *ip, *mac_address, *runtime;
        bool publish_all;
        /* owned: the strings' arrays (the strings are borrowed from the call) and the mounts */
        const char **lists[4];
        ContainerMount *mounts; /* the Create record's mounts (borrowed), then the added ones */
        size_t first_added, n_added;
} Extra;

static void extra_done(Extra *x) {
        for (size_t i = 0; i < ELEMENTSOF(x->lists); i++)
                free(x->lists[i]);
        for (size_t i = 0; x->mounts && i < x->n_added; i++) {
                ContainerMount *m = &x->mounts[x->first_added + i];
                free(m->type);
                free(m->destination);
                for (size_t k = 0; k < m->n_options; k++)
                        free(m->options[k]);
                free(m->options);
        }
        free(x->mounts);
}

/* A []string as a NULL-terminated array of the call's strings; slot keeps it for extra_done. */
static int borrow_strv(const VlJson *v, const char ***slot, char ***ret, size_t *ret_n) {
        size_t n = vl_json_array_length(v);

        if (n == 0)
                return 0;
        if (n > EXTRA_MAX)
                return -EINVAL;
        if (!(*slot = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                (*slot)[i] = vl_json_get_string(vl_json_array_get(v, i));
                if (!(*slot)[i] || !*(*slot)[i])
                        return -EINVAL;
        }
        *ret = (char **)*slot;
        *ret_n = n;
        return 0;
}

/* "DST[:OPTS]": an anonymous volume, as local `cpod create -v DST[:OPTS]` makes one. */
static int anonymous_volume(ContainerMount *m, const char *spec) {
        const char *colon = strchr(spec, ':');

        *m = (ContainerMount){};
        if (spec[0] != '/')
                return -EINVAL;
        if (!(m->type = strdup("volume")) ||
            !(m->destination = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec)))
                return -ENOMEM;
        for (const char *o = colon ? colon + 1 : ""; *o;) {
                size_t l = strcspn(o, ",");
                if (l > 0) {
                        char **v = realloc(m->options, (m->n_options + 1) * sizeof(char *));
                        if (!v)
                                return -ENOMEM;
                        m->options = v;
                        if (!(v[m->n_options] = strndup(o, l)))
                                return -ENOMEM;
                        m->n_options++;
                }
                o += l + (o[l] == ',');
        }
        return 0;
}

/* The mounts of the Create record (copied, not owned) followed by the anonymous volumes (owned). */
static int add_volumes(Extra *x, ContainerCreateOptions *c) {
        size_t n = vl_json_array_length(x->volume);

        if (n == 0)
                return 0;
        if (n > EXTRA_MAX)
                return -EINVAL;
        if (!(x->mounts = calloc(c->n_mounts + n, sizeof(ContainerMount))))
                return -ENOMEM;
        x->first_added = c->n_mounts;
        for (size_t i = 0; i < n; i++) {
                const char *spec = vl_json_get_string(vl_json_array_get(x->volume, i));
                x->n_added++;
                int r = anonymous_volume(&x->mounts[x->first_added + i], spec ?: "");
                if (r < 0)
                        return r;
        }
        if (c->n_mounts > 0)
                memcpy(x->mounts, c->mounts, c->n_mounts * sizeof(ContainerMount));
        c->mounts = x->mounts;
        c->n_mounts += n;
        return 0;
}

static int apply_extra(ContainerCreateOptions *c, void *userdata, const char **bad) {
        Extra *x = userdata;
        int r;

        if ((r = borrow_strv(x->publish, &x->lists[0], &c->publish, &c->n_publish)) < 0) {
                *bad = "extra.publish";
                return r;
        }
        if ((r = borrow_strv(x->dns, &x->lists[1], &c->dns, &c->n_dns)) < 0) {
                *bad = "extra.dns";
                return r;
        }
        if ((r = borrow_strv(x->add_host, &x->lists[2], &c->add_hosts, &c->n_add_hosts)) < 0) {
                *bad = "extra.addHost";
                return r;
        }
        if ((r = borrow_strv(x->network_alias, &x->lists[3], &c->network_aliases, &c->n_network_aliases)) <
            0) {
                *bad = "extra.networkAlias";
                return r;
        }
        if ((r = add_volumes(x, c)) < 0) {
                *bad = "extra.volume";
                return r;
        }
        c->publish_all = x->publish_all;
        c->ip = x->ip && *x->ip ? x->ip : NULL;
        c->mac_address = x->mac_address && *x->mac_address ? x->mac_address : NULL;
        c->runtime = x->runtime && *x->runtime ? x->runtime : NULL;
        return 0;
}

static int method_create(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        static const VlJsonField fields[] = {
                {"volume", -1, vl_json_dispatch_json, offsetof(Extra, volume), 0},
                {"publish", -1, vl_json_dispatch_json, offsetof(Extra, publish), 0},
                {"dns", -1, vl_json_dispatch_json, offsetof(Extra, dns), 0},
                {"addHost", -1, vl_json_dispatch_json, offsetof(Extra, add_host), 0},
                {"networkAlias", -1, vl_json_dispatch_json, offsetof(Extra, network_alias), 0},
                {"ip", VL_JSON_STRING, vl_json_dispatch_string, offsetof(Extra, ip), 0},
                {"macAddress", VL_JSON_STRING, vl_json_dispatch_string, offsetof(Extra, mac_address), 0},
                {"runtime", VL_JSON_STRING, vl_json_dispatch_string, offsetof(Extra, runtime), 0},
                {"publishAll", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(Extra, publish_all), 0},
                {},
        };
        const VlJson *create = vl_json_object_get(params, "create");
        Extra x = {};

        if (vl_json_type(create) != VL_JSON_OBJECT)
                return vl_call_reply_invalid_parameter(call, "create");
        if (vl_json_dispatch(vl_json_object_get(params, "extra"), fields, &x, 0, NULL) < 0)
                return vl_call_reply_invalid_parameter(call, "extra");
        int r = svc_create_container_with(call, userdata, create, apply_extra, &x);
        extra_done(&x);
        return r;
}

static int method_exec_detached(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *opts = vl_json_object_get(params, "opts");
        const char *name = vl_json_get_string(vl_json_object_get(opts, "name"));
        const char *user = vl_json_get_string(vl_json_object_get(opts, "user"));
        const char *workdir = vl_json_get_string(vl_json_object_get(opts, "workdir"));
        const VlJson *cmdj = vl_json_object_get(opts, "cmd"), *envj = vl_json_object_get(opts, "env");
        _cleanup_free_ const char **cmd = NULL, **env = NULL;
        size_t n_cmd = vl_json_array_length(cmdj), n_env = vl_json_array_length(envj);
        CpodError err = {};
        Engine *e;
        int code = 0;

        if (!name || !*name)
                return vl_call_reply_invalid_parameter(call, "opts.name");
        if (n_cmd == 0 || n_cmd > EXTRA_MAX || !vl_json_get_string(vl_json_array_get(cmdj, 0)) ||
            !*vl_json_get_string(vl_json_array_get(cmdj, 0)))
                return vl_call_reply_invalid_parameter(call, "opts.cmd");
        if (n_env > EXTRA_MAX)
                return vl_call_reply_invalid_parameter(call, "opts.env");
        if (!(cmd = calloc(n_cmd + 1, sizeof(char *))) || !(env = calloc(n_env + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n_cmd; i++)
                cmd[i] = vl_json_get_string(vl_json_array_get(cmdj, i));
        for (size_t i = 0; i < n_env; i++)
                env[i] = vl_json_get_string(vl_json_array_get(envj, i));
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        ExecOptions o = {
                .command = (char **)cmd,
                .n_command = n_cmd,
                .env = (char **)env,
                .n_env = n_env,
                .user = user && *user ? user : NULL,
                .workdir = workdir && *workdir ? workdir : NULL,
                .detach = true,
                .privileged = vl_json_get_bool(vl_json_object_get(opts, "privileged")),
        };
        int r = container_exec(e, name, &o, NULL, &code, &err);
        if (r >= 0)
                return vl_call_reply(call, NULL);
        if (code == 127)
                return ext_reply_error(call, "CommandNotFound", "command", cmd[0], r, &err);
        if (code == 126)
                return ext_reply_error(call, "CommandNotExecutable", "command", cmd[0], r, &err);
        if (r == -ENOENT)
                return ext_reply_error(call, "ContainerNotFound", "id", name, r, &err);
        return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
}

/* Sizes out of a terminal's range are InvalidParameter; 0 leaves the size unset. */
static int method_exec(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int64_t width = vl_json_get_int(vl_json_object_get(params, "width"));
        int64_t height = vl_json_get_int(vl_json_object_get(params, "height"));

        if (!vl_json_object_get(params, "width") || width < 0 || width > 65535)
                return vl_call_reply_invalid_parameter(call, "width");
        if (!vl_json_object_get(params, "height") || height < 0 || height > 65535)
                return vl_call_reply_invalid_parameter(call, "height");
        return svc_exec_session(call, vl_json_object_get(params, "opts"), flags, userdata, (unsigned)height,
                                (unsigned)width);
}

int ext_container_bind(VlServer *s, Service *svc) {
        int r = vl_server_bind(s, CPOD_IFACE ".CreateContainer", method_create, svc);
        r = r < 0 ? r : vl_server_bind(s, CPOD_IFACE ".ExecDetached", method_exec_detached, svc);
        return r < 0 ? r : vl_server_bind_upgrade(s, CPOD_IFACE ".ExecContainer", method_exec, svc);
}
