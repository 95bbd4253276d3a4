/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "template.h"
#include "util.h"

/* podman's tabwriter settings: cells at least 12 wide, 2 spaces of padding. */
#define TABLE_MIN_WIDTH 12
#define TABLE_PADDING   2

bool output_is_json(const char *format) {
        return format && (streq(format, "json") || streq(format, "{{json .}}"));
}

static size_t utf8_width(const char *s, size_t n) {
        size_t w = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80)
                        w++;
        return w;
}

/*
 * Align text whose cells are separated by tabs, as Go's tabwriter does for podman: every cell that a tab
 * ends is padded to the widest such cell of its column (plus padding, at least the minimum width); the
 * last cell of a line is printed as it is.
 */
static int table_flush(const char *text, size_t len, FILE *f) {
        static const char spaces[] = "                                                                ";
        _cleanup_free_ size_t *widths = NULL;
        size_t n_widths = 0, cap = 0;

        for (const char *line = text, *end = text + len; line < end;) {
                const char *nl = memchr(line, '\n', end - line), *eol = nl ? nl : end;
                size_t col = 0;

                for (const char *cell = line, *tab; (tab = memchr(cell, '\t', eol - cell));
                     cell = tab + 1, col++) {
                        size_t w = utf8_width(cell, tab - cell) + TABLE_PADDING;

                        if (col >= n_widths) {
                                if (VL_GROW(widths, cap, col + 1) < 0)
                                        return -ENOMEM;
                                widths[n_widths++] = TABLE_MIN_WIDTH;
                        }
                        widths[col] = MAX(widths[col], w);
                }
                line = nl ? nl + 1 : end;
        }
        for (const char *line = text, *end = text + len; line < end;) {
                const char *nl = memchr(line, '\n', end - line), *eol = nl ? nl : end;
                const char *cell = line, *tab;
                size_t col = 0;

                for (; (tab = memchr(cell, '\t', eol - cell)); cell = tab + 1, col++) {
                        size_t w = utf8_width(cell, tab - cell);
                        fwrite(cell, 1, tab - cell, f);
                        for (size_t pad; w < widths[col]; w += pad) {
                                pad = MIN(widths[col] - w, sizeof(spaces) - 1);
                                fwrite(spaces, 1, pad, f);
                        }
                }
                fwrite(cell, 1, eol - cell, f);
                fputc('\n', f);
                line = nl ? nl + 1 : end;
        }
        return 0;
}

/* A row's value as a table cell. */
static int append_cell(VlBuf *b, const VlJson *v) {
        switch (vl_json_type(v)) {
        case VL_JSON_STRING:
                return vl_buf_append_str(b, vl_json_get_string(v));
        case VL_JSON_NULL:
                return 0;
        default: {
                _cleanup_free_ char *s = vl_json_to_string(v, VL_JSON_FORMAT_COMPACT);
                return s ? vl_buf_append_str(b, s) : -ENOMEM;
        }
        }
}

static int print_default_table(const Output *o, const OutputColumn *cols, const VlJson *rows) {
        VlBuf b = VL_BUF_INIT;
        const VlJson *row;
        int r = 0;

        if (!o->noheading) {
                for (const OutputColumn *c = cols; c->field && r == 0; c++)
                        if (!c->hidden &&
                            (vl_buf_append_str(&b, c->header) < 0 || vl_buf_append_char(&b, '\t') < 0))
                                r = -ENOMEM;
                if (r == 0 && b.len > 0)
                        b.data[b.len - 1] = '\n';
        }
        VL_JSON_FOREACH_ELEMENT (row, rows) {
                size_t start = b.len;
                for (const OutputColumn *c = cols; c->field && r == 0; c++)
                        if (!c->hidden && (append_cell(&b, vl_json_object_get(row, c->field)) < 0 ||
                                           vl_buf_append_char(&b, '\t') < 0))
                                r = -ENOMEM;
                if (r < 0)
                        break;
                if (b.len > start)
                        b.data[b.len - 1] = '\n';
        }
        if (r == 0)
                r = table_flush(b.data, b.len, stdout);
        vl_buf_free(&b);
        return r < 0 ? -ENOMEM : 0;
}

/* "CreatedAt" -> "CREATED AT", for template fields without a header of their own. */
static VlJson *header_for_field(const char *field) {
        char buf[128];
        size_t n = 0;

        for (const char *p = field; *p && n + 2 < sizeof(buf); p++) {
                if (p > field && isupper((unsigned char)*p) && islower((unsigned char)p[-1]))
                        buf[n++] = ' ';
                buf[n++] = toupper((unsigned char)*p);
        }
        buf[n] = 0;
        return vl_json_new_string(buf);
}

static VlJson *headers_object(const OutputColumn *cols, const VlJson *rows) {
        VlJson *h = vl_json_new_object();
        const VlJson *first = vl_json_array_get(rows, 0);
        const char *key;
        const VlJson *v;

        if (!h)
                return NULL;
        if (first)
                VL_JSON_FOREACH_MEMBER (key, v, first)
                        if (vl_json_object_set(h, key, header_for_field(key)) < 0)
                                return vl_json_unref(h);
        for (const OutputColumn *c = cols; c->field; c++)
                if (vl_json_object_set_string(h, c->field, c->header) < 0)
                        return vl_json_unref(h);
        return h;
}

/* In a "table" template, blanks between actions separate columns: make them tabs, as podman does. */
static char *table_template(const char *rest) {
        size_t n = strlen(rest);
        char *t = malloc(n + 1), *q = t;
        int depth = 0;

        if (!t)
                return NULL;
        while (*rest == ' ')
                rest++;
        for (const char *p = rest; *p; p++) {
                if (p[0] == '{' && p[1] == '{')
                        depth++;
                else if (p[0] == '}' && p[1] == '}' && depth > 0)
                        depth--;
                if (depth == 0 && *p == ' ') {
                        while (p[1] == ' ')
                                p++;
                        *q++ = '\t';
                } else
                        *q++ = *p;
        }
        *q = 0;
        return t;
}

static int render_rows(const Template *t, const VlJson *headers, const VlJson *rows, VlBuf *b,
                       CpodError *err) {
        const VlJson *row;
        int r;

        if (headers) {
                r = template_render(t, headers, b, err);
                if (r < 0)
                        return r;
                if (b->len == 0 || b->data[b->len - 1] != '\n')
                        if (vl_buf_append_char(b, '\n') < 0)
                                return -ENOMEM;
        }
        VL_JSON_FOREACH_ELEMENT (row, rows) {
                r = template_render(t, row, b, err);
                if (r < 0)
                        return r;
                if (b->len == 0 || b->data[b->len - 1] != '\n')
                        if (vl_buf_append_char(b, '\n') < 0)
                                return -ENOMEM;
        }
        return 0;
}

static int print_template(const Output *o, const OutputColumn *cols, const VlJson *rows, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(vl_json_unrefp) VlJson *headers = NULL;
        const char *rest = NULL;
        bool table = template_is_table(o->format, &rest);
        Template *t = NULL;
        VlBuf b = VL_BUF_INIT;
        int r;

        if (table) {
                text = table_template(rest);
                if (!text)
                        return cpod_error(err, ENOMEM, "out of memory");
                if (!o->noheading && !(headers = headers_object(cols, rows)))
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        r = template_parse(text ? text : o->format, &t, err);
        if (r < 0)
                return r;
        r = render_rows(t, headers, rows, &b, err);
        template_free(t);
        if (r == 0) {
                if (table)
                        r = table_flush(b.data, b.len, stdout);
                else
                        fwrite(b.data, 1, b.len, stdout);
        }
        vl_buf_free(&b);
        return r;
}

int output_print(const Output *o, const OutputColumn *cols, const VlJson *rows, const VlJson *json_items,
                 CpodError *err) {
        int r;

        if (output_is_json(o->format))
                r = output_json(json_items ? json_items : rows, 4);
        else if (o->format && *o->format && !streq(o->format, "table"))
                return print_template(o, cols, rows, err);
        else
                r = print_default_table(o, cols, rows);
        return r < 0 ? cpod_error(err, -r, "writing the output: %s", strerror(-r)) : 0;
}

static int json_indent(VlBuf *b, unsigned indent, unsigned depth) {
        if (vl_buf_append_char(b, '\n') < 0)
                return -ENOMEM;
        for (unsigned i = 0; i < indent * depth; i++)
                if (vl_buf_append_char(b, ' ') < 0)
                        return -ENOMEM;
        return 0;
}

/* Go's json.MarshalIndent layout: "key": value, empty containers as {} and []. */
static int json_pretty(VlBuf *b, const VlJson *v, unsigned indent, unsigned depth) {
        VlJsonType type = vl_json_type(v);
        bool obj = type == VL_JSON_OBJECT;
        size_t n;

        if (type != VL_JSON_OBJECT && type != VL_JSON_ARRAY)
                return vl_json_write(b, v, VL_JSON_FORMAT_COMPACT);
        n = obj ? vl_json_object_length(v) : vl_json_array_length(v);
        if (vl_buf_append_char(b, obj ? '{' : '[') < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if ((i > 0 && vl_buf_append_char(b, ',') < 0) || json_indent(b, indent, depth + 1) < 0)
                        return -ENOMEM;
                if (obj) {
                        const char *k = vl_json_object_key(v, i);
                        if (vl_json_write_string(b, k, strlen(k), 0) < 0 || vl_buf_append_str(b, ": ") < 0)
                                return -ENOMEM;
                }
                if (json_pretty(b, obj ? vl_json_object_value(v, i) : vl_json_array_get(v, i), indent,
                                depth + 1) < 0)
                        return -ENOMEM;
        }
        if ((n > 0 && json_indent(b, indent, depth) < 0) || vl_buf_append_char(b, obj ? '}' : ']') < 0)
                return -ENOMEM;
        return 0;
}

int output_json(const VlJson *v, unsigned indent) {
        VlBuf b = VL_BUF_INIT;
        int r = json_pretty(&b, v, indent, 0);

        if (r == 0) {
                /* '<', '>' and '&' only occur inside strings: escape them as Go does. */
                for (size_t i = 0; i < b.len; i++) {
                        char c = b.data[i];
                        if (c == '<' || c == '>' || c == '&')
                                printf("\\u00%02x", (unsigned)c);
                        else
                                putchar(c);
                }
                putchar('\n');
        }
        vl_buf_free(&b);
        return r;
}

const char *output_size(uint64_t bytes, int precision, bool space, char *buf, size_t n) {
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        double size = (double)bytes;
        size_t i = 0;

        while (size >= 1000.0 && i < ELEMENTSOF(units) - 1) {
                size /= 1000.0;
                i++;
        }
        snprintf(buf, n, "%.*g%s%s", precision, size, space ? " " : "", units[i]);
        return buf;
}

static const char *human_duration(int64_t seconds, char *buf, size_t n) {
        int64_t hours = (seconds + 1800) / 3600;

        if (seconds < 1)
                snprintf(buf, n, "Less than a second");
        else if (seconds == 1)
                snprintf(buf, n, "1 second");
        else if (seconds < 60)
                snprintf(buf, n, "%lld seconds", (long long)seconds);
        else if (seconds / 60 == 1)
                snprintf(buf, n, "About a minute");
        else if (seconds < 3600)
                snprintf(buf, n, "%lld minutes", (long long)(seconds / 60));
        else if (hours == 1)
                snprintf(buf, n, "About an hour");
        else if (hours < 48)
                snprintf(buf, n, "%lld hours", (long long)hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, n, "%lld days", (long long)(hours / 24));
        else if (hours < 24 * 30 * 2)
                snprintf(buf, n, "%lld weeks", (long long)(hours / 24 / 7));
        else if (hours < 24 * 365 * 2)
                snprintf(buf, n, "%lld months", (long long)(hours / 24 / 30));
        else
                snprintf(buf, n, "%lld years", (long long)(seconds / 3600 / 24 / 365));
        return buf;
}

const char *output_since(int64_t when, char *buf, size_t n) {
        char d[64];

        snprintf(buf, n, "%s ago", human_duration((int64_t)time(NULL) - when, d, sizeof(d)));
        return buf;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian): glibc's gmtime_r reads the time zone
 * database first, which a UTC date does not need. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;

        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int)(yoe + era * 400 + (*m <= 2));
}

const char *output_time(int64_t when, char *buf, size_t n) {
        int64_t days = when / 86400, secs = when % 86400;
        unsigned m, d;
        int y;

        if (secs < 0) {
                secs += 86400;
                days--;
        }
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, n, "%04d-%02u-%02u %02d:%02d:%02d +0000 UTC", y, m, d, (int)(secs / 3600),
                 (int)(secs / 60 % 60), (int)(secs % 60));
        return buf;
}

const char *output_id(const char *id, bool no_trunc, char *buf, size_t n) {
        snprintf(buf, n, "%.*s", no_trunc ? 64 : 12, id);
        return buf;
}

int output_table_text(const char *text, size_t len) {
        return table_flush(text, len, stdout);
}

int output_print_each(const char *format, const VlJson *items, CpodError *err) {
        const char *rest = NULL;
        Template *t = NULL;
        VlBuf b = VL_BUF_INIT;
        const VlJson *item;
        int r;

        if (template_is_table(format, &rest))
                format = rest;
        r = template_parse(format, &t, err);
        if (r < 0)
                return r;
        VL_JSON_FOREACH_ELEMENT (item, items) {
                r = template_render(t, item, &b, err);
                if (r < 0)
                        break;
                if ((b.len == 0 || b.data[b.len - 1] != '\n') && (r = vl_buf_append_char(&b, '\n')) < 0)
                        break;
        }
        if (r >= 0)
                fwrite(b.data, 1, b.len, stdout);
        vl_buf_free(&b);
        template_free(t);
        return r;
}
