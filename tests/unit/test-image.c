/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "tests.h"
#include "util.h"

static char tmpdir[64];
static Engine *engine;

static Engine *open_engine(const char *registries) {
        CpodError err = {};
        char root[128], run[128], conf[128];
        Engine *e = NULL;
        snprintf(root, sizeof root, "%s/root", tmpdir);
        snprintf(run, sizeof run, "%s/run", tmpdir);
        snprintf(conf, sizeof conf, "%s/%s", tmpdir, registries);
        EngineOptions o = {.root = root, .runroot = run, .registries_conf = conf};
        if (engine_open(&o, &e, &err) < 0) {
                diag("engine_open: %s", err.message);
                abort();
        }
        return e;
}

static void setup(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-image-XXXXXX");
        if (!mkdtemp(tmpdir))
                abort();
        char conf[128];
        snprintf(conf, sizeof conf, "%s/registries.conf", tmpdir);
        FILE *f = fopen(conf, "we");
        fputs("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n", f);
        fclose(f);
        engine = open_engine("registries.conf");
}

/* Store a manifest (and config) for a synthetic image: layers is a list of
 * uncompressed tar blobs already stored, with their diff_ids. */
static int make_image_layers(Engine *e, int seed, int64_t created, const char (*layers)[DIGEST_MAX],
                             const uint64_t *sizes, size_t n_layers, const char *const *names,
                             size_t n_names, char id[65], char md[DIGEST_MAX]) {
        CpodError err = {};
        char cfg[4096], man[8192], cd[DIGEST_MAX], ts[64], ids[3000] = "", lay[5000] = "";
        struct tm tm;
        time_t t = (time_t)created;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        for (size_t i = 0; i < n_layers; i++) {
                char one[300];
                snprintf(one, sizeof one, "%s\"%s\"", i ? "," : "", layers[i]);
                strcat(ids, one);
                snprintf(one, sizeof one,
                         "%s{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"%s\",\"size\":%llu}",
                         i ? "," : "", layers[i], (unsigned long long)sizes[i]);
                strcat(lay, one);
        }
        int n = snprintf(cfg, sizeof cfg,
                         "{\"created\":\"%s\",\"architecture\":\"amd64\",\"os\":\"linux\","
                         "\"config\":{\"Labels\":{\"seed\":\"%d\"}},"
                         "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                         ts, seed, ids);
        if (blob_put(e, cfg, (size_t)n, cd, &err) < 0)
                return diag("config: %s", err.message), -1;
        n = snprintf(man, sizeof man,
                     "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
                     "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":%d},"
                     "\"layers\":[%s]}",
                     cd, (int)strlen(cfg), lay);
        if (blob_put(e, man, (size_t)n, md, &err) < 0)
                return diag("manifest: %s", err.message), -1;
        int r = image_commit_manifest(e, md, names, n_names, id, &err);
        if (r < 0)
                diag("commit: %s", err.message);
        return r;
}

static int make_image(Engine *e, int seed, const char *const *names, size_t n_names, char id[65],
                      char md[DIGEST_MAX]) {
        return make_image_layers(e, seed, 1600000000 + seed, NULL, NULL, 0, names, n_names, id, md);
}

static bool has(char **v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

static int get_id(Engine *e, const char *ref, char id[65], CpodError *err) {
        Image img = {};
        int r = image_get(e, ref, &img, err);
        if (r >= 0)
                memcpy(id, img.id, 65);
        image_done(&img);
        return r;
}

static char busybox_id[65], busybox_md[DIGEST_MAX];

TEST(commit_and_list) {
        setup();
        CpodError err = {};
        Image *imgs = NULL;
        size_t n = 0;

        is_int(image_list(engine, &imgs, &n, &err), 0, "empty list");
        is_int(n, 0, "no images");
        image_array_free(imgs, n);

        const char *names[] = {"docker.io/library/busybox:latest", "docker.io/library/busybox:1.36"};
        is_int(make_image(engine, 1, names, 2, busybox_id, busybox_md), 0, "commit an image without layers");
        is_int(image_list(engine, &imgs, &n, &err), 0, "list");
        is_int(n, 1, "one image");
        if (n == 1) {
                is_str(imgs[0].id, busybox_id, "ID");
                is_str(imgs[0].manifest_digest, busybox_md, "manifest digest");
                is_int(imgs[0].n_names, 2, "two names");
                is_str(imgs[0].names[0], "docker.io/library/busybox:1.36", "names sorted");
                is_int(imgs[0].n_digests, 1, "one repo digest");
                char want[200];
                snprintf(want, sizeof want, "docker.io/library/busybox@%s", busybox_md);
                is_str(imgs[0].n_digests ? imgs[0].digests[0] : NULL, want, "repo digest");
                is_int(imgs[0].created, 1600000001, "created from the config");
                is_int(imgs[0].n_layers, 0, "no layers");
        }
        image_array_free(imgs, n);

        char *m = NULL, *c = NULL;
        Image img = {};
        is_int(image_get(engine, busybox_id, &img, &err), 0, "get by ID");
        is_int(image_read_manifest(engine, &img, &m, &err), 0, "read manifest");
        ok(m && strstr(m, MT_OCI_MANIFEST), "manifest content");
        is_int(image_read_config(engine, &img, &c, &err), 0, "read config");
        ok(c && strstr(c, "\"seed\":\"1\""), "config content");
        free(m);
        free(c);
        image_done(&img);

        /* Committing again only adds names. */
        char id2[65], md2[DIGEST_MAX];
        const char *more[] = {"quay.io/b/busybox:v1"};
        is_int(make_image(engine, 1, more, 1, id2, md2), 0, "re-commit");
        is_str(id2, busybox_id, "same ID");
        is_int(image_get(engine, "quay.io/b/busybox:v1", &img, &err), 0, "new name resolves");
        is_int(img.n_names, 3, "three names now");
        is_int(img.n_digests, 2, "two repo digests");
        image_done(&img);
}

TEST(resolve_forms) {
        CpodError err = {};
        char id[65], ref[200];
        const char *forms[] = {"busybox",
                               "busybox:latest",
                               "docker.io/busybox",
                               "docker.io/library/busybox",
                               "docker.io/library/busybox:1.36",
                               "library/busybox"};
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                id[0] = 0;
                is_int(get_id(engine, forms[i], id, &err), 0, "resolve %s", forms[i]);
                is_str(id, busybox_id, "%s is the image", forms[i]);
        }
        snprintf(ref, sizeof ref, "docker.io/library/busybox@%s", busybox_md);
        is_int(get_id(engine, ref, id, &err), 0, "by repo@digest");
        snprintf(ref, sizeof ref, "busybox@%s", busybox_md);
        is_int(get_id(engine, ref, id, &err), 0, "by short name@digest");
        snprintf(ref, sizeof ref, "sha256:%s", busybox_id);
        is_int(get_id(engine, ref, id, &err), 0, "by sha256:ID");
        snprintf(ref, sizeof ref, "%.12s", busybox_id);
        is_int(get_id(engine, ref, id, &err), 0, "by 12-digit prefix");
        is_str(id, busybox_id, "prefix is the image");

        is_int(get_id(engine, "nothere", id, &err), -ENOENT, "unknown name");
        is_str(err.message, "nothere: image not known", "podman's message");
        is_int(get_id(engine, "busybox:2", id, &err), -ENOENT, "unknown tag");
        is_int(get_id(engine, "Bad/Ref", id, &err), -EINVAL, "malformed");
        ok(err.message[0], "with a message: %s", err.message);
        is_int(get_id(engine, "", id, &err), -EINVAL, "empty");
        is_int(get_id(engine, "fff0fff0fff0", id, &err), -ENOENT, "unknown ID");
        snprintf(ref, sizeof ref, "docker.io/library/busybox@sha256:%064d", 0);
        is_int(get_id(engine, ref, id, &err), -ENOENT, "unknown digest");
}

TEST(short_name_order) {
        CpodError err = {};
        char local[65], md[DIGEST_MAX], quay[65], id[65];
        const char *n1[] = {"localhost/alpine:latest"};
        const char *n2[] = {"quay.io/alpine:latest"};
        is_int(make_image(engine, 2, n1, 1, local, md), 0, "localhost/alpine");
        is_int(make_image(engine, 3, n2, 1, quay, md), 0, "quay.io/alpine");
        is_int(get_id(engine, "alpine", id, &err), 0, "resolve alpine");
        is_str(id, local, "localhost comes before the search registries");
        is_int(image_untag(engine, "localhost/alpine", NULL, &err), 0, "untag localhost/alpine");
        is_int(get_id(engine, "alpine", id, &err), 0, "resolve alpine");
        is_str(id, quay, "then the first search registry");

        /* No search registries at all: any repository ending in the name. */
        Engine *bare = open_engine("no-such-registries.conf");
        is_int(get_id(bare, "busybox", id, &err), 0, "suffix match without registries.conf");
        is_str(id, busybox_id, "docker.io/library/busybox:latest");
        is_int(get_id(bare, "b/busybox:v1", id, &err), 0, "multi-component suffix");
        is_int(get_id(bare, "usybox", id, &err), -ENOENT, "only whole components match");
        engine_close(bare);
}

TEST(tag_untag_move) {
        CpodError err = {};
        char id[65], other[65], md[DIGEST_MAX];
        Image img = {};

        is_int(image_tag(engine, "busybox", "f28", &err), 0, "tag f28");
        is_int(image_get(engine, "localhost/f28:latest", &img, &err), 0, "short tag is under localhost/");
        is_str(img.id, busybox_id, "on the image");
        image_done(&img);
        is_int(image_tag(engine, "busybox", "example.com:5000/x/y:t1", &err), 0, "tag with a port");
        is_int(image_tag(engine, "busybox", "x@sha256:0000", &err), -EINVAL, "a digest is no tag");
        is_int(image_tag(engine, "nothere", "z", &err), -ENOENT, "tagging a missing image");

        const char *names[] = {"docker.io/library/busybox:latest"};
        is_int(make_image(engine, 4, names, 1, other, md), 0, "another image takes busybox:latest");
        is_int(get_id(engine, "busybox", id, &err), 0, "resolve busybox");
        is_str(id, other, "the name moved");
        is_int(image_get(engine, busybox_id, &img, &err), 0, "old image");
        ok(!has(img.names, img.n_names, "docker.io/library/busybox:latest"), "lost the name");
        ok(has(img.names, img.n_names, "docker.io/library/busybox:1.36"), "kept its other names");
        char want[200];
        snprintf(want, sizeof want, "docker.io/library/busybox@%s", busybox_md);
        ok(has(img.digests, img.n_digests, want), "kept the repo digest (1.36 is in that repository)");
        image_done(&img);

        is_int(image_untag(engine, busybox_id, "docker.io/library/busybox:1.36", &err), 0, "untag 1.36");
        is_int(image_get(engine, busybox_id, &img, &err), 0, "old image");
        ok(!has(img.digests, img.n_digests, want), "last name in the repository gone: repo digest gone");
        image_done(&img);
        is_int(image_untag(engine, busybox_id, "f28", &err), 0, "untag by short name");
        is_int(image_untag(engine, busybox_id, "f28", &err), -ENOENT, "again: not known");
        ok(strstr(err.message, "tag not known") != NULL, "message: %s", err.message);
        is_int(image_untag(engine, busybox_id, NULL, &err), 0, "untag all");
        is_int(image_get(engine, busybox_id, &img, &err), 0, "still there by ID");
        is_int(img.n_names, 0, "dangling");
        is_int(img.n_digests, 0, "no repo digests");
        image_done(&img);
}

TEST(remove_and_prune) {
        CpodError err = {};
        char a[65], b[65], md_a[DIGEST_MAX], md_b[DIGEST_MAX], cfg[DIGEST_MAX];
        char *removed = NULL;
        const char *na[] = {"localhost/rm:one", "localhost/rm:two"};

        is_int(make_image(engine, 10, na, 2, a, md_a), 0, "image with two names");
        is_int(image_remove(engine, "rm:one", false, &removed, &err), 1, "rmi of one of two names untags");
        ok(removed == NULL, "nothing deleted");
        is_int(image_remove(engine, a, false, &removed, &err), 0, "by ID with one name left");
        is_str(removed, a, "deleted");
        free(removed);
        ok(!blob_exists(engine, md_a), "manifest blob removed");
        snprintf(cfg, sizeof cfg, "sha256:%s", a);
        ok(!blob_exists(engine, cfg), "config blob removed");
        is_int(get_id(engine, "rm:two", b, &err), -ENOENT, "its names are gone");

        const char *nb[] = {"localhost/rm:one", "localhost/rm:two"};
        is_int(make_image(engine, 11, nb, 2, b, md_b), 0, "again with two names");
        is_int(image_remove(engine, b, false, &removed, &err), -EBUSY, "by ID with two names needs force");
        ok(strstr(err.message, "force") != NULL, "message: %s", err.message);
        is_int(image_remove(engine, b, true, &removed, &err), 0, "forced");
        free(removed);
        is_int(image_remove(engine, b, false, &removed, &err), -ENOENT, "gone");

        /* A blob shared by two images stays while one uses it. */
        char c[65], d[65], md_c[DIGEST_MAX];
        const char *nc[] = {"localhost/shared:c"}, *nd[] = {"localhost/shared:d"};
        is_int(make_image(engine, 12, nc, 1, c, md_c), 0, "image c");
        is_int(make_image(engine, 12, nd, 1, d, md_c), 0, "same content, another name");
        is_str(c, d, "same image");

        Image *imgs = NULL;
        size_t n = 0, before = 0;
        image_list(engine, &imgs, &before, &err);
        image_array_free(imgs, before);
        char **ids = NULL;
        is_int(image_prune(engine, false, &ids, &n, &err), 0, "prune dangling");
        is_int(n, 2, "two dangling images (the untagged busybox and localhost/alpine)");
        ok(has(ids, n, busybox_id), "busybox among them");
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        image_list(engine, &imgs, &n, &err);
        is_int(n, before - 2, "two fewer");
        for (size_t i = 0; i < n; i++)
                ok(imgs[i].n_names > 0, "%s has names", imgs[i].id);
        image_array_free(imgs, n);

        is_int(image_prune(engine, true, &ids, &n, &err), 0, "prune all");
        ok(n >= 1, "removed %zu", n);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        image_list(engine, &imgs, &n, &err);
        is_int(n, 0, "nothing left");
        image_array_free(imgs, n);
}

TEST(ambiguous_prefix) {
        CpodError err = {};
        char ids[400][65], md[DIGEST_MAX];
        int x = -1, y = -1;
        for (int i = 0; i < 400 && x < 0; i++) {
                if (make_image(engine, 1000 + i, NULL, 0, ids[i], md) < 0)
                        break;
                for (int j = 0; j < i; j++)
                        if (memcmp(ids[i], ids[j], 3) == 0) {
                                x = j;
                                y = i;
                                break;
                        }
        }
        ok(x >= 0, "two IDs share 3 hex digits");
        if (x < 0)
                return;
        char prefix[8], id[65];
        size_t common = 0;
        while (ids[x][common] == ids[y][common])
                common++;
        snprintf(prefix, sizeof prefix, "%.3s", ids[x]);
        is_int(get_id(engine, prefix, id, &err), -ENOTUNIQ, "a shared prefix is ambiguous");
        ok(strstr(err.message, "is ambiguous") != NULL, "message: %s", err.message);
        char longer[70];
        snprintf(longer, sizeof longer, "%.*s", (int)common + 1, ids[y]);
        is_int(get_id(engine, longer, id, &err), 0, "one more digit is unique");
        is_str(id, ids[y], "the right image");
        is_int(get_id(engine, "ab", id, &err), -ENOENT, "two digits are no prefix");

        char **pruned = NULL;
        size_t n = 0;
        image_prune(engine, true, &pruned, &n, &err);
        for (size_t i = 0; i < n; i++)
                free(pruned[i]);
        free(pruned);
}

/* 1,000 images (rows written directly: committing each would mostly time fsync). */
TEST(list_is_fast) {
        CpodError err = {};
        char sql[2048], id[65];
        sqlite3 *db = engine->db;
        db_begin_write(db, &err);
        for (int i = 0; i < 1000; i++) {
                char cfg[32];
                snprintf(cfg, sizeof cfg, "perf-%d", i);
                sha256_digest(cfg, strlen(cfg), sql);
                memcpy(id, digest_hex(sql), 65);
                snprintf(sql, sizeof sql,
                         "INSERT INTO images VALUES('%s', 'sha256:%s', %d, 0, NULL, 0);"
                         "INSERT INTO image_names VALUES('localhost/perf%d:latest', '%s');"
                         "INSERT INTO image_names VALUES('localhost/perf%d:v2', '%s');"
                         "INSERT INTO image_digests VALUES('localhost/perf%d', 'sha256:%s', '%s');",
                         id, id, i, i, id, i, id, i, id, id);
                db_exec(db, sql, &err);
        }
        is_int(db_commit(db, &err), 0, "1,000 rows");

        Image *imgs = NULL;
        size_t n = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        is_int(image_list(engine, &imgs, &n, &err), 0, "list");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        is_int(n, 1000, "1,000 images");
        ok(n && imgs[0].created == 999 && imgs[0].n_names == 2 && imgs[0].n_digests == 1,
           "newest first, complete");
        diag("image_list of 1,000 images: %.2f ms", ms);
        ok(ms < 500, "fast enough even under sanitizers");
        image_array_free(imgs, n);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        image_list(engine, &imgs, &n, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        image_array_free(imgs, n);
        ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        diag("again: %.2f ms", ms);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        is_int(get_id(engine, "perf500:v2", id, &err), 0, "short name among 1,000");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        diag("image_get by short name: %.2f ms", ms);

        db_exec(db, "DELETE FROM images", &err);
}

/* A one-file ustar archive, enough for layer_store. */
static size_t make_tar(const char *name, const char *content, char *out, size_t cap) {
        size_t len = strlen(content), total = 512 + (len + 511) / 512 * 512 + 1024;
        if (total > cap)
                abort();
        memset(out, 0, total);
        char *h = out;
        snprintf(h, 100, "%s", name);
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011o", (unsigned)len);
        snprintf(h + 136, 12, "%011o", 1600000000u);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        memcpy(out + 512, content, len);
        return total;
}

static bool layer_dir_has(const char *chain, const char *file) {
        char p[300];
        snprintf(p, sizeof p, "%s/root/layers/%s/diff/%s", tmpdir, chain, file);
        return access(p, F_OK) == 0;
}

static bool layer_dir_exists(const char *chain) {
        char p[300];
        snprintf(p, sizeof p, "%s/root/layers/%s", tmpdir, chain);
        return access(p, F_OK) == 0;
}

TEST(with_layers) {
        CpodError err = {};
        static char tar[3][4096];
        char digests[3][DIGEST_MAX], chain[3][65], a[65], b[65], md[DIGEST_MAX];
        uint64_t sizes[3];
        const char *files[] = {"base.txt", "a.txt", "b.txt"};
        for (int i = 0; i < 3; i++) {
                sizes[i] = make_tar(files[i], files[i], tar[i], sizeof tar[i]);
                is_int(blob_put(engine, tar[i], sizes[i], digests[i], &err), 0, "layer blob %d", i);
        }
        layer_chain_id(NULL, digests[0], chain[0]);
        layer_chain_id(chain[0], digests[1], chain[1]);
        char lb[2][DIGEST_MAX];
        memcpy(lb[0], digests[0], DIGEST_MAX);
        memcpy(lb[1], digests[2], DIGEST_MAX);
        layer_chain_id(chain[0], digests[2], chain[2]);

        const char *na[] = {"localhost/layered:a"}, *nb[] = {"localhost/layered:b"};
        int r = make_image_layers(engine, 50, 1700000000, digests, sizes, 2, na, 1, a, md);
        is_int(r, 0, "commit an image with two layers");
        if (r < 0)
                return;
        uint64_t sb[2] = {sizes[0], sizes[2]};
        is_int(make_image_layers(engine, 51, 1700000001, lb, sb, 2, nb, 1, b, md), 0,
               "another sharing the base");

        Image img = {};
        is_int(image_get(engine, "layered:a", &img, &err), 0, "get");
        is_int(img.n_layers, 2, "two layers");
        is_str(img.n_layers == 2 ? img.layers[0] : NULL, chain[0], "bottom layer first");
        is_str(img.n_layers == 2 ? img.layers[1] : NULL, chain[1], "then the top");
        is_int(img.size, sizes[0] + sizes[1], "size is the sum of the layers");
        uint64_t ls[2] = {};
        is_int(image_layer_sizes(engine, &img, ls, &err), 0, "image_layer_sizes");
        ok(ls[0] == sizes[0] && ls[1] == sizes[1], "one size per layer, bottom first");
        image_done(&img);
        ok(layer_dir_has(chain[0], "base.txt"), "base layer extracted");
        ok(layer_dir_has(chain[1], "a.txt"), "top layer extracted");

        StoreUsage u = {};
        is_int(store_usage(engine, &u, &err), 0, "store_usage");
        is_int(u.images, 2, "two images");
        is_int(u.layers, 3, "three layers");
        is_int(u.layers_size, sizes[0] + sizes[1] + sizes[2], "layer bytes");

        char *removed = NULL;
        is_int(image_remove(engine, "layered:a", false, &removed, &err), 0, "remove a");
        free(removed);
        ok(!layer_dir_exists(chain[1]), "its own layer is gone");
        ok(layer_dir_exists(chain[0]), "the shared base stays");
        ok(!blob_exists(engine, digests[1]), "its layer blob is gone");
        ok(blob_exists(engine, digests[0]), "the shared layer blob stays");
        is_int(image_remove(engine, "layered:b", false, &removed, &err), 0, "remove b");
        free(removed);
        ok(!layer_dir_exists(chain[0]) && !layer_dir_exists(chain[2]), "all layers gone");
        ok(!blob_exists(engine, digests[0]), "all layer blobs gone");
        is_int(store_usage(engine, &u, &err), 0, "store_usage");
        is_int(u.layers, 0, "no layer rows");
}

/* Can a collector take the store now (nobody holds gc.lock)? */
static bool gc_lock_free(void) {
        char p[300];
        snprintf(p, sizeof p, "%s/root/gc.lock", tmpdir);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        bool free_now = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (fd >= 0)
                close(fd);
        return free_now;
}

TEST(failed_commit_cleans_up) {
        CpodError err = {};
        static char tar[4096];
        char digests[2][DIGEST_MAX], chain[65], id[65], md[DIGEST_MAX];
        const char *bad = "this is no tar archive, and it is long enough to be read as one header.....";
        uint64_t sizes[2];
        sizes[0] = make_tar("fresh.txt", "a layer no image has", tar, sizeof tar);
        sizes[1] = strlen(bad);
        is_int(blob_put(engine, tar, sizes[0], digests[0], &err), 0, "good layer blob");
        is_int(blob_put(engine, bad, sizes[1], digests[1], &err), 0, "bad layer blob");
        layer_chain_id(NULL, digests[0], chain);

        const char *names[] = {"localhost/rejected:latest"};
        ok(make_image_layers(engine, 80, 1700000100, digests, sizes, 2, names, 1, id, md) < 0,
           "the second layer is rejected");
        ok(!layer_dir_exists(chain), "the first layer's directory went again");
        is_int(db_get_text(engine->db, "SELECT 1 FROM layers WHERE id = ?1", DB_PARAMS(chain), NULL, &err),
               0, "and its row");
        ok(gc_lock_free(), "the garbage-collection lock is released after a failed commit");
        /* The caller's blobs (manifest, config, layers) are the caller's to remove; no layer is left. */
        StoreReport rep = {};
        is_int(store_check(engine, false, &rep, &err), 0, "check");
        bool layer_left = false;
        for (size_t i = 0; i < rep.n_problems; i++)
                layer_left |= strstr(rep.problems[i], "layer") != NULL;
        ok(!layer_left, "no layer row or directory left over");
        store_report_done(&rep);
        is_int(store_check(engine, true, &rep, &err), 0, "repair the blobs");
        store_report_done(&rep);

        /* A layer already extracted needs no compressed blob. */
        const char *na[] = {"localhost/blobless:a"}, *nb[] = {"localhost/blobless:b"};
        char a[65], b[65];
        is_int(blob_put(engine, tar, sizes[0], digests[0], &err), 0, "layer blob again");
        is_int(make_image_layers(engine, 81, 1700000101, digests, sizes, 1, na, 1, a, md), 0, "image a");
        ok(gc_lock_free(), "the garbage-collection lock is released after a commit");
        blob_remove(engine, digests[0]);
        is_int(make_image_layers(engine, 82, 1700000102, digests, sizes, 1, nb, 1, b, md), 0,
               "image b commits on the extracted layer without its blob");
        is_int(db_get_text(engine->db, "SELECT 1 FROM image_blobs WHERE image_id = ?1 AND digest = ?2",
                           DB_PARAMS(b, digests[0]), NULL, &err),
               0, "and does not claim the missing blob");
        char *removed = NULL;
        is_int(image_remove(engine, "blobless:a", false, &removed, &err), 0, "remove a");
        free(removed);
        removed = NULL;
        is_int(image_remove(engine, "blobless:b", false, &removed, &err), 0, "remove b");
        free(removed);
        ok(!layer_dir_exists(chain), "the layer went with the last image");
        ok(gc_lock_free(), "the garbage-collection lock is released after a removal");
}

static void touch(const char *rel) {
        char p[300];
        snprintf(p, sizeof p, "%s/root/%s", tmpdir, rel);
        FILE *f = fopen(p, "we");
        if (f)
                fclose(f);
}

TEST(store_check_repairs) {
        CpodError err = {};
        StoreReport rep = {};
        char ok_id[65], broken[65], md[DIGEST_MAX], d[DIGEST_MAX];
        const char *n1[] = {"localhost/fine:1"}, *n2[] = {"localhost/broken:1"};

        is_int(store_check(engine, false, &rep, &err), 0, "check an empty store");
        is_int(rep.n_problems, 0, "clean");
        store_report_done(&rep);

        make_image(engine, 60, n1, 1, ok_id, md);
        make_image(engine, 61, n2, 1, broken, md);
        blob_remove(engine, md);                /* damage: the manifest of broken */
        blob_put(engine, "orphan", 6, d, &err); /* a killed pull */
        touch("tmp/staging");
        char dir[300];
        snprintf(dir, sizeof dir, "%s/root/layers/%064d", tmpdir, 7);
        mkdir(dir, 0700);
        db_exec(engine->db,
                "INSERT INTO layers "
                "VALUES('1111111111111111111111111111111111111111111111111111111111111111',"
                " NULL, 'sha256:x', NULL, 0)",
                &err);

        is_int(store_check(engine, false, &rep, &err), 0, "check");
        for (size_t i = 0; i < rep.n_problems; i++)
                diag("%s", rep.problems[i]);
        is_int(rep.n_problems, 5, "five problems");
        is_int(rep.repaired, 0, "nothing repaired without repair");
        store_report_done(&rep);
        ok(blob_exists(engine, d), "check alone changes nothing");

        is_int(store_check(engine, true, &rep, &err), 0, "repair");
        ok(rep.repaired >= 5, "repaired %u", rep.repaired);
        store_report_done(&rep);
        is_int(store_check(engine, false, &rep, &err), 0, "check again");
        is_int(rep.n_problems, 0, "clean after repair");
        store_report_done(&rep);
        char id[65];
        is_int(get_id(engine, "fine:1", id, &err), 0, "the healthy image is still there");
        is_int(get_id(engine, "broken:1", id, &err), -ENOENT, "the broken one was removed");
        ok(!blob_exists(engine, d), "the orphan blob was removed");

        Engine *other = open_engine("registries.conf");
        is_int(store_check(engine, true, &rep, &err), -EBUSY,
               "no repair while another process uses the store");
        engine_close(other);
}

TEST(store_reset_empties) {
        CpodError err = {};
        char id[65], md[DIGEST_MAX];
        const char *n[] = {"localhost/reset:1"};
        make_image(engine, 70, n, 1, id, md);
        is_int(store_reset(engine, &err), 0, "reset");
        Image *imgs = NULL;
        size_t count = 5;
        is_int(image_list(engine, &imgs, &count, &err), 0, "list after reset");
        is_int(count, 0, "no images");
        image_array_free(imgs, count);
        ok(!blob_exists(engine, md), "blobs gone");
        is_int(make_image(engine, 71, n, 1, id, md), 0, "the store works after a reset");
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
