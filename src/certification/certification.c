/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * varlink-certification: the org.varlink.certification service and client
 * on libvl, with the command line of the other implementations:
 *
 *   varlink-certification --varlink=ADDRESS            serve
 *   varlink-certification --client --varlink=ADDRESS   run the sequence
 *
 * Serving also works socket-activated (listening or connected fd), in which
 * case --varlink may be left out. The client exits 0 only when every reply
 * carried the expected values and End answered all_ok: true.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "org.varlink.certification.h"
#include <vl/vl.h>

#define N_MORE 10

#define MYTYPE                                                                                              \
        "{\"object\":{\"method\":\"org.varlink.certification.Test09\",\"parameters\":{\"map\":{\"foo\":"    \
        "\"Foo\","                                                                                          \
        "\"bar\":\"Bar\"}}},\"enum\":\"two\",\"struct\":{\"first\":1,\"second\":\"2\"},\"array\":[\"one\"," \
        "\"two\",\"three\"],\"dictionary\":{\"foo\":\"Foo\",\"bar\":\"Bar\"},\"stringset\":{\"one\":{},"    \
        "\"two\":{},\"three\":{}},\"nullable\":null,\"nullable_array_struct\":null,\"interface\":{\"foo\":" \
        "[null,{\"Foo\":\"foo\",\"Bar\":\"bar\"},null,{\"one\":\"foo\",\"two\":\"bar\"}],\"anon\":{"        \
        "\"foo\":"                                                                                          \
        "true,\"bar\":false}}}"
#define FIVE "\"bool\":false,\"int\":2,\"float\":3.141592653589793,\"string\":\"a lot of string\""

/* The sequence: each step's arguments (besides client_id) and its reply. */
static const struct Step {
        const char *method;
        const char *args;
        const char *reply;
} steps[] = {
        {"Start", "{}", NULL},
        {"Test01", "{}", "{\"bool\":true}"},
        {"Test02", "{\"bool\":true}", "{\"int\":1}"},
        {"Test03", "{\"int\":1}", "{\"float\":1.0}"},
        {"Test04", "{\"float\":1.0}", "{\"string\":\"ping\"}"},
        {"Test05", "{\"string\":\"ping\"}", "{" FIVE "}"},
        {"Test06", "{" FIVE "}", "{\"struct\":{" FIVE "}}"},
        {"Test07", "{\"struct\":{" FIVE "}}", "{\"map\":{\"foo\":\"Foo\",\"bar\":\"Bar\"}}"},
        {"Test08", "{\"map\":{\"foo\":\"Foo\",\"bar\":\"Bar\"}}",
         "{\"set\":{\"one\":{},\"two\":{},\"three\":{}}}"},
        {"Test09", "{\"set\":{\"one\":{},\"two\":{},\"three\":{}}}", "{\"mytype\":" MYTYPE "}"},
        {"Test10", "{\"mytype\":" MYTYPE "}", NULL},
        {"Test11", NULL, NULL},
        {"End", "{}", "{\"all_ok\":true}"},
};

enum { STEP_START = 0, STEP_TEST10 = 10, STEP_TEST11 = 11, STEP_END = 12 };

static VlJson *parse_literal(const char *text) {
        VlJson *v = NULL;
        if (vl_json_parse(text, strlen(text), NULL, &v, NULL) < 0)
                abort(); /* our own literals */
        return v;
}

static VlJson *more_replies(void) {
        VlJson *a = vl_json_new_array();
        char s[32];
        for (int i = 1; a && i <= N_MORE; i++) {
                snprintf(s, sizeof(s), "Reply number %d", i);
                if (vl_json_array_append(a, vl_json_new_string(s)) < 0)
                        return vl_json_unref(a);
        }
        return a;
}

/* Sets ([string]()) compare by keys: peers send {} or other values. */
static bool is_set(const VlJson *v) {
        if (vl_json_type(v) != VL_JSON_OBJECT || vl_json_object_length(v) == 0)
                return false;
        for (size_t i = 0; i < vl_json_object_length(v); i++) {
                const VlJson *e = vl_json_object_value(v, i);
                if (vl_json_type(e) != VL_JSON_OBJECT || vl_json_object_length(e) != 0)
                        return false;
        }
        return true;
}

static bool matches(const VlJson *want, const VlJson *got) {
        if (vl_json_is_null(want))
                return vl_json_is_null(got);
        if (is_set(want)) {
                if (vl_json_type(got) != VL_JSON_OBJECT ||
                    vl_json_object_length(got) != vl_json_object_length(want))
                        return false;
                for (size_t i = 0; i < vl_json_object_length(want); i++)
                        if (!vl_json_object_get(got, vl_json_object_key(want, i)))
                                return false;
                return true;
        }
        if (vl_json_type(want) == VL_JSON_OBJECT) {
                if (vl_json_type(got) != VL_JSON_OBJECT)
                        return false;
                for (size_t i = 0; i < vl_json_object_length(want); i++)
                        if (!matches(vl_json_object_value(want, i),
                                     vl_json_object_get(got, vl_json_object_key(want, i))))
                                return false;
                for (size_t i = 0; i < vl_json_object_length(got); i++)
                        if (!vl_json_object_get(want, vl_json_object_key(got, i)) &&
                            !vl_json_is_null(vl_json_object_value(got, i)))
                                return false;
                return true;
        }
        if (vl_json_type(want) == VL_JSON_ARRAY) {
                if (vl_json_type(got) != VL_JSON_ARRAY ||
                    vl_json_array_length(got) != vl_json_array_length(want))
                        return false;
                for (size_t i = 0; i < vl_json_array_length(want); i++)
                        if (!matches(vl_json_array_get(want, i), vl_json_array_get(got, i)))
                                return false;
                return true;
        }
        return vl_json_equal(want, got);
}

/* ================= server ================= */

typedef struct Client {
        char id[33];
        int next; /* the step expected next */
        bool failed;
        struct Client *next_client;
} Client;

static Client *clients;

static Client *find_client(const char *id) {
        for (Client *c = clients; c; c = c->next_client)
                if (strcmp(c->id, id) == 0)
                        return c;
        return NULL;
}

static void drop_client(Client *gone) {
        for (Client **p = &clients; *p; p = &(*p)->next_client)
                if (*p == gone) {
                        *p = gone->next_client;
                        free(gone);
                        return;
                }
}

static int reply_certification_error(VlCall *call, VlJson *wants, const VlJson *got) {
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set(p, "wants", wants ? wants : vl_json_new_object()) < 0 ||
            vl_json_object_set(p, "got", vl_json_copy(got)) < 0) {
                vl_json_unref(p);
                return -ENOMEM;
        }
        return vl_call_reply_error(call, "org.varlink.certification.CertificationError", p);
}

static int serve_start(VlCall *call) {
        Client *c = calloc(1, sizeof(Client));
        unsigned char raw[16];
        if (!c)
                return -ENOMEM;
        if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
                free(c);
                return -EIO;
        }
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(c->id + 2 * i, 3, "%02x", raw[i]);
        c->next = 1;
        c->next_client = clients;
        clients = c;
        VlJson *r = vl_json_new_object();
        if (!r || vl_json_object_set_string(r, "client_id", c->id) < 0) {
                vl_json_unref(r);
                return -ENOMEM;
        }
        return vl_call_reply(call, r);
}

static int serve_step(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int step = (int)(intptr_t)userdata;
        if (step == STEP_START)
                return serve_start(call);
        Client *c = find_client(vl_json_get_string(vl_json_object_get(params, "client_id")));
        if (!c)
                return vl_call_reply_error(call, "org.varlink.certification.ClientIdError", NULL);
        VlJson *want = step == STEP_TEST11 ? vl_json_new_object() : parse_literal(steps[step].args);
        if (!want)
                return -ENOMEM;
        if (step == STEP_TEST11 && vl_json_object_set(want, "last_more_replies", more_replies()) < 0) {
                vl_json_unref(want);
                return -ENOMEM;
        }
        vl_json_object_set_string(want, "client_id", c->id);
        bool ok = c->next == step && matches(want, params);
        if (step == STEP_TEST10 && !(flags & VL_CALL_MORE)) {
                vl_json_unref(want);
                c->failed = true;
                return vl_call_reply_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        }
        if (step == STEP_TEST11 && !(flags & VL_CALL_ONEWAY))
                ok = false;
        if (!ok) {
                c->failed = true;
                return reply_certification_error(call, want, params);
        }
        vl_json_unref(want);
        c->next = step + 1;
        if (step == STEP_TEST10) {
                char s[32];
                for (int i = 1; i <= N_MORE; i++) {
                        VlJson *r = vl_json_new_object();
                        snprintf(s, sizeof(s), "Reply number %d", i);
                        if (!r || vl_json_object_set_string(r, "string", s) < 0) {
                                vl_json_unref(r);
                                return -ENOMEM;
                        }
                        int k = i < N_MORE ? vl_call_reply_more(call, r) : vl_call_reply(call, r);
                        if (k < 0)
                                return k;
                }
                return 0;
        }
        if (step == STEP_TEST11)
                return vl_call_reply(call, NULL);
        if (step == STEP_END) {
                bool all_ok = !c->failed;
                drop_client(c);
                VlJson *r = vl_json_new_object();
                if (!r || vl_json_object_set_bool(r, "all_ok", all_ok) < 0) {
                        vl_json_unref(r);
                        return -ENOMEM;
                }
                return vl_call_reply(call, r);
        }
        return vl_call_reply(call, parse_literal(steps[step].reply));
}

static int on_signal(VlSource *s, int signo, void *userdata) {
        vl_loop_quit(userdata, 0);
        return 0;
}

static int run_server(const char *address) {
        VlServer *s = NULL;
        VlIdlError err;
        char name[64];
        int r = vl_server_new(&s, "Varlink", "Certification", VL_VERSION, "https://varlink.org");
        if (r >= 0)
                r = vl_server_add_interface(s, org_varlink_certification_idl, &err);
        for (size_t i = 0; r >= 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
                snprintf(name, sizeof(name), "org.varlink.certification.%s", steps[i].method);
                r = vl_server_bind(s, name, serve_step, (void *)(intptr_t)i);
        }
        if (r >= 0)
                r = vl_server_listen_auto(s, address);
        if (r < 0) {
                fprintf(stderr, "varlink-certification: cannot serve %s: %s\n",
                        address ? address : "(activation)", strerror(-r));
                vl_server_free(s);
                return 1;
        }
        VlLoop *loop = vl_server_get_loop(s);
        vl_loop_add_signal(loop, SIGTERM, on_signal, loop, NULL);
        vl_loop_add_signal(loop, SIGINT, on_signal, loop, NULL);
        r = vl_server_run(s);
        while (clients)
                drop_client(clients);
        vl_server_free(s);
        return r < 0 ? 1 : 0;
}

/* ================= client ================= */

static bool client_step(VlClient *c, const char *method, VlJson *args, unsigned flags, const char *want,
                        VlJson **ret) {
        char name[64];
        const char *error = NULL;
        VlJson *reply = NULL;
        snprintf(name, sizeof(name), "org.varlink.certification.%s", method);
        int r = vl_client_call(c, name, args, flags, &reply, &error);
        if (r != 0) {
                printf("%s: failed: %s\n", method, r < 0 ? strerror(-r) : error);
                vl_json_unref(reply);
                return false;
        }
        if (want) {
                VlJson *w = parse_literal(want);
                bool ok = matches(w, reply);
                vl_json_unref(w);
                if (!ok) {
                        char *text = vl_json_to_string(reply, 0);
                        printf("%s: unexpected reply %s\n", method, text ? text : "");
                        free(text);
                        vl_json_unref(reply);
                        return false;
                }
        }
        char *text = reply ? vl_json_to_string(reply, 0) : NULL;
        printf("%s: %s\n", method, text ? text : "");
        free(text);
        *ret = reply;
        return true;
}

static int run_client(const char *address) {
        VlClient *c = NULL;
        int r = vl_client_connect(&c, address);
        if (r < 0) {
                fprintf(stderr, "varlink-certification: cannot connect to %s: %s\n", address, strerror(-r));
                return 1;
        }
        vl_client_set_timeout(c, 10 * 1000000ull);
        bool ok = true;
        VlJson *prev = NULL, *reply = NULL;
        const char *id = NULL;
        char client_id[128] = "";
        for (int i = STEP_START; ok && i < STEP_TEST10; i++) {
                VlJson *args = i == STEP_START ? vl_json_new_object() : vl_json_copy(prev);
                if (i != STEP_START)
                        ok = args && vl_json_object_set_string(args, "client_id", client_id) >= 0;
                ok = ok && client_step(c, steps[i].method, args, 0, steps[i].reply, &reply);
                vl_json_unref(args);
                if (ok && i == STEP_START) {
                        id = vl_json_get_string(vl_json_object_get(reply, "client_id"));
                        ok = id && strlen(id) < sizeof(client_id);
                        if (ok)
                                strcpy(client_id, id);
                        vl_json_unref(reply);
                        reply = vl_json_new_object(); /* Test01 takes no value but client_id */
                }
                vl_json_unref(prev);
                prev = ok ? reply : NULL;
                reply = NULL;
        }
        /* Test10: ten replies through "more", passed on to Test11 */
        VlJson *strings = vl_json_new_array();
        if (ok) {
                VlJson *args = vl_json_copy(prev);
                const char *error = NULL;
                ok = args && strings && vl_json_object_set_string(args, "client_id", client_id) >= 0;
                r = ok ? vl_client_call(c, "org.varlink.certification.Test10", args, VL_CALL_MORE, &reply,
                                        &error)
                       : -ENOMEM;
                vl_json_unref(args);
                for (int n = 1; ok; n++) {
                        char want[32];
                        snprintf(want, sizeof(want), "Reply number %d", n);
                        const char *got = vl_json_get_string(vl_json_object_get(reply, "string"));
                        ok = r == 0 && got && strcmp(got, want) == 0 && n <= N_MORE;
                        printf("Test10: %s\n", got ? got : "(error)");
                        ok = ok && vl_json_array_append(strings, vl_json_new_string(got)) >= 0;
                        vl_json_unref(reply);
                        reply = NULL;
                        if (!ok || !vl_client_continues(c)) {
                                ok = ok && n == N_MORE;
                                break;
                        }
                        r = vl_client_next(c, &reply, &error, NULL);
                }
        }
        vl_json_unref(prev);
        if (ok) {
                VlJson *args = vl_json_new_object();
                ok = args && vl_json_object_set_string(args, "client_id", client_id) >= 0 &&
                     vl_json_object_set(args, "last_more_replies", vl_json_ref(strings)) >= 0;
                ok = ok && client_step(c, "Test11", args, VL_CALL_ONEWAY, NULL, &reply);
                vl_json_unref(args);
        }
        vl_json_unref(strings);
        if (ok) {
                VlJson *args = vl_json_new_object();
                ok = args && vl_json_object_set_string(args, "client_id", client_id) >= 0;
                ok = ok && client_step(c, "End", args, 0, steps[STEP_END].reply, &reply);
                vl_json_unref(args);
                vl_json_unref(reply);
        }
        vl_client_free(c);
        printf("%s\n", ok ? "all_ok: true" : "all_ok: false");
        return ok ? 0 : 1;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"varlink", required_argument, NULL, 'v'},
                {"client", no_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *address = NULL;
        bool client = false;
        int o;
        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (o) {
                case 'v':
                        address = optarg;
                        break;
                case 'c':
                        client = true;
                        break;
                case 'h':
                        printf("usage: %s [--client] --varlink=ADDRESS\n", argv[0]);
                        return 0;
                default:
                        return 2;
                }
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (client) {
                if (!address) {
                        fprintf(stderr, "varlink-certification: --client needs --varlink=ADDRESS\n");
                        return 2;
                }
                return run_client(address);
        }
        signal(SIGPIPE, SIG_IGN);
        return run_server(address);
}
