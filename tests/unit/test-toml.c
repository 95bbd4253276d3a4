/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vl/json.h>

#include "registries.h"
#include "tests.h"
#include "toml.h"
#include "util.h"

/* TOML in, compact JSON (or "ERROR message") out. */
static char *conv(const char *toml) {
        static char buf[4096];
        CpodError err = {};
        VlJson *v = NULL;
        char *s;

        if (toml_parse(toml, strlen(toml), &v, &err) < 0) {
                snprintf(buf, sizeof(buf), "ERROR %s", err.message);
                return buf;
        }
        s = vl_json_to_string(v, 0);
        snprintf(buf, sizeof(buf), "%s", s ? s : "ENOMEM");
        free(s);
        vl_json_unref(v);
        return buf;
}

TEST(values) {
        is_str(conv(""), "{}", "empty");
        is_str(conv("# just a comment\n\n"), "{}", "comment");
        is_str(conv("a = 1\nb = -2\nc = +3\nd = 1_000"), "{\"a\":1,\"b\":-2,\"c\":3,\"d\":1000}",
               "integers");
        is_str(conv("h = 0xff\no = 0o17\nb = 0b101"), "{\"h\":255,\"o\":15,\"b\":5}", "bases");
        is_str(conv("f = 1.5\ng = -2e3\nh = 6.25e-1"), "{\"f\":1.5,\"g\":-2000.0,\"h\":0.625}", "floats");
        is_str(conv("t = true\nf = false"), "{\"t\":true,\"f\":false}", "booleans");
        is_str(conv("s = \"a\\tb\\u00e9\\\"\""), "{\"s\":\"a\\tb\xc3\xa9\\\"\"}", "basic string escapes");
        is_str(conv("s = 'C:\\path'"), "{\"s\":\"C:\\\\path\"}", "literal string");
        is_str(conv("s = \"\"\"\nline1\nline2\"\"\""), "{\"s\":\"line1\\nline2\"}", "multi-line basic");
        is_str(conv("s = \"\"\"a \\\n    b\"\"\""), "{\"s\":\"a b\"}", "line-ending backslash");
        is_str(conv("s = '''\nraw\\n'''"), "{\"s\":\"raw\\\\n\"}", "multi-line literal");
        is_str(conv("s = \"\"\"x\"\"\"\"\""), "{\"s\":\"x\\\"\\\"\"}",
               "quotes before the closing delimiter");
        is_str(conv("a = [1, 2,\n  # comment\n  3,\n]"), "{\"a\":[1,2,3]}",
               "multi-line array, trailing comma");
        is_str(conv("a = [[1], [\"x\", 'y']]"), "{\"a\":[[1],[\"x\",\"y\"]]}", "nested arrays");
        is_str(conv("p = { x = 1, y.z = \"w\" }"), "{\"p\":{\"x\":1,\"y\":{\"z\":\"w\"}}}", "inline table");
        is_str(conv("p = {}"), "{\"p\":{}}", "empty inline table");
        is_str(conv("d = 1979-05-27T07:32:00Z\ne = 1979-05-27\nt = 07:32:00\nl = 1979-05-27 07:32:00"),
               "{\"d\":\"1979-05-27T07:32:00Z\",\"e\":\"1979-05-27\",\"t\":\"07:32:00\",\"l\":\"1979-05-27 "
               "07:32:00\"}",
               "dates kept as strings");
        is_str(conv("\"quoted key\" = 1\n'lit' = 2\nbare-key_1 = 3"),
               "{\"quoted key\":1,\"lit\":2,\"bare-key_1\":3}", "key forms");
        is_str(conv("a.b.c = 1\na.b.d = 2\na . e = 3"), "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}",
               "dotted keys");
        is_str(conv("a = 1 # trailing comment\r\nb = 2\r\n"), "{\"a\":1,\"b\":2}", "CRLF and comments");
}

TEST(tables) {
        is_str(conv("[a]\nx = 1\n[b.c]\ny = 2\n[a.d]\nz = 3"),
               "{\"a\":{\"x\":1,\"d\":{\"z\":3}},\"b\":{\"c\":{\"y\":2}}}", "tables");
        is_str(conv("[x.y]\n[x]\na = 1"), "{\"x\":{\"y\":{},\"a\":1}}",
               "implicit super-table defined later");
        is_str(conv("[[r]]\na = 1\n[[r]]\na = 2\n[[r.m]]\nl = 'x'"),
               "{\"r\":[{\"a\":1},{\"a\":2,\"m\":[{\"l\":\"x\"}]}]}", "arrays of tables");
        is_str(conv("[[r]]\n[r.sub]\nk = 1"), "{\"r\":[{\"sub\":{\"k\":1}}]}",
               "sub-table of the last element");
        is_str(conv("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true"),
               "{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}}}",
               "sub-table under a dotted-key table");
        is_str(conv("[ a . \"b c\" ]\nx = 1"), "{\"a\":{\"b c\":{\"x\":1}}}",
               "spaces and quotes in headers");
}

TEST(errors) {
        is_str(conv("a = 1\na = 2"), "ERROR line 2: duplicate key 'a'", "duplicate key");
        is_str(conv("[a]\n[a]"), "ERROR line 2: table defined twice: 'a'", "table twice");
        is_str(conv("a.b = 1\n[a]"), "ERROR line 2: table defined twice: 'a'", "header after dotted keys");
        is_str(conv("[a.b]\n[a]\nb.c = 1"),
               "ERROR line 3: cannot add dotted keys to a table defined by a header: 'b'",
               "dotted keys into a header table");
        is_str(conv("a = {x = 1}\n[a]"), "ERROR line 2: table defined twice: 'a'",
               "header for an inline table");
        is_str(conv("a = {x = 1}\na.y = 2"), "ERROR line 2: cannot extend inline table 'a'",
               "extend inline table");
        is_str(conv("a = []\n[[a]]"), "ERROR line 2: not an array of tables: 'a'",
               "[[ ]] on a static array");
        is_str(conv("[[a]]\n[a]"), "ERROR line 2: table defined twice: 'a'", "[ ] on an array of tables");
        is_str(conv("\n\nkey"), "ERROR line 3: expected '=' after key", "missing =");
        is_str(conv("a = "), "ERROR line 1: expected a value", "missing value");
        is_str(conv("a = 1 2"), "ERROR line 1: expected end of line, found '2'", "junk after value");
        is_str(conv("a = \"abc"), "ERROR line 1: unterminated string", "unterminated string");
        is_str(conv("a = \"x\ny\""), "ERROR line 1: newline in a single-line string", "newline in a string");
        is_str(conv("a = \"\\q\""), "ERROR line 1: invalid escape sequence '\\q'", "bad escape");
        is_str(conv("a = \"\\ud800\""), "ERROR line 1: unicode escape is not a scalar value", "surrogate");
        is_str(conv("a = 01"), "ERROR line 1: invalid number \"01\"", "leading zero");
        is_str(conv("a = 1__0"), "ERROR line 1: '_' must sit between digits", "double underscore");
        is_str(conv("a = 99999999999999999999"),
               "ERROR line 1: invalid or out-of-range integer \"99999999999999999999\"", "integer overflow");
        is_str(conv("a = inf"), "ERROR line 1: inf and nan cannot be represented", "inf");
        is_str(conv("a = [1 2]"), "ERROR line 1: expected ',' or ']' in array", "array without comma");
        is_str(conv("a = {x = 1\n}"), "ERROR line 1: expected ',' or '}' in inline table",
               "multi-line inline table");
        is_str(conv("[a"), "ERROR line 1: expected ']' after table name", "unclosed header");
        is_str(conv("a = \"\x01\""), "ERROR line 1: control character in a string", "control character");
        is_str(conv("a = \"\xff\""), "ERROR line 1: invalid UTF-8 or NUL byte", "bad UTF-8");
        is_str(conv("a = 1.\n"), "ERROR line 1: invalid number \"1.\": digits must follow '.'", "bad float");
        is_str(conv("= 1"), "ERROR line 1: invalid character '=' in key", "no key");
        is_str(conv("a = tru"), "ERROR line 1: invalid value starting with 't'", "bad literal");

        char deep[200] = "a = ";
        for (int i = 0; i < 40; i++)
                strcat(deep, "[");
        ok(strstr(conv(deep), "nested deeper than 32 levels"), "depth limit");
        char *big = malloc(1024 * 1024 + 2);
        memset(big, '#', 1024 * 1024 + 1);
        big[1024 * 1024 + 1] = 0;
        VlJson *v = NULL;
        ok(toml_parse(big, strlen(big), &v, NULL) == -E2BIG, "size limit");
        free(big);
}

static void write_file(const char *dir, const char *name, const char *text) {
        char path[1100];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        fputs(text, f);
        fclose(f);
}

TEST(registries) {
        char tmpl[] = "/tmp/test-toml-XXXXXX", path[512], dropins[512];
        const char *dir = mkdtemp(tmpl);
        Registries r = {};
        CpodError err = {};
        const Registry *reg;

        ok(dir != NULL, "mkdtemp");
        snprintf(path, sizeof(path), "%s/registries.conf", dir);
        is_int(registries_load(path, &r, &err), 0, "missing file is empty");
        is_int(r.n_search + r.n_aliases + r.n_registries, 0, "nothing configured");
        registries_done(&r);

        write_file(dir, "registries.conf",
                   "unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n"
                   "short-name-mode = \"enforcing\"\n"
                   "[aliases]\n\"busybox\" = \"docker.io/library/busybox\"\n\"fedora\" = "
                   "\"registry.fedoraproject.org/fedora\"\n"
                   "[[registry]]\nprefix = \"example.com/foo\"\ninsecure = false\nblocked = false\n"
                   "location = \"internal-registry-for-example.com/bar\"\n"
                   "[[registry.mirror]]\nlocation = \"example-mirror-0.local/mirror-for-foo\"\n"
                   "[[registry.mirror]]\nlocation = \"example-mirror-1.local/mirrors/foo\"\n"
                   "[[registry]]\nlocation = \"example.com\"\nblocked = true\n"
                   "[[registry]]\nprefix = \"*.internal.example\"\nlocation = \"mirror.local\"\ninsecure = "
                   "true\n");
        snprintf(dropins, sizeof(dropins), "%s/registries.conf.d", dir);
        mkdir(dropins, 0755);
        write_file(dropins, "10-search.conf", "unqualified-search-registries = [\"quay.io\"]\n");
        write_file(dropins, "20-alias.conf",
                   "[aliases]\n\"fedora\" = \"quay.io/fedora/fedora\"\n\"alpine\" = "
                   "\"docker.io/library/alpine\"\n"
                   "[[registry]]\nlocation = \"example.com\"\nblocked = false\ninsecure = true\n");
        write_file(dropins, "ignored.txt", "this is not TOML");

        is_int(registries_load(path, &r, &err), 0, "load");
        if (err.code)
                diag("%s", err.message);
        is_int(r.n_search, 1, "drop-in replaced the search list");
        is_str(r.search[0], "quay.io", "search entry");
        is_str(r.short_name_mode, "enforcing", "short-name-mode");
        is_int(r.n_aliases, 3, "aliases merged");
        is_str(registries_alias(&r, "busybox"), "docker.io/library/busybox", "alias from the main file");
        is_str(registries_alias(&r, "fedora"), "quay.io/fedora/fedora", "alias overridden by a drop-in");
        is_str(registries_alias(&r, "alpine"), "docker.io/library/alpine", "alias added by a drop-in");
        ok(!registries_alias(&r, "nope"), "no alias");
        is_int(r.n_registries, 3, "registries merged by prefix");
        reg = registries_find(&r, "example.com/foo/bar");
        ok(reg && streq(reg->prefix, "example.com/foo"), "longest prefix wins");
        is_str(reg ? reg->location : NULL, "internal-registry-for-example.com/bar", "location");
        is_int(reg ? reg->n_mirrors : 0, 2, "mirrors");
        is_str(reg && reg->n_mirrors ? reg->mirrors[1] : NULL, "example-mirror-1.local/mirrors/foo",
               "mirror location");
        reg = registries_find(&r, "example.com/other");
        ok(reg && reg->insecure && !reg->blocked, "entry replaced by the drop-in");
        ok(!registries_find(&r, "example.community/x"), "prefix must end at a component");
        reg = registries_find(&r, "a.internal.example/x");
        ok(reg && reg->insecure, "wildcard prefix");
        ok(!registries_find(&r, "internal.example/x"), "wildcard needs a subdomain");
        registries_done(&r);

        write_file(dropins, "30-bad.conf", "short-name-mode = \"sometimes\"\n");
        ok(registries_load(path, &r, &err) < 0 && strstr(err.message, "30-bad.conf: short-name-mode"),
           "bad mode names the file");
        write_file(dropins, "30-bad.conf", "[registries.search]\nregistries = []\n");
        ok(registries_load(path, &r, &err) < 0 && strstr(err.message, "v1 format"), "v1 format refused");
        write_file(dropins, "30-bad.conf", "[aliases]\nx = \n");
        ok(registries_load(path, &r, &err) < 0 &&
                   strstr(err.message, "30-bad.conf: line 2: expected a value"),
           "syntax error names file and line");

        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ok(system(cmd) == 0, "cleanup");
}

TESTS_MAIN
