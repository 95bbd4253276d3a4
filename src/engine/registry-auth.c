/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Registry authentication data: the WWW-Authenticate challenge parser, base64,
 * and auth.json, the credentials file podman and skopeo share.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vl/json.h>

#include "registry.h"
#include "util.h"

#define AUTHFILE_MAX (4u * 1024u * 1024u)

/* ---- WWW-Authenticate ---- */

static bool is_tchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* A token at p into buf (NUL-terminated); returns the end, or NULL when there is none. */
static const char *parse_token(const char *p, char *buf, size_t size) {
        size_t n = 0;
        while (is_tchar(*p)) {
                if (n + 1 >= size)
                        return NULL;
                buf[n++] = *p++;
        }
        buf[n] = 0;
        return n ? p : NULL;
}

/* A token or a quoted-string (with \-escapes) at p, malloc'ed into *ret. */
static const char *parse_value(const char *p, char **ret) {
        size_t n = 0;
        char *s = malloc(strlen(p) + 1);
        if (!s)
                return NULL;
        if (*p == '"') {
                for (p++; *p != '"'; p++) {
                        if (!*p || (unsigned char)*p < 0x20 || *p == 0x7f) {
                                free(s);
                                return NULL;
                        }
                        /* a quoted-pair; control characters are refused escaped or not */
                        if (*p == '\\') {
                                p++;
                                if (!*p || (unsigned char)*p < 0x20 || *p == 0x7f) {
                                        free(s);
                                        return NULL;
                                }
                        }
                        s[n++] = *p;
                }
                p++;
        } else {
                while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
                        s[n++] = *p++;
                if (n == 0) {
                        free(s);
                        return NULL;
                }
        }
        s[n] = 0;
        *ret = s;
        return p;
}

static void set_param(RegistryChallenge *c, const char *name, char *value) {
        char **slot = strcasecmp(name, "realm") == 0     ? &c->realm
                      : strcasecmp(name, "service") == 0 ? &c->service
                      : strcasecmp(name, "scope") == 0   ? &c->scope
                                                         : NULL;
        if (slot && !*slot)
                *slot = value;
        else
                free(value);
}

/*
 * The grammar: challenge = scheme [ 1*SP ( token68 / #auth-param ) ], and a
 * header may hold several challenges separated by commas, so a token after a
 * comma that is not followed by '=' starts the next challenge.
 */
int registry_challenge_parse(const char *value, RegistryChallenge *ret) {
        RegistryChallenge c = {};
        char scheme[64], name[64];
        const char *p = value;
        bool want = false;

        if (!value || strlen(value) > REGISTRY_CHALLENGE_MAX)
                return -EINVAL;
        for (;;) {
                p = skip_ws(p);
                while (*p == ',')
                        p = skip_ws(p + 1);
                if (!*p)
                        break;
                const char *q = parse_token(p, name, sizeof(name));
                if (!q)
                        goto bad;
                const char *after = skip_ws(q);
                if (*after == '=' && c.scheme == REGISTRY_SCHEME_NONE && !want)
                        goto bad; /* a parameter before any scheme */
                if (*after != '=') {
                        /* A new challenge; stop once a known one is complete. */
                        if (c.scheme != REGISTRY_SCHEME_NONE)
                                break;
                        snprintf(scheme, sizeof(scheme), "%s", name);
                        want = true;
                        if (strcasecmp(scheme, "basic") == 0)
                                c.scheme = REGISTRY_SCHEME_BASIC;
                        else if (strcasecmp(scheme, "bearer") == 0)
                                c.scheme = REGISTRY_SCHEME_BEARER;
                        p = q;
                        continue;
                }
                /* token68 ("abc==") has only '=' after it: treat a missing value as that */
                p = skip_ws(after + 1);
                if (!*p || *p == ',') {
                        continue;
                }
                char *v = NULL;
                p = parse_value(p, &v);
                if (!p)
                        goto bad;
                if (c.scheme != REGISTRY_SCHEME_NONE)
                        set_param(&c, name, v);
                else
                        free(v);
                p = skip_ws(p);
                if (*p && *p != ',')
                        goto bad;
        }
        if (c.scheme == REGISTRY_SCHEME_NONE) {
                registry_challenge_done(&c);
                return want ? -EPROTONOSUPPORT : -EINVAL;
        }
        *ret = c;
        return 0;
bad:
        registry_challenge_done(&c);
        return -EINVAL;
}

void registry_challenge_done(RegistryChallenge *c) {
        if (!c)
                return;
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (RegistryChallenge){};
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *registry_base64_encode(const void *p, size_t n) {
        const unsigned char *s = p;
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                             (i + 2 < n ? s[i + 2] : 0);
                *o++ = b64[v >> 18 & 63];
                *o++ = b64[v >> 12 & 63];
                *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? b64[v & 63] : '=';
        }
        *o = 0;
        return out;
}

int registry_base64_decode(const char *s, char **ret, size_t *ret_len) {
        size_t len = strlen(s), n = 0;
        unsigned v = 0, bits = 0;
        char *out = malloc(len / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                const char *k = s[i] ? strchr(b64, s[i]) : NULL;
                if (s[i] == '=') {
                        if (strspn(s + i, "=") != len - i)
                                break;
                        len = i;
                        break;
                }
                if (!k) {
                        free(out);
                        return -EINVAL;
                }
                v = v << 6 | (unsigned)(k - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char)(v >> bits & 0xff);
                }
        }
        if (len % 4 == 1) {
                free(out);
                return -EINVAL;
        }
        out[n] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = n;
        return 0;
}

/* ---- auth.json ---- */

int registry_authfile_path(const char *authfile, char **ret, CpodError *err) {
        const char *env = getenv("REGISTRY_AUTH_FILE"), *rt = getenv("XDG_RUNTIME_DIR");
        char *p = NULL;
        int r;

        if (authfile && *authfile)
                r = asprintf(&p, "%s", authfile);
        else if (env && *env)
                r = asprintf(&p, "%s", env);
        else if (rt && *rt)
                r = asprintf(&p, "%s/containers/auth.json", rt);
        else
                r = asprintf(&p, "/run/containers/%u/auth.json", (unsigned)getuid());
        if (r < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        *ret = p;
        return 0;
}

/* Read auth.json; a missing or empty file is an empty object. */
static int authfile_read(const char *path, VlJson **ret, CpodError *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        struct stat st;
        VlJsonError jerr = {};

        if (fd < 0) {
                if (errno != ENOENT)
                        return cpod_error_errno(err, errno, "open `%s`", path);
                *ret = vl_json_new_object();
                return *ret ? 0 : cpod_error(err, ENOMEM, "out of memory");
        }
        if (fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "stat `%s`", path);
        if ((uint64_t)st.st_size > AUTHFILE_MAX)
                return cpod_error(err, EFBIG, "`%s` is larger than %u bytes", path, AUTHFILE_MAX);
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return cpod_error(err, ENOMEM, "out of memory");
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n < 0)
                return cpod_error_errno(err, errno, "read `%s`", path);
        text[n] = 0;
        if (strspn(text, " \t\r\n") == (size_t)n) {
                *ret = vl_json_new_object();
                return *ret ? 0 : cpod_error(err, ENOMEM, "out of memory");
        }
        _cleanup_(vl_json_unrefp) VlJson *parsed = NULL;
        if (vl_json_parse(text, (size_t)n, NULL, &parsed, &jerr) < 0)
                return cpod_error(err, EINVAL, "`%s`: invalid JSON: %s", path, jerr.message);
        if (vl_json_type(parsed) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "`%s`: not a JSON object", path);
        /* A copy, to edit in place. */
        *ret = vl_json_copy(parsed);
        return *ret ? 0 : cpod_error(err, ENOMEM, "out of memory");
}

/* Decode one "auth" value into user and password. */
static int auth_entry_decode(const VlJson *entry, char **ret_user, char **ret_pass) {
        const char *auth = vl_json_get_string(vl_json_object_get(entry, "auth"));
        _cleanup_free_ char *plain = NULL;
        if (!auth || !*auth)
                return 0;
        if (registry_base64_decode(auth, &plain, NULL) < 0)
                return -EINVAL;
        char *colon = strchr(plain, ':');
        if (!colon)
                return -EINVAL;
        *colon = 0;
        char *u = strdup(plain), *p = strdup(colon + 1);
        if (!u || !p) {
                free(u);
                free(p);
                return -ENOMEM;
        }
        *ret_user = u;
        *ret_pass = p;
        return 1;
}

int registry_auth_lookup(const char *authfile, const char *host, const char *repo, char **ret_user,
                         char **ret_pass, CpodError *err) {
        _cleanup_free_ char *path = NULL, *key = NULL;
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        int r;

        *ret_user = *ret_pass = NULL;
        r = registry_authfile_path(authfile, &path, err);
        if (r >= 0)
                r = authfile_read(path, &root, err);
        if (r < 0)
                return r;
        const VlJson *auths = vl_json_object_get(root, "auths");
        if (asprintf(&key, "%s%s%s", host, repo ? "/" : "", repo ? repo : "") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        /* "host/a/b", then "host/a", then "host". */
        for (;;) {
                const VlJson *entry = vl_json_object_get(auths, key);
                if (entry) {
                        r = auth_entry_decode(entry, ret_user, ret_pass);
                        if (r < 0)
                                return cpod_error(err, -r, "`%s`: invalid \"auth\" for %s", path, key);
                        if (r > 0)
                                return 0;
                }
                char *slash = strrchr(key, '/');
                if (!slash || (size_t)(slash - key) < strlen(host))
                        break;
                *slash = 0;
        }
        return 0;
}

static int authfile_write(const char *path, const VlJson *root, CpodError *err) {
        _cleanup_free_ char *text = vl_json_to_string(root, VL_JSON_FORMAT_PRETTY), *tmp = NULL,
                            *dir = strdup(path);
        if (!text || !dir || asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return cpod_error_errno(err, errno, "mkdir `%s`", dir);
        }
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", tmp);
        size_t len = strlen(text);
        if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
            fsync(fd) < 0 || rename(tmp, path) < 0) {
                int r = cpod_error_errno(err, errno ?: EIO, "write `%s`", path);
                unlink(tmp);
                return r;
        }
        return 0;
}

int registry_auth_store(const char *authfile, const char *key, const char *user, const char *pass,
                        CpodError *err) {
        _cleanup_free_ char *path = NULL, *plain = NULL, *enc = NULL;
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        int r = registry_authfile_path(authfile, &path, err);
        if (r >= 0)
                r = authfile_read(path, &root, err);
        if (r < 0)
                return r;
        if (asprintf(&plain, "%s:%s", user, pass) < 0 ||
            !(enc = registry_base64_encode(plain, strlen(plain))))
                return cpod_error(err, ENOMEM, "out of memory");
        VlJson *auths = vl_json_object_get(root, "auths");
        if (vl_json_type(auths) != VL_JSON_OBJECT) {
                auths = vl_json_new_object();
                if (!auths || vl_json_object_set(root, "auths", auths) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        VlJson *entry = vl_json_object_get(auths, key);
        if (vl_json_type(entry) != VL_JSON_OBJECT) {
                entry = vl_json_new_object();
                if (!entry || vl_json_object_set(auths, key, entry) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        if (vl_json_object_set_string(entry, "auth", enc) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return authfile_write(path, root, err);
}

int registry_auth_remove(const char *authfile, const char *key, CpodError *err) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(vl_json_unrefp) VlJson *root = NULL;
        int r = registry_authfile_path(authfile, &path, err);
        if (r >= 0)
                r = authfile_read(path, &root, err);
        if (r < 0)
                return r;
        VlJson *auths = vl_json_object_get(root, "auths");
        if (!key) {
                if (!auths)
                        return 0;
                VlJson *empty = vl_json_new_object();
                if (!empty || vl_json_object_set(root, "auths", empty) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        } else {
                if (!vl_json_object_get(auths, key))
                        return cpod_error(err, ENOENT, "not logged into %s", key);
                if (vl_json_object_remove(auths, key) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        return authfile_write(path, root, err);
}
