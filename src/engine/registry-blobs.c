/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parallel blob downloads, at most REGISTRY_MAX_PARALLEL at once, each
 * streaming into its own BlobWriter (and the blob's on_data, if any), so a
 * blob is hashed as it arrives and appears in the store only complete,
 * verified and flushed. The names are not flushed here (BLOB_DEFER_NAME_SYNC):
 * the pull flushes once for all of them before it records the image.
 *
 * http endpoints: one thread per download on cpod's HTTP client (sharing
 * its pool of kept-alive connections); the calling thread waits, reports
 * progress and collects results, so callbacks of RegistryProgress never run
 * elsewhere. A redirect to https (a CDN) hands that blob to the https path.
 *
 * https endpoints: a curl multi handle. Redirects (to a CDN) are followed;
 * curl drops our Authorization header when a redirect leaves the
 * registry's host.
 */
#include <pthread.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "registry-internal.h"
#include "util.h"

typedef struct Transfer {
        const RegistryBlob *blob;
        CURL *h;
        struct curl_slist *hdrs;
        char *url;
        BlobWriter *w;
        uint64_t got;
        RegistryRequest answer; /* headers of the answer, and the start of an error document */
        bool too_big, write_failed;
        CpodError werr;
        const RegistryProgress *p;
} Transfer;

static void transfer_free(CURLM *m, Transfer *t) {
        if (t->h) {
                curl_multi_remove_handle(m, t->h);
                curl_easy_cleanup(t->h);
        }
        curl_slist_free_all(t->hdrs);
        free(t->url);
        blob_writer_abort(t->w);
        registry_request_done(&t->answer);
        free(t);
}

static size_t on_blob_data(char *buf, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        long status = 0;

        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                /* An error document: keep its start for the message. */
                VlBuf *b = &t->answer.resp;
                size_t room = REGISTRY_ERROR_BODY_MAX - MIN(b->len, (size_t)REGISTRY_ERROR_BODY_MAX);
                (void)vl_buf_append(b, buf, MIN(n, room));
                return n;
        }
        if (t->got + n > t->blob->size) {
                t->too_big = true;
                return CURL_WRITEFUNC_ERROR;
        }
        if (blob_writer_write(t->w, buf, n, &t->werr) < 0) {
                t->write_failed = true;
                return CURL_WRITEFUNC_ERROR;
        }
        if (t->blob->on_data && t->blob->on_data(buf, n, t->blob->userdata) < 0) {
                cpod_error(&t->werr, EPIPE, "the layer's extraction stopped reading");
                t->write_failed = true;
                return CURL_WRITEFUNC_ERROR;
        }
        t->got += n;
        if (!t->blob->quiet && t->p && t->p->progress && t->got < t->blob->size)
                t->p->progress(t->blob->digest, t->got, t->blob->size, t->p->userdata);
        return n;
}

static int transfer_start(RegistryClient *c, Engine *e, CURLM *m, const char *repo, const RegistryBlob *b,
                          const char *url, const RegistryProgress *p, Transfer **ret, CpodError *err) {
        _cleanup_free_ char *path = NULL, *scope = registry_scope(repo, false);
        Transfer *t = calloc(1, sizeof(*t));
        int r;

        if (t)
                t->answer = (RegistryRequest)REGISTRY_REQUEST_INIT;

        if (!t || !scope || asprintf(&path, "/v2/%s/blobs/%s", repo, b->digest) < 0) {
                free(t);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        t->blob = b;
        t->p = p;
        t->url = url ? strdup(url) : registry_url(c, path);
        t->h = curl_easy_init();
        if (!t->url || !t->h) {
                transfer_free(m, t);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = blob_writer_new(e, &t->w, err);
        if (r >= 0 && registry_easy_setup(c, t->h, scope, &t->hdrs) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r < 0) {
                curl_easy_cleanup(t->h);
                t->h = NULL;
                transfer_free(m, t);
                return r;
        }
        curl_easy_setopt(t->h, CURLOPT_URL, t->url);
        curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, t->hdrs);
        curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_blob_data);
        curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(t->h, CURLOPT_HEADERFUNCTION, registry_on_header);
        curl_easy_setopt(t->h, CURLOPT_HEADERDATA, &t->answer);
        curl_easy_setopt(t->h, CURLOPT_PRIVATE, t);
        if (curl_multi_add_handle(m, t->h) != CURLM_OK) {
                curl_easy_cleanup(t->h);
                t->h = NULL;
                transfer_free(m, t);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        *ret = t;
        return 0;
}

/* A finished transfer: judge it and commit its blob. */
static int transfer_finish(Transfer *t, CURLcode cc, CpodError *err) {
        const RegistryBlob *b = t->blob;
        long status = 0;
        char d[DIGEST_MAX];

        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
        if (t->write_failed) {
                *err = t->werr;
                return cpod_error_wrap(err, "blob %s", b->digest);
        }
        if (t->too_big)
                return cpod_error(err, EBADMSG,
                                  "GET %s: the registry sent more than the %" PRIu64
                                  " bytes the manifest gives for blob %s",
                                  t->url, b->size, b->digest);
        if (cc != CURLE_OK && status == 200)
                return cpod_error(err, EIO, "GET %s: %s after %" PRIu64 " of %" PRIu64 " bytes", t->url,
                                  curl_easy_strerror(cc), t->got, b->size);
        if (cc != CURLE_OK)
                return cpod_error(err, cc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EHOSTUNREACH,
                                  "GET %s: %s", t->url, curl_easy_strerror(cc));
        if (status != 200) {
                RegistryRequest *q = &t->answer;
                char *eff = NULL;
                q->method = "GET";
                q->url = t->url;
                q->status = status;
                if (curl_easy_getinfo(t->h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
                        q->effective_url = strdup(eff);
                int r = registry_http_error(q, 0, err);
                return r;
        }
        if (t->got != b->size)
                return cpod_error(err, EBADMSG,
                                  "GET %s: blob %s is %" PRIu64 " bytes, the manifest says %" PRIu64, t->url,
                                  b->digest, t->got, b->size);
        int r = blob_writer_commit_flags(t->w, b->digest, BLOB_DEFER_NAME_SYNC, d, err);
        t->w = NULL;
        if (r < 0)
                return cpod_error_wrap(err, "GET %s", t->url);
        if (!b->quiet && t->p && t->p->progress)
                t->p->progress(b->digest, b->size, b->size, t->p->userdata);
        return 0;
}

static void say(const RegistryProgress *p, const char *fmt, const char *arg) {
        char line[256];
        if (!p || !p->message)
                return;
        snprintf(line, sizeof(line), fmt, arg);
        p->message(line, p->userdata);
}

/* The https path. urls (may be NULL, or hold NULLs) overrides a blob's URL. */
static int fetch_curl(RegistryClient *c, Engine *e, const char *repo, const RegistryBlob *blobs, size_t n,
                      char **urls, const RegistryProgress *p, CpodError *err) {
        Transfer *active[REGISTRY_MAX_PARALLEL] = {};
        size_t n_active = 0, next = 0;
        int r = registry_curl_load(c, err);
        if (r < 0)
                return r;
        CURLM *m = curl_multi_init();

        if (!m)
                return cpod_error(err, ENOMEM, "out of memory");
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)REGISTRY_MAX_PARALLEL);
        while (r >= 0 && (next < n || n_active > 0)) {
                while (r >= 0 && next < n && n_active < REGISTRY_MAX_PARALLEL) {
                        const RegistryBlob *b = &blobs[next++];
                        if (!digest_valid(b->digest)) {
                                r = cpod_error(err, EINVAL, "invalid blob digest `%.80s`", b->digest);
                                break;
                        }
                        if (blob_exists(e, b->digest)) {
                                if (!b->quiet)
                                        say(p, "Copying blob %s skipped: already exists", b->digest);
                                if (b->on_end)
                                        b->on_end(1, b->userdata);
                                continue;
                        }
                        r = transfer_start(c, e, m, repo, b, urls ? urls[next - 1] : NULL, p,
                                           &active[n_active], err);
                        if (r >= 0)
                                n_active++;
                }
                if (r < 0 || n_active == 0)
                        break;
                int running = 0;
                if (curl_multi_perform(m, &running) != CURLM_OK ||
                    (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)) {
                        r = cpod_error(err, EIO, "downloading blobs: curl failed");
                        break;
                }
                CURLMsg *msg;
                int left;
                while (r >= 0 && (msg = curl_multi_info_read(m, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        Transfer *t = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
                        r = transfer_finish(t, msg->data.result, err);
                        if (t->blob->on_end)
                                t->blob->on_end(r, t->blob->userdata);
                        t->blob = NULL;
                        for (size_t i = 0; i < n_active; i++)
                                if (active[i] == t) {
                                        active[i] = active[--n_active];
                                        break;
                                }
                        transfer_free(m, t);
                }
        }
        for (size_t i = 0; i < n_active; i++) {
                if (active[i]->blob && active[i]->blob->on_end)
                        active[i]->blob->on_end(-ECANCELED, active[i]->blob->userdata);
                transfer_free(m, active[i]);
        }
        curl_multi_cleanup(m);
        return r < 0 ? r : 0;
}

/* ---- the http path ---- */

typedef struct Fetch Fetch;

typedef struct Job {
        Fetch *f;
        const RegistryBlob *blob;
        char *url;
        BlobWriter *w;
        uint64_t got;      /* under f->lock once the thread runs */
        uint64_t reported; /* by the calling thread */
        RegistryRequest answer;
        char *https; /* redirected there: for the https path */
        bool started, too_big, write_failed, done, joined;
        int result;
        CpodError err;
        pthread_t thread;
} Job;

struct Fetch {
        RegistryClient *c;
        Engine *e;
        char *auth;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool cancel;
};

static int job_on_head(const HttpHead *h, void *userdata) {
        Job *j = userdata;
        for (size_t i = 0; i < h->n_fields; i++)
                if (h->fields[i].name_len == 12 && strncasecmp(h->fields[i].name, "content-type", 12) == 0)
                        j->answer.resp_type = strndup(h->fields[i].value, h->fields[i].value_len);
        return 0;
}

static int job_on_data(const void *p, size_t n, void *userdata) {
        Job *j = userdata;
        Fetch *f = j->f;
        bool cancel;

        pthread_mutex_lock(&f->lock);
        cancel = f->cancel;
        pthread_mutex_unlock(&f->lock);
        if (cancel)
                return -ECANCELED;
        if (j->answer.status != 200) {
                VlBuf *b = &j->answer.resp;
                size_t room = REGISTRY_ERROR_BODY_MAX - MIN(b->len, (size_t)REGISTRY_ERROR_BODY_MAX);
                (void)vl_buf_append(b, p, MIN(n, room));
                return 0;
        }
        if (j->got + n > j->blob->size) {
                j->too_big = true;
                return -EBADMSG;
        }
        if (blob_writer_write(j->w, p, n, &j->err) < 0) {
                j->write_failed = true;
                return -EIO;
        }
        if (j->blob->on_data && j->blob->on_data(p, n, j->blob->userdata) < 0) {
                cpod_error(&j->err, EPIPE, "the layer's extraction stopped reading");
                j->write_failed = true;
                return -EPIPE;
        }
        pthread_mutex_lock(&f->lock);
        j->got += n;
        pthread_mutex_unlock(&f->lock);
        return 0;
}

/* The answer's status is known before its body: on_head runs first, so peek it there. */
static int job_on_head_status(const HttpHead *h, void *userdata) {
        Job *j = userdata;
        j->answer.status = h->status;
        return job_on_head(h, userdata);
}

static int job_run(Job *j) {
        Fetch *f = j->f;
        const RegistryBlob *b = j->blob;
        HttpRequest h = HTTP_REQUEST_INIT;
        const char *hdrs[1] = {f->auth};
        char d[DIGEST_MAX];

        int r = blob_writer_new(f->e, &j->w, &j->err);
        if (r < 0)
                return r;
        h.method = "GET";
        h.url = j->url;
        h.headers = hdrs;
        h.n_headers = f->auth ? 1 : 0;
        h.on_head = job_on_head_status;
        h.on_data = job_on_data;
        h.userdata = j;
        r = http_perform(f->c->http, &h, &j->err);
        j->answer.status = h.status;
        snprintf(j->answer.reason, sizeof(j->answer.reason), "%s", h.reason);
        j->answer.effective_url = TAKE_PTR(h.effective_url);
        j->https = TAKE_PTR(h.redirect_url);
        http_request_done(&h);
        if (r < 0 && h.aborted) {
                if (j->write_failed)
                        return cpod_error_wrap(&j->err, "blob %s", b->digest);
                if (j->too_big)
                        return cpod_error(&j->err, EBADMSG,
                                          "GET %s: the registry sent more than the %" PRIu64
                                          " bytes the manifest gives for blob %s",
                                          j->url, b->size, b->digest);
                return cpod_error(&j->err, ECANCELED, "GET %s: cancelled", j->url);
        }
        if (r < 0 && j->got > 0)
                return cpod_error_wrap(&j->err, "after %" PRIu64 " of %" PRIu64 " bytes", j->got, b->size);
        if (r < 0 || j->https)
                return r;
        if (j->answer.status != 200) {
                j->answer.method = "GET";
                j->answer.url = j->url;
                return registry_http_error(&j->answer, 0, &j->err);
        }
        if (j->got != b->size)
                return cpod_error(&j->err, EBADMSG,
                                  "GET %s: blob %s is %" PRIu64 " bytes, the manifest says %" PRIu64, j->url,
                                  b->digest, j->got, b->size);
        r = blob_writer_commit_flags(j->w, b->digest, BLOB_DEFER_NAME_SYNC, d, &j->err);
        j->w = NULL;
        if (r < 0)
                return cpod_error_wrap(&j->err, "GET %s", j->url);
        return 0;
}

static void *job_thread(void *userdata) {
        Job *j = userdata;
        int r = job_run(j);
        blob_writer_abort(j->w);
        j->w = NULL;
        /* A blob going to https is not over yet: the https path ends it. */
        if (j->blob->on_end && !j->https)
                j->blob->on_end(r, j->blob->userdata);
        pthread_mutex_lock(&j->f->lock);
        j->result = r;
        j->done = true;
        pthread_cond_broadcast(&j->f->cond);
        pthread_mutex_unlock(&j->f->lock);
        return NULL;
}

/* Report progress of running jobs and wait (a little) for one to end; called with f->lock held. */
static void fetch_wait(Fetch *f, Job *jobs, size_t n, const RegistryProgress *p) {
        struct timespec ts;
        for (size_t i = 0; i < n; i++) {
                Job *j = &jobs[i];
                if (!j->started || j->joined || j->blob->quiet || !p || !p->progress)
                        continue;
                uint64_t got = j->got;
                if (got != j->reported && got < j->blob->size) {
                        j->reported = got;
                        pthread_mutex_unlock(&f->lock);
                        p->progress(j->blob->digest, got, j->blob->size, p->userdata);
                        pthread_mutex_lock(&f->lock);
                }
        }
        for (size_t i = 0; i < n; i++)
                if (jobs[i].started && !jobs[i].joined && jobs[i].done)
                        return;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        (void)pthread_cond_timedwait(&f->cond, &f->lock, &ts);
}

static int fetch_http(RegistryClient *c, Engine *e, const char *repo, const RegistryBlob *blobs, size_t n,
                      const RegistryProgress *p, CpodError *err) {
        _cleanup_free_ char *scope = registry_scope(repo, false);
        Fetch f = {.c = c, .e = e};
        Job *jobs = calloc(n ? n : 1, sizeof(Job));
        size_t next = 0, running = 0, n_https = 0;
        int r = 0;

        if (!jobs || !scope || registry_auth_header(c, scope, &f.auth) < 0) {
                free(jobs);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        pthread_mutex_init(&f.lock, NULL);
        pthread_cond_init(&f.cond, NULL);
        pthread_mutex_lock(&f.lock);
        while (next < n || running > 0) {
                while (r >= 0 && next < n && running < REGISTRY_MAX_PARALLEL) {
                        Job *j = &jobs[next];
                        const RegistryBlob *b = &blobs[next++];
                        _cleanup_free_ char *path = NULL;
                        j->f = &f;
                        j->blob = b;
                        j->answer = (RegistryRequest)REGISTRY_REQUEST_INIT;
                        if (!digest_valid(b->digest)) {
                                r = cpod_error(err, EINVAL, "invalid blob digest `%.80s`", b->digest);
                                break;
                        }
                        if (blob_exists(e, b->digest)) {
                                pthread_mutex_unlock(&f.lock);
                                if (!b->quiet)
                                        say(p, "Copying blob %s skipped: already exists", b->digest);
                                if (b->on_end)
                                        b->on_end(1, b->userdata);
                                pthread_mutex_lock(&f.lock);
                                continue;
                        }
                        if (asprintf(&path, "/v2/%s/blobs/%s", repo, b->digest) < 0 ||
                            !(j->url = registry_url(c, path))) {
                                r = cpod_error(err, ENOMEM, "out of memory");
                                break;
                        }
                        if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
                                r = cpod_error(err, EAGAIN, "cannot start a download thread");
                                break;
                        }
                        j->started = true;
                        running++;
                }
                if (running == 0)
                        break;
                fetch_wait(&f, jobs, next, p);
                for (size_t i = 0; i < next; i++) {
                        Job *j = &jobs[i];
                        if (!j->started || j->joined || !j->done)
                                continue;
                        pthread_mutex_unlock(&f.lock);
                        pthread_join(j->thread, NULL);
                        pthread_mutex_lock(&f.lock);
                        j->joined = true;
                        running--;
                        if (j->result < 0 && r >= 0) {
                                *err = j->err;
                                r = j->result;
                                f.cancel = true; /* the others stop at their next bytes */
                        } else if (j->result >= 0 && j->https)
                                n_https++;
                        else if (j->result >= 0 && !j->blob->quiet && p && p->progress) {
                                pthread_mutex_unlock(&f.lock);
                                p->progress(j->blob->digest, j->blob->size, j->blob->size, p->userdata);
                                pthread_mutex_lock(&f.lock);
                        }
                }
                if (r < 0)
                        next = next < n ? next : n; /* start nothing more */
                if (r < 0 && running == 0)
                        break;
                if (r < 0)
                        continue;
        }
        pthread_mutex_unlock(&f.lock);

        if (r >= 0 && n_https > 0) {
                /* Redirected to https: those blobs go the libcurl way, from where they were sent. */
                RegistryBlob *rest = calloc(n_https, sizeof(*rest));
                char **urls = calloc(n_https, sizeof(char *));
                size_t k = 0;
                for (size_t i = 0; rest && urls && i < n; i++)
                        if (jobs[i].https) {
                                rest[k] = blobs[i];
                                urls[k++] = jobs[i].https;
                        }
                r = rest && urls ? fetch_curl(c, e, repo, rest, k, urls, p, err)
                                 : cpod_error(err, ENOMEM, "out of memory");
                free(rest);
                free(urls);
        }
        for (size_t i = 0; i < n; i++) {
                free(jobs[i].url);
                free(jobs[i].https);
                registry_request_done(&jobs[i].answer);
        }
        free(jobs);
        free(f.auth);
        pthread_cond_destroy(&f.cond);
        pthread_mutex_destroy(&f.lock);
        return r < 0 ? r : 0;
}

int registry_fetch_blobs(RegistryClient *c, Engine *e, const char *repo, const RegistryBlob *blobs, size_t n,
                         const RegistryProgress *p, CpodError *err) {
        int r = registry_decide_scheme(c, err);
        if (r < 0)
                return r;
        if (c->use_http)
                return fetch_http(c, e, repo, blobs, n, p, err);
        return fetch_curl(c, e, repo, blobs, n, NULL, p, err);
}
