/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The message stream, both ways. The first byte picks a side:
 * - even: the bytes are what a client sends to a server that serves the
 *   certification interface; the server must answer or close, never crash.
 * - odd: the bytes are what a server sends back to a client's call (and
 *   a following stream of replies); the client must decode or fail cleanly.
 */

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vl/vl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char idl[] = "interface org.example.fuzz\n"
                          "type T (a: ?[]?[string](x, y), b: (c: int, d: float), e: object, f: any)\n"
                          "method Echo(s: string, t: ?T, set: ?[string]()) -> (s: string, t: ?T)\n"
                          "method Stream(n: int) -> (i: int)\n"
                          "error Oops (why: string)\n";

static int echo(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *r = vl_json_new_object();
        VlJson *t = vl_json_object_get(params, "t");
        vl_json_object_set(r, "s", vl_json_copy(vl_json_object_get(params, "s")));
        if (t)
                vl_json_object_set(r, "t", vl_json_copy(t));
        return vl_call_reply(call, r);
}

static int stream(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int64_t n = vl_json_get_int(vl_json_object_get(params, "n"));
        if (!(flags & VL_CALL_MORE) || n < 0 || n > 8)
                return vl_call_reply_error_string(call, "org.example.fuzz.Oops", "why", "n");
        for (int64_t i = 0; i < n; i++) {
                VlJson *r = vl_json_new_object();
                vl_json_object_set_int(r, "i", i);
                if (vl_call_reply_more(call, r) < 0)
                        return 0;
        }
        VlJson *r = vl_json_new_object();
        vl_json_object_set_int(r, "i", n);
        return vl_call_reply(call, r);
}

static VlServer *server;

static void feed_server(const uint8_t *data, size_t size) {
        if (!server) {
                if (vl_server_new(&server, "fuzz", "fuzz", "1", "") < 0 ||
                    vl_server_add_interface(server, idl, NULL) < 0)
                        abort();
                vl_server_bind(server, "org.example.fuzz.Echo", echo, NULL);
                vl_server_bind(server, "org.example.fuzz.Stream", stream, NULL);
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        if (write(sv[0], data, size) != (ssize_t)size || vl_server_listen_fd(server, sv[1]) < 0) {
                close(sv[0]);
                close(sv[1]);
                return;
        }
        shutdown(sv[0], SHUT_WR);
        VlLoop *loop = vl_server_get_loop(server);
        char sink[65536];
        for (int i = 0; i < 1000 && vl_server_n_connections(server) > 0; i++) {
                vl_loop_process(loop, 0);
                while (recv(sv[0], sink, sizeof(sink), MSG_DONTWAIT) > 0)
                        ;
        }
        close(sv[0]);
        /* a connection still open here would be a hang: end it with the peer gone */
        for (int i = 0; i < 100 && vl_server_n_connections(server) > 0; i++)
                vl_loop_process(loop, 0);
        if (vl_server_n_connections(server) > 0)
                abort();
}

static void feed_client(const uint8_t *data, size_t size) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        if (write(sv[0], data, size) != (ssize_t)size) {
                close(sv[0]);
                close(sv[1]);
                return;
        }
        shutdown(sv[0], SHUT_WR);
        VlClient *c = NULL;
        if (vl_client_new_fd(&c, sv[1], 0) < 0) {
                close(sv[0]);
                close(sv[1]);
                return;
        }
        vl_client_set_timeout(c, 100000);
        VlJson *reply = NULL;
        const char *error = NULL;
        bool more = true;
        int r = vl_client_call(c, "org.example.fuzz.Stream", NULL, VL_CALL_MORE, &reply, &error);
        for (int i = 0; r >= 0 && more && i < 64; i++) {
                vl_json_unref(reply);
                reply = NULL;
                r = vl_client_next(c, &reply, &error, &more);
        }
        vl_json_unref(reply);
        vl_client_free(c);
        close(sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 65536)
                return 0;
        if (data[0] % 2 == 0)
                feed_server(data + 1, size - 1);
        else
                feed_client(data + 1, size - 1);
        return 0;
}
