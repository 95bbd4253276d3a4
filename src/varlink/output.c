/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <math.h>

#include "varlink-tool.h"

bool cli_color(void) {
        static int cached = -1;

        if (cached < 0) {
                const char *nc = getenv("NO_COLOR");
                cached = isatty(STDOUT_FILENO) && !(nc && *nc);
        }
        return cached;
}

int cli_parse_json_mode(const char *s, CliJsonMode *ret) {
        if (streq(s, "pretty"))
                *ret = CLI_JSON_PRETTY;
        else if (streq(s, "short"))
                *ret = CLI_JSON_SHORT;
        else {
                fprintf(stderr, "varlink: --json= takes 'pretty' or 'short', not '%s'\n", s);
                return -EINVAL;
        }
        return 0;
}

int cli_print_json(const VlJson *v, CliJsonMode mode) {
        VlBuf b = VL_BUF_INIT;
        unsigned flags = VL_JSON_FORMAT_NEWLINE;
        int r;

        if (mode == CLI_JSON_PRETTY)
                flags |= VL_JSON_FORMAT_PRETTY;
        if (cli_color())
                flags |= VL_JSON_FORMAT_COLOR;
        r = vl_json_write(&b, v, flags);
        if (r >= 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
                r = -EIO;
        vl_buf_free(&b);
        return r;
}

int cli_call_failed(const char *what, int r) {
        switch (-r) {
        case ETIMEDOUT:
                fprintf(stderr, "varlink: %s: timed out\n", what);
                return CLI_EXIT_TIMEOUT;
        case ECONNRESET:
        case EPIPE:
        case ENOTCONN:
        case ESHUTDOWN:
                fprintf(stderr, "varlink: %s: connection closed by the service\n", what);
                return CLI_EXIT_CONNECTION_CLOSED;
        case EPROTO:
        case EBADMSG:
        case E2BIG:
                fprintf(stderr, "varlink: %s: invalid message from the service: %s\n", what, strerror(-r));
                return CLI_EXIT_INVALID_MESSAGE;
        case EINTR:
        case ECANCELED:
                fprintf(stderr, "varlink: %s: canceled\n", what);
                return CLI_EXIT_CANCELED;
        case ENOMEM:
                fprintf(stderr, "varlink: out of memory\n");
                return CLI_EXIT_PANIC;
        default:
                fprintf(stderr, "varlink: %s failed: %s\n", what, strerror(-r));
                return CLI_EXIT_CALL_FAILED;
        }
}

int cli_parse_timeout(const char *s, uint64_t *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(d) || d < 0 || d > 1e9)
                return -EINVAL;
        *ret = (uint64_t)(d * 1e6);
        /* "0.0000001" must not mean "no timeout". */
        if (*ret == 0 && d > 0)
                *ret = 1;
        return 0;
}

int cli_read_fd(int fd, char **ret, size_t *ret_len) {
        size_t len = 0, cap = 4096;
        char *p = malloc(cap);

        if (!p)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (cap - len < 2) {
                        char *q = cap > SIZE_MAX / 2 ? NULL : realloc(p, cap * 2);
                        if (!q) {
                                free(p);
                                return -ENOMEM;
                        }
                        p = q;
                        cap *= 2;
                }
                n = read(fd, p + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        free(p);
                        return -e;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        p[len] = '\0';
        *ret = p;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int cli_read_file(const char *path, char **ret, size_t *ret_len) {
        int fd, r;

        if (streq(path, "-"))
                return cli_read_fd(STDIN_FILENO, ret, ret_len);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = cli_read_fd(fd, ret, ret_len);
        close(fd);
        return r;
}

int cli_write_all(int fd, const void *p, size_t n) {
        const char *c = p;

        while (n > 0) {
                ssize_t k = write(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                c += k;
                n -= (size_t)k;
        }
        return 0;
}

int cli_simple_call(VlClient *c, const char *method, const VlJson *params, VlJson **ret_params) {
        _cleanup_json_ VlJson *reply = NULL;
        const char *error = NULL;
        char what[256];
        int r;

        snprintf(what, sizeof what, "call %s()", method);
        r = vl_client_call(c, method, params, 0, &reply, &error);
        if (r < 0)
                return cli_call_failed(what, r);
        if (error) {
                _cleanup_free_ char *s = NULL;

                if (vl_json_object_length(reply) > 0)
                        s = vl_json_to_string(reply, VL_JSON_FORMAT_COMPACT);
                fprintf(stderr, "varlink: %s failed: %s%s%s\n", what, error, s ? " " : "", s ? s : "");
                return CLI_EXIT_REMOTE_ERROR;
        }
        *ret_params = reply;
        reply = NULL;
        return CLI_EXIT_OK;
}

int cli_get_interface(VlClient *c, const char *interface, VlInterface **ret, char **ret_description) {
        _cleanup_json_ VlJson *params = NULL, *reply = NULL;
        VlIdlError err = {};
        const char *description;
        int r;

        params = vl_json_new_object();
        if (!params || vl_json_object_set_string(params, "interface", interface) < 0)
                return cli_call_failed("GetInterfaceDescription", -ENOMEM);
        r = cli_simple_call(c, "org.varlink.service.GetInterfaceDescription", params, &reply);
        if (r != CLI_EXIT_OK)
                return r;
        description = vl_json_get_string(vl_json_object_get(reply, "description"));
        if (!description) {
                fprintf(stderr, "varlink: the service sent no description of %s\n", interface);
                return CLI_EXIT_INVALID_MESSAGE;
        }
        if (ret_description && !(*ret_description = strdup(description)))
                return cli_call_failed("GetInterfaceDescription", -ENOMEM);
        r = vl_interface_parse(description, strlen(description), ret, &err);
        if (r == -ENOMEM)
                return cli_call_failed("GetInterfaceDescription", r);
        if (r < 0) {
                *ret = NULL;
                if (!ret_description)
                        fprintf(stderr, "varlink: the description of %s does not parse: %u:%u: %s\n",
                                interface, err.line, err.column, err.message);
                return CLI_EXIT_INVALID_MESSAGE;
        }
        return CLI_EXIT_OK;
}
