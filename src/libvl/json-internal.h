/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The layout of JSON values, shared by json.c, json-parse.c, json-write.c
 * and json-dispatch.c (not installed).
 *
 * Every value starts with a VlJson header. Scalars live in the header;
 * a string's bytes follow its header in the same allocation; arrays and
 * objects built by the parser or by vl_json_copy() hold their element (and
 * key) storage in the same allocation as well (JSON_INLINE). The first
 * mutation that needs more room moves the storage to a separate allocation.
 *
 * The parser does not malloc each node: it carves them out of slabs
 * (JSON_SLAB). A node still has its own reference count and is released
 * like any other; its slab counts live nodes and goes back to malloc when
 * the last one dies. So a parse costs a handful of mallocs however big
 * the document, and a subtree kept after its document is dropped keeps
 * (only) its slabs alive.
 */

#include <vl/json.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util.h"

enum {
        JSON_STATIC = 1 << 0, /* a singleton: ref/unref do nothing */
        JSON_INLINE = 1 << 1, /* items/members live in the node's own allocation */
        JSON_SLAB = 1 << 2,   /* the node lives in a JsonSlab, slab_off * 8 bytes after its start */
        /* Strings and keys (JsonMember.kflags): */
        JSON_SAFE = 1 << 3,  /* valid UTF-8 without '"', '\\' or control characters: written as is */
        JSON_ASCII = 1 << 4, /* every byte < 0x80 */
        JSON_KEY_OWNED = 1 << 5, /* JsonMember: the key is a separate allocation */
};

struct VlJson {
        uint32_t n_ref; /* plain counter: values are not shared between threads */
        uint8_t type;   /* VlJsonType */
        uint8_t flags;
        uint16_t slab_off;
        union {
                bool b;
                int64_t i;
                uint64_t u;
                double d;
                size_t len; /* STRING: bytes, not counting the trailing NUL */
                size_t n;   /* ARRAY, OBJECT: elements or members */
        };
};

typedef struct JsonString {
        VlJson h;
        char data[]; /* h.len bytes and a NUL */
} JsonString;

typedef struct JsonArray {
        VlJson h;
        size_t cap;
        VlJson **items;
} JsonArray;

typedef struct JsonMember {
        const char *key; /* NUL-terminated; may hold NULs itself (klen counts) */
        VlJson *value;
        uint32_t klen;
        uint32_t kflags; /* JSON_SAFE, JSON_ASCII, JSON_KEY_OWNED */
} JsonMember;

typedef struct JsonObject {
        VlJson h;
        size_t cap;
        JsonMember *m;
        uint32_t *index; /* lazily built hash index for big objects: member + 1, 0 = empty */
        size_t index_mask;
} JsonObject;

/* The singletons behind vl_json_null() and vl_json_bool(). */
extern VlJson json_null_value, json_true_value, json_false_value;

typedef struct JsonSlab {
        size_t live; /* nodes carved from it and not yet released (+1 while the parser fills it) */
        size_t size;
} JsonSlab;

/* Biggest slab: slab_off (16 bits, 8-byte units) must reach every node. */
#define JSON_SLAB_MAX (256u * 1024u)

static inline void json_slab_release(JsonSlab *s) {
        if (--s->live == 0)
                free(s);
}

/* Objects with more members than this get hashed (duplicate check when
 * parsing, lookups when reading); below it a linear scan is faster. */
#define JSON_LINEAR_MAX 16

/* Longest key the library stores (klen is 32 bits). */
#define JSON_KEY_MAX ((size_t)UINT32_MAX - 1)

static inline JsonString *json_str(const VlJson *v) {
        return (JsonString *)v;
}
static inline JsonArray *json_arr(const VlJson *v) {
        return (JsonArray *)v;
}
static inline JsonObject *json_obj(const VlJson *v) {
        return (JsonObject *)v;
}

/* A seeded hash for keys. The seed comes from the address-space layout, so
 * a peer cannot precompute colliding keys for every process. */
extern const char json_hash_anchor;

/* The n < 8 bytes at s, little end first, without reading past them. */
static inline uint64_t json_load_short(const char *s, size_t n) {
        uint64_t w = 0;
        unsigned shift = 0;
        if (n & 4) {
                uint32_t x;
                memcpy(&x, s, 4);
                w = x;
                s += 4;
                shift = 32;
        }
        if (n & 2) {
                uint16_t x;
                memcpy(&x, s, 2);
                w |= (uint64_t)x << shift;
                s += 2;
                shift += 16;
        }
        if (n & 1)
                w |= (uint64_t)(uint8_t)*s << shift;
        return w;
}

static inline uint64_t json_hash(const char *s, size_t n) {
        uint64_t h = ((uint64_t)(uintptr_t)&json_hash_anchor * 0x9E3779B97F4A7C15u) ^ (n * 0xC2B2AE3D27D4EB4Fu);
        uint64_t w;
        if (n < 8)
                w = json_load_short(s, n);
        else {
                const char *last = s + n - 8;
                while (s < last) {
                        memcpy(&w, s, 8);
                        h = (h ^ w) * 0xBF58476D1CE4E5B9u;
                        h ^= h >> 31;
                        s += 8;
                }
                memcpy(&w, last, 8); /* overlaps the previous word: fine for a hash */
        }
        h = (h ^ w) * 0x94D049BB133111EBu;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9u;
        h ^= h >> 32;
        return h;
}

/*
 * Length of the valid UTF-8 sequence at p (whose first byte is >= 0x80),
 * or 0 if it is not one: overlong forms, UTF-16 surrogates, code points
 * above U+10FFFF and truncated sequences are all refused.
 */
static inline size_t json_utf8_seq(const uint8_t *p, const uint8_t *end) {
        uint8_t c = p[0], lo = 0x80, hi = 0xBF;
        if (c < 0xC2)
                return 0;
        if (c < 0xE0)
                return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c < 0xF0) {
                if (end - p < 3)
                        return 0;
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
                return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
        }
        if (c < 0xF5) {
                if (end - p < 4)
                        return 0;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
                return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
        }
        return 0;
}

/* Bytes that may appear in a string as themselves without a closer look. */
static const uint8_t json_plain_char[256] = {
        [0x20 ... 0x21] = 1,
        [0x23 ... 0x5B] = 1,
        [0x5D ... 0x7F] = 1,
};

/* The first byte at or after p that is a quote, a backslash, a control
 * character or non-ASCII (or end). */
static inline const char *json_skip_plain(const char *p, const char *end) {
#ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(' ');
        while (end - p >= 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)p);
                /* Signed compare: bytes >= 0x80 are negative, so "< ' '" catches them too. */
                __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                         _mm_cmplt_epi8(x, space));
                unsigned mask = (unsigned)_mm_movemask_epi8(m);
                if (mask)
                        return p + __builtin_ctz(mask);
                p += 16;
        }
#else
        while (end - p >= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
                uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
                uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w;
                if (t & high)
                        break;
                p += 8;
        }
#endif
        while (p < end && json_plain_char[(uint8_t)*p])
                p++;
        return p;
}

/* Index of the member named key (klen bytes), or -1. */
ssize_t json_object_find(const VlJson *o, const char *key, size_t klen);
/* Whether double d is integral and in the int64 / uint64 range. */
bool json_double_to_int64(double d, int64_t *ret);
bool json_double_to_uint64(double d, uint64_t *ret);
/* A new string node holding a copy of s (n bytes); no validation. */
VlJson *json_new_string(const char *s, size_t n);
/* JSON_SAFE | JSON_ASCII if the n bytes at s are printable ASCII without '"' or '\\', else 0. */
static inline uint8_t json_plain_flags(const char *s, size_t n) {
        return json_skip_plain(s, s + n) == s + n ? JSON_SAFE | JSON_ASCII : 0;
}
