/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON parser: strict RFC 8259, iterative (the C stack does not grow
 * with nesting), one allocation per string, number, array and object.
 *
 * Scratch state lives on explicit stacks: values waiting for their
 * container to close, the keys of open objects (their bytes in an arena),
 * and one frame per open container. All start in small on-stack buffers,
 * so parsing a short message allocates only the values themselves.
 */

#include <locale.h>
#include <float.h>

#include "json-internal.h"

typedef struct KeySlot {
        size_t off; /* in the arena */
        uint32_t len;
        uint32_t kflags; /* JSON_SAFE, JSON_ASCII */
        uint64_t tag;    /* the first bytes, zero-padded: a quick filter for duplicate checks */
} KeySlot;

typedef struct Frame {
        size_t vstart; /* first value of this container on the value stack */
        size_t kstart; /* objects: first key slot */
        size_t astart; /* objects: arena offset of the first key */
        uint64_t bloom; /* objects: one bit per key seen (a hash of its tag) */
        uint32_t *set;  /* objects past DUP_LINEAR_MAX members: hash set of key slots + 1 */
        size_t set_mask;
        bool object;
} Frame;

typedef struct Parser {
        const char *start, *end;
        unsigned max_depth;
        const char *err_pos;
        const char *err_msg;

        VlJson **vals;
        size_t n_vals, cap_vals;
        KeySlot *keys;
        size_t n_keys, cap_keys;
        char *arena;
        size_t n_arena, cap_arena;
        Frame *frames;
        size_t n_frames, cap_frames;
        /* which stacks moved to the heap */
        bool vals_heap, keys_heap, arena_heap, frames_heap;

        /* Nodes are carved from here. */
        JsonSlab *slab;
        char *slab_ptr;
        size_t slab_left;
        size_t next_slab; /* size of the next slab */
} Parser;

/* Nodes bigger than this get their own malloc. */
#define SLAB_NODE_MAX (16u * 1024u)

static VlJson *new_node_slow(Parser *ps, size_t size) {
        VlJson *v;
        if (size > SLAB_NODE_MAX || size > ps->next_slab - sizeof(JsonSlab)) {
                v = malloc(size);
                if (v)
                        v->flags = 0;
                return v;
        }
        JsonSlab *slab = malloc(ps->next_slab);
        if (!slab)
                return NULL;
        slab->live = 1; /* the parser's hold, dropped when it moves on */
        slab->size = ps->next_slab;
        if (ps->slab)
                json_slab_release(ps->slab);
        ps->slab = slab;
        ps->slab_ptr = (char *)(slab + 1);
        ps->slab_left = ps->next_slab - sizeof(JsonSlab);
        if (ps->next_slab < JSON_SLAB_MAX)
                ps->next_slab = MIN(ps->next_slab * 2, JSON_SLAB_MAX);
        v = (VlJson *)ps->slab_ptr;
        ps->slab_ptr += size;
        ps->slab_left -= size;
        slab->live++;
        v->flags = JSON_SLAB;
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
                v->flags = JSON_SLAB;
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
                        return fail(ps, q, -EINVAL, "truncated \\u escape");
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
static int scan_string(Parser *ps, const char **pp, const char **ret, size_t *ret_len) {
        const char *s = *pp + 1, *q = s, *end = ps->end;
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
                size_t k = json_utf8_seq((const uint8_t *)q, (const uint8_t *)end);
                if (!k)
                        return fail(ps, q, -EINVAL, "invalid UTF-8 in string");
                flags |= SCAN_NONASCII;
                q += k;
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
        memcpy(v->data, s, n);
        v->data[n] = 0;
        *ret = &v->h;
        return 0;
}

/* Up to this many members, duplicate keys are found by a Bloom filter and a
 * linear scan on its hits; past it, by a hash set. */
#define DUP_LINEAR_MAX 32

/* The first 8 bytes of the key at s (n bytes), zero-padded. The arena
 * always has 8 readable bytes after a key. */
static inline uint64_t key_tag(const char *s, size_t n) {
        uint64_t t;
        memcpy(&t, s, 8);
        if (n < 8)
                t &= (UINT64_C(1) << (n * 8)) - 1;
        return t;
}

/* The duplicate check for big objects: a hash set of the frame's key slots. */
static int frame_set_add(Parser *ps, Frame *f, size_t k, bool *dup) {
        size_t n = k - f->kstart + 1; /* members including this one */
        const KeySlot *ks = &ps->keys[k];
        if (!f->set || n * 2 > f->set_mask + 1) {
                size_t cap = f->set ? (f->set_mask + 1) * 2 : 64;
                while (cap < n * 2)
                        cap *= 2;
                uint32_t *set = calloc(cap, sizeof(uint32_t));
                if (!set)
                        return -ENOMEM;
                free(f->set);
                f->set = set;
                f->set_mask = cap - 1;
                /* (Re)insert the members before this one; they are known to be distinct. */
                for (size_t i = f->kstart; i < k; i++) {
                        const KeySlot *e = &ps->keys[i];
                        size_t slot = json_hash(ps->arena + e->off, e->len) & f->set_mask;
                        while (set[slot])
                                slot = (slot + 1) & f->set_mask;
                        set[slot] = (uint32_t)(i - f->kstart + 1);
                }
        }
        const char *key = ps->arena + ks->off;
        size_t slot = json_hash(key, ks->len) & f->set_mask;
        uint32_t e;
        while ((e = f->set[slot])) {
                const KeySlot *o = &ps->keys[f->kstart + e - 1];
                if (o->len == ks->len && memcmp(ps->arena + o->off, key, ks->len) == 0) {
                        *dup = true;
                        return 0;
                }
                slot = (slot + 1) & f->set_mask;
        }
        f->set[slot] = (uint32_t)(n);
        *dup = false;
        return 0;
}

/* Parses the key at *pp into the arena and pushes its slot, refusing duplicates. */
static int parse_key(Parser *ps, const char **pp) {
        const char *start = *pp, *s;
        size_t n;
        int r = scan_string(ps, pp, &s, &n);
        if (r < 0)
                return r;
        if (n > JSON_KEY_MAX)
                return fail(ps, start, -E2BIG, "object key too long");
        uint8_t kflags = scan_flags(r);
        bool decoded = r & SCAN_DECODED;
        /* The key, its NUL and room for key_tag() to read 8 bytes (decoded
         * bytes beyond n_arena survive a reallocation). */
        if ((r = arena_reserve(ps, n + 8)) < 0)
                return r;
        if (!decoded)
                memcpy(ps->arena + ps->n_arena, s, n);
        char *key = ps->arena + ps->n_arena;
        key[n] = 0;

        if (_unlikely_(ps->n_keys == ps->cap_keys) &&
            (r = stack_grow((void **)&ps->keys, &ps->cap_keys, ps->n_keys + 1, sizeof(KeySlot),
                            &ps->keys_heap)) < 0)
                return r;
        Frame *f = &ps->frames[ps->n_frames - 1];
        uint64_t tag = key_tag(key, n);
        size_t k = ps->n_keys;
        ps->keys[k] = (KeySlot){.off = ps->n_arena, .len = (uint32_t)n, .kflags = kflags, .tag = tag};

        bool dup = false;
        if (k - f->kstart < DUP_LINEAR_MAX) {
                uint64_t bit = UINT64_C(1) << (((tag ^ n) * 0x9E3779B97F4A7C15u) >> 58);
                if (f->bloom & bit)
                        for (size_t i = f->kstart; i < k; i++) {
                                const KeySlot *o = &ps->keys[i];
                                if (o->tag == tag && o->len == n &&
                                    (n <= 8 || memcmp(ps->arena + o->off + 8, key + 8, n - 8) == 0)) {
                                        dup = true;
                                        break;
                                }
                        }
                f->bloom |= bit;
        } else if ((r = frame_set_add(ps, f, k, &dup)) < 0)
                return r;
        if (dup)
                return fail(ps, start, -EINVAL, "duplicate object key");

        ps->n_keys++;
        ps->n_arena += n + 1;
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
 * The double nearest to the number [start, end): digits are the integer
 * and fraction digits, exp10 the explicit exponent. Exact products of
 * exactly representable values are correctly rounded (Clinger's fast path);
 * everything else goes to strtod_l in the C locale.
 */
static int to_double(Parser *ps, const char *start, const char *end, const char *ip, const char *ip_end,
                     const char *fp, const char *fp_end, int64_t exp10, bool neg, double *ret) {
#if FLT_EVAL_METHOD == 0
        uint64_t m = 0;
        int nd = 0;
        bool exact = true;
        for (const char *c = ip; c < ip_end; c++) {
                if (nd == 0 && *c == '0')
                        continue;
                if (nd == 19) {
                        exact = false;
                        break;
                }
                m = m * 10 + (uint64_t)(*c - '0');
                nd++;
        }
        for (const char *c = fp; exact && c < fp_end; c++) {
                exp10--;
                if (nd == 0 && *c == '0')
                        continue;
                if (nd == 19) {
                        exact = false;
                        break;
                }
                m = m * 10 + (uint64_t)(*c - '0');
                nd++;
        }
        if (exact) {
                double d = -1.0;
                if (m == 0)
                        d = 0.0;
                else if (m <= (UINT64_C(1) << 53)) {
                        if (exp10 >= 0 && exp10 <= 22)
                                d = (double)m * exact_pow10[exp10];
                        else if (exp10 < 0 && exp10 >= -22)
                                d = (double)m / exact_pow10[-exp10];
                        else if (exp10 > 22 && exp10 <= 22 + 15) {
                                uint64_t limit = (UINT64_C(1) << 53) / (uint64_t)exact_pow10[exp10 - 22];
                                if (m <= limit)
                                        d = (double)(m * (uint64_t)exact_pow10[exp10 - 22]) * 1e22;
                        }
                }
                if (d >= 0.0) {
                        *ret = neg ? -d : d;
                        return 0;
                }
        }
#endif
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

static int parse_number(Parser *ps, const char **pp, VlJson **ret) {
        const char *p = *pp, *start = p, *end = ps->end;
        bool neg = false;
        int r;

        if (*p == '-') {
                neg = true;
                p++;
        }
        const char *ip = p;
        if (p == end || (unsigned)(*p - '0') > 9)
                return fail(ps, start, -EINVAL, "invalid number");
        if (*p == '0') {
                p++;
                if (p < end && (unsigned)(*p - '0') <= 9)
                        return fail(ps, start, -EINVAL, "leading zero in number");
        } else
                while (p < end && (unsigned)(*p - '0') <= 9)
                        p++;
        const char *ip_end = p, *fp = p, *fp_end = p;
        bool integral = true;
        if (p < end && *p == '.') {
                integral = false;
                fp = ++p;
                if (p == end || (unsigned)(*p - '0') > 9)
                        return fail(ps, p, -EINVAL, "expected a digit after the decimal point");
                while (p < end && (unsigned)(*p - '0') <= 9)
                        p++;
                fp_end = p;
        }
        int64_t exp10 = 0;
        if (p < end && (*p == 'e' || *p == 'E')) {
                integral = false;
                bool eneg = false;
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        eneg = *p++ == '-';
                if (p == end || (unsigned)(*p - '0') > 9)
                        return fail(ps, p, -EINVAL, "expected a digit in the exponent");
                while (p < end && (unsigned)(*p - '0') <= 9) {
                        if (exp10 < 1000000000)
                                exp10 = exp10 * 10 + (*p - '0');
                        p++;
                }
                if (eneg)
                        exp10 = -exp10;
        }
        *pp = p;

        VlJson *v = new_node(ps, sizeof(VlJson));
        if (!v)
                return -ENOMEM;
        *ret = v;

        size_t nd = ip_end - ip;
        if (integral && nd <= 20) {
                uint64_t m = 0;
                const char *c = ip;
                for (; c < ip_end && c < ip + 19; c++)
                        m = m * 10 + (uint64_t)(*c - '0');
                bool fits = true;
                if (c < ip_end) {
                        uint64_t d = (uint64_t)(*c - '0');
                        if (m > (UINT64_MAX - d) / 10)
                                fits = false;
                        else
                                m = m * 10 + d;
                }
                if (fits) {
                        if (!neg) {
                                v->type = m <= INT64_MAX ? VL_JSON_INT : VL_JSON_UINT;
                                v->u = m;
                                return 0;
                        }
                        if (m == 0) { /* "-0": a double, so it survives a round trip */
                                v->type = VL_JSON_DOUBLE;
                                v->d = -0.0;
                                return 0;
                        }
                        if (m <= (uint64_t)INT64_MAX + 1) {
                                v->type = VL_JSON_INT;
                                v->i = (int64_t)(0 - m);
                                return 0;
                        }
                        v->type = VL_JSON_DOUBLE;
                        v->d = -(double)m; /* correctly rounded conversion */
                        return 0;
                }
        }
        v->type = VL_JSON_DOUBLE;
        r = to_double(ps, start, p, ip, ip_end, fp, fp_end, exp10, neg, &v->d);
        if (r < 0) {
                vl_json_unref(v);
                *ret = NULL;
                return r;
        }
        return 0;
}

static VlJson *new_container(Parser *ps, bool object, size_t n, size_t kbytes) {
        VlJson *v;
        if (object) {
                JsonObject *o = (JsonObject *)new_node(ps, sizeof(JsonObject) + n * sizeof(JsonMember) + kbytes);
                if (!o)
                        return NULL;
                o->cap = n;
                o->m = (JsonMember *)(o + 1);
                o->index = NULL;
                o->index_mask = 0;
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
                if (!(v = new_container(ps, false, n, 0)))
                        return NULL;
                memcpy(json_arr(v)->items, ps->vals + f->vstart, n * sizeof(VlJson *));
        } else {
                size_t kbytes = ps->n_arena - f->astart;
                free(f->set);
                f->set = NULL;
                if (!(v = new_container(ps, true, n, kbytes)))
                        return NULL;
                JsonObject *o = json_obj(v);
                char *kd = (char *)(o->m + n);
                memcpy(kd, ps->arena + f->astart, kbytes);
                const KeySlot *ks = ps->keys + f->kstart;
                VlJson **vs = ps->vals + f->vstart;
                for (size_t i = 0; i < n; i++)
                        o->m[i] = (JsonMember){
                                .key = kd + (ks[i].off - f->astart),
                                .value = vs[i],
                                .klen = ks[i].len,
                                .kflags = ks[i].kflags,
                        };
                ps->n_keys = f->kstart;
                ps->n_arena = f->astart;
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
                .astart = ps->n_arena,
                .object = object,
        };
        return 0;
}

static int parse_text(Parser *ps, VlJson **ret) {
        const char *p = ps->start, *end = ps->end;
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
                bool object = *p == '{';
                if (ps->n_frames >= ps->max_depth)
                        return fail(ps, p, -ELOOP, "nesting too deep");
                p = skip_ws(p + 1, end);
                if (p < end && *p == (object ? '}' : ']')) {
                        p++;
                        if (!(v = new_container(ps, object, 0, 0)))
                                return -ENOMEM;
                        break;
                }
                if ((r = push_frame(ps, object)) < 0)
                        return r;
                if (object)
                        goto key;
                goto value;
        }
        case ']':
                /* '[' directly followed by ']' was handled above: this one follows a comma. */
                if (ps->n_frames > 0 && !ps->frames[ps->n_frames - 1].object)
                        return fail(ps, p, -EINVAL, "trailing comma in array");
                return fail(ps, p, -EINVAL, "unexpected character");
        default:
                return fail(ps, p, -EINVAL, "unexpected character");
        }

next:
        if (ps->n_frames == 0) {
                p = skip_ws(p, end);
                if (p != end) {
                        vl_json_unref(v);
                        return fail(ps, p, -EINVAL, "trailing characters after the value");
                }
                *ret = v;
                return 0;
        }
        if (_unlikely_(ps->n_vals == ps->cap_vals) &&
            stack_grow((void **)&ps->vals, &ps->cap_vals, ps->n_vals + 1, sizeof(VlJson *), &ps->vals_heap) < 0) {
                vl_json_unref(v);
                return -ENOMEM;
        }
        ps->vals[ps->n_vals++] = v;
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        bool object = ps->frames[ps->n_frames - 1].object;
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
                goto next;
        }
        return fail(ps, p, -EINVAL, object ? "expected ',' or '}'" : "expected ',' or ']'");

key:
        p = skip_ws(p, end);
        if (_unlikely_(p == end))
                return fail(ps, p, -EINVAL, "unexpected end of input");
        if (*p != '"')
                return fail(ps, p, -EINVAL, *p == '}' ? "trailing comma in object" : "expected a string key");
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

static void fill_error(VlJsonError *err, const char *text, size_t offset, const char *msg) {
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
        if (n >= sizeof(err->message))
                n = sizeof(err->message) - 1;
        memcpy(err->message, msg, n);
        err->message[n] = 0;
}

_public_ int vl_json_parse(const char *text, size_t len, const VlJsonLimits *limits, VlJson **ret,
                           VlJsonError *err) {
        size_t max_size = limits && limits->max_size ? limits->max_size : VL_JSON_DEFAULT_MAX_SIZE;
        unsigned max_depth = limits && limits->max_depth ? limits->max_depth : VL_JSON_DEFAULT_MAX_DEPTH;

        if (!text && len > 0) {
                if (err)
                        fill_error(err, "", 0, "no input");
                return -EINVAL;
        }
        if (len > max_size) {
                if (err)
                        fill_error(err, "", 0, "input larger than the size limit");
                return -E2BIG;
        }

        VlJson *vals_buf[64];
        KeySlot keys_buf[32];
        char arena_buf[1024];
        Frame frames_buf[16];
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
                /* Room for a small message's nodes in one slab; bigger ones grow to JSON_SLAB_MAX. */
                .next_slab = MIN(MAX(len + len / 2, (size_t)256) + sizeof(JsonSlab), JSON_SLAB_MAX),
        };
        VlJson *v = NULL;
        int r = parse_text(&ps, &v);

        for (size_t i = 0; i < ps.n_vals; i++)
                vl_json_unref(ps.vals[i]);
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
        if (ps.slab)
                json_slab_release(ps.slab);

        if (r < 0) {
                if (err) {
                        if (!ps.err_msg)
                                fill_error(err, text, 0, r == -ENOMEM ? "out of memory" : "invalid JSON");
                        else
                                fill_error(err, text, ps.err_pos - text, ps.err_msg);
                }
                return r;
        }
        if (ret)
                *ret = v;
        else
                vl_json_unref(v);
        return 0;
}
