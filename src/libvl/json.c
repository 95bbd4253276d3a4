/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON values: reference counting, constructors, accessors, arrays, objects,
 * equality and copies. The layout is described in json-internal.h. */

#include <sys/mman.h>

#include "json-internal.h"

_Static_assert(offsetof(JsonArray, cap) == offsetof(JsonObject, cap), "json_free() links both through cap");

/* Its address seeds json_hash(). */
const char json_hash_anchor = 0;

VlJson json_null_value = {.n_ref = 1, .type = VL_JSON_NULL, .flags = JSON_STATIC};
VlJson json_true_value = {.n_ref = 1, .type = VL_JSON_BOOL, .flags = JSON_STATIC, .b = true};
VlJson json_false_value = {.n_ref = 1, .type = VL_JSON_BOOL, .flags = JSON_STATIC, .b = false};

#define SMALL_INT(k) \
        { .n_ref = 1, .type = VL_JSON_INT, .flags = JSON_STATIC, .i = (k) }
#define SMALL_INT4(k)  SMALL_INT(k), SMALL_INT((k) + 1), SMALL_INT((k) + 2), SMALL_INT((k) + 3)
#define SMALL_INT16(k) SMALL_INT4(k), SMALL_INT4((k) + 4), SMALL_INT4((k) + 8), SMALL_INT4((k) + 12)
#define SMALL_INT64(k) SMALL_INT16(k), SMALL_INT16((k) + 16), SMALL_INT16((k) + 32), SMALL_INT16((k) + 48)
VlJson json_small_ints[JSON_SMALL_INTS] = {
        SMALL_INT64(0),
        SMALL_INT64(64),
        SMALL_INT64(128),
        SMALL_INT64(192),
};

void json_slab_free(JsonSlab *s) {
        if (s->mapped)
                munmap(s, JSON_HUGE_SLAB);
        else
                free(s);
}

/* Gives v's memory back: to its slab, or to malloc. */
static void json_release(VlJson *v) {
        if (v->flags & JSON_SLAB)
                json_slab_release((JsonSlab *)((char *)v - ((size_t)v->slab_off << 3)));
        else if (v->flags & JSON_HUGE)
                json_slab_release((JsonSlab *)((uintptr_t)v & ~(uintptr_t)(JSON_HUGE_SLAB - 1)));
        else
                free(v);
}

/* Drops a child's reference; a container that dies is pushed on *pending
 * (linked through its cap field, unused from now on), anything else is
 * released at once. */
static inline void json_drop(VlJson *c, VlJson **pending) {
        if (!c || (c->flags & JSON_STATIC) || --c->n_ref > 0)
                return;
        if (c->type == VL_JSON_ARRAY || c->type == VL_JSON_OBJECT) {
                json_arr(c)->cap = (size_t)(uintptr_t)*pending;
                *pending = c;
        } else
                json_release(c);
}

/* Frees v, whose count reached zero, and whatever dies with it. Iterative:
 * nesting depth does not use the C stack. */
void json_free(VlJson *v) {
        VlJson *pending = NULL;
        for (;;) {
                if (v->type == VL_JSON_ARRAY) {
                        JsonArray *a = json_arr(v);
                        for (size_t i = 0; i < v->n; i++)
                                json_drop(a->items[i], &pending);
                        if (!(v->flags & JSON_INLINE))
                                free(a->items);
                } else if (v->type == VL_JSON_OBJECT) {
                        JsonObject *o = json_obj(v);
                        for (size_t i = 0; i < v->n; i++) {
                                json_drop(&o->m[i].key->h, &pending);
                                json_drop(o->m[i].value, &pending);
                        }
                        if (!(v->flags & JSON_INLINE))
                                free(o->m);
                        free(o->index);
                }
                json_release(v);
                if (!pending)
                        return;
                v = pending;
                pending = (VlJson *)(uintptr_t)json_arr(v)->cap;
        }
}

_public_ VlJson *vl_json_ref(VlJson *v) {
        if (v && !(v->flags & JSON_STATIC))
                v->n_ref++;
        return v;
}

_public_ VlJson *vl_json_unref(VlJson *v) {
        json_unref(v);
        return NULL;
}

_public_ void vl_json_unrefp(VlJson **p) {
        if (p) {
                json_unref(*p);
                *p = NULL;
        }
}

/* ---- Constructors ---- */

_public_ VlJson *vl_json_null(void) {
        return &json_null_value;
}

_public_ VlJson *vl_json_bool(bool b) {
        return b ? &json_true_value : &json_false_value;
}

static VlJson *json_new_scalar(uint8_t type) {
        VlJson *v = malloc(sizeof(VlJson));
        if (v)
                *v = (VlJson){.n_ref = 1, .type = type};
        return v;
}

_public_ VlJson *vl_json_new_int(int64_t i) {
        if (i >= 0 && i < JSON_SMALL_INTS)
                return &json_small_ints[i];
        VlJson *v = json_new_scalar(VL_JSON_INT);
        if (v)
                v->i = i;
        return v;
}

_public_ VlJson *vl_json_new_uint(uint64_t u) {
        if (u <= INT64_MAX)
                return vl_json_new_int((int64_t)u);
        VlJson *v = json_new_scalar(VL_JSON_UINT);
        if (v)
                v->u = u;
        return v;
}

_public_ VlJson *vl_json_new_double(double d) {
        if (!__builtin_isfinite(d)) {
                errno = EINVAL;
                return NULL;
        }
        VlJson *v = json_new_scalar(VL_JSON_DOUBLE);
        if (v)
                v->d = d;
        return v;
}

VlJson *json_new_string(const char *s, size_t n) {
        if (n > SIZE_MAX - sizeof(JsonString) - 1)
                return NULL;
        JsonString *v = malloc(sizeof(JsonString) + n + 1);
        if (!v)
                return NULL;
        v->h = (VlJson){.n_ref = 1, .type = VL_JSON_STRING, .len = n};
        if (n)
                memcpy(v->data, s, n);
        v->data[n] = 0;
        v->h.flags = json_plain_flags(v->data, n);
        return &v->h;
}

_public_ VlJson *vl_json_new_string(const char *s) {
        if (!s) {
                errno = EINVAL;
                return NULL;
        }
        return json_new_string(s, strlen(s));
}

_public_ VlJson *vl_json_new_stringn(const char *s, size_t n) {
        if (!s && n > 0) {
                errno = EINVAL;
                return NULL;
        }
        return json_new_string(s, n);
}

/* New containers come with room for this many elements or members in the
 * same allocation, and objects with this many bytes for key nodes: most
 * messages are small. */
#define INITIAL_INLINE   4
#define INITIAL_KEY_ROOM 96

_public_ VlJson *vl_json_new_array(void) {
        JsonArray *a = malloc(sizeof(JsonArray) + INITIAL_INLINE * sizeof(VlJson *));
        if (!a)
                return NULL;
        a->h = (VlJson){.n_ref = 1, .type = VL_JSON_ARRAY, .flags = JSON_INLINE};
        a->cap = INITIAL_INLINE;
        a->items = (VlJson **)(a + 1);
        return &a->h;
}

_public_ VlJson *vl_json_new_object(void) {
        size_t size = sizeof(JsonObject) + INITIAL_INLINE * sizeof(JsonMember);
        JsonObject *o = malloc(size + INITIAL_KEY_ROOM);
        if (!o)
                return NULL;
        o->h = (VlJson){.n_ref = 1, .type = VL_JSON_OBJECT, .flags = JSON_INLINE};
        o->cap = INITIAL_INLINE;
        o->m = (JsonMember *)(o + 1);
        o->index = NULL;
        o->key_room = size;
        o->key_room_end = size + INITIAL_KEY_ROOM;
        return &o->h;
}

/* A key node for o: in o's spare room if it fits, else its own allocation. */
static JsonString *json_new_key(JsonObject *o, const char *key, size_t klen) {
        size_t need = (sizeof(JsonString) + klen + 1 + 7) & ~(size_t)7;
        if (klen < INITIAL_KEY_ROOM && need <= (size_t)(o->key_room_end - o->key_room)) {
                JsonString *k = (JsonString *)((char *)o + o->key_room);
                o->key_room += need;
                k->h = (VlJson){.n_ref = 1,
                                .type = VL_JSON_STRING,
                                .flags = JSON_STATIC | JSON_EMBEDDED,
                                .len = klen};
                memcpy(k->data, key, klen);
                k->data[klen] = 0;
                k->h.flags |= json_plain_flags(k->data, klen);
                return k;
        }
        return json_str(json_new_string(key, klen));
}

static VlJson *json_copy_array(const VlJson *v) {
        const JsonArray *src = json_arr(v);
        JsonArray *a = malloc(sizeof(JsonArray) + v->n * sizeof(VlJson *));
        if (!a)
                return NULL;
        a->h = (VlJson){.n_ref = 1, .type = VL_JSON_ARRAY, .flags = JSON_INLINE, .n = 0};
        a->cap = v->n;
        a->items = (VlJson **)(a + 1);
        for (size_t i = 0; i < v->n; i++) {
                VlJson *c = vl_json_copy(src->items[i]);
                if (!c) {
                        json_unref(&a->h);
                        return NULL;
                }
                a->items[a->h.n++] = c;
        }
        return &a->h;
}

static VlJson *json_copy_object(const VlJson *v) {
        const JsonObject *src = json_obj(v);
        JsonObject *o = malloc(sizeof(JsonObject) + v->n * sizeof(JsonMember));
        if (!o)
                return NULL;
        o->h = (VlJson){.n_ref = 1, .type = VL_JSON_OBJECT, .flags = JSON_INLINE, .n = 0};
        o->cap = v->n;
        o->m = (JsonMember *)(o + 1);
        o->index = NULL;
        o->key_room = o->key_room_end = 0;
        for (size_t i = 0; i < v->n; i++) {
                JsonString *k = src->m[i].key;
                /* Keys are immutable: share them, unless they live inside src. */
                if (k->h.flags & JSON_EMBEDDED)
                        k = json_str(json_new_string(k->data, k->h.len));
                else
                        vl_json_ref(&k->h);
                VlJson *c = k ? vl_json_copy(src->m[i].value) : NULL;
                if (!c) {
                        if (k)
                                json_unref(&k->h);
                        json_unref(&o->h);
                        return NULL;
                }
                o->m[i] = (JsonMember){.key = k, .value = c};
                o->h.n++;
        }
        return &o->h;
}

_public_ VlJson *vl_json_copy(const VlJson *v) {
        if (!v)
                return NULL;
        switch (v->type) {
        case VL_JSON_ARRAY:
                return json_copy_array(v);
        case VL_JSON_OBJECT:
                return json_copy_object(v);
        default:
                /* Scalars and strings are immutable: sharing them is a copy. */
                return vl_json_ref((VlJson *)v);
        }
}

/* ---- Type and scalar access ---- */

_public_ VlJsonType vl_json_type(const VlJson *v) {
        return v ? (VlJsonType)v->type : VL_JSON_NULL;
}

_public_ const char *vl_json_type_name(VlJsonType t) {
        static const char *const names[] = {
                [VL_JSON_NULL] = "null",   [VL_JSON_BOOL] = "bool",     [VL_JSON_INT] = "int",
                [VL_JSON_UINT] = "uint",   [VL_JSON_DOUBLE] = "double", [VL_JSON_STRING] = "string",
                [VL_JSON_ARRAY] = "array", [VL_JSON_OBJECT] = "object",
        };
        if ((unsigned)t >= ELEMENTSOF(names))
                return "invalid";
        return names[t];
}

_public_ bool vl_json_is_null(const VlJson *v) {
        return !v || v->type == VL_JSON_NULL;
}

_public_ bool vl_json_is_number(const VlJson *v) {
        return v && (v->type == VL_JSON_INT || v->type == VL_JSON_UINT || v->type == VL_JSON_DOUBLE);
}

_public_ bool vl_json_get_bool(const VlJson *v) {
        return v && v->type == VL_JSON_BOOL && v->b;
}

bool json_double_to_int64(double d, int64_t *ret) {
        /* -2^63 is exact; 2^63 is the first double out of range. NaN fails both tests. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
                return false;
        int64_t i = (int64_t)d;
        if ((double)i != d)
                return false;
        *ret = i;
        return true;
}

bool json_double_to_uint64(double d, uint64_t *ret) {
        if (!(d >= 0.0 && d < 18446744073709551616.0))
                return false;
        uint64_t u = (uint64_t)d;
        if ((double)u != d)
                return false;
        *ret = u;
        return true;
}

_public_ int64_t vl_json_get_int(const VlJson *v) {
        int64_t i;
        if (!v)
                return 0;
        switch (v->type) {
        case VL_JSON_INT:
                return v->i;
        case VL_JSON_UINT:
                return v->u <= INT64_MAX ? (int64_t)v->u : 0;
        case VL_JSON_DOUBLE:
                return json_double_to_int64(v->d, &i) ? i : 0;
        default:
                return 0;
        }
}

_public_ uint64_t vl_json_get_uint(const VlJson *v) {
        uint64_t u;
        if (!v)
                return 0;
        switch (v->type) {
        case VL_JSON_INT:
                return v->i >= 0 ? (uint64_t)v->i : 0;
        case VL_JSON_UINT:
                return v->u;
        case VL_JSON_DOUBLE:
                return json_double_to_uint64(v->d, &u) ? u : 0;
        default:
                return 0;
        }
}

_public_ double vl_json_get_double(const VlJson *v) {
        if (!v)
                return 0.0;
        switch (v->type) {
        case VL_JSON_INT:
                return (double)v->i;
        case VL_JSON_UINT:
                return (double)v->u;
        case VL_JSON_DOUBLE:
                return v->d;
        default:
                return 0.0;
        }
}

_public_ const char *vl_json_get_string(const VlJson *v) {
        return v && v->type == VL_JSON_STRING ? json_str(v)->data : NULL;
}

_public_ size_t vl_json_get_string_length(const VlJson *v) {
        return v && v->type == VL_JSON_STRING ? v->len : 0;
}

/* ---- Arrays ---- */

_public_ size_t vl_json_array_length(const VlJson *a) {
        return a && a->type == VL_JSON_ARRAY ? a->n : 0;
}

_public_ VlJson *vl_json_array_get(const VlJson *a, size_t i) {
        if (!a || a->type != VL_JSON_ARRAY || i >= a->n)
                return NULL;
        return json_arr(a)->items[i];
}

/* Makes room for one more element or member, moving inline storage out. */
static int json_grow(void **items, size_t *cap, size_t n, size_t sz, uint8_t *flags) {
        if (n < *cap)
                return 0;
        size_t c = *cap < 4 ? 4 : *cap;
        while (c <= n) {
                if (c > SIZE_MAX / 2 / sz)
                        return -ENOMEM;
                c *= 2;
        }
        void *p;
        if (*flags & JSON_INLINE) {
                p = malloc(c * sz);
                if (!p)
                        return -ENOMEM;
                if (n)
                        memcpy(p, *items, n * sz);
                *flags &= ~JSON_INLINE;
        } else {
                p = realloc(*items, c * sz);
                if (!p)
                        return -ENOMEM;
        }
        *items = p;
        *cap = c;
        return 0;
}

_public_ int vl_json_array_append(VlJson *a, VlJson *v) {
        if (!v)
                return -ENOMEM;
        if (!a || a->type != VL_JSON_ARRAY) {
                json_unref(v);
                return -EINVAL;
        }
        JsonArray *arr = json_arr(a);
        if (json_grow((void **)&arr->items, &arr->cap, a->n, sizeof(VlJson *), &a->flags) < 0) {
                json_unref(v);
                return -ENOMEM;
        }
        arr->items[a->n++] = v;
        return 0;
}

/* ---- Objects ---- */

_public_ size_t vl_json_object_length(const VlJson *o) {
        return o && o->type == VL_JSON_OBJECT ? o->n : 0;
}

_public_ const char *vl_json_object_key(const VlJson *o, size_t i) {
        if (!o || o->type != VL_JSON_OBJECT || i >= o->n)
                return NULL;
        return json_obj(o)->m[i].key->data;
}

_public_ VlJson *vl_json_object_value(const VlJson *o, size_t i) {
        if (!o || o->type != VL_JSON_OBJECT || i >= o->n)
                return NULL;
        return json_obj(o)->m[i].value;
}

static void json_index_insert(JsonObject *o, size_t i) {
        JsonIndex *x = o->index;
        const JsonString *k = o->m[i].key;
        size_t slot = json_hash(k->data, k->h.len) & x->mask;
        while (x->slot[slot])
                slot = (slot + 1) & x->mask;
        x->slot[slot] = (uint32_t)(i + 1);
}

static int json_index_build(JsonObject *o) {
        size_t cap = 64;
        while (cap < o->h.n * 2)
                cap *= 2;
        if (o->h.n >= UINT32_MAX)
                return -E2BIG;
        JsonIndex *x = calloc(1, sizeof(JsonIndex) + cap * sizeof(uint32_t));
        if (!x)
                return -ENOMEM;
        free(o->index);
        o->index = x;
        x->mask = cap - 1;
        for (size_t i = 0; i < o->h.n; i++)
                json_index_insert(o, i);
        return 0;
}

ssize_t json_find_member(const VlJson *v, const char *key, size_t klen) {
        JsonObject *o = json_obj(v);
        if (v->n > JSON_LINEAR_MAX && (o->index || json_index_build(o) >= 0)) {
                /* The index is a cache: building it through a const pointer is fine. */
                const JsonIndex *x = o->index;
                size_t slot = json_hash(key, klen) & x->mask;
                uint32_t e;
                while ((e = x->slot[slot])) {
                        const JsonString *k = o->m[e - 1].key;
                        if (k->h.len == klen && json_mem_equal(k->data, key, klen))
                                return e - 1;
                        slot = (slot + 1) & x->mask;
                }
                return -1;
        }
        for (size_t i = 0; i < v->n; i++) {
                const JsonString *k = o->m[i].key;
                if (k->h.len == klen && json_mem_equal(k->data, key, klen))
                        return (ssize_t)i;
        }
        return -1;
}

_public_ VlJson *vl_json_object_get(const VlJson *o, const char *key) {
        if (!o || o->type != VL_JSON_OBJECT || !key)
                return NULL;
        ssize_t i = json_find_member(o, key, strlen(key));
        return i >= 0 ? json_obj(o)->m[i].value : NULL;
}

_public_ int vl_json_object_set(VlJson *o, const char *key, VlJson *v) {
        if (!v)
                return -ENOMEM;
        if (!o || o->type != VL_JSON_OBJECT || !key) {
                json_unref(v);
                return -EINVAL;
        }
        JsonObject *obj = json_obj(o);
        size_t klen = strlen(key);
        ssize_t i = json_find_member(o, key, klen);
        if (i >= 0) {
                json_unref(obj->m[i].value);
                obj->m[i].value = v;
                return 0;
        }
        if (json_grow((void **)&obj->m, &obj->cap, o->n, sizeof(JsonMember), &o->flags) < 0) {
                json_unref(v);
                return -ENOMEM;
        }
        JsonString *k = json_new_key(obj, key, klen);
        if (!k) {
                json_unref(v);
                return -ENOMEM;
        }
        obj->m[o->n] = (JsonMember){.key = k, .value = v};
        o->n++;
        if (obj->index) {
                if (o->n * 2 <= obj->index->mask + 1)
                        json_index_insert(obj, o->n - 1);
                else {
                        free(obj->index); /* rebuilt, bigger, by the next lookup */
                        obj->index = NULL;
                }
        }
        return 0;
}

_public_ int vl_json_object_set_string(VlJson *o, const char *key, const char *s) {
        return vl_json_object_set(o, key, s ? vl_json_new_string(s) : vl_json_null());
}

_public_ int vl_json_object_set_int(VlJson *o, const char *key, int64_t i) {
        return vl_json_object_set(o, key, vl_json_new_int(i));
}

_public_ int vl_json_object_set_bool(VlJson *o, const char *key, bool b) {
        return vl_json_object_set(o, key, vl_json_bool(b));
}

_public_ int vl_json_object_set_double(VlJson *o, const char *key, double d) {
        if (!__builtin_isfinite(d))
                return -EINVAL;
        return vl_json_object_set(o, key, vl_json_new_double(d));
}

_public_ int vl_json_object_remove(VlJson *o, const char *key) {
        if (!o || o->type != VL_JSON_OBJECT || !key)
                return -EINVAL;
        JsonObject *obj = json_obj(o);
        ssize_t i = json_find_member(o, key, strlen(key));
        if (i < 0)
                return -ENOENT;
        json_unref(&obj->m[i].key->h);
        json_unref(obj->m[i].value);
        memmove(obj->m + i, obj->m + i + 1, (o->n - i - 1) * sizeof(JsonMember));
        o->n--;
        free(obj->index); /* positions moved */
        obj->index = NULL;
        return 0;
}

/* ---- Equality ---- */

static bool json_number_equal(const VlJson *a, const VlJson *b) {
        if (a->type > b->type) {
                const VlJson *t = a;
                a = b;
                b = t;
        }
        /* Now a->type <= b->type, in the order INT < UINT < DOUBLE. */
        int64_t i;
        uint64_t u;
        switch (a->type * 8 + b->type) {
        case VL_JSON_INT * 8 + VL_JSON_INT:
                return a->i == b->i;
        case VL_JSON_INT * 8 + VL_JSON_UINT:
                return a->i >= 0 && (uint64_t)a->i == b->u;
        case VL_JSON_INT * 8 + VL_JSON_DOUBLE:
                return json_double_to_int64(b->d, &i) && i == a->i;
        case VL_JSON_UINT * 8 + VL_JSON_UINT:
                return a->u == b->u;
        case VL_JSON_UINT * 8 + VL_JSON_DOUBLE:
                return json_double_to_uint64(b->d, &u) && u == a->u;
        default:
                return a->d == b->d;
        }
}

_public_ bool vl_json_equal(const VlJson *a, const VlJson *b) {
        if (a == b)
                return true;
        if (vl_json_is_number(a) && vl_json_is_number(b))
                return json_number_equal(a, b);
        VlJsonType t = vl_json_type(a);
        if (t != vl_json_type(b))
                return false;
        switch (t) {
        case VL_JSON_NULL:
                return true;
        case VL_JSON_BOOL:
                return a->b == b->b;
        case VL_JSON_STRING:
                return a->len == b->len && memcmp(json_str(a)->data, json_str(b)->data, a->len) == 0;
        case VL_JSON_ARRAY:
                if (a->n != b->n)
                        return false;
                for (size_t i = 0; i < a->n; i++)
                        if (!vl_json_equal(json_arr(a)->items[i], json_arr(b)->items[i]))
                                return false;
                return true;
        case VL_JSON_OBJECT:
                if (a->n != b->n)
                        return false;
                /* Keys are unique, so "every member of a is in b" settles it. */
                for (size_t i = 0; i < a->n; i++) {
                        const JsonMember *m = &json_obj(a)->m[i];
                        ssize_t j = json_find_member(b, m->key->data, m->key->h.len);
                        if (j < 0 || !vl_json_equal(m->value, json_obj(b)->m[j].value))
                                return false;
                }
                return true;
        default:
                return false;
        }
}
