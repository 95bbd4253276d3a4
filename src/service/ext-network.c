/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The network methods of io.cpod over the engine's network.h: ListNetworks,
 * InspectNetwork, NetworkExists, CreateNetwork, RemoveNetwork,
 * PruneNetworks, ConnectNetwork and DisconnectNetwork.
 *
 * Engine errors become NetworkNotFound (-ENOENT), NetworkAlreadyExists
 * (-EEXIST), NetworkInUse (-EBUSY) or ErrorOccurred; the reason is the
 * engine's message, so a remote CLI prints what a local one does.
 */

#include <stdio.h>
#include <string.h>

#include "container.h"
#include "ext-internal.h"
#include "network.h"
#include "util.h"

/* Strings in one []string parameter at most. */

const char *ext_required_string(VlCall *call, const VlJson *params, const char *key) {
        const char *s = vl_json_get_string(vl_json_object_get(params, key));
        if (!s || !*s) {
                (void)vl_call_reply_invalid_parameter(call, key);
                return NULL;
        }
        return s;
}

int ext_reply_error(VlCall *call, const char *error, const char *key, const char *value, int r,
                    const CpodError *err) {
        char name[64], buf[128];
        const char *reason = err && err->code && err->message[0] ? err->message : NULL;
        if (!reason) {
                snprintf(buf, sizeof(buf), "%s", strerror(r < 0 ? -r : r));
                reason = buf;
        }
        snprintf(name, sizeof(name), CPOD_IFACE ".%s", error);
        VlJson *p = vl_json_new_object();
        if (!p || (key && vl_json_object_set_string(p, key, value ? value : "") < 0) ||
            vl_json_object_set_string(p, "reason", reason) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, name, p);
}

static int reply_network_error(VlCall *call, int r, const CpodError *err, const char *name) {
        switch (r) {
        case -ENOENT:
                return ext_reply_error(call, "NetworkNotFound", "name", name, r, err);
        case -EEXIST:
                return ext_reply_error(call, "NetworkAlreadyExists", "name", name, r, err);
        case -EBUSY:
                return ext_reply_error(call, "NetworkInUse", "name", name, r, err);
        default:
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, err);
        }
}

static VlJson *string_member(const VlJson *doc, const char *key) {
        return vl_json_new_string(vl_json_get_string(vl_json_object_get(doc, key)) ?: "");
}

/* A map of strings from a document member; values that are not strings are left out. */
static VlJson *string_map(const VlJson *o) {
        VlJson *m = vl_json_new_object();
        for (size_t i = 0; m && i < vl_json_object_length(o); i++) {
                const char *v = vl_json_get_string(vl_json_object_value(o, i));
                if (v && vl_json_object_set_string(m, vl_json_object_key(o, i), v) < 0)
                        return vl_json_unref(m);
        }
        return m;
}

/* io.cpod Network from netavark's document. */
static VlJson *network_record(const VlJson *doc) {
        VlJson *o = vl_json_new_object(), *subnets = vl_json_new_array();
        const VlJson *s;
        int r = o && subnets ? 0 : -ENOMEM;

        VL_JSON_FOREACH_ELEMENT (s, vl_json_object_get(doc, "subnets")) {
                VlJson *x = vl_json_new_object();
                r = r < 0 ? r : x ? vl_json_object_set(x, "subnet", string_member(s, "subnet")) : -ENOMEM;
                r = r < 0 ? r : vl_json_object_set(x, "gateway", string_member(s, "gateway"));
                r = r < 0 ? r : vl_json_array_append(subnets, x);
                if (r < 0)
                        vl_json_unref(x);
        }
        r = r < 0 ? r : vl_json_object_set(o, "name", string_member(doc, "name"));
        r = r < 0 ? r : vl_json_object_set(o, "id", string_member(doc, "id"));
        r = r < 0 ? r : vl_json_object_set(o, "driver", string_member(doc, "driver"));
        r = r < 0 ? r : vl_json_object_set(o, "network_interface", string_member(doc, "network_interface"));
        r = r < 0 ? r : vl_json_object_set(o, "created", string_member(doc, "created"));
        r = r < 0 ? r : vl_json_object_set(o, "subnets", vl_json_ref(subnets));
        r = r < 0 ? r
                  : vl_json_object_set_bool(o, "ipv6_enabled",
                                            vl_json_get_bool(vl_json_object_get(doc, "ipv6_enabled")));
        r = r < 0 ? r
                  : vl_json_object_set_bool(o, "internal",
                                            vl_json_get_bool(vl_json_object_get(doc, "internal")));
        r = r < 0 ? r
                  : vl_json_object_set_bool(o, "dns_enabled",
                                            vl_json_get_bool(vl_json_object_get(doc, "dns_enabled")));
        r = r < 0 ? r : vl_json_object_set(o, "labels", string_map(vl_json_object_get(doc, "labels")));
        r = r < 0 ? r : vl_json_object_set(o, "options", string_map(vl_json_object_get(doc, "options")));
        vl_json_unref(subnets);
        return r < 0 ? vl_json_unref(o) : o;
}

static int method_list(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL;
        _cleanup_free_ const char **filters = NULL;
        CpodError err = {};
        size_t n = 0;
        Engine *e;
        const VlJson *doc;

        int r = svc_string_list(call, "filters", vl_json_object_get(params, "filters"), &filters, &n);
        if (r < 0)
                return r == -E2BIG ? 0 : r;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = net_list(e, filters, n, &docs, &err);
        if (r < 0)
                return reply_network_error(call, r == -ENOENT ? -EINVAL : r, &err, NULL);
        VlJson *list = vl_json_new_array();
        VL_JSON_FOREACH_ELEMENT (doc, docs)
                if (!list || vl_json_array_append(list, network_record(doc)) < 0) {
                        vl_json_unref(list);
                        return -ENOMEM;
                }
        return reply_one(call, "networks", list);
}

static int method_inspect(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        const char *name = ext_required_string(call, params, "name");
        CpodError err = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = net_get(e, name, &doc, &err);
        if (r < 0)
                return reply_network_error(call, r, &err, name);
        _cleanup_free_ char *text = vl_json_to_string(doc, 0);
        if (!text)
                return -ENOMEM;
        return reply_one(call, "network", vl_json_new_string(text));
}

static int method_exists(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        CpodError err = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = net_exists(e, name, &err);
        if (r < 0)
                return reply_network_error(call, r == -ENOENT ? -EIO : r, &err, name);
        return reply_one(call, "exists", vl_json_bool(r > 0));
}

/* A []string member of create, borrowed into v. */
static int create_list(VlCall *call, const VlJson *create, const char *key, const char ***v, size_t *n) {
        char where[32];
        snprintf(where, sizeof(where), "create.%s", key);
        return svc_string_list(call, where, vl_json_object_get(create, key), v, n);
}

static const char *optional_string(const VlJson *o, const char *key) {
        const char *s = vl_json_get_string(vl_json_object_get(o, key));
        return s && *s ? s : NULL;
}

static int method_create(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const VlJson *c = vl_json_object_get(params, "create");
        _cleanup_free_ const char **subnets = NULL, **gateways = NULL;
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        char **labels = NULL, **options = NULL;
        size_t n_labels = 0, n_options = 0;
        NetCreateOptions o = {};
        CpodError err = {};
        Engine *e;
        int r;

        if ((r = create_list(call, c, "subnets", &subnets, &o.n_subnets)) < 0 ||
            (r = create_list(call, c, "gateways", &gateways, &o.n_gateways)) < 0)
                return r == -E2BIG ? 0 : r;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (svc_kv_list(vl_json_object_get(c, "labels"), &labels, &n_labels) < 0 ||
            svc_kv_list(vl_json_object_get(c, "options"), &options, &n_options) < 0) {
                svc_kv_list_free(labels, n_labels);
                return -ENOMEM;
        }
        o.name = optional_string(c, "name");
        o.driver = optional_string(c, "driver");
        o.interface = optional_string(c, "interfaceName");
        o.subnets = (char **)subnets;
        o.gateways = (char **)gateways;
        o.labels = labels, o.n_labels = n_labels;
        o.options = options, o.n_options = n_options;
        o.internal = vl_json_get_bool(vl_json_object_get(c, "internal"));
        o.ipv6 = vl_json_get_bool(vl_json_object_get(c, "ipv6"));
        o.disable_dns = vl_json_get_bool(vl_json_object_get(c, "disableDns"));
        r = net_create(e, &o, &doc, &err);
        svc_kv_list_free(labels, n_labels);
        svc_kv_list_free(options, n_options);
        if (r < 0)
                return reply_network_error(call, r == -ENOENT ? -EINVAL : r, &err, o.name);
        return reply_one(call, "name", string_member(doc, "name"));
}

static int method_remove(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        bool force = vl_json_get_bool(vl_json_object_get(params, "force"));
        CpodError err = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = net_remove(e, name, force, &err);
        if (r < 0)
                return reply_network_error(call, r, &err, name);
        return reply_one(call, "name", vl_json_new_string(name));
}

static int method_prune(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        char **names = NULL;
        size_t n = 0;
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = net_prune(e, &names, &n, &err);
        if (r < 0)
                return reply_network_error(call, r == -ENOENT ? -EIO : r, &err, NULL);
        VlJson *list = json_strv(names, n);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return list ? reply_one(call, "names", list) : -ENOMEM;
}

/* A connect or disconnect failed with -ENOENT: name what is missing. */
static int reply_link_error(VlCall *call, Engine *e, int r, const CpodError *err, const char *network,
                            const char *ctr) {
        if (r == -ENOENT && net_exists(e, network, NULL) == 0)
                return ext_reply_error(call, "NetworkNotFound", "name", network, r, err);
        if (r == -ENOENT) {
                Container c = {};
                int k = container_get(e, ctr, &c, NULL);
                container_done(&c);
                if (k == -ENOENT)
                        return ext_reply_error(call, "ContainerNotFound", "id", ctr, r, err);
        }
        return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, err);
}

static int method_connect(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *network = ext_required_string(call, params, "network");
        const char *ctr = network ? ext_required_string(call, params, "container") : NULL;
        const char *ip = vl_json_get_string(vl_json_object_get(params, "ip"));
        _cleanup_free_ const char **aliases = NULL;
        CpodError err = {};
        size_t n = 0;
        Engine *e;

        if (!ctr)
                return 0;
        int r = svc_string_list(call, "aliases", vl_json_object_get(params, "aliases"), &aliases, &n);
        if (r < 0)
                return r == -E2BIG ? 0 : r;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = net_connect(e, ctr, network, (char **)aliases, n, ip && *ip ? ip : NULL, &err);
        return r < 0 ? reply_link_error(call, e, r, &err, network, ctr) : vl_call_reply(call, NULL);
}

static int method_disconnect(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *network = ext_required_string(call, params, "network");
        const char *ctr = network ? ext_required_string(call, params, "container") : NULL;
        bool force = vl_json_get_bool(vl_json_object_get(params, "force"));
        CpodError err = {};
        Engine *e;

        if (!ctr || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = net_disconnect(e, ctr, network, force, &err);
        return r < 0 ? reply_link_error(call, e, r, &err, network, ctr) : vl_call_reply(call, NULL);
}

int ext_network_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {CPOD_IFACE ".ListNetworks", method_list},
                {CPOD_IFACE ".InspectNetwork", method_inspect},
                {CPOD_IFACE ".NetworkExists", method_exists},
                {CPOD_IFACE ".CreateNetwork", method_create},
                {CPOD_IFACE ".RemoveNetwork", method_remove},
                {CPOD_IFACE ".PruneNetworks", method_prune},
                {CPOD_IFACE ".ConnectNetwork", method_connect},
                {CPOD_IFACE ".DisconnectNetwork", method_disconnect},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
