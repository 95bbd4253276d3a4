/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "engine.h"
#include "tests.h"
#include "util.h"

static char tmpdir[64];
static Engine *engine;

static Engine *setup(void) {
        CpodError err = {};
        char root[128], run[128];
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-blob-XXXXXX");
        if (!mkdtemp(tmpdir))
                abort();
        snprintf(root, sizeof root, "%s/root", tmpdir);
        snprintf(run, sizeof run, "%s/run", tmpdir);
        EngineOptions o = {.root = root, .runroot = run};
        if (engine_open(&o, &engine, &err) < 0) {
                diag("engine_open: %s", err.message);
                abort();
        }
        return engine;
}

static unsigned count_entries(const char *sub) {
        char p[160];
        snprintf(p, sizeof p, "%s/root/%s", tmpdir, sub);
        DIR *d = opendir(p);
        unsigned n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

/* sha256("hello") */
#define HELLO "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

TEST(put_read) {
        Engine *e = setup();
        CpodError err = {};
        char d[DIGEST_MAX];

        ok(!blob_exists(e, HELLO), "not there before");
        is_int(blob_put(e, "hello", 5, d, &err), 0, "blob_put");
        is_str(d, HELLO, "digest");
        ok(blob_exists(e, HELLO), "exists after");
        is_int(blob_put(e, "hello", 5, d, &err), 0, "putting it again is fine");

        char *data = NULL;
        size_t n = 0;
        is_int(blob_read(e, HELLO, 100, &data, &n, &err), 0, "blob_read");
        is_int(n, 5, "length");
        is_str(data, "hello", "content, NUL-terminated");
        free(data);
        data = NULL;
        is_int(blob_read(e, HELLO, 4, &data, &n, &err), -EFBIG, "larger than max");
        ok(strstr(err.message, "larger") != NULL, "message: %s", err.message);

        char *path = NULL;
        is_int(blob_path(e, HELLO, &path), 0, "blob_path");
        ok(path && strstr(path, "/blobs/sha256/2cf24dba") != NULL, "path in the OCI layout: %s", path);
        struct stat st;
        ok(path && stat(path, &st) == 0 && st.st_size == 5, "file has the content");
        free(path);
        is_int(blob_path(e, "sha256:nothex", &path), -EINVAL, "bad digest");
        is_int(count_entries("tmp"), 0, "nothing left in tmp");
}

TEST(open_missing) {
        CpodError err = {};
        const char *missing = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        is_int(blob_open(engine, missing, &err), -ENOENT, "missing blob");
        ok(strstr(err.message, missing) != NULL, "message names it: %s", err.message);
        is_int(blob_open(engine, "md5:abc", &err), -EINVAL, "invalid digest");
        is_int(blob_remove(engine, missing), -ENOENT, "remove missing");
        int fd = blob_open(engine, HELLO, &err);
        ok(fd >= 0, "open existing");
        ok(fd < 0 || (fcntl(fd, F_GETFD) & FD_CLOEXEC), "O_CLOEXEC");
        if (fd >= 0)
                close(fd);
}

TEST(writer_streams) {
        CpodError err = {};
        BlobWriter *w = NULL;
        char d[DIGEST_MAX], d2[DIGEST_MAX];
        static char big[300000];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (char)(i * 7);

        is_int(blob_writer_new(engine, &w, &err), 0, "writer");
        for (size_t off = 0; off < sizeof big; off += 1000)
                blob_writer_write(w, big + off, MIN(1000, sizeof big - off), &err);
        is_int(blob_writer_size(w), sizeof big, "size counted");
        is_int(blob_writer_commit(w, NULL, d, &err), 0, "commit");
        sha256_digest(big, sizeof big, d2);
        is_str(d, d2, "digest of the stream");
        ok(blob_exists(engine, d), "stored");

        w = NULL;
        is_int(blob_writer_new(engine, &w, &err), 0, "writer");
        blob_writer_write(w, "abc", 3, &err);
        is_int(blob_writer_commit(w, HELLO, d, &err), -EBADMSG, "mismatch refused");
        ok(strstr(err.message, "mismatch") != NULL, "message: %s", err.message);
        char abc[DIGEST_MAX];
        sha256_digest("abc", 3, abc);
        ok(!blob_exists(engine, abc), "a mismatch stores nothing");

        w = NULL;
        is_int(blob_writer_new(engine, &w, &err), 0, "writer");
        blob_writer_write(w, "abc", 3, &err);
        blob_writer_abort(w);
        blob_writer_abort(NULL);
        ok(!blob_exists(engine, abc), "abort stores nothing");
        is_int(count_entries("tmp"), 0, "nothing left in tmp");
}

TEST(put_fd) {
        CpodError err = {};
        char d[DIGEST_MAX], src[160];
        uint64_t size = 0;
        snprintf(src, sizeof src, "%s/src", tmpdir);
        FILE *f = fopen(src, "we");
        for (int i = 0; i < 100000; i++)
                fputc('a' + i % 26, f);
        fclose(f);

        int fd = open(src, O_RDONLY | O_CLOEXEC);
        is_int(blob_put_fd(engine, fd, NULL, d, &size, &err), 0, "blob_put_fd");
        is_int(size, 100000, "size");
        close(fd);
        char again[DIGEST_MAX];
        fd = open(src, O_RDONLY | O_CLOEXEC);
        is_int(blob_put_fd(engine, fd, d, again, NULL, &err), 0, "expected digest matches");
        is_str(again, d, "same digest");
        close(fd);
        fd = open(src, O_RDONLY | O_CLOEXEC);
        is_int(blob_put_fd(engine, fd, HELLO, again, NULL, &err), -EBADMSG, "expected digest differs");
        close(fd);
        is_int(blob_remove(engine, d), 0, "remove");
        ok(!blob_exists(engine, d), "gone");
        is_int(count_entries("tmp"), 0, "nothing left in tmp");
}

int main(void) {
        int r = run_tests();
        engine_close(engine);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                diag("could not remove %s", tmpdir);
        return r;
}
