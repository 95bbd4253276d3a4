/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The blob store. A writer's data goes to an unnamed O_TMPFILE in <root>/tmp
 * (so a killed writer leaves nothing behind), is hashed while written,
 * fsynced, and linked into blobs/sha256/<hex> in one step; the directory is
 * fsynced so the name survives a crash. Filesystems without O_TMPFILE get a
 * named temporary file and a rename instead (store_check removes leftovers).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "blob.h"
#include "db.h"
#include "engine-internal.h"
#include "util.h"

#define BLOB_DIR     "blobs/sha256"
#define BLOB_BUFSIZE (128u * 1024u)

struct BlobWriter {
        Engine *e;
        int fd;
        char *tmp_name; /* relative to root, NULL for an O_TMPFILE */
        Sha256 *hash;
        uint64_t size;
};

static int blob_rel_path(const char *digest, char out[DIGEST_MAX + 16]) {
        const char *hex = digest_hex(digest);
        if (!hex)
                return -EINVAL;
        snprintf(out, DIGEST_MAX + 16, BLOB_DIR "/%s", hex);
        return 0;
}

static int blob_tmp_open(BlobWriter *w, CpodError *err) {
        Engine *e = w->e;

        w->fd = openat(e->root_fd, "tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (w->fd >= 0)
                return 0;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return cpod_error_errno(err, errno, "create a temporary file in `%s/tmp`", e->root);

        for (unsigned attempt = 0; attempt < 100; attempt++) {
                char name[64];
                uint64_t rnd = 0;
                if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
                        rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ attempt;
                snprintf(name, sizeof name, "tmp/blob-%016llx", (unsigned long long)rnd);
                w->fd = openat(e->root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (w->fd >= 0) {
                        w->tmp_name = strdup(name);
                        if (!w->tmp_name)
                                return cpod_error(err, ENOMEM, "out of memory");
                        return 0;
                }
                if (errno != EEXIST)
                        return cpod_error_errno(err, errno, "create `%s/%s`", e->root, name);
        }
        return cpod_error(err, EEXIST, "create a temporary file in `%s/tmp`: too many collisions", e->root);
}

int blob_writer_new(Engine *e, BlobWriter **ret, CpodError *err) {
        /* Until the writer's image is recorded, no collector may take what it stores. */
        int r = engine_gc_hold(e, err);
        if (r < 0)
                return r;
        BlobWriter *w = calloc(1, sizeof *w);
        if (!w)
                return cpod_error(err, ENOMEM, "out of memory");
        w->e = e;
        w->fd = -1;
        r = sha256_new(&w->hash);
        if (r < 0) {
                free(w);
                return cpod_error(err, -r, "create a SHA-256 context: %s", strerror(-r));
        }
        r = blob_tmp_open(w, err);
        if (r < 0) {
                blob_writer_abort(w);
                return r;
        }
        *ret = w;
        return 0;
}

int blob_writer_write(BlobWriter *w, const void *p, size_t n, CpodError *err) {
        const char *s = p;

        sha256_update(w->hash, p, n);
        w->size += n;
        while (n > 0) {
                ssize_t k = write(w->fd, s, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return cpod_error_errno(err, errno, "write a blob in `%s/tmp`", w->e->root);
                }
                s += k;
                n -= (size_t)k;
        }
        return 0;
}

uint64_t blob_writer_size(BlobWriter *w) {
        return w->size;
}

void blob_writer_abort(BlobWriter *w) {
        if (!w)
                return;
        safe_close(w->fd);
        if (w->tmp_name)
                unlinkat(w->e->root_fd, w->tmp_name, 0);
        free(w->tmp_name);
        sha256_free(w->hash);
        free(w);
}

static int fsync_blob_dir(Engine *e, CpodError *err) {
        _cleanup_close_ int dfd = openat(e->root_fd, BLOB_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return cpod_error_errno(err, errno, "sync `%s/" BLOB_DIR "`", e->root);
        return 0;
}

int blob_sync_names(Engine *e, CpodError *err) {
        return fsync_blob_dir(e, err);
}

/* Give the finished temporary file its final name; an existing blob of that
 * name has the same content, so EEXIST is success. */
static int blob_link(BlobWriter *w, const char *rel, CpodError *err) {
        Engine *e = w->e;
        if (w->tmp_name) {
                if (renameat(e->root_fd, w->tmp_name, e->root_fd, rel) < 0)
                        return cpod_error_errno(err, errno, "rename into `%s/%s`", e->root, rel);
                free(w->tmp_name);
                w->tmp_name = NULL;
                return 0;
        }
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
        if (linkat(AT_FDCWD, proc, e->root_fd, rel, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "link into `%s/%s`", e->root, rel);
        return 0;
}

int blob_writer_commit(BlobWriter *w, const char *expected, char ret_digest[DIGEST_MAX], CpodError *err) {
        return blob_writer_commit_flags(w, expected, 0, ret_digest, err);
}

int blob_writer_commit_flags(BlobWriter *w, const char *expected, unsigned flags,
                             char ret_digest[DIGEST_MAX], CpodError *err) {
        char digest[DIGEST_MAX], rel[DIGEST_MAX + 16];
        int r;

        sha256_final(w->hash, digest);
        if (expected && !streq(expected, digest)) {
                r = cpod_error(err, EBADMSG, "digest mismatch: expected %s, got %s", expected, digest);
                goto out;
        }
        blob_rel_path(digest, rel);
        if (fsync(w->fd) < 0) {
                r = cpod_error_errno(err, errno, "sync a blob in `%s/tmp`", w->e->root);
                goto out;
        }
        r = blob_link(w, rel, err);
        if (r >= 0 && !(flags & BLOB_DEFER_NAME_SYNC))
                r = fsync_blob_dir(w->e, err);
        if (r >= 0 && ret_digest)
                memcpy(ret_digest, digest, DIGEST_MAX);
out:
        blob_writer_abort(w);
        return r < 0 ? r : 0;
}

int blob_put(Engine *e, const void *p, size_t n, char ret_digest[DIGEST_MAX], CpodError *err) {
        return blob_put_flags(e, p, n, 0, ret_digest, err);
}

int blob_put_flags(Engine *e, const void *p, size_t n, unsigned flags, char ret_digest[DIGEST_MAX],
                   CpodError *err) {
        BlobWriter *w = NULL;
        char digest[DIGEST_MAX];

        int r = engine_gc_hold(e, err);
        if (r < 0)
                return r;
        /* The common case for manifests and configs: already there. */
        sha256_digest(p, n, digest);
        if (blob_exists(e, digest)) {
                if (ret_digest)
                        memcpy(ret_digest, digest, DIGEST_MAX);
                return 0;
        }
        r = blob_writer_new(e, &w, err);
        if (r < 0)
                return r;
        r = blob_writer_write(w, p, n, err);
        if (r < 0) {
                blob_writer_abort(w);
                return r;
        }
        return blob_writer_commit_flags(w, digest, flags, ret_digest, err);
}

int blob_put_fd(Engine *e, int fd, const char *expected, char ret_digest[DIGEST_MAX], uint64_t *ret_size,
                CpodError *err) {
        BlobWriter *w = NULL;
        _cleanup_free_ char *buf = malloc(BLOB_BUFSIZE);
        if (!buf)
                return cpod_error(err, ENOMEM, "out of memory");
        int r = blob_writer_new(e, &w, err);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k = read(fd, buf, BLOB_BUFSIZE);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = cpod_error_errno(err, errno, "read a blob");
                        break;
                }
                if (k == 0)
                        break;
                r = blob_writer_write(w, buf, (size_t)k, err);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                blob_writer_abort(w);
                return r;
        }
        uint64_t size = w->size;
        r = blob_writer_commit(w, expected, ret_digest, err);
        if (r >= 0 && ret_size)
                *ret_size = size;
        return r;
}

static int blob_hash_fd(int fd, char ret[DIGEST_MAX], uint64_t *ret_size) {
        _cleanup_free_ uint8_t *buf = malloc(BLOB_BUFSIZE);
        Sha256 *h = NULL;
        uint64_t size = 0;
        ssize_t n;

        if (!buf || sha256_new(&h) < 0) {
                sha256_free(h);
                return -ENOMEM;
        }
        while ((n = pread(fd, buf, BLOB_BUFSIZE, (off_t)size)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        sha256_free(h);
                        return -errno;
                }
                sha256_update(h, buf, (size_t)n);
                size += (uint64_t)n;
        }
        sha256_final(h, ret);
        sha256_free(h);
        *ret_size = size;
        return 0;
}

int blob_adopt_fd(Engine *e, int fd, const char *expected, char ret_digest[DIGEST_MAX], uint64_t *ret_size,
                  bool *ret_new, CpodError *err) {
        char digest[DIGEST_MAX], rel[DIGEST_MAX + 16], proc[64];
        uint64_t size = 0;
        struct stat st;
        bool created = false;
        int r = engine_gc_hold(e, err);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "stat a blob");
        if (!S_ISREG(st.st_mode))
                return cpod_error(err, EINVAL, "a blob is not a regular file");
        r = blob_hash_fd(fd, digest, &size);
        if (r < 0)
                return cpod_error_errno(err, -r, "read a blob");
        if (expected && !streq(expected, digest))
                return cpod_error(err, EBADMSG, "digest mismatch: expected %s, got %s", expected, digest);
        blob_rel_path(digest, rel);
        if (faccessat(e->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                /* the file came out of an archive: give it a blob's owner and mode before it is one */
                if (fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
                        return cpod_error_errno(err, errno, "prepare a blob in `%s/tmp`", e->root);
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, e->root_fd, rel, AT_SYMLINK_FOLLOW) == 0)
                        created = true;
                else if (errno != EEXIST) {
                        /* no /proc, or the file is on another filesystem: copy it */
                        bool had = blob_exists(e, digest);
                        if (lseek(fd, 0, SEEK_SET) < 0)
                                return cpod_error_errno(err, errno, "read a blob");
                        r = blob_put_fd(e, fd, digest, NULL, NULL, err);
                        if (r < 0)
                                return r;
                        created = !had;
                }
                if (created && (r = fsync_blob_dir(e, err)) < 0)
                        return r;
        }
        memcpy(ret_digest, digest, DIGEST_MAX);
        if (ret_size)
                *ret_size = size;
        if (ret_new)
                *ret_new = created;
        return 0;
}

bool blob_exists(Engine *e, const char *digest) {
        char rel[DIGEST_MAX + 16];
        if (blob_rel_path(digest, rel) < 0)
                return false;
        return faccessat(e->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int blob_path(Engine *e, const char *digest, char **ret) {
        const char *hex = digest_hex(digest);
        char *p;
        if (!hex)
                return -EINVAL;
        if (asprintf(&p, "%s/" BLOB_DIR "/%s", e->root, hex) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int blob_open(Engine *e, const char *digest, CpodError *err) {
        char rel[DIGEST_MAX + 16];
        if (blob_rel_path(digest, rel) < 0)
                return cpod_error(err, EINVAL, "invalid digest `%.80s`", digest);
        int fd = openat(e->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return cpod_error(err, ENOENT, "blob %s is not in the store", digest);
                return cpod_error_errno(err, errno, "open `%s/%s`", e->root, rel);
        }
        return fd;
}

int blob_read(Engine *e, const char *digest, size_t max, char **ret, size_t *ret_len, CpodError *err) {
        struct stat st;

        _cleanup_close_ int fd = blob_open(e, digest, err);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "stat blob %s", digest);
        if (!S_ISREG(st.st_mode))
                return cpod_error(err, EBADF, "blob %s is not a regular file", digest);
        if ((uint64_t)st.st_size > max)
                return cpod_error(err, EFBIG, "blob %s is larger than %zu bytes", digest, max);

        size_t n = (size_t)st.st_size, got = 0;
        _cleanup_free_ char *buf = malloc(n + 1);
        if (!buf)
                return cpod_error(err, ENOMEM, "out of memory");
        while (got < n) {
                ssize_t k = read(fd, buf + got, n - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return cpod_error_errno(err, errno, "read blob %s", digest);
                if (k == 0)
                        return cpod_error(err, EIO, "read blob %s: file shrank", digest);
                got += (size_t)k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int blob_remove(Engine *e, const char *digest) {
        char rel[DIGEST_MAX + 16];
        if (blob_rel_path(digest, rel) < 0)
                return -EINVAL;
        if (unlinkat(e->root_fd, rel, 0) < 0)
                return -errno;
        return 0;
}

void blob_remove_unused(Engine *e, char *const *digests, size_t n) {
        if (n == 0 || engine_gc_exclusive(e, NULL) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (db_get_text(e->db, "SELECT 1 FROM image_blobs WHERE digest = ?1 LIMIT 1",
                                DB_PARAMS(digests[i]), NULL, NULL) == 0)
                        (void)blob_remove(e, digests[i]);
        engine_gc_exclusive_end(e);
}
