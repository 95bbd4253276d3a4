/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A libvl client for the service benchmarks (bench/bench-service.sh).
 *
 *   svc-client ADDRESS [-m METHOD] [-p PARAMS] [-t SECONDS] [-c CONNECTIONS] [-n CALLS]
 *   svc-client ADDRESS --first [-m METHOD] [-p PARAMS]
 *
 * The first form makes sequential calls of METHOD (default
 * io.projectatomic.podman.Ping) with the JSON object PARAMS (default {}) on
 * one or more connections, like vl-ping-client, and prints the harness's
 * result line. A reply must not be an error.
 *
 * --first measures a cold start: it waits (untimed) until the unix socket
 * ADDRESS accepts connections, then times connect, send and the whole reply
 * of one call, and prints the time in microseconds.
 */

#include <getopt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vl/varlink.h>

#include "bench-harness.h"

static const char *method = "io.projectatomic.podman.Ping";
static const char *params_text = "{}";

typedef struct SvcConn {
        VlClient *client;
        VlJson *params;
} SvcConn;

static void svc_disconnect(void *p) {
        SvcConn *c = p;
        vl_client_free(c->client);
        vl_json_unref(c->params);
        free(c);
}

static void *svc_connect(const char *address) {
        SvcConn *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        int r = vl_client_connect(&c->client, address);
        if (r < 0) {
                fprintf(stderr, "svc-client: cannot connect to %s: %s\n", address, strerror(-r));
                free(c);
                return NULL;
        }
        r = vl_json_parse(params_text, strlen(params_text), NULL, &c->params, NULL);
        if (r < 0) {
                fprintf(stderr, "svc-client: invalid parameters `%s`\n", params_text);
                svc_disconnect(c);
                return NULL;
        }
        return c;
}

static int svc_call(void *p) {
        SvcConn *c = p;
        VlJson *reply = NULL;
        const char *error = NULL;
        int r = vl_client_call(c->client, method, c->params, 0, &reply, &error);
        vl_json_unref(reply);
        if (r != 0) {
                fprintf(stderr, "svc-client: %s failed: %s\n", method, r > 0 ? error : strerror(-r));
                return -1;
        }
        return 0;
}

static const BenchOps svc_ops = {svc_connect, svc_call, svc_disconnect};

static int run_first(const char *address) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *path = strncmp(address, "unix:", 5) == 0 ? address + 5 : address;
        uint64_t t0 = 0;
        int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return 2;
        strcpy(sa.sun_path, path);
        /* until the socket listens (untimed): the file appears at bind, before listen */
        for (unsigned i = 0;; i++) {
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return 1;
                t0 = bench_now_ns();
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        break;
                close(fd);
                if ((errno != ENOENT && errno != ECONNREFUSED) || i > 100000) {
                        fprintf(stderr, "svc-client: cannot connect to %s: %m\n", address);
                        return 1;
                }
                usleep(50);
        }
        SvcConn *c = calloc(1, sizeof(*c));
        if (!c || vl_client_new_fd(&c->client, fd, 0) < 0 ||
            vl_json_parse(params_text, strlen(params_text), NULL, &c->params, NULL) < 0 || svc_call(c) < 0)
                return 1;
        uint64_t t1 = bench_now_ns();
        svc_disconnect(c);
        printf("%.1f\n", (double)(t1 - t0) / 1000.0);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"first", no_argument, NULL, 'f'},
                {},
        };
        double secs = 3;
        unsigned conns = 1;
        uint64_t calls = 0;
        bool first = false;
        int o;

        while ((o = getopt_long(argc, argv, "m:p:t:c:n:", options, NULL)) >= 0) {
                switch (o) {
                case 'm':
                        method = optarg;
                        break;
                case 'p':
                        params_text = optarg;
                        break;
                case 't':
                        secs = atof(optarg);
                        break;
                case 'c':
                        conns = (unsigned)atoi(optarg);
                        break;
                case 'n':
                        calls = strtoull(optarg, NULL, 10);
                        break;
                case 'f':
                        first = true;
                        break;
                default:
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "usage: svc-client ADDRESS [-m METHOD] [-p PARAMS] [-t SECS] [-c CONNS] "
                                "[-n CALLS] [--first]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (first)
                return run_first(argv[optind]);
        return bench_run(&svc_ops, argv[optind], conns ? conns : 1, secs, calls);
}
