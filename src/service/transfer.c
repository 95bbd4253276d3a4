/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte transfers over upgraded connections and the staging rule of `cpod cp`, for the service and for
 * remote mode alike. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "layer.h"
#include "transfer.h"
#include "util.h"

int transfer_write_all(int fd, const void *p, size_t n) {
        const char *c = p;

        while (n > 0) {
                ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
                if (k < 0 && errno == ENOTSOCK)
                        k = write(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                c += k;
                n -= (size_t)k;
        }
        return 0;
}

int transfer_copy(int out, int fd, uint64_t size, char *buf) {
        bool use_sendfile = true;

        while (size > 0) {
                size_t want = size < (1u << 30) ? (size_t)size : (1u << 30);
                ssize_t k;
                if (use_sendfile) {
                        k = sendfile(out, fd, NULL, want);
                        if (k < 0 && (errno == EINVAL || errno == ENOSYS)) {
                                use_sendfile = false;
                                continue;
                        }
                } else {
                        k = read(fd, buf, want < TRANSFER_CHUNK ? want : TRANSFER_CHUNK);
                        if (k > 0) {
                                int r = transfer_write_all(out, buf, (size_t)k);
                                if (r < 0)
                                        return r;
                        }
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                size -= (uint64_t)k;
        }
        return 0;
}

int transfer_copy_entry(const char *path, char **ret, bool *ret_contents) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        size_t l = strlen(p);
        bool contents = false;
        for (;;) {
                while (l > 1 && p[l - 1] == '/')
                        p[--l] = '\0';
                if (streq(p, ".") || (l >= 2 && p[l - 1] == '.' && p[l - 2] == '/')) {
                        contents = true;
                        p[--l] = '\0';
                        if (l == 0)
                                break;
                        continue;
                }
                break;
        }
        const char *name = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
        if (!*name || streq(name, ".")) {
                name = "root";
                contents = true;
        }
        if (streq(name, ".."))
                return -EINVAL;
        if (!(*ret = strdup(name)))
                return -ENOMEM;
        *ret_contents = contents;
        return 0;
}

int transfer_stage_open(TransferStage *st, const char *dir, const char *prefix, CpodError *err) {
        snprintf(st->path, sizeof(st->path), "%s/%sXXXXXX", dir, prefix);
        if (!mkdtemp(st->path))
                return cpod_error_errno(err, errno, "create a staging directory in `%s`", dir);
        st->fd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (st->fd < 0) {
                int r = cpod_error_errno(err, errno, "open `%s`", st->path);
                (void)rmdir(st->path);
                return r;
        }
        return 0;
}

void transfer_stage_done(TransferStage *st) {
        char *slash = strrchr(st->path, '/');

        st->fd = safe_close(st->fd);
        if (!slash)
                return;
        *slash = '\0';
        _cleanup_close_ int dir = open(*st->path ? st->path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0)
                (void)layer_rm_rf_at(dir, slash + 1);
}

void transfer_message_replace(CpodError *err, const char *from, const char *to) {
        char out[sizeof(err->message)];
        size_t n = 0, fl = strlen(from), tl = strlen(to);
        const char *s = err->message;

        if (!fl)
                return;
        while (*s && n + 1 < sizeof(out)) {
                if (strncmp(s, from, fl) == 0 && n + tl + 1 < sizeof(out)) {
                        memcpy(out + n, to, tl);
                        n += tl;
                        s += fl;
                } else
                        out[n++] = *s++;
        }
        out[n] = '\0';
        memcpy(err->message, out, n + 1);
}

int transfer_temp_file(char **ret, CpodError *err) {
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/cpod-export-XXXXXX", tmp && tmp[0] ? tmp : "/var/tmp") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
                return cpod_error_errno(err, errno, "creating a temporary file `%s`", path);
        close(fd);
        *ret = TAKE_PTR(path);
        return 0;
}
