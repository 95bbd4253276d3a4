/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON parser: strict RFC 8259, iterative (the C stack does not grow
 * with nesting), nodes carved from slabs (see json-internal.h).
 *
 * Scratch state lives on explicit stacks: values waiting for their
 * container to close, the keys of open objects, one frame per open
 * container, an arena for decoding escaped strings, and the table of
 * interned keys. All start in small on-stack buffers, so parsing a short
 * message costs one malloc (its slab).
 */

#include <float.h>
#include <locale.h>
#include <sys/mman.h>

#include "json-internal.h"

typedef struct Frame {
        size_t vstart;    /* first value of this container on the value stack */
        size_t kstart;    /* objects: first key on the key stack */
        uint64_t bloom;   /* objects: one bit per key seen, a hash of its node's address */
        JsonString **set; /* objects past DUP_LINEAR_MAX members: hash set of their keys */
        size_t set_mask;
        bool object;
} Frame;

typedef struct InternSlot {
        JsonString *key; /* borrowed: the members that use it hold the references */
        uint64_t head;   /* the key's first 8 bytes (zero-padded) */
        uint64_t tail;   /* its last 8 bytes (0 if shorter) */
        uint64_t hash;   /* low 32 bits: the key's length */
} InternSlot;

typedef struct Parser {
        const char *start, *end;
        unsigned max_depth;
        const char *err_pos;
        const char *err_msg;

        VlJson **vals;
        size_t n_vals, cap_vals;
        JsonString **keys;
        size_t n_keys, cap_keys;
        char *arena;
        size_t n_arena, cap_arena;
        Frame *frames;
        size_t n_frames, cap_frames;
        InternSlot *intern;
        size_t n_intern, intern_mask;
        /* which of them moved to the heap */
        bool vals_heap, keys_heap, arena_heap, frames_heap, intern_heap;

        /* Nodes are carved from here. */
        JsonSlab *slab;
        char *slab_ptr;
        size_t slab_left;
        size_t next_slab;  /* size of the next slab */
        uint8_t slab_flag; /* JSON_SLAB or JSON_HUGE */
} Parser;

/* Inputs at least this big get huge-page slabs. */
#define HUGE_INPUT (4u * 1024u * 1024u)

/* Nodes bigger than this get their own malloc. */
#define SLAB_NODE_MAX (16u * 1024u)

/* Up to this many members, duplicate keys are found by a Bloom filter and
 * a scan on its hits; past it, by a hash set. */
#define DUP_LINEAR_MAX 32

/* A JSON_HUGE_SLAB-sized, -aligned slab backed by huge pages where the
 * kernel offers them, or NULL. */
static JsonSlab *map_huge_slab(void) {
        size_t sz = JSON_HUGE_SLAB;
        char *p = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        char *a = (char *)(((uintptr_t)p + sz - 1) & ~(uintptr_t)(sz - 1));
        if (a > p)
                munmap(p, a - p);
        if (a + sz < p + 2 * sz)
                munmap(a + sz, p + 2 * sz - (a + sz));
#ifdef MADV_HUGEPAGE
        (void)madvise(a, sz, MADV_HUGEPAGE);
#endif
        JsonSlab *slab = (JsonSlab *)a;
        slab->mapped = 1;
        return slab;
}

static VlJson *new_node_slow(Parser *ps, size_t size) {
        VlJson *v;
        JsonSlab *slab = NULL;
        size_t slab_size = ps->slab_flag == JSON_HUGE ? JSON_HUGE_SLAB : ps->next_slab;

        if (size > SLAB_NODE_MAX || size > slab_size - sizeof(JsonSlab)) {
                v = malloc(size);
                if (v)
                        v->flags = 0;
                return v;
        }
        if (ps->slab_flag == JSON_HUGE && !(slab = map_huge_slab()))
                ps->slab_flag = JSON_SLAB; /* no mappings: carry on with malloc */
        if (!slab) {
                slab_size = ps->next_slab;
                if (!(slab = malloc(slab_size)))
                        return NULL;
                slab->mapped = 0;
                if (ps->next_slab < JSON_SLAB_MAX)
                        ps->next_slab = MIN(ps->next_slab * 2, JSON_SLAB_MAX);
        }
        slab->live = 1; /* the parser's hold, dropped when it moves on */
        if (ps->slab)
                json_slab_release(ps->slab);
        ps->slab = slab;
        ps->slab_ptr = (char *)(slab + 1);
        ps->slab_left = slab_size - sizeof(JsonSlab);
        v = (VlJson *)ps->slab_ptr;
        ps->slab_ptr += size;
        ps->slab_left -= size;
        slab->live++;
        v->flags = slab->mapped ? JSON_HUGE : JSON_SLAB;
        v->slab_off = (uint16_t)(((char *)v - (char *)slab) >> 3);
        return v;
}

/* A node of size bytes with n_ref 1; the caller sets type and contents
 * and may add to (not replace) flags. */
static inline VlJson *new_node(Parser *ps, size_t size) {
        VlJson *v;
        size = (size + 7) & ~(size_t)7;
        if (_likely_(size <= ps->slab_left)) {
                v = (VlJson *)ps->slab_ptr;
                ps->slab_ptr += size;
                ps->slab_left -= size;
                ps->slab->live++;
                v->flags = ps->slab_flag;
                v->slab_off = (uint16_t)(((char *)v - (char *)ps->slab) >> 3);
        } else if (!(v = new_node_slow(ps, size)))
                return NULL;
        v->n_ref = 1;
        return v;
}

static int fail(Parser *ps, const char *pos, int err, const char *msg) {
        ps->err_pos = pos;
        ps->err_msg = msg;
        return err;
}

static int stack_grow(void **p, size_t *cap, size_t need, size_t sz, bool *heap) {
        size_t c = *cap;
        while (c < need) {
                if (c > SIZE_MAX / 2 / sz)
                        return -ENOMEM;
                c *= 2;
        }
        void *q;
        if (*heap)
                q = realloc(*p, c * sz);
        else {
                q = malloc(c * sz);
                if (q)
                        memcpy(q, *p, *cap * sz);
        }
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = c;
        *heap = true;
        return 0;
}

/* Room for n more arena bytes and a NUL. */
static inline int arena_reserve(Parser *ps, size_t n) {
        if (_likely_(ps->cap_arena - ps->n_arena > n))
                return 0;
        if (n > SIZE_MAX / 4 - ps->n_arena)
                return -ENOMEM;
        return stack_grow((void **)&ps->arena, &ps->cap_arena, ps->n_arena + n + 1, 1, &ps->arena_heap);
}

static inline const char *skip_ws(const char *p, const char *end) {
        if (_likely_(p < end && (uint8_t)*p > ' '))
                return p;
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
                p++;
        return p;
}

/* Hex digit values plus one; 0 for anything else. */
static const uint8_t hex_value1[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
        ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
        ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The four hex digits at p, or -1. */
static inline int32_t hex4(const char *p) {
        int32_t a = hex_value1[(uint8_t)p[0]] - 1, b = hex_value1[(uint8_t)p[1]] - 1,
                c = hex_value1[(uint8_t)p[2]] - 1, d = hex_value1[(uint8_t)p[3]] - 1;
        if ((a | b | c | d) < 0)
                return -1;
        return a << 12 | b << 8 | c << 4 | d;
}

static inline size_t utf8_put(char *o, uint32_t cp) {
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | cp >> 12);
                o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Decodes the escape at *pp (a backslash) to *o; returns the bytes written or a negative errno. */
static int decode_escape(Parser *ps, const char **pp, char *o) {
        const char *q = *pp, *end = ps->end;
        if (end - q < 2)
                return fail(ps, q, -EINVAL, "unterminated string");
        char c;
        switch (q[1]) {
        case '"':
        case '\\':
        case '/':
                c = q[1];
                break;
        case 'b':
                c = '\b';
                break;
        case 'f':
                c = '\f';
                break;
        case 'n':
                c = '\n';
                break;
        case 'r':
                c = '\r';
                break;
        case 't':
                c = '\t';
                break;
        case 'u': {
                if (end - q < 6)
                        return fail(ps, q, -EINVAL,
                                    end - q < 3 ? "unterminated string" : "invalid \\u escape");
                int32_t cp = hex4(q + 2);
                if (cp < 0)
                        return fail(ps, q, -EINVAL, "invalid \\u escape");
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                        return fail(ps, q, -EINVAL, "unpaired low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (end - q < 12 || q[6] != '\\' || q[7] != 'u')
                                return fail(ps, q, -EINVAL, "unpaired high surrogate");
                        int32_t lo = hex4(q + 8);
                        if (lo < 0)
                                return fail(ps, q + 6, -EINVAL, "invalid \\u escape");
                        if (lo < 0xDC00 || lo > 0xDFFF)
                                return fail(ps, q, -EINVAL, "unpaired high surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        *pp = q + 12;
                } else
                        *pp = q + 6;
                return (int)utf8_put(o, (uint32_t)cp);
        }
        default:
                return fail(ps, q, -EINVAL, "invalid escape in string");
        }
        *o = c;
        *pp = q + 2;
        return 1;
}

/* What scan_string() found. */
enum {
        SCAN_DECODED = 1 << 0,  /* escapes: the decoded bytes are at the top of the arena */
        SCAN_NONASCII = 1 << 1, /* bytes >= 0x80 */
        SCAN_UNSAFE = 1 << 2,   /* '"', '\\' or control characters (from escapes) */
};

/* JSON_SAFE and JSON_ASCII for what scan_string() returned. */
static inline uint8_t scan_flags(int r) {
        return (uint8_t)((r & SCAN_UNSAFE ? 0 : JSON_SAFE) | (r & SCAN_NONASCII ? 0 : JSON_ASCII));
}

/*
 * Scans the string whose opening quote is at *pp. Returns SCAN_* flags:
 * without SCAN_DECODED *ret points into the input (there were no escapes),
 * with it *ret points to the decoded bytes at the top of the arena (not
 * reserved). Either way *ret_len bytes, and *pp moves past the closing quote.
 */
static int scan_string_slow(Parser *ps, const char **pp, const char *q, const char **ret, size_t *ret_len) {
        const char *s = *pp + 1, *end = ps->end;
        int r, flags = 0;

        for (;;) {
                q = json_skip_plain(q, end);
                if (_unlikely_(q == end))
                        return fail(ps, *pp, -EINVAL, "unterminated string");
                uint8_t c = (uint8_t)*q;
                if (_likely_(c == '"')) {
                        *ret = s;
                        *ret_len = q - s;
                        *pp = q + 1;
                        return flags;
                }
                if (c == '\\')
                        break;
                if (c < 0x20)
                        return fail(ps, q, -EINVAL, "control character in string");
                flags |= SCAN_NONASCII;
                do { /* a run of non-ASCII text */
                        size_t k = json_utf8_seq((const uint8_t *)q, (const uint8_t *)end);
                        if (!k)
                                return fail(ps, q, -EINVAL, "invalid UTF-8 in string");
                        q += k;
                } while (q < end && (uint8_t)*q >= 0x80);
        }
        flags |= SCAN_DECODED;

        /* There are escapes: decode into the arena. */
        size_t w = q - s;
        if ((r = arena_reserve(ps, w + 16)) < 0)
                return r;
        memcpy(ps->arena + ps->n_arena, s, w);
        for (;;) {
                if (_unlikely_(q == end))
                        return fail(ps, *pp, -EINVAL, "unterminated string");
                uint8_t c = (uint8_t)*q;
                if (c == '"')
                        break;
                if (c == '\\') {
                        if ((r = arena_reserve(ps, w + 4)) < 0)
                                return r;
                        char *o = ps->arena + ps->n_arena + w;
                        if ((r = decode_escape(ps, &q, o)) < 0)
                                return r;
                        if (r > 1)
                                flags |= SCAN_NONASCII;
                        else if (*o == '"' || *o == '\\' || (uint8_t)*o < 0x20)
                                flags |= SCAN_UNSAFE;
                        w += r;
                        continue;
                }
                if (c < 0x20)
                        return fail(ps, q, -EINVAL, "control character in string");
                const char *t;
                if (c >= 0x80) {
                        size_t k = json_utf8_seq((const uint8_t *)q, (const uint8_t *)end);
                        if (!k)
                                return fail(ps, q, -EINVAL, "invalid UTF-8 in string");
                        flags |= SCAN_NONASCII;
                        t = q + k;
                } else
                        t = json_skip_plain(q, end);
                if ((r = arena_reserve(ps, w + (t - q))) < 0)
                        return r;
                memcpy(ps->arena + ps->n_arena + w, q, t - q);
                w += t - q;
                q = t;
        }
        *ret = ps->arena + ps->n_arena;
        *ret_len = w;
        *pp = q + 1;
        return flags;
}

static inline int scan_string(Parser *ps, const char **pp, const char **ret, size_t *ret_len) {
        const char *s = *pp + 1, *q = json_skip_plain(s, ps->end);
        if (_likely_(q < ps->end && *q == '"')) {
                *ret = s;
                *ret_len = q - s;
                *pp = q + 1;
                return 0;
        }
        return scan_string_slow(ps, pp, q, ret, ret_len);
}

static int parse_string_value(Parser *ps, const char **pp, VlJson **ret) {
        const char *s;
        size_t n;
        int r = scan_string(ps, pp, &s, &n);
        if (r < 0)
                return r;
        if (n > SIZE_MAX / 2)
                return -ENOMEM;
        JsonString *v = (JsonString *)new_node(ps, sizeof(JsonString) + n + 1);
        if (!v)
                return -ENOMEM;
        v->h.type = VL_JSON_STRING;
        v->h.flags |= scan_flags(r);
        v->h.len = n;
        json_copy(v->data, s, n);
        v->data[n] = 0;
        *ret = &v->h;
        return 0;
}

static int intern_grow(Parser *ps) {
        size_t cap = (ps->intern_mask + 1) * 2;
        if (cap > SIZE_MAX / 2 / sizeof(InternSlot))
                return -ENOMEM;
        InternSlot *t = calloc(cap, sizeof(InternSlot));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i <= ps->intern_mask; i++) {
                InternSlot *e = &ps->intern[i];
                if (!e->key)
                        continue;
                size_t j = (e->hash >> 32) & (cap - 1);
                while (t[j].key)
                        j = (j + 1) & (cap - 1);
                t[j] = *e;
        }
        if (ps->intern_heap)
                free(ps->intern);
        ps->intern = t;
        ps->intern_mask = cap - 1;
        ps->intern_heap = true;
        return 0;
}

/*
 * The key node for the n bytes at s, found in or added to the intern table
 * (with n_ref 0 when new: the caller takes the first reference). Keys of
 * up to 16 bytes are compared in the table itself, by their first and last
 * 8 bytes and length; limit bounds what may be read after s.
 */
static JsonString *intern_key(Parser *ps, const char *s, size_t n, const char *limit, uint8_t flags) {
        uint64_t head, tail = 0, h;
        if (n >= 8) {
                memcpy(&head, s, 8);
                memcpy(&tail, s + n - 8, 8);
        } else if (limit - s >= 8) {
                memcpy(&head, s, 8);
                head &= (UINT64_C(1) << (n * 8)) - 1;
        } else
                head = json_load_short(s, n);
        if (n <= 16) {
                h = ((head ^ (uint64_t)(uintptr_t)&json_hash_anchor) * 0x9E3779B97F4A7C15u) ^
                    ((tail + n) * 0xC2B2AE3D27D4EB4Fu);
                h ^= h >> 29;
        } else
                h = json_hash(s, n);
        h = (h << 32) | n; /* the length rides in the low half */

        size_t i = (h >> 32) & ps->intern_mask;
        for (;;) {
                InternSlot *e = &ps->intern[i];
                if (!e->key)
                        break;
                if (e->hash == h && e->head == head && e->tail == tail &&
                    (n <= 16 || memcmp(e->key->data, s, n) == 0))
                        return e->key;
                i = (i + 1) & ps->intern_mask;
        }
        if ((ps->n_intern + 1) * 2 > ps->intern_mask + 1) {
                if (intern_grow(ps) < 0)
                        return NULL;
                i = (h >> 32) & ps->intern_mask;
                while (ps->intern[i].key)
                        i = (i + 1) & ps->intern_mask;
        }
        JsonString *k = (JsonString *)new_node(ps, sizeof(JsonString) + n + 1);
        if (!k)
                return NULL;
        k->h.n_ref = 0;
        k->h.type = VL_JSON_STRING;
        k->h.flags |= flags;
        k->h.len = n;
        json_copy(k->data, s, n);
        k->data[n] = 0;
        ps->intern[i] = (InternSlot){.key = k, .head = head, .tail = tail, .hash = h};
        ps->n_intern++;
        return k;
}

static inline size_t ptr_hash(const void *p) {
        return (size_t)(((uint64_t)(uintptr_t)p >> 3) * 0x9E3779B97F4A7C15u >> 32);
}

static int set_insert(Frame *f, JsonString *k, bool *dup) {
        size_t i = ptr_hash(k) & f->set_mask;
        while (f->set[i]) {
                if (f->set[i] == k) {
                        *dup = true;
                        return 0;
                }
                i = (i + 1) & f->set_mask;
        }
        f->set[i] = k;
        *dup = false;
        return 0;
}

/* The duplicate check for big objects: a hash set of the frame's key nodes. */
static int frame_set_add(Parser *ps, Frame *f, JsonString *k, bool *dup) {
        size_t n = ps->n_keys - f->kstart + 1; /* members including this one */
        if (!f->set || n * 2 > f->set_mask + 1) {
                size_t cap = f->set ? (f->set_mask + 1) * 2 : 128;
                while (cap < n * 2)
                        cap *= 2;
                JsonString **set = calloc(cap, sizeof(JsonString *));
                if (!set)
                        return -ENOMEM;
                free(f->set);
                f->set = set;
                f->set_mask = cap - 1;
                bool d;
                for (size_t i = f->kstart; i < ps->n_keys; i++)
                        set_insert(f, ps->keys[i], &d);
        }
        return set_insert(f, k, dup);
}

/* Parses the key at *pp and pushes its node, refusing duplicates. */
static int parse_key(Parser *ps, const char **pp) {
        const char *start = *pp, *s;
        size_t n;
        int r;

        if (_unlikely_(ps->n_keys == ps->cap_keys) &&
            (r = stack_grow((void **)&ps->keys, &ps->cap_keys, ps->n_keys + 1, sizeof(JsonString *),
                            &ps->keys_heap)) < 0)
                return r;
        if ((r = scan_string(ps, pp, &s, &n)) < 0)
                return r;
        if (n > UINT32_MAX)
                return fail(ps, start, -E2BIG, "object key too long");
        JsonString *k = intern_key(ps, s, n, r & SCAN_DECODED ? s + n : ps->end, scan_flags(r));
        if (!k)
                return -ENOMEM;

        Frame *f = &ps->frames[ps->n_frames - 1];
        bool dup = false;
        if (ps->n_keys - f->kstart < DUP_LINEAR_MAX) {
                uint64_t bit = UINT64_C(1) << (ptr_hash(k) & 63);
                if (f->bloom & bit)
                        for (size_t i = f->kstart; i < ps->n_keys; i++)
                                if (ps->keys[i] == k) {
                                        dup = true;
                                        break;
                                }
                f->bloom |= bit;
        } else if ((r = frame_set_add(ps, f, k, &dup)) < 0)
                return r;
        if (dup)
                return fail(ps, start, -EINVAL, "duplicate object key");

        k->h.n_ref++;
        ps->keys[ps->n_keys++] = k;
        return 0;
}

static locale_t c_locale(void) {
        static locale_t cached;
        locale_t l = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
        if (l)
                return l;
        l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (!l)
                return NULL;
        locale_t expected = NULL;
        if (!__atomic_compare_exchange_n(&cached, &expected, l, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                freelocale(l);
                l = expected;
        }
        return l;
}

static const double exact_pow10[] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * The double nearest to m * 10^exp10 if that can be computed exactly from
 * exactly representable values (Clinger's fast path: a correctly rounded
 * product or quotient), else -1.
 */
static inline double fast_double(uint64_t m, int64_t exp10) {
#if FLT_EVAL_METHOD == 0
        if (m == 0)
                return 0.0;
        if (m > (UINT64_C(1) << 53))
                return -1.0;
        if (exp10 >= 0 && exp10 <= 22)
                return (double)m * exact_pow10[exp10];
        if (exp10 < 0 && exp10 >= -22)
                return (double)m / exact_pow10[-exp10];
        if (exp10 > 22 && exp10 <= 22 + 15) {
                uint64_t scale = (uint64_t)exact_pow10[exp10 - 22];
                if (m <= (UINT64_C(1) << 53) / scale)
                        return (double)(m * scale) * 1e22;
        }
#endif
        return -1.0;
}

/* The double nearest to the number text [start, end), by strtod_l in the C locale. */
static int slow_double(Parser *ps, const char *start, const char *end, double *ret) {
        char buf[64], *copy = buf;
        size_t n = end - start;
        locale_t loc = c_locale();
        if (!loc)
                return -ENOMEM;
        if (n >= sizeof(buf) && !(copy = malloc(n + 1)))
                return -ENOMEM;
        memcpy(copy, start, n);
        copy[n] = 0;
        double d = strtod_l(copy, NULL, loc);
        if (copy != buf)
                free(copy);
        if (!__builtin_isfinite(d))
                return fail(ps, start, -EINVAL, "number out of range");
        *ret = d;
        return 0;
}

static inline bool is_digit(char c) {
        return (unsigned)(c - '0') < 10;
}

static int parse_number(Parser *ps, const char **pp, VlJson **ret) {
        const char *p = *pp, *start = p, *end = ps->end;
        bool neg = *p == '-';
        uint64_t m = 0;
        VlJson *v;
        int r;

        p += neg;
        const char *ip = p;
        if (p == end || !is_digit(*p))
                return fail(ps, start, -EINVAL, "invalid number");
        if (*p == '0') {
                p++;
                if (p < end && is_digit(*p))
                        return fail(ps, start, -EINVAL, "leading zero in number");
        } else {
                const char *stop = end - p > 19 ? p + 19 : end;
                while (p < stop && is_digit(*p))
                        m = m * 10 + (uint64_t)(*p++ - '0');
                while (p < end && is_digit(*p))
                        p++;
        }
        const char *ip_end = p;

        if (_likely_(p == end || (*p != '.' && *p != 'e' && *p != 'E'))) {
                /* An integer literal. */
                size_t nd = ip_end - ip;
                bool fits = nd <= 19;
                if (nd == 20) {
                        uint64_t d = (uint64_t)(ip[19] - '0');
                        if (m <= (UINT64_MAX - d) / 10) {
                                m = m * 10 + d;
                                fits = true;
                        }
                }
                if (fits) {
                        *pp = p;
                        if (!neg && m < JSON_SMALL_INTS) {
                                *ret = &json_small_ints[m];
                                return 0;
                        }
                        if (!(v = new_node(ps, sizeof(VlJson))))
                                return -ENOMEM;
                        *ret = v;
                        if (!neg) {
                                v->type = m <= INT64_MAX ? VL_JSON_INT : VL_JSON_UINT;
                                v->u = m;
                        } else if (m == 0) { /* "-0": a double, so it survives a round trip */
                                v->type = VL_JSON_DOUBLE;
                                v->d = -0.0;
                        } else if (m <= (uint64_t)INT64_MAX + 1) {
                                v->type = VL_JSON_INT;
                                v->i = (int64_t)(0 - m);
                        } else {
                                v->type = VL_JSON_DOUBLE;
                                v->d = -(double)m; /* a correctly rounded conversion */
                        }
                        return 0;
                }
        }

        /* A double. m holds the first 19 digits (integer part, then fraction);
         * it is exact if no nonzero digit had to be left out. */
        size_t nd = ip_end - ip;
        bool exact = nd <= 19;
        int64_t exp10 = 0;
        if (p < end && *p == '.') {
                p++;
                if (p == end || !is_digit(*p))
                        return fail(ps, p, -EINVAL, "expected a digit after the decimal point");
                for (; p < end && is_digit(*p); p++)
                        if (nd < 19) {
                                m = m * 10 + (uint64_t)(*p - '0');
                                nd++;
                                exp10--;
                        } else if (*p != '0')
                                exact = false;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                bool eneg = false;
                int64_t e = 0;
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        eneg = *p++ == '-';
                if (p == end || !is_digit(*p))
                        return fail(ps, p, -EINVAL, "expected a digit in the exponent");
                for (; p < end && is_digit(*p); p++)
                        if (e < 1000000000)
                                e = e * 10 + (*p - '0');
                exp10 += eneg ? -e : e;
        }
        *pp = p;

        double d = exact ? fast_double(m, exp10) : -1.0;
        if (d >= 0.0) {
                if (neg)
                        d = -d;
        } else if ((r = slow_double(ps, start, p, &d)) < 0)
                return r;
        if (!(v = new_node(ps, sizeof(VlJson))))
                return -ENOMEM;
        v->type = VL_JSON_DOUBLE;
        v->d = d;
        *ret = v;
        return 0;
}

static VlJson *new_container(Parser *ps, bool object, size_t n) {
        VlJson *v;
        if (object) {
                JsonObject *o = (JsonObject *)new_node(ps, sizeof(JsonObject) + n * sizeof(JsonMember));
                if (!o)
                        return NULL;
                o->cap = n;
                o->m = (JsonMember *)(o + 1);
                o->index = NULL;
                o->key_room = o->key_room_end = 0;
                v = &o->h;
        } else {
                JsonArray *a = (JsonArray *)new_node(ps, sizeof(JsonArray) + n * sizeof(VlJson *));
                if (!a)
                        return NULL;
                a->cap = n;
                a->items = (VlJson **)(a + 1);
                v = &a->h;
        }
        v->type = object ? VL_JSON_OBJECT : VL_JSON_ARRAY;
        v->flags |= JSON_INLINE;
        v->n = n;
        return v;
}

/* Pops the top frame and builds its container from the stacks. */
static VlJson *close_frame(Parser *ps) {
        Frame *f = &ps->frames[--ps->n_frames];
        size_t n = ps->n_vals - f->vstart;
        VlJson *v;

        if (!f->object) {
                if (!(v = new_container(ps, false, n)))
                        return NULL;
                memcpy(json_arr(v)->items, ps->vals + f->vstart, n * sizeof(VlJson *));
        } else {
                free(f->set);
                f->set = NULL;
                if (!(v = new_container(ps, true, n)))
                        return NULL;
                JsonMember *m = json_obj(v)->m;
                JsonString **ks = ps->keys + f->kstart;
                VlJson **vs = ps->vals + f->vstart;
                for (size_t i = 0; i < n; i++)
                        m[i] = (JsonMember){.key = ks[i], .value = vs[i]};
                ps->n_keys = f->kstart;
        }
        ps->n_vals = f->vstart;
        return v;
}

static int push_frame(Parser *ps, bool object) {
        if (_unlikely_(ps->n_frames == ps->cap_frames)) {
                int r = stack_grow((void **)&ps->frames, &ps->cap_frames, ps->n_frames + 1, sizeof(Frame),
                                   &ps->frames_heap);
                if (r < 0)
                        return r;
        }
        ps->frames[ps->n_frames++] = (Frame){
                .vstart = ps->n_vals,
                .kstart = ps->n_keys,
                .object = object,
        };
        return 0;
}

static int parse_text(Parser *ps, VlJson **ret) {
        const char *p = ps->start, *end = ps->end;
        bool object = false; /* whether the innermost open container is an object */
        VlJson *v;
        int r;

value:
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        switch (*p) {
        case '"':
                if ((r = parse_string_value(ps, &p, &v)) < 0)
                        return r;
                break;
        case '-':
        case '0' ... '9':
                if ((r = parse_number(ps, &p, &v)) < 0)
                        return r;
                break;
        case 't':
                if (end - p < 4 || memcmp(p, "true", 4) != 0)
                        return fail(ps, p, -EINVAL, "invalid literal");
                v = &json_true_value;
                p += 4;
                break;
        case 'f':
                if (end - p < 5 || memcmp(p, "false", 5) != 0)
                        return fail(ps, p, -EINVAL, "invalid literal");
                v = &json_false_value;
                p += 5;
                break;
        case 'n':
                if (end - p < 4 || memcmp(p, "null", 4) != 0)
                        return fail(ps, p, -EINVAL, "invalid literal");
                v = &json_null_value;
                p += 4;
                break;
        case '[':
        case '{': {
                bool is_object = *p == '{';
                if (ps->n_frames >= ps->max_depth)
                        return fail(ps, p, -ELOOP, "nesting too deep");
                p = skip_ws(p + 1, end);
                if (p < end && *p == (is_object ? '}' : ']')) {
                        p++;
                        if (!(v = new_container(ps, is_object, 0)))
                                return -ENOMEM;
                        break;
                }
                if ((r = push_frame(ps, is_object)) < 0)
                        return r;
                object = is_object;
                if (object)
                        goto key;
                goto value;
        }
        case ']':
                /* '[' directly followed by ']' was handled above: this one follows a comma. */
                if (ps->n_frames > 0 && !object)
                        return fail(ps, p, -EINVAL, "trailing comma in array");
                return fail(ps, p, -EINVAL, "unexpected character");
        default:
                return fail(ps, p, -EINVAL, "unexpected character");
        }

next:
        if (_unlikely_(ps->n_frames == 0)) {
                p = skip_ws(p, end);
                if (p != end) {
                        json_unref(v);
                        return fail(ps, p, -EINVAL, "trailing characters after the value");
                }
                *ret = v;
                return 0;
        }
        if (_unlikely_(ps->n_vals == ps->cap_vals) &&
            stack_grow((void **)&ps->vals, &ps->cap_vals, ps->n_vals + 1, sizeof(VlJson *), &ps->vals_heap) <
                    0) {
                json_unref(v);
                return -ENOMEM;
        }
        ps->vals[ps->n_vals++] = v;
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        if (*p == ',') {
                p++;
                if (object)
                        goto key;
                goto value;
        }
        if (*p == (object ? '}' : ']')) {
                p++;
                if (!(v = close_frame(ps)))
                        return -ENOMEM;
                object = ps->n_frames > 0 && ps->frames[ps->n_frames - 1].object;
                goto next;
        }
        return fail(ps, p, -EINVAL, object ? "expected ',' or '}'" : "expected ',' or ']'");

key:
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        if (*p != '"')
                return fail(ps, p, -EINVAL,
                            *p == '}' ? "trailing comma in object" : "expected a string key");
        if ((r = parse_key(ps, &p)) < 0)
                return r;
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        if (*p != ':')
                return fail(ps, p, -EINVAL, "expected ':'");
        p++;
        goto value;
}

/* Fills err; "unexpected character" gets the character (or its code) appended. */
static void fill_error(VlJsonError *err, const char *text, size_t len, size_t offset, const char *msg) {
        static const char hex[] = "0123456789abcdef";
        unsigned line = 1;
        size_t bol = 0;
        for (size_t i = 0; i < offset; i++)
                if (text[i] == '\n') {
                        line++;
                        bol = i + 1;
                }
        err->offset = offset;
        err->line = line;
        err->column = (unsigned)(offset - bol + 1);
        size_t n = strlen(msg);
        if (n > sizeof(err->message) - 16)
                n = sizeof(err->message) - 16;
        memcpy(err->message, msg, n);
        if (offset < len && streq(msg, "unexpected character")) {
                uint8_t c = (uint8_t)text[offset];
                if (c > 0x20 && c < 0x7F) {
                        memcpy(err->message + n, " '?'", 4);
                        err->message[n + 2] = (char)c;
                        n += 4;
                } else {
                        memcpy(err->message + n, " 0x??", 5);
                        err->message[n + 3] = hex[c >> 4];
                        err->message[n + 4] = hex[c & 0xF];
                        n += 5;
                }
        }
        err->message[n] = 0;
}

_public_ int vl_json_parse(const char *text, size_t len, const VlJsonLimits *limits, VlJson **ret,
                           VlJsonError *err) {
        size_t max_size = limits && limits->max_size ? limits->max_size : VL_JSON_DEFAULT_MAX_SIZE;
        unsigned max_depth = limits && limits->max_depth ? limits->max_depth : VL_JSON_DEFAULT_MAX_DEPTH;

        if (!text && len > 0) {
                if (err)
                        fill_error(err, "", 0, 0, "no input");
                return -EINVAL;
        }
        if (len > max_size) {
                if (err)
                        fill_error(err, "", 0, 0, "input larger than the size limit");
                return -E2BIG;
        }

        VlJson *vals_buf[64];
        JsonString *keys_buf[32];
        char arena_buf[256];
        Frame frames_buf[16];
        InternSlot intern_buf[16] = {};
        Parser ps = {
                .start = text,
                .end = text + len,
                .max_depth = max_depth,
                .vals = vals_buf,
                .cap_vals = ELEMENTSOF(vals_buf),
                .keys = keys_buf,
                .cap_keys = ELEMENTSOF(keys_buf),
                .arena = arena_buf,
                .cap_arena = sizeof(arena_buf),
                .frames = frames_buf,
                .cap_frames = ELEMENTSOF(frames_buf),
                .intern = intern_buf,
                .intern_mask = ELEMENTSOF(intern_buf) - 1,
                /* Room for a small message's nodes in one slab; bigger ones grow to JSON_SLAB_MAX. */
                .next_slab = MIN(MAX(len + len / 2, (size_t)256) + sizeof(JsonSlab), JSON_SLAB_MAX),
                .slab_flag = len >= HUGE_INPUT ? JSON_HUGE : JSON_SLAB,
        };
        VlJson *v = NULL;
        int r = parse_text(&ps, &v);

        for (size_t i = 0; i < ps.n_vals; i++)
                json_unref(ps.vals[i]);
        for (size_t i = 0; i < ps.n_keys; i++)
                json_unref(&ps.keys[i]->h);
        for (size_t i = 0; i < ps.n_frames; i++)
                free(ps.frames[i].set);
        if (ps.vals_heap)
                free(ps.vals);
        if (ps.keys_heap)
                free(ps.keys);
        if (ps.arena_heap)
                free(ps.arena);
        if (ps.frames_heap)
                free(ps.frames);
        if (ps.intern_heap)
                free(ps.intern);
        if (ps.slab)
                json_slab_release(ps.slab);

        if (r < 0) {
                if (err) {
                        if (!ps.err_msg)
                                fill_error(err, text, len, 0,
                                           r == -ENOMEM ? "out of memory" : "invalid JSON");
                        else
                                fill_error(err, text, len, ps.err_pos - text, ps.err_msg);
                }
                return r;
        }
        if (ret)
                *ret = v;
        else
                json_unref(v);
        return 0;
}
