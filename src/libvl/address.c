/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink addresses: "unix:/path[;mode=0660]", "unix:@abstract",
 * "tcp:host:port", "tcp:[v6]:port", "exec:/path". Parsing is strict: a
 * parameter we do not know is an error rather than something dropped (as
 * libvarlink does with everything after ';').
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <vl/transport.h>

#include "util.h"

/* sun_path holds 108 bytes: a path and its NUL, or a NUL and the name. */
#define MAX_UNIX_PATH (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* "0660" → 0660; up to 07777, octal digits only. */
static int parse_mode(const char *s, int *ret) {
        int mode = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '7')
                        return -EINVAL;
                mode = mode * 8 + (*s - '0');
                if (mode > 07777)
                        return -EINVAL;
        }
        *ret = mode;
        return 0;
}

/* A decimal port in 1..65535, normalized (no leading zeros). */
static int parse_port(const char *s, size_t len, char **ret) {
        unsigned long port = 0;

        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                port = port * 10 + (unsigned long)(s[i] - '0');
                if (port > 65535)
                        return -EINVAL;
        }
        if (port == 0)
                return -EINVAL;

        char buf[8];
        snprintf(buf, sizeof(buf), "%lu", port);
        char *p = strdup(buf);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* "key=value;..." after a unix path's ';'; only mode= exists. */
static int parse_unix_params(const char *params, int *mode) {
        for (const char *p = params;;) {
                size_t len = strcspn(p, ";");
                _cleanup_free_ char *field = strndup(p, len);
                if (!field)
                        return -ENOMEM;

                const char *v = startswith(field, "mode=");
                if (!v || *mode >= 0)
                        return -EINVAL; /* unknown, empty or repeated */
                int r = parse_mode(v, mode);
                if (r < 0)
                        return r;

                if (!p[len])
                        return 0;
                p += len + 1;
        }
}

static int parse_unix(const char *rest, VlAddress *a) {
        const char *semi = strchr(rest, ';');
        size_t len = semi ? (size_t)(semi - rest) : strlen(rest);

        if (rest[0] == '@') {
                /* Abstract: no file, so no mode either. */
                if (semi || len < 2 || len - 1 > MAX_UNIX_PATH)
                        return -EINVAL;
                a->kind = VL_ADDRESS_ABSTRACT;
                a->path = strndup(rest + 1, len - 1);
                return a->path ? 0 : -ENOMEM;
        }

        if (len == 0 || len > MAX_UNIX_PATH)
                return -EINVAL;
        if (semi) {
                int r = parse_unix_params(semi + 1, &a->mode);
                if (r < 0)
                        return r;
        }
        a->kind = VL_ADDRESS_UNIX;
        a->path = strndup(rest, len);
        return a->path ? 0 : -ENOMEM;
}

static int parse_tcp(const char *rest, VlAddress *a) {
        const char *host, *colon;
        size_t host_len;

        if (strchr(rest, ';'))
                return -EINVAL; /* tcp: has no parameters */

        if (rest[0] == '[') {
                const char *end = strchr(rest, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                host = rest + 1;
                host_len = (size_t)(end - host);
                colon = end + 1;
        } else {
                colon = strrchr(rest, ':');
                if (!colon)
                        return -EINVAL;
                host = rest;
                host_len = (size_t)(colon - rest);
                if (memchr(host, ':', host_len))
                        return -EINVAL; /* an IPv6 address needs brackets */
        }
        if (host_len == 0 || memchr(host, '[', host_len) || memchr(host, ']', host_len))
                return -EINVAL;

        int r = parse_port(colon + 1, strlen(colon + 1), &a->port);
        if (r < 0)
                return r;
        a->kind = VL_ADDRESS_TCP;
        a->host = strndup(host, host_len);
        return a->host ? 0 : -ENOMEM;
}

_public_ int vl_address_parse(const char *address, VlAddress *ret) {
        VlAddress a = {.mode = -1};
        const char *rest;
        int r;

        if (!address || !ret)
                return -EINVAL;

        if ((rest = startswith(address, "unix:")))
                r = parse_unix(rest, &a);
        else if ((rest = startswith(address, "tcp:")))
                r = parse_tcp(rest, &a);
        else if ((rest = startswith(address, "exec:"))) {
                /* The whole rest is the command: ';' may be part of a path. */
                if (!*rest)
                        r = -EINVAL;
                else {
                        a.kind = VL_ADDRESS_EXEC;
                        a.path = strdup(rest);
                        r = a.path ? 0 : -ENOMEM;
                }
        } else
                r = -EINVAL;

        if (r < 0) {
                vl_address_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

_public_ void vl_address_done(VlAddress *a) {
        if (!a)
                return;
        free(a->path);
        free(a->host);
        free(a->port);
        a->path = a->host = a->port = NULL;
        a->mode = -1;
}
