/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registries.h"
#include "toml.h"
#include "util.h"

#define REGISTRIES_DEFAULT   "/etc/containers/registries.conf"
#define REGISTRIES_FILE_MAX  (1024u * 1024u)
#define REGISTRIES_DROPINS   256u
#define REGISTRIES_MAX_ITEMS 4096u

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n && v; i++)
                free(v[i]);
        free(v);
}

static void registry_done(Registry *r) {
        free(r->prefix);
        free(r->location);
        strv_free(r->mirrors, r->n_mirrors);
        *r = (Registry){};
}

void registries_done(Registries *r) {
        if (!r)
                return;
        strv_free(r->search, r->n_search);
        strv_free(r->alias_names, r->n_aliases);
        strv_free(r->alias_values, r->n_aliases);
        for (size_t i = 0; i < r->n_registries; i++)
                registry_done(&r->registries[i]);
        free(r->registries);
        free(r->short_name_mode);
        *r = (Registries){};
}

/* Reads a whole file; -ENOENT passes through so a missing file can count as empty. */
static int read_file(const char *path, char **ret, size_t *ret_len, CpodError *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        ssize_t k;

        if (fd < 0)
                return errno == ENOENT ? -ENOENT : cpod_error_errno(err, errno, "open `%s`", path);
        buf = malloc(REGISTRIES_FILE_MAX + 1);
        if (!buf)
                return cpod_error(err, ENOMEM, "read `%s`: out of memory", path);
        while ((k = read(fd, buf + n, REGISTRIES_FILE_MAX + 1 - n)) != 0) {
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return cpod_error_errno(err, errno, "read `%s`", path);
                }
                n += k;
                if (n > REGISTRIES_FILE_MAX)
                        return cpod_error(err, E2BIG, "read `%s`: larger than %u bytes", path,
                                          REGISTRIES_FILE_MAX);
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

static int strv_from_json(const VlJson *a, const char *what, char ***ret, size_t *ret_n, CpodError *err) {
        size_t n = vl_json_array_length(a);
        char **v;

        if (vl_json_type(a) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "%s: not an array", what);
        if (n > REGISTRIES_MAX_ITEMS)
                return cpod_error(err, E2BIG, "%s: more than %u entries", what, REGISTRIES_MAX_ITEMS);
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const VlJson *e = vl_json_array_get(a, i);
                if (vl_json_type(e) != VL_JSON_STRING || !(v[i] = strdup(vl_json_get_string(e)))) {
                        strv_free(v, i);
                        return vl_json_type(e) != VL_JSON_STRING
                                       ? cpod_error(err, EINVAL, "%s[%zu]: not a string", what, i)
                                       : cpod_error(err, ENOMEM, "out of memory");
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int opt_string(const VlJson *o, const char *key, const char *what, char **ret, CpodError *err) {
        const VlJson *v = vl_json_object_get(o, key);
        char *s;

        if (!v)
                return 0;
        if (vl_json_type(v) != VL_JSON_STRING)
                return cpod_error(err, EINVAL, "%s%s: not a string", what, key);
        s = strdup(vl_json_get_string(v));
        if (!s)
                return cpod_error(err, ENOMEM, "out of memory");
        free(*ret);
        *ret = s;
        return 0;
}

static int opt_bool(const VlJson *o, const char *key, const char *what, bool *ret, CpodError *err) {
        const VlJson *v = vl_json_object_get(o, key);

        if (!v)
                return 0;
        if (vl_json_type(v) != VL_JSON_BOOL)
                return cpod_error(err, EINVAL, "%s%s: not a boolean", what, key);
        *ret = vl_json_get_bool(v);
        return 0;
}

static int registry_parse(const VlJson *o, size_t idx, Registry *reg, CpodError *err) {
        const VlJson *mirrors;
        char what[48];
        int r;

        snprintf(what, sizeof(what), "registry[%zu].", idx);
        if (vl_json_type(o) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "registry[%zu]: not a table", idx);
        if ((r = opt_string(o, "prefix", what, &reg->prefix, err)) < 0 ||
            (r = opt_string(o, "location", what, &reg->location, err)) < 0 ||
            (r = opt_bool(o, "insecure", what, &reg->insecure, err)) < 0 ||
            (r = opt_bool(o, "blocked", what, &reg->blocked, err)) < 0)
                return r;
        if (!reg->prefix && !reg->location)
                return cpod_error(err, EINVAL, "registry[%zu]: needs a prefix or a location", idx);
        /* Each defaults to the other (containers-registries.conf(5)). */
        if (!reg->prefix && !(reg->prefix = strdup(reg->location)))
                return cpod_error(err, ENOMEM, "out of memory");
        if (!reg->location && !(reg->location = strdup(reg->prefix)))
                return cpod_error(err, ENOMEM, "out of memory");
        mirrors = vl_json_object_get(o, "mirror");
        if (!mirrors)
                return 0;
        if (vl_json_type(mirrors) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "%smirror: not an array of tables", what);
        if (vl_json_array_length(mirrors) > REGISTRIES_MAX_ITEMS)
                return cpod_error(err, E2BIG, "%smirror: too many entries", what);
        reg->mirrors = calloc(vl_json_array_length(mirrors) + 1, sizeof(char *));
        if (!reg->mirrors)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < vl_json_array_length(mirrors); i++) {
                const VlJson *m = vl_json_array_get(mirrors, i);
                const VlJson *loc = vl_json_object_get(m, "location");
                if (vl_json_type(loc) != VL_JSON_STRING)
                        return cpod_error(err, EINVAL, "%smirror[%zu]: needs a location", what, i);
                reg->mirrors[i] = strdup(vl_json_get_string(loc));
                if (!reg->mirrors[i])
                        return cpod_error(err, ENOMEM, "out of memory");
                reg->n_mirrors = i + 1;
        }
        return 0;
}

/* [[registry]] tables replace earlier ones with the same prefix, others are added. */
static int apply_registries(Registries *cfg, const VlJson *a, CpodError *err) {
        if (vl_json_type(a) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "registry: not an array of tables");
        for (size_t i = 0; i < vl_json_array_length(a); i++) {
                Registry reg = {};
                size_t j;
                int r = registry_parse(vl_json_array_get(a, i), i, &reg, err);
                if (r < 0) {
                        registry_done(&reg);
                        return r;
                }
                for (j = 0; j < cfg->n_registries; j++)
                        if (streq(cfg->registries[j].prefix, reg.prefix))
                                break;
                if (j == cfg->n_registries) {
                        Registry *n;
                        if (j >= REGISTRIES_MAX_ITEMS ||
                            !(n = reallocarray(cfg->registries, j + 1, sizeof(Registry)))) {
                                registry_done(&reg);
                                return j >= REGISTRIES_MAX_ITEMS
                                               ? cpod_error(err, E2BIG, "too many [[registry]] tables")
                                               : cpod_error(err, ENOMEM, "out of memory");
                        }
                        cfg->registries = n;
                        cfg->n_registries++;
                } else
                        registry_done(&cfg->registries[j]);
                cfg->registries[j] = reg;
        }
        return 0;
}

static int apply_aliases(Registries *cfg, const VlJson *o, CpodError *err) {
        const char *k;
        VlJson *v;

        if (vl_json_type(o) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "aliases: not a table");
        VL_JSON_FOREACH_MEMBER (k, v, o) {
                size_t j;
                char *val;

                if (vl_json_type(v) != VL_JSON_STRING)
                        return cpod_error(err, EINVAL, "aliases.%s: not a string", k);
                val = strdup(vl_json_get_string(v));
                if (!val)
                        return cpod_error(err, ENOMEM, "out of memory");
                for (j = 0; j < cfg->n_aliases; j++)
                        if (streq(cfg->alias_names[j], k))
                                break;
                if (j == cfg->n_aliases) {
                        char *name = strdup(k), **a, **b;
                        a = name && j < REGISTRIES_MAX_ITEMS
                                    ? reallocarray(cfg->alias_names, j + 2, sizeof(char *))
                                    : NULL;
                        if (a)
                                cfg->alias_names = a;
                        b = a ? reallocarray(cfg->alias_values, j + 2, sizeof(char *)) : NULL;
                        if (!b) {
                                free(name);
                                free(val);
                                return cpod_error(err, ENOMEM, "aliases: out of memory or too many");
                        }
                        cfg->alias_values = b;
                        cfg->alias_names[j] = name;
                        cfg->alias_values[j] = NULL;
                        cfg->alias_names[j + 1] = cfg->alias_values[j + 1] = NULL;
                        cfg->n_aliases++;
                }
                free(cfg->alias_values[j]);
                cfg->alias_values[j] = val;
        }
        return 0;
}

static int apply_file(Registries *cfg, const VlJson *root, CpodError *err) {
        static const char *const modes[] = {"enforcing", "permissive", "disabled"};
        const VlJson *v;
        int r;

        if (vl_json_type(vl_json_object_get(root, "registries")) == VL_JSON_OBJECT)
                return cpod_error(err, EINVAL,
                                  "the v1 format ([registries.search]) is not supported, use "
                                  "unqualified-search-registries and [[registry]]");
        v = vl_json_object_get(root, "unqualified-search-registries");
        if (v) {
                char **s = NULL;
                size_t n = 0;
                r = strv_from_json(v, "unqualified-search-registries", &s, &n, err);
                if (r < 0)
                        return r;
                strv_free(cfg->search, cfg->n_search);
                cfg->search = s;
                cfg->n_search = n;
        }
        r = opt_string(root, "short-name-mode", "", &cfg->short_name_mode, err);
        if (r < 0)
                return r;
        if (cfg->short_name_mode) {
                size_t i;
                for (i = 0; i < ELEMENTSOF(modes) && !streq(modes[i], cfg->short_name_mode); i++)
                        ;
                if (i == ELEMENTSOF(modes))
                        return cpod_error(
                                err, EINVAL,
                                "short-name-mode: \"%.64s\" is not enforcing, permissive or disabled",
                                cfg->short_name_mode);
        }
        if ((v = vl_json_object_get(root, "aliases")) && (r = apply_aliases(cfg, v, err)) < 0)
                return r;
        if ((v = vl_json_object_get(root, "registry")) && (r = apply_registries(cfg, v, err)) < 0)
                return r;
        return 0;
}

static int load_one(Registries *cfg, const char *path, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, &text, &len, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = toml_parse(text, len, &root, err);
        if (r >= 0)
                r = apply_file(cfg, root, err);
        return r < 0 ? cpod_error_wrap(err, "%s", path) : 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dropins(Registries *cfg, const char *dir, CpodError *err) {
        DIR *d = opendir(dir);
        char *names[REGISTRIES_DROPINS];
        size_t n = 0;
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0
                                                           : cpod_error_errno(err, errno, "open `%s`", dir);
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".conf"))
                        continue;
                if (n == REGISTRIES_DROPINS) {
                        r = cpod_error(err, E2BIG, "`%s`: more than %u drop-in files", dir,
                                       REGISTRIES_DROPINS);
                        break;
                }
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0) {
                        r = cpod_error(err, ENOMEM, "out of memory");
                        break;
                }
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                /* Sub-directories named *.conf are skipped like any non-file. */
                if (r >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
                        r = load_one(cfg, names[i], err);
                free(names[i]);
        }
        return r;
}

int registries_load(const char *path, Registries *ret, CpodError *err) {
        _cleanup_free_ char *dir = NULL;
        Registries cfg = {};
        const char *slash;
        int r;

        path = path ?: REGISTRIES_DEFAULT;
        slash = strrchr(path, '/');
        if (asprintf(&dir, "%.*sregistries.conf.d", slash ? (int)(slash - path + 1) : 0, path) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = load_one(&cfg, path, err);
        if (r >= 0)
                r = load_dropins(&cfg, dir, err);
        if (r < 0) {
                registries_done(&cfg);
                return r;
        }
        *ret = cfg;
        return 0;
}

const char *registries_alias(const Registries *r, const char *short_name) {
        for (size_t i = 0; i < r->n_aliases; i++)
                if (streq(r->alias_names[i], short_name))
                        return r->alias_values[i];
        return NULL;
}

/* How many characters of repository the prefix matches, 0 for none. A
 * "*.example.com" prefix matches any subdomain in the host part. */
static size_t prefix_match(const char *prefix, const char *repository) {
        size_t n = strlen(prefix);

        if (prefix[0] == '*' && prefix[1] == '.') {
                size_t host = strcspn(repository, "/");
                size_t suffix = n - 1; /* ".example.com" */
                if (host > suffix && memcmp(repository + host - suffix, prefix + 1, suffix) == 0)
                        return n;
                return 0;
        }
        if (strncmp(repository, prefix, n) != 0)
                return 0;
        return strchr("/:@", repository[n]) ? n : 0; /* also matches the terminating NUL */
}

const Registry *registries_find(const Registries *r, const char *repository) {
        const Registry *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < r->n_registries; i++) {
                size_t l = prefix_match(r->registries[i].prefix, repository);
                if (l > best_len) {
                        best = &r->registries[i];
                        best_len = l;
                }
        }
        return best;
}
