/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* search (catalogs and tag lists), login and logout. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registries.h"
#include "registry-internal.h"
#include "util.h"

void search_results_free(SearchResult *r, size_t n) {
        for (size_t i = 0; r && i < n; i++) {
                free(r[i].name);
                free(r[i].tag);
        }
        free(r);
}

static int result_add(SearchResult **v, size_t *n, const char *host, const char *name, const char *tag) {
        SearchResult *x = realloc(*v, (*n + 1) * sizeof(SearchResult));
        if (!x)
                return -ENOMEM;
        *v = x;
        x[*n] = (SearchResult){};
        if (asprintf(&x[*n].name, "%s/%s", host, name) < 0)
                return -ENOMEM;
        if (tag && !(x[*n].tag = strdup(tag))) {
                free(x[*n].name);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static int search_one(const char *host, const char *term, const RegistryOptions *o, bool list_tags,
                      size_t limit, SearchResult **v, size_t *n, CpodError *err) {
        RegistryClient *c = NULL;
        char **names = NULL;
        size_t k = 0, found = 0;
        int r = registry_client_new(host, o, &c, err);
        if (r >= 0)
                r = list_tags ? registry_tags(c, term, &names, &k, err)
                              : registry_catalog(c, &names, &k, err);
        for (size_t i = 0; r >= 0 && i < k && (!limit || found < limit); i++) {
                if (!list_tags && !strstr(names[i], term))
                        continue;
                r = list_tags ? result_add(v, n, host, term, names[i])
                              : result_add(v, n, host, names[i], NULL);
                if (r < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
                found++;
        }
        registry_strv_free(names, k);
        registry_client_free(c);
        return r;
}

int registry_search(const char *term, const RegistryOptions *o, bool list_tags, size_t limit,
                    SearchResult **ret, size_t *ret_n, CpodError *err) {
        SearchResult *v = NULL;
        size_t n = 0;
        const char *slash = strchr(term, '/');
        _cleanup_free_ char *host = NULL;
        int r = 0;

        /* "host/term" when the first component looks like a host, as in a reference. */
        if (slash && (memchr(term, '.', (size_t)(slash - term)) ||
                      memchr(term, ':', (size_t)(slash - term)) || startswith(term, "localhost/"))) {
                if (!(host = strndup(term, (size_t)(slash - term))))
                        return cpod_error(err, ENOMEM, "out of memory");
                r = search_one(host, slash + 1, o, list_tags, limit, &v, &n, err);
        } else {
                Registries regs = {};
                const char *conf =
                        o->registries_conf ? o->registries_conf : getenv("CONTAINERS_REGISTRIES_CONF");
                r = registries_load(conf && *conf ? conf : NULL, &regs, err);
                if (r >= 0 && list_tags)
                        r = cpod_error(err, EINVAL, "--list-tags needs a fully qualified image name: %s",
                                       term);
                for (size_t i = 0; r >= 0 && i < regs.n_search; i++)
                        r = search_one(regs.search[i], term, o, false, limit, &v, &n, err);
                registries_done(&regs);
        }
        if (r < 0) {
                search_results_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* "host/namespace" keys are kept as given; "https://host/…" and a trailing slash are dropped. */
static int login_key(const char *server, char **ret_key, char **ret_host, CpodError *err) {
        const char *s = startswith(server, "https://") ?: startswith(server, "http://") ?: server;
        size_t l = strlen(s);
        while (l && s[l - 1] == '/')
                l--;
        if (l == 0)
                return cpod_error(err, EINVAL, "no registry given");
        *ret_key = strndup(s, l);
        *ret_host = strndup(s, strcspn(s, "/"));
        if (!*ret_key || !*ret_host)
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

int registry_login(const char *server, const char *user, const char *pass, const RegistryOptions *o,
                   CpodError *err) {
        _cleanup_free_ char *key = NULL, *host = NULL, *creds = NULL;
        RegistryOptions x = *o;
        RegistryClient *c = NULL;
        int r = login_key(server, &key, &host, err);
        if (r < 0)
                return r;
        if (!user || !*user)
                return cpod_error(err, EINVAL, "username is required");
        if (asprintf(&creds, "%s:%s", user, pass ? pass : "") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        x.creds = creds;
        r = registry_client_new(host, &x, &c, err);
        if (r >= 0)
                r = registry_check_login(c, err);
        registry_client_free(c);
        if (r == -EACCES)
                return cpod_error_wrap(err, "logging into \"%s\": invalid username/password", key);
        if (r < 0)
                return cpod_error_wrap(err, "authenticating creds for \"%s\"", key);
        return registry_auth_store(o->authfile, key, user, pass ? pass : "", err);
}

int registry_logout(const char *server, const RegistryOptions *o, CpodError *err) {
        _cleanup_free_ char *key = NULL, *host = NULL;
        if (!server)
                return registry_auth_remove(o->authfile, NULL, err);
        int r = login_key(server, &key, &host, err);
        if (r < 0)
                return r;
        return registry_auth_remove(o->authfile, key, err);
}
