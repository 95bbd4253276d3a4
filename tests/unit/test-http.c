/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plain-http client against a scripted server on 127.0.0.1 (a thread of
 * this process): keep-alive reuse, a stale kept-alive connection, chunked
 * and sized bodies, redirects, request bodies from a file, limits, the stall
 * timeout, and the TLS probe.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vl/json.h>

#include "error.h"
#include "http.h"
#include "tests.h"
#include "util.h"

/* ---- the scripted server ---- */

typedef struct Server {
        int listen_fd;
        uint16_t port;
        pthread_t thread;
        /* what the next connections answer: one answer per request, per connection in turn */
        const char *answers[8]; /* "PATH ANSWER": the raw answer to a request for PATH */
        size_t n_answers;
        bool close_after; /* close each connection after one answer (without saying so) */
        char last_request[4096];
        size_t last_body_len;
        unsigned connections;
} Server;

static const char *answer_for(Server *s, const char *path) {
        for (size_t i = 0; i < s->n_answers; i++) {
                size_t l = strcspn(s->answers[i], " ");
                if (strlen(path) == l && strncmp(s->answers[i], path, l) == 0)
                        return s->answers[i] + l + 1;
        }
        return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
}

static void serve_conn(Server *s, int fd) {
        char buf[65536];
        size_t len = 0;
        for (;;) {
                char *end;
                while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
                        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                        if (n <= 0)
                                return;
                        len += (size_t)n;
                }
                size_t head = (size_t)(end + 4 - buf);
                buf[len] = 0;
                snprintf(s->last_request, sizeof(s->last_request), "%.*s", (int)head, buf);
                const char *cl = strcasestr(s->last_request, "\r\ncontent-length:");
                size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
                while (len < head + body) {
                        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                        if (n <= 0)
                                return;
                        len += (size_t)n;
                }
                s->last_body_len = body;
                char path[512] = "";
                sscanf(buf, "%*s %511s", path);
                const char *a = answer_for(s, path);
                if (strcmp(a, "SILENT") == 0) {
                        sleep(2);
                        return;
                }
                if (write(fd, a, strlen(a)) < 0)
                        return;
                memmove(buf, buf + head + body, len - head - body);
                len -= head + body;
                if (s->close_after || strstr(a, "Connection: close\r\n"))
                        return;
        }
}

static void *server_thread(void *userdata) {
        Server *s = userdata;
        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        return NULL;
                s->connections++;
                serve_conn(s, fd);
                close(fd);
        }
}

static void server_start(Server *s) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->listen_fd, 8) < 0 ||
            getsockname(s->listen_fd, (struct sockaddr *)&a, &l) < 0)
                abort();
        s->port = ntohs(a.sin_port);
        pthread_create(&s->thread, NULL, server_thread, s);
}

static void server_stop(Server *s) {
        shutdown(s->listen_fd, SHUT_RDWR);
        close(s->listen_fd);
        pthread_join(s->thread, NULL);
}

static int collect(const void *p, size_t n, void *userdata) {
        return vl_buf_append(userdata, p, n) < 0 ? -ENOMEM : 0;
}

/* GET (or method) path; the body lands in out. */
static int get(HttpClient *c, Server *s, const char *method, const char *path, VlBuf *out, HttpRequest *q,
               CpodError *err) {
        char url[256];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", s->port, path);
        q->method = method;
        q->url = url;
        q->on_data = collect;
        q->userdata = out;
        out->len = 0;
        int r = http_perform(c, q, err);
        vl_buf_append_char(out, 0);
        out->len--;
        return r;
}

/* ---- the parser ---- */

static int parse(const char *s, HttpHead *h) {
        return http_head_parse(s, strlen(s), h);
}

TEST(head_parser) {
        HttpHead *h = calloc(1, sizeof(*h));
        size_t n;

        is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A:  b c \r\n\r\n", h), 0, "a plain head");
        is_int(h->status, 200, "status");
        is_int(h->content_length, 12, "content length");
        ok(!h->close && !h->chunked, "kept alive, not chunked");
        const char *v = http_head_get(h, "x-a", &n);
        ok(v && n == 3 && memcmp(v, "b c", 3) == 0, "values are trimmed, names case-insensitive");
        is_int(parse("HTTP/1.0 204\r\n\r\n", h), 0, "no reason, HTTP/1.0");
        ok(h->close, "HTTP/1.0 closes unless kept alive");
        is_int(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", h), 0,
               "chunked");
        ok(h->chunked && h->close && h->content_length == -1, "chunked and closing");
        is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", h), 0, "a repeated equal length");
        is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", h), -EPROTO,
               "two different lengths");
        is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", h),
               -EPROTO, "a length and chunked");
        is_int(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", h), -EPROTO, "an unknown coding");
        is_int(parse("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", h), -EPROTO, "obsolete line folding");
        is_int(parse("HTTP/1.1 200 OK\nX: a\r\n\r\n", h), -EPROTO, "a bare LF");
        is_int(parse("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", h), -EPROTO, "a space before the colon");
        is_int(parse("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", h), -EPROTO, "a control character");
        is_int(parse("HTTP/2 200 OK\r\n\r\n", h), -EPROTO, "not HTTP/1.x");
        is_int(parse("HTTP/1.1 099 X\r\n\r\n", h), -EPROTO, "status out of range");
        is_int(parse("HTTP/1.1 20 X\r\n\r\n", h), -EPROTO, "two-digit status");
        is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", h), -EPROTO,
               "an overflowing length");
        VlBuf b = {};
        vl_buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
        for (unsigned i = 0; i <= HTTP_HEADERS_MAX; i++) {
                char line[32];
                snprintf(line, sizeof(line), "X-%u: y\r\n", i);
                vl_buf_append_str(&b, line);
        }
        vl_buf_append_str(&b, "\r\n");
        is_int(http_head_parse(b.data, b.len, h), -E2BIG, "too many fields");
        vl_buf_free(&b);
        char *big = calloc(1, HTTP_HEAD_MAX + 16);
        memset(big, 'a', HTTP_HEAD_MAX + 8);
        is_int(http_head_end(big, HTTP_HEAD_MAX + 8), -E2BIG, "no end within the limit");
        is_int(http_head_end("HTTP/1.1 200 OK\r\n\r\nbody", 23), 19, "head end");
        is_int(http_head_end("HTTP/1.1 200 OK\r\n", 17), 0, "not complete yet");
        free(big);
        free(h);
}

TEST(urls) {
        HttpUrl u;
        is_int(http_url_parse("http://127.0.0.1:5000/v2/x?n=1", &u), 0, "http URL");
        ok(!u.https && u.port == 5000 && streq(u.host, "127.0.0.1") && streq(u.target, "/v2/x?n=1"),
           "parts");
        is_int(http_url_parse("https://[::1]/", &u), 0, "IPv6 literal");
        ok(u.https && u.port == 443 && streq(u.host, "::1"), "IPv6 parts");
        is_int(http_url_parse("http://h", &u), 0, "no path");
        is_str(u.target, "/", "the root");
        is_int(http_url_parse("http://u@h/", &u), -EINVAL, "userinfo");
        is_int(http_url_parse("http://h:99999/", &u), -EINVAL, "a port out of range");
        is_int(http_url_parse("http://h/a b", &u), -EINVAL, "a space");
        is_int(http_url_parse("ftp://h/", &u), -EINVAL, "another scheme");
        char *s = http_url_resolve("http://h:1/v2/a/blobs/x", "/v2/b");
        is_str(s, "http://h:1/v2/b", "absolute path");
        free(s);
        s = http_url_resolve("http://h:1/v2/a/blobs/x?q", "y");
        is_str(s, "http://h:1/v2/a/blobs/y", "relative path");
        free(s);
        s = http_url_resolve("http://h:1/v2/", "//cdn/x");
        is_str(s, "http://cdn/x", "scheme-relative");
        free(s);
        s = http_escape("repository:a/b:pull,push", 24);
        is_str(s, "repository%3Aa%2Fb%3Apull%2Cpush", "escape");
        free(s);
}

/* ---- exchanges ---- */

TEST(keepalive_and_bodies) {
        Server s = {
                .answers =
                        {
                                "/a HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: "
                                "text/plain\r\n\r\nhello",
                                "/chunked HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: 1\r\n\r\n",
                                "/head HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
                                "/redir HTTP/1.1 307 Temporary Redirect\r\nLocation: /a\r\nContent-Length: "
                                "3\r\n\r\nxyz",
                                "/tls HTTP/1.1 302 Found\r\nLocation: "
                                "https://cdn.invalid/blob\r\nContent-Length: 0\r\n\r\n",
                                "/loop HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n",
                                "/short HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: "
                                "close\r\n\r\nabc",
                        },
                .n_answers = 7};
        HttpClient *c = http_client_new();
        VlBuf out = {};
        CpodError err = {};
        unsigned opened, reused;

        server_start(&s);
        HttpRequest q = HTTP_REQUEST_INIT;
        is_int(get(c, &s, "GET", "/a", &out, &q, &err), 0, "GET");
        is_int(q.status, 200, "200");
        is_str(out.data, "hello", "sized body");
        is_int(get(c, &s, "GET", "/chunked", &out, &q, &err), 0, "GET chunked");
        is_str(out.data, "abc0123456789abcdef", "chunked body, extensions and trailers skipped");
        is_int(get(c, &s, "HEAD", "/head", &out, &q, &err), 0, "HEAD");
        is_int(out.len, 0, "HEAD has no body despite its length");
        http_client_stats(c, &opened, &reused);
        ok(opened == 1 && reused == 2, "one connection kept for three exchanges (%u opened, %u reused)",
           opened, reused);
        is_int(get(c, &s, "GET", "/redir", &out, &q, &err), 0, "redirect");
        is_str(out.data, "hello", "followed, the redirect's own body dropped");
        ok(q.effective_url && strstr(q.effective_url, "/a"), "effective URL");
        is_int(get(c, &s, "GET", "/tls", &out, &q, &err), 0, "redirect to https");
        is_str(q.redirect_url, "https://cdn.invalid/blob", "handed back");
        is_int(get(c, &s, "GET", "/loop", &out, &q, &err), -ELOOP, "a redirect loop ends");
        ok(strstr(err.message, "redirects") != NULL, "message: %s", err.message);
        is_int(get(c, &s, "GET", "/short", &out, &q, &err), -EIO, "a body cut short");
        ok(strstr(err.message, "closed before the answer was complete") != NULL, "message: %s", err.message);

        /* a request body from a file */
        int fd = memfd_create("test-http", MFD_CLOEXEC);
        ok(write(fd, "0123456789", 10) == 10, "body file");
        q = (HttpRequest)HTTP_REQUEST_INIT;
        q.fd = fd;
        q.fd_off = 2;
        q.fd_len = 6;
        is_int(get(c, &s, "PUT", "/a", &out, &q, &err), 0, "PUT from a file");
        is_int(s.last_body_len, 6, "the range was sent");
        ok(strstr(s.last_request, "Content-Length: 6\r\n") != NULL, "with its length");
        close(fd);
        q = (HttpRequest)HTTP_REQUEST_INIT;
        is_int(get(c, &s, "POST", "/a", &out, &q, &err), 0, "POST without a body");
        ok(strstr(s.last_request, "Content-Length: 0\r\n") != NULL, "says so");
        const char *bad[] = {"X-Evil: a\r\nHost: b"};
        q.headers = bad;
        q.n_headers = 1;
        ok(get(c, &s, "GET", "/a", &out, &q, &err) < 0, "a header with CR LF is refused");
        http_request_done(&q);
        vl_buf_free(&out);
        http_client_free(c);
        server_stop(&s);
}

TEST(stale_connection_and_stall) {
        Server s = {.answers = {"/a HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "/silent SILENT"},
                    .n_answers = 2,
                    .close_after = true};
        HttpClient *c = http_client_new();
        VlBuf out = {};
        CpodError err = {};
        HttpRequest q = HTTP_REQUEST_INIT;

        server_start(&s);
        is_int(get(c, &s, "GET", "/a", &out, &q, &err), 0, "first");
        /* the server closed the kept connection: the next exchange starts over on a new one */
        is_int(get(c, &s, "GET", "/a", &out, &q, &err), 0, "second, on a stale connection");
        is_str(out.data, "ok", "answered");
        is_int(s.connections, 2, "two connections");
        q = (HttpRequest)HTTP_REQUEST_INIT;
        q.stall_timeout_ms = 200;
        is_int(get(c, &s, "GET", "/silent", &out, &q, &err), -ETIMEDOUT, "a silent server times out");
        ok(strstr(err.message, "timed out") != NULL, "message: %s", err.message);
        http_request_done(&q);
        vl_buf_free(&out);
        http_client_free(c);
        server_stop(&s);

        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        bind(fd, (struct sockaddr *)&a, sizeof(a));
        getsockname(fd, (struct sockaddr *)&a, &l);
        close(fd); /* nobody listens there now */
        c = http_client_new();
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/", ntohs(a.sin_port));
        q = (HttpRequest)HTTP_REQUEST_INIT;
        q.method = "GET";
        q.url = url;
        is_int(http_perform(c, &q, &err), -ECONNREFUSED, "connection refused");
        http_request_done(&q);
        http_client_free(c);
}

/* ---- the TLS probe ---- */

typedef struct Prober {
        int listen_fd;
        const char *reply; /* NULL: close at once */
        size_t reply_len;
} Prober;

static void *prober_thread(void *userdata) {
        Prober *p = userdata;
        char buf[2048];
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (p->reply) {
                /* an HTTP server answers a line it cannot parse: wait for the hello's empty line */
                size_t len = 0;
                while (len < sizeof(buf) && !memmem(buf, len, "\r\n\r\n", 4)) {
                        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                        if (n <= 0)
                                break;
                        len += (size_t)n;
                }
                ok(len > 5 && (unsigned char)buf[0] == 0x16 && buf[1] == 3, "the probe sends a TLS record");
                (void)!write(fd, p->reply, p->reply_len);
        }
        close(fd);
        return NULL;
}

static int probe(const char *reply, size_t len) {
        Prober p = {.reply = reply, .reply_len = len};
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        pthread_t t;
        CpodError err = {};
        p.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bind(p.listen_fd, (struct sockaddr *)&a, sizeof(a));
        listen(p.listen_fd, 1);
        getsockname(p.listen_fd, (struct sockaddr *)&a, &l);
        pthread_create(&t, NULL, prober_thread, &p);
        int r = http_probe_tls("127.0.0.1", ntohs(a.sin_port), 5000, &err);
        pthread_join(t, NULL);
        close(p.listen_fd);
        return r;
}

TEST(tls_probe) {
        is_int(probe("\x16\x03\x03\x00\x31", 5), 1, "a handshake record is TLS");
        is_int(probe("\x15\x03\x03\x00\x02\x02\x28", 7), 1, "an alert is TLS");
        is_int(probe("HTTP/1.1 400 Bad Request\r\n\r\n", 28), 0, "an HTTP answer is http");
        is_int(probe(NULL, 0), 0, "a close is http");
        is_int(probe("SSH-2.0-x\r\n", 11), -EPROTO, "anything else is neither");
}

TESTS_MAIN
