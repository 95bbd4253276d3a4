/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Dispatch tables: fill a C struct from a JSON object (see vl/json.h). */

#include <limits.h>

#include "json-internal.h"

static const VlJsonField *find_field(const VlJsonField table[], const char *key, size_t klen) {
        for (const VlJsonField *f = table; f->name; f++)
                if (strlen(f->name) == klen && memcmp(f->name, key, klen) == 0)
                        return f;
        return NULL;
}

/* Whether v is acceptable for a field declared with type t. */
static bool type_ok(int t, const VlJson *v) {
        int64_t i;
        uint64_t u;
        switch (t) {
        case -1:
                return true;
        case VL_JSON_INT:
                if (v->type == VL_JSON_INT)
                        return true;
                if (v->type == VL_JSON_UINT)
                        return v->u <= INT64_MAX;
                return v->type == VL_JSON_DOUBLE && json_double_to_int64(v->d, &i);
        case VL_JSON_UINT:
                if (v->type == VL_JSON_UINT)
                        return true;
                if (v->type == VL_JSON_INT)
                        return v->i >= 0;
                return v->type == VL_JSON_DOUBLE && json_double_to_uint64(v->d, &u);
        case VL_JSON_DOUBLE:
                return vl_json_is_number(v);
        default:
                return v->type == t;
        }
}

_public_ int vl_json_dispatch(const VlJson *obj, const VlJsonField table[], void *base, unsigned flags,
                              const char **ret_bad_field) {
        const char *bad = NULL;
        int r = -EINVAL;

        if (!table)
                return -EINVAL;
        /* A missing or null object has no members: only the mandatory check applies. */
        if (obj && obj->type != VL_JSON_NULL && obj->type != VL_JSON_OBJECT)
                goto fail;

        for (size_t i = 0; i < vl_json_object_length(obj); i++) {
                const JsonMember *m = &json_obj(obj)->m[i];
                const VlJsonField *f = find_field(table, m->key->data, m->key->h.len);
                if (!f) {
                        if (flags & VL_JSON_ALLOW_EXTRA)
                                continue;
                        bad = m->key->data;
                        r = -EINVAL;
                        goto fail;
                }
                if (vl_json_is_null(m->value))
                        continue; /* null counts as absent */
                if (!type_ok(f->type, m->value)) {
                        bad = f->name;
                        r = -EINVAL;
                        goto fail;
                }
                if (f->fn && (r = f->fn(f->name, m->value, (char *)base + f->offset)) < 0) {
                        /* Out of memory is the callback's own trouble; anything else is a bad field. */
                        if (r != -ENOMEM)
                                r = -EINVAL;
                        bad = f->name;
                        goto fail;
                }
        }

        for (const VlJsonField *f = table; f->name; f++)
                if ((f->flags & VL_JSON_MANDATORY) && vl_json_is_null(vl_json_object_get(obj, f->name))) {
                        bad = f->name;
                        r = -EINVAL;
                        goto fail;
                }
        return 0;

fail:
        if (ret_bad_field)
                *ret_bad_field = bad;
        return r;
}

_public_ int vl_json_dispatch_string(const char *name, const VlJson *v, void *field) {
        if (vl_json_type(v) != VL_JSON_STRING)
                return -EINVAL;
        *(const char **)field = json_str(v)->data;
        return 0;
}

_public_ int vl_json_dispatch_int64(const char *name, const VlJson *v, void *field) {
        if (!v || !type_ok(VL_JSON_INT, v))
                return -EINVAL;
        *(int64_t *)field = vl_json_get_int(v);
        return 0;
}

_public_ int vl_json_dispatch_uint64(const char *name, const VlJson *v, void *field) {
        if (!v || !type_ok(VL_JSON_UINT, v))
                return -EINVAL;
        *(uint64_t *)field = vl_json_get_uint(v);
        return 0;
}

_public_ int vl_json_dispatch_int(const char *name, const VlJson *v, void *field) {
        if (!v || !type_ok(VL_JSON_INT, v))
                return -EINVAL;
        int64_t i = vl_json_get_int(v);
        if (i < INT_MIN || i > INT_MAX)
                return -ERANGE;
        *(int *)field = (int)i;
        return 0;
}

_public_ int vl_json_dispatch_bool(const char *name, const VlJson *v, void *field) {
        if (vl_json_type(v) != VL_JSON_BOOL)
                return -EINVAL;
        *(bool *)field = v->b;
        return 0;
}

_public_ int vl_json_dispatch_double(const char *name, const VlJson *v, void *field) {
        if (!vl_json_is_number(v))
                return -EINVAL;
        *(double *)field = vl_json_get_double(v);
        return 0;
}

_public_ int vl_json_dispatch_json(const char *name, const VlJson *v, void *field) {
        *(const VlJson **)field = v;
        return 0;
}
