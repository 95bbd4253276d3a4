/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "reference.h"
#include "util.h"

#define REFERENCE_NAME_MAX  255u
#define REFERENCE_TAG_MAX   128u
#define REFERENCE_INPUT_MAX 4096u

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int ref_error(CpodError *err, const char *fmt, const char *what, size_t n) {
        return cpod_error(err, EINVAL, fmt, (int)MIN(n, (size_t)300), what);
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int tag_check(const char *t, size_t n, CpodError *err) {
        if (n == 0)
                return cpod_error(err, EINVAL, "invalid reference format: empty tag after ':'");
        if (n > REFERENCE_TAG_MAX)
                return cpod_error(err, EINVAL, "invalid reference format: tag is longer than %u characters",
                                  REFERENCE_TAG_MAX);
        for (size_t i = 0; i < n; i++) {
                char c = t[i];
                if (is_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-')))
                        continue;
                return ref_error(err, "invalid reference format: invalid tag \"%.*s\"", t, n);
        }
        return 0;
}

/* alnum+ ((\.|_|__|-+) alnum+)* */
static int path_component_check(const char *s, size_t n, CpodError *err) {
        size_t i = 0;

        if (n == 0)
                return cpod_error(err, EINVAL,
                                  "invalid reference format: empty path component (check for '//' "
                                  "or a leading or trailing '/')");
        for (size_t k = 0; k < n; k++)
                if (s[k] >= 'A' && s[k] <= 'Z')
                        return cpod_error(err, EINVAL,
                                          "invalid reference format: repository name must be lowercase");
        for (;;) {
                size_t start = i;
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == start)
                        break;
                if (i == n)
                        return 0;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        break;
        }
        return ref_error(err, "invalid reference format: invalid path component \"%.*s\"", s, n);
}

static int port_check(const char *s, size_t n) {
        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return -EINVAL;
        return 0;
}

/* host[:port] where host is DNS labels, an IPv4 address or [IPv6]. */
static int domain_check(const char *s, size_t n, CpodError *err) {
        size_t i = 0;

        if (n > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return ref_error(err, "invalid reference format: invalid IPv6 domain \"%.*s\"", s,
                                         n);
                for (const char *p = s + 1; p < close; p++)
                        if (!is_hex(*p) && *p != ':' && *p != '.')
                                return ref_error(
                                        err, "invalid reference format: invalid IPv6 domain \"%.*s\"", s, n);
                i = close - s + 1;
        } else {
                for (;;) {
                        size_t start = i;
                        while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                                i++;
                        if (i == start || s[start] == '-' || s[i - 1] == '-')
                                return ref_error(err, "invalid reference format: invalid domain \"%.*s\"", s,
                                                 n);
                        if (i < n && s[i] == '.') {
                                i++;
                                continue;
                        }
                        break;
                }
        }
        if (i == n)
                return 0;
        if (s[i] != ':' || port_check(s + i + 1, n - i - 1) < 0)
                return ref_error(err, "invalid reference format: invalid domain or port \"%.*s\"", s, n);
        return 0;
}

static bool component_is_domain(const char *s, size_t n) {
        return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && memcmp(s, "localhost", 9) == 0);
}

static int reference_split_name(const char *name, size_t n, Reference *r, CpodError *err) {
        const char *slash = memchr(name, '/', n), *path = name;
        size_t path_len = n;
        int k;

        if (n == 0)
                return cpod_error(err, EINVAL, "invalid reference format: empty repository name");
        if (n > REFERENCE_NAME_MAX)
                return cpod_error(
                        err, EINVAL,
                        "invalid reference format: repository name must not be more than %u characters",
                        REFERENCE_NAME_MAX);
        if (name[n - 1] == '/')
                return cpod_error(err, EINVAL, "invalid reference format: trailing '/'");
        if (slash && component_is_domain(name, slash - name)) {
                k = domain_check(name, slash - name, err);
                if (k < 0)
                        return k;
                r->domain = strndup(name, slash - name);
                if (!r->domain)
                        return -ENOMEM;
                path = slash + 1;
                path_len = n - (path - name);
        }
        for (const char *p = path, *end = path + path_len; p <= end;) {
                const char *q = memchr(p, '/', end - p);
                if (!q)
                        q = end;
                k = path_component_check(p, q - p, err);
                if (k < 0)
                        return k;
                p = q + 1;
        }
        r->path = strndup(path, path_len);
        return r->path ? 0 : -ENOMEM;
}

static int reference_parse_parts(const char *s, Reference *r, CpodError *err) {
        const char *at = strchr(s, '@'), *name_end, *colon, *slash;
        size_t n = strlen(s);
        int k;

        if (at) {
                if (!digest_valid(at + 1))
                        return ref_error(err,
                                         "invalid reference format: invalid digest \"%.*s\" (expected "
                                         "sha256: and 64 lowercase hex digits)",
                                         at + 1, strlen(at + 1));
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return -ENOMEM;
                n = at - s;
        }
        name_end = s + n;
        /* A ':' after the last '/' starts the tag; earlier ones belong to a port. */
        colon = memrchr(s, ':', n);
        slash = memrchr(s, '/', n);
        if (colon && (!slash || colon > slash) && !(s[0] == '[' && !slash)) {
                k = tag_check(colon + 1, name_end - colon - 1, err);
                if (k < 0)
                        return k;
                r->tag = strndup(colon + 1, name_end - colon - 1);
                if (!r->tag)
                        return -ENOMEM;
                name_end = colon;
        }
        return reference_split_name(s, name_end - s, r, err);
}

int reference_parse(const char *s, Reference *ret, CpodError *err) {
        Reference r = {};
        int k;

        if (!s || !*s)
                return cpod_error(err, EINVAL, "invalid reference format: empty reference");
        if (strlen(s) > REFERENCE_INPUT_MAX)
                return cpod_error(err, EINVAL, "invalid reference format: reference is too long");
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
                        return cpod_error(err, EINVAL,
                                          "invalid reference format: white space or non-ASCII character");
        k = reference_parse_parts(s, &r, err);
        if (k < 0) {
                if (k == -ENOMEM)
                        cpod_error(err, ENOMEM, "parse reference: out of memory");
                reference_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void reference_done(Reference *r) {
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        *r = (Reference){};
}

bool reference_is_short(const Reference *r) {
        return !r->domain;
}

int reference_normalize(Reference *r, const char *domain) {
        if (!r->domain && domain) {
                r->domain = strdup(domain);
                if (!r->domain)
                        return -ENOMEM;
        }
        if (r->domain && (streq(r->domain, "index.docker.io") || streq(r->domain, "registry-1.docker.io"))) {
                char *d = strdup("docker.io");
                if (!d)
                        return -ENOMEM;
                free(r->domain);
                r->domain = d;
        }
        if (r->domain && streq(r->domain, "docker.io") && !strchr(r->path, '/')) {
                char *p;
                if (asprintf(&p, "library/%s", r->path) < 0)
                        return -ENOMEM;
                free(r->path);
                r->path = p;
        }
        if (!r->tag && !r->digest) {
                r->tag = strdup("latest");
                if (!r->tag)
                        return -ENOMEM;
        }
        return 0;
}

char *reference_repository(const Reference *r) {
        char *s;

        if (asprintf(&s, "%s%s%s", r->domain ?: "", r->domain ? "/" : "", r->path) < 0)
                return NULL;
        return s;
}

char *reference_string(const Reference *r) {
        char *s;

        if (asprintf(&s, "%s%s%s%s%s%s%s", r->domain ?: "", r->domain ? "/" : "", r->path, r->tag ? ":" : "",
                     r->tag ?: "", r->digest ? "@" : "", r->digest ?: "") < 0)
                return NULL;
        return s;
}

bool reference_is_id_prefix(const char *s) {
        size_t n = 0;

        if (!s)
                return false;
        s = startswith(s, "sha256:") ?: s;
        for (; s[n]; n++)
                if (!is_digit(s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
                        return false;
        return n >= 3 && n <= 64;
}
