/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry client: one HTTP exchange at a time, over cpod's own HTTP/1.1
 * client for http endpoints (http.c) and a reused curl handle for https
 * (both keep connections alive), with the authentication dance of the OCI
 * distribution spec and docker's token spec: a request without (or with a
 * cached) credential, a 401 whose WWW-Authenticate names Basic or Bearer,
 * a token fetched from the realm for the request's scope, one retry.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "registries.h"
#include "registry-internal.h"
#include "dl.h"
#include "http.h"
#include "util.h"

#define CERT_FILE_MAX   (1024u * 1024u)
#define CERTS_D         "/etc/containers/certs.d"
#define DOCKER_CERTS_D  "/etc/docker/certs.d"
#define MANIFEST_ACCEPT MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_LIST

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

static void curl_init_once(void) {
        static bool done;
        if (!done) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
}

/* ---- TLS material ---- */

static int append_file(char **buf, size_t *len, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size > CERT_FILE_MAX)
                return fd < 0 ? -errno : -EFBIG;
        char *n = realloc(*buf, *len + (size_t)st.st_size + 2);
        if (!n)
                return -ENOMEM;
        *buf = n;
        ssize_t k = read(fd, n + *len, (size_t)st.st_size);
        if (k < 0)
                return -errno;
        *len += (size_t)k;
        n[(*len)++] = '\n';
        n[*len] = 0;
        return 0;
}

/* Like containers/image: *.crt are CAs (added to the system's), NAME.cert with NAME.key a client pair. */
static int client_load_certs(RegistryClient *c, const char *dir, bool explicit, CpodError *err) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT && !explicit ? 0 : cpod_error_errno(err, errno, "open `%s`", dir);
        while (r >= 0 && (de = readdir(d))) {
                size_t l = strlen(de->d_name);
                _cleanup_free_ char *path = NULL, *key = NULL;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        r = oom(err);
                        break;
                }
                if (l > 4 && streq(de->d_name + l - 4, ".crt")) {
                        r = append_file(&c->ca_blob, &c->ca_len, path);
                        if (r < 0)
                                r = cpod_error(err, -r, "read `%s`: %s", path, strerror(-r));
                } else if (l > 5 && streq(de->d_name + l - 5, ".cert")) {
                        if (asprintf(&key, "%.*s.key", (int)(l - 5), path + strlen(dir) + 1) < 0 ||
                            asprintf(&c->client_key, "%s/%s", dir, key) < 0) {
                                r = oom(err);
                                break;
                        }
                        if (access(c->client_key, R_OK) < 0)
                                r = cpod_error(err, ENOENT, "missing key `%s` for client certificate `%s`",
                                               c->client_key, path);
                        free(c->client_cert);
                        c->client_cert = TAKE_PTR(path);
                }
        }
        closedir(d);
        return r;
}

/* The system's CAs stay trusted next to a cert dir's (added when https first needs them). */
static void client_add_system_cas(RegistryClient *c) {
        const char *sys = NULL;
        if (!c->ca_blob || c->ca_system_added)
                return;
        c->ca_system_added = true;
        if (curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &sys) == CURLE_OK && sys)
                (void)append_file(&c->ca_blob, &c->ca_len, sys);
        else
                (void)append_file(&c->ca_blob, &c->ca_len, "/etc/ssl/certs/ca-certificates.crt");
}

int registry_curl_load(RegistryClient *c, CpodError *err) {
        if (c->curl)
                return 0;
        int r = dl_curl_load(err);
        if (r < 0)
                return r;
        curl_init_once();
        c->curl = curl_easy_init();
        if (!c->curl)
                return oom(err);
        client_add_system_cas(c);
        return 0;
}

/* ---- the client ---- */

static int client_credentials(RegistryClient *c, const RegistryOptions *o, CpodError *err) {
        if (o->creds && *o->creds) {
                const char *colon = strchr(o->creds, ':');
                c->user = colon ? strndup(o->creds, (size_t)(colon - o->creds)) : strdup(o->creds);
                c->pass = strdup(colon ? colon + 1 : "");
                if (!c->user || !c->pass)
                        return oom(err);
                if (!*c->user)
                        return cpod_error(err, EINVAL, "credentials must be USERNAME:PASSWORD");
                return 0;
        }
        return registry_auth_lookup(o->authfile, c->host, NULL, &c->user, &c->pass, err);
}

static int client_registries(RegistryClient *c, const RegistryOptions *o, CpodError *err) {
        Registries regs = {};
        const char *conf = o->registries_conf ? o->registries_conf : getenv("CONTAINERS_REGISTRIES_CONF");
        int r = registries_load(conf && *conf ? conf : NULL, &regs, err);
        if (r < 0)
                return r;
        const Registry *reg = registries_find(&regs, c->host);
        if (reg && reg->blocked)
                r = cpod_error(err, EACCES, "registry %s is blocked in registries.conf", c->host);
        c->insecure = reg && reg->insecure;
        registries_done(&regs);
        return r;
}

int registry_client_new(const char *host, const RegistryOptions *o, RegistryClient **ret, CpodError *err) {
        static const RegistryOptions none = {.tls_verify = -1};
        RegistryClient *c = calloc(1, sizeof(*c));
        int r;

        o = o ? o : &none;
        if (!c)
                return oom(err);
        c->host = strdup(host);
        c->api_host = strdup(streq(host, "docker.io") ? "registry-1.docker.io" : host);
        c->http = http_client_new();
        if (!c->host || !c->api_host || !c->http) {
                registry_client_free(c);
                return oom(err);
        }
        r = client_registries(c, o, err);
        if (r >= 0 && o->tls_verify >= 0)
                c->insecure = o->tls_verify == 0;
        c->tls_verify = !c->insecure;
        if (r >= 0)
                r = client_credentials(c, o, err);
        if (r >= 0) {
                _cleanup_free_ char *dir = NULL;
                if (o->cert_dir)
                        r = client_load_certs(c, o->cert_dir, true, err);
                else if (asprintf(&dir, "%s/%s", CERTS_D, host) < 0)
                        r = oom(err);
                else
                        r = client_load_certs(c, dir, false, err);
        }
        if (r < 0) {
                registry_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

RegistryClient *registry_client_free(RegistryClient *c) {
        if (!c)
                return NULL;
        free(c->host);
        free(c->api_host);
        free(c->user);
        free(c->pass);
        free(c->ca_blob);
        free(c->client_cert);
        free(c->client_key);
        registry_challenge_done(&c->challenge);
        for (size_t i = 0; i < c->n_tokens; i++) {
                free(c->tokens[i].scope);
                free(c->tokens[i].token);
        }
        free(c->tokens);
        if (c->curl)
                curl_easy_cleanup(c->curl);
        http_client_free(c->http);
        free(c);
        return NULL;
}

const char *registry_client_host(const RegistryClient *c) {
        return c->host;
}

char *registry_url(RegistryClient *c, const char *path) {
        char *u = NULL;
        if (asprintf(&u, "%s://%s%s", c->use_http ? "http" : "https", c->api_host, path) < 0)
                return NULL;
        return u;
}

char *registry_scope(const char *repo, bool push) {
        char *s = NULL;
        if (asprintf(&s, "repository:%s:%s", repo, push ? "pull,push" : "pull") < 0)
                return NULL;
        return s;
}

static const char *token_lookup(RegistryClient *c, const char *scope) {
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq(c->tokens[i].scope, scope ? scope : ""))
                        return c->tokens[i].token;
        return NULL;
}

static int token_store(RegistryClient *c, const char *scope, char *token) {
        /* A token refused (expired) is replaced by the new one. */
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq(c->tokens[i].scope, scope ? scope : "")) {
                        free(c->tokens[i].token);
                        c->tokens[i].token = token;
                        return 0;
                }
        RegistryToken *t = realloc(c->tokens, (c->n_tokens + 1) * sizeof(*t));
        if (!t) {
                free(token);
                return -ENOMEM;
        }
        c->tokens = t;
        t[c->n_tokens] = (RegistryToken){.scope = strdup(scope ? scope : ""), .token = token};
        if (!t[c->n_tokens].scope) {
                free(token);
                return -ENOMEM;
        }
        c->n_tokens++;
        return 0;
}

static int basic_header(RegistryClient *c, char **ret) {
        _cleanup_free_ char *plain = NULL, *enc = NULL;
        if (asprintf(&plain, "%s:%s", c->user, c->pass) < 0 ||
            !(enc = registry_base64_encode(plain, strlen(plain))))
                return -ENOMEM;
        return asprintf(ret, "Authorization: Basic %s", enc) < 0 ? -ENOMEM : 0;
}

int registry_auth_header(RegistryClient *c, const char *scope, char **ret) {
        *ret = NULL;
        if (c->scheme == REGISTRY_SCHEME_BASIC && c->user)
                return basic_header(c, ret);
        if (c->scheme == REGISTRY_SCHEME_BEARER) {
                const char *t = token_lookup(c, scope);
                if (t && asprintf(ret, "Authorization: Bearer %s", t) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int registry_easy_setup(RegistryClient *c, CURL *h, const char *scope, struct curl_slist **headers) {
        _cleanup_free_ char *auth = NULL;
        int r = registry_auth_header(c, scope, &auth);
        if (r < 0)
                return r;
        if (auth) {
                struct curl_slist *l = curl_slist_append(*headers, auth);
                if (!l)
                        return -ENOMEM;
                *headers = l;
        }
        curl_easy_setopt(h, CURLOPT_USERAGENT, "cpod");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 8L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* A stalled transfer (under 1 byte/s for 60 s) fails instead of hanging. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
        if (c->ca_blob) {
                struct curl_blob b = {.data = c->ca_blob, .len = c->ca_len, .flags = CURL_BLOB_NOCOPY};
                curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
        }
        if (c->client_cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
        }
        return 0;
}

/* ---- one exchange ---- */

static void request_reset_answer(RegistryRequest *q) {
        q->status = 0;
        q->reason[0] = 0;
        q->resp.len = 0;
        q->too_big = false;
        q->sent = 0;
        free(q->resp_type);
        free(q->resp_digest);
        free(q->location);
        free(q->www_auth);
        free(q->link);
        free(q->effective_url);
        q->resp_type = q->resp_digest = q->location = q->www_auth = q->link = q->effective_url = NULL;
}

void registry_request_done(RegistryRequest *q) {
        request_reset_answer(q);
        vl_buf_free(&q->resp);
}

static void header_set(char **slot, const char *v, size_t n) {
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
                n--;
        while (n && (*v == ' ' || *v == '\t'))
                v++, n--;
        free(*slot);
        *slot = strndup(v, n);
}

size_t registry_on_header(char *buf, size_t size, size_t nitems, void *userdata) {
        RegistryRequest *q = userdata;
        size_t n = size * nitems;
        const char *colon = memchr(buf, ':', n);

        if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
                /* A new response (after a redirect or a 100): forget the previous one's headers. */
                const char *sp = memchr(buf, ' ', n);
                const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - buf)) : NULL;
                char *reason = NULL;
                if (sp2)
                        header_set(&reason, sp2 + 1, n - (size_t)(sp2 + 1 - buf));
                snprintf(q->reason, sizeof(q->reason), "%s", reason ? reason : "");
                free(reason);
                return n;
        }
        if (!colon)
                return n;
        size_t kl = (size_t)(colon - buf), vl = n - kl - 1;
        const char *v = colon + 1;
        if (kl == 12 && strncasecmp(buf, "content-type", kl) == 0) {
                header_set(&q->resp_type, v, vl);
                char *semi = q->resp_type ? strchr(q->resp_type, ';') : NULL;
                if (semi)
                        *semi = 0;
        } else if (kl == 21 && strncasecmp(buf, "docker-content-digest", kl) == 0)
                header_set(&q->resp_digest, v, vl);
        else if (kl == 8 && strncasecmp(buf, "location", kl) == 0)
                header_set(&q->location, v, vl);
        else if (kl == 16 && strncasecmp(buf, "www-authenticate", kl) == 0 && !q->www_auth)
                header_set(&q->www_auth, v, vl);
        else if (kl == 4 && strncasecmp(buf, "link", kl) == 0)
                header_set(&q->link, v, vl);
        return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata) {
        RegistryRequest *q = userdata;
        size_t n = size * nmemb, max = q->max ? q->max : REGISTRY_ERROR_BODY_MAX;
        if (q->resp.len + n > max) {
                q->too_big = true;
                return CURL_WRITEFUNC_ERROR;
        }
        if (vl_buf_append(&q->resp, buf, n) < 0)
                return CURL_WRITEFUNC_ERROR;
        return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata) {
        RegistryRequest *q = userdata;
        size_t room = size * nitems;
        if (q->fd >= 0) {
                uint64_t left = q->fd_len - q->sent;
                ssize_t k =
                        pread(q->fd, buf, (size_t)MIN((uint64_t)room, left), (off_t)(q->fd_off + q->sent));
                if (k < 0)
                        return CURL_READFUNC_ABORT;
                if (k == 0 && left > 0)
                        return CURL_READFUNC_ABORT; /* the file shrank */
                q->sent += (uint64_t)k;
                if (q->progress && q->progress->progress)
                        q->progress->progress(q->progress_digest, q->progress_base + q->sent,
                                              q->progress_total, q->progress->userdata);
                return (size_t)k;
        }
        size_t k = MIN(room, q->body_len - (size_t)q->sent);
        memcpy(buf, (const char *)q->body + q->sent, k);
        q->sent += k;
        return k;
}

static int request_headers(RegistryClient *c, RegistryRequest *q, struct curl_slist **l) {
        char line[256];
        const char *fixed[4] = {};
        size_t n = 0;
        if (q->accept)
                fixed[n++] = "accept";
        if (q->content_type)
                fixed[n++] = "type";
        if (q->content_range)
                fixed[n++] = "range";
        fixed[n++] = "expect";
        for (size_t i = 0; i < n; i++) {
                if (streq(fixed[i], "accept"))
                        snprintf(line, sizeof(line), "Accept: %s", q->accept);
                else if (streq(fixed[i], "type"))
                        snprintf(line, sizeof(line), "Content-Type: %s", q->content_type);
                else if (streq(fixed[i], "range"))
                        snprintf(line, sizeof(line), "Content-Range: %s", q->content_range);
                else
                        snprintf(line, sizeof(line), "Expect:");
                struct curl_slist *x = curl_slist_append(*l, line);
                if (!x)
                        return -ENOMEM;
                *l = x;
        }
        return registry_easy_setup(c, c->curl, q->scope, l);
}

/* One attempt over libcurl; returns the CURLcode (CURLE_OUT_OF_MEMORY when the headers cannot be built). */
static CURLcode curl_once(RegistryClient *c, RegistryRequest *q, const char *url) {
        CURL *h = c->curl;
        bool has_body =
                q->fd >= 0 || q->body_len > 0 || streq(q->method, "PUT") || streq(q->method, "PATCH");
        struct curl_slist *hdrs = NULL;

        curl_easy_reset(h);
        if (request_headers(c, q, &hdrs) < 0) {
                curl_slist_free_all(hdrs);
                return CURLE_OUT_OF_MEMORY;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, registry_on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
        if (streq(q->method, "HEAD"))
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (has_body) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, q);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t)(q->fd >= 0 ? q->fd_len : q->body_len));
                if (!streq(q->method, "PUT"))
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
        } else if (streq(q->method, "POST")) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        } else if (!streq(q->method, "GET"))
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
        char *eff = NULL;
        if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
                q->effective_url = strdup(eff);
        curl_slist_free_all(hdrs);
        return cc;
}

/* ---- the http path ---- */

static int http_on_head(const HttpHead *h, void *userdata) {
        RegistryRequest *q = userdata;
        static const struct {
                const char *name;
                size_t off;
        } keep[] = {
                {"content-type", offsetof(RegistryRequest, resp_type)},
                {"docker-content-digest", offsetof(RegistryRequest, resp_digest)},
                {"location", offsetof(RegistryRequest, location)},
                {"www-authenticate", offsetof(RegistryRequest, www_auth)},
                {"link", offsetof(RegistryRequest, link)},
        };
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                size_t n = 0;
                const char *v = http_head_get(h, keep[i].name, &n);
                char **slot = (char **)((char *)q + keep[i].off);
                if (!v)
                        continue;
                free(*slot);
                if (!(*slot = strndup(v, n)))
                        return -ENOMEM;
        }
        char *semi = q->resp_type ? strchr(q->resp_type, ';') : NULL;
        if (semi) {
                *semi = 0;
                while (semi > q->resp_type && semi[-1] == ' ')
                        *--semi = 0;
        }
        return 0;
}

static int http_on_data(const void *p, size_t n, void *userdata) {
        RegistryRequest *q = userdata;
        size_t max = q->max ? q->max : REGISTRY_ERROR_BODY_MAX;
        if (q->resp.len + n > max) {
                q->too_big = true;
                return -EFBIG;
        }
        return vl_buf_append(&q->resp, p, n) < 0 ? -ENOMEM : 0;
}

static void http_on_sent(uint64_t sent, void *userdata) {
        RegistryRequest *q = userdata;
        q->sent = sent;
        if (q->fd >= 0 && q->progress && q->progress->progress)
                q->progress->progress(q->progress_digest, q->progress_base + sent, q->progress_total,
                                      q->progress->userdata);
}

/* The request's header lines (accept, types, range, authorization) into v; returns how many. */
static int http_headers(RegistryClient *c, RegistryRequest *q, char *v[4]) {
        size_t n = 0;
        int r = 0;
        if (q->accept && asprintf(&v[n++], "Accept: %s", q->accept) < 0)
                r = -ENOMEM;
        if (r >= 0 && q->content_type && asprintf(&v[n++], "Content-Type: %s", q->content_type) < 0)
                r = -ENOMEM;
        if (r >= 0 && q->content_range && asprintf(&v[n++], "Content-Range: %s", q->content_range) < 0)
                r = -ENOMEM;
        if (r >= 0) {
                char *auth = NULL;
                r = registry_auth_header(c, q->scope, &auth);
                if (auth)
                        v[n++] = auth;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(v[i]);
                return r;
        }
        return (int)n;
}

static int http_once(RegistryClient *c, RegistryRequest *q, const char *url, char **ret_https,
                     CpodError *err) {
        HttpRequest h = HTTP_REQUEST_INIT;
        char *hdrs[4] = {};
        int n = http_headers(c, q, hdrs);
        if (n < 0)
                return oom(err);
        h.method = q->method;
        h.url = url;
        h.headers = (const char *const *)hdrs;
        h.n_headers = (size_t)n;
        h.body = q->body;
        h.body_len = q->body_len;
        h.fd = q->fd;
        h.fd_off = q->fd_off;
        h.fd_len = q->fd_len;
        h.on_head = http_on_head;
        h.on_data = http_on_data;
        h.on_sent = http_on_sent;
        h.userdata = q;
        int r = http_perform(c->http, &h, err);
        for (int i = 0; i < n; i++)
                free(hdrs[i]);
        if (r < 0 && h.aborted)
                r = q->too_big
                            ? cpod_error(err, EFBIG, "%s %s: the answer is larger than %zu bytes", q->method,
                                         url, q->max ? q->max : (size_t)REGISTRY_ERROR_BODY_MAX)
                            : oom(err);
        q->status = h.status;
        snprintf(q->reason, sizeof(q->reason), "%s", h.reason);
        q->effective_url = TAKE_PTR(h.effective_url);
        *ret_https = TAKE_PTR(h.redirect_url);
        http_request_done(&h);
        return r;
}

/* One attempt, over http.c or libcurl by the URL's scheme: 0 with any HTTP status, or an error. */
static int request_once(RegistryClient *c, RegistryRequest *q, const char *url, CpodError *err) {
        _cleanup_free_ char *https = NULL;
        request_reset_answer(q);
        if (startswith(url, "http://")) {
                int r = http_once(c, q, url, &https, err);
                if (r < 0 || !https)
                        return r;
                /* redirected to https: libcurl carries on from there */
                request_reset_answer(q);
                url = https;
        }
        int r = registry_curl_load(c, err);
        if (r < 0)
                return r;
        CURLcode cc = curl_once(c, q, url);
        if (cc == CURLE_OK)
                return 0;
        if (cc == CURLE_OUT_OF_MEMORY)
                return oom(err);
        if (q->too_big)
                return cpod_error(err, EFBIG, "%s %s: the answer is larger than %zu bytes", q->method, url,
                                  q->max ? q->max : (size_t)REGISTRY_ERROR_BODY_MAX);
        return cpod_error(err, cc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EHOSTUNREACH, "%s %s: %s",
                          q->method, url, curl_easy_strerror(cc));
}

static const char *request_url_shown(RegistryRequest *q, const char *fallback) {
        return q->effective_url ? q->effective_url : fallback;
}

int registry_status_errno(long status) {
        switch (status) {
        case 401:
        case 403:
                return EACCES;
        case 404:
                return ENOENT;
        case 413:
                return EFBIG;
        case 429:
                return EAGAIN;
        default:
                return status >= 500 ? EIO : EPROTO;
        }
}

/* The first "message" of a registry's {"errors": [{"code", "message"}]} body, or NULL. */
static char *error_body_message(const RegistryRequest *q) {
        _cleanup_(vl_json_unrefp) VlJson *j = NULL;
        if (q->resp.len == 0 || vl_json_parse(q->resp.data, q->resp.len, NULL, &j, NULL) < 0)
                return NULL;
        const VlJson *e0 = vl_json_array_get(vl_json_object_get(j, "errors"), 0);
        const char *m = vl_json_get_string(vl_json_object_get(e0, "message"));
        const char *code = vl_json_get_string(vl_json_object_get(e0, "code"));
        char *s = NULL;
        if (m && asprintf(&s, "%s%s%s", code ? code : "", code ? ": " : "", m) < 0)
                return NULL;
        return s;
}

int registry_http_error(RegistryRequest *q, int code, CpodError *err) {
        _cleanup_free_ char *msg = error_body_message(q);
        const char *url = request_url_shown(q, q->url ? q->url : q->path);
        return cpod_error(err, code ? code : registry_status_errno(q->status), "%s %s: %ld%s%s%s%s",
                          q->method, url, q->status, q->reason[0] ? " " : "", q->reason, msg ? ": " : "",
                          msg ? msg : "");
}

/* GET realm?service=…&scope=… (with Basic credentials when we have them) and cache the token for scope. */
static int fetch_token(RegistryClient *c, const char *scope, CpodError *err) {
        RegistryRequest t = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *url = NULL, *query = NULL;
        _cleanup_(vl_json_unrefp) VlJson *j = NULL;
        VlBuf b = {};
        int r = 0;

        if (!c->challenge.realm || !startswith(c->challenge.realm, "http"))
                return cpod_error(err, EPROTO, "%s: bearer challenge without a usable realm", c->host);
        if (vl_buf_append_str(&b, c->challenge.realm) < 0)
                return oom(err);
        char sep = strchr(c->challenge.realm, '?') ? '&' : '?';
        if (c->challenge.service) {
                char *e = http_escape(c->challenge.service, strlen(c->challenge.service));
                r = !e || vl_buf_append_char(&b, sep) < 0 || vl_buf_append_str(&b, "service=") < 0 ||
                                    vl_buf_append_str(&b, e) < 0
                            ? -ENOMEM
                            : 0;
                free(e);
                sep = '&';
        }
        /* Each space-separated scope is its own parameter. */
        for (const char *s = scope; r >= 0 && s && *s;) {
                size_t l = strcspn(s, " ");
                char *e = http_escape(s, l);
                r = !e || vl_buf_append_char(&b, sep) < 0 || vl_buf_append_str(&b, "scope=") < 0 ||
                                    vl_buf_append_str(&b, e) < 0
                            ? -ENOMEM
                            : 0;
                free(e);
                sep = '&';
                s += l + strspn(s + l, " ");
        }
        if (r < 0 || vl_buf_append_char(&b, 0) < 0) {
                vl_buf_free(&b);
                return oom(err);
        }
        url = b.data;
        /* The realm gets Basic credentials, never an old token. */
        RegistryScheme saved = c->scheme;
        c->scheme = c->user ? REGISTRY_SCHEME_BASIC : REGISTRY_SCHEME_NONE;
        t.method = "GET";
        t.url = url;
        t.max = REGISTRY_JSON_MAX;
        r = request_once(c, &t, url, err);
        c->scheme = saved;
        if (r < 0)
                ;
        else if (t.status != 200)
                r = registry_http_error(&t, t.status == 401 || t.status == 403 ? EACCES : 0, err);
        else if (vl_json_parse(t.resp.data ? t.resp.data : "", t.resp.len, NULL, &j, NULL) < 0)
                r = cpod_error(err, EPROTO, "GET %s: the token answer is not JSON", url);
        if (r >= 0) {
                const char *tok = vl_json_get_string(vl_json_object_get(j, "token"));
                if (!tok || !*tok)
                        tok = vl_json_get_string(vl_json_object_get(j, "access_token"));
                if (!tok || !*tok || strpbrk(tok, "\r\n"))
                        r = cpod_error(err, EPROTO, "GET %s: the answer has no token", url);
                else {
                        char *copy = strdup(tok);
                        r = copy && token_store(c, scope, copy) >= 0 ? 0 : oom(err);
                }
        }
        registry_request_done(&t);
        return r;
}

/* A 401: take up the challenge. 0 to retry, or an error. */
static int answer_challenge(RegistryClient *c, RegistryRequest *q, const char *url, CpodError *err) {
        RegistryChallenge ch = {};
        if (!q->www_auth || registry_challenge_parse(q->www_auth, &ch) < 0)
                return registry_http_error(q, EACCES, err);
        registry_challenge_done(&c->challenge);
        c->challenge = ch;
        c->scheme = ch.scheme;
        if (ch.scheme == REGISTRY_SCHEME_BASIC) {
                if (!c->user)
                        return cpod_error(err, EACCES, "%s %s: %ld %s: authentication required", q->method,
                                          url, q->status, q->reason);
                return 0;
        }
        int r = fetch_token(c, q->scope, err);
        if (r < 0)
                return cpod_error_wrap(err, "%s %s: authenticating", q->method, url);
        return 0;
}

/* The host and port a TLS probe knocks at: the api host's port, else https's. */
static int endpoint_port(const char *api_host, char host[256], uint16_t *port, bool *explicit) {
        _cleanup_free_ char *url = NULL;
        HttpUrl u;
        if (asprintf(&url, "https://%s/", api_host) < 0)
                return -ENOMEM;
        if (http_url_parse(url, &u) < 0)
                return -EINVAL;
        memcpy(host, u.host, sizeof(u.host));
        *port = u.port;
        *explicit = strchr(api_host, ']') ? strstr(api_host, "]:") != NULL : strchr(api_host, ':') != NULL;
        return 0;
}

int registry_decide_scheme(RegistryClient *c, CpodError *err) {
        char host[256];
        uint16_t port;
        bool explicit;

        if (c->scheme_known)
                return 0;
        if (!c->insecure) {
                c->scheme_known = true;
                return 0;
        }
        if (endpoint_port(c->api_host, host, &port, &explicit) < 0)
                return cpod_error(err, EINVAL, "invalid registry host `%s`", c->api_host);
        /* Ask the endpoint whether it speaks TLS without loading libcurl: a registry on a port of its
         * own speaks one or the other there; a registry on the default ports that refuses 443 may be
         * plain http on 80. */
        CpodError perr = {};
        int r = http_probe_tls(host, port, 0, &perr);
        if (r < 0 && (explicit || (r != -ECONNREFUSED && r != -EHOSTUNREACH && r != -ETIMEDOUT))) {
                if (r != -ECONNREFUSED && r != -EPROTO) {
                        *err = perr;
                        return r;
                }
                /* refused: let the exchange report it, over the scheme tried last (http) */
                r = 0;
        }
        c->use_http = r <= 0;
        c->scheme_known = true;
        return 0;
}

int registry_perform(RegistryClient *c, RegistryRequest *q, CpodError *err) {
        bool challenged = false;
        int r = q->url ? 0 : registry_decide_scheme(c, err);

        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *built = q->url ? NULL : registry_url(c, q->path);
                const char *url = q->url ? q->url : built;
                if (!url)
                        return oom(err);
                r = request_once(c, q, url, err);
                if (r < 0)
                        return r;
                if (q->status != 401 || challenged)
                        return 0;
                challenged = true;
                r = answer_challenge(c, q, url, err);
                if (r < 0)
                        return r;
        }
}

/* ---- the API's requests ---- */

static bool digest_like(const char *reference) {
        return strchr(reference, ':') != NULL;
}

int registry_get_manifest(RegistryClient *c, const char *repo, const char *reference, char **ret_body,
                          size_t *ret_len, char **ret_media_type, char ret_digest[DIGEST_MAX],
                          CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *path = NULL, *scope = registry_scope(repo, false);
        char d[DIGEST_MAX] = "";
        int r;

        if (!scope || asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0)
                return oom(err);
        q.method = ret_body ? "GET" : "HEAD";
        q.path = path;
        q.scope = scope;
        q.accept = MANIFEST_ACCEPT;
        q.max = MANIFEST_MAX_SIZE;
        r = registry_perform(c, &q, err);
        if (r < 0) {
                if (r == -EFBIG)
                        r = cpod_error(err, EFBIG, "manifest %s:%s is larger than %u bytes", repo, reference,
                                       MANIFEST_MAX_SIZE);
                goto out;
        }
        if (q.status != 200) {
                r = registry_http_error(&q, 0, err);
                goto out;
        }
        if (ret_body) {
                sha256_digest(q.resp.data ? q.resp.data : "", q.resp.len, d);
                if (digest_like(reference) && !streq(d, reference)) {
                        r = cpod_error(err, EBADMSG,
                                       "manifest %s@%s: the registry sent content with digest %s", repo,
                                       reference, d);
                        goto out;
                }
        } else if (q.resp_digest && digest_valid(q.resp_digest))
                snprintf(d, sizeof(d), "%s", q.resp_digest);
        if (ret_body) {
                char *body = malloc(q.resp.len + 1);
                if (!body) {
                        r = oom(err);
                        goto out;
                }
                memcpy(body, q.resp.data ? q.resp.data : "", q.resp.len);
                body[q.resp.len] = 0;
                *ret_body = body;
                if (ret_len)
                        *ret_len = q.resp.len;
        }
        if (ret_media_type)
                *ret_media_type = q.resp_type ? TAKE_PTR(q.resp_type) : NULL;
        if (ret_digest)
                memcpy(ret_digest, d, DIGEST_MAX);
        r = 0;
out:
        registry_request_done(&q);
        return r;
}

int registry_put_manifest(RegistryClient *c, const char *repo, const char *reference, const char *body,
                          size_t len, const char *media_type, CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *path = NULL, *scope = registry_scope(repo, true);
        if (!scope || asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0)
                return oom(err);
        q.method = "PUT";
        q.path = path;
        q.scope = scope;
        q.content_type = media_type;
        q.body = body;
        q.body_len = len;
        int r = registry_perform(c, &q, err);
        if (r >= 0 && q.status != 201 && q.status != 200)
                r = registry_http_error(&q, 0, err);
        registry_request_done(&q);
        return r < 0 ? r : 0;
}

int registry_blob_exists(RegistryClient *c, const char *repo, const char *digest, CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *path = NULL, *scope = registry_scope(repo, true);
        if (!scope || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0)
                return oom(err);
        q.method = "HEAD";
        q.path = path;
        q.scope = scope;
        int r = registry_perform(c, &q, err);
        if (r >= 0)
                r = q.status == 200 ? 1 : q.status == 404 ? 0 : registry_http_error(&q, 0, err);
        registry_request_done(&q);
        return r;
}

/* An upload's Location, absolute, with a query parameter added (malloc'ed). */
static char *location_with(RegistryClient *c, const char *location, const char *param) {
        _cleanup_free_ char *base = startswith(location, "http://") || startswith(location, "https://")
                                            ? strdup(location)
                                            : registry_url(c, location);
        char *u = NULL;
        if (!base)
                return NULL;
        if (!param)
                return TAKE_PTR(base);
        if (asprintf(&u, "%s%c%s", base, strchr(base, '?') ? '&' : '?', param) < 0)
                return NULL;
        return u;
}

static int digest_param(const char *digest, char **ret) {
        return asprintf(ret, "digest=sha256%%3A%s", digest_hex(digest)) < 0 ? -ENOMEM : 0;
}

/* POST /blobs/uploads/ (with mount parameters when from_repo is given). */
static int upload_start(RegistryClient *c, const char *repo, const char *digest, const char *from_repo,
                        RegistryRequest *q, const char *scope, char **path, CpodError *err) {
        int k = from_repo ? asprintf(path, "/v2/%s/blobs/uploads/?mount=sha256%%3A%s&from=%s", repo,
                                     digest_hex(digest), from_repo)
                          : asprintf(path, "/v2/%s/blobs/uploads/", repo);
        if (k < 0)
                return oom(err);
        q->method = "POST";
        q->path = *path;
        q->scope = scope;
        return registry_perform(c, q, err);
}

int registry_blob_mount(RegistryClient *c, const char *repo, const char *digest, const char *from_repo,
                        CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *path = NULL, *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull,push repository:%s:pull", repo, from_repo) < 0)
                return oom(err);
        int r = upload_start(c, repo, digest, from_repo, &q, scope, &path, err);
        if (r >= 0)
                r = q.status == 201 ? 1 : q.status == 202 ? 0 : registry_http_error(&q, 0, err);
        if (r == 0 && q.location) {
                /* Not mounted: cancel the upload session it opened instead. */
                RegistryRequest d = REGISTRY_REQUEST_INIT;
                _cleanup_free_ char *url = location_with(c, q.location, NULL),
                                    *s2 = registry_scope(repo, true);
                if (url && s2) {
                        d.method = "DELETE";
                        d.url = url;
                        d.scope = s2;
                        (void)registry_perform(c, &d, NULL);
                }
                registry_request_done(&d);
        }
        registry_request_done(&q);
        return r;
}

/* PATCH one chunk to the session at *location, which moves on. */
static int upload_chunk(RegistryClient *c, char **location, const char *scope, int fd, uint64_t off,
                        uint64_t len, const RegistryProgress *p, const char *digest, uint64_t size,
                        CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *url = location_with(c, *location, NULL);
        char range[64];
        if (!url)
                return oom(err);
        snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off, off + len - 1);
        q.method = "PATCH";
        q.url = url;
        q.scope = scope;
        q.content_type = "application/octet-stream";
        q.content_range = range;
        q.fd = fd;
        q.fd_off = off;
        q.fd_len = len;
        q.progress = p;
        q.progress_digest = digest;
        q.progress_base = off;
        q.progress_total = size;
        int r = registry_perform(c, &q, err);
        if (r >= 0 && q.status != 202)
                r = registry_http_error(&q, 0, err);
        if (r >= 0 && !q.location)
                r = cpod_error(err, EPROTO, "PATCH %s: no Location in the answer", url);
        if (r >= 0) {
                free(*location);
                *location = TAKE_PTR(q.location);
        }
        registry_request_done(&q);
        return r;
}

/* The closing PUT ?digest=, carrying the whole blob when nothing was PATCHed. */
static int upload_finish(RegistryClient *c, const char *location, const char *scope, int fd, uint64_t size,
                         bool with_body, const RegistryProgress *p, const char *digest, CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *param = NULL, *url = NULL;
        if (digest_param(digest, &param) < 0 || !(url = location_with(c, location, param)))
                return oom(err);
        q.method = "PUT";
        q.url = url;
        q.scope = scope;
        q.content_type = "application/octet-stream";
        if (with_body) {
                q.fd = fd;
                q.fd_len = size;
                q.progress = p;
                q.progress_digest = digest;
                q.progress_total = size;
        }
        int r = registry_perform(c, &q, err);
        if (r >= 0 && q.status != 201)
                r = registry_http_error(&q, 0, err);
        registry_request_done(&q);
        return r;
}

int registry_blob_upload(RegistryClient *c, const char *repo, const char *digest, int fd, uint64_t size,
                         uint64_t chunk_size, const RegistryProgress *p, CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        _cleanup_free_ char *path = NULL, *location = NULL, *scope = registry_scope(repo, true);
        int r;

        if (!scope)
                return oom(err);
        r = upload_start(c, repo, digest, NULL, &q, scope, &path, err);
        if (r >= 0 && q.status != 202)
                r = registry_http_error(&q, 0, err);
        if (r >= 0 && !q.location)
                r = cpod_error(err, EPROTO, "POST %s: no Location in the answer", path);
        if (r >= 0)
                location = TAKE_PTR(q.location);
        registry_request_done(&q);
        if (r < 0)
                return r;
        bool chunked = chunk_size > 0 && size > chunk_size;
        for (uint64_t off = 0; chunked && off < size; off += chunk_size) {
                r = upload_chunk(c, &location, scope, fd, off, MIN(chunk_size, size - off), p, digest, size,
                                 err);
                if (r < 0)
                        return r;
        }
        return upload_finish(c, location, scope, fd, size, !chunked, p, digest, err);
}

/* ---- listings ---- */

void registry_strv_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

/* The next page's path from a Link: <…>; rel="next" header, below the endpoint. */
static char *link_next(const char *link) {
        const char *lt = link ? strchr(link, '<') : NULL, *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt || !strstr(gt, "rel=\"next\""))
                return NULL;
        const char *p = lt + 1;
        if (startswith(p, "http://") || startswith(p, "https://")) {
                p = strchr(strstr(p, "//") + 2, '/');
                if (!p || p > gt)
                        return NULL;
        }
        return strndup(p, (size_t)(gt - p));
}

/* GET pages of a JSON list (key "repositories" or "tags") into *v. */
static int list_pages(RegistryClient *c, const char *first, const char *scope, const char *key, char ***v,
                      size_t *n, CpodError *err) {
        _cleanup_free_ char *path = strdup(first);
        int r = 0;
        for (unsigned page = 0; path && r >= 0 && page < 1000; page++) {
                RegistryRequest q = REGISTRY_REQUEST_INIT;
                _cleanup_(vl_json_unrefp) VlJson *j = NULL;
                const VlJson *item;
                q.method = "GET";
                q.path = path;
                q.scope = scope;
                q.max = REGISTRY_JSON_MAX;
                r = registry_perform(c, &q, err);
                if (r >= 0 && q.status != 200)
                        r = registry_http_error(&q, 0, err);
                if (r >= 0 && vl_json_parse(q.resp.data ? q.resp.data : "", q.resp.len, NULL, &j, NULL) < 0)
                        r = cpod_error(err, EPROTO, "GET %s: the answer is not JSON", path);
                VL_JSON_FOREACH_ELEMENT (item, r >= 0 ? vl_json_object_get(j, key) : NULL) {
                        const char *s = vl_json_get_string(item);
                        char **nv;
                        if (!s)
                                continue;
                        if (*n >= REGISTRY_CATALOG_MAX) {
                                r = cpod_error(err, E2BIG, "GET %s: more than %u entries", path,
                                               REGISTRY_CATALOG_MAX);
                                break;
                        }
                        nv = realloc(*v, (*n + 1) * sizeof(char *));
                        if (!nv || !(nv[*n] = strdup(s))) {
                                if (nv)
                                        *v = nv;
                                r = oom(err);
                                break;
                        }
                        *v = nv;
                        (*n)++;
                }
                free(path);
                path = r >= 0 ? link_next(q.link) : NULL;
                registry_request_done(&q);
        }
        return r;
}

int registry_catalog(RegistryClient *c, char ***ret, size_t *ret_n, CpodError *err) {
        char **v = NULL;
        size_t n = 0;
        int r = list_pages(c, "/v2/_catalog?n=1000", "registry:catalog:*", "repositories", &v, &n, err);
        if (r < 0) {
                registry_strv_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int registry_tags(RegistryClient *c, const char *repo, char ***ret, size_t *ret_n, CpodError *err) {
        _cleanup_free_ char *path = NULL, *scope = registry_scope(repo, false);
        char **v = NULL;
        size_t n = 0;
        if (!scope || asprintf(&path, "/v2/%s/tags/list", repo) < 0)
                return oom(err);
        int r = list_pages(c, path, scope, "tags", &v, &n, err);
        if (r < 0) {
                registry_strv_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int registry_check_login(RegistryClient *c, CpodError *err) {
        RegistryRequest q = REGISTRY_REQUEST_INIT;
        q.method = "GET";
        q.path = "/v2/";
        int r = registry_perform(c, &q, err);
        if (r >= 0 && q.status != 200)
                r = registry_http_error(&q, q.status == 401 || q.status == 403 ? EACCES : 0, err);
        registry_request_done(&q);
        return r < 0 ? r : 0;
}
