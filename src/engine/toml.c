/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "util.h"

#define TOML_MAX_SIZE  (1024u * 1024u)
#define TOML_MAX_DEPTH 32u
#define TOML_MAX_KEY   32u

/* What TOML remembers about a table or array that JSON cannot say:
 * whether it may be extended by a header, by dotted keys, or not at all. */
enum {
        MARK_IMPLICIT = 1 << 0, /* created as the parent of a header or dotted key */
        MARK_HEADER = 1 << 1,   /* defined by [header] */
        MARK_DOTTED = 1 << 2,   /* defined by a dotted key = value */
        MARK_FROZEN = 1 << 3,   /* an inline table or an array value */
        MARK_AOT = 1 << 4,      /* an array of tables, [[header]] */
};

typedef struct Mark {
        const VlJson *node;
        unsigned flags;
} Mark;

typedef struct Toml {
        const char *p, *end;
        unsigned line;
        CpodError *err;
        VlJson *root, *cur;
        Mark *marks; /* open-addressing hash set keyed by node address */
        size_t n_marks, cap_marks;
} Toml;

typedef struct Key {
        char *parts[TOML_MAX_KEY];
        size_t n;
} Key;

static void key_done(Key *k) {
        for (size_t i = 0; i < k->n; i++)
                free(k->parts[i]);
        k->n = 0;
}

static int toml_error(Toml *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int toml_error(Toml *t, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return cpod_error(t->err, EINVAL, "line %u: %s", t->line, msg);
}

static int toml_oom(Toml *t) {
        return cpod_error(t->err, ENOMEM, "line %u: out of memory", t->line);
}

static size_t mark_slot(const Mark *marks, size_t cap, const VlJson *node) {
        size_t i = (size_t)(((uintptr_t)node >> 4) * UINT64_C(0x9E3779B97F4A7C15)) & (cap - 1);

        while (marks[i].node && marks[i].node != node)
                i = (i + 1) & (cap - 1);
        return i;
}

static unsigned mark_get(const Toml *t, const VlJson *node) {
        if (t->cap_marks == 0)
                return 0;
        return t->marks[mark_slot(t->marks, t->cap_marks, node)].flags;
}

static int mark_set(Toml *t, const VlJson *node, unsigned flags) {
        size_t i;

        if ((t->n_marks + 1) * 2 > t->cap_marks) {
                size_t cap = t->cap_marks ? t->cap_marks * 2 : 64;
                Mark *m = calloc(cap, sizeof(Mark));
                if (!m)
                        return toml_oom(t);
                for (size_t j = 0; j < t->cap_marks; j++)
                        if (t->marks[j].node)
                                m[mark_slot(m, cap, t->marks[j].node)] = t->marks[j];
                free(t->marks);
                t->marks = m;
                t->cap_marks = cap;
        }
        i = mark_slot(t->marks, t->cap_marks, node);
        if (!t->marks[i].node)
                t->n_marks++;
        t->marks[i] = (Mark){node, flags};
        return 0;
}

/* ---- lexing helpers ---- */

static bool at_eof(const Toml *t) {
        return t->p >= t->end;
}

static char peek(const Toml *t) {
        return t->p < t->end ? *t->p : 0;
}

static bool looking_at(const Toml *t, const char *s) {
        size_t n = strlen(s);
        return (size_t)(t->end - t->p) >= n && memcmp(t->p, s, n) == 0;
}

static void skip_ws(Toml *t) {
        while (!at_eof(t) && (*t->p == ' ' || *t->p == '\t'))
                t->p++;
}

static void skip_comment(Toml *t) {
        if (peek(t) == '#')
                while (!at_eof(t) && *t->p != '\n')
                        t->p++;
}

/* After a statement: white space, a comment, then a newline or the end. */
static int expect_eol(Toml *t) {
        skip_ws(t);
        skip_comment(t);
        if (looking_at(t, "\r\n"))
                t->p++;
        if (at_eof(t))
                return 0;
        if (*t->p != '\n')
                return toml_error(t, "expected end of line, found '%c'", *t->p);
        t->p++;
        t->line++;
        return 0;
}

/* White space, newlines and comments, as allowed inside arrays. */
static void skip_ws_nl(Toml *t) {
        for (;;) {
                skip_ws(t);
                skip_comment(t);
                if (looking_at(t, "\r\n"))
                        t->p++;
                if (peek(t) != '\n')
                        return;
                t->p++;
                t->line++;
        }
}

static bool is_bare(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
}

static int append_utf8(VlBuf *b, uint32_t c) {
        char u[4];
        size_t n;

        if (c < 0x80) {
                u[0] = (char)c;
                n = 1;
        } else if (c < 0x800) {
                u[0] = (char)(0xc0 | (c >> 6));
                u[1] = (char)(0x80 | (c & 0x3f));
                n = 2;
        } else if (c < 0x10000) {
                u[0] = (char)(0xe0 | (c >> 12));
                u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                u[2] = (char)(0x80 | (c & 0x3f));
                n = 3;
        } else {
                u[0] = (char)(0xf0 | (c >> 18));
                u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
                u[3] = (char)(0x80 | (c & 0x3f));
                n = 4;
        }
        return vl_buf_append(b, u, n);
}

static int parse_escape(Toml *t, VlBuf *b) {
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *e;
        unsigned n;
        uint32_t c = 0;

        if (at_eof(t))
                return toml_error(t, "unterminated string");
        e = strchr(from, *t->p);
        if (*t->p && e) {
                t->p++;
                return vl_buf_append_char(b, to[e - from]) < 0 ? toml_oom(t) : 0;
        }
        if (*t->p != 'u' && *t->p != 'U')
                return toml_error(t, "invalid escape sequence '\\%c'", *t->p);
        n = *t->p++ == 'u' ? 4 : 8;
        if ((size_t)(t->end - t->p) < n)
                return toml_error(t, "truncated unicode escape");
        for (unsigned i = 0; i < n; i++) {
                char h = t->p[i];
                unsigned v = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                             : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                             : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                                    : 16u;
                if (v == 16)
                        return toml_error(t, "invalid unicode escape");
                c = c * 16 + v;
        }
        t->p += n;
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return toml_error(t, "unicode escape is not a scalar value");
        return append_utf8(b, c) < 0 ? toml_oom(t) : 0;
}

/* Control characters other than tab are not allowed in strings or comments. */
static bool is_control(char c) {
        return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

/* Basic or literal string, single- or multi-line; t->p is at the opening quote. */
static int parse_string(Toml *t, bool allow_multi, VlBuf *b) {
        char q = *t->p;
        bool multi = allow_multi && (q == '"' ? looking_at(t, "\"\"\"") : looking_at(t, "'''"));
        int r;

        t->p += multi ? 3 : 1;
        if (multi) {
                /* A newline right after the opening delimiter is trimmed. */
                if (looking_at(t, "\r\n"))
                        t->p++;
                if (peek(t) == '\n') {
                        t->p++;
                        t->line++;
                }
        }
        for (;;) {
                if (at_eof(t))
                        return toml_error(t, "unterminated string");
                char c = *t->p;
                if (c == q && (!multi || looking_at(t, q == '"' ? "\"\"\"" : "'''"))) {
                        if (multi) {
                                /* Up to two quotes may precede the closing delimiter. */
                                size_t extra = 0;
                                while (extra < 2 && t->p + 3 + extra < t->end && t->p[3 + extra] == q)
                                        extra++;
                                if (vl_buf_append(b, t->p, extra) < 0)
                                        return toml_oom(t);
                                t->p += 3 + extra;
                        } else
                                t->p++;
                        return 0;
                }
                if (c == '\n' || (c == '\r' && looking_at(t, "\r\n"))) {
                        if (!multi)
                                return toml_error(t, "newline in a single-line string");
                        if (c == '\r')
                                t->p++;
                        t->p++;
                        t->line++;
                        if (vl_buf_append_char(b, '\n') < 0)
                                return toml_oom(t);
                        continue;
                }
                if (is_control(c))
                        return toml_error(t, "control character in a string");
                t->p++;
                if (c != '\\' || q == '\'') {
                        if (vl_buf_append_char(b, c) < 0)
                                return toml_oom(t);
                        continue;
                }
                if (multi) {
                        /* A line-ending backslash eats the newline and following white space. */
                        const char *s = t->p;
                        while (s < t->end && (*s == ' ' || *s == '\t'))
                                s++;
                        if (s < t->end && (*s == '\n' || *s == '\r')) {
                                t->p = s;
                                while (!at_eof(t) && strchr(" \t\r\n", *t->p)) {
                                        if (*t->p == '\n')
                                                t->line++;
                                        t->p++;
                                }
                                continue;
                        }
                }
                r = parse_escape(t, b);
                if (r < 0)
                        return r;
        }
}

static int parse_key(Toml *t, Key *k) {
        for (;;) {
                VlBuf b = VL_BUF_INIT;
                int r = 0;

                skip_ws(t);
                if (k->n >= TOML_MAX_KEY)
                        return toml_error(t, "key has more than %u parts", TOML_MAX_KEY);
                if (peek(t) == '"' || peek(t) == '\'')
                        r = parse_string(t, false, &b);
                else if (is_bare(peek(t))) {
                        const char *s = t->p;
                        while (!at_eof(t) && is_bare(*t->p))
                                t->p++;
                        if (vl_buf_append(&b, s, t->p - s) < 0)
                                r = toml_oom(t);
                } else
                        r = at_eof(t) || peek(t) == '\n'
                                    ? toml_error(t, "expected a key")
                                    : toml_error(t, "invalid character '%c' in key", peek(t));
                if (r >= 0 && (vl_buf_append_char(&b, 0) < 0 || memchr(b.data, 0, b.len - 1)))
                        r = b.data ? toml_error(t, "NUL in key") : toml_oom(t);
                if (r < 0) {
                        vl_buf_free(&b);
                        return r;
                }
                k->parts[k->n++] = b.data;
                skip_ws(t);
                if (peek(t) != '.')
                        return 0;
                t->p++;
        }
}

static int parse_value(Toml *t, unsigned depth, VlJson **ret);

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Dates and times are kept as their text after a shape check. */
static int parse_datetime(Toml *t, VlJson **ret) {
        const char *s = t->p;

        while (!at_eof(t) && (is_digit(*t->p) || strchr("-:.TtZz+", *t->p)))
                t->p++;
        /* "1979-05-27 07:32:00": a space may separate date and time. */
        if (t->p - s == 10 && peek(t) == ' ' && t->p + 1 < t->end && is_digit(t->p[1])) {
                t->p++;
                while (!at_eof(t) && (is_digit(*t->p) || strchr(":.Zz+-", *t->p)))
                        t->p++;
        }
        if (t->p - s < 8)
                return toml_error(t, "invalid date or time");
        *ret = vl_json_new_stringn(s, t->p - s);
        return *ret ? 0 : toml_oom(t);
}

/* Copies a number without its '_' separators, which must sit between digits. */
static int number_text(Toml *t, const char *s, size_t n, bool hex, char *out, size_t size) {
        size_t o = 0;

        if (n >= size)
                return toml_error(t, "number is too long");
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '_') {
                        bool ok_prev =
                                i > 0 && (is_digit(s[i - 1]) || (hex && strchr("abcdefABCDEF", s[i - 1])));
                        bool ok_next = i + 1 < n &&
                                       (is_digit(s[i + 1]) || (hex && strchr("abcdefABCDEF", s[i + 1])));
                        if (!ok_prev || !ok_next)
                                return toml_error(t, "'_' must sit between digits");
                        continue;
                }
                out[o++] = s[i];
        }
        out[o] = 0;
        return 0;
}

static int parse_special_float(Toml *t, VlJson **ret) {
        const char *s = t->p + (peek(t) == '+' || peek(t) == '-');

        if ((size_t)(t->end - s) >= 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0))
                return toml_error(t, "inf and nan cannot be represented");
        *ret = NULL;
        return 0;
}

static int parse_number(Toml *t, VlJson **ret) {
        const char *s = t->p;
        char buf[128], *e;
        bool is_float = false, hex;
        int base = 10, r;

        r = parse_special_float(t, ret);
        if (r < 0)
                return r;
        if (looking_at(t, "0x") || looking_at(t, "0o") || looking_at(t, "0b")) {
                base = t->p[1] == 'x' ? 16 : t->p[1] == 'o' ? 8 : 2;
                s = t->p += 2;
        }
        hex = base == 16;
        while (!at_eof(t) && (is_bare(*t->p) || *t->p == '.' || *t->p == '+' ||
                              ((*t->p == '-') && t->p > s && (t->p[-1] == 'e' || t->p[-1] == 'E'))))
                t->p++;
        r = number_text(t, s, t->p - s, hex, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (base == 10) {
                const char *d = buf + (buf[0] == '+' || buf[0] == '-');
                is_float = strpbrk(d, ".eE") != NULL;
                if (!is_digit(d[0]) || (d[0] == '0' && is_digit(d[1])))
                        return toml_error(t, "invalid number \"%s\"", buf);
                const char *dot = strchr(d, '.');
                if (dot && !is_digit(dot[1]))
                        return toml_error(t, "invalid number \"%s\": digits must follow '.'", buf);
                if (dot && (!is_digit(dot[-1])))
                        return toml_error(t, "invalid number \"%s\"", buf);
        } else if (!buf[0] || buf[0] == '+' || buf[0] == '-')
                return toml_error(t, "invalid number");
        errno = 0;
        if (is_float) {
                double d = strtod(buf, &e);
                if (*e || errno == ERANGE || !isfinite(d))
                        return toml_error(t, "invalid float \"%s\"", buf);
                *ret = vl_json_new_double(d);
        } else {
                long long i = strtoll(buf, &e, base);
                if (*e || errno == ERANGE)
                        return toml_error(t, "invalid or out-of-range integer \"%s\"", buf);
                *ret = vl_json_new_int(i);
        }
        return *ret ? 0 : toml_oom(t);
}

static int parse_array(Toml *t, unsigned depth, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *a = vl_json_new_array();
        int r;

        if (!a)
                return toml_oom(t);
        t->p++; /* [ */
        for (;;) {
                VlJson *v = NULL;

                skip_ws_nl(t);
                if (peek(t) == ']')
                        break;
                r = parse_value(t, depth + 1, &v);
                if (r < 0)
                        return r;
                if (vl_json_array_append(a, v) < 0)
                        return toml_oom(t);
                skip_ws_nl(t);
                if (peek(t) == ',') {
                        t->p++;
                        continue;
                }
                if (peek(t) != ']')
                        return toml_error(t, "expected ',' or ']' in array");
                break;
        }
        t->p++;
        r = mark_set(t, a, MARK_FROZEN);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

static int assign(Toml *t, VlJson *table, Key *k, VlJson *v);

static int parse_inline_table(Toml *t, unsigned depth, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        int r;

        if (!o)
                return toml_oom(t);
        t->p++; /* { */
        skip_ws(t);
        if (peek(t) == '}') {
                t->p++;
                r = mark_set(t, o, MARK_FROZEN);
                if (r >= 0)
                        *ret = TAKE_PTR(o);
                return r;
        }
        for (;;) {
                Key k = {};
                VlJson *v = NULL;

                r = parse_key(t, &k);
                if (r >= 0 && depth + k.n > TOML_MAX_DEPTH)
                        r = toml_error(t, "nested deeper than %u levels", TOML_MAX_DEPTH);
                if (r >= 0 && peek(t) != '=')
                        r = toml_error(t, "expected '=' after key");
                if (r >= 0) {
                        t->p++;
                        skip_ws(t);
                        r = parse_value(t, depth + k.n, &v);
                }
                if (r >= 0)
                        r = assign(t, o, &k, v);
                key_done(&k);
                if (r < 0)
                        return r;
                skip_ws(t);
                if (peek(t) == '}')
                        break;
                if (peek(t) != ',')
                        return toml_error(t, "expected ',' or '}' in inline table");
                t->p++;
        }
        t->p++;
        r = mark_set(t, o, MARK_FROZEN);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static bool looks_like_datetime(const Toml *t) {
        const char *p = t->p;
        size_t n = t->end - p;

        return (n >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
                p[4] == '-') ||
               (n >= 3 && is_digit(p[0]) && is_digit(p[1]) && p[2] == ':');
}

static int parse_value(Toml *t, unsigned depth, VlJson **ret) {
        char c = peek(t);

        if (depth > TOML_MAX_DEPTH)
                return toml_error(t, "nested deeper than %u levels", TOML_MAX_DEPTH);
        if (c == '"' || c == '\'') {
                VlBuf b = VL_BUF_INIT;
                int r = parse_string(t, true, &b);
                if (r >= 0) {
                        *ret = vl_json_new_stringn(b.data ?: "", b.len);
                        r = *ret ? 0 : toml_oom(t);
                }
                vl_buf_free(&b);
                return r;
        }
        if (c == '[')
                return parse_array(t, depth, ret);
        if (c == '{')
                return parse_inline_table(t, depth, ret);
        if (looking_at(t, "true") && !is_bare(t->end - t->p > 4 ? t->p[4] : 0)) {
                t->p += 4;
                *ret = vl_json_bool(true);
                return 0;
        }
        if (looking_at(t, "false") && !is_bare(t->end - t->p > 5 ? t->p[5] : 0)) {
                t->p += 5;
                *ret = vl_json_bool(false);
                return 0;
        }
        if (looks_like_datetime(t))
                return parse_datetime(t, ret);
        if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
                return parse_number(t, ret);
        if (at_eof(t) || c == '\n' || c == '#')
                return toml_error(t, "expected a value");
        return toml_error(t, "invalid value starting with '%c'", c);
}

/* Everything in an inline table is final once its '}' is read. */
static int freeze(Toml *t, const VlJson *o, unsigned depth) {
        const char *k;
        VlJson *v;
        int r;

        if (depth > 2 * TOML_MAX_DEPTH)
                return 0;
        r = mark_set(t, o, MARK_FROZEN);
        VL_JSON_FOREACH_MEMBER (k, v, o) {
                if (r < 0)
                        return r;
                if (vl_json_type(v) == VL_JSON_OBJECT)
                        r = freeze(t, v, depth + 1);
        }
        return r;
}

static int key_error(Toml *t, const Key *k, size_t upto, const char *what) {
        char path[256] = "";
        size_t n = 0;

        for (size_t i = 0; i <= upto && i < k->n && n < sizeof(path) - 1; i++)
                n += snprintf(path + n, sizeof(path) - n, "%s%s", i ? "." : "", k->parts[i]);
        return toml_error(t, "%s '%s'", what, path);
}

/* Descends one key part from table for a header (dotted == false) or a dotted key. */
static int descend(Toml *t, VlJson *table, const Key *k, size_t i, bool dotted, VlJson **ret) {
        VlJson *child = vl_json_object_get(table, k->parts[i]);
        unsigned f;

        if (!child) {
                child = vl_json_new_object();
                if (!child || vl_json_object_set(table, k->parts[i], child) < 0)
                        return toml_oom(t);
                *ret = child;
                return mark_set(t, child, dotted ? MARK_DOTTED : MARK_IMPLICIT);
        }
        f = mark_get(t, child);
        if (vl_json_type(child) == VL_JSON_ARRAY && (f & MARK_AOT) && !dotted) {
                *ret = vl_json_array_get(child, vl_json_array_length(child) - 1);
                return 0;
        }
        if (vl_json_type(child) != VL_JSON_OBJECT)
                return key_error(t, k, i, "key already holds a value:");
        if (f & MARK_FROZEN)
                return key_error(t, k, i, "cannot extend inline table");
        if (dotted && (f & MARK_HEADER))
                return key_error(t, k, i, "cannot add dotted keys to a table defined by a header:");
        *ret = child;
        return 0;
}

static int assign(Toml *t, VlJson *table, Key *k, VlJson *v) {
        int r = 0;

        for (size_t i = 0; i + 1 < k->n && r >= 0; i++)
                r = descend(t, table, k, i, true, &table);
        if (r >= 0 && vl_json_object_get(table, k->parts[k->n - 1]))
                r = key_error(t, k, k->n - 1, "duplicate key");
        if (r < 0) {
                vl_json_unref(v);
                return r;
        }
        if (vl_json_object_set(table, k->parts[k->n - 1], v) < 0)
                return toml_oom(t);
        return 0;
}

static int parse_header(Toml *t) {
        bool aot = looking_at(t, "[[");
        VlJson *table = t->root, *child;
        Key k = {};
        unsigned f;
        int r;

        t->p += aot ? 2 : 1;
        r = parse_key(t, &k);
        if (r >= 0 && !looking_at(t, aot ? "]]" : "]"))
                r = toml_error(t, "expected '%s' after table name", aot ? "]]" : "]");
        for (size_t i = 0; r >= 0 && i + 1 < k.n; i++)
                r = descend(t, table, &k, i, false, &table);
        if (r < 0)
                goto finish;
        t->p += aot ? 2 : 1;
        child = vl_json_object_get(table, k.parts[k.n - 1]);
        f = child ? mark_get(t, child) : 0;
        if (aot) {
                VlJson *o = vl_json_new_object();
                if (!child) {
                        child = vl_json_new_array();
                        if (!child || vl_json_object_set(table, k.parts[k.n - 1], child) < 0 ||
                            (r = mark_set(t, child, MARK_AOT)) < 0) {
                                vl_json_unref(o);
                                r = r < 0 ? r : toml_oom(t);
                                goto finish;
                        }
                } else if (vl_json_type(child) != VL_JSON_ARRAY || !(f & MARK_AOT)) {
                        vl_json_unref(o);
                        r = key_error(t, &k, k.n, "not an array of tables:");
                        goto finish;
                }
                if (!o || vl_json_array_append(child, o) < 0) {
                        r = toml_oom(t);
                        goto finish;
                }
                child = o;
        } else if (!child) {
                child = vl_json_new_object();
                if (!child || vl_json_object_set(table, k.parts[k.n - 1], child) < 0) {
                        r = toml_oom(t);
                        goto finish;
                }
        } else if (vl_json_type(child) != VL_JSON_OBJECT || (f & ~MARK_IMPLICIT)) {
                r = key_error(t, &k, k.n, "table defined twice:");
                goto finish;
        }
        r = mark_set(t, child, MARK_HEADER);
        t->cur = child;
        if (r >= 0)
                r = expect_eol(t);
finish:
        key_done(&k);
        return r;
}

static int parse_keyval(Toml *t) {
        VlJson *v = NULL;
        Key k = {};
        int r;

        r = parse_key(t, &k);
        if (r >= 0 && peek(t) != '=')
                r = toml_error(t, "expected '=' after key");
        if (r >= 0) {
                t->p++;
                skip_ws(t);
                r = parse_value(t, k.n, &v);
        }
        if (r >= 0 && vl_json_type(v) == VL_JSON_OBJECT)
                r = freeze(t, v, 0);
        if (r >= 0)
                r = assign(t, t->cur, &k, TAKE_PTR(v));
        vl_json_unref(v);
        key_done(&k);
        return r < 0 ? r : expect_eol(t);
}

static int utf8_check(const char *s, size_t n, unsigned *ret_line) {
        unsigned line = 1;

        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)s[i];
                size_t len = c < 0x80             ? 1
                             : (c & 0xe0) == 0xc0 ? 2
                             : (c & 0xf0) == 0xe0 ? 3
                             : (c & 0xf8) == 0xf0 ? 4
                                                  : 0;
                uint32_t cp;

                if (c == '\n')
                        line++;
                if (c == 0 || len == 0 || i + len > n)
                        goto bad;
                cp = len == 1 ? c : c & (0x7f >> len);
                for (size_t j = 1; j < len; j++) {
                        if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                                goto bad;
                        cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        goto bad;
                i += len;
        }
        return 0;
bad:
        *ret_line = line;
        return -EINVAL;
}

int toml_parse(const char *text, size_t len, VlJson **ret, CpodError *err) {
        Toml t = {.p = text, .end = text + len, .line = 1, .err = err};
        unsigned bad_line;
        int r = 0;

        if (len > TOML_MAX_SIZE)
                return cpod_error(err, E2BIG, "larger than %u bytes", TOML_MAX_SIZE);
        if (utf8_check(text, len, &bad_line) < 0)
                return cpod_error(err, EINVAL, "line %u: invalid UTF-8 or NUL byte", bad_line);
        t.root = t.cur = vl_json_new_object();
        if (!t.root)
                return cpod_error(err, ENOMEM, "out of memory");
        for (;;) {
                skip_ws_nl(&t);
                if (at_eof(&t))
                        break;
                r = peek(&t) == '[' ? parse_header(&t) : parse_keyval(&t);
                if (r < 0)
                        break;
        }
        free(t.marks);
        if (r < 0) {
                vl_json_unref(t.root);
                return r;
        }
        *ret = t.root;
        return 0;
}
