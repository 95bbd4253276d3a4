/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <vl/json.h>

#include "manifest.h"
#include "util.h"

/* Bounds for the arrays of an image config; the 4 MiB input bounds them
 * too, these keep a single list from dominating memory. */
#define CONFIG_MAX_HISTORY 4096u
#define CONFIG_MAX_LIST    65536u

static int json_load(const char *what, const char *json, size_t len, VlJson **ret, CpodError *err) {
        VlJsonLimits limits = {.max_depth = 32, .max_size = MANIFEST_MAX_SIZE};
        VlJsonError jerr = {};
        VlJson *v = NULL;
        int r;

        if (len > MANIFEST_MAX_SIZE)
                return cpod_error(err, E2BIG, "%s: larger than %u bytes", what, MANIFEST_MAX_SIZE);
        r = vl_json_parse(json, len, &limits, &v, &jerr);
        if (r == -ENOMEM)
                return cpod_error(err, ENOMEM, "%s: out of memory", what);
        if (r < 0)
                return cpod_error(err, EINVAL, "%s: invalid JSON at line %u column %u: %s", what, jerr.line,
                                  jerr.column, jerr.message);
        if (vl_json_type(v) != VL_JSON_OBJECT) {
                vl_json_unref(v);
                return cpod_error(err, EINVAL, "%s: not a JSON object", what);
        }
        *ret = v;
        return 0;
}

/* An optional string member: absent or null leaves *ret NULL. */
static int get_string(const VlJson *o, const char *key, const char *what, char **ret, CpodError *err) {
        const VlJson *v = vl_json_object_get(o, key);
        char *s;

        if (vl_json_is_null(v))
                return 0;
        if (vl_json_type(v) != VL_JSON_STRING)
                return cpod_error(err, EINVAL, "%s: %s: not a string", what, key);
        s = strdup(vl_json_get_string(v));
        if (!s)
                return cpod_error(err, ENOMEM, "%s: out of memory", what);
        free(*ret);
        *ret = s;
        return 0;
}

static void descriptor_done(Descriptor *d) {
        free(d->media_type);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (Descriptor){};
}

static int descriptor_parse(const VlJson *o, bool platform, const char *what, Descriptor *d,
                            CpodError *err) {
        const VlJson *v;
        int r;

        if (vl_json_type(o) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "%s: not an object", what);
        r = get_string(o, "mediaType", what, &d->media_type, err);
        if (r < 0)
                return r;
        if (!d->media_type || !d->media_type[0])
                return cpod_error(err, EINVAL, "%s: missing mediaType", what);
        v = vl_json_object_get(o, "digest");
        if (!digest_valid(vl_json_get_string(v)))
                return cpod_error(err, EINVAL, "%s: invalid digest", what);
        strcpy(d->digest, vl_json_get_string(v));
        v = vl_json_object_get(o, "size");
        if (vl_json_type(v) != VL_JSON_INT || vl_json_get_int(v) < 0)
                return cpod_error(err, EINVAL, "%s: size must be a non-negative integer", what);
        d->size = vl_json_get_int(v);
        if (!platform)
                return 0;
        v = vl_json_object_get(o, "platform");
        if (vl_json_is_null(v))
                return 0;
        if (vl_json_type(v) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "%s: platform: not an object", what);
        r = get_string(v, "os", what, &d->os, err);
        if (r >= 0)
                r = get_string(v, "architecture", what, &d->architecture, err);
        if (r >= 0)
                r = get_string(v, "variant", what, &d->variant, err);
        return r;
}

static int descriptors_parse(const VlJson *root, const char *key, bool platform, Manifest *m,
                             CpodError *err) {
        const VlJson *a = vl_json_object_get(root, key);
        size_t n = vl_json_array_length(a);
        char what[64];
        int r;

        if (vl_json_type(a) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "manifest: missing %s array", key);
        if (n > MANIFEST_MAX_LAYERS)
                return cpod_error(err, E2BIG, "manifest: %s: more than %u entries", key,
                                  MANIFEST_MAX_LAYERS);
        m->layers = calloc(n ?: 1, sizeof(Descriptor));
        if (!m->layers)
                return cpod_error(err, ENOMEM, "manifest: out of memory");
        for (size_t i = 0; i < n; i++) {
                snprintf(what, sizeof(what), "manifest: %s[%zu]", key, i);
                m->n_layers = i + 1;
                r = descriptor_parse(vl_json_array_get(a, i), platform, what, &m->layers[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int manifest_parse_root(const VlJson *root, const char *hint, Manifest *m, CpodError *err) {
        const VlJson *sv = vl_json_object_get(root, "schemaVersion");
        int r;

        if (vl_json_type(sv) != VL_JSON_INT)
                return cpod_error(err, EINVAL, "manifest: missing schemaVersion");
        if (vl_json_get_int(sv) != 2)
                return cpod_error(err, EINVAL,
                                  "manifest: unsupported schemaVersion %" PRId64 " (only 2 is supported)",
                                  vl_json_get_int(sv));
        r = get_string(root, "mediaType", "manifest", &m->media_type, err);
        if (r < 0)
                return r;
        if (!m->media_type) {
                /* OCI documents may omit mediaType; the structure tells them apart. */
                const char *t =
                        hint ?: (vl_json_object_get(root, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST);
                m->media_type = strdup(t);
                if (!m->media_type)
                        return cpod_error(err, ENOMEM, "manifest: out of memory");
        }
        if (streq(m->media_type, MT_OCI_INDEX) || streq(m->media_type, MT_DOCKER_LIST)) {
                m->is_index = true;
                return descriptors_parse(root, "manifests", true, m, err);
        }
        if (!streq(m->media_type, MT_OCI_MANIFEST) && !streq(m->media_type, MT_DOCKER_MANIFEST))
                return cpod_error(err, EINVAL, "manifest: unsupported media type \"%.200s\"", m->media_type);
        r = descriptor_parse(vl_json_object_get(root, "config"), false, "manifest: config", &m->config, err);
        if (r < 0)
                return r;
        return descriptors_parse(root, "layers", false, m, err);
}

int manifest_parse(const char *json, size_t len, const char *media_type_hint, Manifest *ret,
                   CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        Manifest m = {};
        int r;

        r = json_load("manifest", json, len, &root, err);
        if (r < 0)
                return r;
        r = manifest_parse_root(root, media_type_hint, &m, err);
        if (r < 0) {
                manifest_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

void manifest_done(Manifest *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(&m->layers[i]);
        free(m->layers);
        free(m->media_type);
        descriptor_done(&m->config);
        *m = (Manifest){};
}

static void machine_platform(const char **ret_arch, const char **ret_variant) {
        static const struct {
                const char *machine, *arch, *variant;
        } table[] = {
                {"x86_64", "amd64", NULL},    {"aarch64", "arm64", "v8"}, {"armv7l", "arm", "v7"},
                {"armv6l", "arm", "v6"},      {"i686", "386", NULL},      {"i386", "386", NULL},
                {"ppc64le", "ppc64le", NULL}, {"s390x", "s390x", NULL},   {"riscv64", "riscv64", NULL},
        };
        struct utsname u;

        *ret_arch = "amd64";
        *ret_variant = NULL;
        if (uname(&u) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(u.machine, table[i].machine)) {
                        *ret_arch = table[i].arch;
                        *ret_variant = table[i].variant;
                        return;
                }
}

const Descriptor *manifest_select(const Manifest *index, const char *os, const char *arch,
                                  const char *variant) {
        const Descriptor *fallback = NULL;

        if (!index || !index->is_index)
                return NULL;
        if (!arch)
                machine_platform(&arch, variant ? &(const char *){NULL} : &variant);
        os = os ?: "linux";
        for (size_t i = 0; i < index->n_layers; i++) {
                const Descriptor *d = &index->layers[i];
                if (!streq_ptr(d->os, os) || !streq_ptr(d->architecture, arch))
                        continue;
                if (!variant || streq_ptr(d->variant, variant))
                        return d;
                /* arm64 entries often omit the (implied) v8 variant. */
                if (!fallback && (!d->variant || !d->variant[0]))
                        fallback = d;
        }
        return fallback;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        /* Days since 1970-01-01 in the proleptic Gregorian calendar, counting
         * years from March so that the leap day ends the year. */
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d) {
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        *ret_y = (int64_t)yoe + era * 400 + (m <= 2);
        *ret_m = m;
        *ret_d = d;
}

static int digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *set) {
        if (!**p || !strchr(set, **p))
                return -EINVAL;
        (*p)++;
        return 0;
}

int rfc3339_parse(const char *s, int64_t *ret_sec, int32_t *ret_nsec) {
        static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        unsigned y, mo, d, h, mi, sec, oh = 0, om = 0, nsec = 0, scale = 100000000;
        int sign = 0;

        if (!s || digits(&s, 4, &y) < 0 || expect(&s, "-") < 0 || digits(&s, 2, &mo) < 0 ||
            expect(&s, "-") < 0 || digits(&s, 2, &d) < 0 || expect(&s, "Tt ") < 0 || digits(&s, 2, &h) < 0 ||
            expect(&s, ":") < 0 || digits(&s, 2, &mi) < 0 || expect(&s, ":") < 0 || digits(&s, 2, &sec) < 0)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
                return -EINVAL;
        if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
                return -EINVAL;
        if (*s == '.') {
                s++;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                /* Go writes up to 9 digits; further ones are below a nanosecond. */
                for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
                        nsec += (unsigned)(*s - '0') * scale;
        }
        if (*s == 'Z' || *s == 'z')
                s++;
        else if (*s == '+' || *s == '-') {
                sign = *s++ == '-' ? -1 : 1;
                if (digits(&s, 2, &oh) < 0 || expect(&s, ":") < 0 || digits(&s, 2, &om) < 0 || oh > 23 ||
                    om > 59)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*s)
                return -EINVAL;
        *ret_sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                   (int64_t)sign * (oh * 3600 + om * 60);
        if (ret_nsec)
                *ret_nsec = (int32_t)nsec;
        return 0;
}

void rfc3339_format(int64_t sec, int32_t nsec, char *buf, size_t n) {
        int64_t days, rem, y;
        unsigned mo, d;
        char frac[12] = "";

        /* Years 0000-9999, what four digits and rfc3339_parse cover. */
        sec = MAX(MIN(sec, INT64_C(253402300799)), INT64_C(-62167219200));
        days = sec / 86400;
        rem = sec % 86400;
        if (rem < 0) {
                rem += 86400;
                days--;
        }
        civil_from_days(days, &y, &mo, &d);
        if (nsec > 0 && nsec < 1000000000) {
                /* Go's RFC3339Nano: the fraction without trailing zeros. */
                snprintf(frac, sizeof(frac), ".%09d", (int)nsec);
                for (size_t l = strlen(frac); frac[l - 1] == '0'; l--)
                        frac[l - 1] = 0;
        }
        snprintf(buf, n, "%04d-%02u-%02uT%02d:%02d:%02d%sZ", (int)y, mo, d, (int)(rem / 3600),
                 (int)(rem / 60 % 60), (int)(rem % 60), frac);
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* A JSON array of strings (or null) into a NULL-terminated vector. */
static int get_strv(const VlJson *o, const char *key, char ***ret, size_t *ret_n, CpodError *err) {
        const VlJson *a = vl_json_object_get(o, key);
        size_t n = vl_json_array_length(a);
        char **v;

        if (vl_json_is_null(a))
                return 0;
        if (vl_json_type(a) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "image config: %s: not an array", key);
        if (n > CONFIG_MAX_LIST)
                return cpod_error(err, E2BIG, "image config: %s: too many entries", key);
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return cpod_error(err, ENOMEM, "image config: out of memory");
        for (size_t i = 0; i < n; i++) {
                const VlJson *e = vl_json_array_get(a, i);
                if (vl_json_type(e) != VL_JSON_STRING) {
                        strv_free(v, i);
                        return cpod_error(err, EINVAL, "image config: %s[%zu]: not a string", key, i);
                }
                v[i] = strdup(vl_json_get_string(e));
                if (!v[i]) {
                        strv_free(v, i);
                        return cpod_error(err, ENOMEM, "image config: out of memory");
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The keys of an object ({"80/tcp": {}}), or with values when ret_values is given. */
static int get_keys(const VlJson *o, const char *key, char ***ret, char ***ret_values, size_t *ret_n,
                    CpodError *err) {
        const VlJson *obj = vl_json_object_get(o, key), *v;
        size_t n = vl_json_object_length(obj);
        const char *k;
        char **keys = NULL, **values = NULL;

        if (vl_json_is_null(obj))
                return 0;
        if (vl_json_type(obj) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "image config: %s: not an object", key);
        if (n > CONFIG_MAX_LIST)
                return cpod_error(err, E2BIG, "image config: %s: too many entries", key);
        keys = calloc(n + 1, sizeof(char *));
        values = ret_values ? calloc(n + 1, sizeof(char *)) : NULL;
        if (!keys || (ret_values && !values))
                goto oom;
        size_t i = 0;
        VL_JSON_FOREACH_MEMBER (k, v, obj) {
                if (ret_values && vl_json_type(v) != VL_JSON_STRING) {
                        strv_free(keys, n);
                        strv_free(values, n);
                        return cpod_error(err, EINVAL,
                                          "image config: %s: value of \"%.100s\" is not a string", key, k);
                }
                keys[i] = strdup(k);
                if (!keys[i] || (ret_values && !(values[i] = strdup(vl_json_get_string(v)))))
                        goto oom;
                i++;
        }
        *ret = keys;
        if (ret_values)
                *ret_values = values;
        *ret_n = n;
        return 0;
oom:
        strv_free(keys, n);
        strv_free(values, n);
        return cpod_error(err, ENOMEM, "image config: out of memory");
}

static int get_time(const VlJson *o, const char *what, int64_t *ret, CpodError *err) {
        const VlJson *v = vl_json_object_get(o, "created");

        if (vl_json_is_null(v))
                return 0;
        if (vl_json_type(v) != VL_JSON_STRING || rfc3339_parse(vl_json_get_string(v), ret, NULL) < 0)
                return cpod_error(err, EINVAL, "%s: created: invalid RFC 3339 timestamp", what);
        return 0;
}

static int config_parse_history(const VlJson *root, ImageConfig *c, CpodError *err) {
        const VlJson *a = vl_json_object_get(root, "history");
        size_t n = vl_json_array_length(a);
        char what[64];
        int r;

        if (vl_json_is_null(a))
                return 0;
        if (vl_json_type(a) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "image config: history: not an array");
        if (n > CONFIG_MAX_HISTORY)
                return cpod_error(err, E2BIG, "image config: history: more than %u entries",
                                  CONFIG_MAX_HISTORY);
        c->history = calloc(n ?: 1, sizeof(*c->history));
        if (!c->history)
                return cpod_error(err, ENOMEM, "image config: out of memory");
        for (size_t i = 0; i < n; i++) {
                const VlJson *h = vl_json_array_get(a, i), *e;
                struct ImageHistory *x = &c->history[i];

                c->n_history = i + 1;
                snprintf(what, sizeof(what), "image config: history[%zu]", i);
                if (vl_json_type(h) != VL_JSON_OBJECT)
                        return cpod_error(err, EINVAL, "%s: not an object", what);
                if ((r = get_time(h, what, &x->created, err)) < 0 ||
                    (r = get_string(h, "created_by", what, &x->created_by, err)) < 0 ||
                    (r = get_string(h, "comment", what, &x->comment, err)) < 0 ||
                    (r = get_string(h, "author", what, &x->author, err)) < 0)
                        return r;
                e = vl_json_object_get(h, "empty_layer");
                if (!vl_json_is_null(e) && vl_json_type(e) != VL_JSON_BOOL)
                        return cpod_error(err, EINVAL, "%s: empty_layer: not a boolean", what);
                x->empty_layer = vl_json_get_bool(e);
        }
        return 0;
}

static int config_parse_rootfs(const VlJson *root, ImageConfig *c, CpodError *err) {
        const VlJson *rootfs = vl_json_object_get(root, "rootfs");
        int r;

        if (vl_json_is_null(rootfs))
                return 0;
        if (vl_json_type(rootfs) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "image config: rootfs: not an object");
        r = get_strv(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, err);
        if (r < 0)
                return r;
        if (c->n_diff_ids > MANIFEST_MAX_LAYERS)
                return cpod_error(err, E2BIG, "image config: rootfs: more than %u layers",
                                  MANIFEST_MAX_LAYERS);
        for (size_t i = 0; i < c->n_diff_ids; i++)
                if (!digest_valid(c->diff_ids[i]))
                        return cpod_error(err, EINVAL, "image config: rootfs.diff_ids[%zu]: invalid digest",
                                          i);
        return 0;
}

static int config_parse_config(const VlJson *root, ImageConfig *c, CpodError *err) {
        const VlJson *cfg = vl_json_object_get(root, "config");
        const char *what = "image config: config";
        int r;

        if (vl_json_is_null(cfg))
                return 0;
        if (vl_json_type(cfg) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "%s: not an object", what);
        if ((r = get_strv(cfg, "Env", &c->env, &c->n_env, err)) < 0 ||
            (r = get_strv(cfg, "Cmd", &c->cmd, &c->n_cmd, err)) < 0 ||
            (r = get_strv(cfg, "Entrypoint", &c->entrypoint, &c->n_entrypoint, err)) < 0 ||
            (r = get_keys(cfg, "Volumes", &c->volumes, NULL, &c->n_volumes, err)) < 0 ||
            (r = get_keys(cfg, "ExposedPorts", &c->exposed_ports, NULL, &c->n_exposed_ports, err)) < 0 ||
            (r = get_keys(cfg, "Labels", &c->label_keys, &c->label_values, &c->n_labels, err)) < 0 ||
            (r = get_string(cfg, "User", what, &c->user, err)) < 0 ||
            (r = get_string(cfg, "WorkingDir", what, &c->working_dir, err)) < 0 ||
            (r = get_string(cfg, "StopSignal", what, &c->stop_signal, err)) < 0)
                return r;
        return 0;
}

int image_config_parse(const char *json, size_t len, ImageConfig *ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        const char *what = "image config";
        ImageConfig c = {};
        int r;

        r = json_load(what, json, len, &root, err);
        if (r < 0)
                return r;
        if ((r = get_string(root, "architecture", what, &c.architecture, err)) < 0 ||
            (r = get_string(root, "os", what, &c.os, err)) < 0 ||
            (r = get_string(root, "variant", what, &c.variant, err)) < 0 ||
            (r = get_string(root, "author", what, &c.author, err)) < 0 ||
            (r = get_time(root, what, &c.created, err)) < 0 ||
            (r = config_parse_rootfs(root, &c, err)) < 0 || (r = config_parse_config(root, &c, err)) < 0 ||
            (r = config_parse_history(root, &c, err)) < 0) {
                image_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void image_config_done(ImageConfig *c) {
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->author);
        strv_free(c->diff_ids, c->n_diff_ids);
        strv_free(c->env, c->n_env);
        strv_free(c->cmd, c->n_cmd);
        strv_free(c->entrypoint, c->n_entrypoint);
        strv_free(c->volumes, c->n_volumes);
        strv_free(c->exposed_ports, c->n_exposed_ports);
        strv_free(c->label_keys, c->n_labels);
        strv_free(c->label_values, c->n_labels);
        free(c->user);
        free(c->working_dir);
        free(c->stop_signal);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created_by);
                free(c->history[i].comment);
                free(c->history[i].author);
        }
        free(c->history);
        *c = (ImageConfig){};
}
