/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "db.h"
#include "digest.h"
#include "engine-internal.h"
#include "engine.h"
#include "error.h"
#include "image.h"
#include "layer.h"
#include "tests.h"
#include "util.h"

/* ---- building test tarballs in memory ---- */

typedef struct Tar {
        struct archive *a;
        char *buf;
        size_t len, cap;
} Tar;

static la_ssize_t tar_write_cb(struct archive *a, void *u, const void *p, size_t n) {
        Tar *t = u;
        (void)a;
        if (VL_GROW(t->buf, t->cap, t->len + n) < 0)
                return -1;
        memcpy(t->buf + t->len, p, n);
        t->len += n;
        return (la_ssize_t)n;
}

static void tar_begin(Tar *t) {
        *t = (Tar){.a = archive_write_new()};
        archive_write_set_format_pax_restricted(t->a);
        archive_write_set_bytes_in_last_block(t->a, 1);
        archive_write_open(t->a, t, NULL, tar_write_cb, NULL);
}

static void tar_add(Tar *t, const char *name, mode_t type, mode_t mode, const char *data, const char *link) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, mode);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 100);
        archive_entry_set_mtime(e, 1500000000, 0);
        if (type == AE_IFLNK)
                archive_entry_set_symlink(e, link);
        else if (link)
                archive_entry_set_hardlink(e, link);
        if (type == AE_IFCHR)
                archive_entry_set_rdev(e, makedev(1, 3));
        archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
        archive_write_header(t->a, e);
        if (data)
                archive_write_data(t->a, data, strlen(data));
        archive_entry_free(e);
}

static void tar_add_xattr_file(Tar *t, const char *name, const char *xname, const void *xval, size_t xlen) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 04755);
        archive_entry_set_mtime(e, 1500000000, 0);
        archive_entry_xattr_add_entry(e, xname, xval, xlen);
        archive_write_header(t->a, e);
        archive_entry_free(e);
}

static void tar_end(Tar *t) {
        archive_write_close(t->a);
        archive_write_free(t->a);
}

static char *gzip_buf(const char *p, size_t n, size_t *ret_len) {
        uLongf cap = compressBound(n) + 64;
        char *out = malloc(cap);
        z_stream z = {};
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)p;
        z.avail_in = (uInt)n;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        *ret_len = z.total_out;
        deflateEnd(&z);
        return out;
}

static char tmpdir[64];

/* An anonymous file holding p: created in the test directory and unlinked at once. */
static int mem_fd(const void *p, size_t n) {
        char path[128];
        snprintf(path, sizeof(path), "%s/data-XXXXXX", tmpdir);
        int fd = mkostemp(path, O_CLOEXEC);
        unlink(path);
        if (write(fd, p, n) != (ssize_t)n)
                abort();
        lseek(fd, 0, SEEK_SET);
        return fd;
}

static int make_root(const char *name) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        mkdir(path, 0755);
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int extract(Tar *t, int root, CpodError *err) {
        int fd = mem_fd(t->buf, t->len);
        int r = layer_extract_to(fd, root, err);
        close(fd);
        free(t->buf);
        return r;
}

/* The test's temp dir must only hold the roots we made: nothing may escape into it. */
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

TEST(path_clean) {
        char out[64];
        is_int(tar_path_clean("a/./b", out, sizeof(out)), 0, "a/./b cleans");
        is_str(out, "a/b", "a/./b -> a/b");
        is_int(tar_path_clean("/x//y/", out, sizeof(out)), 0, "/x//y/ cleans");
        is_str(out, "x/y", "absolute name made relative");
        is_int(tar_path_clean("a/b/../c", out, sizeof(out)), 0, "inner .. cleans");
        is_str(out, "a/c", "a/b/../c -> a/c");
        is_int(tar_path_clean("../x", out, sizeof(out)), -EINVAL, "../x refused");
        is_int(tar_path_clean("a/../../x", out, sizeof(out)), -EINVAL, "a/../../x refused");
        is_int(tar_path_clean("./", out, sizeof(out)), -EINVAL, "empty after cleaning refused");
        is_int(tar_path_clean("abcdefgh", out, 4), -ENAMETOOLONG, "too long for the buffer");
}

TEST(chain_id) {
        char hex[65], d[DIGEST_MAX];
        const char *diff = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
        layer_chain_id(NULL, diff, hex);
        is_str(hex, diff + 7, "chain id of a base layer is its diff_id");
        layer_chain_id(hex, diff, hex);
        char in[200];
        snprintf(in, sizeof(in), "%s %s", diff, diff);
        sha256_digest(in, strlen(in), d);
        is_str(hex, d + 7, "chain id of an upper layer hashes parent and diff_id");
}

TEST(extract_normal) {
        Tar t;
        CpodError err = {};
        struct stat st;
        char buf[64] = {};
        _cleanup_close_ int root = make_root("root-normal");

        tar_begin(&t);
        tar_add(&t, "./", AE_IFDIR, 0755, NULL, NULL);
        tar_add(&t, "etc/", AE_IFDIR, 0750, NULL, NULL);
        tar_add(&t, "etc/passwd", AE_IFREG, 0644, "root:x:0:0\n", NULL);
        tar_add(&t, "etc/hard", AE_IFREG, 0644, NULL, "etc/passwd");
        tar_add(&t, "bin/sh", AE_IFLNK, 0777, NULL, "/bin/busybox");
        tar_add(&t, "dev/null", AE_IFCHR, 0666, NULL, NULL);
        tar_add(&t, "run/fifo", AE_IFIFO, 0600, NULL, NULL);
        tar_add(&t, "usr/.wh.gone", AE_IFREG, 0600, NULL, NULL);
        tar_add(&t, "opt/.wh..wh..opq", AE_IFREG, 0600, NULL, NULL);
        /* vfs_cap_data revision 2, effective, CAP_NET_RAW permitted (little endian) */
        static const uint8_t cap[20] = {0x01, 0, 0, 0x02, 0, 0x20};
        tar_add_xattr_file(&t, "bin/ping", "security.capability", cap, sizeof(cap));
        tar_add_xattr_file(&t, "bin/evil", "trusted.overlay.redirect", "/x", 2);
        tar_add_xattr_file(&t, "bin/user", "user.note", "hi", 2);
        tar_end(&t);
        is_int(extract(&t, root, &err), 0, "normal layer extracts");
        if (err.code)
                diag("%s", err.message);

        ok(fstatat(root, "etc/passwd", &st, 0) == 0 && S_ISREG(st.st_mode) && st.st_uid == 1000 &&
                   st.st_gid == 100 && (st.st_mode & 07777) == 0644 && st.st_mtime == 1500000000,
           "regular file with owner, mode, mtime");
        ok(fstatat(root, "etc/hard", &st, 0) == 0 && st.st_nlink == 2, "hard link");
        ok(fstatat(root, "etc", &st, 0) == 0 && st.st_mtime == 1500000000 && (st.st_mode & 07777) == 0750,
           "directory mtime fixed at the end");
        ok(readlinkat(root, "bin/sh", buf, sizeof(buf) - 1) > 0 && streq(buf, "/bin/busybox"), "symlink");
        ok(fstatat(root, "dev/null", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                   st.st_rdev == makedev(1, 3),
           "character device");
        ok(fstatat(root, "run/fifo", &st, 0) == 0 && S_ISFIFO(st.st_mode), "fifo");
        ok(fstatat(root, "usr/gone", &st, 0) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
           "whiteout becomes a 0/0 character device");
        ok(faccessat(root, "usr/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "no .wh. file left");
        _cleanup_close_ int opt = openat(root, "opt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        memset(buf, 0, sizeof(buf));
        ok(fgetxattr(opt, "trusted.overlay.opaque", buf, sizeof(buf)) == 1 && buf[0] == 'y',
           "opaque directory");
        ok(fstatat(root, "bin/ping", &st, 0) == 0 && (st.st_mode & 07777) == 04755, "setuid kept");
        _cleanup_close_ int ping = openat(root, "bin/ping", O_RDONLY | O_CLOEXEC);
        ok(fgetxattr(ping, "security.capability", buf, sizeof(buf)) == 20, "security.capability kept");
        _cleanup_close_ int user = openat(root, "bin/user", O_RDONLY | O_CLOEXEC);
        ok(fgetxattr(user, "user.note", buf, sizeof(buf)) == 2, "user xattr kept");
        _cleanup_close_ int evil = openat(root, "bin/evil", O_RDONLY | O_CLOEXEC);
        ok(fgetxattr(evil, "trusted.overlay.redirect", buf, sizeof(buf)) < 0,
           "overlay xattrs from a tar dropped");
}

static void hostile(const char *label, void (*build)(Tar *t), bool must_fail) {
        char name[64];
        Tar t;
        CpodError err = {};

        snprintf(name, sizeof(name), "root-%s", label);
        _cleanup_close_ int root = make_root(name);
        tar_begin(&t);
        build(&t);
        tar_end(&t);
        int r = extract(&t, root, &err);
        if (must_fail) {
                ok(r < 0 && err.code > 0 && err.message[0], "%s refused", label);
                diag("%s", err.message);
        } else
                ok(r == 0 || err.message[0], "%s neutralized", label);
        ok(tmpdir_clean(), "%s wrote nothing outside the root", label);
}

static void h_dotdot(Tar *t) {
        tar_add(t, "../escape", AE_IFREG, 0644, "x", NULL);
}
static void h_abs(Tar *t) {
        tar_add(t, "/abs-x", AE_IFREG, 0644, "x", NULL);
}
static void h_inner_dotdot(Tar *t) {
        tar_add(t, "a/../../x", AE_IFREG, 0644, "x", NULL);
}
/* Escapes aim at the test directory, whose listing tmpdir_clean() checks. */
static void h_link_root(Tar *t) {
        char name[128];
        snprintf(name, sizeof(name), "link%s/escaped", tmpdir);
        tar_add(t, "link", AE_IFLNK, 0777, NULL, "/");
        tar_add(t, name, AE_IFREG, 0644, "x", NULL);
}
static void h_link_up(Tar *t) {
        tar_add(t, "l", AE_IFLNK, 0777, NULL, "../../..");
        tar_add(t, "l/x", AE_IFREG, 0644, "x", NULL);
        tar_add(t, "m", AE_IFLNK, 0777, NULL, "../");
        tar_add(t, "m/escaped", AE_IFREG, 0644, "x", NULL);
}
static void h_link_parent(Tar *t) {
        tar_add(t, "up", AE_IFLNK, 0777, NULL, "..");
        tar_add(t, "up/x", AE_IFREG, 0644, "x", NULL);
}
static void h_hard_abs(Tar *t) {
        tar_add(t, "pw", AE_IFREG, 0644, NULL, "/etc/passwd");
}
static void h_hard_up(Tar *t) {
        tar_add(t, "pw", AE_IFREG, 0644, NULL, "../outside");
}
static void h_hard_via_link(Tar *t) {
        tar_add(t, "l", AE_IFLNK, 0777, NULL, "/etc");
        tar_add(t, "pw", AE_IFREG, 0644, NULL, "l/passwd");
}
static void h_dir_to_link(Tar *t) {
        tar_add(t, "d/", AE_IFDIR, 0755, NULL, NULL);
        tar_add(t, "d", AE_IFLNK, 0777, NULL, tmpdir);
        tar_add(t, "d/escaped", AE_IFREG, 0644, "x", NULL);
}
static void h_whiteout_up(Tar *t) {
        tar_add(t, "l", AE_IFLNK, 0777, NULL, "..");
        tar_add(t, "l/.wh.x", AE_IFREG, 0644, NULL, NULL);
}

TEST(extract_hostile) {
        hostile("dotdot", h_dotdot, true);
        hostile("abs", h_abs, true);
        hostile("inner-dotdot", h_inner_dotdot, true);
        hostile("link-root", h_link_root, true);
        hostile("link-up", h_link_up, true);
        hostile("link-parent", h_link_parent, true);
        hostile("hard-abs", h_hard_abs, true);
        hostile("hard-up", h_hard_up, true);
        hostile("hard-via-link", h_hard_via_link, true);
        hostile("dir-to-link", h_dir_to_link, true);
        hostile("whiteout-up", h_whiteout_up, true);
}

static void simple_tar(Tar *t) {
        tar_begin(t);
        tar_add(t, "hello", AE_IFREG, 0644, "hello world\n", NULL);
        tar_end(t);
}

TEST(digests) {
        Tar t;
        CpodError err = {};
        LayerInfo info;
        char diff[DIGEST_MAX], comp[DIGEST_MAX], wrong[DIGEST_MAX];

        simple_tar(&t);
        sha256_digest(t.buf, t.len, diff);
        size_t glen;
        _cleanup_free_ char *gz = gzip_buf(t.buf, t.len, &glen);
        sha256_digest(gz, glen, comp);
        sha256_digest("x", 1, wrong);

        _cleanup_close_ int root = make_root("root-digest");
        _cleanup_close_ int fd = mem_fd(gz, glen);
        is_int(layer_extract_verify(fd, root, comp, diff, &info, &err), 0, "gzip layer verifies");
        is_str(info.diff_id, diff, "diff_id of the uncompressed tar");
        is_str(info.compressed_digest, comp, "digest of the compressed stream");
        is_int(info.size, t.len, "uncompressed size");

        lseek(fd, 0, SEEK_SET);
        is_int(layer_extract_verify(fd, -1, wrong, NULL, NULL, &err), -EBADMSG,
               "compressed digest mismatch");
        ok(strstr(err.message, "digest mismatch"), "message names the mismatch: %s", err.message);
        lseek(fd, 0, SEEK_SET);
        is_int(layer_extract_verify(fd, -1, NULL, wrong, NULL, &err), -EBADMSG, "diff_id mismatch");

        _cleanup_close_ int trunc = mem_fd(gz, glen / 2);
        cpod_error_clear(&err);
        ok(layer_extract_verify(trunc, -1, NULL, NULL, NULL, &err) < 0, "truncated gzip fails");
        diag("%s", err.message);

        size_t zcap = ZSTD_compressBound(t.len);
        _cleanup_free_ char *zs = malloc(zcap);
        size_t zlen = ZSTD_compress(zs, zcap, t.buf, t.len, 3);
        _cleanup_close_ int zfd = mem_fd(zs, zlen);
        _cleanup_close_ int zroot = make_root("root-zstd");
        is_int(layer_extract_verify(zfd, zroot, NULL, diff, &info, &err), 0, "zstd layer verifies");
        struct stat st;
        ok(fstatat(zroot, "hello", &st, 0) == 0 && st.st_size == 12, "zstd layer extracted");

        _cleanup_close_ int pfd = mem_fd(t.buf, t.len);
        is_int(layer_extract_verify(pfd, -1, diff, diff, &info, &err), 0, "plain tar: both digests equal");
        free(t.buf);

        _cleanup_close_ int empty = mem_fd("", 0);
        is_int(layer_extract_verify(empty, -1, NULL, NULL, &info, &err), 0,
               "an empty stream is an empty layer");
}

/* LAYER_COMPRESSED_CHECKED: the compressed digest is the caller's (its blob writer hashed the same bytes),
 * the diff_id is still computed, except for a plain stream whose diff_id is that digest. */
TEST(digest_checked_by_caller) {
        Tar t;
        CpodError err = {};
        LayerInfo info;
        char diff[DIGEST_MAX], comp[DIGEST_MAX], other[DIGEST_MAX];

        simple_tar(&t);
        sha256_digest(t.buf, t.len, diff);
        size_t glen;
        _cleanup_free_ char *gz = gzip_buf(t.buf, t.len, &glen);
        sha256_digest(gz, glen, comp);
        sha256_digest("x", 1, other);

        _cleanup_close_ int fd = mem_fd(gz, glen);
        is_int(layer_extract_verify_flags(fd, -1, comp, diff, LAYER_COMPRESSED_CHECKED, &info, &err), 0,
               "gzip layer, compressed digest checked by the caller");
        is_str(info.compressed_digest, comp, "the caller's compressed digest");
        is_str(info.diff_id, diff, "diff_id computed");
        lseek(fd, 0, SEEK_SET);
        is_int(layer_extract_verify_flags(fd, -1, other, NULL, LAYER_COMPRESSED_CHECKED, &info, &err), 0,
               "the compressed digest is not hashed again");
        is_str(info.diff_id, diff, "the diff_id is still the stream's");
        lseek(fd, 0, SEEK_SET);
        is_int(layer_extract_verify_flags(fd, -1, comp, other, LAYER_COMPRESSED_CHECKED, NULL, &err),
               -EBADMSG, "a diff_id mismatch is still found");
        lseek(fd, 0, SEEK_SET);
        is_int(layer_extract_verify_flags(fd, -1, NULL, NULL, LAYER_COMPRESSED_CHECKED, NULL, &err), -EINVAL,
               "the flag needs the digest");

        _cleanup_close_ int pfd = mem_fd(t.buf, t.len);
        is_int(layer_extract_verify_flags(pfd, -1, diff, NULL, LAYER_COMPRESSED_CHECKED, &info, &err), 0,
               "plain layer, digest checked by the caller");
        is_str(info.diff_id, diff, "a plain layer's diff_id is its digest");
        is_int(info.size, t.len, "its size");
        free(t.buf);
}

static int count_rows(Engine *e, const char *id) {
        return db_get_text(e->db, "SELECT 1 FROM layers WHERE id = ?1", DB_PARAMS(id), NULL, NULL);
}

/* Two layers staged without a flush each, flushed once, renamed, then recorded in one transaction. */
TEST(stage_flush_once) {
        Tar t;
        CpodError err = {};
        Engine *e = NULL;
        LayerStaged *s1 = NULL, *s2 = NULL;
        LayerInfo i1, i2;
        char root[128], runroot[128], diff[DIGEST_MAX], comp[DIGEST_MAX], path[256];
        struct stat st;

        snprintf(root, sizeof(root), "%s/root-stage", tmpdir);
        snprintf(runroot, sizeof(runroot), "%s/root-stage-run", tmpdir);
        EngineOptions o = {.root = root, .runroot = runroot};
        if (!ok(engine_open(&o, &e, &err) == 0, "engine opens")) {
                diag("%s", err.message);
                return;
        }
        simple_tar(&t);
        sha256_digest(t.buf, t.len, diff);
        size_t glen;
        _cleanup_free_ char *gz = gzip_buf(t.buf, t.len, &glen);
        sha256_digest(gz, glen, comp);
        free(t.buf);
        _cleanup_close_ int fd = mem_fd(gz, glen);
        const unsigned flags = LAYER_COMPRESSED_CHECKED | LAYER_NO_SYNC;
        is_int(layer_stage_new(e, fd, comp, NULL, flags, &s1, &err), 0, "first layer staged");
        lseek(fd, 0, SEEK_SET);
        is_int(layer_stage_new(e, fd, comp, NULL, flags, &s2, &err), 0, "second layer staged");
        is_str(layer_staged_diff_id(s1), diff, "staged diff_id");
        LayerStaged *both[3] = {s1, NULL, s2};
        is_int(layer_staged_sync(e, both, 3, &err), 1, "one flush for both");
        is_int(layer_staged_sync(e, both, 3, &err), 0, "nothing left to flush");
        is_int(layer_stage_rename(e, s1, NULL, &i1, &err), 0, "base renamed into place");
        is_int(layer_stage_rename(e, s2, i1.id, &i2, &err), 0, "upper renamed into place");
        is_str(i1.compressed_digest, comp, "the compressed digest recorded is the checked one");
        is_int(layer_stage_rename(e, s1, NULL, &i1, &err), -EALREADY, "a staged layer renames once");
        snprintf(path, sizeof(path), "%s/layers/%s/diff/hello", root, i2.id);
        ok(stat(path, &st) == 0 && st.st_size == 12, "upper layer's files in place");
        is_int(count_rows(e, i1.id), 0, "no row before the commit");
        is_int(layer_sync_names(e, &err), 0, "renames flushed");
        ok(db_begin_write(e->db, &err) == 0 && layer_record(e, NULL, &i1, &err) == 0 &&
                   layer_record(e, i1.id, &i2, &err) == 0 && db_commit(e->db, &err) == 0,
           "both rows in one transaction");
        ok(count_rows(e, i1.id) > 0 && count_rows(e, i2.id) > 0, "both layers recorded");
        layer_staged_free(s1);
        layer_staged_free(s2);
        is_int(layer_remove(e, i2.id, &err), 0, "upper layer removed");
        is_int(layer_remove(e, i1.id, &err), 0, "base layer removed");
        engine_close(e);
}

TEST(tar_write_roundtrip) {
        Tar t;
        CpodError err = {};
        struct stat st;
        char buf[16] = {};
        _cleanup_close_ int a = make_root("root-rt-a");
        _cleanup_close_ int b = make_root("root-rt-b");

        tar_begin(&t);
        tar_add(&t, "etc/", AE_IFDIR, 0755, NULL, NULL);
        tar_add(&t, "etc/passwd", AE_IFREG, 0644, "root:x:0:0\n", NULL);
        tar_add(&t, "etc/hard", AE_IFREG, 0644, NULL, "etc/passwd");
        tar_add(&t, "bin/sh", AE_IFLNK, 0777, NULL, "busybox");
        tar_add(&t, "usr/.wh.gone", AE_IFREG, 0600, NULL, NULL);
        tar_add(&t, "opt/.wh..wh..opq", AE_IFREG, 0600, NULL, NULL);
        tar_end(&t);
        is_int(extract(&t, a, &err), 0, "source layer extracts");

        char path[128];
        snprintf(path, sizeof(path), "%s/root-rt.tar", tmpdir);
        _cleanup_close_ int out = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        is_int(tar_write_dir(a, out, true, &err), 0, "tar_write_dir with whiteouts");
        lseek(out, 0, SEEK_SET);
        is_int(layer_extract_to(out, b, &err), 0, "written tar extracts again");
        ok(fstatat(b, "etc/passwd", &st, 0) == 0 && st.st_size == 11 && st.st_uid == 1000,
           "file round trip");
        ok(fstatat(b, "etc/hard", &st, 0) == 0 && st.st_nlink == 2, "hard link round trip");
        ok(readlinkat(b, "bin/sh", buf, sizeof(buf) - 1) == 7, "symlink round trip");
        ok(fstatat(b, "usr/gone", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode),
           "whiteout round trip");
        _cleanup_close_ int opt = openat(b, "opt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(fgetxattr(opt, "trusted.overlay.opaque", buf, sizeof(buf)) == 1, "opaque marker round trip");

        /* without whiteouts (export of a merged view) they are left out */
        _cleanup_close_ int c = make_root("root-rt-c");
        ftruncate(out, 0);
        lseek(out, 0, SEEK_SET);
        is_int(tar_write_dir(a, out, false, &err), 0, "tar_write_dir without whiteouts");
        lseek(out, 0, SEEK_SET);
        is_int(layer_extract_to(out, c, &err), 0, "export tar extracts");
        ok(fstatat(c, "usr/gone", &st, AT_SYMLINK_NOFOLLOW) < 0, "no whiteout in an export");
        unlink(path);
}

TEST(layer_store) {
        Tar t;
        CpodError err = {};
        LayerInfo l1, l2, again;
        Engine *e = NULL;
        char root[128], runroot[128], diff[DIGEST_MAX];

        snprintf(root, sizeof(root), "%s/root-store", tmpdir);
        snprintf(runroot, sizeof(runroot), "%s/root-run", tmpdir);
        EngineOptions o = {.root = root, .runroot = runroot};
        if (!ok(engine_open(&o, &e, &err) == 0, "engine opens")) {
                diag("%s", err.message);
                return;
        }
        simple_tar(&t);
        sha256_digest(t.buf, t.len, diff);
        _cleanup_close_ int fd = mem_fd(t.buf, t.len);
        free(t.buf);
        is_int(layer_store(e, fd, NULL, NULL, diff, &l1, &err), 0, "base layer stored");
        is_str(l1.id, diff + 7, "its id is its diff_id");
        _cleanup_free_ char *p = NULL;
        is_int(layer_diff_path(e, l1.id, &p), 0, "diff path");
        char f[256];
        snprintf(f, sizeof(f), "%s/hello", p);
        ok(access(f, F_OK) == 0, "files under layers/<id>/diff");

        lseek(fd, 0, SEEK_SET);
        is_int(layer_store(e, fd, l1.id, NULL, NULL, &l2, &err), 0, "upper layer stored");
        char chain[65];
        layer_chain_id(l1.id, diff, chain);
        is_str(l2.id, chain, "upper layer id is the chain id");
        lseek(fd, 0, SEEK_SET);
        is_int(layer_store(e, fd, NULL, NULL, diff, &again, &err), 0, "storing a known layer again");
        is_str(again.id, l1.id, "same id");

        lseek(fd, 0, SEEK_SET);
        char wrong[DIGEST_MAX];
        sha256_digest("x", 1, wrong);
        is_int(layer_store(e, fd, NULL, wrong, NULL, NULL, &err), -EBADMSG, "digest mismatch refused");
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s/tmp", root);
        DIR *d = opendir(tmp);
        unsigned left = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                left += de->d_name[0] != '.';
        if (d)
                closedir(d);
        is_int(left, 0, "a failed store leaves nothing in tmp");

        is_int(layer_remove(e, l1.id, &err), -EBUSY, "a parent layer is busy");
        is_int(layer_remove(e, l2.id, &err), 0, "top layer removed");
        is_int(layer_remove(e, l1.id, &err), 0, "base layer removed");
        ok(access(f, F_OK) < 0, "its files are gone");
        engine_close(e);
}

/* A docker-archive built here: one gzip layer, one plain layer, a config naming their diff_ids. */
static void docker_archive(const char *path, char id_out[65]) {
        Tar l1, l2, ar;
        char d1[DIGEST_MAX], d2[DIGEST_MAX], config[1024], cd[DIGEST_MAX], name[128];
        size_t gl;

        tar_begin(&l1);
        tar_add(&l1, "bin/", AE_IFDIR, 0755, NULL, NULL);
        tar_add(&l1, "bin/sh", AE_IFREG, 0755, "#!shell\n", NULL);
        tar_add(&l1, "etc/old", AE_IFREG, 0644, "old\n", NULL);
        tar_end(&l1);
        tar_begin(&l2);
        tar_add(&l2, "etc/.wh.old", AE_IFREG, 0644, NULL, NULL);
        tar_add(&l2, "etc/new", AE_IFREG, 0644, "new\n", NULL);
        tar_end(&l2);
        sha256_digest(l1.buf, l1.len, d1);
        sha256_digest(l2.buf, l2.len, d2);
        _cleanup_free_ char *gz = gzip_buf(l1.buf, l1.len, &gl);
        snprintf(config, sizeof(config),
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2023-11-14T22:13:20Z\","
                 "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]"
                 "}}",
                 d1, d2);
        sha256_digest(config, strlen(config), cd);
        memcpy(id_out, cd + 7, 65);

        tar_begin(&ar);
        snprintf(name, sizeof(name), "%s.json", cd + 7);
        tar_add(&ar, name, AE_IFREG, 0644, config, NULL);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "l1/layer.tar");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)gl);
        archive_write_header(ar.a, e);
        archive_write_data(ar.a, gz, gl);
        archive_entry_clear(e);
        archive_entry_set_pathname(e, "l2/layer.tar");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)l2.len);
        archive_write_header(ar.a, e);
        archive_write_data(ar.a, l2.buf, l2.len);
        archive_entry_free(e);
        char manifest[512];
        snprintf(manifest, sizeof(manifest),
                 "[{\"Config\":\"%s\",\"RepoTags\":[\"test/app:1\"],\"Layers\":[\"l1/layer.tar\",\"l2/"
                 "layer.tar\"]}]",
                 name);
        tar_add(&ar, "manifest.json", AE_IFREG, 0644, manifest, NULL);
        tar_end(&ar);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (write(fd, ar.buf, ar.len) != (ssize_t)ar.len)
                abort();
        close(fd);
        free(ar.buf);
        free(l1.buf);
        free(l2.buf);
}

static void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static void reload(Engine *e, const char *path, const char *label, const char *want_id) {
        CpodError err = {};
        char **names = NULL;
        size_t n = 0;
        Image img = {};
        is_int(image_remove(e, want_id, true, NULL, &err), 0, "%s: image removed before reloading", label);
        if (!is_int(image_load(e, path, &names, &n, &err), 0, "%s loads", label))
                diag("%s", err.message);
        ok(n == 1 && streq(names[0], "docker.io/test/app:1"), "%s: name kept", label);
        free_names(names, n);
        is_int(image_get(e, "test/app:1", &img, &err), 0, "%s: image found", label);
        is_str(img.id, want_id, "%s: same image ID", label);
        image_done(&img);
}

TEST(archives) {
        CpodError err = {};
        Engine *e = NULL;
        char root[128], runroot[128], path[192], id[65], **names = NULL;
        size_t n = 0;

        snprintf(root, sizeof(root), "%s/root-img", tmpdir);
        snprintf(runroot, sizeof(runroot), "%s/root-img-run", tmpdir);
        EngineOptions o = {.root = root, .runroot = runroot};
        if (!ok(engine_open(&o, &e, &err) == 0, "engine opens"))
                return;
        snprintf(path, sizeof(path), "%s/root-app.docker.tar", tmpdir);
        docker_archive(path, id);
        if (!is_int(image_load(e, path, &names, &n, &err), 0, "docker-archive loads"))
                diag("%s", err.message);
        ok(n == 1 && streq(names[0], "docker.io/test/app:1"), "RepoTags normalized");
        free_names(names, n);

        const char *refs[] = {"test/app:1"};
        static const struct {
                ImageFormat f;
                const char *suffix, *label;
        } forms[] = {
                {IMAGE_FORMAT_DOCKER_ARCHIVE, "saved.docker.tar", "docker-archive"},
                {IMAGE_FORMAT_OCI_ARCHIVE, "saved.oci.tar", "oci-archive"},
                {IMAGE_FORMAT_OCI_DIR, "saved.oci", "oci dir"},
        };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                snprintf(path, sizeof(path), "%s/root-%s", tmpdir, forms[i].suffix);
                if (!is_int(image_save(e, refs, 1, forms[i].f, path, &err), 0, "save as %s", forms[i].label))
                        diag("%s", err.message);
                reload(e, path, forms[i].label, id);
        }

        char *mp = NULL;
        struct stat st;
        if (is_int(image_mount(e, "test/app:1", &mp, &err), 0, "image mounts") ||
            (diag("%s", err.message), 0)) {
                char f[256];
                snprintf(f, sizeof(f), "%s/etc/new", mp);
                ok(stat(f, &st) == 0, "upper layer file visible");
                snprintf(f, sizeof(f), "%s/etc/old", mp);
                ok(stat(f, &st) < 0, "whited-out file hidden");
                snprintf(f, sizeof(f), "%s/etc/x", mp);
                ok(open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS,
                   "mount is read-only");
                is_int(image_unmount(e, "test/app:1", false, &err), 0, "image unmounts");
                ok(stat(mp, &st) < 0, "mount point removed");
                free(mp);
        }

        snprintf(path, sizeof(path), "%s/root-export.tar", tmpdir);
        if (!is_int(image_export(e, "test/app:1", path, &err), 0, "image exports"))
                diag("%s", err.message);
        char imp[65];
        const char *changes[] = {"CMD [\"/bin/sh\"]",   "ENV A=1",           "ENV A=2",    "EXPOSE 80",
                                 "LABEL a=b c=\"d e\"", "USER nobody",       "WORKDIR /w", "VOLUME /data",
                                 "STOPSIGNAL SIGINT",   "ENTRYPOINT echo hi"};
        if (!is_int(image_import(e, path, "imported", "from a test", changes, ELEMENTSOF(changes), imp,
                                 &err),
                    0, "exported tar imports"))
                diag("%s", err.message);
        Image img = {};
        _cleanup_free_ char *config = NULL;
        if (is_int(image_get(e, "localhost/imported:latest", &img, &err), 0, "imported image named") &&
            is_int(image_read_config(e, &img, &config, &err), 0, "config readable")) {
                ok(strstr(config, "\"Env\":[\"A=2\"]"), "ENV replaced");
                ok(strstr(config, "\"Entrypoint\":[\"/bin/sh\",\"-c\",\"echo hi\"]"), "shell form");
                ok(strstr(config, "\"80/tcp\":{}"), "EXPOSE");
                ok(strstr(config, "\"c\":\"d e\""), "LABEL");
                ok(strstr(config, "\"comment\":\"from a test\""), "history comment");
                diag("%s", config);
                is_int(img.n_layers, 1, "one layer");
        }
        image_done(&img);
        const char *bad[] = {"FROB x"};
        ok(image_import(e, path, NULL, NULL, bad, 1, imp, &err) == -EINVAL && strstr(err.message, "unknown"),
           "unknown change refused: %s", err.message);
        engine_close(e);
}

static void rm_tmpdir(void) {
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        layer_rm_rf_at(fd, tmpdir + 1);
        close(fd);
}

int main(void) {
        strcpy(tmpdir, "/tmp/test-layer-XXXXXX");
        if (!mkdtemp(tmpdir))
                return 1;
        for (unsigned i = 0; i < tests_n_cases_; i++) {
                diag("%s", tests_cases_[i].name);
                tests_cases_[i].fn();
        }
        rm_tmpdir();
        ok(access(tmpdir, F_OK) < 0, "temporary directory removed");
        return tests_done();
}
