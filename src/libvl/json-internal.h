/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The layout of JSON values, shared by json.c, json-parse.c, json-write.c
 * and json-dispatch.c (not installed).
 *
 * Every value starts with a VlJson header. Scalars live in the header;
 * a string's bytes follow its header in the same allocation; arrays and
 * objects built by the parser or by vl_json_copy() hold their element or
 * member storage in the same allocation as well (JSON_INLINE). The first
 * mutation that needs more room moves the storage to a separate allocation.
 *
 * Object keys are string nodes, referenced by each member that uses them.
 * The parser interns them: all the "id" keys of a document are one node,
 * which saves memory and makes the duplicate-key check a pointer compare.
 * An object built with vl_json_new_object() keeps its first few keys in
 * its own allocation (JSON_EMBEDDED): a small reply costs fewer mallocs.
 *
 * The parser does not malloc each node: it carves them out of slabs
 * (JSON_SLAB). A node still has its own reference count and is released
 * like any other; its slab counts live nodes and goes back to malloc when
 * the last one dies. So a parse costs a handful of mallocs however big
 * the document, and a subtree kept after its document is dropped keeps
 * (only) its slabs alive. Big inputs get 2 MiB slabs mapped as huge pages
 * (JSON_HUGE; found by aligning the node's address down), because page
 * faults otherwise cost as much as parsing.
 *
 * Small non-negative integers, null, true and false are static nodes
 * (JSON_STATIC) that reference counting leaves alone.
 *
 * Threads: reference counts are plain counters, and the nodes of one parsed
 * document share slab counters and interned keys, so a document, all of
 * its subtrees included, belongs to one thread at a time. (Static nodes
 * are never written and may be used anywhere.)
 *
 * Freeing is iterative; the writer, vl_json_equal() and vl_json_copy()
 * recurse once per nesting level, which the parser's depth limit bounds.
 */

#include <vl/json.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util.h"

enum {
        JSON_STATIC = 1 << 0,   /* a singleton: ref/unref do nothing */
        JSON_INLINE = 1 << 1,   /* items/members live in the node's own allocation */
        JSON_SLAB = 1 << 2,     /* the node lives in a JsonSlab, slab_off * 8 bytes after its start */
        JSON_HUGE = 1 << 5,     /* the node lives in a JSON_HUGE_SLAB-aligned JsonSlab */
        JSON_EMBEDDED = 1 << 6, /* a key node inside its object's allocation (also JSON_STATIC) */
        /* Strings: */
        JSON_SAFE = 1 << 3,  /* valid UTF-8 without '"', '\\' or control characters: written as is */
        JSON_ASCII = 1 << 4, /* every byte < 0x80 */
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
        JsonString *key; /* a reference */
        VlJson *value;   /* a reference */
} JsonMember;

typedef struct JsonIndex {
        size_t mask;
        uint32_t slot[]; /* member + 1, 0 = empty */
} JsonIndex;

typedef struct JsonObject {
        VlJson h;
        size_t cap;
        JsonMember *m;
        JsonIndex *index; /* lazily built for lookups in big objects */
        /* Objects from vl_json_new_object(): spare room in the allocation,
         * [key_room, key_room_end) bytes from its start, for key nodes. */
        uint32_t key_room, key_room_end;
} JsonObject;

typedef struct JsonSlab {
        size_t live;   /* nodes carved from it and not yet released (+1 while the parser fills it) */
        size_t mapped; /* from mmap (size JSON_HUGE_SLAB), not malloc */
} JsonSlab;

/* Biggest malloc'ed slab: slab_off (16 bits, 8-byte units) must reach every node. */
#define JSON_SLAB_MAX (256u * 1024u)
/* Size and alignment of mapped slabs: a huge page. */
#define JSON_HUGE_SLAB (2u * 1024u * 1024u)

/* The singletons behind vl_json_null(), vl_json_bool() and small integers. */
extern VlJson json_null_value, json_true_value, json_false_value;
#define JSON_SMALL_INTS 256
extern VlJson json_small_ints[JSON_SMALL_INTS];

/* Objects with more members than this get a hash index for lookups. */
#define JSON_LINEAR_MAX 16

static inline JsonString *json_str(const VlJson *v) {
        return (JsonString *)v;
}
static inline JsonArray *json_arr(const VlJson *v) {
        return (JsonArray *)v;
}
static inline JsonObject *json_obj(const VlJson *v) {
        return (JsonObject *)v;
}

void json_free(VlJson *v);

static inline void json_unref(VlJson *v) {
        if (v && !(v->flags & JSON_STATIC) && --v->n_ref == 0)
                json_free(v);
}

void json_slab_free(JsonSlab *s);

static inline void json_slab_release(JsonSlab *s) {
        if (--s->live == 0)
                json_slab_free(s);
}

/* The n < 8 bytes at s, first byte lowest, without reading past them. */
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

/* memcmp(a, b, n) == 0, without a call for short keys. */
static inline bool json_mem_equal(const char *a, const char *b, size_t n) {
        uint64_t x, y, x2, y2;
        if (n < 8)
                return json_load_short(a, n) == json_load_short(b, n);
        if (n <= 16) {
                memcpy(&x, a, 8);
                memcpy(&y, b, 8);
                memcpy(&x2, a + n - 8, 8);
                memcpy(&y2, b + n - 8, 8);
                return ((x ^ y) | (x2 ^ y2)) == 0;
        }
        return memcmp(a, b, n) == 0;
}

/* Copies n bytes, without a call for short strings. */
static inline void json_copy(char *d, const char *s, size_t n) {
        uint64_t x, y;
        if (n >= 8 && n <= 16) {
                memcpy(&x, s, 8);
                memcpy(&y, s + n - 8, 8);
                memcpy(d, &x, 8);
                memcpy(d + n - 8, &y, 8);
        } else if (n < 8) {
                if (n >= 4) {
                        uint32_t a, b;
                        memcpy(&a, s, 4);
                        memcpy(&b, s + n - 4, 4);
                        memcpy(d, &a, 4);
                        memcpy(d + n - 4, &b, 4);
                } else if (n > 0) {
                        d[0] = s[0];
                        d[n / 2] = s[n / 2];
                        d[n - 1] = s[n - 1];
                }
        } else
                memcpy(d, s, n);
}

/* A seeded hash for keys. The seed comes from the address-space layout, so
 * a peer cannot precompute colliding keys for every process. */
extern const char json_hash_anchor;
static inline uint64_t json_hash(const char *s, size_t n) {
        uint64_t h =
                ((uint64_t)(uintptr_t)&json_hash_anchor * 0x9E3779B97F4A7C15u) ^ (n * 0xC2B2AE3D27D4EB4Fu);
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
                memcpy(&w, last, 8); /* may overlap the previous word: fine for a hash */
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

/* JSON_SAFE | JSON_ASCII if the n bytes at s are printable ASCII without '"' or '\\', else 0. */
static inline uint8_t json_plain_flags(const char *s, size_t n) {
        return json_skip_plain(s, s + n) == s + n ? JSON_SAFE | JSON_ASCII : 0;
}

/* Index of the member named key (klen bytes), or -1. */
ssize_t json_find_member(const VlJson *o, const char *key, size_t klen);
/* Whether double d is integral and in the int64 / uint64 range. */
bool json_double_to_int64(double d, int64_t *ret);
bool json_double_to_uint64(double d, uint64_t *ret);
/* A new string node holding a copy of s (n bytes); no validation. */
VlJson *json_new_string(const char *s, size_t n);
