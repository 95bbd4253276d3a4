/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The events log: one JSON object per line in <runroot>/events/events.log,
 * appended with O_APPEND in a single write so concurrent writers never
 * interleave a line.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "container-internal.h"
#include "engine-internal.h"
#include "util.h"

int events_write(Engine *e, const char *type, const char *status, const char *id, const char *name,
                 const char *image, CpodError *err) {
        char path[4200], when[48];
        VlBuf b = VL_BUF_INIT;
        int64_t now = ctr_now_nsec();

        ctr_format_rfc3339nano(now, when, sizeof when);
        int r = vl_buf_append_str(&b, "{\"Time\":\"");
        r = r < 0 ? r : vl_buf_append_str(&b, when);
        r = r < 0 ? r : vl_buf_append_str(&b, "\",\"Type\":");
        r = r < 0 ? r : vl_json_write_string(&b, type, strlen(type), 0);
        r = r < 0 ? r : vl_buf_append_str(&b, ",\"Status\":");
        r = r < 0 ? r : vl_json_write_string(&b, status, strlen(status), 0);
        if (id && r >= 0) {
                r = vl_buf_append_str(&b, ",\"ID\":");
                r = r < 0 ? r : vl_json_write_string(&b, id, strlen(id), 0);
        }
        if (name && r >= 0) {
                r = vl_buf_append_str(&b, ",\"Name\":");
                r = r < 0 ? r : vl_json_write_string(&b, name, strlen(name), 0);
        }
        if (image && r >= 0) {
                r = vl_buf_append_str(&b, ",\"Image\":");
                r = r < 0 ? r : vl_json_write_string(&b, image, strlen(image), 0);
        }
        char tn[48];
        snprintf(tn, sizeof tn, ",\"timeNano\":%lld}\n", (long long)now);
        r = r < 0 ? r : vl_buf_append_str(&b, tn);
        if (r < 0) {
                vl_buf_free(&b);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        snprintf(path, sizeof path, "%s/events", e->runroot);
        (void)mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/events/events.log", e->runroot);
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                vl_buf_free(&b);
                return cpod_error_errno(err, errno, "open `%s`", path);
        }
        ssize_t n = write(fd, b.data, b.len);
        int k = errno;
        close(fd);
        r = n == (ssize_t)b.len ? 0 : cpod_error_errno(err, n < 0 ? k : EIO, "write `%s`", path);
        vl_buf_free(&b);
        return r;
}
