/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON module: parser conformance (tests/data/json), numbers, the
 * writer's forms, values and their ownership, dispatch tables, VlBuf. */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <sys/stat.h>

#include "tests.h"
#include <vl/json.h>

#define CORPUS        SRCDIR "/tests/data/json"
#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static VlJson *parse(const char *s) {
        VlJson *v = NULL;
        VlJsonError err;
        if (vl_json_parse(s, strlen(s), NULL, &v, &err) < 0) {
                diag("parse of %s failed: %s", s, err.message);
                return NULL;
        }
        return v;
}

static int parse_r(const char *s) {
        VlJson *v = NULL;
        int r = vl_json_parse(s, strlen(s), NULL, &v, NULL);
        vl_json_unref(v);
        return r;
}

/* Parse s, write it with flags, compare with want. */
static void check_write(const char *s, unsigned flags, const char *want, const char *what) {
        VlJson *v = parse(s);
        char *out = v ? vl_json_to_string(v, flags) : NULL;
        is_str(out, want, "%s", what);
        free(out);
        vl_json_unref(v);
}

static char *read_file(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 4096, len = 0, k;
        char *buf = malloc(cap);
        while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
                len += k;
                if (len == cap) {
                        char *p = realloc(buf, cap *= 2);
                        if (!p) {
                                free(buf);
                                buf = NULL;
                        }
                        buf = p;
                }
        }
        fclose(f);
        *ret_len = len;
        return buf;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .json files in dir, sorted; *ret_n of them. */
static char **list_json(const char *dir, size_t *ret_n) {
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        if (!d)
                return NULL;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                names = realloc(names, (n + 1) * sizeof(char *));
                names[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(char *), cmp_names);
        *ret_n = n;
        return names;
}

/* ---- Conformance corpus ---- */

TEST(corpus_valid) {
        size_t n = 0;
        char **names = list_json(CORPUS "/valid", &n);
        ok(n >= 40, "valid corpus has %zu files", n);
        for (size_t i = 0; i < n; i++) {
                char path[4096];
                size_t len;
                snprintf(path, sizeof(path), "%s/valid/%s", CORPUS, names[i]);
                char *text = read_file(path, &len);
                VlJson *v = NULL, *back = NULL;
                VlJsonError err = {0};
                int r = vl_json_parse(text, len, NULL, &v, &err);
                if (!ok(r == 0, "valid/%s parses", names[i]))
                        diag("error %d at %u:%u: %s", r, err.line, err.column, err.message);
                /* Compact output reads back equal and is a fixed point; so is pretty output. */
                char *compact = vl_json_to_string(v, 0);
                char *pretty = vl_json_to_string(v, VL_JSON_FORMAT_PRETTY);
                char *ascii = vl_json_to_string(v, VL_JSON_FORMAT_ASCII);
                bool same = compact && pretty && ascii &&
                            vl_json_parse(compact, strlen(compact), NULL, &back, NULL) == 0 &&
                            vl_json_equal(v, back);
                char *again = back ? vl_json_to_string(back, 0) : NULL;
                vl_json_unref(back);
                back = NULL;
                same = same && again && strcmp(again, compact) == 0;
                same = same && vl_json_parse(pretty, strlen(pretty), NULL, &back, NULL) == 0 &&
                       vl_json_equal(v, back);
                vl_json_unref(back);
                back = NULL;
                same = same && vl_json_parse(ascii, strlen(ascii), NULL, &back, NULL) == 0 &&
                       vl_json_equal(v, back);
                for (const char *c = ascii; c && *c; c++)
                        same = same && (unsigned char)*c < 0x80;
                ok(same, "valid/%s round-trips", names[i]);
                vl_json_unref(back);
                free(compact);
                free(pretty);
                free(ascii);
                free(again);
                vl_json_unref(v);
                free(text);
                free(names[i]);
        }
        free(names);
}

TEST(corpus_invalid) {
        size_t n = 0;
        char **names = list_json(CORPUS "/invalid", &n);
        ok(n >= 60, "invalid corpus has %zu files", n);
        for (size_t i = 0; i < n; i++) {
                char path[4096];
                size_t len;
                snprintf(path, sizeof(path), "%s/invalid/%s", CORPUS, names[i]);
                char *text = read_file(path, &len);
                VlJson *v = NULL;
                VlJsonError err = {0};
                int r = vl_json_parse(text, len, NULL, &v, &err);
                if (ok(r < 0 && !v, "invalid/%s is refused", names[i]))
                        diag("  %s (%d) at offset %zu, %u:%u", err.message, r, err.offset, err.line,
                             err.column);
                ok(err.message[0] && err.offset <= len, "invalid/%s: error filled in", names[i]);
                vl_json_unref(v);
                free(text);
                free(names[i]);
        }
        free(names);
}

/* ---- Numbers ---- */

TEST(number_kinds) {
        static const struct {
                const char *text;
                VlJsonType type;
        } cases[] = {
                {"0", VL_JSON_INT},
                {"-1", VL_JSON_INT},
                {"255", VL_JSON_INT},
                {"256", VL_JSON_INT},
                {"9223372036854775807", VL_JSON_INT},
                {"-9223372036854775808", VL_JSON_INT},
                {"9223372036854775808", VL_JSON_UINT},
                {"18446744073709551615", VL_JSON_UINT},
                {"18446744073709551616", VL_JSON_DOUBLE},
                {"-9223372036854775809", VL_JSON_DOUBLE},
                {"99999999999999999999", VL_JSON_DOUBLE},
                {"-0", VL_JSON_DOUBLE},
                {"1.0", VL_JSON_DOUBLE},
                {"1e2", VL_JSON_DOUBLE},
                {"0.5", VL_JSON_DOUBLE},
        };
        for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
                VlJson *v = parse(cases[i].text);
                is_str(vl_json_type_name(vl_json_type(v)), vl_json_type_name(cases[i].type), "%s is %s",
                       cases[i].text, vl_json_type_name(cases[i].type));
                vl_json_unref(v);
        }

        VlJson *v = parse("[9223372036854775807,-9223372036854775808,18446744073709551615,-0,1e400]");
        ok(!v, "1e400 (overflow to infinity) is refused");
        v = parse("[9223372036854775807,-9223372036854775808,18446744073709551615,-0,"
                  "12345678901234567890123]");
        ok(vl_json_get_int(vl_json_array_get(v, 0)) == INT64_MAX, "INT64_MAX exact");
        ok(vl_json_get_int(vl_json_array_get(v, 1)) == INT64_MIN, "INT64_MIN exact");
        ok(vl_json_get_uint(vl_json_array_get(v, 2)) == UINT64_MAX, "UINT64_MAX exact");
        ok(vl_json_get_int(vl_json_array_get(v, 2)) == 0, "get_int of a UINT above INT64_MAX is 0");
        double z = vl_json_get_double(vl_json_array_get(v, 3));
        ok(z == 0.0 && signbit(z), "-0 is the double -0.0");
        ok(vl_json_get_double(vl_json_array_get(v, 4)) == 1.2345678901234568e22,
           "big integer as nearest double");
        char *s = vl_json_to_string(v, 0);
        is_str(s,
               "[9223372036854775807,-9223372036854775808,18446744073709551615,-0.0,1.2345678901234568e22]",
               "numbers written exactly");
        free(s);
        vl_json_unref(v);
}

TEST(number_doubles_parse) {
        static const struct {
                const char *text;
                double want;
        } cases[] = {
                {"0.1", 0.1},
                {"1e23", 1e23},
                {"8.98846567431158e307", 8.98846567431158e307},
                {"1.7976931348623157e308", 1.7976931348623157e308},
                {"2.2250738585072011e-308", 2.2250738585072011e-308},
                {"4.9e-324", 4.9e-324},
                {"2.4703282292062327e-324", 0.0},
                {"2.4703282292062328e-324", 4.9e-324},
                {"9007199254740993", 9007199254740992.0},
                {"9007199254740993.0000000001", 9007199254740994.0},
                {"0.30000000000000004", 0.30000000000000004},
                {"123456789012345678901234567890e-10", 12345678901234567890.123456789},
                /* Exactly halfway between 1 and the next double: ties go to even. */
                {"1.00000000000000011102230246251565404236316680908203125", 1.0},
                {"1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002},
                {"1.00000000000000011102230246251565404236316680908203124", 1.0},
                {"1e-400", 0.0},
                {"3.14e+2", 314.0},
        };
        for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
                VlJson *v = parse(cases[i].text);
                double d = vl_json_get_double(v);
                ok(memcmp(&d, &cases[i].want, sizeof(d)) == 0, "%s parses to %.17g (got %.17g)",
                   cases[i].text, cases[i].want, d);
                vl_json_unref(v);
        }
}

TEST(number_doubles_write) {
        static const struct {
                double d;
                const char *want;
        } cases[] = {
                {1.0, "1.0"},
                {-1.0, "-1.0"},
                {0.0, "0.0"},
                {-0.0, "-0.0"},
                {0.1, "0.1"},
                {1.5, "1.5"},
                {100.0, "100.0"},
                {123.456, "123.456"},
                {0.001, "0.001"},
                {0.0001, "0.0001"},
                {0.00001, "1e-5"},
                {1e15, "1000000000000000.0"},
                {1e16, "1e16"},
                {1.5e300, "1.5e300"},
                {1e23, "1e23"},
                {5e-324, "5e-324"},
                {1.7976931348623157e308, "1.7976931348623157e308"},
                {0.30000000000000004, "0.30000000000000004"},
                {2.0 / 3.0, "0.6666666666666666"},
                {9007199254740993.0, "9007199254740992.0"},
                {123456789012345680000.0, "1.2345678901234568e20"},
        };
        for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
                VlJson *v = vl_json_new_double(cases[i].d);
                char *s = vl_json_to_string(v, 0);
                is_str(s, cases[i].want, "%.17g is written as %s", cases[i].d, cases[i].want);
                free(s);
                vl_json_unref(v);
        }
        ok(!vl_json_new_double(NAN), "NaN is refused");
        ok(!vl_json_new_double(INFINITY), "infinity is refused");
        ok(!vl_json_new_double(-INFINITY), "-infinity is refused");
}

/* Random doubles (and integers) survive write + parse bit for bit. */
TEST(number_roundtrip_random) {
        uint64_t x = 0x243F6A8885A308D3u;
        unsigned bad = 0, n = 0;
        VlBuf b = VL_BUF_INIT;
        for (unsigned i = 0; i < 200000; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                double d;
                uint64_t bits = i % 4 == 3 ? (x >> (x % 64)) : x;
                memcpy(&d, &bits, sizeof(d));
                if (!isfinite(d))
                        continue;
                VlJson *v = i % 4 == 2 ? vl_json_new_int((int64_t)x) : vl_json_new_double(d), *back = NULL;
                vl_buf_clear(&b);
                vl_json_write(&b, v, 0);
                n++;
                if (vl_json_parse(b.data, b.len, NULL, &back, NULL) < 0 ||
                    vl_json_type(back) != vl_json_type(v) ||
                    (vl_json_type(v) == VL_JSON_DOUBLE
                             ? vl_json_get_double(back) != d ||
                                       signbit(vl_json_get_double(back)) != signbit(d)
                             : vl_json_get_int(back) != vl_json_get_int(v))) {
                        if (bad++ < 5)
                                diag("mismatch for %s", b.data);
                }
                vl_json_unref(v);
                vl_json_unref(back);
        }
        vl_buf_free(&b);
        ok(bad == 0, "%u random numbers round-trip (%u bad)", n, bad);
}

/* Number text does not depend on LC_NUMERIC (a comma-decimal locale). */
TEST(number_locale) {
        static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                              "ru_RU.UTF-8"};
        const char *set = NULL;
        for (size_t i = 0; i < N_ELEMENTS(locales) && !set; i++)
                set = setlocale(LC_ALL, locales[i]);
        if (!set) {
                ok(1, "no comma-decimal locale installed: skipped");
                return;
        }
        VlJson *v = parse("[1.5,0.30000000000000004,1e-7]");
        ok(vl_json_get_double(vl_json_array_get(v, 0)) == 1.5, "1.5 parses under %s", set);
        ok(vl_json_get_double(vl_json_array_get(v, 1)) == 0.30000000000000004, "17 digits parse under %s",
           set);
        char *s = vl_json_to_string(v, 0);
        is_str(s, "[1.5,0.30000000000000004,1e-7]", "written with '.' under %s", set);
        free(s);
        vl_json_unref(v);
        setlocale(LC_ALL, "C");
}

/* ---- Parser details ---- */

TEST(parse_errors) {
        VlJson *v = (VlJson *)1;
        VlJsonError err;
        const char *text = "{\n  \"a\": [1, 2,\n    tru]\n}";
        int r = vl_json_parse(text, strlen(text), NULL, &v, &err);
        is_int(r, -EINVAL, "bad literal: -EINVAL");
        ok(v == (VlJson *)1, "*ret untouched on failure");
        is_int(err.offset, 20, "offset of the bad literal");
        is_int(err.line, 3, "line 3");
        is_int(err.column, 5, "column 5");
        is_str(err.message, "invalid literal", "message");

        r = vl_json_parse("[1,2]x", 6, NULL, NULL, &err);
        is_int(r, -EINVAL, "trailing garbage");
        is_int(err.offset, 5, "offset of the garbage");

        r = vl_json_parse("{\"a\":1,\"a\":2}", 13, NULL, NULL, &err);
        is_int(err.offset, 7, "duplicate key: offset of the second key");
        is_str(err.message, "duplicate object key", "duplicate key message");

        r = vl_json_parse("[1,2]", 5, NULL, NULL, NULL);
        is_int(r, 0, "ret and err may be NULL");
        r = vl_json_parse(NULL, 0, NULL, &v, &err);
        is_int(r, -EINVAL, "empty input is refused");

        /* Embedded NUL bytes in the input are not the end of it. */
        r = vl_json_parse("[1]\0", 4, NULL, NULL, &err);
        is_int(r, -EINVAL, "a NUL after the value is garbage");
        r = vl_json_parse("\"a\0b\"", 5, NULL, NULL, &err);
        is_int(r, -EINVAL, "a raw NUL in a string is a control character");
}

static char *nested(unsigned depth, bool objects) {
        char *s = malloc(depth * 6 + 8), *p = s;
        for (unsigned i = 0; i < depth; i++)
                p += objects ? (memcpy(p, "{\"a\":", 5), 5) : (*p = '[', 1);
        p += objects ? (memcpy(p, "1", 1), 1) : 0;
        for (unsigned i = 0; i < depth; i++)
                *p++ = objects ? '}' : ']';
        *p = 0;
        return s;
}

TEST(parse_limits) {
        VlJsonError err;
        for (int objects = 0; objects <= 1; objects++) {
                char *ok64 = nested(64, objects), *bad65 = nested(65, objects);
                is_int(vl_json_parse(ok64, strlen(ok64), NULL, NULL, &err), 0, "64 levels of %s parse",
                       objects ? "objects" : "arrays");
                is_int(vl_json_parse(bad65, strlen(bad65), NULL, NULL, &err), -ELOOP,
                       "65 levels of %s: -ELOOP", objects ? "objects" : "arrays");
                is_str(err.message, "nesting too deep", "depth message");
                free(ok64);
                free(bad65);
        }

        VlJsonLimits deep = {.max_depth = 10000};
        char *s = nested(10000, false);
        VlJson *v = NULL;
        is_int(vl_json_parse(s, strlen(s), &deep, &v, NULL), 0, "10000 levels with max_depth 10000");
        VlJson *inner = v;
        for (int i = 0; i < 9999; i++)
                inner = vl_json_array_get(inner, 0);
        ok(vl_json_type(inner) == VL_JSON_ARRAY && vl_json_array_length(inner) == 0,
           "innermost array is empty");
        vl_json_unref(v);
        free(s);
        /* Freeing does not recurse either. */
        VlJsonLimits deeper = {.max_depth = 300000};
        s = nested(300000, true);
        is_int(vl_json_parse(s, strlen(s), &deeper, &v, NULL), 0, "300000 levels of objects");
        vl_json_unref(v);
        ok(1, "and freed");
        free(s);
        VlJsonLimits shallow = {.max_depth = 2};
        is_int(vl_json_parse("[[1]]", 5, &shallow, NULL, NULL), 0, "max_depth 2: 2 levels");
        is_int(vl_json_parse("[[[]]]", 6, &shallow, NULL, NULL), -ELOOP, "max_depth 2: 3 levels");
        is_int(vl_json_parse("[[{}]]", 6, &shallow, NULL, NULL), -ELOOP, "empty containers count");

        VlJsonLimits small = {.max_size = 8};
        is_int(vl_json_parse("[1,2,3]", 7, &small, NULL, NULL), 0, "7 bytes under max_size 8");
        is_int(vl_json_parse("[1,2,3,4]", 9, &small, NULL, &err), -E2BIG, "9 bytes over max_size 8: -E2BIG");
        ok(err.message[0], "size message: %s", err.message);
}

TEST(parse_strings) {
        VlJson *v = parse("[\"a\\u0000b\",\"\\ud83d\\ude00\",\"\\u00e9\\/\",\"\\\"\\\\\\b\\f\\n\\r\\t\"]");
        VlJson *s = vl_json_array_get(v, 0);
        is_int(vl_json_get_string_length(s), 3, "\\u0000 kept: length 3");
        ok(memcmp(vl_json_get_string(s), "a\0b", 4) == 0, "bytes a NUL b NUL");
        is_str(vl_json_get_string(vl_json_array_get(v, 1)), "\xf0\x9f\x98\x80", "surrogate pair combined");
        is_str(vl_json_get_string(vl_json_array_get(v, 2)), "\xc3\xa9/", "\\u00e9 and \\/ decoded");
        is_str(vl_json_get_string(vl_json_array_get(v, 3)), "\"\\\b\f\n\r\t", "short escapes decoded");
        char *out = vl_json_to_string(v, 0);
        is_str(out, "[\"a\\u0000b\",\"\xf0\x9f\x98\x80\",\"\xc3\xa9/\",\"\\\"\\\\\\b\\f\\n\\r\\t\"]",
               "and re-escaped");
        free(out);
        vl_json_unref(v);

        /* Long strings with escapes and non-ASCII past the 16-byte scanning blocks. */
        char text[600], *p = text;
        *p++ = '"';
        for (int i = 0; i < 40; i++)
                p += sprintf(p, "abcdefgh\\n\xc3\xa9");
        *p++ = '"';
        *p = 0;
        v = parse(text);
        is_int(vl_json_get_string_length(v), 40 * 11, "long escaped string decoded");
        vl_json_unref(v);

        v = parse("{\"k\\u0000x\":1,\"k\\u0000y\":2}");
        is_int(vl_json_object_length(v), 2, "keys differing after a NUL are distinct");
        out = vl_json_to_string(v, 0);
        is_str(out, "{\"k\\u0000x\":1,\"k\\u0000y\":2}", "such keys written back");
        free(out);
        vl_json_unref(v);
}

TEST(parse_duplicates_big) {
        /* Duplicates are found whatever the object's size (linear, Bloom and hash set paths). */
        for (unsigned n = 1; n <= 300; n = n < 40 ? n + 1 : n * 2) {
                char *s = malloc(n * 16 + 32), *p = s;
                *p++ = '{';
                for (unsigned i = 0; i < n; i++)
                        p += sprintf(p, "%s\"k%u\":%u", i ? "," : "", i, i);
                *p++ = '}';
                *p = 0;
                VlJson *v = parse(s);
                bool good = vl_json_object_length(v) == n;
                for (unsigned i = 0; i < n && good; i++) {
                        char key[16];
                        sprintf(key, "k%u", i);
                        good = vl_json_get_int(vl_json_object_get(v, key)) == (int64_t)i;
                }
                ok(good, "object of %u members parses and looks up", n);
                vl_json_unref(v);
                for (unsigned d = 0; d < n; d += n / 3 + 1) {
                        sprintf(p - 1, ",\"k%u\":0}", d);
                        if (!ok(parse_r(s) == -EINVAL, "duplicate k%u among %u members is refused", d,
                                n + 1))
                                break;
                }
                free(s);
        }
}

/* ---- Writer ---- */

TEST(write_forms) {
        const char *doc = "{\"a\":1,\"b\":[true,null],\"c\":{},\"d\":[],\"e\":{\"f\":\"g\",\"h\":-2.5}}";
        check_write(doc, 0, "{\"a\":1,\"b\":[true,null],\"c\":{},\"d\":[],\"e\":{\"f\":\"g\",\"h\":-2.5}}",
                    "compact");
        check_write(doc, VL_JSON_FORMAT_PRETTY,
                    "{\n"
                    "  \"a\": 1,\n"
                    "  \"b\": [\n"
                    "    true,\n"
                    "    null\n"
                    "  ],\n"
                    "  \"c\": {},\n"
                    "  \"d\": [],\n"
                    "  \"e\": {\n"
                    "    \"f\": \"g\",\n"
                    "    \"h\": -2.5\n"
                    "  }\n"
                    "}",
                    "pretty");
        check_write(doc, VL_JSON_FORMAT_NEWLINE,
                    "{\"a\":1,\"b\":[true,null],\"c\":{},\"d\":[],\"e\":{\"f\":\"g\",\"h\":-2.5}}\n",
                    "newline");
        check_write("[1,\"x\",{\"k\":false}]", VL_JSON_FORMAT_COLOR,
                    "[\x1b[36m1\x1b[0m,\x1b[32m\"x\"\x1b[0m,{\x1b[1;34m\"k\"\x1b[0m:\x1b[35mfalse\x1b[0m}]",
                    "color");
        check_write("{\"k\":null}", VL_JSON_FORMAT_COLOR | VL_JSON_FORMAT_PRETTY | VL_JSON_FORMAT_NEWLINE,
                    "{\n  \x1b[1;34m\"k\"\x1b[0m: \x1b[35mnull\x1b[0m\n}\n", "color, pretty, newline");
        check_write("[[],{}]", VL_JSON_FORMAT_PRETTY, "[\n  [],\n  {}\n]", "pretty empty containers");
        check_write("\"x\"", VL_JSON_FORMAT_PRETTY, "\"x\"", "pretty scalar");
        check_write("\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"", VL_JSON_FORMAT_ASCII,
                    "\"caf\\u00e9 \\ud83d\\ude00 \\u20ac\"", "ascii escapes, with a surrogate pair");
        check_write("{\"\xc3\xa9\":\"\xc3\xa9\"}", VL_JSON_FORMAT_ASCII, "{\"\\u00e9\":\"\\u00e9\"}",
                    "ascii escapes keys too");
        check_write("\"\\u0001\\u001f\\u007f\xe2\x80\xa8\"", 0, "\"\\u0001\\u001f\x7f\xe2\x80\xa8\"",
                    "control characters escaped, DEL and U+2028 kept");
        check_write("{\"a\\\"b\\n\":\"\\t\"}", 0, "{\"a\\\"b\\n\":\"\\t\"}", "keys escaped like values");
}

TEST(write_built_values) {
        VlJson *o = vl_json_new_object(), *a = vl_json_new_array();
        vl_json_object_set_string(o, "s", "tab\there \"quoted\" \\ \x01");
        vl_json_object_set_int(o, "i", -42);
        vl_json_object_set(o, "u", vl_json_new_uint(UINT64_MAX));
        vl_json_object_set_double(o, "d", 0.5);
        vl_json_object_set_bool(o, "b", true);
        vl_json_object_set(o, "n", vl_json_null());
        vl_json_array_append(a, vl_json_new_stringn("bad \xff utf8 \xc3", 12));
        vl_json_object_set(o, "a", a);
        vl_json_object_set(o, "k\"ey", vl_json_new_int(1));
        char *s = vl_json_to_string(o, 0);
        is_str(s,
               "{\"s\":\"tab\\there \\\"quoted\\\" \\\\ "
               "\\u0001\",\"i\":-42,\"u\":18446744073709551615,\"d\":0.5,"
               "\"b\":true,\"n\":null,\"a\":[\"bad \xef\xbf\xbd utf8 \xef\xbf\xbd\"],\"k\\\"ey\":1}",
               "built values written; invalid UTF-8 becomes U+FFFD");
        free(s);
        s = vl_json_to_string(o, VL_JSON_FORMAT_ASCII);
        ok(s && strstr(s, "bad \\ufffd utf8 \\ufffd"), "U+FFFD escaped in ASCII form");
        free(s);
        vl_json_unref(o);

        VlBuf b = VL_BUF_INIT;
        vl_buf_append_str(&b, "x=");
        is_int(vl_json_write_string(&b, "a\"b\nc", 5, 0), 0, "write_string");
        is_str(b.data, "x=\"a\\\"b\\nc\"", "write_string appends an escaped literal");
        vl_buf_clear(&b);
        vl_json_write_string(&b, "a\0b", 3, 0);
        is_str(b.data, "\"a\\u0000b\"", "write_string with a NUL");
        vl_buf_clear(&b);
        vl_json_write_string(&b, "\xc3\xa9", 2, VL_JSON_FORMAT_ASCII | VL_JSON_FORMAT_COLOR);
        is_str(b.data, "\x1b[32m\"\\u00e9\"\x1b[0m", "write_string in colour and ASCII");
        vl_buf_clear(&b);
        vl_json_write(&b, NULL, 0);
        is_str(b.data, "null", "a NULL value is written as null");
        vl_buf_free(&b);
}

/* ---- Values ---- */

TEST(singletons_and_refs) {
        ok(vl_json_null() == vl_json_null(), "null is a singleton");
        ok(vl_json_bool(true) == vl_json_bool(true) && vl_json_bool(false) != vl_json_bool(true),
           "bools too");
        for (int i = 0; i < 1000; i++)
                vl_json_unref(vl_json_null());
        vl_json_unref(vl_json_bool(true));
        ok(vl_json_is_null(vl_json_null()) && vl_json_get_bool(vl_json_bool(true)),
           "still fine after unrefs");
        ok(vl_json_ref(NULL) == NULL && vl_json_unref(NULL) == NULL, "NULL accepted");
        ok(vl_json_is_null(NULL), "NULL counts as null");
        VlJson *s = vl_json_new_string("x");
        ok(vl_json_ref(s) == s, "ref returns its argument");
        vl_json_unref(s);
        is_str(vl_json_get_string(s), "x", "alive after ref + unref");
        ok(vl_json_unref(s) == NULL, "unref returns NULL");
        VlJson *p = vl_json_new_int(7);
        vl_json_unrefp(&p);
        ok(p == NULL, "unrefp clears the pointer");
        vl_json_unrefp(&p);
        ok(1, "unrefp of NULL");

        VlJson *v = parse("{\"keep\":{\"deep\":[1,2,\"three\"]},\"drop\":\"x\"}");
        VlJson *keep = vl_json_ref(vl_json_object_get(v, "keep"));
        vl_json_unref(v);
        char *out = vl_json_to_string(keep, 0);
        is_str(out, "{\"deep\":[1,2,\"three\"]}", "a subtree outlives its document");
        free(out);
        vl_json_unref(keep);
}

TEST(type_names_and_accessors) {
        static const char *const names[] = {"null",   "bool",   "int",   "uint",
                                            "double", "string", "array", "object"};
        for (int t = VL_JSON_NULL; t <= VL_JSON_OBJECT; t++)
                is_str(vl_json_type_name(t), names[t], "type name %d", t);
        VlJson *v = parse("[2.0,2.5,1e19,-3,18446744073709551615,\"s\",9.3e18,-9223372036854775808.0]");
        is_int(vl_json_get_int(vl_json_array_get(v, 0)), 2, "get_int of 2.0");
        is_int(vl_json_get_int(vl_json_array_get(v, 1)), 0, "get_int of 2.5 is 0");
        is_int(vl_json_get_int(vl_json_array_get(v, 2)), 0, "get_int of 1e19 is 0");
        ok(vl_json_get_uint(vl_json_array_get(v, 2)) == 10000000000000000000u, "get_uint of 1e19");
        is_int(vl_json_get_uint(vl_json_array_get(v, 3)), 0, "get_uint of -3 is 0");
        ok(vl_json_get_double(vl_json_array_get(v, 4)) == 18446744073709551615.0, "get_double of a UINT");
        is_int(vl_json_get_int(vl_json_array_get(v, 5)), 0, "get_int of a string is 0");
        ok(!vl_json_get_string(vl_json_array_get(v, 0)), "get_string of a number is NULL");
        is_int(vl_json_get_string_length(vl_json_array_get(v, 0)), 0, "and its length 0");
        ok(!vl_json_get_bool(vl_json_array_get(v, 5)), "get_bool of a string is false");
        is_int(vl_json_get_int(vl_json_array_get(v, 6)), 0, "9.3e18 is past INT64_MAX");
        ok(vl_json_get_int(vl_json_array_get(v, 7)) == INT64_MIN, "-2^63 as a double fits");
        ok(vl_json_is_number(vl_json_array_get(v, 4)) && !vl_json_is_number(vl_json_array_get(v, 5)),
           "is_number");
        ok(vl_json_type(NULL) == VL_JSON_NULL, "type of NULL is null");
        vl_json_unref(v);

        VlJson *u = vl_json_new_uint(5);
        is_int(vl_json_type(u), VL_JSON_INT, "new_uint that fits is INT");
        vl_json_unref(u);
        u = vl_json_new_uint((uint64_t)INT64_MAX + 1);
        is_int(vl_json_type(u), VL_JSON_UINT, "new_uint past INT64_MAX is UINT");
        vl_json_unref(u);
        ok(!vl_json_new_string(NULL), "new_string(NULL) fails");
        VlJson *e = vl_json_new_stringn(NULL, 0);
        ok(e && vl_json_get_string_length(e) == 0 && vl_json_get_string(e)[0] == 0,
           "new_stringn(NULL, 0) is \"\"");
        vl_json_unref(e);
}

TEST(arrays) {
        VlJson *a = vl_json_new_array();
        int failed = 0;
        for (int i = 0; i < 100; i++)
                failed += vl_json_array_append(a, vl_json_new_int(i * 1000)) < 0;
        is_int(failed, 0, "100 appends");
        is_int(vl_json_array_length(a), 100, "100 elements");
        is_int(vl_json_get_int(vl_json_array_get(a, 99)), 99000, "last element");
        ok(!vl_json_array_get(a, 100), "out of range is NULL");
        is_int(vl_json_array_append(a, NULL), -ENOMEM, "appending NULL: -ENOMEM");
        VlJson *o = vl_json_new_object(), *x = vl_json_new_string("consumed");
        is_int(vl_json_array_append(o, x), -EINVAL, "appending to an object: -EINVAL (value consumed)");
        is_int(vl_json_array_length(o), 0, "array_length of an object is 0");
        vl_json_unref(o);
        VlJson *e;
        int sum = 0;
        VL_JSON_FOREACH_ELEMENT (e, a)
                sum += (int)(vl_json_get_int(e) / 1000);
        is_int(sum, 4950, "FOREACH_ELEMENT visits every element");
        vl_json_unref(a);

        /* A parsed array keeps its elements inline until it has to grow. */
        VlJson *p = parse("[1,2,3]");
        for (int i = 4; i <= 20; i++)
                vl_json_array_append(p, vl_json_new_int(i));
        char *s = vl_json_to_string(p, 0);
        is_str(s, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]", "appending to a parsed array");
        free(s);
        vl_json_unref(p);
}

TEST(objects) {
        VlJson *o = vl_json_new_object();
        is_int(vl_json_object_set_int(o, "a", 1), 0, "set a");
        is_int(vl_json_object_set_int(o, "b", 2), 0, "set b");
        is_int(vl_json_object_set_int(o, "c", 3), 0, "set c");
        is_int(vl_json_object_set_string(o, "b", "two"), 0, "replace b");
        char *s = vl_json_to_string(o, 0);
        is_str(s, "{\"a\":1,\"b\":\"two\",\"c\":3}", "replacement keeps the position");
        free(s);
        is_int(vl_json_object_set(o, "x", NULL), -ENOMEM, "set NULL: -ENOMEM");
        is_int(vl_json_object_set(NULL, "x", vl_json_new_int(1)), -EINVAL, "set on NULL: -EINVAL");
        is_int(vl_json_object_set_double(o, "nan", NAN), -EINVAL, "set NaN: -EINVAL");
        is_int(vl_json_object_set_string(o, "nul", NULL), 0, "set_string(NULL) stores null");
        ok(vl_json_object_get(o, "nul") && vl_json_is_null(vl_json_object_get(o, "nul")), "it is null");
        is_int(vl_json_object_remove(o, "a"), 0, "remove a");
        is_int(vl_json_object_remove(o, "a"), -ENOENT, "remove a again: -ENOENT");
        s = vl_json_to_string(o, 0);
        is_str(s, "{\"b\":\"two\",\"c\":3,\"nul\":null}", "after removal");
        free(s);
        is_str(vl_json_object_key(o, 1), "c", "key 1");
        ok(!vl_json_object_key(o, 3) && !vl_json_object_value(o, 3), "out of range is NULL");
        const char *k;
        VlJson *v;
        unsigned n = 0;
        VL_JSON_FOREACH_MEMBER (k, v, o)
                n += k[0] != 0 && v != NULL;
        is_int(n, 3, "FOREACH_MEMBER visits every member");
        vl_json_unref(o);

        /* Big objects: an index for lookups, kept right across set and remove. */
        o = vl_json_new_object();
        char key[32];
        for (int i = 0; i < 1000; i++) {
                snprintf(key, sizeof(key), "member-%d", i);
                vl_json_object_set_int(o, key, i);
        }
        bool good = vl_json_object_length(o) == 1000;
        for (int i = 0; i < 1000 && good; i++) {
                snprintf(key, sizeof(key), "member-%d", i);
                good = vl_json_get_int(vl_json_object_get(o, key)) == i &&
                       !strcmp(vl_json_object_key(o, i), key);
        }
        ok(good, "1000 members set and found in order");
        for (int i = 0; i < 1000; i += 2) {
                snprintf(key, sizeof(key), "member-%d", i);
                vl_json_object_remove(o, key);
        }
        vl_json_object_set_int(o, "member-1", -1);
        good = vl_json_object_length(o) == 500 && !vl_json_object_get(o, "member-0") &&
               vl_json_get_int(vl_json_object_get(o, "member-1")) == -1 &&
               vl_json_get_int(vl_json_object_get(o, "member-999")) == 999;
        ok(good, "lookups right after removals and replacement");
        vl_json_unref(o);

        /* Mutating a parsed object. */
        o = parse("{\"x\":1,\"y\":[2]}");
        vl_json_object_set_int(o, "x", 10);
        for (int i = 0; i < 20; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                vl_json_object_set(o, key, vl_json_new_array());
        }
        vl_json_array_append(vl_json_object_get(o, "y"), vl_json_new_int(3));
        vl_json_object_remove(o, "k0");
        s = vl_json_to_string(o, 0);
        ok(s && !strncmp(s, "{\"x\":10,\"y\":[2,3],\"k1\":[],", 26), "parsed object mutated: %s", s);
        free(s);
        vl_json_unref(o);

        ok(!vl_json_object_get(NULL, "x") && !vl_json_object_get(vl_json_null(), "x"), "get on non-objects");
        is_int(vl_json_object_remove(vl_json_null(), "x"), -EINVAL, "remove on non-object");
}

TEST(copy_and_equal) {
        VlJson *a = parse("{\"a\":[1,2.5,\"x\",{\"b\":null}],\"c\":true,\"d\":-0}");
        VlJson *b = parse("{\"d\":0,\"c\":true,\"a\":[1.0,2.5,\"x\",{\"b\":null}]}");
        ok(vl_json_equal(a, b), "equal: member order and number kinds do not matter");
        VlJson *c = vl_json_copy(a);
        ok(c != a && vl_json_equal(a, c), "copy is equal");
        vl_json_object_set_int(vl_json_array_get(vl_json_object_get(c, "a"), 3), "b", 1);
        ok(!vl_json_equal(a, c), "copy is deep: changing it leaves the original");
        char *s = vl_json_to_string(a, 0);
        is_str(s, "{\"a\":[1,2.5,\"x\",{\"b\":null}],\"c\":true,\"d\":-0.0}", "original unchanged");
        free(s);
        vl_json_unref(c);
        vl_json_unref(b);

        VlJson *built = vl_json_new_object();
        vl_json_object_set_int(built, "embedded-key", 1);
        VlJson *copy = vl_json_copy(built);
        vl_json_unref(built);
        is_str(vl_json_object_key(copy, 0), "embedded-key", "a copy's keys outlive the original");
        vl_json_unref(copy);

        VlJson *x = parse("[1,\"1\",true,null,[],{},18446744073709551615,1.8446744073709552e19]");
        ok(!vl_json_equal(vl_json_array_get(x, 0), vl_json_array_get(x, 1)), "1 != \"1\"");
        ok(!vl_json_equal(vl_json_array_get(x, 2), vl_json_array_get(x, 0)), "true != 1");
        ok(vl_json_equal(vl_json_array_get(x, 3), NULL), "null == NULL");
        ok(!vl_json_equal(vl_json_array_get(x, 4), vl_json_array_get(x, 5)), "[] != {}");
        ok(!vl_json_equal(vl_json_array_get(x, 6), vl_json_array_get(x, 7)), "UINT64_MAX != 2^64");
        VlJson *big = vl_json_new_int(INT64_MAX), *bigd = vl_json_new_double(9223372036854775807.0);
        ok(!vl_json_equal(big, bigd), "INT64_MAX != 2^63 (as a double)");
        vl_json_unref(big);
        vl_json_unref(bigd);
        vl_json_unref(x);
        vl_json_unref(a);
        ok(vl_json_copy(NULL) == NULL, "copy of NULL");
}

/* ---- Dispatch ---- */

struct args {
        const char *name;
        int64_t limit;
        uint64_t size;
        int small;
        bool all;
        double ratio;
        const VlJson *extra;
};

static const VlJsonField fields[] = {
        {"name", VL_JSON_STRING, vl_json_dispatch_string, offsetof(struct args, name), VL_JSON_MANDATORY},
        {"limit", VL_JSON_INT, vl_json_dispatch_int64, offsetof(struct args, limit), 0},
        {"size", VL_JSON_UINT, vl_json_dispatch_uint64, offsetof(struct args, size), 0},
        {"small", VL_JSON_INT, vl_json_dispatch_int, offsetof(struct args, small), 0},
        {"all", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(struct args, all), 0},
        {"ratio", VL_JSON_DOUBLE, vl_json_dispatch_double, offsetof(struct args, ratio), 0},
        {"extra", -1, vl_json_dispatch_json, offsetof(struct args, extra), 0},
        {},
};

/* Dispatches text into *a; *bad is copied, as it borrows from the document. */
static int dispatch(const char *text, unsigned flags, struct args *a, const char **bad) {
        static char bad_copy[64];
        VlJson *v = parse(text);
        *a = (struct args){.limit = -1};
        *bad = NULL;
        int r = vl_json_dispatch(v, fields, a, flags, bad);
        if (*bad) {
                snprintf(bad_copy, sizeof(bad_copy), "%s", *bad);
                *bad = bad_copy;
        }
        a->name = NULL; /* borrowed too */
        a->extra = NULL;
        vl_json_unref(v);
        return r;
}

TEST(dispatch) {
        struct args a;
        const char *bad;
        VlJson *v =
                parse("{\"name\":\"n\",\"limit\":5,\"size\":18446744073709551615,\"small\":-7,\"all\":true,"
                      "\"ratio\":2,\"extra\":[1]}");
        a = (struct args){};
        is_int(vl_json_dispatch(v, fields, &a, 0, &bad), 0, "all fields");
        ok(a.name && !strcmp(a.name, "n") && a.limit == 5 && a.size == UINT64_MAX && a.small == -7 &&
                   a.all && a.ratio == 2.0 && vl_json_array_length(a.extra) == 1,
           "all values stored");
        vl_json_unref(v);

        is_int(dispatch("{\"name\":\"n\"}", 0, &a, &bad), 0, "only the mandatory field");
        is_int(a.limit, -1, "absent fields untouched");
        is_int(dispatch("{\"name\":\"n\",\"limit\":null}", 0, &a, &bad), 0, "null counts as absent");
        is_int(a.limit, -1, "null leaves the field untouched");
        is_int(dispatch("{\"limit\":1}", 0, &a, &bad), -EINVAL, "mandatory missing");
        is_str(bad, "name", "bad field names it");
        is_int(dispatch("{\"name\":null}", 0, &a, &bad), -EINVAL, "mandatory null");
        is_str(bad, "name", "bad field names it");
        is_int(dispatch("{\"name\":\"n\",\"bogus\":1}", 0, &a, &bad), -EINVAL, "unknown member");
        is_str(bad, "bogus", "bad field names the unknown member");
        is_int(dispatch("{\"name\":\"n\",\"bogus\":1}", VL_JSON_ALLOW_EXTRA, &a, &bad), 0,
               "unknown member allowed");
        is_int(dispatch("{\"name\":1}", 0, &a, &bad), -EINVAL, "wrong type");
        is_str(bad, "name", "bad field names it");
        is_int(dispatch("{\"name\":\"n\",\"limit\":3.0}", 0, &a, &bad), 0, "INT accepts an integral double");
        is_int(a.limit, 3, "3.0 stored as 3");
        is_int(dispatch("{\"name\":\"n\",\"limit\":3.5}", 0, &a, &bad), -EINVAL, "INT refuses 3.5");
        is_str(bad, "limit", "bad field");
        is_int(dispatch("{\"name\":\"n\",\"limit\":9223372036854775808}", 0, &a, &bad), -EINVAL,
               "INT refuses 2^63");
        is_int(dispatch("{\"name\":\"n\",\"size\":-1}", 0, &a, &bad), -EINVAL, "UINT refuses -1");
        is_int(dispatch("{\"name\":\"n\",\"small\":2147483648}", 0, &a, &bad), -EINVAL, "int range checked");
        is_str(bad, "small", "bad field");
        is_int(dispatch("{\"name\":\"n\",\"small\":-2147483648}", 0, &a, &bad), 0, "INT_MIN fits an int");
        is_int(a.small, INT_MIN, "stored");
        is_int(dispatch("{\"name\":\"n\",\"ratio\":18446744073709551615}", 0, &a, &bad), 0,
               "DOUBLE takes a UINT");
        is_int(dispatch("{\"name\":\"n\",\"ratio\":\"1\"}", 0, &a, &bad), -EINVAL,
               "DOUBLE refuses a string");
        is_int(dispatch("{\"name\":\"n\",\"extra\":{\"any\":\"thing\"}}", 0, &a, &bad), 0,
               "-1 takes anything");
        is_int(dispatch("{\"name\":\"n\",\"all\":1}", 0, &a, &bad), -EINVAL, "BOOL refuses 1");
        is_int(dispatch("[1]", 0, &a, &bad), -EINVAL, "not an object");

        /* A missing or null object has no members; with no mandatory fields it is fine. */
        static const VlJsonField optional[] = {
                {"x", VL_JSON_INT, vl_json_dispatch_int64, 0, 0},
                {},
        };
        int64_t x = 9;
        is_int(vl_json_dispatch(NULL, optional, &x, 0, NULL), 0, "NULL object, no mandatory fields");
        is_int(vl_json_dispatch(vl_json_null(), optional, &x, 0, NULL), 0, "null object");
        is_int(x, 9, "untouched");
        is_int(vl_json_dispatch(NULL, fields, &a, 0, &bad), -EINVAL, "NULL object, mandatory field");
}

/* ---- VlBuf ---- */

TEST(buf) {
        VlBuf b = VL_BUF_INIT;
        is_int(vl_buf_append(&b, "abc", 3), 0, "append");
        is_int(vl_buf_append_char(&b, 'd'), 0, "append_char");
        is_int(vl_buf_append_str(&b, "ef"), 0, "append_str");
        is_int(b.len, 6, "length");
        is_str(b.data, "abcdef", "NUL-terminated contents");
        is_int(vl_buf_reserve(&b, 10000), 0, "reserve");
        ok(b.cap >= b.len + 10000, "capacity after reserve");
        is_int(vl_buf_reserve(&b, SIZE_MAX), -ENOMEM, "absurd reserve: -ENOMEM");
        vl_buf_clear(&b);
        ok(b.len == 0 && b.data && b.data[0] == 0, "clear keeps memory");
        for (int i = 0; i < 10000; i++)
                vl_buf_append_char(&b, (char)('a' + i % 26));
        is_int(b.len, 10000, "10000 appended characters");
        is_int(vl_buf_append(&b, NULL, 0), 0, "append of nothing");
        vl_buf_free(&b);
        ok(!b.data && b.len == 0 && b.cap == 0, "free resets");
        vl_buf_free(&b);
}

/* ---- Big documents ---- */

TEST(big_document) {
        /* Past the huge-slab threshold: many records, then keep one after dropping the rest. */
        VlBuf b = VL_BUF_INIT;
        vl_buf_append_str(&b, "[");
        for (int i = 0; b.len < 6 * 1024 * 1024; i++) {
                char rec[256];
                snprintf(rec, sizeof(rec),
                         "%s{\"id\":%d,\"name\":\"record \\\"%d\\\" "
                         "\xc3\xa9\",\"ratio\":%d.%d5,\"tags\":[\"a\",\"b\"],"
                         "\"nested\":{\"ok\":%s,\"nothing\":null}}",
                         i ? "," : "", i, i, i % 1000, i % 97, i % 2 ? "true" : "false");
                vl_buf_append_str(&b, rec);
        }
        vl_buf_append_str(&b, "]");
        VlJson *v = NULL;
        VlJsonLimits limits = {.max_size = b.len};
        is_int(vl_json_parse(b.data, b.len, &limits, &v, NULL), 0, "%zu-byte document parses", b.len);
        size_t n = vl_json_array_length(v);
        ok(n > 40000, "%zu records", n);
        VlJson *rec = vl_json_ref(vl_json_array_get(v, 12345));
        VlBuf out = VL_BUF_INIT;
        is_int(vl_json_write(&out, v, 0), 0, "written back");
        ok(out.len == b.len && memcmp(out.data, b.data, b.len) == 0, "identical text");
        vl_json_unref(v);
        ok(vl_json_get_int(vl_json_object_get(rec, "id")) == 12345, "a record outlives its document");
        is_str(vl_json_get_string(vl_json_object_get(rec, "name")), "record \"12345\" \xc3\xa9",
               "with its strings");
        vl_json_unref(rec);
        vl_buf_free(&out);
        vl_buf_free(&b);
}

TESTS_MAIN
