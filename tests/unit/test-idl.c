/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The IDL: parsing, errors with their positions, the canonical format and
 * validation of JSON values against interface types. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vl/idl.h>
#include <vl/json.h>

#include "idl-internal.h"
#include "tests.h"

#define DATADIR SRCDIR "/tests/data/idl"

static char *read_text(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0, cap = 0, n;

        if (!f)
                return NULL;
        do {
                if (len + 4096 + 1 > cap) {
                        cap = (len + 4096 + 1) * 2;
                        char *p = realloc(buf, cap);
                        if (!p)
                                abort();
                        buf = p;
                }
                n = fread(buf + len, 1, cap - len - 1, f);
                len += n;
        } while (n > 0);
        fclose(f);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

static VlInterface *parse_ok(const char *text, const char *what) {
        VlInterface *iface = NULL;
        VlIdlError err;
        int r = vl_interface_parse(text, strlen(text), &iface, &err);
        if (!ok(r == 0, "%s parses", what))
                diag("%u:%u: %s", err.line, err.column, err.message);
        return iface;
}

/* "line:col: message" of a failed parse, or "ok". */
static const char *parse_error(const char *text, size_t len) {
        static char buf[200];
        VlInterface *iface = NULL;
        VlIdlError err;
        int r = vl_interface_parse(text, len, &iface, &err);
        if (r == 0) {
                vl_interface_free(iface);
                return "ok";
        }
        if (r != -EINVAL || iface)
                return "wrong return";
        snprintf(buf, sizeof(buf), "%u:%u: %s", err.line, err.column, err.message);
        return buf;
}

static char *format_text(const char *text) {
        VlInterface *iface = NULL;
        if (vl_interface_parse(text, strlen(text), &iface, NULL) < 0)
                return NULL;
        char *s = vl_interface_format(iface, 0);
        vl_interface_free(iface);
        return s;
}

static const VlField *field(const VlType *t, const char *name) {
        for (size_t i = 0; t && i < t->n_fields; i++)
                if (strcmp(t->fields[i].name, name) == 0)
                        return &t->fields[i];
        return NULL;
}

static char *type_string(const VlType *t) {
        VlBuf b = VL_BUF_INIT;
        if (vl_type_write(&b, t) < 0 || vl_buf_append_char(&b, '\0') < 0) {
                vl_buf_free(&b);
                return NULL;
        }
        return b.data;
}

/* ---- Names ---- */

TEST(names) {
        static const char *const good_interfaces[] = {
                "org.varlink.service", "a.b", "io.podman", "org.example-x.a-b", "a--b.c", "A.0", "x.y.z.1a",
        };
        static const char *const bad_interfaces[] = {
                "", "a", "a.", ".a", "a..b", "1a.b", "a-.b", "a.-b", "a.b-", "a_b.c", "a.b/c", "-a.b",
        };
        for (size_t i = 0; i < sizeof(good_interfaces) / sizeof(*good_interfaces); i++)
                ok(vl_interface_name_valid(good_interfaces[i]), "interface name '%s' valid",
                   good_interfaces[i]);
        for (size_t i = 0; i < sizeof(bad_interfaces) / sizeof(*bad_interfaces); i++)
                ok(!vl_interface_name_valid(bad_interfaces[i]), "interface name '%s' invalid",
                   bad_interfaces[i]);
        ok(!vl_interface_name_valid(NULL), "NULL interface name invalid");

        ok(vl_member_name_valid("GetInfo"), "member name GetInfo");
        ok(vl_member_name_valid("X"), "member name X");
        ok(vl_member_name_valid("Test01"), "member name Test01");
        ok(!vl_member_name_valid("getInfo"), "member name getInfo");
        ok(!vl_member_name_valid("Get_Info"), "member name Get_Info");
        ok(!vl_member_name_valid("1Get"), "member name 1Get");
        ok(!vl_member_name_valid(""), "empty member name");
        ok(!vl_member_name_valid(NULL), "NULL member name");

        ok(vl_field_name_valid("a"), "field a");
        ok(vl_field_name_valid("client_id"), "field client_id");
        ok(vl_field_name_valid("A_b_3"), "field A_b_3");
        ok(vl_field_name_valid("x1_2"), "field x1_2");
        ok(!vl_field_name_valid("_a"), "field _a");
        ok(!vl_field_name_valid("a_"), "field a_");
        ok(!vl_field_name_valid("a__b"), "field a__b");
        ok(!vl_field_name_valid("1a"), "field 1a");
        ok(!vl_field_name_valid("a-b"), "field a-b");
        ok(!vl_field_name_valid(""), "empty field");
        ok(!vl_field_name_valid(NULL), "NULL field");
}

/* ---- The two interfaces we ship are canonical ---- */

static void check_canonical_file(const char *path) {
        size_t len;
        char *text = read_text(path, &len);
        VlInterface *iface = NULL;

        if (!ok(text, "read %s", path))
                return;
        iface = parse_ok(text, path);
        if (iface) {
                char *out = vl_interface_format(iface, 0);
                is_str(out, text, "%s: format(parse(text)) == text", path);
                ok(iface->description && memcmp(iface->description, text, len + 1) == 0,
                   "%s: description is the source text", path);
                free(out);
        }
        vl_interface_free(iface);
        free(text);
}

TEST(shipped_interfaces_round_trip) {
        check_canonical_file(SRCDIR "/src/certification/org.varlink.certification.varlink");
        check_canonical_file(SRCDIR "/src/libvl/org.varlink.service.varlink");
}

TEST(certification_tree) {
        char *text = read_text(SRCDIR "/src/certification/org.varlink.certification.varlink", NULL);
        VlInterface *iface = text ? parse_ok(text, "certification interface") : NULL;
        const VlMember *m;
        const VlField *f;
        const VlType *t;

        if (!iface) {
                free(text);
                return;
        }
        is_str(iface->name, "org.varlink.certification", "interface name");
        static const char doc_start[] = "The Varlink certification suite: a client calls Start,";
        ok(iface->doc && strncmp(iface->doc, doc_start, strlen(doc_start)) == 0, "interface doc kept");
        ok(iface->doc && strchr(iface->doc, '\n') && !strstr(iface->doc, "# "),
           "doc lines joined, '#' stripped");
        is_int(iface->n_members, 17, "17 members");

        m = vl_interface_find(iface, VL_MEMBER_TYPE, "Interface");
        ok(m && m->line == 7 && m->type->kind == VL_TYPE_STRUCT, "type Interface at line 7");
        is_str(m ? m->doc : NULL, "A type that nests containers, nullables and an anonymous struct.",
               "type doc");
        t = m ? field(m->type, "foo")->type : NULL;
        ok(t && t->kind == VL_TYPE_ARRAY && t->nullable, "foo: ?[]...");
        t = t ? t->element : NULL;
        ok(t && t->kind == VL_TYPE_MAP && t->nullable, "foo: ?[]?[string]...");
        t = t ? t->element : NULL;
        ok(t && t->kind == VL_TYPE_ENUM && !t->nullable && t->n_fields == 3 && !t->fields[0].type &&
                   strcmp(t->fields[2].name, "baz") == 0,
           "foo: ?[]?[string](foo, bar, baz)");

        m = vl_interface_find(iface, VL_MEMBER_TYPE, "MyType");
        ok(m && m->line == 13 && m->type->n_fields == 9, "type MyType at line 13 with 9 fields");
        if (m) {
                ok((f = field(m->type, "object")) && f->type->kind == VL_TYPE_OBJECT, "object: object");
                ok((f = field(m->type, "enum")) && f->type->kind == VL_TYPE_ENUM, "enum: (one, two, three)");
                ok((f = field(m->type, "struct")) && f->type->kind == VL_TYPE_STRUCT &&
                           f->type->n_fields == 2,
                   "struct: (first: int, second: string)");
                ok((f = field(m->type, "array")) && f->type->kind == VL_TYPE_ARRAY &&
                           f->type->element->kind == VL_TYPE_STRING,
                   "array: []string");
                ok((f = field(m->type, "dictionary")) && f->type->kind == VL_TYPE_MAP,
                   "dictionary: [string]string");
                ok((f = field(m->type, "stringset")) && f->type->kind == VL_TYPE_SET && !f->type->element,
                   "stringset: [string]()");
                ok((f = field(m->type, "nullable")) && f->type->kind == VL_TYPE_STRING && f->type->nullable,
                   "nullable: ?string");
                ok((f = field(m->type, "nullable_array_struct")) && f->type->kind == VL_TYPE_ARRAY &&
                           f->type->nullable && f->type->element->kind == VL_TYPE_STRUCT,
                   "nullable_array_struct: ?[](first: int, second: string)");
                ok((f = field(m->type, "interface")) && f->type->kind == VL_TYPE_ALIAS &&
                           strcmp(f->type->alias, "Interface") == 0,
                   "interface: Interface");
        }

        m = vl_interface_find(iface, VL_MEMBER_METHOD, "Start");
        ok(m && m->line == 26 && m->input->kind == VL_TYPE_STRUCT && m->input->n_fields == 0 &&
                   m->output->n_fields == 1,
           "method Start() -> (client_id: string) at line 26");
        m = vl_interface_find(iface, VL_MEMBER_METHOD, "Test11");
        ok(m && m->line == 76 && m->output->n_fields == 0, "method Test11 at line 76");
        ok(m && m->doc, "Test11 doc kept");
        m = vl_interface_find(iface, VL_MEMBER_METHOD, "Test01");
        ok(m && !m->doc, "Test01 has no doc");
        m = vl_interface_find(iface, VL_MEMBER_ERROR, "CertificationError");
        ok(m && m->line == 88 && m->type->n_fields == 2, "error CertificationError at line 88");
        ok(!vl_interface_find(iface, VL_MEMBER_METHOD, "MyType"), "find checks the kind");
        ok(!vl_interface_find(iface, VL_MEMBER_METHOD, "Nope"), "find of an unknown name");
        ok(!vl_interface_find(NULL, VL_MEMBER_METHOD, "Start"), "find on NULL");

        vl_interface_free(iface);
        free(text);
}

/* ---- Test data: valid inputs and their canonical form, invalid ones and their errors ---- */

static int varlink_file(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return n > 8 && strcmp(d->d_name + n - 8, ".varlink") == 0;
}

TEST(valid_data) {
        struct dirent **list;
        int n = scandir(DATADIR "/valid", &list, varlink_file, alphasort);

        ok(n >= 5, "valid test data found (%d files)", n);
        for (int i = 0; i < n; i++) {
                char path[1024], expected_path[1024];
                snprintf(path, sizeof(path), DATADIR "/valid/%s", list[i]->d_name);
                snprintf(expected_path, sizeof(expected_path), "%.*s.formatted", (int)strlen(path) - 8,
                         path);

                char *text = read_text(path, NULL);
                char *expected = read_text(expected_path, NULL);
                if (!expected)
                        expected = text ? strdup(text) : NULL; /* the file is canonical itself */
                char *out = text ? format_text(text) : NULL;
                is_str(out, expected, "%s: canonical form", list[i]->d_name);
                char *again = out ? format_text(out) : NULL;
                is_str(again, out, "%s: formatting is a fixed point", list[i]->d_name);
                free(again);
                free(out);
                free(text);
                free(expected);
                free(list[i]);
        }
        free(list);
}

TEST(invalid_data) {
        struct dirent **list;
        int n = scandir(DATADIR "/invalid", &list, varlink_file, alphasort);

        ok(n >= 30, "invalid test data found (%d files)", n);
        for (int i = 0; i < n; i++) {
                char path[1024], want[200];
                size_t len;
                snprintf(path, sizeof(path), DATADIR "/invalid/%s", list[i]->d_name);
                char *text = read_text(path, &len);
                /* The first line says what to expect: "# expect: LINE:COL: MESSAGE" */
                const char *e = text ? strstr(text, "# expect: ") : NULL;
                if (!ok(e == text, "%s: has an expectation", list[i]->d_name)) {
                        free(text);
                        free(list[i]);
                        continue;
                }
                e += strlen("# expect: ");
                snprintf(want, sizeof(want), "%.*s", (int)strcspn(e, "\r\n"), e);
                is_str(parse_error(text, len), want, "%s: error position and message", list[i]->d_name);
                free(text);
                free(list[i]);
        }
        free(list);
}

/* ---- Errors that data files cannot carry well ---- */

TEST(errors) {
        VlInterface *iface = (VlInterface *)0x1;
        VlIdlError err;
        char *big;

        is_str(parse_error("interface a.b\ntype X (a: int)\0", 31), "2:16: unexpected character 0x00",
               "NUL byte");
        is_str(parse_error("interface a.b\ntype X (a: int)\n# x\0y", 35),
               "3:4: control character in comment", "NUL byte in a comment");

        big = malloc(VL_IDL_MAX_SIZE + 2);
        memset(big, ' ', VL_IDL_MAX_SIZE + 1);
        memcpy(big, "interface a.b\ntype X ()\n", 24);
        is_str(parse_error(big, VL_IDL_MAX_SIZE + 1), "1:1: interface description larger than 1048576 bytes",
               "size limit");
        ok(strcmp(parse_error(big, VL_IDL_MAX_SIZE), "ok") == 0,
           "a description of exactly the limit parses");
        free(big);

        /* Nesting: 64 levels of struct are fine, 65 are not. */
        char deep[2048] = "interface a.b\ntype X ";
        for (int i = 0; i < 64; i++)
                strcat(deep, "(a: ");
        strcat(deep, "int");
        for (int i = 0; i < 64; i++)
                strcat(deep, ")");
        is_str(parse_error(deep, strlen(deep)), "ok", "64 nested structs");
        char deeper[2048] = "interface a.b\ntype X ";
        for (int i = 0; i < 65; i++)
                strcat(deeper, "(a: ");
        strcat(deeper, "int");
        for (int i = 0; i < 65; i++)
                strcat(deeper, ")");
        is_str(parse_error(deeper, strlen(deeper)), "2:264: types nested deeper than 64 levels",
               "65 nested structs");

        /* A failed parse leaves *ret alone; err may be NULL. */
        is_int(vl_interface_parse("interface a.b\n", 14, &iface, NULL), -EINVAL, "error without VlIdlError");
        ok(iface == (VlInterface *)0x1, "ret untouched on failure");
        is_int(vl_interface_parse(NULL, 0, &iface, &err), -EINVAL, "empty input");
        is_str(err.message, "expected 'interface'", "empty input message");
        is_int(vl_interface_parse("x", 1, NULL, &err), -EINVAL, "NULL ret");

        /* Input need not be NUL-terminated: only len bytes count. */
        is_str(parse_error("interface a.b\ntype X ()garbage", 23), "ok", "len bounds the input");

        /* Long tokens are shortened in messages. */
        char longname[300] = "interface a.b\ntype X (a: ";
        for (int i = 0; i < 200; i++)
                strcat(longname, "b");
        strcat(longname, ")");
        const char *msg = parse_error(longname, strlen(longname));
        ok(strstr(msg, "2:12: unknown type 'bbbb") == msg && strstr(msg, "...'"), "long token shortened: %s",
           msg);
        ok(vl_interface_free(NULL) == NULL, "free(NULL)");
}

/* ---- Doc comments ---- */

TEST(doc_comments) {
        char *text = read_text(DATADIR "/valid/docs.varlink", NULL);
        VlInterface *iface = text ? parse_ok(text, "docs.varlink") : NULL;
        const VlMember *m;
        const VlType *t;

        if (!iface) {
                free(text);
                return;
        }
        is_str(iface->doc, "Documentation on every level.\n\n Indented text keeps its indentation.",
               "interface doc");
        m = vl_interface_find(iface, VL_MEMBER_TYPE, "Record");
        is_str(m ? m->doc : NULL, "A documented record.", "type doc");
        t = m ? m->type : NULL;
        is_str(field(t, "name") ? field(t, "name")->doc : "-", "The name,\non two lines.",
               "field doc, two lines");
        is_str(field(t, "age") ? field(t, "age")->doc : "-", NULL, "a trailing comment is no doc");
        is_str(field(t, "inner") ? field(t, "inner")->doc : "-", "A nested record with documented fields.",
               "doc of a field with a struct type");
        const VlType *inner = field(t, "inner") ? field(t, "inner")->type : NULL;
        is_str(field(inner, "x") ? field(inner, "x")->doc : "-", "Innermost.", "nested field doc");
        is_str(field(inner, "y") ? field(inner, "y")->doc : "-", NULL, "undocumented nested field");
        is_str(field(t, "empty_doc") ? field(t, "empty_doc")->doc : "-", "", "a lone '#' is an empty doc");
        m = vl_interface_find(iface, VL_MEMBER_TYPE, "Colour");
        t = m ? m->type : NULL;
        ok(t && t->kind == VL_TYPE_ENUM, "Colour is an enum");
        is_str(field(t, "blue") ? field(t, "blue")->doc : "-", "The colour of the sky.", "enum value doc");
        m = vl_interface_find(iface, VL_MEMBER_METHOD, "Get");
        is_str(m && field(m->input, "id") ? field(m->input, "id")->doc : "-", "Which one.",
               "method parameter doc");
        vl_interface_free(iface);
        free(text);

        /* Blank lines end a doc comment; comments elsewhere are dropped. */
        iface = parse_ok("# license\n\n# doc 1\n# doc 2\ninterface a.b\n# dropped\n\n# kept\n"
                         "method M(\n  # a doc\n\n  a: int # not a doc\n) -> () # not a doc\n# doc of "
                         "E\nerror E ()\n",
                         "comment placement");
        if (iface) {
                is_str(iface->doc, "doc 1\ndoc 2", "blank line separates a header from the doc");
                is_str(iface->members[0].doc, "kept", "only the block right before a member");
                is_str(iface->members[0].input->fields[0].doc, NULL,
                       "blank line before a field drops its doc");
                is_str(iface->members[1].doc, "doc of E", "doc after a trailing comment");
        }
        vl_interface_free(iface);

        /* "#" and one space are stripped, trailing white space is dropped. */
        iface = parse_ok("#no space\n#  two spaces\n#\ttab   \n#\ninterface a.b\ntype X ()\n", "stripping");
        is_str(iface ? iface->doc : NULL, "no space\n two spaces\n\ttab\n", "doc line stripping");
        char *out = iface ? vl_interface_format(iface, 0) : NULL;
        is_str(out, "# no space\n#  two spaces\n# \ttab\n#\ninterface a.b\n\ntype X ()\n", "docs formatted");
        free(out);
        vl_interface_free(iface);
}

/* ---- Canonical format ---- */

TEST(format) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"interface a.b\ntype X(a:int)", "interface a.b\n\ntype X (a: int)\n"},
                {"interface a.b\nerror E()", "interface a.b\n\nerror E ()\n"},
                {"interface a.b\nmethod M()->()", "interface a.b\n\nmethod M() -> ()\n"},
                {"interface a.b\ntype X (a: int, b: int, c: int)",
                 "interface a.b\n\ntype X (\n  a: int,\n  b: int,\n  c: int\n)\n"},
                {"interface a.b\ntype E (a, b, c, d)", "interface a.b\n\ntype E (a, b, c, d)\n"},
                {"interface a.b\ntype X (s: (a: int))", "interface a.b\n\ntype X (\n  s: (a: int)\n)\n"},
                {"interface a.b\ntype X (s: ?(a: int))", "interface a.b\n\ntype X (s: ?(a: int))\n"},
                {"interface a.b\ntype X (s: [string] ( ) , t : ? []int)",
                 "interface a.b\n\ntype X (s: [string](), t: ?[]int)\n"},
                {"interface a.b\nmethod M(a: int, b: int, c: int) -> (d: int)",
                 "interface a.b\n\nmethod M(\n  a: int,\n  b: int,\n  c: int\n) -> (d: int)\n"},
                {"interface a.b\nmethod M(a: int) -> (b: int, c: int, d: int)",
                 "interface a.b\n\nmethod M(a: int) -> (\n  b: int,\n  c: int,\n  d: int\n)\n"},
                {"interface a.b\ntype X (a: []( x: int, y: int, z: int ))",
                 "interface a.b\n\ntype X (a: [](x: int, y: int, z: int))\n"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char *out = format_text(cases[i].in);
                is_str(out, cases[i].out, "format case %zu", i);
                char *again = out ? format_text(out) : NULL;
                is_str(again, out, "format case %zu is a fixed point", i);
                free(again);
                free(out);
        }
}

static char *strip_colors(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        while (*s) {
                if (s[0] == '\x1b' && s[1] == '[') {
                        s += 2 + strcspn(s + 2, "m");
                        if (*s)
                                s++;
                } else
                        *o++ = *s++;
        }
        *o = '\0';
        return out;
}

TEST(format_color) {
        char *text = read_text(SRCDIR "/src/certification/org.varlink.certification.varlink", NULL);
        VlInterface *iface = text ? parse_ok(text, "certification") : NULL;
        char *colored = iface ? vl_interface_format(iface, VL_IDL_FORMAT_COLOR) : NULL;
        char *plain = colored ? strip_colors(colored) : NULL;

        ok(colored && strcmp(colored, text) != 0, "colour adds something");
        is_str(plain, text, "colour only adds escape sequences");
        ok(colored && strstr(colored, "\x1b[35mmethod\x1b[0m \x1b[32mStart\x1b[0m()"),
           "keyword and method name");
        ok(colored && strstr(colored, "\x1b[35mtype\x1b[0m \x1b[36mMyType\x1b[0m ("), "type name");
        ok(colored && strstr(colored, "interface: \x1b[36mInterface\x1b[0m"), "type reference");
        ok(colored && strstr(colored, "\x1b[34m# Opens a test run"), "comment");
        free(plain);
        free(colored);
        vl_interface_free(iface);
        free(text);
}

TEST(type_write) {
        VlInterface *iface = parse_ok("interface a.b\ntype T (\n"
                                      "  # documented\n"
                                      "  a: ?[]?[string](foo, bar),\n"
                                      "  b: [string](),\n"
                                      "  c: (x: int, y: ?Foo),\n"
                                      "  d: [][]string,\n"
                                      "  e: [string][]int,\n"
                                      "  f: ?any,\n"
                                      "  g: object,\n"
                                      "  h: ?[string](),\n"
                                      "  i: [string]?(),\n"
                                      "  j: float,\n"
                                      "  k: bool\n"
                                      ")\ntype Foo ()\n",
                                      "all types");
        static const struct {
                const char *field, *text;
        } cases[] = {
                {"a", "?[]?[string](foo, bar)"},
                {"b", "[string]()"},
                {"c", "(x: int, y: ?Foo)"},
                {"d", "[][]string"},
                {"e", "[string][]int"},
                {"f", "?any"},
                {"g", "object"},
                {"h", "?[string]()"},
                {"i", "[string]?()"},
                {"j", "float"},
                {"k", "bool"},
        };
        if (!iface)
                return;
        const VlType *t = iface->members[0].type;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char *s = type_string(field(t, cases[i].field) ? field(t, cases[i].field)->type : NULL);
                is_str(s, cases[i].text, "vl_type_write %s", cases[i].text);
                free(s);
        }
        char *s = type_string(t);
        static const char prefix[] = "(a: ?[]?[string](foo, bar), b: [string](), c: (x: int, y: ?Foo), ";
        ok(s && strncmp(s, prefix, strlen(prefix)) == 0 && !strchr(s, '\n') && !strchr(s, '#'),
           "a whole struct on one line, without docs");
        free(s);
        VlBuf b = VL_BUF_INIT;
        is_int(vl_type_write(&b, NULL), -EINVAL, "vl_type_write(NULL)");
        vl_buf_free(&b);
        vl_interface_free(iface);
}

/* ---- Validation ---- */

static VlJson *json(const char *s) {
        VlJson *v = NULL;
        VlJsonError e;
        if (!s)
                return NULL;
        if (vl_json_parse(s, strlen(s), NULL, &v, &e) < 0) {
                diag("bad test JSON %s: %s", s, e.message);
                fflush(stdout);
                abort();
        }
        return v;
}

static void check_method(const VlInterface *iface, const char *method, bool reply, const char *params,
                         int want, const char *want_bad) {
        VlJson *v = json(params);
        const char *bad = "(unset)";
        int r = vl_interface_validate_method(iface, method, reply, v, &bad);
        if (!is_int(r, want, "%s %s %s", method, reply ? "reply" : "call", params ? params : "NULL"))
                diag("bad field: %s", bad ? bad : "(null)");
        else
                is_str(bad, want_bad, "%s %s %s: bad field", method, reply ? "reply" : "call",
                       params ? params : "NULL");
        vl_json_unref(v);
}

static const char validate_interface[] =
        "interface org.example.validate\n"
        "type Point (x: int, y: int)\n"
        "type Mode (fast, slow)\n"
        "method Check(\n"
        "  b: ?bool, i: ?int, f: ?float, s: ?string, o: ?object, a: ?any,\n"
        "  st: ?(x: int, y: ?string), en: ?(one, two), arr: ?[]int,\n"
        "  map: ?[string]string, set: ?[string](), nn: ?[]?int, p: ?Point,\n"
        "  m: ?Mode, points: ?[string][]Point\n"
        ") -> ()\n"
        "method Required(need: int, opt: ?string, any: any) -> (out: []Point)\n"
        "error Bad (what: string)\n";

TEST(validate_types) {
        VlInterface *iface = parse_ok(validate_interface, "validation interface");
        if (!iface)
                return;
        static const struct {
                const char *params;
                int r;
                const char *bad;
        } cases[] = {
                {"{}", 0, NULL},
                {NULL, 0, NULL},
                {"null", 0, NULL},
                {"[]", -EINVAL, NULL},
                {"{\"zzz\": 1}", -EINVAL, "zzz"},
                {"{\"b\": true, \"i\": 1}", 0, NULL},
                {"{\"b\": null}", 0, NULL},
                /* bool */
                {"{\"b\": 1}", -EINVAL, "b"},
                {"{\"b\": \"true\"}", -EINVAL, "b"},
                /* int: integral numbers only */
                {"{\"i\": -5}", 0, NULL},
                {"{\"i\": 18446744073709551615}", 0, NULL},
                {"{\"i\": 1.0}", 0, NULL},
                {"{\"i\": 1e3}", 0, NULL},
                {"{\"i\": 1.5}", -EINVAL, "i"},
                {"{\"i\": 1e300}", -EINVAL, "i"},
                {"{\"i\": \"1\"}", -EINVAL, "i"},
                {"{\"i\": true}", -EINVAL, "i"},
                /* float: any number */
                {"{\"f\": 1}", 0, NULL},
                {"{\"f\": 1.5e-3}", 0, NULL},
                {"{\"f\": \"1.5\"}", -EINVAL, "f"},
                /* string */
                {"{\"s\": \"x\"}", 0, NULL},
                {"{\"s\": 1}", -EINVAL, "s"},
                /* object: any object */
                {"{\"o\": {\"anything\": [1, null]}}", 0, NULL},
                {"{\"o\": []}", -EINVAL, "o"},
                /* any */
                {"{\"a\": 1}", 0, NULL},
                {"{\"a\": [null, {}]}", 0, NULL},
                {"{\"a\": null}", 0, NULL},
                /* anonymous struct */
                {"{\"st\": {\"x\": 1}}", 0, NULL},
                {"{\"st\": {\"x\": 1, \"y\": null}}", 0, NULL},
                {"{\"st\": {}}", -EINVAL, "st"},
                {"{\"st\": {\"x\": 1, \"z\": 2}}", -EINVAL, "st"},
                {"{\"st\": {\"x\": \"1\"}}", -EINVAL, "st"},
                {"{\"st\": {\"x\": null}}", -EINVAL, "st"},
                {"{\"st\": [1]}", -EINVAL, "st"},
                /* anonymous enum */
                {"{\"en\": \"two\"}", 0, NULL},
                {"{\"en\": \"three\"}", -EINVAL, "en"},
                {"{\"en\": 1}", -EINVAL, "en"},
                /* array */
                {"{\"arr\": []}", 0, NULL},
                {"{\"arr\": [1, 2]}", 0, NULL},
                {"{\"arr\": [1, \"2\"]}", -EINVAL, "arr"},
                {"{\"arr\": [null]}", -EINVAL, "arr"},
                {"{\"arr\": {\"0\": 1}}", -EINVAL, "arr"},
                {"{\"nn\": [1, null]}", 0, NULL},
                /* map */
                {"{\"map\": {\"k\": \"v\"}}", 0, NULL},
                {"{\"map\": {\"k\": 1}}", -EINVAL, "map"},
                {"{\"map\": {\"k\": null}}", -EINVAL, "map"},
                {"{\"map\": [\"k\"]}", -EINVAL, "map"},
                /* set: keys matter, values do not */
                {"{\"set\": {}}", 0, NULL},
                {"{\"set\": {\"a\": {}, \"b\": true, \"c\": null}}", 0, NULL},
                {"{\"set\": [\"a\"]}", -EINVAL, "set"},
                /* named types */
                {"{\"p\": {\"x\": 1, \"y\": 2}}", 0, NULL},
                {"{\"p\": {\"x\": 1}}", -EINVAL, "p"},
                {"{\"m\": \"fast\"}", 0, NULL},
                {"{\"m\": \"medium\"}", -EINVAL, "m"},
                {"{\"points\": {\"a\": [{\"x\": 1, \"y\": 2}], \"b\": []}}", 0, NULL},
                {"{\"points\": {\"a\": [{\"x\": 1, \"y\": 2}, {\"x\": 1}]}}", -EINVAL, "points"},
                /* the first offending member is named */
                {"{\"b\": true, \"i\": 1.5, \"s\": 1}", -EINVAL, "i"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
                check_method(iface, "Check", false, cases[i].params, cases[i].r, cases[i].bad);
        vl_interface_free(iface);
}

TEST(validate_members) {
        VlInterface *iface = parse_ok(validate_interface, "validation interface");
        if (!iface)
                return;
        /* Mandatory fields: absent or null fails, naming the field. */
        check_method(iface, "Required", false, "{\"need\": 1, \"any\": 1}", 0, NULL);
        check_method(iface, "Required", false, "{\"need\": 1, \"opt\": \"x\", \"any\": \"x\"}", 0, NULL);
        check_method(iface, "Required", false, "{\"any\": 1}", -EINVAL, "need");
        check_method(iface, "Required", false, "{\"need\": null, \"any\": 1}", -EINVAL, "need");
        check_method(iface, "Required", false, "{}", -EINVAL, "need");
        check_method(iface, "Required", false, NULL, -EINVAL, "need");
        check_method(iface, "Required", false, "null", -EINVAL, "need");
        check_method(iface, "Required", false, "{\"need\": 1}", -EINVAL, "any");
        check_method(iface, "Required", false, "{\"need\": 1, \"any\": null}", -EINVAL, "any");
        check_method(iface, "Required", false, "{\"need\": 1, \"any\": 1, \"opt\": 2}", -EINVAL, "opt");
        /* Replies are checked against the output. */
        check_method(iface, "Required", true, "{\"out\": [{\"x\": 1, \"y\": 2}]}", 0, NULL);
        check_method(iface, "Required", true, "{\"out\": [{\"x\": 1}]}", -EINVAL, "out");
        check_method(iface, "Required", true, "{\"need\": 1, \"any\": 1}", -EINVAL, "need");
        check_method(iface, "org.example.validate.Required", true, "{\"out\": []}", 0, NULL);
        check_method(iface, "Nope", false, "{}", -ENOENT, NULL);
        check_method(iface, "Point", false, "{}", -ENOENT, NULL);

        /* The name of an unknown member points into the JSON value. */
        VlJson *v = json("{\"need\": 1, \"any\": 1, \"surprise\": true}");
        const char *bad = NULL;
        is_int(vl_interface_validate_method(iface, "Required", false, v, &bad), -EINVAL, "unknown member");
        ok(bad && bad == vl_json_object_key(v, 2), "bad field borrowed from the value");
        vl_json_unref(v);

        /* Errors. */
        v = json("{\"what\": \"x\"}");
        is_int(vl_interface_validate_error(iface, "Bad", v, &bad), 0, "error parameters");
        is_int(vl_interface_validate_error(iface, "org.example.validate.Bad", v, &bad), 0,
               "error by full name");
        is_int(vl_interface_validate_error(iface, "Worse", v, &bad), -ENOENT, "unknown error");
        vl_json_unref(v);
        is_int(vl_interface_validate_error(iface, "Bad", NULL, &bad), -EINVAL, "error without parameters");
        is_str(bad, "what", "error: missing field named");

        /* A type of the interface directly, by definition or by name. */
        const VlMember *point = vl_interface_find(iface, VL_MEMBER_TYPE, "Point");
        v = json("{\"x\": 1, \"y\": \"2\"}");
        is_int(vl_interface_validate(iface, point->type, v, &bad), -EINVAL, "struct type directly");
        is_str(bad, "y", "struct type directly: bad field");
        VlInterface *other =
                parse_ok("interface a.b\ntype Q (p: Point)\ntype Point (x: int, y: int)\n", "alias");
        is_int(vl_interface_validate(other, other->members[0].type->fields[0].type, v, &bad), -EINVAL,
               "named type resolved");
        is_str(bad, "y", "named type: bad field");
        vl_interface_free(other);
        const VlMember *mode = vl_interface_find(iface, VL_MEMBER_TYPE, "Mode");
        is_int(vl_interface_validate(iface, mode->type, v, &bad), -EINVAL, "an enum is no parameter object");
        ok(!bad, "no field to name");
        is_int(vl_interface_validate(iface, point->type, v, NULL), -EINVAL, "ret_bad_field may be NULL");
        vl_json_unref(v);

        vl_interface_free(iface);
}

/* The values the certification client and server exchange in Test09 and Test10. */
static const char mytype_valid[] = "{\"object\": {\"method\": \"org.varlink.certification.Test09\", "
                                   "\"parameters\": {\"map\": {\"foo\": "
                                   "\"Foo\", \"bar\": \"Bar\"}}},"
                                   " \"enum\": \"two\","
                                   " \"struct\": {\"first\": 1, \"second\": \"2\"},"
                                   " \"array\": [\"one\", \"two\", \"three\"],"
                                   " \"dictionary\": {\"foo\": \"Foo\", \"bar\": \"Bar\"},"
                                   " \"stringset\": {\"one\": {}, \"two\": {}, \"three\": {}},"
                                   " \"nullable\": null,"
                                   " \"nullable_array_struct\": null,"
                                   " \"interface\": {\"foo\": [null, {\"foo\": \"foo\", \"bar\": \"bar\"}, "
                                   "null, {\"one\": \"foo\", \"two\": "
                                   "\"bar\"}], \"anon\": {\"foo\": true, \"bar\": false}}}";

static void check_mytype(const VlInterface *iface, const char *mytype, int want, const char *what) {
        char *reply = malloc(strlen(mytype) + 64), *call = malloc(strlen(mytype) + 64);
        sprintf(reply, "{\"mytype\": %s}", mytype);
        sprintf(call, "{\"client_id\": \"c1\", \"mytype\": %s}", mytype);
        VlJson *r = json(reply), *c = json(call);
        const char *bad = NULL;

        is_int(vl_interface_validate_method(iface, "Test09", true, r, &bad), want, "Test09 reply: %s", what);
        is_str(bad, want ? "mytype" : NULL, "Test09 reply: %s: bad field", what);
        is_int(vl_interface_validate_method(iface, "Test10", false, c, &bad), want, "Test10 call: %s", what);
        is_str(bad, want ? "mytype" : NULL, "Test10 call: %s: bad field", what);
        vl_json_unref(r);
        vl_json_unref(c);
        free(reply);
        free(call);
}

/* mytype_valid with the first occurrence of from replaced by to. */
static char *mytype_with(const char *from, const char *to) {
        const char *p = strstr(mytype_valid, from);
        char *s = malloc(sizeof(mytype_valid) + strlen(to));
        if (!p)
                abort();
        sprintf(s, "%.*s%s%s", (int)(p - mytype_valid), mytype_valid, to, p + strlen(from));
        return s;
}

TEST(validate_certification) {
        char *text = read_text(SRCDIR "/src/certification/org.varlink.certification.varlink", NULL);
        VlInterface *iface = text ? parse_ok(text, "certification") : NULL;
        static const struct {
                const char *from, *to, *what;
        } broken[] = {
                {"\"two\",", "\"four\",", "enum value not declared"},
                {"\"first\": 1,", "\"first\": \"1\",", "struct field of the wrong type"},
                {"\"first\": 1,", "", "struct field missing"},
                {"\"second\": \"2\"", "\"second\": \"2\", \"third\": 3", "unknown struct field"},
                {"[\"one\", \"two\", \"three\"]", "[\"one\", 2]", "array element of the wrong type"},
                {"{\"foo\": \"Foo\", \"bar\": \"Bar\"},", "{\"foo\": null},", "null map value"},
                {"{\"one\": {}, \"two\": {}, \"three\": {}}", "[\"one\", \"two\"]", "set as an array"},
                {"\"nullable\": null", "\"nullable\": 5", "nullable of the wrong type"},
                {"\"nullable_array_struct\": null", "\"nullable_array_struct\": [{\"first\": 1}]",
                 "array of incomplete structs"},
                {"{\"one\": \"foo\", \"two\": \"bar\"}", "{\"one\": \"qux\"}",
                 "nested enum value not declared"},
                {"\"bar\": false}", "\"baz\": false}", "anonymous struct with a wrong field"},
                {"\"object\": {\"method\"", "\"object\": [], \"x\": {\"method\"",
                 "unknown member after object"},
                {"\"object\": {\"method\"", "\"object\": \"{}\", \"y\": {\"method\"", "object as a string"},
                {"\"enum\": \"two\",", "", "enum missing"},
                {"\"enum\": \"two\",", "\"enum\": \"two\", \"extra\": 1,", "unknown member"},
        };

        if (!iface) {
                free(text);
                return;
        }
        check_mytype(iface, mytype_valid, 0, "valid MyType");
        char *s = mytype_with("\"nullable\": null", "\"nullable\": \"x\"");
        check_mytype(iface, s, 0, "nullable set");
        free(s);
        s = mytype_with("\"nullable_array_struct\": null",
                        "\"nullable_array_struct\": [{\"first\": 1, \"second\": \"x\"}]");
        check_mytype(iface, s, 0, "nullable array set");
        free(s);
        s = mytype_with("\"nullable\": null,", "");
        check_mytype(iface, s, 0, "absent nullable");
        free(s);
        /* The interface's foo is a nullable array of nullable maps: null is fine. */
        s = mytype_with("\"foo\": [null,", "\"foo\": null, \"x\": [null,");
        check_mytype(iface, s, -EINVAL, "unknown member in Interface");
        free(s);
        for (size_t i = 0; i < sizeof(broken) / sizeof(*broken); i++) {
                s = mytype_with(broken[i].from, broken[i].to);
                check_mytype(iface, s, -EINVAL, broken[i].what);
                free(s);
        }

        /* Members are checked in order, then what is missing. */
        VlJson *v = json("{\"mytype\": {}}");
        const char *bad = NULL;
        is_int(vl_interface_validate_method(iface, "Test10", false, v, &bad), -EINVAL,
               "Test10 with an empty MyType");
        is_str(bad, "mytype", "Test10 with an empty MyType: bad field");
        vl_json_unref(v);
        s = malloc(sizeof(mytype_valid) + 16);
        sprintf(s, "{\"mytype\": %s}", mytype_valid);
        v = json(s);
        is_int(vl_interface_validate_method(iface, "Test10", false, v, &bad), -EINVAL,
               "Test10 without client_id");
        is_str(bad, "client_id", "Test10 without client_id: bad field");
        vl_json_unref(v);
        free(s);

        vl_interface_free(iface);
        free(text);
}

TEST(validate_allow_missing) {
        static const char text[] = "interface org.example.m\n"
                                   "type Inner (a: int, b: string)\n"
                                   "method M(force: bool, inner: Inner) -> ()\n";
        VlInterface *iface = NULL;
        const char *bad = NULL;
        ok(vl_interface_parse(text, sizeof(text) - 1, &iface, NULL) == 0, "parse");
        const VlMember *m = vl_interface_find(iface, VL_MEMBER_METHOD, "M");
        VlJson *v = NULL;
        ok(vl_json_parse("{\"inner\":{\"a\":1}}", 17, NULL, &v, NULL) == 0, "json");
        is_int(vl_interface_validate(iface, m->input, v, &bad), -EINVAL, "strict: a missing field fails");
        is_str(bad, "inner", "the member holding the missing nested field is named");
        is_int(vl_interface_validate_flags(iface, m->input, v, VL_VALIDATE_ALLOW_MISSING, &bad), 0,
               "lenient: missing fields pass at every level");
        vl_json_unref(v);
        ok(vl_json_parse("{\"inner\":{\"a\":\"x\"}}", 19, NULL, &v, NULL) == 0, "json");
        is_int(vl_interface_validate_flags(iface, m->input, v, VL_VALIDATE_ALLOW_MISSING, &bad), -EINVAL,
               "lenient: a present field of the wrong type still fails");
        is_str(bad, "inner", "and is named");
        vl_json_unref(v);
        vl_interface_free(iface);
}

TESTS_MAIN
