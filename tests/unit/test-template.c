/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include <vl/json.h>

#include "template.h"
#include "tests.h"

static const char data_json[] =
        "{\"ID\":\"0123456789abcdef0123\",\"Names\":[\"a\",\"b\"],\"Labels\":{\"foo\":\"bar\",\"a.b\":"
        "\"dots\"},"
        "\"Dangling\":false,\"Repository\":\"docker.io/library/busybox\",\"Size\":1234567,\"Ratio\":0.5,"
        "\"Big\":1e21,\"Million\":1000000.0,\"Empty\":[],\"Null\":null,\"State\":\"running\","
        "\"Ports\":[{\"host\":8080,\"proto\":\"tcp\"},{\"host\":53,\"proto\":\"udp\"}],\"lower\":\"l\"}";

static VlJson *data;

/* Renders tmpl against data; returns the output or the error message. */
static char *render(const char *tmpl) {
        static char result[4096];
        CpodError err = {};
        VlBuf out = VL_BUF_INIT;
        Template *t = NULL;
        int r;

        r = template_parse(tmpl, &t, &err);
        if (r >= 0)
                r = template_render(t, data, &out, &err);
        if (r < 0)
                snprintf(result, sizeof(result), "ERROR %s", err.message);
        else
                snprintf(result, sizeof(result), "%.*s", (int)out.len, out.data ? out.data : "");
        vl_buf_free(&out);
        template_free(t);
        return result;
}

TEST(fields) {
        ok(vl_json_parse(data_json, strlen(data_json), NULL, &data, NULL) == 0, "parse data");
        is_str(render("{{.ID}}"), "0123456789abcdef0123", "field");
        is_str(render("id={{ .ID }}!"), "id=0123456789abcdef0123!", "text around an action");
        is_str(render("{{.Names}}"), "[a b]", "array prints like Go");
        is_str(render("{{.Labels.foo}}"), "bar", "nested field");
        is_str(render("{{.Labels.nope}}"), "<no value>", "missing field");
        is_str(render("{{.Missing.deeper}}"), "<no value>", "missing chain");
        is_str(render("{{.Null}}"), "<nil>", "null");
        is_str(render("{{.id}}"), "0123456789abcdef0123", "case-insensitive fallback");
        is_str(render("{{.Lower}}"), "l", "case-insensitive the other way");
        is_str(render("{{.Size}}"), "1234567", "integer");
        is_str(render("{{.Ratio}}"), "0.5", "float");
        is_str(render("{{.Million}}"), "1e+06", "float in exponent form like Go");
        is_str(render("{{.Big}}"), "1e+21", "big float");
        is_str(render("{{.Labels}}"), "map[a.b:dots foo:bar]", "map prints sorted");
        is_str(render("{{$.State}}"), "running", "$ is the root");
        is_str(render("a\\tb\\nc"), "a\tb\nc", "\\t and \\n escapes in text");
        is_str(render("{{/* comment */}}x"), "x", "comment");
        is_str(render("a  {{- .State -}}  b"), "arunningb", "trim markers");
}

TEST(functions) {
        is_str(render("{{json .Names}}"), "[\"a\",\"b\"]", "json");
        is_str(render("{{json .Labels}}"), "{\"foo\":\"bar\",\"a.b\":\"dots\"}", "json object");
        is_str(render("{{upper .Repository}}"), "DOCKER.IO/LIBRARY/BUSYBOX", "upper");
        is_str(render("{{lower \"ABC\"}}"), "abc", "lower");
        is_str(render("{{title \"hello world\"}}"), "Hello World", "title");
        is_str(render("{{truncate .ID 12}}"), "0123456789ab", "truncate");
        is_str(render("{{.ID | truncate 12}}"), "0123456789ab", "truncate in a pipeline");
        is_str(render("{{truncate \"abc\" 12}}"), "abc", "truncate short");
        is_str(render("{{join .Names \",\"}}"), "a,b", "join");
        is_str(render("{{printf \"%s-%d\" .State .Size}}"), "running-1234567", "printf s and d");
        is_str(render("{{printf \"%v|%q|%%\" .Names .State}}"), "[a b]|\"running\"|%",
               "printf v, q and percent");
        is_str(render("{{printf \"%-8s|%5d\" .State 42}}"), "running |   42", "printf width");
        is_str(render("{{printf \"%d\" .State}}"), "%!d(string=running)", "printf bad verb like Go");
        is_str(render("{{printf \"%s %s\" .State}}"), "running %!s(MISSING)", "printf missing");
        is_str(render("{{len .Names}}"), "2", "len");
        is_str(render("{{index .Labels \"a.b\"}}"), "dots", "index map");
        is_str(render("{{index .Names 1}}"), "b", "index array");
        is_str(render("{{.Names | len}}"), "2", "pipeline");
        is_str(render("{{(index .Ports 0).host}}"), "8080", "field of a parenthesized value");
        is_str(render("{{print 1 2 \"x\"}}"), "1 2x", "print spacing like Go");
}

TEST(control) {
        is_str(render("{{range .Names}}{{.}} {{end}}"), "a b ", "range");
        is_str(render("{{range .Empty}}x{{else}}none{{end}}"), "none", "range else");
        is_str(render("{{range .Ports}}{{.host}}/{{.proto}};{{end}}"), "8080/tcp;53/udp;", "range objects");
        is_str(render("{{range .Labels}}{{.}},{{end}}"), "dots,bar,", "range map in key order");
        is_str(render("{{if .Dangling}}x{{else}}y{{end}}"), "y", "if else");
        is_str(render("{{if .Names}}x{{end}}"), "x", "non-empty array is true");
        is_str(render("{{if eq .State \"running\"}}up{{else if eq .State \"exited\"}}down{{else}}?{{end}}"),
               "up", "else if");
        is_str(render("{{if and .Names (not .Dangling)}}ok{{end}}"), "ok", "and/not");
        is_str(render("{{with .Labels}}{{.foo}}{{end}}"), "bar", "with");
        is_str(render("{{range .Names}}{{$.State}}{{end}}"), "runningrunning", "$ inside range");
        is_str(render("{{if gt .Size 1000}}big{{end}}"), "big", "gt");
}

TEST(errors) {
        is_str(render("{{.ID"), "ERROR template: 1:1: unclosed action", "unclosed action");
        is_str(render("ab\n  {{nope .ID}}"), "ERROR template: 2:5: function \"nope\" not defined",
               "unknown function");
        is_str(render("{{if .ID}}x"), "ERROR template: 1:1: unexpected EOF: missing {{end}}", "missing end");
        is_str(render("x{{end}}"), "ERROR template: 1:2: unexpected {{end}}", "stray end");
        is_str(render("{{.Names.foo}}"),
               "ERROR template: 1:1: executing: can't evaluate field foo in type []interface {}",
               "field of an array");
        is_str(render("{{.ID.}}"), "ERROR template: 1:7: bad field name after '.'", "bad field path");
        is_str(render("{{}}"), "ERROR template: 1:3: missing value for command", "empty action");
        is_str(render("{{\"abc}}"), "ERROR template: 1:1: unclosed action", "unterminated string");
        is_str(render("{{range .State}}{{end}}"),
               "ERROR template: 1:1: executing: range can't iterate over string", "range over a string");
}

TEST(table) {
        const char *rest = NULL;

        ok(template_is_table("table {{.ID}}", &rest), "table prefix");
        is_str(rest, " {{.ID}}", "rest after table");
        ok(template_is_table("table", &rest), "bare table");
        ok(!template_is_table("{{.ID}} table", &rest), "not a prefix");
        ok(!template_is_table("tablet", &rest), "word boundary");
        vl_json_unref(data);
}

TESTS_MAIN
