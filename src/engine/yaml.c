/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yaml.h"

/* One line with content: p points past the indentation (a sequence entry's content is re-read as a line
 * of its own, at its column). Blank and comment-only lines are dropped when splitting. */
typedef struct Line {
        const char *p, *end;
        unsigned indent, no;
        char marker; /* '-' for "---", '.' for "...", 0 for content */
} Line;

typedef struct Yaml {
        Line *lines;
        size_t n, cap, i;
        unsigned depth;
        CpodError *err;
} Yaml;

static int yaml_error(unsigned line, CpodError *err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int yaml_error(unsigned line, CpodError *err, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return cpod_error(err, EINVAL, "line %u: %s", line, msg);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Length of the UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
        unsigned c = p[0], n, min, cp;

        if (c < 0x80)
                return 1;
        if ((c & 0xE0) == 0xC0)
                n = 2, min = 0x80, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
                n = 3, min = 0x800, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
                n = 4, min = 0x10000, cp = c & 0x07;
        else
                return 0;
        if ((size_t)(end - p) < n)
                return 0;
        for (unsigned k = 1; k < n; k++) {
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

/* Refuse what no scalar may hold: invalid UTF-8, NUL and control characters other than tab. */
static int check_text(const char *p, const char *end, unsigned no, CpodError *err) {
        while (p < end) {
                unsigned char c = (unsigned char)*p;
                size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
                if (n == 0)
                        return yaml_error(no, err, "invalid UTF-8");
                if ((c < 0x20 && c != '\t') || c == 0x7F)
                        return yaml_error(no, err, "control character 0x%02x", c);
                p += n;
        }
        return 0;
}

static bool is_marker(const char *p, const char *end, char c) {
        return end - p >= 3 && p[0] == c && p[1] == c && p[2] == c && (end - p == 3 || is_blank(p[3]));
}

static int add_line(Yaml *y, const char *p, const char *end, unsigned no) {
        const char *s = p;
        Line l = {.end = end, .no = no};
        int r;

        if (end > p && end[-1] == '\r')
                l.end = --end;
        if ((r = check_text(p, end, no, y->err)) < 0)
                return r;
        while (s < end && *s == ' ')
                s++;
        if (s == end || *s == '#')
                return 0;
        if (*s == '\t') {
                while (s < end && is_blank(*s))
                        s++;
                if (s == end || *s == '#')
                        return 0;
                return yaml_error(no, y->err, "tabs are not allowed in indentation");
        }
        l.p = s;
        l.indent = (unsigned)(s - p);
        if (l.indent == 0 && (is_marker(s, end, '-') || is_marker(s, end, '.'))) {
                const char *t = s + 3;
                while (t < end && is_blank(*t))
                        t++;
                if (t < end && *t != '#')
                        return yaml_error(no, y->err, "content after a document marker is not supported");
                l.marker = *s;
        } else if (l.indent == 0 && *s == '%')
                return yaml_error(no, y->err, "directives are not supported");
        if (VL_GROW(y->lines, y->cap, y->n + 1) < 0)
                return cpod_error(y->err, ENOMEM, "out of memory");
        y->lines[y->n++] = l;
        return 0;
}

static int split_lines(Yaml *y, const char *text, size_t len) {
        const char *p = text, *end = text + len;
        unsigned no = 1;
        int r;

        if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3;
        while (p < end) {
                const char *nl = memchr(p, '\n', end - p);
                if ((r = add_line(y, p, nl ?: end, no++)) < 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* ---- scalars ---- */

static int hex_value(const char *p, int n, uint32_t *ret) {
        uint32_t v = 0;
        for (int k = 0; k < n; k++) {
                char c = p[k];
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (uint32_t)d;
        }
        *ret = v;
        return 0;
}

static int append_utf8(VlBuf *b, uint32_t cp) {
        char s[4];
        size_t n;

        if (cp < 0x80)
                s[0] = (char)cp, n = 1;
        else if (cp < 0x800)
                s[0] = (char)(0xC0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        else if (cp < 0x10000)
                s[0] = (char)(0xE0 | cp >> 12), s[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
                s[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        else
                s[0] = (char)(0xF0 | cp >> 18), s[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
                s[2] = (char)(0x80 | (cp >> 6 & 0x3F)), s[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
        return vl_buf_append(b, s, n);
}

static int escape(VlBuf *b, const char **pp, const char *end, unsigned no, CpodError *err) {
        static const char from[] = "0abtnvfre\"\\/ ", to[] = "\0\a\b\t\n\v\f\r\x1b\"\\/ ";
        const char *p = *pp, *f;
        uint32_t cp;
        int n;

        if (p >= end)
                return yaml_error(no, err, "unterminated double-quoted scalar");
        if ((f = memchr(from, *p, sizeof(from) - 1))) {
                *pp = p + 1;
                return vl_buf_append_char(b, to[f - from]);
        }
        n = *p == 'x' ? 2 : *p == 'u' ? 4 : *p == 'U' ? 8 : 0;
        if (n == 0)
                return yaml_error(no, err, "unknown escape \\%c", *p);
        if (end - p - 1 < n || hex_value(p + 1, n, &cp) < 0)
                return yaml_error(no, err, "bad hexadecimal escape");
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return yaml_error(no, err, "escape \\%c%.*s is not a Unicode scalar value", *p, n, p + 1);
        *pp = p + 1 + n;
        return append_utf8(b, cp);
}

/* A quoted scalar starting at *pp (on the quote); *pp moves past the closing quote. */
static int quoted(const char **pp, const char *end, unsigned no, VlJson **ret, CpodError *err) {
        const char *p = *pp;
        char q = *p++;
        VlBuf b = VL_BUF_INIT;
        int r = 0;

        for (;;) {
                if (p >= end) {
                        r = yaml_error(no, err,
                                       "unterminated %s-quoted scalar (quoted scalars must fit on one line)",
                                       q == '"' ? "double" : "single");
                        break;
                }
                if (*p == q && q == '\'' && p + 1 < end && p[1] == '\'') {
                        r = vl_buf_append_char(&b, '\'');
                        p += 2;
                } else if (*p == q) {
                        p++;
                        break;
                } else if (*p == '\\' && q == '"') {
                        p++;
                        r = escape(&b, &p, end, no, err);
                } else
                        r = vl_buf_append_char(&b, *p++);
                if (r < 0)
                        break;
        }
        if (r >= 0 && !(*ret = vl_json_new_stringn(b.data ?: "", b.len)))
                r = cpod_error(err, ENOMEM, "out of memory");
        vl_buf_free(&b);
        if (r == -ENOMEM && err && err->code != ENOMEM)
                r = cpod_error(err, ENOMEM, "out of memory");
        *pp = p;
        return r;
}

/* Where a plain scalar starting at p ends: at a comment, at ": " (a mapping value) and, in flow context, at
 * a flow indicator. Trailing blanks are not part of it. */
static const char *plain_end(const char *p, const char *end, bool flow) {
        const char *s = p, *last = p;

        while (s < end) {
                if (*s == '#' && s > p && is_blank(s[-1]))
                        break;
                if (*s == ':' && (s + 1 == end || is_blank(s[1]) || (flow && strchr(",[]{}", s[1]))))
                        break;
                if (flow && strchr(",[]{}", *s))
                        break;
                if (!is_blank(*s))
                        last = s + 1;
                s++;
        }
        return last;
}

static int check_indicator(const char *p, const char *end, unsigned no, CpodError *err) {
        bool spaced = p + 1 >= end || is_blank(p[1]);

        if (p >= end)
                return 0;
        if (strchr("&*!", *p))
                return yaml_error(no, err, "anchors, aliases and tags are not supported");
        if (*p == '|' || *p == '>')
                return yaml_error(no, err, "block scalars are not supported");
        if (strchr("@`%", *p))
                return yaml_error(no, err, "'%c' cannot start a plain scalar", *p);
        if (*p == '?' && spaced)
                return yaml_error(no, err, "complex mapping keys are not supported");
        if (*p == '-' && spaced)
                return yaml_error(no, err, "sequence entries are not allowed here");
        if (*p == ':' && spaced)
                return yaml_error(no, err, "mapping values are not allowed here");
        return 0;
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && is_blank(*p))
                p++;
        return p;
}

static int flow_value(Yaml *y, const char **pp, const char *end, unsigned no, VlJson **ret);

static int flow_scalar(Yaml *y, const char **pp, const char *end, unsigned no, VlJson **ret) {
        const char *p = *pp, *e;
        int r;

        if (*p == '"' || *p == '\'')
                return quoted(pp, end, no, ret, y->err);
        if ((r = check_indicator(p, end, no, y->err)) < 0)
                return r;
        e = plain_end(p, end, true);
        if (e == p)
                return yaml_error(no, y->err, "expected a value");
        if (!(*ret = vl_json_new_stringn(p, e - p)))
                return cpod_error(y->err, ENOMEM, "out of memory");
        *pp = e;
        return 0;
}

static int flow_member(Yaml *y, VlJson *o, const char **pp, const char *end, unsigned no) {
        _cleanup_(vl_json_unrefp) VlJson *k = NULL;
        VlJson *v = NULL;
        const char *p;
        int r;

        if ((r = flow_scalar(y, pp, end, no, &k)) < 0)
                return r;
        p = skip_blanks(*pp, end);
        if (p >= end || *p != ':')
                return yaml_error(no, y->err, "expected ':' in flow mapping");
        p = skip_blanks(p + 1, end);
        if (p < end && *p != ',' && *p != '}' && (r = flow_value(y, &p, end, no, &v)) < 0)
                return r;
        *pp = p;
        if (vl_json_object_get(o, vl_json_get_string(k))) {
                vl_json_unref(v);
                return yaml_error(no, y->err, "duplicate key \"%s\"", vl_json_get_string(k));
        }
        if (vl_json_object_set(o, vl_json_get_string(k), v ?: vl_json_null()) < 0)
                return cpod_error(y->err, ENOMEM, "out of memory");
        return 0;
}

static int flow_collection(Yaml *y, const char **pp, const char *end, unsigned no, VlJson **ret) {
        bool map = **pp == '{';
        char close = map ? '}' : ']';
        _cleanup_(vl_json_unrefp) VlJson *c = map ? vl_json_new_object() : vl_json_new_array();
        const char *p = *pp + 1;
        int r;

        if (!c)
                return cpod_error(y->err, ENOMEM, "out of memory");
        if (++y->depth > YAML_MAX_DEPTH)
                return yaml_error(no, y->err, "nesting deeper than %u", YAML_MAX_DEPTH);
        for (;;) {
                p = skip_blanks(p, end);
                if (p >= end || *p == '#')
                        return yaml_error(no, y->err,
                                          "unterminated flow collection (it must fit on one line)");
                if (*p == close)
                        break;
                if (map)
                        r = flow_member(y, c, &p, end, no);
                else {
                        VlJson *v = NULL;
                        r = flow_value(y, &p, end, no, &v);
                        if (r >= 0 && vl_json_array_append(c, v) < 0)
                                r = cpod_error(y->err, ENOMEM, "out of memory");
                }
                if (r < 0)
                        return r;
                p = skip_blanks(p, end);
                if (p < end && *p == ',')
                        p++;
                else if (p >= end || *p == '#')
                        return yaml_error(no, y->err,
                                          "unterminated flow collection (it must fit on one line)");
                else if (*p != close)
                        return yaml_error(no, y->err, "expected ',' or '%c' in flow collection", close);
        }
        y->depth--;
        *pp = p + 1;
        *ret = TAKE_PTR(c);
        return 0;
}

static int flow_value(Yaml *y, const char **pp, const char *end, unsigned no, VlJson **ret) {
        if (**pp == '[' || **pp == '{')
                return flow_collection(y, pp, end, no, ret);
        return flow_scalar(y, pp, end, no, ret);
}

/* A value that fills the rest of a line (p is not blank, not a comment). */
static int inline_value(Yaml *y, const char *p, const char *end, unsigned no, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *v = NULL;
        const char *e;
        int r;

        if (*p == '"' || *p == '\'' || *p == '[' || *p == '{') {
                r = *p == '[' || *p == '{' ? flow_collection(y, &p, end, no, &v)
                                           : quoted(&p, end, no, &v, y->err);
                if (r < 0)
                        return r;
                p = skip_blanks(p, end);
                if (p < end && *p != '#')
                        return yaml_error(no, y->err, "unexpected text after a value");
        } else {
                if ((r = check_indicator(p, end, no, y->err)) < 0)
                        return r;
                e = plain_end(p, end, false);
                if (skip_blanks(e, end) < end && *skip_blanks(e, end) == ':')
                        return yaml_error(no, y->err, "mapping values are not allowed here");
                if (!(v = vl_json_new_stringn(p, e - p)))
                        return cpod_error(y->err, ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* ---- block structure ---- */

static bool is_entry(const Line *l) {
        return l->p[0] == '-' && (l->p + 1 == l->end || is_blank(l->p[1]));
}

/* Whether the line is "key: ..." (the key may be quoted); *ret_colon is the colon. */
static bool find_key(const Line *l, const char **ret_colon) {
        const char *p = l->p;

        if (*p == '[' || *p == '{')
                return false;
        if (*p == '"' || *p == '\'') {
                char q = *p++;
                while (p < l->end && (*p != q || (q == '\'' && p + 1 < l->end && p[1] == '\'')))
                        p += (*p == '\\' && q == '"') || (*p == '\'' && q == '\'') ? 2 : 1;
                if (p >= l->end)
                        return false;
                p = skip_blanks(p + 1, l->end);
                if (p >= l->end || *p != ':' || (p + 1 < l->end && !is_blank(p[1])))
                        return false;
        } else {
                p = plain_end(p, l->end, false);
                p = skip_blanks(p, l->end);
                if (p >= l->end || *p != ':')
                        return false;
        }
        *ret_colon = p;
        return true;
}

static const Line *cur(const Yaml *y) {
        return y->i < y->n && !y->lines[y->i].marker ? &y->lines[y->i] : NULL;
}

static int block(Yaml *y, VlJson **ret);

/* The value of a key or entry whose line ended after the indicator: a nested block, or null. */
static int nested(Yaml *y, unsigned indent, bool same_indent_seq, VlJson **ret) {
        const Line *l = cur(y);

        if (l && (l->indent > indent || (same_indent_seq && l->indent == indent && is_entry(l))))
                return block(y, ret);
        *ret = vl_json_null();
        return 0;
}

static int block_sequence(Yaml *y, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *a = vl_json_new_array();
        unsigned indent = cur(y)->indent;
        Line *l;
        int r;

        if (!a)
                return cpod_error(y->err, ENOMEM, "out of memory");
        while ((l = (Line *)cur(y)) && l->indent == indent && is_entry(l)) {
                const char *p = skip_blanks(l->p + 1, l->end);
                VlJson *v = NULL;
                if (p == l->end || *p == '#') {
                        y->i++;
                        r = nested(y, indent, false, &v);
                } else {
                        /* the entry's content is a line of its own, at its column */
                        l->indent += (unsigned)(p - l->p);
                        l->p = p;
                        r = block(y, &v);
                }
                if (r < 0)
                        return r;
                if (vl_json_array_append(a, v) < 0)
                        return cpod_error(y->err, ENOMEM, "out of memory");
                if ((l = (Line *)cur(y)) && l->indent > indent)
                        return yaml_error(l->no, y->err, "bad indentation of a sequence entry");
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int map_key(Yaml *y, const Line *l, const char *colon, VlJson **ret) {
        const char *p = l->p;
        int r;

        if (*p == '"' || *p == '\'')
                return quoted(&p, colon, l->no, ret, y->err);
        if (p == colon)
                return yaml_error(l->no, y->err, "empty mapping keys are not supported");
        if ((r = check_indicator(p, colon, l->no, y->err)) < 0)
                return r;
        if (!(*ret = vl_json_new_stringn(p, plain_end(p, colon, false) - p)))
                return cpod_error(y->err, ENOMEM, "out of memory");
        return 0;
}

static int block_mapping(Yaml *y, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        unsigned indent = cur(y)->indent;
        const Line *l;
        int r;

        if (!o)
                return cpod_error(y->err, ENOMEM, "out of memory");
        while ((l = cur(y)) && l->indent == indent) {
                _cleanup_(vl_json_unrefp) VlJson *k = NULL;
                VlJson *v = NULL;
                const char *colon, *p;
                unsigned no = l->no;
                if (!find_key(l, &colon))
                        return yaml_error(no, y->err,
                                          is_entry(l) ? "sequence entries are not allowed here"
                                                      : "expected a mapping key");
                if ((r = map_key(y, l, colon, &k)) < 0)
                        return r;
                if (vl_json_object_get(o, vl_json_get_string(k)))
                        return yaml_error(no, y->err, "duplicate key \"%s\"", vl_json_get_string(k));
                p = skip_blanks(colon + 1, l->end);
                if (p == l->end || *p == '#') {
                        y->i++;
                        r = nested(y, indent, true, &v);
                } else {
                        r = inline_value(y, p, l->end, no, &v);
                        y->i++;
                }
                if (r < 0)
                        return r;
                if (vl_json_object_set(o, vl_json_get_string(k), v) < 0)
                        return cpod_error(y->err, ENOMEM, "out of memory");
                if ((l = cur(y)) && l->indent > indent)
                        return yaml_error(l->no, y->err, "bad indentation of a mapping entry");
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* The node starting at the current line, which has content. */
static int block(Yaml *y, VlJson **ret) {
        const Line *l = cur(y);
        const char *colon;
        int r;

        if (++y->depth > YAML_MAX_DEPTH)
                return yaml_error(l->no, y->err, "nesting deeper than %u", YAML_MAX_DEPTH);
        if (is_entry(l))
                r = block_sequence(y, ret);
        else if (find_key(l, &colon))
                r = block_mapping(y, ret);
        else {
                r = inline_value(y, l->p, l->end, l->no, ret);
                y->i++;
        }
        y->depth--;
        return r;
}

static int document(Yaml *y, VlJson *docs, bool explicit) {
        const Line *l = cur(y);
        VlJson *v = NULL;
        int r;

        if (!l && !explicit)
                return 0;
        if (l && (r = block(y, &v)) < 0)
                return r;
        if ((l = cur(y))) {
                vl_json_unref(v);
                return yaml_error(l->no, y->err, "unexpected content (bad indentation?)");
        }
        if (vl_json_array_append(docs, v ?: vl_json_null()) < 0)
                return cpod_error(y->err, ENOMEM, "out of memory");
        return 0;
}

int yaml_parse(const char *text, size_t len, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *docs = vl_json_new_array();
        Yaml y = {.err = err};
        bool explicit = false;
        int r;

        if (len > YAML_MAX_SIZE)
                return cpod_error(err, E2BIG, "larger than %u bytes", YAML_MAX_SIZE);
        if (!docs)
                return cpod_error(err, ENOMEM, "out of memory");
        r = split_lines(&y, text, len);
        while (r >= 0) {
                r = document(&y, docs, explicit);
                if (r < 0 || y.i >= y.n)
                        break;
                /* at a marker: "---" starts a document, "..." ends one */
                explicit = y.lines[y.i++].marker == '-';
        }
        free(y.lines);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(docs);
        return 0;
}

/* ---- writing ---- */

static bool plain_looks_typed(const char *s, size_t n) {
        static const char *const words[] = {"null", "~", "true", "false", "yes",   "no",   "on", "off",
                                            "y",    "n", ".inf", "-.inf", "+.inf", ".nan", NULL};

        if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+' || s[0] == '.') && n > 1 &&
                                             ((s[1] >= '0' && s[1] <= '9') || s[1] == '.')))
                return true;
        for (size_t k = 0; words[k]; k++)
                if (strlen(words[k]) == n && strncasecmp(s, words[k], n) == 0)
                        return true;
        return false;
}

/* Whether s can be written plain and read back as the same string. */
static bool plain_safe(const char *s, size_t n) {
        if (n == 0 || plain_looks_typed(s, n) || is_blank(s[0]) || is_blank(s[n - 1]))
                return false;
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) /* read as a byte order mark at the start */
                return false;
        if (strchr(",[]{}#&*!|>'\"%@`", s[0]) || s[n - 1] == ':')
                return false;
        if (strchr("-?:", s[0]) && (n == 1 || is_blank(s[1]) || s[1] == s[0]))
                return false;
        for (size_t k = 0; k < n; k++) {
                unsigned char c = (unsigned char)s[k];
                if (c < 0x20 || c == 0x7F)
                        return false;
                if (c == ':' && k + 1 < n && is_blank(s[k + 1]))
                        return false;
                if (c == '#' && k > 0 && is_blank(s[k - 1]))
                        return false;
        }
        return true;
}

static int write_string(VlBuf *b, const char *s, size_t n) {
        int r;

        if (plain_safe(s, n))
                return vl_buf_append(b, s, n);
        r = vl_buf_append_char(b, '"');
        for (size_t k = 0; r >= 0 && k < n; k++) {
                unsigned char c = (unsigned char)s[k];
                const char *esc = c == '"'    ? "\\\""
                                  : c == '\\' ? "\\\\"
                                  : c == '\n' ? "\\n"
                                  : c == '\t' ? "\\t"
                                  : c == '\r' ? "\\r"
                                  : c == 0    ? "\\0"
                                              : NULL;
                char hex[5];
                if (!esc && (c < 0x20 || c == 0x7F)) {
                        snprintf(hex, sizeof(hex), "\\x%02x", c);
                        esc = hex;
                }
                r = esc ? vl_buf_append_str(b, esc) : vl_buf_append_char(b, (char)c);
        }
        return r < 0 ? r : vl_buf_append_char(b, '"');
}

static int write_scalar(VlBuf *b, const VlJson *v) {
        char num[32];
        _cleanup_free_ char *d = NULL;

        switch (vl_json_type(v)) {
        case VL_JSON_STRING:
                return write_string(b, vl_json_get_string(v), vl_json_get_string_length(v));
        case VL_JSON_BOOL:
                return vl_buf_append_str(b, vl_json_get_bool(v) ? "true" : "false");
        case VL_JSON_INT:
                snprintf(num, sizeof(num), "%" PRId64, vl_json_get_int(v));
                return vl_buf_append_str(b, num);
        case VL_JSON_UINT:
                snprintf(num, sizeof(num), "%" PRIu64, vl_json_get_uint(v));
                return vl_buf_append_str(b, num);
        case VL_JSON_DOUBLE:
                d = vl_json_to_string(v, 0);
                return d ? vl_buf_append_str(b, d) : -ENOMEM;
        default:
                return 0; /* null: nothing after the indicator */
        }
}

static bool is_block(const VlJson *v) {
        return (vl_json_type(v) == VL_JSON_ARRAY && vl_json_array_length(v) > 0) ||
               (vl_json_type(v) == VL_JSON_OBJECT && vl_json_object_length(v) > 0);
}

static int indent_to(VlBuf *b, unsigned n) {
        int r = 0;
        for (unsigned k = 0; r >= 0 && k < n; k++)
                r = vl_buf_append_char(b, ' ');
        return r;
}

/* Write node v whose first line is already indented (or follows "- "); later lines at indent. */
static int write_node(VlBuf *b, const VlJson *v, unsigned indent, unsigned depth);

static int write_member(VlBuf *b, const char *k, const VlJson *v, unsigned indent, unsigned depth) {
        int r = write_string(b, k, strlen(k));

        r = r < 0 ? r : vl_buf_append_char(b, ':');
        if (r < 0)
                return r;
        if (r >= 0 && !is_block(v)) {
                if (!vl_json_is_null(v))
                        r = vl_buf_append_char(b, ' ');
                r = r < 0 ? r : write_node(b, v, indent, depth);
                return r < 0 ? r : vl_buf_append_char(b, '\n');
        }
        r = vl_buf_append_char(b, '\n');
        /* a sequence sits at its key's indent, as kubectl and podman write it */
        unsigned child = vl_json_type(v) == VL_JSON_ARRAY ? indent : indent + 2;
        r = r < 0 ? r : indent_to(b, child);
        return r < 0 ? r : write_node(b, v, child, depth);
}

static int write_node(VlBuf *b, const VlJson *v, unsigned indent, unsigned depth) {
        const char *k;
        const VlJson *x;
        bool first = true;
        int r = 0;

        if (!is_block(v)) {
                if (vl_json_type(v) == VL_JSON_ARRAY || vl_json_type(v) == VL_JSON_OBJECT)
                        return vl_buf_append_str(b, vl_json_type(v) == VL_JSON_ARRAY ? "[]" : "{}");
                return write_scalar(b, v);
        }
        if (depth >= YAML_MAX_DEPTH)
                return -ELOOP;
        if (vl_json_type(v) == VL_JSON_OBJECT) {
                VL_JSON_FOREACH_MEMBER (k, x, v) {
                        r = first ? 0 : indent_to(b, indent);
                        r = r < 0 ? r : write_member(b, k, x, indent, depth + 1);
                        if (r < 0)
                                return r;
                        first = false;
                }
                return 0;
        }
        VL_JSON_FOREACH_ELEMENT (x, v) {
                r = first ? 0 : indent_to(b, indent);
                r = r < 0 ? r : vl_buf_append_str(b, vl_json_is_null(x) ? "-" : "- ");
                r = r < 0 ? r : write_node(b, x, indent + 2, depth + 1);
                if (r >= 0 && !is_block(x))
                        r = vl_buf_append_char(b, '\n');
                if (r < 0)
                        return r;
                first = false;
        }
        return 0;
}

int yaml_write(VlBuf *b, const VlJson *v) {
        int r = write_node(b, v, 0, 0);

        if (r >= 0 && !is_block(v))
                r = vl_buf_append_char(b, '\n');
        return r;
}

int yaml_write_stream(VlBuf *b, const VlJson *docs) {
        const VlJson *d;
        size_t i = 0;
        int r = 0;

        VL_JSON_FOREACH_ELEMENT (d, docs) {
                /* an empty first document needs its marker to exist at all */
                if (i++ > 0 || vl_json_is_null(d))
                        r = vl_buf_append_str(b, "---\n");
                if (r >= 0 && !vl_json_is_null(d))
                        r = yaml_write(b, d);
                if (r < 0)
                        return r;
        }
        return 0;
}
