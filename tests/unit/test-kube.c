/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vl/json.h>

#include "kube.h"
#include "tests.h"
#include "util.h"
#include "yaml.h"

/* YAML in, compact JSON of the documents (or "ERROR message") out. */
static char *conv(const char *yaml) {
        static char buf[4096];
        CpodError err = {};
        VlJson *v = NULL;
        char *s;

        if (yaml_parse(yaml, strlen(yaml), &v, &err) < 0) {
                snprintf(buf, sizeof(buf), "ERROR %s", err.message);
                return buf;
        }
        s = vl_json_to_string(v, 0);
        snprintf(buf, sizeof(buf), "%s", s ? s : "ENOMEM");
        free(s);
        vl_json_unref(v);
        return buf;
}

/* JSON in, YAML stream out. */
static char *yaml_of(const char *json) {
        static char buf[4096];
        VlJson *v = NULL;
        VlBuf b = VL_BUF_INIT;

        if (vl_json_parse(json, strlen(json), NULL, &v, NULL) < 0 || yaml_write_stream(&b, v) < 0 ||
            vl_buf_append_char(&b, 0) < 0)
                snprintf(buf, sizeof(buf), "FAILED");
        else
                snprintf(buf, sizeof(buf), "%s", b.data);
        vl_buf_free(&b);
        vl_json_unref(v);
        return buf;
}

TEST(block_structure) {
        is_str(conv(""), "[]", "empty stream");
        is_str(conv("# only a comment\n\n"), "[]", "comment only");
        is_str(conv("a: 1\nb: x y\n"), "[{\"a\":\"1\",\"b\":\"x y\"}]", "mapping, scalars stay strings");
        is_str(conv("a:\n  b:\n    c: d\n"), "[{\"a\":{\"b\":{\"c\":\"d\"}}}]", "nested mappings");
        is_str(conv("- a\n- b\n"), "[[\"a\",\"b\"]]", "sequence");
        is_str(conv("k:\n- a\n- b\nl: c\n"), "[{\"k\":[\"a\",\"b\"],\"l\":\"c\"}]",
               "sequence at its key's indent");
        is_str(conv("k:\n  - a\n  - b\n"), "[{\"k\":[\"a\",\"b\"]}]", "indented sequence");
        is_str(conv("- name: x\n  value: y\n- name: z\n"),
               "[[{\"name\":\"x\",\"value\":\"y\"},{\"name\":\"z\"}]]", "mappings in a sequence");
        is_str(conv("- - a\n  - b\n- c\n"), "[[[\"a\",\"b\"],\"c\"]]", "nested sequences");
        is_str(conv("a:\nb: ~\n"), "[{\"a\":null,\"b\":\"~\"}]", "empty value is null");
        is_str(conv("a: [] \nb: {}\nc: [x, \"y\", {k: v}]\n"),
               "[{\"a\":[],\"b\":{},\"c\":[\"x\",\"y\",{\"k\":\"v\"}]}]", "flow collections");
        is_str(conv("url: http://h:80/p#x # comment\n"), "[{\"url\":\"http://h:80/p#x\"}]",
               "colons and comments");
        is_str(conv("a: 1\r\nb: 2\r\n"), "[{\"a\":\"1\",\"b\":\"2\"}]", "CRLF line ends");
}

TEST(scalars) {
        is_str(conv("a: \"x\\ty\\n\\\"\\\\\\x41\\u00e9\"\n"), "[{\"a\":\"x\\ty\\n\\\"\\\\A\xc3\xa9\"}]",
               "double-quoted escapes");
        is_str(conv("a: 'it''s # not a comment'\n"), "[{\"a\":\"it's # not a comment\"}]", "single-quoted");
        is_str(conv("\"quoted key\": 1\n'other: key': 2\n"), "[{\"quoted key\":\"1\",\"other: key\":\"2\"}]",
               "quoted keys");
        is_str(conv("a: \"\"\n"), "[{\"a\":\"\"}]", "empty string is not null");
}

TEST(documents) {
        is_str(conv("a: 1\n---\nb: 2\n"), "[{\"a\":\"1\"},{\"b\":\"2\"}]", "two documents");
        is_str(conv("---\na: 1\n...\n"), "[{\"a\":\"1\"}]", "explicit start and end");
        is_str(conv("---\n---\n"), "[null,null]", "empty documents");
}

TEST(errors) {
        is_str(conv("a: b: c\n"), "ERROR line 1: mapping values are not allowed here", "nested value");
        is_str(conv("a:\n  b: 1\n c: 2\n"), "ERROR line 3: bad indentation of a mapping entry",
               "indentation");
        is_str(conv("a: 1\na: 2\n"), "ERROR line 2: duplicate key \"a\"", "duplicate key");
        is_str(conv("a:\n\tb: 1\n"), "ERROR line 2: tabs are not allowed in indentation", "tab");
        is_str(conv("x: 1\ny: \"open\n"),
               "ERROR line 2: unterminated double-quoted scalar (quoted scalars must fit on one line)",
               "unterminated quote");
        is_str(conv("a: &x 1\n"), "ERROR line 1: anchors, aliases and tags are not supported", "anchor");
        is_str(conv("a: |\n  t\n"), "ERROR line 1: block scalars are not supported", "block scalar");
        is_str(conv("a: [1, 2\n"), "ERROR line 1: unterminated flow collection (it must fit on one line)",
               "unterminated flow");
        is_str(conv("a: \"\\q\"\n"), "ERROR line 1: unknown escape \\q", "bad escape");
        is_str(conv("a: 1\n- b\n"), "ERROR line 2: sequence entries are not allowed here",
               "entry in mapping");
        is_str(conv("a: \xff\n"), "ERROR line 1: invalid UTF-8", "bad UTF-8");

        char *deep = malloc(2 * 70 + 2);
        for (int i = 0; i < 70; i++)
                memcpy(deep + 2 * i, "- ", 2);
        strcpy(deep + 140, "x");
        is_str(conv(deep), "ERROR line 1: nesting deeper than 64", "depth limit");
        free(deep);

        size_t big = YAML_MAX_SIZE + 1;
        char *s = malloc(big);
        memset(s, '#', big);
        CpodError err = {};
        VlJson *v = NULL;
        is_int(yaml_parse(s, big, &v, &err), -E2BIG, "size limit");
        free(s);
}

TEST(write) {
        is_str(yaml_of("[{\"a\":\"1\",\"b\":{\"c\":[\"x\",{\"d\":null}]},\"e\":[],\"f\":{}}]"),
               "a: \"1\"\nb:\n  c:\n  - x\n  - d:\ne: []\nf: {}\n", "block layout");
        is_str(yaml_of("[{\"num\":80,\"t\":true,\"s\":\"true\",\"e\":\"\",\"h\":\"# x\",\"c\":\"a: "
                       "b\",\"d\":\"-\"}]"),
               "num: 80\nt: true\ns: \"true\"\ne: \"\"\nh: \"# x\"\nc: \"a: b\"\nd: \"-\"\n", "quoting");
        is_str(yaml_of("[{\"a\":1},{\"b\":2}]"), "a: 1\n---\nb: 2\n", "document separators");
        is_str(yaml_of("[[[\"a\",\"b\"],\"c\"]]"), "- - a\n  - b\n- c\n", "nested sequences");
        is_str(yaml_of("[{\"x\":\"tab\\there\\n\"}]"), "x: \"tab\\there\\n\"\n", "escapes");

        /* what the parser returns reads back equal */
        static const char *const inputs[] = {
                "a: [x, {k: v}, []]\nb: 'q''s'\nc:\n- - 1\n  -\n- d: \"null\"\n---\n---\n- ~\n",
                "k: \" lead\"\nl: \"trail \"\nm: \"-x\"\nn: \"--\"\no: \"...\"\np: \"0x1F\"\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                CpodError err = {};
                VlJson *v = NULL, *back = NULL;
                VlBuf b = VL_BUF_INIT;
                ok(yaml_parse(inputs[i], strlen(inputs[i]), &v, &err) >= 0 &&
                           yaml_write_stream(&b, v) >= 0 && yaml_parse(b.data, b.len, &back, &err) >= 0 &&
                           vl_json_equal(v, back),
                   "round trip %zu", i);
                vl_buf_free(&b);
                vl_json_unref(v);
                vl_json_unref(back);
        }
}

static const char member_json[] =
        "[{\"Name\":\"web\",\"ImageName\":\"docker.io/library/busybox:latest\","
        "\"Config\":{\"Entrypoint\":[],\"Cmd\":[\"sleep\",\"1000\"],\"Env\":[\"GREETING=hello world\"],"
        "\"WorkingDir\":\"/\"},"
        "\"HostConfig\":{\"Binds\":[\"data:/data\",\"/srv/conf:/etc/app:ro\"],\"Privileged\":false,"
        "\"RestartPolicy\":{\"Name\":\"always\"}}}]";

TEST(generate) {
        VlJson *members = NULL, *ports = NULL, *docs = NULL;
        CpodError err = {};
        VlBuf b = VL_BUF_INIT;

        ok(vl_json_parse(member_json, strlen(member_json), NULL, &members, NULL) >= 0, "members parse");
        static const char ports_json[] = "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"30080\"}]}";
        ok(vl_json_parse(ports_json, strlen(ports_json), NULL, &ports, NULL) >= 0, "ports parse");
        ok(kube_documents("mypod", "mypod", NULL, members, ports, true, &docs, &err) >= 0, "documents");
        ok(yaml_write_stream(&b, docs) >= 0 && vl_buf_append_char(&b, 0) >= 0, "written");
        is_str(b.data,
               "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: mypod\n  name: mypod\nspec:\n"
               "  containers:\n  - name: web\n    image: docker.io/library/busybox:latest\n    args:\n"
               "    - sleep\n    - \"1000\"\n    env:\n    - name: GREETING\n      value: hello world\n"
               "    ports:\n    - containerPort: 80\n      hostPort: 30080\n      protocol: TCP\n"
               "    volumeMounts:\n    - mountPath: /data\n      name: data-pvc\n      readOnly: false\n"
               "    - mountPath: /etc/app\n      name: srv-conf-host-1\n      readOnly: true\n"
               "  restartPolicy: Always\n  hostname: mypod\n  volumes:\n  - name: data-pvc\n"
               "    persistentVolumeClaim:\n      claimName: data\n  - name: srv-conf-host-1\n    "
               "hostPath:\n"
               "      path: /srv/conf\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: mypod\nspec:\n"
               "  ports:\n  - name: \"80\"\n    nodePort: 30080\n    port: 80\n    protocol: TCP\n"
               "    targetPort: 80\n  selector:\n    app: mypod\n  type: NodePort\n",
               "pod and service YAML");

        /* what generate writes, play reads */
        VlJson *back = NULL;
        ok(yaml_parse(b.data, b.len - 1, &back, &err) >= 0, "reparsed");
        ok(kube_validate(back, &err) >= 0, "generated YAML validates: %s", err.message);
        vl_buf_free(&b);
        vl_json_unref(back);
        vl_json_unref(docs);
        vl_json_unref(ports);
        vl_json_unref(members);
}

static char *validate(const char *yaml) {
        static char buf[1200];
        CpodError err = {};
        VlJson *v = NULL;

        if (yaml_parse(yaml, strlen(yaml), &v, &err) < 0 || kube_validate(v, &err) < 0)
                snprintf(buf, sizeof(buf), "ERROR %s", err.message);
        else
                snprintf(buf, sizeof(buf), "OK");
        vl_json_unref(v);
        return buf;
}

TEST(validate) {
        static const char pod[] = "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
                                  "    image: busybox\n";
        is_str(validate(pod), "OK", "minimal pod");
        is_str(validate("kind: Deployment\n"), "ERROR document 1: unsupported kind \"Deployment\"",
               "unknown kind");
        is_str(validate("- a\n"), "ERROR document 1: not a Kubernetes object (no kind)", "not an object");
        is_str(validate("kind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n"),
               "ERROR document 1: pod p: spec.containers must be a non-empty list", "no containers");
        is_str(validate("kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"),
               "ERROR document 1: pod p: container 0: a container needs a name and an image", "no image");
        is_str(validate("kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: b\n"
                        "    volumeMounts:\n    - name: v\n      mountPath: /v\n"),
               "ERROR document 1: pod p: container c: volume \"v\" is not defined in spec.volumes",
               "undefined volume");
        is_str(validate("kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: b\n"
                        "    ports:\n    - containerPort: http\n"),
               "ERROR document 1: pod p: container c: invalid containerPort or hostPort", "bad port");
}

TESTS_MAIN
