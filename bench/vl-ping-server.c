/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A libvl server for the ping benchmarks: interface org.example.ping,
 * Ping(ping: string) -> (ping: string) answers with the string it got.
 *
 *   vl-ping-server ADDRESS
 *
 * Socket-activated fds are used when there are any; otherwise it listens on
 * ADDRESS (e.g. unix:/run/ping.sock). SIGTERM and SIGINT end it cleanly
 * (so that profilers see a normal exit).
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <vl/varlink.h>

static const char ping_idl[] = "interface org.example.ping\n"
                               "\n"
                               "method Ping(ping: string) -> (ping: string)\n";

static int on_ping(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        (void)flags;
        (void)userdata;
        VlJson *ping = vl_json_object_get(params, "ping");
        VlJson *reply = vl_json_new_object();
        if (!reply || vl_json_object_set(reply, "ping", vl_json_ref(ping)) < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        return vl_call_reply(call, reply);
}

static int on_signal(VlSource *s, int signo, void *userdata) {
        (void)s;
        (void)signo;
        vl_loop_quit(userdata, 0);
        return 0;
}

int main(int argc, char **argv) {
        VlServer *s = NULL;
        VlIdlError err;

        if (argc > 2) {
                fprintf(stderr, "usage: vl-ping-server [ADDRESS]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        int r = vl_server_new(&s, "Example", "Ping", "1", "https://example.org/ping");
        if (r >= 0)
                r = vl_server_add_interface(s, ping_idl, &err);
        if (r >= 0)
                r = vl_server_bind(s, "org.example.ping.Ping", on_ping, NULL);
        if (r >= 0) {
                /* Room for many idle connections (the benchmark opens 1,000). */
                VlServerLimits limits = {.max_connections = 16384, .max_per_uid = 16384};
                vl_server_set_limits(s, &limits);
                r = vl_server_listen_auto(s, argc > 1 ? argv[1] : NULL);
        }
        if (r < 0) {
                fprintf(stderr, "vl-ping-server: cannot serve %s: %s\n", argc > 1 ? argv[1] : "(activation)",
                        strerror(-r));
                vl_server_free(s);
                return 1;
        }
        VlLoop *loop = vl_server_get_loop(s);
        vl_loop_add_signal(loop, SIGTERM, on_signal, loop, NULL);
        vl_loop_add_signal(loop, SIGINT, on_signal, loop, NULL);
        r = vl_server_run(s);
        vl_server_free(s);
        return r < 0 ? 1 : 0;
}
