/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The layout of JSON values, shared by json.c, json-parse.c, json-write.c
 * and json-dispatch.c (not installed).
 *
 * Every value starts with a VlJson header. Scalars live in the header;
 * a string's bytes follow its header in the same allocation; arrays and
 * objects built by the parser hold their element (and key) storage in the
 * same allocation as well (JSON_INLINE), so a parsed object costs one
 * malloc however many members it has. The first mutation that needs more
 * room moves the storage to a separate allocation.
 */

#include <vl/json.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util.h"

enum {
        JSON_STATIC = 1 << 0, /* a singleton: ref/unref do nothing */
        JSON_INLINE = 1 << 1, /* items/members live in the node's own allocation */
};

struct VlJson {
        uint32_t n_ref; /* plain counter: values are not shared between threads */
        uint8_t type;   /* VlJsonType */
        uint8_t flags;
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
        uint32_t owned; /* key is a separate allocation */
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
static inline uint64_t json_hash(const char *s, size_t n) {
        uint64_t h = ((uint64_t)(uintptr_t)&json_hash_anchor * 0x9E3779B97F4A7C15u) ^ (n * 0xC2B2AE3D27D4EB4Fu);
        while (n >= 8) {
                uint64_t w;
                memcpy(&w, s, 8);
                h = (h ^ w) * 0xBF58476D1CE4E5B9u;
                h ^= h >> 31;
                s += 8;
                n -= 8;
        }
        uint64_t w = 0;
        memcpy(&w, s, n);
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
