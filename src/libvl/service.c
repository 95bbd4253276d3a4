/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Interfaces and method bindings of a server, and the org.varlink.service
 * interface that every server answers. */

#include "org.varlink.service.h"
#include "server-internal.h"
#include "util.h"

static uint64_t hash_name(const char *s, size_t len) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h;
}

const Binding *server_find_binding(VlServer *s, const char *name) {
        if (s->n_slots == 0)
                return NULL;
        size_t len = strlen(name);
        size_t mask = s->n_slots - 1;
        for (size_t i = hash_name(name, len) & mask;; i = (i + 1) & mask) {
                const Binding *b = &s->slots[i];
                if (!b->name)
                        return NULL;
                if (streq(b->name, name))
                        return b;
        }
}

static int rehash(VlServer *s, size_t n_slots) {
        Binding *slots = calloc(n_slots, sizeof(Binding));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_slots; i++) {
                Binding *b = &s->slots[i];
                if (!b->name)
                        continue;
                size_t j = hash_name(b->name, strlen(b->name)) & (n_slots - 1);
                while (slots[j].name)
                        j = (j + 1) & (n_slots - 1);
                slots[j] = *b;
        }
        free(s->slots);
        s->slots = slots;
        s->n_slots = n_slots;
        return 0;
}

int server_add_binding(VlServer *s, const char *name, const VlInterface *iface, const VlMember *m) {
        if (server_find_binding(s, name))
                return -EEXIST;
        if ((s->n_bindings + 1) * 2 > s->n_slots) {
                int r = rehash(s, s->n_slots ? s->n_slots * 2 : 64);
                if (r < 0)
                        return r;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        size_t j = hash_name(name, strlen(name)) & (s->n_slots - 1);
        while (s->slots[j].name)
                j = (j + 1) & (s->n_slots - 1);
        s->slots[j] = (Binding){.name = copy, .iface = iface, .method = m};
        s->n_bindings++;
        return 0;
}

const VlInterface *server_find_interface(VlServer *s, const char *name, size_t len) {
        for (size_t i = 0; i < s->n_ifaces; i++)
                if (strlen(s->ifaces[i]->name) == len && memcmp(s->ifaces[i]->name, name, len) == 0)
                        return s->ifaces[i];
        return NULL;
}

_public_ int vl_server_add_interface(VlServer *s, const char *idl, VlIdlError *err) {
        VlInterface *iface = NULL;
        int r = vl_interface_parse(idl, strlen(idl), &iface, err);
        if (r < 0)
                return r;
        if (server_find_interface(s, iface->name, strlen(iface->name))) {
                vl_interface_free(iface);
                return -EEXIST;
        }
        if (VL_GROW(s->ifaces, s->cap_ifaces, s->n_ifaces + 1) < 0) {
                vl_interface_free(iface);
                return -ENOMEM;
        }
        s->ifaces[s->n_ifaces++] = iface;

        /* Every declared method gets a binding; without a handler it answers
         * MethodNotImplemented. */
        size_t prefix = strlen(iface->name);
        for (size_t i = 0; i < iface->n_members; i++) {
                const VlMember *m = &iface->members[i];
                if (m->kind != VL_MEMBER_METHOD)
                        continue;
                size_t n = prefix + 1 + strlen(m->name) + 1;
                char *full = malloc(n);
                if (!full)
                        return -ENOMEM;
                memcpy(full, iface->name, prefix);
                full[prefix] = '.';
                strcpy(full + prefix + 1, m->name);
                r = server_add_binding(s, full, iface, m);
                free(full);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int bind_method(VlServer *s, const char *method, VlMethodFn fn, void *userdata, bool upgrade) {
        Binding *b = (Binding *)server_find_binding(s, method);
        if (!b)
                return -ENOENT;
        b->fn = fn;
        b->userdata = userdata;
        b->upgrade = upgrade;
        if (upgrade)
                s->peek = true;
        return 0;
}

_public_ int vl_server_bind(VlServer *s, const char *method, VlMethodFn fn, void *userdata) {
        return bind_method(s, method, fn, userdata, false);
}

_public_ int vl_server_bind_upgrade(VlServer *s, const char *method, VlMethodFn fn, void *userdata) {
        return bind_method(s, method, fn, userdata, true);
}

static int get_info(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlServer *s = vl_call_server(call);
        VlJson *reply = vl_json_new_object();
        VlJson *list = vl_json_new_array();
        int r = 0;
        for (size_t i = 0; list && i < s->n_ifaces && r >= 0; i++)
                r = vl_json_array_append(list, vl_json_new_string(s->ifaces[i]->name));
        if (!reply || !list || r < 0 || vl_json_object_set_string(reply, "vendor", s->vendor) < 0 ||
            vl_json_object_set_string(reply, "product", s->product) < 0 ||
            vl_json_object_set_string(reply, "version", s->version) < 0 ||
            vl_json_object_set_string(reply, "url", s->url) < 0) {
                vl_json_unref(reply);
                vl_json_unref(list);
                return -ENOMEM;
        }
        if (vl_json_object_set(reply, "interfaces", list) < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        return vl_call_reply(call, reply);
}

static int get_interface_description(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlServer *s = vl_call_server(call);
        const char *name = vl_json_get_string(vl_json_object_get(params, "interface"));
        const VlInterface *iface = name ? server_find_interface(s, name, strlen(name)) : NULL;
        if (!iface)
                return vl_call_reply_error_string(call, VL_ERROR_INTERFACE_NOT_FOUND, "interface",
                                                  name ? name : "");
        VlJson *reply = vl_json_new_object();
        if (!reply || vl_json_object_set_string(reply, "description", iface->description) < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        return vl_call_reply(call, reply);
}

int service_bind_builtin(VlServer *s) {
        int r = vl_server_add_interface(s, org_varlink_service_idl, NULL);
        if (r < 0)
                return r;
        r = vl_server_bind(s, "org.varlink.service.GetInfo", get_info, NULL);
        if (r < 0)
                return r;
        return vl_server_bind(s, "org.varlink.service.GetInterfaceDescription", get_interface_description,
                              NULL);
}
