/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A libvl client for the ping benchmarks: sequential org.example.ping.Ping
 * calls with vl_client_call, on one or more connections (one thread and one
 * VlClient each).
 *
 *   vl-ping-client ADDRESS [-t SECONDS] [-c CONNECTIONS] [-n CALLS]
 *   vl-ping-client ADDRESS --idle N
 *
 * -n makes a fixed number of calls per connection instead of running for a
 * time. --idle opens N connections, makes one call on each, prints "ready"
 * and keeps them open until its stdin is closed.
 */

#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include <vl/varlink.h>

#include "bench-harness.h"

typedef struct PingConn {
        VlClient *client;
        VlJson *params;
} PingConn;

static void ping_disconnect(void *p) {
        PingConn *c = p;
        vl_client_free(c->client);
        vl_json_unref(c->params);
        free(c);
}

static void *ping_connect(const char *address) {
        PingConn *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        int r = vl_client_connect(&c->client, address);
        if (r < 0) {
                fprintf(stderr, "vl-ping-client: cannot connect to %s: %s\n", address, strerror(-r));
                free(c);
                return NULL;
        }
        c->params = vl_json_new_object();
        if (!c->params || vl_json_object_set_string(c->params, "ping", "x") < 0) {
                ping_disconnect(c);
                return NULL;
        }
        return c;
}

static int ping_call(void *p) {
        PingConn *c = p;
        VlJson *reply = NULL;
        const char *error = NULL;
        int r = vl_client_call(c->client, "org.example.ping.Ping", c->params, 0, &reply, &error);
        if (r == 0 && !vl_json_get_string(vl_json_object_get(reply, "ping")))
                r = -EPROTO;
        vl_json_unref(reply);
        if (r != 0) {
                fprintf(stderr, "vl-ping-client: call failed: %s\n", r > 0 ? error : strerror(-r));
                return -1;
        }
        return 0;
}

static const BenchOps ping_ops = {ping_connect, ping_call, ping_disconnect};

static int run_idle(const char *address, unsigned n) {
        PingConn **conns = calloc(n, sizeof(*conns));
        if (!conns)
                return 1;
        for (unsigned i = 0; i < n; i++) {
                conns[i] = ping_connect(address);
                if (!conns[i] || ping_call(conns[i]) < 0) {
                        fprintf(stderr, "vl-ping-client: connection %u failed\n", i);
                        return 1;
                }
        }
        printf("ready\n");
        fflush(stdout);
        char buf[64];
        while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
                ;
        for (unsigned i = 0; i < n; i++)
                ping_disconnect(conns[i]);
        free(conns);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"idle", required_argument, NULL, 'i'},
                {},
        };
        double secs = 3;
        unsigned conns = 1, idle = 0;
        uint64_t calls = 0;
        int o;

        while ((o = getopt_long(argc, argv, "t:c:n:", options, NULL)) >= 0) {
                switch (o) {
                case 't':
                        secs = atof(optarg);
                        break;
                case 'c':
                        conns = (unsigned)atoi(optarg);
                        break;
                case 'n':
                        calls = strtoull(optarg, NULL, 10);
                        break;
                case 'i':
                        idle = (unsigned)atoi(optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr,
                        "usage: vl-ping-client ADDRESS [-t SECS] [-c CONNS] [-n CALLS] [--idle N]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (idle > 0)
                return run_idle(argv[optind], idle);
        return bench_run(&ping_ops, argv[optind], conns ? conns : 1, secs, calls);
}
