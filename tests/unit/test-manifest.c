/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "digest.h"
#include "error.h"
#include "manifest.h"
#include "tests.h"
#include "util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int parse(const char *json, Manifest *m, CpodError *err) {
        return manifest_parse(json, strlen(json), NULL, m, err);
}

TEST(digest) {
        char d[DIGEST_MAX];
        Sha256 *h = NULL;

        sha256_digest("abc", 3, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "sha256 of abc");
        sha256_digest("", 0, d);
        is_str(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "sha256 of nothing");
        ok(sha256_new(&h) == 0, "sha256_new");
        sha256_update(h, "a", 1);
        sha256_update(h, "bc", 2);
        sha256_final(h, d);
        h = sha256_free(h);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "streaming");
        ok(digest_valid(D1), "valid digest");
        is_str(digest_hex(D1), D1 + 7, "digest_hex");
        ok(!digest_valid("sha256:ABCD"), "short");
        ok(!digest_valid(D1 "0"), "long");
        ok(!digest_valid("sha512:1111111111111111111111111111111111111111111111111111111111111111"),
           "algorithm");
        ok(!digest_valid("sha256:111111111111111111111111111111111111111111111111111111111111111A"),
           "uppercase");
        ok(!digest_valid(NULL), "NULL");
        ok(!digest_hex("x"), "digest_hex of junk");
}

TEST(error) {
        CpodError err = {};

        is_int(cpod_error(&err, EINVAL, "bad %s", "thing"), -EINVAL, "cpod_error returns -code");
        is_str(err.message, "bad thing", "message");
        is_int(cpod_error_wrap(&err, "load `%s`", "x"), -EINVAL, "wrap returns the code");
        is_str(err.message, "load `x`: bad thing", "wrapped");
        is_int(cpod_error_errno(&err, ENOENT, "open `%s`", "/x"), -ENOENT, "errno form");
        is_str(err.message, "open `/x`: No such file or directory", "strerror appended");
        cpod_error_clear(&err);
        is_int(err.code, 0, "cleared");
        is_int(cpod_error_wrap(&err, "ctx"), -EIO, "wrap without an error");
        is_int(cpod_error(NULL, EPERM, "x"), -EPERM, "NULL error object");
}

TEST(oci_manifest) {
        const char *json =
                "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
                "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":7023},"
                "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":32654},"
                "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D3 "\",\"size\":0}],"
                "\"annotations\":{\"a\":\"b\"}}";
        Manifest m = {};
        CpodError err = {};

        is_int(parse(json, &m, &err), 0, "parse OCI manifest");
        ok(!m.is_index, "not an index");
        is_str(m.media_type, MT_OCI_MANIFEST, "media type");
        is_str(m.config.digest, D1, "config digest");
        is_int(m.config.size, 7023, "config size");
        is_int(m.n_layers, 2, "two layers");
        is_str(m.layers[1].media_type, MT_OCI_LAYER_ZSTD, "layer media type");
        is_str(m.layers[0].digest, D2, "layer digest");
        manifest_done(&m);
        manifest_done(&m);

        /* No mediaType in the document: the caller's hint, else the shape. */
        json = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"digest\":\"" D1
               "\",\"size\":1},\"layers\":[]}";
        is_int(manifest_parse(json, strlen(json), MT_DOCKER_MANIFEST, &m, &err), 0,
               "hinted docker manifest");
        is_str(m.media_type, MT_DOCKER_MANIFEST, "hint used");
        is_int(m.n_layers, 0, "no layers");
        manifest_done(&m);
        is_int(parse(json, &m, &err), 0, "unhinted");
        is_str(m.media_type, MT_OCI_MANIFEST, "OCI assumed");
        manifest_done(&m);
}

static const char index_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":528,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":528,"
        "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":528,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":1,"
        "\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"}}]}";

TEST(index) {
        Manifest m = {};
        CpodError err = {};
        const Descriptor *d;
        struct utsname u;

        is_int(parse(index_json, &m, &err), 0, "parse manifest list");
        ok(m.is_index, "index");
        is_int(m.n_layers, 4, "four entries");
        is_str(m.layers[1].variant, "v7", "variant");
        d = manifest_select(&m, "linux", "arm", "v7");
        ok(d && streq(d->digest, D2), "select arm/v7");
        d = manifest_select(&m, "linux", "arm64", "v8");
        ok(d && streq(d->digest, D3), "select arm64/v8");
        d = manifest_select(&m, "linux", "arm64", NULL);
        ok(d && streq(d->digest, D3), "select arm64 without a variant");
        ok(!manifest_select(&m, "linux", "arm", "v6"), "no arm/v6");
        ok(!manifest_select(&m, "windows", "amd64", NULL), "no windows");
        d = manifest_select(&m, "linux", "s390x", "v1");
        ok(d && d->size == 1, "an entry without a variant matches any");
        uname(&u);
        d = manifest_select(&m, NULL, NULL, NULL);
        if (streq(u.machine, "x86_64"))
                ok(d && streq(d->digest, D1), "this machine (amd64)");
        else
                ok(d != NULL || !streq(u.machine, "aarch64"), "this machine");
        manifest_done(&m);
}

static void bad(const char *json, const char *want, const char *name) {
        Manifest m = {};
        CpodError err = {};
        int r = parse(json, &m, &err);

        ok(r < 0 && strstr(err.message, want), "%s", name);
        if (r >= 0 || !strstr(err.message, want))
                diag("message: %s", err.message);
        if (r >= 0)
                manifest_done(&m);
}

TEST(manifest_errors) {
        static char big[MANIFEST_MAX_SIZE + 2];
        Manifest m = {};
        CpodError err = {};

        bad("[]", "not a JSON object", "array");
        bad("{", "invalid JSON", "truncated");
        bad("{\"schemaVersion\":1}", "unsupported schemaVersion 1", "schema 1");
        bad("{}", "missing schemaVersion", "no schemaVersion");
        bad("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", "unsupported media type", "media type");
        bad("{\"schemaVersion\":2,\"layers\":[]}", "manifest: config: not an object", "no config");
        bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1}}",
            "missing layers", "no layers");
        bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
            "\",\"size\":1},\"layers\":["
            "{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1},{\"mediaType\":\"x\",\"digest\":\"" D1
            "\",\"size\":1},{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":1}]}",
            "manifest: layers[2]: invalid digest", "bad layer digest");
        bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
            "\",\"size\":-1},\"layers\":[]}",
            "config: size must be a non-negative integer", "negative size");
        bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
            "\",\"size\":1.5},\"layers\":[]}",
            "size must be", "fractional size");
        bad("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
            "missing mediaType", "no media type");
        bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1
            "\",\"size\":1,\"platform\":[]}]}",
            "manifests[0]: platform: not an object", "bad platform");
        memset(big, ' ', sizeof(big) - 1);
        ok(manifest_parse(big, sizeof(big) - 1, NULL, &m, &err) == -E2BIG, "too large");

        /* MANIFEST_MAX_LAYERS + 1 layers */
        size_t cap = (MANIFEST_MAX_LAYERS + 1) * 140 + 256, n = 0;
        char *j = malloc(cap);
        n += snprintf(j + n, cap - n,
                      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
                      "\",\"size\":1},\"layers\":[");
        for (unsigned i = 0; i <= MANIFEST_MAX_LAYERS; i++)
                n += snprintf(j + n, cap - n, "%s{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1}",
                              i ? "," : "");
        snprintf(j + n, cap - n, "]}");
        bad(j, "more than 1024", "too many layers");
        free(j);
}

TEST(config) {
        const char *json =
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"me\","
                "\"created\":\"2023-05-19T20:18:38.520867462Z\","
                "\"config\":{\"Env\":[\"PATH=/usr/bin\",\"A=b\"],\"Cmd\":[\"sh\"],\"Entrypoint\":null,"
                "\"Labels\":{\"org.opencontainers.image.title\":\"x\",\"b\":\"c\"},"
                "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{}},"
                "\"User\":\"1000:1000\",\"WorkingDir\":\"/srv\",\"StopSignal\":\"SIGTERM\"},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
                "\"history\":[{\"created\":\"2023-05-19T20:18:38.357162963Z\",\"created_by\":\"ADD file\"},"
                "{\"created\":\"2023-05-19T22:18:38+02:00\",\"created_by\":\"CMD [\\\"sh\\\"]\","
                "\"empty_layer\":true,\"comment\":\"c\"}]}";
        ImageConfig c = {};
        CpodError err = {};

        is_int(image_config_parse(json, strlen(json), &c, &err), 0, "parse config");
        is_str(c.architecture, "amd64", "architecture");
        is_str(c.os, "linux", "os");
        is_str(c.author, "me", "author");
        ok(!c.variant, "no variant");
        is_int(c.created, 1684527518, "created");
        is_int(c.n_env, 2, "env");
        is_str(c.env[1], "A=b", "env value");
        is_int(c.n_cmd, 1, "cmd");
        is_int(c.n_entrypoint, 0, "null entrypoint");
        is_int(c.n_labels, 2, "labels");
        is_str(c.label_keys[0], "org.opencontainers.image.title", "label key");
        is_str(c.label_values[1], "c", "label value");
        is_int(c.n_exposed_ports, 2, "ports");
        is_str(c.exposed_ports[1], "53/udp", "port key");
        is_str(c.volumes[0], "/data", "volume");
        is_str(c.user, "1000:1000", "user");
        is_str(c.working_dir, "/srv", "workdir");
        is_str(c.stop_signal, "SIGTERM", "stop signal");
        is_int(c.n_diff_ids, 2, "diff ids");
        is_int(c.n_history, 2, "history");
        ok(c.history[1].empty_layer && !c.history[0].empty_layer, "empty_layer");
        is_int(c.history[1].created, 1684527518, "created with an offset");
        is_str(c.history[1].comment, "c", "comment");
        image_config_done(&c);

        is_int(image_config_parse("{}", 2, &c, &err), 0, "empty config");
        image_config_done(&c);
        json = "{\"rootfs\":{\"diff_ids\":[\"sha256:x\"]}}";
        ok(image_config_parse(json, strlen(json), &c, &err) < 0 &&
                   strstr(err.message, "diff_ids[0]: invalid digest"),
           "bad diff id");
        json = "{\"created\":\"yesterday\"}";
        ok(image_config_parse(json, strlen(json), &c, &err) < 0 && strstr(err.message, "created"),
           "bad created");
        json = "{\"config\":{\"Env\":[1]}}";
        ok(image_config_parse(json, strlen(json), &c, &err) < 0 &&
                   strstr(err.message, "Env[0]: not a string"),
           "bad env");
        json = "{\"config\":{\"Labels\":{\"a\":1}}}";
        ok(image_config_parse(json, strlen(json), &c, &err) < 0, "bad label");
        json = "{\"history\":[{\"empty_layer\":\"yes\"}]}";
        ok(image_config_parse(json, strlen(json), &c, &err) < 0 && strstr(err.message, "history[0]"),
           "bad history");
}

TEST(rfc3339) {
        int64_t s = 0;
        int32_t ns = 0;
        char buf[64];

        is_int(rfc3339_parse("1970-01-01T00:00:00Z", &s, &ns), 0, "epoch");
        is_int(s, 0, "epoch seconds");
        is_int(rfc3339_parse("2023-05-19T20:18:38.520867462Z", &s, &ns), 0, "nanoseconds");
        is_int(s, 1684527518, "seconds");
        is_int(ns, 520867462, "nanos");
        is_int(rfc3339_parse("2024-02-29T12:00:00.5-05:30", &s, &ns), 0, "leap day with an offset");
        is_int(s, 1709227800, "offset applied");
        is_int(ns, 500000000, "half second");
        is_int(rfc3339_parse("0001-01-01T00:00:00Z", &s, NULL), 0, "Go's zero time");
        is_int(s, INT64_C(-62135596800), "zero time seconds");
        ok(rfc3339_parse("2023-02-29T00:00:00Z", &s, &ns) < 0, "no leap day in 2023");
        ok(rfc3339_parse("2023-13-01T00:00:00Z", &s, &ns) < 0, "month 13");
        ok(rfc3339_parse("2023-01-01T24:00:00Z", &s, &ns) < 0, "hour 24");
        ok(rfc3339_parse("2023-01-01T00:00:00", &s, &ns) < 0, "no zone");
        ok(rfc3339_parse("2023-01-01T00:00:00Zjunk", &s, &ns) < 0, "trailing junk");
        ok(rfc3339_parse("2023-01-01T00:00:00.Z", &s, &ns) < 0, "empty fraction");
        ok(rfc3339_parse("", &s, &ns) < 0, "empty");
        rfc3339_format(1684527518, 0, buf, sizeof(buf));
        is_str(buf, "2023-05-19T20:18:38Z", "format");
        rfc3339_format(1684527518, 520000000, buf, sizeof(buf));
        is_str(buf, "2023-05-19T20:18:38.52Z", "format with a fraction");
        rfc3339_format(-1, 0, buf, sizeof(buf));
        is_str(buf, "1969-12-31T23:59:59Z", "before the epoch");
        rfc3339_format(951782400, 0, buf, sizeof(buf));
        is_str(buf, "2000-02-29T00:00:00Z", "leap day 2000");
}

TESTS_MAIN
