/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Checking JSON values against the types of an interface: the parameters
 * of every call, reply and error. A value is accepted when it has exactly
 * the shape the type describes; null (or absence, for struct fields) only
 * where the type is nullable.
 */

#include <vl/idl.h>

#include "util.h"

/* Values nest no deeper than this (the JSON parser stops at 64 anyway). */
#define VALIDATE_MAX_DEPTH 256u

static bool check_value(const VlInterface *iface, const VlType *t, const VlJson *v, unsigned depth,
                        unsigned flags);

/* The definition behind a named type; t itself otherwise. NULL if undeclared. */
static const VlType *resolve(const VlInterface *iface, const VlType *t) {
        if (t->kind != VL_TYPE_ALIAS)
                return t;
        const VlMember *m = vl_interface_find(iface, VL_MEMBER_TYPE, t->alias);
        return m ? m->type : NULL;
}

static bool check_int(const VlJson *v) {
        switch (vl_json_type(v)) {
        case VL_JSON_INT:
        case VL_JSON_UINT:
                return true;
        case VL_JSON_DOUBLE: {
                /* 1.0 or 1e3 is an integer written by a peer that only has doubles;
                 * NaN fails every comparison */
                double d = vl_json_get_double(v);
                if (d >= -0x1p63 && d < 0x1p63)
                        return (double)(int64_t)d == d;
                if (d >= 0x1p63 && d < 0x1p64)
                        return (double)(uint64_t)d == d;
                return false;
        }
        default:
                return false;
        }
}

static const VlField *find_field(const VlType *t, const char *name) {
        for (size_t i = 0; i < t->n_fields; i++)
                if (streq(t->fields[i].name, name))
                        return &t->fields[i];
        return NULL;
}

/* v is an object; checks it against struct t. *ret_bad names the offending member. */
static bool check_struct(const VlInterface *iface, const VlType *t, const VlJson *v, unsigned depth,
                         unsigned flags, const char **ret_bad) {
        const char *key;
        const VlJson *value;

        VL_JSON_FOREACH_MEMBER (key, value, v) {
                const VlField *f = find_field(t, key);
                if (!f || !check_value(iface, f->type, value, depth + 1, flags)) {
                        *ret_bad = key;
                        return false;
                }
        }
        /* Members that are there were checked above, null included. */
        for (size_t i = 0; !(flags & VL_VALIDATE_ALLOW_MISSING) && i < t->n_fields; i++) {
                const VlField *f = &t->fields[i];
                if (!f->type->nullable && !vl_json_object_get(v, f->name)) {
                        *ret_bad = f->name;
                        return false;
                }
        }
        return true;
}

/* Checks every element of an array, or every value of an object. */
static bool check_elements(const VlInterface *iface, const VlType *element, const VlJson *v, unsigned depth,
                           unsigned flags) {
        bool is_array = vl_json_type(v) == VL_JSON_ARRAY;
        size_t n = is_array ? vl_json_array_length(v) : vl_json_object_length(v);
        /* Look a named element type up once, not per element. */
        const VlType *def = resolve(iface, element);

        if (!def)
                return false;
        for (size_t i = 0; i < n; i++) {
                const VlJson *e = is_array ? vl_json_array_get(v, i) : vl_json_object_value(v, i);
                if (vl_json_is_null(e) ? !element->nullable : !check_value(iface, def, e, depth + 1, flags))
                        return false;
        }
        return true;
}

static bool check_value(const VlInterface *iface, const VlType *t, const VlJson *v, unsigned depth,
                        unsigned flags) {
        const char *bad;

        if (depth > VALIDATE_MAX_DEPTH || !t)
                return false;
        if (vl_json_is_null(v))
                return t->nullable;

        t = resolve(iface, t);
        if (!t)
                return false;

        switch (t->kind) {
        case VL_TYPE_BOOL:
                return vl_json_type(v) == VL_JSON_BOOL;
        case VL_TYPE_INT:
                return check_int(v);
        case VL_TYPE_FLOAT:
                return vl_json_is_number(v);
        case VL_TYPE_STRING:
                return vl_json_type(v) == VL_JSON_STRING;
        case VL_TYPE_OBJECT:
                return vl_json_type(v) == VL_JSON_OBJECT;
        case VL_TYPE_ANY:
                return true;
        case VL_TYPE_STRUCT:
                return vl_json_type(v) == VL_JSON_OBJECT && check_struct(iface, t, v, depth, flags, &bad);
        case VL_TYPE_ENUM:
                return vl_json_type(v) == VL_JSON_STRING && find_field(t, vl_json_get_string(v));
        case VL_TYPE_ARRAY:
                return vl_json_type(v) == VL_JSON_ARRAY &&
                       check_elements(iface, t->element, v, depth, flags);
        case VL_TYPE_MAP:
                return vl_json_type(v) == VL_JSON_OBJECT &&
                       check_elements(iface, t->element, v, depth, flags);
        case VL_TYPE_SET:
                /* Peers send {} or true or null as the values: only the keys matter. */
                return vl_json_type(v) == VL_JSON_OBJECT;
        case VL_TYPE_ALIAS:
                return false;
        }
        return false;
}

_public_ int vl_interface_validate(const VlInterface *iface, const VlType *type, const VlJson *v,
                                   const char **ret_bad_field) {
        return vl_interface_validate_flags(iface, type, v, 0, ret_bad_field);
}

_public_ int vl_interface_validate_flags(const VlInterface *iface, const VlType *type, const VlJson *v,
                                         unsigned flags, const char **ret_bad_field) {
        const char *bad = NULL;

        if (ret_bad_field)
                *ret_bad_field = NULL;
        if (!iface || !type)
                return -EINVAL;
        type = resolve(iface, type);
        if (!type || type->kind != VL_TYPE_STRUCT)
                return -EINVAL;

        /* Absent, null and {} parameters mean the same. */
        if (vl_json_is_null(v)) {
                for (size_t i = 0; !(flags & VL_VALIDATE_ALLOW_MISSING) && i < type->n_fields; i++)
                        if (!type->fields[i].type->nullable) {
                                bad = type->fields[i].name;
                                goto invalid;
                        }
                return 0;
        }
        if (vl_json_type(v) != VL_JSON_OBJECT)
                return -EINVAL;
        if (check_struct(iface, type, v, 0, flags, &bad))
                return 0;

invalid:
        if (ret_bad_field)
                *ret_bad_field = bad;
        return -EINVAL;
}

/* Accepts "Name" and "iface.name.Name". */
static const char *short_name(const VlInterface *iface, const char *name) {
        const char *s = startswith(name, iface->name);
        return s && s[0] == '.' ? s + 1 : name;
}

_public_ int vl_interface_validate_method(const VlInterface *iface, const char *method, bool is_reply,
                                          const VlJson *v, const char **ret_bad_field) {
        if (ret_bad_field)
                *ret_bad_field = NULL;
        if (!iface || !method)
                return -EINVAL;
        const VlMember *m = vl_interface_find(iface, VL_MEMBER_METHOD, short_name(iface, method));
        if (!m)
                return -ENOENT;
        return vl_interface_validate(iface, is_reply ? m->output : m->input, v, ret_bad_field);
}

_public_ int vl_interface_validate_error(const VlInterface *iface, const char *error, const VlJson *v,
                                         const char **ret_bad_field) {
        if (ret_bad_field)
                *ret_bad_field = NULL;
        if (!iface || !error)
                return -EINVAL;
        const VlMember *m = vl_interface_find(iface, VL_MEMBER_ERROR, short_name(iface, error));
        if (!m)
                return -ENOENT;
        return vl_interface_validate(iface, m->type, v, ret_bad_field);
}
