/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-json: libvl's JSON parser and writer against json-c.
 *
 * Build (from the top of the source tree, after `meson setup build && ninja -C build`;
 * needs libjson-c-dev):
 *
 *   cc -O2 -Iinclude bench/bench-json.c build/src/libvl/libvl-static.a \
 *      $(pkg-config --cflags --libs json-c) -o build/bench-json
 *
 * Run:  build/bench-json [MiB]     (default 32)
 *
 * It generates a JSON document of about that size in memory (an array of
 * records like an API would return: objects with strings, including
 * escapes and non-ASCII text, integers, big unsigned integers, doubles of a
 * few digits and of full precision, booleans, nulls, nested objects and
 * arrays), then times, best of 5 runs each:
 *   parse      vl_json_parse  vs  json_tokener_parse_ex
 *   serialize  vl_json_write (compact)  vs  json_object_to_json_string_ext(PLAIN)
 * and prints one line per measure with MB/s (input bytes for parsing,
 * output bytes for serializing) and the ratio libvl / json-c. Times are the
 * thread's CPU time (user and system, so page faults count), which a busy
 * machine disturbs less than wall-clock time; both are single-threaded.
 * Freeing the trees is not timed for either library. json-c does not
 * validate UTF-8 by default; libvl always does.
 */

#include <errno.h>
#include <json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vl/json.h>

#define RUNS 5

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
        uint64_t x = rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return rng_state = x;
}

static unsigned rnd_below(unsigned n) {
        return (unsigned)(rnd() % n);
}

typedef struct Text {
        char *p;
        size_t len, cap;
} Text;

static void text_put(Text *t, const char *s, size_t n) {
        if (t->len + n + 1 > t->cap) {
                while (t->len + n + 1 > t->cap)
                        t->cap = t->cap ? t->cap * 2 : 1 << 20;
                t->p = realloc(t->p, t->cap);
                if (!t->p) {
                        fputs("out of memory\n", stderr);
                        exit(1);
                }
        }
        memcpy(t->p + t->len, s, n);
        t->len += n;
        t->p[t->len] = 0;
}

static void text_str(Text *t, const char *s) {
        text_put(t, s, strlen(s));
}

static void text_fmt(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_fmt(Text *t, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        text_put(t, buf, (size_t)n);
}

static const char *const first_names[] = {"Alice",  "Bob",     "Chloé",  "Dmitri", "Émile", "Fatima",
                                          "Günter", "Hiroshi", "Ingrid", "José",   "Kwame", "Łukasz",
                                          "Mei",    "Nadia",   "Oğuz",   "Priya"};
static const char *const last_names[] = {"Smith",     "O'Brien", "Müller", "Dubois", "Nakamura",
                                         "Kowalski",  "García",  "Ivanov", "Chen",   "Nguyen",
                                         "Andersson", "Rossi",   "Kim",    "Silva"};
static const char *const cities[] = {"Zürich", "København", "São Paulo", "Москва",    "東京",   "New York",
                                     "Kraków", "Montréal",  "İstanbul",  "Reykjavík", "Berlin", "Paris"};
static const char *const words[] = {"lorem",      "ipsum", "dolor",  "sit",    "amet",    "consectetur",
                                    "adipiscing", "elit",  "sed",    "do",     "eiusmod", "tempor",
                                    "incididunt", "ut",    "labore", "et",     "dolore",  "magna",
                                    "aliqua",     "naïve", "café",   "日本語", "données", "🙂"};
static const char *const tags[] = {"alpha",   "beta",    "gamma", "delta", "prod",     "staging",
                                   "eu-west", "us-east", "gpu",   "ssd",   "critical", "archived"};

static void gen_sentence(Text *t, unsigned nwords) {
        for (unsigned i = 0; i < nwords; i++) {
                if (i)
                        text_str(t, " ");
                text_str(t, words[rnd_below(sizeof(words) / sizeof(words[0]))]);
                unsigned k = rnd_below(40);
                if (k == 0)
                        text_str(t, " \\\"quoted\\\"");
                else if (k == 1)
                        text_str(t, "\\n");
                else if (k == 2)
                        text_str(t, "\\t");
                else if (k == 3)
                        text_str(t, " C:\\\\path\\\\to");
                else if (k == 4)
                        text_str(t, " \\u00e9\\ud83d\\ude00");
        }
}

static void gen_record(Text *t, unsigned id) {
        const char *first = first_names[rnd_below(16)], *last = last_names[rnd_below(14)];
        text_fmt(t, "{\"id\":%u,\"guid\":\"%08x-%04x-%04x-%04x-%012llx\",\"active\":%s,", id,
                 (unsigned)rnd(), (unsigned)rnd() & 0xFFFF, (unsigned)rnd() & 0xFFFF,
                 (unsigned)rnd() & 0xFFFF, (unsigned long long)(rnd() & 0xFFFFFFFFFFFFull),
                 rnd() & 1 ? "true" : "false");
        text_fmt(t, "\"balance\":%u.%02u,\"age\":%u,\"score\":%.4f,\"ratio\":%.17g,", rnd_below(100000),
                 rnd_below(100), 18 + rnd_below(70), (double)rnd_below(100000) / 10000.0,
                 (double)rnd() / (double)UINT64_MAX);
        text_fmt(t, "\"name\":\"%s %s\",\"email\":\"%s.%s@example.com\",\"phone\":\"+1 (555) %03u-%04u\",",
                 first, last, first, last, rnd_below(1000), rnd_below(10000));
        text_fmt(t, "\"address\":{\"street\":\"%u %s Street\",\"city\":\"%s\",\"zip\":\"%05u\",",
                 rnd_below(9999), last, cities[rnd_below(12)], rnd_below(100000));
        text_fmt(t, "\"geo\":{\"lat\":%.6f,\"lng\":%.6f}},", (double)rnd_below(180000000) / 1e6 - 90.0,
                 (double)rnd_below(360000000) / 1e6 - 180.0);
        text_str(t, "\"about\":\"");
        gen_sentence(t, 8 + rnd_below(30));
        text_fmt(t, "\",\"registered\":\"20%02u-%02u-%02uT%02u:%02u:%02uZ\",\"tags\":[", rnd_below(24),
                 1 + rnd_below(12), 1 + rnd_below(28), rnd_below(24), rnd_below(60), rnd_below(60));
        for (unsigned i = 0, n = 1 + rnd_below(6); i < n; i++)
                text_fmt(t, "%s\"%s\"", i ? "," : "", tags[rnd_below(12)]);
        text_str(t, "],\"friends\":[");
        for (unsigned i = 0, n = rnd_below(4); i < n; i++)
                text_fmt(t, "%s{\"id\":%u,\"name\":\"%s %s\",\"since\":%u}", i ? "," : "", rnd_below(100000),
                         first_names[rnd_below(16)], last_names[rnd_below(14)], 2000 + rnd_below(24));
        text_fmt(t, "],\"manager\":null,\"quota\":%llu,\"delta\":-%u,\"history\":[[%u,%u.%u],[%u,%u.%u]],",
                 (unsigned long long)(rnd() | 1ull << 63), rnd_below(100000), rnd_below(1000),
                 rnd_below(100), rnd_below(10), rnd_below(1000), rnd_below(100), rnd_below(10));
        text_str(t, "\"greeting\":\"Hello, ");
        text_str(t, first);
        text_fmt(t,
                 "! You have %u unread messages.\",\"flags\":{\"admin\":%s,\"verified\":%s,\"beta\":null}}",
                 rnd_below(100), rnd() & 1 ? "true" : "false", rnd() & 1 ? "true" : "false");
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, size_t vl_bytes, double vl_s, size_t c_bytes, double c_s) {
        double vl_mbs = (double)vl_bytes / vl_s / 1e6, c_mbs = (double)c_bytes / c_s / 1e6;
        printf("%-10s libvl %8.1f MB/s (%7.2f ms)   json-c %7.1f MB/s (%7.2f ms)   libvl/json-c %.2fx\n",
               what, vl_mbs, vl_s * 1e3, c_mbs, c_s * 1e3, c_s / vl_s);
}

int main(int argc, char **argv) {
        size_t target = (argc > 1 ? (size_t)atoi(argv[1]) : 32) * 1024 * 1024;
        Text t = {0};

        text_str(&t, "{\"generator\":\"bench-json\",\"version\":1,\"records\":[\n");
        for (unsigned id = 0; t.len < target - 2048; id++) {
                if (id)
                        text_str(&t, ",\n");
                gen_record(&t, id);
        }
        text_str(&t, "\n],\"count\":null}\n");
        printf("document: %.1f MB\n", (double)t.len / 1e6);

        /* Parse. */
        VlJsonLimits limits = {.max_depth = 64, .max_size = t.len};
        VlJson *v = NULL;
        double best_vl = 1e9, best_c = 1e9;
        for (int i = 0; i < RUNS; i++) {
                VlJsonError err;
                vl_json_unref(v);
                double t0 = now();
                int r = vl_json_parse(t.p, t.len, &limits, &v, &err);
                double t1 = now();
                if (r < 0) {
                        fprintf(stderr, "libvl: parse failed at %u:%u: %s\n", err.line, err.column,
                                err.message);
                        return 1;
                }
                if (t1 - t0 < best_vl)
                        best_vl = t1 - t0;
        }
        json_object *jo = NULL;
        json_tokener *tok = json_tokener_new_ex(1024);
        for (int i = 0; i < RUNS; i++) {
                json_object_put(jo);
                json_tokener_reset(tok);
                double t0 = now();
                jo = json_tokener_parse_ex(tok, t.p, (int)t.len);
                double t1 = now();
                if (!jo || json_tokener_get_error(tok) != json_tokener_success) {
                        fprintf(stderr, "json-c: parse failed: %s\n",
                                json_tokener_error_desc(json_tokener_get_error(tok)));
                        return 1;
                }
                if (t1 - t0 < best_c)
                        best_c = t1 - t0;
        }
        json_tokener_free(tok);
        report("parse", t.len, best_vl, t.len, best_c);

        /* Serialize. */
        VlBuf b = VL_BUF_INIT;
        size_t c_len = 0;
        best_vl = best_c = 1e9;
        for (int i = 0; i < RUNS; i++) {
                vl_buf_clear(&b);
                double t0 = now();
                int r = vl_json_write(&b, v, VL_JSON_FORMAT_COMPACT);
                double t1 = now();
                if (r < 0) {
                        fprintf(stderr, "libvl: write failed: %s\n", strerror(-r));
                        return 1;
                }
                if (t1 - t0 < best_vl)
                        best_vl = t1 - t0;
        }
        for (int i = 0; i < RUNS; i++) {
                double t0 = now();
                const char *s = json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PLAIN);
                double t1 = now();
                c_len = strlen(s);
                if (t1 - t0 < best_c)
                        best_c = t1 - t0;
        }
        report("serialize", b.len, best_vl, c_len, best_c);

        /* The output must read back as the same document. */
        VlJson *back = NULL;
        if (vl_json_parse(b.data, b.len, &limits, &back, NULL) < 0 || !vl_json_equal(v, back)) {
                fputs("libvl: serialized output does not read back equal\n", stderr);
                return 1;
        }
        vl_json_unref(back);
        vl_json_unref(v);
        json_object_put(jo);
        vl_buf_free(&b);
        free(t.p);
        return 0;
}
