/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * io.cpod methods over single engine calls: PlayKube and PlayKubeDown
 * (kube.h, yaml.h), RenameContainer, ContainerPort and ListContainerPorts
 * (container.h, network.h), SystemCheck and SystemDf (image.h's store_*).
 */

#include <stdio.h>
#include <string.h>

#include "container.h"
#include "ext-internal.h"
#include "kube.h"
#include "network.h"
#include "util.h"
#include "yaml.h"

static int reply_container_missing(VlCall *call, int r, const CpodError *err, const char *ref) {
        if (r == -ENOENT)
                return ext_reply_error(call, "ContainerNotFound", "id", ref, r, err);
        return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, err);
}

/* Parse and check the YAML of a PlayKube call; on failure the call has been answered. */
static int kube_docs(VlCall *call, const VlJson *params, VlJson **ret) {
        const VlJson *y = vl_json_object_get(params, "yaml");
        const char *text = vl_json_get_string(y);
        CpodError err = {};

        if (!text)
                return vl_call_reply_invalid_parameter(call, "yaml") < 0 ? -ENOMEM : -EINVAL;
        int r = yaml_parse(text, vl_json_get_string_length(y), ret, &err);
        if (r >= 0)
                r = kube_validate(*ret, &err);
        if (r < 0) {
                *ret = vl_json_unref(*ret);
                if (r == -ENOMEM)
                        return r;
                (void)ext_reply_error(call, "InvalidKube", NULL, NULL, r, &err);
                return -EINVAL;
        }
        return 0;
}

static VlJson *play_report(const VlJson *x) {
        const VlJson *vol = vl_json_object_get(x, "Volume");
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        r = r < 0 ? r : vl_json_object_set_string(o, "kind", vol ? "volume" : "pod");
        r = r < 0 ? r
                  : vl_json_object_set_string(o, "id",
                                              vl_json_get_string(vol ?: vl_json_object_get(x, "Pod")) ?: "");
        const VlJson *ctrs = vl_json_object_get(x, "Containers");
        r = r < 0 ? r
                  : vl_json_object_set(o, "containers",
                                       vl_json_type(ctrs) == VL_JSON_ARRAY ? vl_json_copy(ctrs)
                                                                           : vl_json_new_array());
        return r < 0 ? vl_json_unref(o) : o;
}

/* PlayKube and PlayKubeDown: the documents checked, then kube_play or kube_down. */
static int play_kube(VlCall *call, const VlJson *params, void *userdata, bool down) {
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL, *result = NULL;
        CpodError err = {};
        const VlJson *x;
        Engine *e;

        int r = kube_docs(call, params, &docs);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        r = down ? kube_down(e, docs, &result, &err) : kube_play(e, docs, &result, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        if (down)
                return reply_one(call, "pods", vl_json_ref(result) ?: vl_json_new_array());
        VlJson *list = vl_json_new_array();
        VL_JSON_FOREACH_ELEMENT (x, result)
                if (!list || vl_json_array_append(list, play_report(x)) < 0) {
                        vl_json_unref(list);
                        return -ENOMEM;
                }
        return reply_one(call, "reports", list);
}

static int method_play_kube(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return play_kube(call, params, userdata, false);
}

static int method_play_kube_down(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return play_kube(call, params, userdata, true);
}

static int method_rename(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        const char *new_name = name ? ext_required_string(call, params, "newName") : NULL;
        CpodError err = {};
        Container c = {};
        Engine *e;

        if (!new_name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_rename(e, name, new_name, &err);
        if (r < 0)
                return reply_container_missing(call, r, &err, name);
        r = container_get(e, new_name, &c, &err);
        if (r < 0)
                return reply_container_missing(call, r, &err, new_name);
        VlJson *id = vl_json_new_string(c.id);
        container_done(&c);
        return reply_one(call, "container", id);
}

/* "8080/tcp -> 127.0.0.1:41235" as an io.cpod ContainerPortMappings. */
static VlJson *port_mapping(const char *s) {
        const char *slash = strchr(s, '/'), *arrow = strstr(s, " -> ");
        const char *colon = arrow ? strrchr(arrow + 4, ':') : NULL;
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        if (!slash || !arrow || !colon || slash > arrow)
                return vl_json_unref(o);
        r = r < 0 ? r : vl_json_object_set(o, "host_port", vl_json_new_string(colon + 1));
        r = r < 0 ? r
                  : vl_json_object_set(o, "host_ip",
                                       vl_json_new_stringn(arrow + 4, (size_t)(colon - arrow - 4)));
        r = r < 0 ? r
                  : vl_json_object_set(o, "protocol",
                                       vl_json_new_stringn(slash + 1, (size_t)(arrow - slash - 1)));
        r = r < 0 ? r : vl_json_object_set(o, "container_port", vl_json_new_stringn(s, (size_t)(slash - s)));
        return r < 0 ? vl_json_unref(o) : o;
}

static int ports_of(Engine *e, const char *id, VlJson **ret, CpodError *err) {
        char **v = NULL;
        size_t n = 0;
        int r = net_container_ports(e, id, false, &v, &n, err);
        if (r < 0)
                return r;
        VlJson *list = vl_json_new_array();
        for (size_t i = 0; i < n; i++) {
                VlJson *m = port_mapping(v[i]);
                if (list && m && vl_json_array_append(list, m) < 0)
                        list = vl_json_unref(list);
                free(v[i]);
        }
        free(v);
        if (!list)
                return -ENOMEM;
        *ret = list;
        return 0;
}

static int method_port(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        VlJson *ports = NULL;
        CpodError err = {};
        Container c = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_get(e, name, &c, &err);
        if (r >= 0)
                r = ports_of(e, c.id, &ports, &err);
        container_done(&c);
        if (r < 0)
                return reply_container_missing(call, r, &err, name);
        return reply_one(call, "ports", ports);
}

static int method_list_ports(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_(vl_json_unrefp) VlJson *list = vl_json_new_array();
        CpodError err = {};
        Container *cs = NULL;
        size_t n = 0;
        Engine *e;

        if (!list)
                return -ENOMEM;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_list(e, false, &cs, &n, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                VlJson *ports = NULL, *o;
                if (ports_of(e, cs[i].id, &ports, NULL) < 0)
                        continue; /* gone meanwhile */
                r = (o = vl_json_new_object()) ? 0 : -ENOMEM;
                r = r < 0 ? r : vl_json_object_set_string(o, "id", cs[i].id);
                r = r < 0 ? r : vl_json_object_set(o, "ports", ports);
                r = r < 0 ? r : vl_json_array_append(list, o);
                if (r < 0)
                        vl_json_unref(o);
        }
        container_array_free(cs, n);
        return r < 0 ? r : reply_one(call, "containers", TAKE_PTR(list));
}

static int method_check(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        bool repair = vl_json_get_bool(vl_json_object_get(params, "repair"));
        StoreReport rep = {};
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = store_check(e, repair, &rep, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        VlJson *o = vl_json_new_object();
        r = o ? json_set_strv(o, "problems", rep.problems, rep.n_problems) : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_int(o, "repaired", rep.repaired);
        store_report_done(&rep);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return reply_one(call, "report", o);
}

static int method_df(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        StoreUsage u = {};
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = store_usage(e, &u, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        VlJson *o = vl_json_new_object();
        r = o ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_int(o, "images", u.images);
        r = r < 0 ? r : vl_json_object_set_int(o, "imagesActive", u.images_active);
        r = r < 0 ? r : vl_json_object_set_int(o, "imagesSize", (int64_t)u.images_size);
        r = r < 0 ? r : vl_json_object_set_int(o, "imagesReclaimable", (int64_t)u.images_reclaimable);
        r = r < 0 ? r : vl_json_object_set_int(o, "layers", u.layers);
        r = r < 0 ? r : vl_json_object_set_int(o, "layersSize", (int64_t)u.layers_size);
        r = r < 0 ? r : vl_json_object_set_int(o, "containers", u.containers);
        r = r < 0 ? r : vl_json_object_set_int(o, "volumes", u.volumes);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        return reply_one(call, "df", o);
}

int ext_system_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {CPOD_IFACE ".PlayKube", method_play_kube},
                {CPOD_IFACE ".PlayKubeDown", method_play_kube_down},
                {CPOD_IFACE ".RenameContainer", method_rename},
                {CPOD_IFACE ".ContainerPort", method_port},
                {CPOD_IFACE ".ListContainerPorts", method_list_ports},
                {CPOD_IFACE ".SystemCheck", method_check},
                {CPOD_IFACE ".SystemDf", method_df},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
