/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "tests.h"

/* Parses and normalizes (short names stay short) and returns the string form. */
static char *normalized(const char *s) {
        static char buf[1100];
        Reference r = {};
        CpodError err = {};
        char *str;

        if (reference_parse(s, &r, &err) < 0) {
                snprintf(buf, sizeof(buf), "ERROR %s", err.message);
                return buf;
        }
        if (reference_normalize(&r, NULL) < 0 || !(str = reference_string(&r))) {
                reference_done(&r);
                return "ENOMEM";
        }
        snprintf(buf, sizeof(buf), "%s", str);
        free(str);
        reference_done(&r);
        return buf;
}

static const char hex64[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(valid) {
        char in[256], want[256];

        is_str(normalized("busybox"), "busybox:latest", "short name");
        is_str(normalized("busybox:1.36"), "busybox:1.36", "short name with tag");
        is_str(normalized("library/busybox"), "library/busybox:latest", "short name with path");
        is_str(normalized("docker.io/busybox"), "docker.io/library/busybox:latest",
               "docker.io gets library/");
        is_str(normalized("index.docker.io/busybox"), "docker.io/library/busybox:latest", "index.docker.io");
        is_str(normalized("docker.io/foo/bar"), "docker.io/foo/bar:latest", "docker.io with a user");
        is_str(normalized("quay.io/a/b:tag"), "quay.io/a/b:tag", "quay.io");
        is_str(normalized("localhost:5000/x/y:z"), "localhost:5000/x/y:z", "domain with port");
        is_str(normalized("localhost/x"), "localhost/x:latest", "localhost is a domain");
        is_str(normalized("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest", "IPv4 domain");
        is_str(normalized("[::1]:5000/x"), "[::1]:5000/x:latest", "IPv6 domain");
        is_str(normalized("a_b__c-d---e/g"), "a_b__c-d---e/g:latest", "separators in a path");
        is_str(normalized("Registry.Example.COM/x"), "Registry.Example.COM/x:latest",
               "uppercase domain is fine");
        is_str(normalized("x:Tag_1.2-3"), "x:Tag_1.2-3", "tag characters");
        snprintf(in, sizeof(in), "x@sha256:%s", hex64);
        snprintf(want, sizeof(want), "x@sha256:%s", hex64);
        is_str(normalized(in), want, "digest only: no latest tag");
        snprintf(in, sizeof(in), "quay.io/x:1@sha256:%s", hex64);
        snprintf(want, sizeof(want), "quay.io/x:1@sha256:%s", hex64);
        is_str(normalized(in), want, "tag and digest");
}

TEST(parts) {
        Reference r = {};
        char *s;

        ok(reference_parse("localhost:5000/x/y:z", &r, NULL) == 0, "parse");
        is_str(r.domain, "localhost:5000", "domain");
        is_str(r.path, "x/y", "path");
        is_str(r.tag, "z", "tag");
        ok(!r.digest, "no digest");
        ok(!reference_is_short(&r), "not short");
        s = reference_repository(&r);
        is_str(s, "localhost:5000/x/y", "repository");
        free(s);
        reference_done(&r);

        ok(reference_parse("busybox", &r, NULL) == 0, "parse short");
        ok(reference_is_short(&r), "short");
        ok(!r.tag, "no tag before normalize");
        ok(reference_normalize(&r, "docker.io") == 0, "normalize with a domain");
        s = reference_string(&r);
        is_str(s, "docker.io/library/busybox:latest", "short name qualified");
        free(s);
        reference_done(&r);
        reference_done(NULL);
}

TEST(invalid) {
        char in[600];

        is_str(normalized(""), "ERROR invalid reference format: empty reference", "empty");
        is_str(normalized("BusyBox"), "ERROR invalid reference format: repository name must be lowercase",
               "uppercase repository");
        is_str(normalized("quay.io/A/b"),
               "ERROR invalid reference format: repository name must be lowercase", "uppercase path");
        is_str(normalized("busybox:"), "ERROR invalid reference format: empty tag after ':'",
               "trailing colon");
        is_str(normalized("busybox/"), "ERROR invalid reference format: trailing '/'", "trailing slash");
        ok(strstr(normalized("a//b"), "empty path component"), "double slash");
        ok(strstr(normalized("/a"), "empty path component"), "leading slash");
        ok(strstr(normalized("quay.io/"), "trailing '/'"), "domain only");
        ok(strstr(normalized("busybox:-x"), "invalid tag"), "tag starting with '-'");
        ok(strstr(normalized("busybox:a+b"), "invalid tag"), "bad tag character");
        memset(in, 0, sizeof(in));
        strcpy(in, "x:");
        memset(in + 2, 'a', 129);
        ok(strstr(normalized(in), "longer than 128"), "tag too long");
        in[2 + 128] = 0;
        is_str(normalized(in), in, "tag of 128 is fine");
        memset(in, 0, sizeof(in));
        for (int i = 0; i < 128; i++)
                memcpy(in + 2 * i, "a/", 2);
        in[255] = 0; /* 255 characters: "a/a/.../a" */
        ok(strncmp(normalized(in), "ERROR", 5) != 0, "name of 255 is fine");
        in[255] = 'a';
        in[256] = 0;
        ok(strstr(normalized(in), "more than 255"), "name too long");
        ok(strstr(normalized("x@sha256:abc"), "invalid digest"), "short digest");
        ok(strstr(normalized("x@md5:0123"), "invalid digest"), "other algorithm");
        ok(strstr(normalized("x@"), "invalid digest"), "empty digest");
        ok(strstr(normalized("a..b/c"), "invalid domain"), "empty domain label");
        ok(strstr(normalized("a.b:/c"), "invalid domain or port"), "empty port");
        ok(strstr(normalized("a.b:x/c"), "invalid domain or port"), "non-numeric port");
        ok(strstr(normalized("-a.b/c"), "invalid domain"), "label starting with '-'");
        ok(strstr(normalized("[zz]:5000/c"), "invalid IPv6"), "bad IPv6");
        ok(strstr(normalized("a_b.c/g"), "invalid domain"), "underscore in a domain");
        ok(strstr(normalized("a_/b"), "invalid path component"), "trailing separator");
        ok(strstr(normalized("a___b"), "invalid path component"), "three underscores");
        ok(strstr(normalized("a b"), "white space"), "space");
        ok(strstr(normalized("busybox:1:2"), "invalid"), "two colons");
        ok(strstr(normalized(":tag"), "empty repository"), "no name");
}

TEST(id_prefix) {
        ok(reference_is_id_prefix("abc"), "3 hex digits");
        ok(reference_is_id_prefix(hex64), "64 hex digits");
        ok(reference_is_id_prefix("sha256:0123ab"), "sha256: prefix");
        ok(!reference_is_id_prefix("ab"), "too short");
        ok(!reference_is_id_prefix("busybox"), "a name");
        ok(!reference_is_id_prefix("ABC123"), "uppercase");
        ok(!reference_is_id_prefix(""), "empty");
        ok(!reference_is_id_prefix(NULL), "NULL");
}

TESTS_MAIN
