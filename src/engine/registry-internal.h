/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the registry client's files: the client and one HTTP exchange. */

#include <curl/curl.h>

#include <vl/json.h>

#include "http.h"
#include "registry.h"

typedef struct RegistryToken {
        char *scope;
        char *token;
} RegistryToken;

struct RegistryClient {
        char *host;     /* as users name it: "docker.io", "127.0.0.1:5000" */
        char *api_host; /* where it answers: "registry-1.docker.io" */
        bool tls_verify;
        bool insecure;     /* may be plain http */
        bool use_http;     /* the endpoint is http (the TLS probe said so) */
        bool scheme_known; /* decided, for the client's lifetime */
        bool ca_system_added;
        char *user, *pass;
        char *ca_blob; /* the cert dir's *.crt plus the system bundle, or NULL */
        size_t ca_len;
        char *client_cert, *client_key;
        RegistryScheme scheme; /* what the last challenge asked for */
        RegistryChallenge challenge;
        RegistryToken *tokens;
        size_t n_tokens;
        CURL *curl;       /* https only: libcurl is loaded on first use */
        HttpClient *http; /* http endpoints */
};

typedef struct RegistryRequest {
        const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
        const char *path;   /* "/v2/…" below the endpoint, or */
        const char *url;    /* an absolute URL (an upload's Location) */
        const char *scope;  /* space-separated token scopes, or NULL */
        const char *accept;
        const char *content_type;
        const char *content_range;
        /* body: memory, or fd_len bytes of fd from fd_off (fd >= 0); none when both are empty */
        const void *body;
        size_t body_len;
        int fd;
        uint64_t fd_off, fd_len;
        size_t max; /* response body limit (0: REGISTRY_ERROR_BODY_MAX) */
        /* progress of an upload */
        const RegistryProgress *progress;
        const char *progress_digest;
        uint64_t progress_base, progress_total;

        /* the answer */
        long status;
        char reason[64];
        VlBuf resp;
        bool too_big;
        char *resp_type, *resp_digest, *location, *www_auth, *link;
        char *effective_url;
        /* internal */
        uint64_t sent;
} RegistryRequest;

#define REGISTRY_REQUEST_INIT \
        { .fd = -1 }

/* Run one exchange: answers a 401 challenge (token or Basic) once and
 * retries; decides the scheme of an insecure registry first. A transport
 * failure is an error ("GET url: Connection refused"); any HTTP status is
 * returned in q->status for the caller to judge. */
int registry_perform(RegistryClient *c, RegistryRequest *q, CpodError *err);
void registry_request_done(RegistryRequest *q);

/* "METHOD url: 404 Not Found: <the registry's error message>"; returns -code. */
int registry_http_error(RegistryRequest *q, int code, CpodError *err);

/* An errno for an HTTP status (404 -> ENOENT, 401/403 -> EACCES, ...). */
int registry_status_errno(long status);

/* The full URL of a path below the client's endpoint (malloc'ed). */
char *registry_url(RegistryClient *c, const char *path);

/* Decide http or https for the client's endpoint (once: a TLS probe for an
 * insecure registry, https for any other). */
int registry_decide_scheme(RegistryClient *c, CpodError *err);

/* Load libcurl (once) and create the client's handle: https needs it. */
int registry_curl_load(RegistryClient *c, CpodError *err);

/* The Authorization header line for scope (malloc'ed), or NULL when none is to be sent. */
int registry_auth_header(RegistryClient *c, const char *scope, char **ret);

/* Set TLS options and the Authorization header (into *headers) for scope on a
 * handle used outside registry_perform (parallel blob downloads). */
int registry_easy_setup(RegistryClient *c, CURL *h, const char *scope, struct curl_slist **headers);

/* CURLOPT_HEADERFUNCTION filling a RegistryRequest's answer fields (status reason, Content-Type, ...). */
size_t registry_on_header(char *buf, size_t size, size_t nitems, void *userdata);

/* "repository:<repo>:pull" (push adds ",push"), malloc'ed. */
char *registry_scope(const char *repo, bool push);
