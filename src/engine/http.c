/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plain-http client (see http.h): blocking sockets with poll()-bounded
 * waits, one connection per exchange taken from (and given back to) a pool.
 * Threads may share an HttpClient; a connection is only ever used by the
 * thread that took it.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vl/json.h>

#include "http.h"
#include "util.h"

#define HTTP_BUF_SIZE        (64u * 1024u + 1024u)
#define HTTP_CHUNK_LINE_MAX  1024u
#define HTTP_CONNECT_TIMEOUT 30000
#define HTTP_STALL_TIMEOUT   60000
#define HTTP_TRAILERS_MAX    (16u * 1024u)

/* ---- the head parser ---- */

int http_head_end(const char *buf, size_t len) {
        size_t n = MIN(len, (size_t)HTTP_HEAD_MAX);
        for (size_t i = 3; i < n; i++)
                if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
                        return (int)(i + 1);
        return len >= HTTP_HEAD_MAX ? -E2BIG : 0;
}

static bool is_tchar(unsigned char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool token_eq(const char *p, size_t n, const char *s) {
        return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/* Does a comma-separated field value list contain the token s? */
static bool list_has(const char *v, size_t n, const char *s) {
        size_t i = 0;
        while (i < n) {
                size_t start = i, end;
                while (i < n && v[i] != ',')
                        i++;
                end = i++;
                while (start < end && (v[start] == ' ' || v[start] == '\t'))
                        start++;
                while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
                        end--;
                if (token_eq(v + start, end - start, s))
                        return true;
        }
        return false;
}

static int parse_status_line(const char *p, size_t n, HttpHead *h) {
        /* HTTP/1.x SP 3DIGIT [SP reason] */
        if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]) || p[8] != ' ')
                return -EPROTO;
        if (!is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]) || p[9] == '0')
                return -EPROTO;
        h->minor = p[7] - '0';
        h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        if (h->status < 100 || h->status > 599)
                return -EPROTO;
        if (n == 12) {
                h->reason = p + 12;
                h->reason_len = 0;
                return 0;
        }
        if (p[12] != ' ')
                return -EPROTO;
        for (size_t i = 13; i < n; i++) {
                unsigned char c = (unsigned char)p[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return -EPROTO;
        }
        h->reason = p + 13;
        h->reason_len = n - 13;
        return 0;
}

static int parse_field(const char *p, size_t n, HttpHead *h) {
        size_t k = 0;
        while (k < n && is_tchar((unsigned char)p[k]))
                k++;
        /* No empty names, no space before the colon, no obsolete line folding. */
        if (k == 0 || k >= n || p[k] != ':')
                return -EPROTO;
        size_t vs = k + 1, ve = n;
        while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
                vs++;
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
                ve--;
        for (size_t i = vs; i < ve; i++) {
                unsigned char c = (unsigned char)p[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return -EPROTO;
        }
        if (h->n_fields >= HTTP_HEADERS_MAX)
                return -E2BIG;
        h->fields[h->n_fields++] =
                (HttpField){.name = p, .name_len = k, .value = p + vs, .value_len = ve - vs};
        return 0;
}

static int parse_content_length(const char *v, size_t n, int64_t *ret) {
        /* "5" or a list of identical values ("5, 5") */
        int64_t seen = -1;
        size_t i = 0;
        while (i < n) {
                while (i < n && (v[i] == ' ' || v[i] == '\t'))
                        i++;
                if (i >= n || !is_digit(v[i]))
                        return -EPROTO;
                uint64_t x = 0;
                while (i < n && is_digit(v[i])) {
                        if (x > (uint64_t)INT64_MAX / 10 - 1)
                                return -EPROTO;
                        x = x * 10 + (uint64_t)(v[i++] - '0');
                }
                while (i < n && (v[i] == ' ' || v[i] == '\t'))
                        i++;
                if (i < n && v[i++] != ',')
                        return -EPROTO;
                if (seen >= 0 && (uint64_t)seen != x)
                        return -EPROTO;
                seen = (int64_t)x;
        }
        if (seen < 0)
                return -EPROTO;
        *ret = seen;
        return 0;
}

static int head_framing(HttpHead *h) {
        bool has_te = false, keep_alive = false;
        h->content_length = -1;
        h->chunked = false;
        h->close = false;
        for (size_t i = 0; i < h->n_fields; i++) {
                const HttpField *f = &h->fields[i];
                if (token_eq(f->name, f->name_len, "content-length")) {
                        int64_t x;
                        if (parse_content_length(f->value, f->value_len, &x) < 0 ||
                            (h->content_length >= 0 && h->content_length != x))
                                return -EPROTO;
                        h->content_length = x;
                } else if (token_eq(f->name, f->name_len, "transfer-encoding")) {
                        /* Only "chunked" as the one coding: anything else we cannot frame. */
                        if (has_te || !token_eq(f->value, f->value_len, "chunked"))
                                return -EPROTO;
                        has_te = true;
                } else if (token_eq(f->name, f->name_len, "connection")) {
                        if (list_has(f->value, f->value_len, "close"))
                                h->close = true;
                        if (list_has(f->value, f->value_len, "keep-alive"))
                                keep_alive = true;
                }
        }
        if (has_te && h->content_length >= 0)
                return -EPROTO;
        h->chunked = has_te;
        if (h->minor == 0 && !keep_alive)
                h->close = true;
        return 0;
}

int http_head_parse(const char *buf, size_t len, HttpHead *ret) {
        HttpHead *h = ret;
        size_t pos = 0;
        bool first = true;
        int r;

        memset(h, 0, sizeof(*h));
        if (len < 4 || len > HTTP_HEAD_MAX || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0)
                return -EPROTO;
        while (pos < len) {
                const char *p = buf + pos;
                const char *cr = memchr(p, '\r', len - pos);
                if (!cr || (size_t)(cr - buf) + 1 >= len || cr[1] != '\n')
                        return -EPROTO;
                size_t n = (size_t)(cr - p);
                if (memchr(p, '\n', n) || memchr(p, 0, n))
                        return -EPROTO; /* a bare LF or NUL */
                pos += n + 2;
                if (n == 0)
                        return pos == len && !first ? head_framing(h) : -EPROTO;
                r = first ? parse_status_line(p, n, h) : parse_field(p, n, h);
                if (r < 0)
                        return r;
                first = false;
        }
        return -EPROTO;
}

const char *http_head_get(const HttpHead *h, const char *name, size_t *ret_len) {
        for (size_t i = 0; i < h->n_fields; i++)
                if (token_eq(h->fields[i].name, h->fields[i].name_len, name)) {
                        if (ret_len)
                                *ret_len = h->fields[i].value_len;
                        return h->fields[i].value;
                }
        return NULL;
}

/* ---- URLs ---- */

int http_url_parse(const char *url, HttpUrl *ret) {
        HttpUrl u = {};
        const char *p;

        if (startswith(url, "http://"))
                p = url + 7;
        else if (startswith(url, "https://"))
                p = url + 8, u.https = true;
        else
                return -EINVAL;
        for (const char *s = url; *s; s++)
                if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '#')
                        return -EINVAL;
        size_t hl = strcspn(p, "/?");
        const char *hp = p, *end = p + hl, *colon = NULL;
        if (memchr(hp, '@', hl))
                return -EINVAL;
        if (*hp == '[') {
                const char *rb = memchr(hp, ']', hl);
                if (!rb || rb - hp - 1 <= 0 || (size_t)(rb - hp - 1) >= sizeof(u.host))
                        return -EINVAL;
                memcpy(u.host, hp + 1, (size_t)(rb - hp - 1));
                if (rb + 1 < end && rb[1] != ':')
                        return -EINVAL;
                colon = rb + 1 < end ? rb + 1 : NULL;
        } else {
                colon = memchr(hp, ':', hl);
                size_t n = colon ? (size_t)(colon - hp) : hl;
                if (n == 0 || n >= sizeof(u.host))
                        return -EINVAL;
                memcpy(u.host, hp, n);
        }
        u.port = u.https ? 443 : 80;
        if (colon) {
                unsigned long port = 0;
                const char *d = colon + 1;
                if (d == end)
                        return -EINVAL;
                for (; d < end; d++) {
                        if (!is_digit(*d) || (port = port * 10 + (unsigned long)(*d - '0')) > 65535)
                                return -EINVAL;
                }
                if (port == 0)
                        return -EINVAL;
                u.port = (uint16_t)port;
        }
        u.target = *end ? end : "/";
        *ret = u;
        return 0;
}

char *http_url_resolve(const char *base, const char *location) {
        char *s = NULL;
        if (startswith(location, "http://") || startswith(location, "https://"))
                return strdup(location);
        const char *after = strstr(base, "://");
        if (!after)
                return NULL;
        if (startswith(location, "//")) {
                if (asprintf(&s, "%.*s:%s", (int)(after - base), base, location) < 0)
                        return NULL;
                return s;
        }
        size_t hl = strcspn(after + 3, "/?");
        size_t origin = (size_t)(after + 3 - base) + hl;
        if (*location == '/') {
                if (asprintf(&s, "%.*s%s", (int)origin, base, location) < 0)
                        return NULL;
                return s;
        }
        /* relative to the base path's directory */
        const char *path = base + origin, *q = path + strcspn(path, "?");
        const char *slash = NULL;
        for (const char *x = path; x < q; x++)
                if (*x == '/')
                        slash = x;
        size_t keep = slash ? (size_t)(slash + 1 - base) : origin;
        if (asprintf(&s, "%.*s%s%s", (int)keep, base, slash ? "" : "/", location) < 0)
                return NULL;
        return s;
}

char *http_escape(const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(3 * n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~')
                        *o++ = (char)c;
                else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = 0;
        return out;
}

/* ---- connections ---- */

typedef struct HttpConn {
        int fd;
        char host[256];
        uint16_t port;
        char *buf;
        size_t start, end; /* unread bytes are buf[start..end) */
        int stall_ms;
} HttpConn;

struct HttpClient {
        pthread_mutex_t lock;
        HttpConn *idle[HTTP_POOL_MAX];
        size_t n_idle;
        unsigned opened, reused;
};

static void conn_free(HttpConn *k) {
        if (!k)
                return;
        safe_close(k->fd);
        free(k->buf);
        free(k);
}

HttpClient *http_client_new(void) {
        HttpClient *c = calloc(1, sizeof(*c));
        if (c)
                pthread_mutex_init(&c->lock, NULL);
        return c;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_idle; i++)
                conn_free(c->idle[i]);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

void http_client_stats(HttpClient *c, unsigned *ret_opened, unsigned *ret_reused) {
        pthread_mutex_lock(&c->lock);
        if (ret_opened)
                *ret_opened = c->opened;
        if (ret_reused)
                *ret_reused = c->reused;
        pthread_mutex_unlock(&c->lock);
}

static HttpConn *pool_take(HttpClient *c, const HttpUrl *u) {
        HttpConn *k = NULL;
        pthread_mutex_lock(&c->lock);
        for (size_t i = c->n_idle; i > 0; i--) {
                HttpConn *x = c->idle[i - 1];
                if (x->port == u->port && streq(x->host, u->host)) {
                        k = x;
                        c->idle[i - 1] = c->idle[--c->n_idle];
                        c->reused++;
                        break;
                }
        }
        pthread_mutex_unlock(&c->lock);
        return k;
}

static void pool_give(HttpClient *c, HttpConn *k) {
        pthread_mutex_lock(&c->lock);
        if (c->n_idle == HTTP_POOL_MAX) {
                conn_free(c->idle[0]);
                c->idle[0] = c->idle[--c->n_idle];
        }
        k->start = k->end = 0;
        c->idle[c->n_idle++] = k;
        pthread_mutex_unlock(&c->lock);
}

static int wait_fd(int fd, short events, int timeout_ms) {
        struct pollfd p = {.fd = fd, .events = events};
        for (;;) {
                int k = poll(&p, 1, timeout_ms);
                if (k > 0)
                        return 0;
                if (k == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

static int tcp_connect(const char *host, uint16_t port, int timeout_ms, int *ret_fd) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
        char service[8];
        int r = -EHOSTUNREACH;

        snprintf(service, sizeof(service), "%u", port);
        int g = getaddrinfo(host, service, &hints, &ai);
        if (g != 0)
                return g == EAI_NONAME || g == EAI_NODATA ? -ENXIO : -EHOSTUNREACH;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
                        if (errno != EINPROGRESS) {
                                r = -errno;
                                close(fd);
                                continue;
                        }
                        int soerr = 0;
                        socklen_t sl = sizeof(soerr);
                        r = wait_fd(fd, POLLOUT, timeout_ms);
                        if (r >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                                r = -errno;
                        else if (r >= 0 && soerr)
                                r = -soerr;
                        if (r < 0) {
                                close(fd);
                                continue;
                        }
                }
                int one = 1;
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                *ret_fd = fd;
                r = 0;
                break;
        }
        freeaddrinfo(ai);
        return r;
}

static int conn_open(HttpClient *c, const HttpUrl *u, int connect_ms, int stall_ms, HttpConn **ret) {
        HttpConn *k = calloc(1, sizeof(*k));
        if (!k || !(k->buf = malloc(HTTP_BUF_SIZE))) {
                free(k);
                return -ENOMEM;
        }
        k->fd = -1;
        snprintf(k->host, sizeof(k->host), "%s", u->host);
        k->port = u->port;
        int r = tcp_connect(u->host, u->port, connect_ms, &k->fd);
        if (r < 0) {
                conn_free(k);
                return r;
        }
        pthread_mutex_lock(&c->lock);
        c->opened++;
        pthread_mutex_unlock(&c->lock);
        k->stall_ms = stall_ms;
        *ret = k;
        return 0;
}

static int conn_send(HttpConn *k, const void *p, size_t n) {
        const char *s = p;
        while (n > 0) {
                ssize_t w = send(k->fd, s, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        int r = wait_fd(k->fd, POLLOUT, k->stall_ms);
                        if (r < 0)
                                return r;
                        continue;
                }
                s += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Send len bytes of fd from off: sendfile, or pread and send where sendfile cannot. */
static int conn_send_fd(HttpConn *k, int fd, uint64_t off, uint64_t len, HttpRequest *q) {
        uint64_t sent = 0;
        bool use_sendfile = true;
        while (sent < len) {
                size_t want = (size_t)MIN(len - sent, (uint64_t)(1u << 20));
                ssize_t w;
                if (use_sendfile) {
                        off_t o = (off_t)(off + sent);
                        w = sendfile(k->fd, fd, &o, want);
                        if (w < 0 && (errno == EINVAL || errno == ENOSYS)) {
                                use_sendfile = false;
                                continue;
                        }
                } else {
                        size_t n = MIN(want, (size_t)HTTP_BUF_SIZE);
                        ssize_t rd = pread(fd, k->buf, n, (off_t)(off + sent));
                        if (rd < 0)
                                return -errno;
                        if (rd == 0)
                                return -ENODATA;
                        int r = conn_send(k, k->buf, (size_t)rd);
                        if (r < 0)
                                return r;
                        w = rd;
                }
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        int r = wait_fd(k->fd, POLLOUT, k->stall_ms);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (w == 0)
                        return -ENODATA; /* the file shrank */
                sent += (uint64_t)w;
                if (q->on_sent)
                        q->on_sent(sent, q->userdata);
        }
        return 0;
}

/* Read more into the buffer (compacting it first); 0 at EOF, else the bytes read. */
static ssize_t conn_fill(HttpConn *k) {
        if (k->start > 0 && k->start == k->end)
                k->start = k->end = 0;
        if (k->end == HTTP_BUF_SIZE && k->start > 0) {
                memmove(k->buf, k->buf + k->start, k->end - k->start);
                k->end -= k->start;
                k->start = 0;
        }
        if (k->end == HTTP_BUF_SIZE)
                return -ENOBUFS;
        for (;;) {
                ssize_t n = recv(k->fd, k->buf + k->end, HTTP_BUF_SIZE - k->end, 0);
                if (n >= 0) {
                        k->end += (size_t)n;
                        return n;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                int r = wait_fd(k->fd, POLLIN, k->stall_ms);
                if (r < 0)
                        return r;
        }
}

/* A line (CRLF-terminated, at most max bytes) from the buffer; returns its length without CRLF and
 * sets *ret to its start (valid until the next fill). */
static ssize_t conn_line(HttpConn *k, size_t max, const char **ret) {
        size_t scanned = 0;
        for (;;) {
                char *s = k->buf + k->start;
                size_t avail = k->end - k->start;
                for (size_t i = scanned ? scanned - 1 : 0; i + 1 < avail; i++)
                        if (s[i] == '\r' && s[i + 1] == '\n') {
                                *ret = s;
                                k->start += i + 2;
                                return (ssize_t)i;
                        }
                scanned = avail;
                if (avail > max)
                        return -EPROTO;
                ssize_t n = conn_fill(k);
                if (n < 0)
                        return n;
                if (n == 0)
                        return -ECONNRESET;
        }
}

/* ---- one exchange ---- */

typedef struct Exchange {
        HttpConn *k;
        HttpHead head;
        bool got_bytes; /* any byte of an answer arrived */
        bool reusable;
} Exchange;

static int send_request(HttpConn *k, HttpRequest *q, const HttpUrl *u, const char *method, bool with_body) {
        VlBuf b = {};
        bool body_method = streq(method, "PUT") || streq(method, "POST") || streq(method, "PATCH");
        uint64_t blen = q->fd >= 0 ? q->fd_len : q->body_len;
        char line[64];
        int r = 0;

        if (vl_buf_append_str(&b, method) < 0 || vl_buf_append_char(&b, ' ') < 0 ||
            vl_buf_append_str(&b, u->target) < 0 || vl_buf_append_str(&b, " HTTP/1.1\r\nHost: ") < 0)
                r = -ENOMEM;
        bool v6 = strchr(u->host, ':') != NULL;
        if (r >= 0 && ((v6 && vl_buf_append_char(&b, '[') < 0) || vl_buf_append_str(&b, u->host) < 0 ||
                       (v6 && vl_buf_append_char(&b, ']') < 0)))
                r = -ENOMEM;
        if (r >= 0 && u->port != 80) {
                snprintf(line, sizeof(line), ":%u", u->port);
                r = vl_buf_append_str(&b, line) < 0 ? -ENOMEM : 0;
        }
        if (r >= 0 && vl_buf_append_str(&b, "\r\nUser-Agent: cpod\r\n") < 0)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < q->n_headers; i++) {
                /* a header with CR or LF would smuggle a second request */
                if (strpbrk(q->headers[i], "\r\n"))
                        r = -EINVAL;
                else if (vl_buf_append_str(&b, q->headers[i]) < 0 || vl_buf_append_str(&b, "\r\n") < 0)
                        r = -ENOMEM;
        }
        if (r >= 0 && (body_method || (with_body && blen > 0))) {
                snprintf(line, sizeof(line), "Content-Length: %" PRIu64 "\r\n", with_body ? blen : 0);
                r = vl_buf_append_str(&b, line) < 0 ? -ENOMEM : 0;
        }
        if (r >= 0 && vl_buf_append_str(&b, "\r\n") < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = conn_send(k, b.data, b.len);
        vl_buf_free(&b);
        if (r < 0 || !with_body || blen == 0)
                return r;
        if (q->fd >= 0)
                return conn_send_fd(k, q->fd, q->fd_off, q->fd_len, q);
        r = conn_send(k, q->body, q->body_len);
        if (r >= 0 && q->on_sent)
                q->on_sent(q->body_len, q->userdata);
        return r;
}

/* Read the head of the next non-1xx answer into x->head (pointing into the connection's buffer). */
static int read_head(Exchange *x) {
        HttpConn *k = x->k;
        for (;;) {
                int end;
                while ((end = http_head_end(k->buf + k->start, k->end - k->start)) == 0) {
                        ssize_t n = conn_fill(k);
                        if (n == -ENOBUFS)
                                return -E2BIG;
                        if (n < 0)
                                return (int)n;
                        if (n == 0)
                                return -ECONNRESET;
                        x->got_bytes = true;
                }
                if (end < 0)
                        return end;
                x->got_bytes = true;
                int r = http_head_parse(k->buf + k->start, (size_t)end, &x->head);
                if (r < 0)
                        return r;
                k->start += (size_t)end;
                if (x->head.status >= 200 || x->head.status == 101) {
                        if (x->head.status == 101)
                                return -EPROTO; /* we never ask to switch protocols */
                        return 0;
                }
                /* 1xx: skip to the real answer */
        }
}

/* Hand over up to n buffered or fresh body bytes; 0 at EOF. */
static ssize_t body_take(HttpConn *k, uint64_t want, const char **ret) {
        if (k->start == k->end) {
                k->start = k->end = 0;
                ssize_t n = conn_fill(k);
                if (n <= 0)
                        return n;
        }
        size_t n = (size_t)MIN((uint64_t)(k->end - k->start), want);
        *ret = k->buf + k->start;
        k->start += n;
        return (ssize_t)n;
}

static int deliver(HttpRequest *q, const char *p, size_t n, bool deliver_body) {
        if (!deliver_body || !q->on_data || n == 0)
                return 0;
        int r = q->on_data(p, n, q->userdata);
        if (r < 0)
                q->aborted = true;
        return r < 0 ? r : 0;
}

static int read_sized(Exchange *x, HttpRequest *q, uint64_t len, bool to_user) {
        while (len > 0) {
                const char *p;
                ssize_t n = body_take(x->k, len, &p);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return -EPIPE; /* closed early */
                int r = deliver(q, p, (size_t)n, to_user);
                if (r < 0)
                        return r;
                len -= (uint64_t)n;
        }
        return 0;
}

static int read_chunked(Exchange *x, HttpRequest *q, bool to_user) {
        for (;;) {
                const char *line;
                ssize_t n = conn_line(x->k, HTTP_CHUNK_LINE_MAX, &line);
                if (n < 0)
                        return n == -ECONNRESET ? -EPIPE : (int)n;
                uint64_t size = 0;
                size_t i = 0;
                for (; i < (size_t)n; i++) {
                        char c = line[i];
                        int d = is_digit(c)              ? c - '0'
                                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                         : -1;
                        if (d < 0)
                                break;
                        if (size >> 59)
                                return -EPROTO;
                        size = size * 16 + (uint64_t)d;
                }
                /* at least one digit, then nothing or chunk extensions */
                if (i == 0 || (i < (size_t)n && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
                        return -EPROTO;
                if (size == 0)
                        break;
                int r = read_sized(x, q, size, to_user);
                if (r < 0)
                        return r;
                n = conn_line(x->k, 2, &line);
                if (n < 0)
                        return n == -ECONNRESET ? -EPIPE : (int)n;
                if (n != 0)
                        return -EPROTO;
        }
        /* trailers, up to the empty line */
        size_t total = 0;
        for (;;) {
                const char *line;
                ssize_t n = conn_line(x->k, HTTP_CHUNK_LINE_MAX * 8, &line);
                if (n < 0)
                        return n == -ECONNRESET ? -EPIPE : (int)n;
                if (n == 0)
                        return 0;
                total += (size_t)n;
                if (total > HTTP_TRAILERS_MAX)
                        return -EPROTO;
        }
}

static int read_to_close(Exchange *x, HttpRequest *q, bool to_user) {
        for (;;) {
                const char *p;
                ssize_t n = body_take(x->k, UINT64_MAX, &p);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return 0;
                int r = deliver(q, p, (size_t)n, to_user);
                if (r < 0)
                        return r;
        }
}

static int read_body(Exchange *x, HttpRequest *q, const char *method, bool to_user) {
        const HttpHead *h = &x->head;
        x->reusable = !h->close;
        if (streq(method, "HEAD") || h->status == 204 || h->status == 304 || h->status < 200)
                return 0;
        if (h->chunked)
                return read_chunked(x, q, to_user);
        if (h->content_length >= 0)
                return read_sized(x, q, (uint64_t)h->content_length, to_user);
        x->reusable = false;
        return read_to_close(x, q, to_user);
}

static bool is_redirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static const char *errno_text(int r) {
        switch (r) {
        case -ETIMEDOUT:
                return "timed out (no data moved)";
        case -EPIPE:
                return "the connection closed before the answer was complete";
        case -EPROTO:
                return "malformed HTTP answer";
        case -E2BIG:
                return "the answer's head is too large";
        case -ENXIO:
                return "could not resolve host";
        case -ENODATA:
                return "the request body ended early";
        default:
                return strerror(-r);
        }
}

static int map_errno(int r) {
        if (r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -ENETUNREACH)
                return r;
        if (r == -ENXIO)
                return -EHOSTUNREACH;
        if (r == -EPROTO || r == -E2BIG)
                return -EPROTO;
        if (r == -ENOMEM || r == -EINVAL)
                return r;
        return -EIO;
}

/* One request on one connection (fresh or pooled); follows nothing. */
static int exchange_once(HttpClient *c, HttpRequest *q, const HttpUrl *u, const char *method, bool with_body,
                         bool *ret_redirect, char **ret_location) {
        int connect_ms = q->connect_timeout_ms > 0 ? q->connect_timeout_ms : HTTP_CONNECT_TIMEOUT;
        int stall_ms = q->stall_timeout_ms > 0 ? q->stall_timeout_ms : HTTP_STALL_TIMEOUT;
        Exchange x = {};
        int r;

        for (int attempt = 0;; attempt++) {
                x = (Exchange){};
                x.k = attempt == 0 ? pool_take(c, u) : NULL;
                q->reused = x.k != NULL;
                if (!x.k) {
                        r = conn_open(c, u, connect_ms, stall_ms, &x.k);
                        if (r < 0)
                                return r;
                }
                x.k->stall_ms = stall_ms;
                r = send_request(x.k, q, u, method, with_body);
                if (r >= 0)
                        r = read_head(&x);
                /* A kept-alive connection the server had closed: once more on a new one. */
                if (r < 0 && q->reused && !x.got_bytes && r != -ENOMEM && r != -EINVAL) {
                        conn_free(x.k);
                        continue;
                }
                break;
        }
        if (r < 0) {
                conn_free(x.k);
                return r;
        }
        q->status = x.head.status;
        snprintf(q->reason, sizeof(q->reason), "%.*s", (int)MIN(x.head.reason_len, sizeof(q->reason) - 1),
                 x.head.reason);
        size_t ll = 0;
        const char *loc = http_head_get(&x.head, "location", &ll);
        *ret_redirect = is_redirect(x.head.status) && loc;
        if (*ret_redirect && !(*ret_location = strndup(loc, ll))) {
                conn_free(x.k);
                return -ENOMEM;
        }
        if (!*ret_redirect && q->on_head) {
                r = q->on_head(&x.head, q->userdata);
                if (r < 0) {
                        q->aborted = true;
                        conn_free(x.k);
                        return r;
                }
        }
        r = read_body(&x, q, method, !*ret_redirect);
        if (r < 0 || !x.reusable || x.k->start != x.k->end)
                conn_free(x.k);
        else
                pool_give(c, x.k);
        return r;
}

int http_perform(HttpClient *c, HttpRequest *q, CpodError *err) {
        _cleanup_free_ char *url = strdup(q->url ? q->url : "");
        const char *method = q->method;
        bool with_body = true;
        int r;

        free(q->effective_url);
        free(q->redirect_url);
        q->effective_url = q->redirect_url = NULL;
        q->status = 0;
        q->reason[0] = 0;
        q->aborted = false;
        if (!url)
                return cpod_error(err, ENOMEM, "out of memory");
        for (unsigned hop = 0;; hop++) {
                HttpUrl u;
                _cleanup_free_ char *location = NULL;
                bool redirect = false;
                if (http_url_parse(url, &u) < 0 || u.https)
                        return cpod_error(err, EINVAL, "%s %.200s: not an http URL", method, url);
                r = exchange_once(c, q, &u, method, with_body, &redirect, &location);
                if (r < 0) {
                        if (q->aborted)
                                return r; /* a callback's refusal: its owner tells why */
                        return cpod_error(err, -map_errno(r), "%s %s: %s", method, url, errno_text(r));
                }
                if (!redirect) {
                        if (hop > 0)
                                q->effective_url = TAKE_PTR(url);
                        return 0;
                }
                _cleanup_free_ char *next = http_url_resolve(url, location);
                if (!next)
                        return cpod_error(err, ENOMEM, "out of memory");
                if (startswith(next, "https://")) {
                        q->redirect_url = TAKE_PTR(next);
                        if (hop > 0)
                                q->effective_url = TAKE_PTR(url);
                        return 0;
                }
                if (hop + 1 >= HTTP_MAX_REDIRECTS)
                        return cpod_error(err, ELOOP, "%s %s: more than %u redirects", method, url,
                                          HTTP_MAX_REDIRECTS);
                if (q->status == 303 && !streq(method, "HEAD")) {
                        method = "GET";
                        with_body = false;
                }
                free(url);
                url = TAKE_PTR(next);
        }
}

void http_request_done(HttpRequest *q) {
        free(q->effective_url);
        free(q->redirect_url);
        q->effective_url = q->redirect_url = NULL;
}

/* ---- the TLS probe ---- */

static size_t client_hello(const char *host, uint8_t *out, size_t cap) {
        /* TLS 1.2 ClientHello: common suites, SNI when host is a name. */
        static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0,
                                         0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8,
                                         0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35};
        /* supported_groups, ec_point_formats, signature_algorithms, supported_versions (1.3, 1.2) */
        static const uint8_t ext_fixed[] = {
                0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, /* groups */
                0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                                     /* points */
                0x00, 0x0d, 0x00, 0x0e, 0x00, 0x0c, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
                0x05, 0x03, 0x08, 0x05, 0x05, 0x01,                   /* sigalgs */
                0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, /* versions */
        };
        size_t hl = strlen(host), n = 0;
        bool sni = hl > 0 && hl < 200 && strspn(host, "0123456789.:") != hl;
        uint8_t *p = out;
        if (cap < 512)
                return 0;
        p[n++] = 0x16, p[n++] = 0x03, p[n++] = 0x01; /* record: handshake, TLS 1.0 for compatibility */
        size_t rec_len_at = n;
        n += 2;
        p[n++] = 0x01; /* ClientHello */
        size_t hs_len_at = n;
        n += 3;
        p[n++] = 0x03, p[n++] = 0x03;
        /* random: an HTTP server sees an empty line here and answers the malformed request at once */
        static const char random[33] = "\r\n\r\ncpod-scheme-probe-----\r\n\r\n..";
        memcpy(p + n, random, 32);
        n += 32;
        p[n++] = 0; /* no session id */
        p[n++] = 0, p[n++] = sizeof(suites);
        memcpy(p + n, suites, sizeof(suites));
        n += sizeof(suites);
        p[n++] = 1, p[n++] = 0; /* compression: null */
        size_t ext_len_at = n;
        n += 2;
        if (sni) {
                p[n++] = 0, p[n++] = 0;
                p[n++] = (uint8_t)((hl + 5) >> 8), p[n++] = (uint8_t)(hl + 5);
                p[n++] = (uint8_t)((hl + 3) >> 8), p[n++] = (uint8_t)(hl + 3);
                p[n++] = 0;
                p[n++] = (uint8_t)(hl >> 8), p[n++] = (uint8_t)hl;
                memcpy(p + n, host, hl);
                n += hl;
        }
        memcpy(p + n, ext_fixed, sizeof(ext_fixed));
        n += sizeof(ext_fixed);
        size_t ext_len = n - ext_len_at - 2, hs_len = n - hs_len_at - 3, rec_len = n - rec_len_at - 2;
        p[ext_len_at] = (uint8_t)(ext_len >> 8), p[ext_len_at + 1] = (uint8_t)ext_len;
        p[hs_len_at] = 0, p[hs_len_at + 1] = (uint8_t)(hs_len >> 8), p[hs_len_at + 2] = (uint8_t)hs_len;
        p[rec_len_at] = (uint8_t)(rec_len >> 8), p[rec_len_at + 1] = (uint8_t)rec_len;
        return n;
}

int http_probe_tls(const char *host, uint16_t port, int timeout_ms, CpodError *err) {
        _cleanup_close_ int fd = -1;
        uint8_t hello[1024], answer[8];
        size_t got = 0;
        int r;

        timeout_ms = timeout_ms > 0 ? timeout_ms : HTTP_CONNECT_TIMEOUT;
        r = tcp_connect(host, port, timeout_ms, &fd);
        if (r < 0)
                return cpod_error(err, -map_errno(r), "connect to %s:%u: %s", host, port, errno_text(r));
        size_t n = client_hello(host, hello, sizeof(hello));
        HttpConn k = {.fd = fd, .stall_ms = timeout_ms};
        r = conn_send(&k, hello, n);
        /* A server that closes on the hello before reading it all may reset the connection: that
         * is not TLS either. */
        while (r >= 0 && got < 5) {
                ssize_t m = recv(fd, answer + got, 5 - got, 0);
                if (m > 0) {
                        got += (size_t)m;
                        if (answer[0] == 0x15 || answer[0] == 0x16)
                                break;
                        continue;
                }
                if (m == 0)
                        break;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN) {
                        r = -errno;
                        break;
                }
                r = wait_fd(fd, POLLIN, timeout_ms);
        }
        if (r == -ETIMEDOUT)
                return cpod_error(err, ETIMEDOUT, "probe %s:%u for TLS: no answer", host, port);
        if (got > 0 && (answer[0] == 0x15 || answer[0] == 0x16))
                return 1;
        if (got == 0 && (r >= 0 || r == -ECONNRESET || r == -EPIPE))
                return 0; /* closed on us: no TLS server does that to a hello */
        if (got >= 5 && memcmp(answer, "HTTP/", 5) == 0)
                return 0;
        if (r < 0 && r != -ECONNRESET && r != -EPIPE)
                return cpod_error(err, -map_errno(r), "probe %s:%u for TLS: %s", host, port, errno_text(r));
        if (got > 0 && got < 5 && memcmp(answer, "HTTP/", got) == 0)
                return 0;
        return cpod_error(err, EPROTO, "probe %s:%u for TLS: the server answers neither TLS nor HTTP", host,
                          port);
}
