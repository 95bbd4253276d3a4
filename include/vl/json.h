/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libvl JSON: typed, reference-counted values.
 *
 * Numbers keep their kind: an integer literal that fits int64 is VL_JSON_INT,
 * one that only fits uint64 is VL_JSON_UINT, everything else (fraction,
 * exponent, or too large) is VL_JSON_DOUBLE. Objects keep member order as
 * parsed or as built. Strings are UTF-8, validated on parse, and may hold
 * NUL bytes (use the length accessors for those).
 *
 * Threads: a parsed document shares allocation slabs and object keys among
 * its nodes, so a document and all its subtrees must be used by one thread
 * at a time (different documents are independent).
 *
 * Ownership: constructors return a new reference. Functions that "take"
 * a value consume the caller's reference even when they fail, so builder
 * calls can be chained without leaks. Getters return borrowed pointers that
 * live as long as the containing value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum VlJsonType {
        VL_JSON_NULL,
        VL_JSON_BOOL,
        VL_JSON_INT,    /* fits int64_t */
        VL_JSON_UINT,   /* > INT64_MAX, fits uint64_t */
        VL_JSON_DOUBLE, /* any other number */
        VL_JSON_STRING,
        VL_JSON_ARRAY,
        VL_JSON_OBJECT,
} VlJsonType;

typedef struct VlJson VlJson;

/* Limits applied by the parser. Zero fields take the defaults. */
typedef struct VlJsonLimits {
        unsigned max_depth; /* default 64: nesting of arrays and objects */
        size_t max_size;    /* default 16 MiB: bytes of input */
} VlJsonLimits;

#define VL_JSON_DEFAULT_MAX_DEPTH 64u
#define VL_JSON_DEFAULT_MAX_SIZE  (16u * 1024u * 1024u)

/* Where and why a parse failed. offset is a byte offset into the input;
 * line and column are 1-based (column counts bytes). */
typedef struct VlJsonError {
        size_t offset;
        unsigned line;
        unsigned column;
        char message[96];
} VlJsonError;

/*
 * Parse exactly one JSON value of len bytes (RFC 8259, strict: no comments,
 * no trailing commas, no leading zeros, no lone surrogates, no invalid UTF-8,
 * no control characters in strings, no duplicate object keys, only white
 * space around the value). limits and err may be NULL.
 * Returns 0 and *ret on success; -EINVAL (bad syntax), -E2BIG (over
 * max_size), -ELOOP (deeper than max_depth) or -ENOMEM.
 */
int vl_json_parse(const char *text, size_t len, const VlJsonLimits *limits, VlJson **ret, VlJsonError *err);

/* Reference counting. Both accept NULL. unref returns NULL. */
VlJson *vl_json_ref(VlJson *v);
VlJson *vl_json_unref(VlJson *v);
/* For _cleanup_-style use: void vl_json_unrefp(VlJson **p). */
void vl_json_unrefp(VlJson **p);

/* Constructors: a new reference, or NULL on allocation failure.
 * vl_json_null/true/false return static singletons (ref/unref are no-ops). */
VlJson *vl_json_null(void);
VlJson *vl_json_bool(bool b);
VlJson *vl_json_new_int(int64_t i);
VlJson *vl_json_new_uint(uint64_t u); /* stored as VL_JSON_INT when it fits */
VlJson *vl_json_new_double(double d); /* NaN and infinities are refused: NULL */
VlJson *vl_json_new_string(const char *s);
VlJson *vl_json_new_stringn(const char *s, size_t n);
VlJson *vl_json_new_array(void);
VlJson *vl_json_new_object(void);
/* A deep copy (new mutable tree). */
VlJson *vl_json_copy(const VlJson *v);

/* Type and scalar access. Accessors on the wrong type return 0/false/NULL. */
VlJsonType vl_json_type(const VlJson *v);
const char *vl_json_type_name(VlJsonType t); /* "null", "bool", "int", ... */
bool vl_json_is_null(const VlJson *v);       /* NULL pointer counts as null */
bool vl_json_is_number(const VlJson *v);     /* INT, UINT or DOUBLE */
bool vl_json_get_bool(const VlJson *v);
int64_t vl_json_get_int(const VlJson *v);   /* INT; a UINT or DOUBLE that is integral and fits */
uint64_t vl_json_get_uint(const VlJson *v); /* non-negative INT or UINT */
double vl_json_get_double(const VlJson *v); /* any number */
const char *vl_json_get_string(const VlJson *v);
size_t vl_json_get_string_length(const VlJson *v);

/* Arrays. */
size_t vl_json_array_length(const VlJson *a);
VlJson *vl_json_array_get(const VlJson *a, size_t i); /* borrowed */
/* Appends v, taking the reference. -EINVAL if a is not an array. */
int vl_json_array_append(VlJson *a, VlJson *v);

/* Objects. Member order is kept. */
size_t vl_json_object_length(const VlJson *o);
const char *vl_json_object_key(const VlJson *o, size_t i);
VlJson *vl_json_object_value(const VlJson *o, size_t i);      /* borrowed */
VlJson *vl_json_object_get(const VlJson *o, const char *key); /* borrowed, NULL if absent */
/* Sets key to v, replacing an existing member in place; takes v. */
int vl_json_object_set(VlJson *o, const char *key, VlJson *v);
int vl_json_object_set_string(VlJson *o, const char *key, const char *s);
int vl_json_object_set_int(VlJson *o, const char *key, int64_t i);
int vl_json_object_set_bool(VlJson *o, const char *key, bool b);
int vl_json_object_set_double(VlJson *o, const char *key, double d);
/* Removes key; 0 if removed, -ENOENT if absent. */
int vl_json_object_remove(VlJson *o, const char *key);

#define VL_JSON_FOREACH_ELEMENT(e, a)                                                                       \
        for (size_t _i_##e = 0; _i_##e < vl_json_array_length(a) && ((e) = vl_json_array_get((a), _i_##e)); \
             _i_##e++)
#define VL_JSON_FOREACH_MEMBER(k, v, o)                                                      \
        for (size_t _i_##v = 0;                                                              \
             _i_##v < vl_json_object_length(o) && ((k) = vl_json_object_key((o), _i_##v)) && \
             ((v) = vl_json_object_value((o), _i_##v));                                      \
             _i_##v++)

/* Structural equality. Numbers compare by value across kinds (1 == 1.0);
 * object member order does not matter. */
bool vl_json_equal(const VlJson *a, const VlJson *b);

/* ---- Serialization ---- */

typedef enum VlJsonFormatFlags {
        VL_JSON_FORMAT_COMPACT = 0,
        VL_JSON_FORMAT_PRETTY = 1 << 0, /* newlines and 2-space indent */
        VL_JSON_FORMAT_COLOR = 1 << 1,  /* ANSI colours for terminals: keys bold blue, strings green,
                                           numbers cyan, true/false/null magenta */
        VL_JSON_FORMAT_ASCII = 1 << 2,  /* escape every non-ASCII character as \uXXXX */
        VL_JSON_FORMAT_NEWLINE = 1 << 3 /* a final newline */
} VlJsonFormatFlags;

/* A growable byte buffer, the common currency of writers. */
typedef struct VlBuf {
        char *data;
        size_t len;
        size_t cap;
} VlBuf;

#define VL_BUF_INIT \
        { NULL, 0, 0 }

int vl_buf_reserve(VlBuf *b, size_t extra);
int vl_buf_append(VlBuf *b, const void *p, size_t n);
int vl_buf_append_str(VlBuf *b, const char *s);
int vl_buf_append_char(VlBuf *b, char c);
void vl_buf_clear(VlBuf *b); /* len = 0, keeps memory */
void vl_buf_free(VlBuf *b);  /* frees memory, back to VL_BUF_INIT */

/* Appends the serialization of v to b. Doubles use the shortest text that
 * parses back to the same value; integers are exact. Returns 0 or -ENOMEM. */
int vl_json_write(VlBuf *b, const VlJson *v, unsigned flags);
/* A malloc'ed NUL-terminated serialization, or NULL on allocation failure. */
char *vl_json_to_string(const VlJson *v, unsigned flags);
/* Appends a JSON string literal for s (n bytes) with correct escaping. */
int vl_json_write_string(VlBuf *b, const char *s, size_t n, unsigned flags);

/* ---- Dispatch tables ----
 *
 * Fill a C struct from a JSON object without walking it by hand:
 *
 *   struct args { const char *name; int64_t limit; bool all; };
 *   static const VlJsonField fields[] = {
 *           {"name", VL_JSON_STRING, vl_json_dispatch_string, offsetof(struct args, name),
 * VL_JSON_MANDATORY},
 *           {"limit", VL_JSON_INT, vl_json_dispatch_int64, offsetof(struct args, limit), 0},
 *           {"all", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(struct args, all), 0},
 *           {},
 *   };
 *   r = vl_json_dispatch(params, fields, &args, &bad_field);
 *
 * Borrowed results (strings, VlJson pointers) live as long as the object.
 * A null member counts as absent. Unknown members fail unless
 * VL_JSON_ALLOW_EXTRA is passed to vl_json_dispatch.
 */
typedef int (*VlJsonDispatchFn)(const char *name, const VlJson *v, void *field);

typedef struct VlJsonField {
        const char *name;
        int type; /* a VlJsonType, or -1 for any; VL_JSON_INT also accepts integral numbers */
        VlJsonDispatchFn fn;
        size_t offset;
        unsigned flags;
} VlJsonField;

enum {
        VL_JSON_MANDATORY = 1 << 0,   /* field flag: absent or null fails */
        VL_JSON_ALLOW_EXTRA = 1 << 1, /* dispatch flag: ignore members not in the table */
};

/* Returns 0, or -EINVAL with *ret_bad_field (may be NULL) naming the member
 * that was missing, unknown or of the wrong type. */
int vl_json_dispatch(const VlJson *obj, const VlJsonField table[], void *base, unsigned flags,
                     const char **ret_bad_field);

int vl_json_dispatch_string(const char *name, const VlJson *v, void *field); /* const char ** */
int vl_json_dispatch_int64(const char *name, const VlJson *v, void *field);  /* int64_t * */
int vl_json_dispatch_uint64(const char *name, const VlJson *v, void *field); /* uint64_t * */
int vl_json_dispatch_int(const char *name, const VlJson *v, void *field);    /* int *, range-checked */
int vl_json_dispatch_bool(const char *name, const VlJson *v, void *field);   /* bool * */
int vl_json_dispatch_double(const char *name, const VlJson *v, void *field); /* double * */
int vl_json_dispatch_json(const char *name, const VlJson *v, void *field);   /* const VlJson ** */

#ifdef __cplusplus
}
#endif
