/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layer extractor's tar reader on archives written byte by byte here: the header forms layers use
 * (ustar prefix, pax path/linkpath/size/mtime/xattrs, GNU long names, base-256 numbers, old-style
 * directories), hostile archives (truncated, bad checksums, oversized or malformed extended headers,
 * sizes out of range, escaping names), and the stream forms (pipes, multi-member gzip, multi-frame zstd).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "layer.h"
#include "tar-read.h"
#include "tests.h"
#include "util.h"

typedef struct Buf {
        uint8_t *p;
        size_t len, cap;
} Buf;

static void put(Buf *b, const void *p, size_t n) {
        if (n == 0)
                return;
        if (VL_GROW(b->p, b->cap, b->len + n + 1) < 0)
                abort();
        memcpy(b->p + b->len, p, n);
        b->len += n;
}

static void pad(Buf *b) {
        static const uint8_t zero[512];
        if (b->len % 512)
                put(b, zero, 512 - b->len % 512);
}

static void end_archive(Buf *b) {
        static const uint8_t zero[1024];
        put(b, zero, sizeof(zero));
}

static void checksum(uint8_t h[512]) {
        unsigned sum = 0;
        memset(h + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *)h + 148, 8, "%06o", sum);
        h[155] = ' ';
}

/* A POSIX ustar header; the caller may change fields and checksum() again. */
static void header(uint8_t h[512], const char *name, char type, uint64_t size, const char *link) {
        memset(h, 0, 512);
        memcpy(h, name, strnlen(name, 100)); /* a 100-byte name has no NUL */
        snprintf((char *)h + 100, 8, "%07o", 0644);
        snprintf((char *)h + 108, 8, "%07o", 1000);
        snprintf((char *)h + 116, 8, "%07o", 100);
        snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
        snprintf((char *)h + 136, 12, "%011o", 1500000000);
        h[156] = (uint8_t)type;
        if (link)
                memcpy(h + 157, link, strnlen(link, 100));
        memcpy(h + 257,
               "ustar\0"
               "00",
               8);
        checksum(h);
}

static void add(Buf *b, const char *name, char type, const char *data, const char *link) {
        uint8_t h[512];
        size_t n = data ? strlen(data) : 0;
        header(h, name, type, n, link);
        put(b, h, 512);
        put(b, data, n);
        pad(b);
}

static size_t ndigits(size_t n) {
        size_t d = 1;
        while (n >= 10)
                n /= 10, d++;
        return d;
}

/* One pax record: the length counts itself. */
static void pax_rec(Buf *b, const char *key, const void *value, size_t vlen) {
        size_t body = strlen(key) + vlen + 3; /* ' ', '=', '\n' */
        size_t total = body + 1;
        while (body + ndigits(total) != total)
                total = body + ndigits(total);
        char len[24];
        snprintf(len, sizeof(len), "%zu ", total);
        put(b, len, strlen(len));
        put(b, key, strlen(key));
        put(b, "=", 1);
        put(b, value, vlen);
        put(b, "\n", 1);
}

static void add_ext(Buf *b, char type, const Buf *data) {
        uint8_t h[512];
        header(h, "././@PaxHeader", type, data->len, NULL);
        put(b, h, 512);
        put(b, data->p, data->len);
        pad(b);
}

static char tmpdir[256];
static unsigned roots;

static int new_root(void) {
        char path[512];
        snprintf(path, sizeof(path), "%s/root-%u", tmpdir, roots++);
        mkdir(path, 0755);
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int mem_fd(const void *p, size_t n) {
        char path[512];
        snprintf(path, sizeof(path), "%s/data-XXXXXX", tmpdir);
        int fd = mkostemp(path, O_CLOEXEC);
        unlink(path);
        if (write(fd, p, n) != (ssize_t)n)
                abort();
        lseek(fd, 0, SEEK_SET);
        return fd;
}

static int extract_buf(const Buf *b, int root, CpodError *err) {
        int fd = mem_fd(b->p, b->len);
        cpod_error_clear(err);
        int r = layer_extract_verify(fd, root, NULL, NULL, NULL, err);
        close(fd);
        return r;
}

TEST(parse_number) {
        int64_t v;
        is_int(tar_parse_number((const uint8_t *)"0000644\0", 8, &v), 0, "octal");
        is_int(v, 0644, "octal value");
        is_int(tar_parse_number((const uint8_t *)"  755 \0\0", 8, &v), 0, "leading spaces");
        is_int(v, 0755, "value after spaces");
        is_int(tar_parse_number((const uint8_t *)"\0\0\0\0", 4, &v), 0, "empty field");
        is_int(v, 0, "empty is 0");
        is_int(tar_parse_number((const uint8_t *)"0009\0", 5, &v), -EINVAL, "8 and 9 are not octal");
        is_int(tar_parse_number((const uint8_t *)"12 x", 4, &v), -EINVAL, "junk after the digits");
        const uint8_t b256[8] = {0x80, 0, 0, 0, 0, 0x01, 0x11, 0x70};
        is_int(tar_parse_number(b256, 8, &v), 0, "base-256");
        is_int(v, 70000, "base-256 value");
        const uint8_t neg[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
        is_int(tar_parse_number(neg, 8, &v), 0, "negative base-256");
        is_int(v, -2, "negative base-256 value");
        const uint8_t huge[12] = {0x80, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0};
        is_int(tar_parse_number(huge, 12, &v), -EINVAL, "base-256 beyond 63 bits refused");
}

TEST(formats) {
        Buf b = {}, x = {};
        CpodError err = {};
        struct stat st;
        char buf[600] = {};
        char longdir[160], longname[320], longlink[300], name100[101];
        _cleanup_close_ int root = new_root();

        memset(longdir, 'd', 150);
        longdir[150] = 0;
        snprintf(longname, sizeof(longname), "%s/%s", longdir, "file-with-a-long-path");
        memset(longlink, 'l', 250);
        longlink[250] = 0;
        memset(name100, 'n', 100);
        name100[100] = 0;

        add(&b, "./", '5', NULL, NULL);
        /* pax: a long path, its data size from the pax header (the ustar field says 0) */
        pax_rec(&x, "path", longname, strlen(longname));
        pax_rec(&x, "size", "5", 1);
        pax_rec(&x, "mtime", "1600000000.5", 12);
        pax_rec(&x, "uid", "70000", 5);
        pax_rec(&x, "uname", "someone", 7);
        pax_rec(&x, "SCHILY.xattr.user.raw", "a\0b", 3);
        pax_rec(&x, "LIBARCHIVE.xattr.user.b%36%34", "aGVsbG8", 7); /* user.b64 = "hello" */
        add_ext(&b, 'x', &x);
        uint8_t h[512];
        header(h, "short-name", '0', 0, NULL);
        put(&b, h, 512);
        put(&b, "12345", 5);
        pad(&b);
        /* pax linkpath on a symlink */
        x.len = 0;
        pax_rec(&x, "linkpath", longlink, strlen(longlink));
        add_ext(&b, 'x', &x);
        add(&b, "paxlink", '2', NULL, "ignored");
        /* a global header changes nothing */
        x.len = 0;
        pax_rec(&x, "comment", "hello", 5);
        add_ext(&b, 'g', &x);
        /* GNU long name and long link */
        x.len = 0;
        put(&x, longname, strlen(longname) - 4);
        put(&x, "\0", 1);
        add_ext(&b, 'L', &x);
        x.len = 0;
        put(&x, longlink, strlen(longlink));
        put(&x, "\0", 1);
        add_ext(&b, 'K', &x);
        add(&b, "gnu-trunc", '2', NULL, "ignored");
        /* base-256 uid and size, GNU magic (no prefix field) */
        header(h, "b256", '0', 0, NULL);
        memcpy(h + 257, "ustar  \0", 8);
        memcpy(h + 108, (const uint8_t[8]){0x80, 0, 0, 0, 0, 0x01, 0x11, 0x70}, 8);
        memset(h + 124, 0, 12);
        h[124] = 0x80;
        h[135] = 3;
        checksum(h);
        put(&b, h, 512);
        put(&b, "abc", 3);
        pad(&b);
        /* ustar prefix with a 100-byte name (no NUL) */
        header(h, name100, '0', 2, NULL);
        memcpy(h + 345, "pre/fix", 7);
        checksum(h);
        put(&b, h, 512);
        put(&b, "hi", 2);
        pad(&b);
        /* old tars: a regular-file entry with a trailing slash is a directory */
        add(&b, "olddir/", '0', NULL, NULL);
        add(&b, "blk", '4', NULL, NULL);
        add(&b, "fifo", '6', NULL, NULL);
        add(&b, "hard", '1', NULL, "b256");
        add(&b, "contig", '7', "c", NULL);
        /* no end-of-archive blocks: the stream ends on a header boundary */

        int r = extract_buf(&b, root, &err);
        is_int(r, 0, "archive of every header form extracts");
        if (r < 0)
                diag("%s", err.message);

        ok(fstatat(root, longname, &st, 0) == 0 && st.st_size == 5 && st.st_uid == 70000 &&
                   st.st_mtim.tv_sec == 1600000000 && st.st_mtim.tv_nsec == 500000000,
           "pax path, size, uid and fractional mtime");
        _cleanup_close_ int f = openat(root, longname, O_RDONLY | O_CLOEXEC);
        ok(fgetxattr(f, "user.raw", buf, sizeof(buf)) == 3 && memcmp(buf, "a\0b", 3) == 0,
           "SCHILY.xattr with a NUL in the value");
        ok(fgetxattr(f, "user.b64", buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
           "LIBARCHIVE.xattr: %%-encoded name, base64 value");
        memset(buf, 0, sizeof(buf));
        ok(readlinkat(root, "paxlink", buf, sizeof(buf) - 1) == 250 && streq(buf, longlink), "pax linkpath");
        char gnu[320];
        snprintf(gnu, sizeof(gnu), "%.*s", (int)strlen(longname) - 4, longname);
        memset(buf, 0, sizeof(buf));
        ok(readlinkat(root, gnu, buf, sizeof(buf) - 1) == 250 && streq(buf, longlink),
           "GNU long name and long link");
        ok(fstatat(root, "b256", &st, 0) == 0 && st.st_size == 3 && st.st_uid == 70000,
           "base-256 uid and size");
        snprintf(buf, sizeof(buf), "pre/fix/%s", name100);
        ok(fstatat(root, buf, &st, 0) == 0 && st.st_size == 2, "ustar prefix joined to a 100-byte name");
        ok(fstatat(root, "olddir", &st, 0) == 0 && S_ISDIR(st.st_mode), "trailing slash makes a directory");
        ok(fstatat(root, "blk", &st, 0) == 0 && S_ISBLK(st.st_mode), "block device");
        ok(fstatat(root, "fifo", &st, 0) == 0 && S_ISFIFO(st.st_mode), "fifo");
        ok(fstatat(root, "hard", &st, 0) == 0 && st.st_nlink == 2, "hard link");
        ok(fstatat(root, "contig", &st, 0) == 0 && S_ISREG(st.st_mode) && st.st_size == 1,
           "contiguous file is a regular file");
        free(b.p);
        free(x.p);
}

/* Each builder writes an archive extraction must refuse: with a message, and nothing outside the root. */
static void h_truncated_header(Buf *b) {
        add(b, "a", '0', "x", NULL);
        uint8_t h[512];
        header(h, "b", '0', 0, NULL);
        put(b, h, 300);
}
static void h_bad_checksum(Buf *b) {
        uint8_t h[512];
        header(h, "a", '0', 0, NULL);
        h[0] = 'b';
        put(b, h, 512);
        end_archive(b);
}
static void h_truncated_data(Buf *b) {
        uint8_t h[512];
        header(h, "a", '0', 1u << 30, NULL);
        put(b, h, 512);
        put(b, "some data", 9);
}
static void h_size_overflow(Buf *b) {
        uint8_t h[512];
        header(h, "a", '0', 0, NULL);
        memset(h + 124, 0xff, 12);
        h[124] = 0x80; /* positive base-256 with 88 significant bits */
        checksum(h);
        put(b, h, 512);
        end_archive(b);
}
static void h_size_negative(Buf *b) {
        uint8_t h[512];
        header(h, "a", '0', 0, NULL);
        memset(h + 124, 0xff, 12);
        checksum(h);
        put(b, h, 512);
        end_archive(b);
}
static void h_size_junk(Buf *b) {
        uint8_t h[512];
        header(h, "a", '0', 0, NULL);
        memcpy(h + 124, "00000000x12", 11);
        checksum(h);
        put(b, h, 512);
        end_archive(b);
}
static void h_pax_oversized(Buf *b) {
        uint8_t h[512];
        header(h, "pax", 'x', TAR_MAX_PAX + 1, NULL);
        put(b, h, 512);
        end_archive(b);
}
static void h_pax_record_too_long(Buf *b) {
        Buf x = {};
        put(&x, "999 path=x\n", 11);
        add_ext(b, 'x', &x);
        add(b, "a", '0', NULL, NULL);
        free(x.p);
}
static void h_pax_no_newline(Buf *b) {
        Buf x = {};
        put(&x, "11 path=abc", 11);
        add_ext(b, 'x', &x);
        add(b, "a", '0', NULL, NULL);
        free(x.p);
}
static void h_pax_nul_path(Buf *b) {
        Buf x = {};
        pax_rec(&x, "path", "ok\0../../x", 10);
        add_ext(b, 'x', &x);
        add(b, "a", '0', NULL, NULL);
        free(x.p);
}
static void h_pax_escape(Buf *b) {
        Buf x = {};
        pax_rec(&x, "path", "a/../../escape", 14);
        add_ext(b, 'x', &x);
        add(b, "a", '0', "x", NULL);
        free(x.p);
}
static void h_pax_hardlink_escape(Buf *b) {
        Buf x = {};
        pax_rec(&x, "linkpath", "../../etc/passwd", 16);
        add_ext(b, 'x', &x);
        add(b, "pw", '1', NULL, "x");
        free(x.p);
}
static void h_gnu_escape(Buf *b) {
        Buf x = {};
        put(&x, "../escape\0", 10);
        add_ext(b, 'L', &x);
        add(b, "a", '0', "x", NULL);
        free(x.p);
}
static void h_gnu_name_huge(Buf *b) {
        uint8_t h[512];
        header(h, "././@LongLink", 'L', 1u << 20, NULL);
        put(b, h, 512);
        end_archive(b);
}
static void h_ext_then_end(Buf *b) {
        Buf x = {};
        pax_rec(&x, "path", "a", 1);
        add_ext(b, 'x', &x);
        end_archive(b);
        free(x.p);
}
static void h_sparse(Buf *b) {
        add(b, "sparse", 'S', NULL, NULL);
        end_archive(b);
}
static void h_pax_sparse(Buf *b) {
        Buf x = {};
        pax_rec(&x, "GNU.sparse.major", "1", 1);
        add_ext(b, 'x', &x);
        add(b, "a", '0', NULL, NULL);
        free(x.p);
}
static void h_abs_name(Buf *b) {
        add(b, "/abs-escape", '0', "x", NULL);
}
static void h_link_then_write(Buf *b) {
        add(b, "up", '2', NULL, "..");
        add(b, "up/escaped", '0', "x", NULL);
}

static bool tmpdir_clean(void) {
        DIR *d = opendir(tmpdir);
        struct dirent *de;
        bool clean = true;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    !startswith(de->d_name, "root-")) {
                        diag("unexpected entry %s in the test directory", de->d_name);
                        clean = false;
                }
        closedir(d);
        return clean;
}

static void hostile(const char *label, void (*build)(Buf *b), int want) {
        Buf b = {};
        CpodError err = {};
        _cleanup_close_ int root = new_root();

        build(&b);
        int r = extract_buf(&b, root, &err);
        ok(r < 0 && err.code > 0 && err.message[0], "%s refused", label);
        if (want)
                is_int(r, -want, "%s: error code", label);
        diag("%s", err.message);
        /* verifying alone (no directory) must fail the same way for stream errors */
        ok(tmpdir_clean(), "%s wrote nothing outside the root", label);
        free(b.p);
}

TEST(hostile) {
        hostile("truncated header", h_truncated_header, EBADMSG);
        hostile("bad checksum", h_bad_checksum, EBADMSG);
        hostile("truncated data", h_truncated_data, EBADMSG);
        hostile("size overflow", h_size_overflow, EBADMSG);
        hostile("negative size", h_size_negative, EBADMSG);
        hostile("size with junk", h_size_junk, EBADMSG);
        hostile("oversized pax header", h_pax_oversized, EFBIG);
        hostile("pax record longer than its header", h_pax_record_too_long, EBADMSG);
        hostile("pax record without newline", h_pax_no_newline, EBADMSG);
        hostile("pax path with a NUL", h_pax_nul_path, EBADMSG);
        hostile("pax path escape", h_pax_escape, EXDEV);
        hostile("pax hard link escape", h_pax_hardlink_escape, EXDEV);
        hostile("GNU long name escape", h_gnu_escape, EXDEV);
        hostile("huge GNU long name", h_gnu_name_huge, EFBIG);
        hostile("extended header before the end", h_ext_then_end, EBADMSG);
        hostile("GNU sparse file", h_sparse, EOPNOTSUPP);
        hostile("pax sparse file", h_pax_sparse, EOPNOTSUPP);
        hostile("absolute name", h_abs_name, EXDEV);
        hostile("write through a symlink", h_link_then_write, EXDEV);

        /* only verifying: stream errors are found without a directory too */
        Buf b = {};
        CpodError err = {};
        h_truncated_data(&b);
        int fd = mem_fd(b.p, b.len);
        ok(layer_extract_verify(fd, -1, NULL, NULL, NULL, &err) == -EBADMSG, "verify-only: truncated data");
        close(fd);
        free(b.p);
}

static Buf small_tar(const char *name, const char *data) {
        Buf b = {};
        add(&b, name, '0', data, NULL);
        end_archive(&b);
        return b;
}

static void gzip_append(Buf *out, const Buf *in) {
        z_stream z = {};
        uLong cap = compressBound(in->len) + 64;
        uint8_t *tmp = malloc(cap);
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        z.next_in = in->p;
        z.avail_in = (uInt)in->len;
        z.next_out = tmp;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        put(out, tmp, z.total_out);
        deflateEnd(&z);
        free(tmp);
}

static void zstd_append(Buf *out, const uint8_t *p, size_t n) {
        size_t cap = ZSTD_compressBound(n);
        uint8_t *tmp = malloc(cap);
        size_t k = ZSTD_compress(tmp, cap, p, n, 3);
        put(out, tmp, k);
        free(tmp);
}

/* Extract from a pipe fed by a child process: no seeking, reads of any size. */
static int extract_pipe(const Buf *b, int root, LayerInfo *info, CpodError *err) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                /* uneven writes */
                for (size_t off = 0; off < b->len;) {
                        size_t k = b->len - off < 777 ? b->len - off : 777;
                        if (write(p[1], b->p + off, k) != (ssize_t)k)
                                _exit(1);
                        off += k;
                }
                _exit(0);
        }
        close(p[1]);
        int r = layer_extract_verify(p[0], root, NULL, NULL, info, err);
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        return r;
}

/* An entry with its own mode and owner (header() writes 0644 1000:100). */
static void add_meta(Buf *b, const char *name, char type, const char *data, const char *link, unsigned mode,
                     unsigned uid, unsigned gid) {
        uint8_t h[512];
        size_t n = data ? strlen(data) : 0;
        header(h, name, type, n, link);
        snprintf((char *)h + 100, 8, "%07o", mode);
        snprintf((char *)h + 108, 8, "%07o", uid);
        snprintf((char *)h + 116, 8, "%07o", gid);
        checksum(h);
        put(b, h, 512);
        put(b, data, n);
        pad(b);
}

static bool has(int root, const char *path, mode_t type, mode_t mode, uid_t uid, gid_t gid) {
        struct stat st;
        if (fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                diag("%s: %s", path, strerror(errno));
                return false;
        }
        if ((st.st_mode & S_IFMT) != type || (type != S_IFLNK && (st.st_mode & 07777) != mode) ||
            st.st_uid != uid || st.st_gid != gid) {
                diag("%s: mode %o owner %u:%u", path, (unsigned)st.st_mode, (unsigned)st.st_uid,
                     (unsigned)st.st_gid);
                return false;
        }
        return st.st_mtim.tv_sec == 1500000000 || type == S_IFDIR;
}

/* Entries whose owner and mode creation gives skip the chown and chmod: the result must not differ from
 * the entries that need them (setuid bits, modes the umask narrows, setgid directories, other owners),
 * and an entry whose name is taken replaces what is there. */
TEST(owner_and_mode) {
        Buf b = {};
        CpodError err = {};
        _cleanup_close_ int root = new_root();
        struct stat st;
        bool as_root = geteuid() == 0;
        unsigned u = as_root ? 0 : geteuid(), g = as_root ? 0 : getegid();
        unsigned other_u = as_root ? 1000 : u, other_g = as_root ? 100 : g;

        mode_t old = umask(022);
        add_meta(&b, "./", '5', NULL, NULL, 0755, u, g);
        add_meta(&b, "f644", '0', "a", NULL, 0644, u, g);
        add_meta(&b, "f777", '0', "b", NULL, 0777, u, g);
        add_meta(&b, "suid", '0', "c", NULL, 04755, u, g);
        add_meta(&b, "other", '0', "d", NULL, 0640, other_u, other_g);
        add_meta(&b, "d700", '5', NULL, NULL, 0700, u, g);
        add_meta(&b, "d777", '5', NULL, NULL, 0777, u, g);
        add_meta(&b, "sgid", '5', NULL, NULL, 02775, u, other_g);
        add_meta(&b, "sgid/inner", '0', "e", NULL, 0644, u, g);
        add_meta(&b, "sgid/sub", '5', NULL, NULL, 0755, u, g);
        add_meta(&b, "sgid/link", '2', NULL, "inner", 0777, u, g);
        add_meta(&b, "sgid/fifo", '6', NULL, NULL, 0644, u, g);
        add_meta(&b, "d700/hard", '1', NULL, "f644", 0644, u, g);
        add_meta(&b, "hard2", '1', NULL, "f644", 0644, u, g);
        /* names taken: a file by a symlink, a symlink by a directory, a file by a hard link */
        add_meta(&b, "x", '0', "old", NULL, 0644, u, g);
        add_meta(&b, "x", '2', NULL, "target", 0777, u, g);
        add_meta(&b, "y", '2', NULL, "target", 0777, u, g);
        add_meta(&b, "y", '5', NULL, NULL, 0711, u, g);
        add_meta(&b, "z", '0', "old", NULL, 0644, u, g);
        add_meta(&b, "z", '1', NULL, "suid", 0644, u, g);
        add_meta(&b, "d777", '5', NULL, NULL, 0750, u, g); /* an existing directory gets the new mode */
        end_archive(&b);
        is_int(extract_buf(&b, root, &err), 0, "owner and mode archive extracts");
        diag("%s", err.message);
        umask(old);

        ok(has(root, "f644", S_IFREG, 0644, u, g), "0644 file, created so");
        ok(has(root, "f777", S_IFREG, 0777, u, g), "0777 file despite the umask");
        ok(has(root, "suid", S_IFREG, 04755, u, g), "setuid file");
        ok(has(root, "other", S_IFREG, 0640, other_u, other_g), "file of another owner");
        ok(has(root, "d700", S_IFDIR, 0700, u, g), "0700 directory");
        ok(has(root, "d777", S_IFDIR, 0750, u, g), "directory given again gets the later mode");
        ok(has(root, "sgid", S_IFDIR, 02775, u, other_g), "setgid directory");
        ok(has(root, "sgid/inner", S_IFREG, 0644, u, g), "file in a setgid directory keeps its own group");
        ok(has(root, "sgid/sub", S_IFDIR, 0755, u, g), "directory in a setgid directory: no inherited bit");
        ok(has(root, "sgid/link", S_IFLNK, 0, u, g), "symlink in a setgid directory keeps its own group");
        ok(has(root, "sgid/fifo", S_IFIFO, 0644, u, g), "fifo in a setgid directory");
        ok(fstatat(root, "d700/hard", &st, 0) == 0 && st.st_nlink == 3,
           "hard links in another directory and in "
           "the same one");
        ok(has(root, "x", S_IFLNK, 0, u, g), "a symlink replaces a file");
        ok(has(root, "y", S_IFDIR, 0711, u, g), "a directory replaces a symlink");
        ok(fstatat(root, "z", &st, 0) == 0 && (st.st_mode & 07777) == 04755, "a hard link replaces a file");
        free(b.p);

        /* a non-empty directory is not replaced by a file */
        Buf c = {};
        _cleanup_close_ int root2 = new_root();
        add(&c, "d/", '5', NULL, NULL);
        add(&c, "d/a", '0', "x", NULL);
        add(&c, "d", '0', "file", NULL);
        end_archive(&c);
        cpod_error_clear(&err);
        ok(extract_buf(&c, root2, &err) == -ENOTEMPTY && strstr(err.message, "not empty"),
           "a file does not replace a non-empty directory: %s", err.message);
        free(c.p);
}

TEST(streams) {
        CpodError err = {};
        LayerInfo info;
        struct stat st;

        /* two gzip members, each a part of the tar: the diff_id covers both */
        Buf one = {}, two = {}, all = {}, gz = {};
        add(&one, "first", '0', "1111", NULL);
        add(&two, "second", '0', "22", NULL);
        end_archive(&two);
        put(&all, one.p, one.len);
        put(&all, two.p, two.len);
        gzip_append(&gz, &one);
        gzip_append(&gz, &two);
        _cleanup_close_ int r1 = new_root();
        is_int(extract_pipe(&gz, r1, &info, &err), 0, "multi-member gzip from a pipe");
        ok(fstatat(r1, "first", &st, 0) == 0 && fstatat(r1, "second", &st, 0) == 0,
           "both members extracted");
        char diff[DIGEST_MAX];
        sha256_digest(all.p, all.len, diff);
        is_str(info.diff_id, diff, "diff_id over all members");
        is_int(info.size, all.len, "uncompressed size over all members");

        Buf zs = {};
        zstd_append(&zs, one.p, one.len);
        zstd_append(&zs, two.p, two.len);
        _cleanup_close_ int r2 = new_root();
        is_int(extract_pipe(&zs, r2, &info, &err), 0, "multi-frame zstd from a pipe");
        is_str(info.diff_id, diff, "zstd diff_id over all frames");

        _cleanup_close_ int r3 = new_root();
        is_int(extract_pipe(&all, r3, &info, &err), 0, "plain tar from a pipe");
        is_str(info.compressed_digest, diff, "plain: the stream digest is the diff_id");

        /* a large file crossing many reader chunks */
        size_t big = 3u << 20;
        char *data = malloc(big + 1);
        for (size_t i = 0; i < big; i++)
                data[i] = (char)('a' + i % 26);
        data[big] = 0;
        Buf bt = small_tar("big", data), bgz = {};
        gzip_append(&bgz, &bt);
        _cleanup_close_ int r4 = new_root();
        is_int(extract_pipe(&bgz, r4, &info, &err), 0, "3 MiB file through gzip from a pipe");
        _cleanup_close_ int f = openat(r4, "big", O_RDONLY | O_CLOEXEC);
        char *back = malloc(big);
        ok(f >= 0 && read(f, back, big) == (ssize_t)big && memcmp(back, data, big) == 0, "content intact");
        free(back);
        free(data);

        /* corrupt compressed data is reported as such */
        bgz.p[bgz.len / 2] ^= 0xff;
        bgz.p[bgz.len / 2 + 1] ^= 0x55;
        _cleanup_close_ int r5 = new_root();
        cpod_error_clear(&err);
        ok(extract_pipe(&bgz, r5, &info, &err) < 0 && err.message[0], "corrupt gzip refused: %s",
           err.message);

        free(one.p);
        free(two.p);
        free(all.p);
        free(gz.p);
        free(zs.p);
        free(bt.p);
        free(bgz.p);
}

int main(void) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/test-extract-XXXXXX", base && *base ? base : P_tmpdir);
        if (!mkdtemp(tmpdir))
                return 1;
        for (unsigned i = 0; i < tests_n_cases_; i++) {
                diag("%s", tests_cases_[i].name);
                tests_cases_[i].fn();
        }
        layer_rm_rf_at(AT_FDCWD, tmpdir);
        return tests_done();
}
