/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parallel blob downloads: a curl multi handle runs at most
 * REGISTRY_MAX_PARALLEL GETs at once, each streaming into its own
 * BlobWriter, so a blob is hashed as it arrives and appears in the store
 * only complete and verified. Redirects (to a CDN) are followed; curl drops
 * our Authorization header when a redirect leaves the registry's host.
 */

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
        t->got += n;
        if (!t->blob->quiet && t->p && t->p->progress && t->got < t->blob->size)
                t->p->progress(t->blob->digest, t->got, t->blob->size, t->p->userdata);
        return n;
}

static int transfer_start(RegistryClient *c, Engine *e, CURLM *m, const char *repo, const RegistryBlob *b,
                          const RegistryProgress *p, Transfer **ret, CpodError *err) {
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
        t->url = registry_url(c, path);
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
        int r = blob_writer_commit(t->w, b->digest, d, err);
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

int registry_fetch_blobs(RegistryClient *c, Engine *e, const char *repo, const RegistryBlob *blobs, size_t n,
                         const RegistryProgress *p, CpodError *err) {
        Transfer *active[REGISTRY_MAX_PARALLEL] = {};
        size_t n_active = 0, next = 0;
        CURLM *m = curl_multi_init();
        int r = 0;

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
                                continue;
                        }
                        r = transfer_start(c, e, m, repo, b, p, &active[n_active], err);
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
                        for (size_t i = 0; i < n_active; i++)
                                if (active[i] == t) {
                                        active[i] = active[--n_active];
                                        break;
                                }
                        transfer_free(m, t);
                }
        }
        for (size_t i = 0; i < n_active; i++)
                transfer_free(m, active[i]);
        curl_multi_cleanup(m);
        return r < 0 ? r : 0;
}
