/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Safe layer extraction. The stream is decompressed here (zlib or libzstd,
 * so both the compressed and the uncompressed bytes are hashed in one
 * pass), parsed by our own tar reader (tar-read.c), and every file is
 * created by us, below the layer root, through openat2(RESOLVE_BENEATH), so
 * no entry can write outside it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "digest.h"
#include "dl.h"
#include "layer.h"
#include "tar-read.h"
#include "util.h"

#define EXTRACT_MAX_ENTRIES  (1024u * 1024u)
#define EXTRACT_MAX_NAME     TAR_MAX_NAME
#define EXTRACT_MAX_TOTAL    (256ull * 1024u * 1024u * 1024u) /* uncompressed tar bytes */
#define EXTRACT_MAX_XATTR    (64u * 1024u)
#define EXTRACT_BUF_SIZE     (128u * 1024u)
#define WHITEOUT_PREFIX      ".wh."
#define WHITEOUT_OPAQUE      ".wh..wh..opq"
#define WHITEOUT_META_PREFIX ".wh..wh."

/* ---- path cleaning ---- */

int tar_path_clean(const char *name, char *out, size_t out_size) {
        size_t len = 0, depth = 0;

        if (!name || !out || out_size == 0)
                return -EINVAL;
        for (const char *p = name; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);

                if (n == 0 || (n == 1 && p[0] == '.')) {
                        /* empty or "." component: nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        /* ".." may only cancel a component the name itself added */
                        if (depth == 0)
                                return -EINVAL;
                        depth--;
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--; /* the separator */
                } else {
                        if (len + (len > 0) + n + 1 > out_size)
                                return -ENAMETOOLONG;
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, p, n);
                        len += n;
                        depth++;
                }
                p = *e ? e + 1 : e;
        }
        if (len == 0)
                return -EINVAL;
        out[len] = 0;
        return 0;
}

/* True for names that denote the root itself ("", ".", "./", "/", "./."). */
static bool path_is_root(const char *name) {
        for (const char *p = name; *p; p++)
                if (*p != '/' && *p != '.')
                        return false;
        return !strstr(name, "..");
}

/* ---- the decompressing, hashing reader ---- */

typedef enum Compression { COMP_PLAIN, COMP_GZIP, COMP_ZSTD } Compression;

typedef struct Reader {
        int fd;
        Compression kind;
        Sha256 *hc, *hu;
        uint64_t csize, usize;
        uint8_t *in, *out;
        const uint8_t *out_ptr; /* the last chunk reader_next returned: out, or in for a plain stream */
        size_t in_len, in_pos;
        bool in_eof, done, z_init, zpending;
        bool hash_compressed; /* false: the caller checks the compressed digest (LAYER_COMPRESSED_CHECKED) */
        z_stream z;
        ZSTD_DStream *zs;
        int error; /* -errno once failed */
        char message[256];
} Reader;

static int reader_fail(Reader *r, int code, const char *msg) {
        if (r->error == 0) {
                r->error = code;
                snprintf(r->message, sizeof(r->message), "%s", msg);
        }
        return code;
}

/* Refill the compressed input buffer; hashes what it reads. */
static int reader_fill(Reader *r) {
        ssize_t n;

        if (r->in_pos < r->in_len || r->in_eof)
                return 0;
        do
                n = read(r->fd, r->in, EXTRACT_BUF_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                char m[128];
                snprintf(m, sizeof(m), "read layer stream: %s", strerror(errno));
                return reader_fail(r, -errno, m);
        }
        if (n == 0)
                r->in_eof = true;
        if (r->hash_compressed)
                sha256_update(r->hc, r->in, (size_t)n);
        r->csize += (uint64_t)n;
        r->in_len = (size_t)n;
        r->in_pos = 0;
        return 0;
}

static ssize_t reader_gzip(Reader *r) {
        for (;;) {
                if (reader_fill(r) < 0)
                        return r->error;
                if (r->done) {
                        /* a further gzip member may follow (multi-member streams) */
                        if (r->in_pos == r->in_len && r->in_eof)
                                return 0;
                        if (inflateReset(&r->z) != Z_OK)
                                return reader_fail(r, -EIO, "gzip: cannot reset the decompressor");
                        r->done = false;
                }
                r->z.next_in = r->in + r->in_pos;
                r->z.avail_in = (uInt)(r->in_len - r->in_pos);
                r->z.next_out = r->out;
                r->z.avail_out = EXTRACT_BUF_SIZE;
                int zr = inflate(&r->z, Z_NO_FLUSH);
                r->in_pos = r->in_len - r->z.avail_in;
                if (zr == Z_STREAM_END)
                        r->done = true;
                else if (zr == Z_BUF_ERROR && r->in_eof && r->in_pos == r->in_len)
                        return reader_fail(r, -EBADMSG, "gzip: unexpected end of compressed stream");
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        return reader_fail(r, -EBADMSG, "gzip: corrupt compressed data");
                size_t got = EXTRACT_BUF_SIZE - r->z.avail_out;
                if (got > 0)
                        return (ssize_t)got;
                if (!r->done && r->in_eof && r->in_pos == r->in_len)
                        return reader_fail(r, -EBADMSG, "gzip: unexpected end of compressed stream");
        }
}

static ssize_t reader_zstd(Reader *r) {
        for (;;) {
                if (reader_fill(r) < 0)
                        return r->error;
                ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
                ZSTD_outBuffer ob = {r->out, EXTRACT_BUF_SIZE, 0};
                /* after a full output buffer the decoder may hold more without needing input */
                if (ib.pos == ib.size && r->in_eof && !r->zpending) {
                        if (!r->done)
                                return reader_fail(r, -EBADMSG, "zstd: unexpected end of compressed stream");
                        return 0;
                }
                size_t zr = ZSTD_decompressStream(r->zs, &ob, &ib);
                if (ZSTD_isError(zr)) {
                        char m[160];
                        snprintf(m, sizeof(m), "zstd: %s", ZSTD_getErrorName(zr));
                        return reader_fail(r, -EBADMSG, m);
                }
                r->in_pos = ib.pos;
                r->zpending = ob.pos == ob.size;
                r->done = zr == 0; /* a frame ended; another may follow */
                if (ob.pos > 0)
                        return (ssize_t)ob.pos;
        }
}

/* An uncompressed stream is its own output: hand out the input buffer itself. */
static ssize_t reader_plain(Reader *r) {
        if (reader_fill(r) < 0)
                return r->error;
        size_t n = r->in_len - r->in_pos;
        r->out_ptr = r->in + r->in_pos;
        r->in_pos = r->in_len;
        return (ssize_t)n;
}

/* Next chunk of uncompressed bytes into r->out: count, 0 at the end, or -errno. */
static ssize_t reader_next(Reader *r) {
        ssize_t n;

        if (r->error < 0)
                return r->error;
        r->out_ptr = r->out;
        switch (r->kind) {
        case COMP_GZIP:
                n = reader_gzip(r);
                break;
        case COMP_ZSTD:
                n = reader_zstd(r);
                break;
        default:
                n = reader_plain(r);
        }
        if (n <= 0)
                return n;
        if (r->usize + (uint64_t)n > EXTRACT_MAX_TOTAL)
                return reader_fail(r, -EFBIG, "layer is larger than the limit of 256 GiB uncompressed");
        /* a plain stream's diff_id is its digest: hashing it twice would double the cost (and with
         * LAYER_COMPRESSED_CHECKED the caller hashes that digest) */
        if (r->kind != COMP_PLAIN)
                sha256_update(r->hu, r->out_ptr, (size_t)n);
        r->usize += (uint64_t)n;
        return n;
}

/* Set up the reader and sniff the compression; only the decompressor the stream needs is loaded. */
static int reader_init(Reader *r, int fd, bool hash_compressed, CpodError *err) {
        int k;

        *r = (Reader){.fd = fd, .hash_compressed = hash_compressed};
        r->in = malloc(EXTRACT_BUF_SIZE);
        r->out = malloc(EXTRACT_BUF_SIZE);
        if (!r->in || !r->out)
                return cpod_error(err, ENOMEM, "out of memory");
        k = sha256_new(&r->hc);
        if (k >= 0)
                k = sha256_new(&r->hu);
        if (k < 0)
                return cpod_error(err, -k, "out of memory");
        /* sniff the magic: read until 4 bytes are there or the stream ends */
        while (r->in_len < 4 && !r->in_eof) {
                ssize_t n = read(fd, r->in + r->in_len, EXTRACT_BUF_SIZE - r->in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cpod_error_errno(err, errno, "read layer stream");
                if (n == 0)
                        r->in_eof = true;
                if (r->hash_compressed)
                        sha256_update(r->hc, r->in + r->in_len, (size_t)n);
                r->csize += (uint64_t)n;
                r->in_len += (size_t)n;
        }
        if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
                r->kind = COMP_GZIP;
                k = dl_zlib_load(err);
                if (k < 0)
                        return k;
                if (inflateInit2(&r->z, 15 + 16) != Z_OK)
                        return cpod_error(err, ENOMEM, "gzip: cannot set up the decompressor");
                r->z_init = true;
        } else if (r->in_len >= 4 && r->in[0] == 0x28 && r->in[1] == 0xb5 && r->in[2] == 0x2f &&
                   r->in[3] == 0xfd) {
                r->kind = COMP_ZSTD;
                k = dl_zstd_load(err);
                if (k < 0)
                        return k;
                r->zs = ZSTD_createDStream();
                if (!r->zs)
                        return cpod_error(err, ENOMEM, "zstd: cannot set up the decompressor");
                /* bound the window a hostile frame may ask us to allocate (128 MiB) */
                ZSTD_DCtx_setParameter(r->zs, ZSTD_d_windowLogMax, 27);
        }
        return 0;
}

static void reader_done(Reader *r) {
        if (r->z_init)
                inflateEnd(&r->z);
        if (r->zs)
                ZSTD_freeDStream(r->zs);
        sha256_free(r->hc);
        sha256_free(r->hu);
        free(r->in);
        free(r->out);
}

/* Read the rest of the stream (tar padding, trailing blocks) so the digests cover all of it. */
static int reader_drain(Reader *r) {
        ssize_t n;

        while ((n = reader_next(r)) > 0)
                ;
        return (int)n;
}

static ssize_t reader_tar_source(void *userdata, const uint8_t **ret) {
        Reader *r = userdata;
        ssize_t n = reader_next(r);

        if (n > 0)
                *ret = r->out_ptr;
        return n;
}

/* ---- safe file creation ---- */

static int open_beneath(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;

        /* Old kernel: walk component by component, following no symlink at all. */
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        int cur = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                bool last = !save || !*save;
                if (streq(c, "..")) {
                        close(cur);
                        return -EXDEV;
                }
                int nfd = openat(cur, c, (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
                int saved = errno;
                close(cur);
                if (nfd < 0)
                        return -(saved == ELOOP ? EXDEV : saved);
                cur = nfd;
        }
        return cur;
}

/* The process's umask, read once (-1 when unknown): it says which modes creation gives without a
 * chmod. cpod never changes its umask, and reading it with umask() would race with other threads. */
static mode_t umask_value = (mode_t)-1;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void umask_read(void) {
        char line[128];
        FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned v;
                if (sscanf(line, "Umask: %o", &v) == 1 && v <= 0777) {
                        umask_value = (mode_t)v;
                        break;
                }
        }
        fclose(f);
}

static mode_t process_umask(void) {
        pthread_once(&umask_once, umask_read);
        return umask_value;
}

/* The umask that applies below dir_fd: none is known where a default ACL decides new modes instead. */
static mode_t extract_umask(int dir_fd) {
        if (dir_fd < 0)
                return (mode_t)-1;
        if (fgetxattr(dir_fd, "system.posix_acl_default", NULL, 0) < 0 &&
            (errno == ENODATA || errno == ENOTSUP))
                return process_umask();
        return (mode_t)-1;
}

typedef struct Extract {
        int root_fd;
        CpodError *err;
        TarReader *tar;
        Reader *rd;
        /* The directory of the last entry: a layer lists a directory's entries together, and resolving
         * the parent beneath the root again for each of them would cost an openat2 per entry. */
        int parent_fd;
        size_t parent_len;
        char parent[EXTRACT_MAX_NAME + 1];
        /* What creation gives a new entry of parent_fd without a chown or chmod: our effective ids (the
         * parent's group when it has the setgid bit), and the mode asked for less the umask. */
        uid_t euid;
        gid_t egid, new_gid;
        bool parent_setgid; /* new directories inherit the setgid bit */
        mode_t umask;       /* (mode_t)-1: unknown, always chmod */
        struct DirTime {
                char *path;
                struct timespec mtime;
        } * dirs;
        size_t n_dirs, cap_dirs;
} Extract;

static int extract_fail(Extract *x, int code, const char *path, const char *what) {
        if (code == -EXDEV || code == -ELOOP)
                return cpod_error(x->err, EXDEV, "layer entry `%s`: %s: path escapes the layer root", path,
                                  what);
        return cpod_error_errno(x->err, -code, "layer entry `%s`: %s", path, what);
}

/* Open the directory that holds path's last component, creating missing ones (mode 0755) when
 * create is set. */
static int open_parent(Extract *x, const char *path, bool create, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        char parent[EXTRACT_MAX_NAME + 1];
        int fd;

        *ret_base = slash ? slash + 1 : path;
        if (!slash)
                return open_beneath(x->root_fd, ".", O_RDONLY | O_DIRECTORY);
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = 0;
        fd = open_beneath(x->root_fd, parent, O_RDONLY | O_DIRECTORY);
        if (fd != -ENOENT || !create)
                return fd;

        /* Create the missing components one by one; each prefix is resolved from the root again,
         * so a symlink met on the way is followed only while it stays beneath the root. */
        int cur = open_beneath(x->root_fd, ".", O_RDONLY | O_DIRECTORY);
        for (char *p = parent; cur >= 0;) {
                char *e = strchrnul(p, '/');
                char saved = *e;
                *e = 0; /* parent now names the prefix ending in component p */
                if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
                        int k = -errno;
                        close(cur);
                        return k;
                }
                close(cur);
                cur = open_beneath(x->root_fd, parent, O_RDONLY | O_DIRECTORY);
                *e = saved;
                if (!saved)
                        break;
                p = e + 1;
        }
        return cur;
}

/* The directory holding path's last component, from the cache when the previous entry had the same
 * one; borrowed (the cache owns it). */
static int parent_cached(Extract *x, const char *path, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : 0;

        if (x->parent_fd >= 0 && x->parent_len == len && memcmp(x->parent, path, len) == 0) {
                *ret_base = slash ? slash + 1 : path;
                return x->parent_fd;
        }
        int fd = open_parent(x, path, true, ret_base);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int k = -errno;
                close(fd);
                return k;
        }
        x->new_gid = st.st_mode & S_ISGID ? st.st_gid : x->egid;
        x->parent_setgid = st.st_mode & S_ISGID;
        safe_close(x->parent_fd);
        x->parent_fd = fd;
        x->parent_len = len;
        memcpy(x->parent, path, len);
        return fd;
}

/* Anything removed or replaced may be a component of the cached parent's path: the next entry resolves
 * its parent again (the fd stays open until then: the current entry may still use it). */
static void parent_forget(Extract *x) {
        x->parent_len = SIZE_MAX;
}

/* Make room for a new entry: an existing non-directory goes; a directory only when replacing
 * it by a non-directory and it is empty (we never delete a tree because of one tar entry).
 * Returns 0 when nothing was there, 1 for a directory kept, 2 when something was removed. */
static int clear_name(int dir_fd, const char *name, bool want_dir) {
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                if (want_dir)
                        return 1; /* keep it, update its metadata */
                if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
                        return -errno;
                return 2;
        }
        if (unlinkat(dir_fd, name, 0) < 0)
                return -errno;
        return 2;
}

static bool xattr_wanted(const char *name) {
        /* overlay's own attributes change how lower layers are seen: never from a tarball */
        if (startswith(name, "trusted.overlay."))
                return false;
        return startswith(name, "user.") || startswith(name, "trusted.") ||
               streq(name, "security.capability");
}

/* Whether an entry created in the cached parent already has the entry's owner. */
static bool owner_given(const Extract *x, const TarEntry *te) {
        return (uid_t)te->uid == x->euid && (gid_t)te->gid == x->new_gid;
}

/* Whether creating with mode te->mode & 0777 gives exactly te->mode (no setuid, setgid or sticky
 * bit, nothing the umask takes away). */
static bool mode_given(const Extract *x, const TarEntry *te) {
        if (te->type == TAR_DIR && x->parent_setgid)
                return false; /* a new directory has the setgid bit of its parent */
        return x->umask != (mode_t)-1 && (te->mode & 07000) == 0 && (te->mode & x->umask) == 0;
}

/* Owner, xattrs, mode, in the order that keeps setuid bits and file capabilities (chown clears
 * both). fd is open on the object itself (not for symlinks). created says that fd is a new entry
 * of the cached parent, made with mode te->mode & 0777: a chown or chmod to what it has is skipped. */
static int apply_meta_fd(Extract *x, int fd, const TarEntry *te, const char *path, bool created) {
        if ((!created || !owner_given(x, te)) && fchown(fd, (uid_t)te->uid, (gid_t)te->gid) < 0)
                return extract_fail(x, -errno, path, "chown");
        for (size_t i = 0; i < te->n_xattrs; i++) {
                const TarXattr *a = &te->xattrs[i];
                if (!xattr_wanted(a->name) || a->size > EXTRACT_MAX_XATTR)
                        continue;
                if (fsetxattr(fd, a->name, a->value, a->size, 0) < 0 && errno != ENOTSUP)
                        return extract_fail(x, -errno, path, "set extended attribute");
        }
        if ((!created || !mode_given(x, te)) && fchmod(fd, te->mode & 07777) < 0)
                return extract_fail(x, -errno, path, "chmod");
        return 0;
}

static struct timespec entry_mtime(const TarEntry *te) {
        return (struct timespec){.tv_sec = (time_t)te->mtime, .tv_nsec = te->mtime_nsec};
}

/* A failure of the stream itself: the reader's message (read error, corrupt compressed data) or the tar
 * reader's (malformed archive). */
static int stream_fail(Extract *x, int code) {
        if (x->rd->error < 0)
                return cpod_error(x->err, -x->rd->error, "%s", x->rd->message);
        if (x->tar->message[0])
                return cpod_error(x->err, -code, "invalid tar stream: %s", x->tar->message);
        return cpod_error_errno(x->err, -code, "read layer stream");
}

/* Creating an entry found its name taken: make room as clear_name does, so the creation can be tried
 * again (a fresh layer has nothing to replace: asking first would cost a stat per entry). Returns
 * clear_name's result, or the error for the entry. */
static int make_room(Extract *x, int dir_fd, const char *base, const char *path, bool want_dir) {
        int r = clear_name(dir_fd, base, want_dir);
        if (r < 0)
                return extract_fail(x, r, path,
                                    r == -ENOTEMPTY ? "a directory of that name is not empty"
                                                    : "replace existing entry");
        if (r == 2)
                parent_forget(x);
        return r;
}

/* The mode to create an entry with: its own when creation gives it, else private until chmod'ed. */
static mode_t create_mode(const Extract *x, const TarEntry *te, mode_t private_mode) {
        return mode_given(x, te) ? te->mode & 0777 : private_mode;
}

static int write_file(Extract *x, int dir_fd, const char *base, const char *path, const TarEntry *te) {
        const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        const mode_t mode = create_mode(x, te, 0600);
        _cleanup_close_ int fd = openat(dir_fd, base, flags, mode);
        const uint8_t *p;
        ssize_t n;

        if (fd < 0 && errno == EEXIST) {
                int r = make_room(x, dir_fd, base, path, false);
                if (r < 0)
                        return r;
                fd = openat(dir_fd, base, flags, mode);
        }
        if (fd < 0)
                return extract_fail(x, -errno, path, "create");
        while ((n = tar_reader_data(x->tar, &p)) > 0) {
                while (n > 0) {
                        ssize_t k = write(fd, p, (size_t)n);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return extract_fail(x, -errno, path, "write");
                        p += k;
                        n -= k;
                }
        }
        if (n < 0)
                return stream_fail(x, (int)n);
        int r = apply_meta_fd(x, fd, te, path, true);
        if (r < 0)
                return r;
        struct timespec ts[2] = {entry_mtime(te), entry_mtime(te)};
        if (futimens(fd, ts) < 0)
                return extract_fail(x, -errno, path, "set times");
        return 0;
}

/* path is the cleaned name (directory times are set by it at the end), raw the entry's. */
static int make_dir(Extract *x, int dir_fd, const char *base, const char *path, const char *raw,
                    const TarEntry *te) {
        const mode_t mode = create_mode(x, te, 0700);
        bool created = mkdirat(dir_fd, base, mode) == 0;
        int r;

        if (!created && errno != EEXIST)
                return extract_fail(x, -errno, raw, "mkdir");
        if (!created) {
                /* a directory stays (its metadata is updated); anything else is replaced */
                r = make_room(x, dir_fd, base, raw, true);
                if (r < 0)
                        return r;
                if (r == 2) {
                        if (mkdirat(dir_fd, base, mode) < 0)
                                return extract_fail(x, -errno, raw, "mkdir");
                        created = true;
                }
        }
        /* a new directory with the right owner and mode and no xattrs needs nothing more now */
        if (!created || !owner_given(x, te) || !mode_given(x, te) || te->n_xattrs > 0) {
                _cleanup_close_ int fd =
                        openat(dir_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return extract_fail(x, -errno, raw, "open directory");
                r = apply_meta_fd(x, fd, te, raw, created);
                if (r < 0)
                        return r;
        }
        /* mtimes of directories change as their entries are created: set them at the end */
        if (VL_GROW(x->dirs, x->cap_dirs, x->n_dirs + 1) < 0)
                return cpod_error(x->err, ENOMEM, "out of memory");
        char *copy = strdup(path);
        if (!copy)
                return cpod_error(x->err, ENOMEM, "out of memory");
        x->dirs[x->n_dirs++] = (struct DirTime){copy, entry_mtime(te)};
        return 0;
}

static int make_other(Extract *x, int dir_fd, const char *base, const char *path, const TarEntry *te) {
        struct timespec ts[2] = {entry_mtime(te), entry_mtime(te)};
        const mode_t mode = create_mode(x, te, 0600);
        int r = 0;

        for (unsigned attempt = 0;; attempt++) {
                if (te->type == TAR_SYMLINK) {
                        /* a symlink may point anywhere: it is only ever resolved beneath a root */
                        if (symlinkat(te->link, dir_fd, base) == 0)
                                break;
                } else {
                        mode_t type = te->type == TAR_FIFO  ? S_IFIFO
                                      : te->type == TAR_CHR ? S_IFCHR
                                                            : S_IFBLK;
                        dev_t dev = te->type == TAR_FIFO ? 0 : makedev(te->devmajor, te->devminor);
                        if (mknodat(dir_fd, base, type | mode, dev) == 0)
                                break;
                }
                if (errno != EEXIST || attempt > 0)
                        return extract_fail(x, -errno, path, te->type == TAR_SYMLINK ? "symlink" : "mknod");
                r = make_room(x, dir_fd, base, path, false);
                if (r < 0)
                        return r;
        }
        if (!owner_given(x, te) &&
            fchownat(dir_fd, base, (uid_t)te->uid, (gid_t)te->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, path, "chown");
        if (te->type != TAR_SYMLINK && !mode_given(x, te) && fchmodat(dir_fd, base, te->mode & 07777, 0) < 0)
                return extract_fail(x, -errno, path, "chmod");
        if (utimensat(dir_fd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, path, "set times");
        return 0;
}

static int make_hardlink(Extract *x, int dir_fd, const char *base, const char *path,
                         const char *target_raw) {
        char target[EXTRACT_MAX_NAME + 1];
        const char *tbase, *slash;
        _cleanup_close_ int own_tdir = -1;
        int tdir;

        if (tar_path_clean(target_raw, target, sizeof(target)) < 0)
                return cpod_error(x->err, EXDEV,
                                  "layer entry `%s`: hard link target `%s` is outside the layer", path,
                                  target_raw);
        /* the target is most often in the entry's own directory, which is open already */
        slash = strrchr(target, '/');
        size_t len = slash ? (size_t)(slash - target) : 0;
        if (x->parent_fd >= 0 && x->parent_len == len && memcmp(x->parent, target, len) == 0) {
                tdir = x->parent_fd;
                tbase = slash ? slash + 1 : target;
        } else {
                tdir = own_tdir = open_parent(x, target, false, &tbase);
                if (tdir < 0)
                        return extract_fail(x, tdir, path, "hard link target");
        }
        for (unsigned attempt = 0; linkat(tdir, tbase, dir_fd, base, 0) < 0; attempt++) {
                if (errno != EEXIST || attempt > 0)
                        return extract_fail(x, -errno, path, "hard link");
                int r = make_room(x, dir_fd, base, path, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* .wh.NAME becomes an overlay whiteout (a 0/0 character device), .wh..wh..opq the opaque xattr. */
static int make_whiteout(Extract *x, int dir_fd, const char *base, const char *path, const TarEntry *te) {
        const char *name = base + strlen(WHITEOUT_PREFIX);

        if (streq(base, WHITEOUT_OPAQUE)) {
                if (fsetxattr(dir_fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return extract_fail(x, -errno, path, "mark directory opaque");
                return 0;
        }
        if (startswith(base, WHITEOUT_META_PREFIX) || !*name || streq(name, ".") || streq(name, ".."))
                return 0; /* aufs bookkeeping, nothing to create */
        for (unsigned attempt = 0; mknodat(dir_fd, name, S_IFCHR | 0000, makedev(0, 0)) < 0; attempt++) {
                if (errno != EEXIST || attempt > 0)
                        return extract_fail(x, -errno, path, "create whiteout");
                int r = clear_name(dir_fd, name, false);
                if (r < 0)
                        return extract_fail(x, r, path, "replace existing entry");
        }
        if (!owner_given(x, te) &&
            fchownat(dir_fd, name, (uid_t)te->uid, (gid_t)te->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, path, "chown");
        return 0;
}

static int extract_root_meta(Extract *x, const TarEntry *te) {
        if (te->type != TAR_DIR)
                return cpod_error(x->err, EINVAL, "layer entry `%s`: the root must be a directory",
                                  te->path);
        return make_dir(x, x->root_fd, ".", ".", te->path, te);
}

static int extract_entry(Extract *x, const TarEntry *te) {
        const char *raw = te->path;
        char path[EXTRACT_MAX_NAME + 1];
        const char *base;
        int r;

        if (strlen(raw) > EXTRACT_MAX_NAME)
                return cpod_error(x->err, ENAMETOOLONG, "layer entry name longer than %u bytes",
                                  EXTRACT_MAX_NAME);
        if (path_is_root(raw))
                return extract_root_meta(x, te);
        /* tar tools strip the leading '/' when writing; a layer that kept one aims at the host */
        if (raw[0] == '/')
                return cpod_error(x->err, EXDEV, "layer entry `%s`: absolute path", raw);
        r = tar_path_clean(raw, path, sizeof(path));
        if (r < 0)
                return cpod_error(x->err, EXDEV, "layer entry `%s`: path escapes the layer root", raw);
        if (te->uid >= UINT32_MAX || te->gid >= UINT32_MAX)
                return cpod_error(x->err, EINVAL, "layer entry `%s`: invalid owner", raw);

        int dir_fd = parent_cached(x, path, &base);
        if (dir_fd < 0)
                return extract_fail(x, dir_fd, raw, "open parent directory");
        if (startswith(base, WHITEOUT_PREFIX)) {
                r = make_whiteout(x, dir_fd, base, raw, te);
                parent_forget(x);
                return r;
        }

        /* each make_* creates first and makes room only when the name is taken */
        switch (te->type) {
        case TAR_HARDLINK:
                return make_hardlink(x, dir_fd, base, raw, te->link);
        case TAR_REG:
                return write_file(x, dir_fd, base, raw, te);
        case TAR_DIR:
                return make_dir(x, dir_fd, base, path, raw, te);
        default:
                return make_other(x, dir_fd, base, raw, te);
        }
}

static int extract_fix_dir_times(Extract *x) {
        /* deepest first is not needed: setting a directory's mtime does not touch its parent's */
        for (size_t i = 0; i < x->n_dirs; i++) {
                struct timespec ts[2] = {x->dirs[i].mtime, x->dirs[i].mtime};
                _cleanup_close_ int fd = open_beneath(x->root_fd, x->dirs[i].path, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        continue; /* replaced later in the stream */
                if (futimens(fd, ts) < 0)
                        return extract_fail(x, -errno, x->dirs[i].path, "set times");
        }
        return 0;
}

static int extract_loop(Extract *x) {
        const TarEntry *te;
        unsigned count = 0;
        int r;

        while ((r = tar_reader_next(x->tar, &te)) > 0) {
                if (++count > EXTRACT_MAX_ENTRIES)
                        return cpod_error(x->err, EFBIG, "layer has more than %u entries",
                                          EXTRACT_MAX_ENTRIES);
                if (x->root_fd < 0)
                        continue; /* only verifying: the reader skips the data */
                r = extract_entry(x, te);
                if (r < 0)
                        return r;
        }
        return r < 0 ? stream_fail(x, r) : 0;
}

static int check_digest(const char *what, const char *expected, const char *got, CpodError *err) {
        if (!expected || !*expected || streq(expected, got))
                return 0;
        return cpod_error(err, EBADMSG, "%s %s: digest mismatch: got %s", what, expected, got);
}

int layer_extract_verify(int fd, int dir_fd, const char *expected_compressed, const char *expected_diff_id,
                         LayerInfo *ret, CpodError *err) {
        return layer_extract_verify_flags(fd, dir_fd, expected_compressed, expected_diff_id, 0, ret, err);
}

int layer_extract_verify_flags(int fd, int dir_fd, const char *expected_compressed,
                               const char *expected_diff_id, unsigned flags, LayerInfo *ret,
                               CpodError *err) {
        const bool checked = flags & LAYER_COMPRESSED_CHECKED;
        Reader rd;
        TarReader tar;
        LayerInfo info = {};
        int r;

        if (checked && (!expected_compressed || !digest_valid(expected_compressed)))
                return cpod_error(err, EINVAL, "extract layer: a checked compressed digest is required");

        Extract x = {.root_fd = dir_fd,
                     .err = err,
                     .parent_fd = -1,
                     .tar = &tar,
                     .rd = &rd,
                     .euid = geteuid(),
                     .egid = getegid(),
                     .umask = extract_umask(dir_fd)};
        tar_reader_init(&tar, reader_tar_source, &rd);
        r = reader_init(&rd, fd, !checked, err);
        if (r < 0)
                goto finish;
        r = extract_loop(&x);
        if (r >= 0) {
                r = reader_drain(&rd);
                if (r < 0)
                        r = cpod_error(err, -rd.error, "%s", rd.message);
        }
        if (r >= 0 && dir_fd >= 0)
                r = extract_fix_dir_times(&x);
        if (r < 0)
                goto finish;

        if (checked)
                snprintf(info.compressed_digest, sizeof(info.compressed_digest), "%s", expected_compressed);
        else
                sha256_final(rd.hc, info.compressed_digest);
        if (rd.kind == COMP_PLAIN)
                memcpy(info.diff_id, info.compressed_digest, sizeof(info.diff_id));
        else
                sha256_final(rd.hu, info.diff_id);
        info.size = rd.usize;
        r = check_digest("layer", expected_compressed, info.compressed_digest, err);
        if (r >= 0)
                r = check_digest("layer with diff_id", expected_diff_id, info.diff_id, err);
        if (r >= 0 && ret)
                *ret = info;
finish:
        tar_reader_done(&tar);
        reader_done(&rd);
        safe_close(x.parent_fd);
        for (size_t i = 0; i < x.n_dirs; i++)
                free(x.dirs[i].path);
        free(x.dirs);
        return r < 0 ? r : 0;
}

int layer_extract_to(int fd, int dir_fd, CpodError *err) {
        if (dir_fd < 0)
                return cpod_error(err, EBADF, "extract layer: no target directory");
        return layer_extract_verify(fd, dir_fd, NULL, NULL, NULL, err);
}

int layer_decompress_to(int in_fd, int out_fd, char ret_diff_id[DIGEST_MAX], uint64_t *ret_size,
                        CpodError *err) {
        Reader rd;
        ssize_t n;
        int r = reader_init(&rd, in_fd, true, err);
        if (r < 0) {
                reader_done(&rd);
                return r;
        }
        while ((n = reader_next(&rd)) > 0) {
                const uint8_t *p = rd.out_ptr;
                while (n > 0) {
                        ssize_t k = write(out_fd, p, (size_t)n);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                r = cpod_error_errno(err, errno, "write uncompressed layer");
                                goto out;
                        }
                        p += k;
                        n -= k;
                }
        }
        if (n < 0) {
                r = cpod_error(err, -rd.error, "%s", rd.message);
                goto out;
        }
        if (ret_diff_id)
                sha256_final(rd.kind == COMP_PLAIN ? rd.hc : rd.hu, ret_diff_id);
        if (ret_size)
                *ret_size = rd.usize;
out:
        reader_done(&rd);
        return r;
}

/* ---- recursive removal ---- */

static int rm_rf_children(int fd, unsigned depth) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > 4096)
                return -ELOOP;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        r = r < 0 ? r : -errno;
                        continue;
                }
                int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0) {
                        r = r < 0 ? r : -errno;
                        continue;
                }
                int k = rm_rf_children(cfd, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

int layer_rm_rf_at(int dir_fd, const char *name) {
        if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* an overlay upper dir may hold an opaque dir we cannot list otherwise: plain readdir works */
        int r = rm_rf_children(fd, 0);
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}
