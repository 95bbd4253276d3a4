/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small HTTP/1.1 client for plain-http endpoints (loopback and insecure
 * registries), so such pulls and pushes never load libcurl and its TLS
 * stack. https stays with libcurl.
 *
 * - Connections are kept alive and reused per host:port (a pool in the
 *   HttpClient, safe to share between threads); a reused connection the
 *   server closed meanwhile is retried once on a fresh one.
 * - Bodies framed by Content-Length, chunked transfer coding, or the end of
 *   the connection; HEAD, 1xx, 204 and 304 answers have none.
 * - Request bodies from memory or from a range of a file (sendfile).
 * - Redirects between http URLs are followed (at most HTTP_MAX_REDIRECTS;
 *   303 turns the request into a GET); a redirect to https ends the
 *   exchange with the redirect's status and redirect_url set, for the
 *   caller to continue with libcurl.
 * - The response head is parsed strictly (RFC 9112: CRLF line ends, token
 *   header names, no obsolete line folding, no control characters in
 *   values, one consistent Content-Length, no Content-Length together with
 *   Transfer-Encoding) and bounded (HTTP_HEAD_MAX bytes, HTTP_HEADERS_MAX
 *   fields).
 * - Timeouts: connecting (connect_timeout_ms, default 30 s) and a stall
 *   (no byte moving for stall_timeout_ms, default 60 s, as cpod's libcurl
 *   setup allows 1 byte/s for 60 s).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HTTP_HEAD_MAX      (64u * 1024u)
#define HTTP_HEADERS_MAX   128u
#define HTTP_MAX_REDIRECTS 8u
#define HTTP_POOL_MAX      8u

/* ---- the response head parser (also the fuzz target's subject) ---- */

typedef struct HttpField {
        const char *name, *value; /* point into the parsed buffer, not NUL-terminated */
        size_t name_len, value_len;
} HttpField;

typedef struct HttpHead {
        int minor;  /* HTTP/1.minor */
        int status; /* 100..599 */
        const char *reason;
        size_t reason_len;
        HttpField fields[HTTP_HEADERS_MAX];
        size_t n_fields;
        /* framing, from the fields */
        int64_t content_length; /* -1: none */
        bool chunked;
        bool close; /* the connection ends after this answer */
} HttpHead;

/* Where the head in buf ends: the length up to and including the empty line's CRLF, 0 when buf holds
 * no complete head yet, -E2BIG when none ends within HTTP_HEAD_MAX bytes. */
int http_head_end(const char *buf, size_t len);

/* Parse a complete head (status line, fields, the empty line: exactly len bytes, as http_head_end
 * measured). -EPROTO for anything malformed, -E2BIG for too many fields. */
int http_head_parse(const char *buf, size_t len, HttpHead *ret);

/* The value of the first field named name (case-insensitive), or NULL; *ret_len its length. */
const char *http_head_get(const HttpHead *h, const char *name, size_t *ret_len);

/* ---- URLs ---- */

typedef struct HttpUrl {
        bool https;
        char host[256]; /* without brackets for IPv6 literals */
        uint16_t port;
        const char *target; /* path and query, into the parsed string ("/" when empty) */
} HttpUrl;

/* Split "http[s]://host[:port][/path][?query]"; -EINVAL for anything else (userinfo, fragments,
 * control characters or spaces). */
int http_url_parse(const char *url, HttpUrl *ret);

/* Resolve a Location value against the URL it answered (absolute, "//host/…" or "/path"); malloc'ed. */
char *http_url_resolve(const char *base, const char *location);

/* Percent-encode s (n bytes) for a query parameter (unreserved characters stay); malloc'ed. */
char *http_escape(const char *s, size_t n);

/* ---- the client ---- */

typedef struct HttpClient HttpClient;

HttpClient *http_client_new(void);
/* Close the pooled connections and free. Accepts NULL. */
HttpClient *http_client_free(HttpClient *c);

typedef struct HttpRequest {
        const char *method;         /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
        const char *url;            /* http:// */
        const char *const *headers; /* "Name: value" lines (no Host, Content-Length: added here) */
        size_t n_headers;
        /* body: body_len bytes of memory, or fd_len bytes of fd from fd_off (fd >= 0). PUT, POST and
         * PATCH always send a Content-Length, 0 when there is nothing. */
        const void *body;
        size_t body_len;
        int fd;
        uint64_t fd_off, fd_len;
        int connect_timeout_ms, stall_timeout_ms; /* 0: the defaults */

        /* The final answer's head, before its body; a negative return aborts the exchange. */
        int (*on_head)(const HttpHead *h, void *userdata);
        /* Body bytes as they arrive; a negative return aborts (the connection is closed). */
        int (*on_data)(const void *p, size_t n, void *userdata);
        /* Request body bytes sent so far. */
        void (*on_sent)(uint64_t sent, void *userdata);
        void *userdata;

        /* the answer */
        int status;
        char reason[64];
        char *effective_url; /* after http redirects (malloc'ed) */
        char *redirect_url;  /* an https redirect not followed (malloc'ed) */
        bool reused;         /* the exchange ran on a pooled connection */
        bool aborted;        /* a callback refused: the error is the callback's to report */
} HttpRequest;

#define HTTP_REQUEST_INIT \
        { .fd = -1 }

/* Run one exchange. A transport failure, a malformed or oversized answer, or a callback's refusal is
 * an error with a message naming the URL ("GET http://h/x: connection refused"); -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -EPROTO, -EIO, or the callback's code. Any HTTP status is returned in
 * q->status. */
int http_perform(HttpClient *c, HttpRequest *q, CpodError *err);
void http_request_done(HttpRequest *q);

/* Connections opened and reused so far (for tests and benchmarks). */
void http_client_stats(HttpClient *c, unsigned *ret_opened, unsigned *ret_reused);

/*
 * Does host:port speak TLS? Sends a TLS ClientHello on a plain TCP
 * connection and reads the first answer: a TLS record (handshake or alert)
 * means TLS (1); "HTTP/" or the connection closing means plain http (0).
 * The hello's random bytes carry an empty line, so an HTTP server reads a
 * malformed request and answers at once instead of waiting for one.
 * -ECONNREFUSED etc. when the host cannot be reached; -EPROTO for an answer
 * that is neither.
 */
int http_probe_tls(const char *host, uint16_t port, int timeout_ms, CpodError *err);
