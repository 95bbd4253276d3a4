/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing a directory tree as a pax tar stream: entries in sorted order
 * (reproducible output), hard links kept, xattrs as pax records, overlay
 * whiteouts (0/0 character devices, the opaque xattr) turned back into OCI
 * .wh. entries when asked, or left out (export of a merged view).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dl.h"
#include "layer.h"
#include "util.h"

#define TW_MAX_PATH  4096u
#define TW_MAX_DEPTH 1024u
#define TW_BUF_SIZE  (128u * 1024u)
#define TW_XATTR_MAX (64u * 1024u)

typedef struct InodeName {
        dev_t dev;
        ino_t ino;
        char *path;
} InodeName;

typedef struct TarWriter {
        struct archive *a;
        int out_fd;
        bool whiteouts;
        CpodError *err;
        InodeName *links;
        size_t n_links, cap_links;
        char *buf;
        int write_errno;
} TarWriter;

static la_ssize_t tw_write_cb(struct archive *a, void *userdata, const void *p, size_t n) {
        TarWriter *w = userdata;
        const uint8_t *q = p;
        size_t left = n;

        (void)a;
        while (left > 0) {
                ssize_t k = write(w->out_fd, q, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        w->write_errno = errno;
                        return -1;
                }
                q += k;
                left -= (size_t)k;
        }
        return (la_ssize_t)n;
}

static int tw_archive_fail(TarWriter *w, const char *path) {
        if (w->write_errno)
                return cpod_error_errno(w->err, w->write_errno, "write tar stream");
        return cpod_error(w->err, EIO, "write tar entry `%s`: %s", path,
                          archive_error_string(w->a) ? archive_error_string(w->a) : "unknown error");
}

static bool tw_xattr_wanted(const char *name) {
        if (startswith(name, "trusted.overlay."))
                return false;
        return startswith(name, "user.") || startswith(name, "trusted.") ||
               streq(name, "security.capability");
}

static int tw_add_xattrs(TarWriter *w, int fd, struct archive_entry *ae, bool *ret_opaque) {
        char names[TW_XATTR_MAX], value[TW_XATTR_MAX];
        ssize_t n = flistxattr(fd, names, sizeof(names));

        *ret_opaque = false;
        if (n < 0)
                return errno == ENOTSUP || errno == ERANGE ? 0 : -errno;
        for (char *p = names; p < names + n; p += strlen(p) + 1) {
                if (streq(p, "trusted.overlay.opaque")) {
                        ssize_t v = fgetxattr(fd, p, value, sizeof(value));
                        *ret_opaque = v == 1 && value[0] == 'y';
                        continue;
                }
                if (!tw_xattr_wanted(p))
                        continue;
                ssize_t v = fgetxattr(fd, p, value, sizeof(value));
                if (v >= 0)
                        archive_entry_xattr_add_entry(ae, p, value, (size_t)v);
        }
        return 0;
}

static int tw_copy_data(TarWriter *w, int fd, const char *path) {
        ssize_t n;

        while ((n = read(fd, w->buf, TW_BUF_SIZE)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cpod_error_errno(w->err, errno, "read `%s`", path);
                if (archive_write_data(w->a, w->buf, (size_t)n) != n)
                        return tw_archive_fail(w, path);
        }
        return 0;
}

/* Emit an empty regular file: OCI whiteout and opaque markers. */
static int tw_marker(TarWriter *w, const char *path, const struct stat *st) {
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return cpod_error(w->err, ENOMEM, "out of memory");
        archive_entry_set_pathname(ae, path);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_mtime(ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        int r = archive_write_header(w->a, ae) >= ARCHIVE_WARN ? 0 : tw_archive_fail(w, path);
        archive_entry_free(ae);
        return r;
}

/* A second name of an inode already written becomes a hard link entry. */
static const char *tw_hardlink_of(TarWriter *w, const struct stat *st, const char *path) {
        if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
                return NULL;
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
                        return w->links[i].path;
        char *copy = strdup(path);
        if (copy && VL_GROW(w->links, w->cap_links, w->n_links + 1) >= 0)
                w->links[w->n_links++] = (InodeName){st->st_dev, st->st_ino, copy};
        else
                free(copy);
        return NULL;
}

static int tw_walk(TarWriter *w, int dir_fd, char *path, size_t len, unsigned depth);

static int tw_entry(TarWriter *w, int dir_fd, const char *name, char *path, size_t len, unsigned depth) {
        struct stat st;
        _cleanup_close_ int fd = -1;
        bool opaque = false;
        int r = 0;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cpod_error_errno(w->err, errno, "stat `%s`", path);
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                if (!w->whiteouts)
                        return 0;
                char wh[TW_MAX_PATH + 8];
                const char *slash = strrchr(path, '/');
                size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
                snprintf(wh, sizeof(wh), "%.*s.wh.%s", (int)dlen, path, name);
                return tw_marker(w, wh, &st);
        }
        if (S_ISSOCK(st.st_mode))
                return 0; /* sockets do not travel in tarballs */

        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return cpod_error(w->err, ENOMEM, "out of memory");
        archive_entry_copy_stat(ae, &st);
        archive_entry_set_pathname(ae, path);
        if (!S_ISREG(st.st_mode))
                archive_entry_set_size(ae, 0);
        const char *link = tw_hardlink_of(w, &st, path);
        if (link) {
                archive_entry_set_hardlink(ae, link);
                archive_entry_set_size(ae, 0);
        } else if (S_ISLNK(st.st_mode)) {
                char target[TW_MAX_PATH + 1];
                ssize_t n = readlinkat(dir_fd, name, target, TW_MAX_PATH);
                if (n < 0) {
                        r = cpod_error_errno(w->err, errno, "read link `%s`", path);
                        goto out;
                }
                target[n] = 0;
                archive_entry_set_symlink(ae, target);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                fd = openat(dir_fd, name,
                            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (fd < 0) {
                        r = cpod_error_errno(w->err, errno, "open `%s`", path);
                        goto out;
                }
                r = tw_add_xattrs(w, fd, ae, &opaque);
                if (r < 0) {
                        r = cpod_error_errno(w->err, -r, "read extended attributes of `%s`", path);
                        goto out;
                }
        }
        if (archive_write_header(w->a, ae) < ARCHIVE_WARN) {
                r = tw_archive_fail(w, path);
                goto out;
        }
        if (S_ISREG(st.st_mode) && !link)
                r = tw_copy_data(w, fd, path);
        else if (S_ISDIR(st.st_mode)) {
                if (opaque && w->whiteouts) {
                        char wh[TW_MAX_PATH + 16];
                        snprintf(wh, sizeof(wh), "%s/.wh..wh..opq", path);
                        r = tw_marker(w, wh, &st);
                }
                if (r >= 0)
                        r = tw_walk(w, TAKE_FD(fd), path, len, depth + 1);
        }
out:
        archive_entry_free(ae);
        return r;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write the entries of the directory open at fd (consumed), path being its name in the tar. */
static int tw_walk(TarWriter *w, int fd, char *path, size_t len, unsigned depth) {
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;

        if (depth > TW_MAX_DEPTH) {
                close(fd);
                return cpod_error(w->err, ELOOP, "`%s`: directories nested too deeply", path);
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return cpod_error_errno(w->err, errno, "open directory `%s`", len ? path : ".");
        }
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char *copy = strdup(de->d_name);
                if (!copy || VL_GROW(names, cap, n + 1) < 0) {
                        free(copy);
                        r = cpod_error(w->err, ENOMEM, "out of memory");
                        goto out;
                }
                names[n++] = copy;
        }
        if (n > 1)
                qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t nl = strlen(names[i]);
                if (len + nl + 2 > TW_MAX_PATH) {
                        r = cpod_error(w->err, ENAMETOOLONG, "`%s/%s`: path too long", path, names[i]);
                        break;
                }
                size_t nlen = len;
                if (nlen > 0)
                        path[nlen++] = '/';
                memcpy(path + nlen, names[i], nl + 1);
                r = tw_entry(w, dirfd(d), names[i], path, nlen + nl, depth);
                path[len] = 0;
        }
out:
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        return r;
}

int tar_write_dir(int dir_fd, int out_fd, bool whiteouts, CpodError *err) {
        TarWriter w = {.out_fd = out_fd, .whiteouts = whiteouts, .err = err};
        char path[TW_MAX_PATH + 1] = "";
        int r;

        r = dl_archive_load(err);
        if (r < 0)
                return r;
        w.buf = malloc(TW_BUF_SIZE);
        w.a = archive_write_new();
        if (!w.buf || !w.a) {
                r = cpod_error(err, ENOMEM, "out of memory");
                goto out;
        }
        archive_write_set_format_pax_restricted(w.a);
        archive_write_set_bytes_in_last_block(w.a, 1);
        if (archive_write_open(w.a, &w, NULL, tw_write_cb, NULL) != ARCHIVE_OK) {
                r = tw_archive_fail(&w, ".");
                goto out;
        }
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = cpod_error_errno(err, errno, "open directory");
                goto out;
        }
        r = tw_walk(&w, fd, path, 0, 0);
        if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
                r = tw_archive_fail(&w, "end of archive");
out:
        if (w.a)
                archive_write_free(w.a);
        for (size_t i = 0; i < w.n_links; i++)
                free(w.links[i].path);
        free(w.links);
        free(w.buf);
        return r < 0 ? r : 0;
}
