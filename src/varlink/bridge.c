/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>

#include "varlink-tool.h"

/*
 * Two modes. With an address (--connect, or the global -A/-b) the bytes are passed through unchanged,
 * which keeps every feature of the protocol working, upgrades included. Without one, each call is routed
 * by its interface to the address the resolver names; "org.varlink.service" calls without an interface
 * to route by go to the resolver itself, so that GetInfo lists what it knows. Upgrades need the first
 * mode: after an upgrade the stream is no longer made of messages to route.
 */

typedef struct Route {
        char *interface;
        VlClient *client;
} Route;

typedef struct Router {
        Cli *cli;
        Route *routes;
        size_t n_routes;
} Router;

static int bridge_connected(Cli *cli, const char *address) {
        _cleanup_client_ VlClient *c = NULL;
        int r;

        r = cli_connect(cli, address, NULL, &c);
        if (r != CLI_EXIT_OK)
                return r;
        r = cli_proxy(STDIN_FILENO, STDOUT_FILENO, vl_client_get_fd(c), NULL, 0);
        if (r < 0) {
                fprintf(stderr, "varlink: bridge failed: %s\n", strerror(-r));
                return CLI_EXIT_CALL_FAILED;
        }
        return CLI_EXIT_OK;
}

static int send_to_stdout(const char *msg, size_t len) {
        int r = cli_write_all(STDOUT_FILENO, msg, len);
        return r < 0 ? r : cli_write_all(STDOUT_FILENO, "", 1);
}

static int reply_error(const char *error, const char *key, const char *value) {
        _cleanup_json_ VlJson *reply = vl_json_new_object(), *params = vl_json_new_object();
        _cleanup_free_ char *s = NULL;

        if (!reply || !params || vl_json_object_set_string(params, key, value) < 0 ||
            vl_json_object_set_string(reply, "error", error) < 0 ||
            vl_json_object_set(reply, "parameters", vl_json_ref(params)) < 0)
                return -ENOMEM;
        s = vl_json_to_string(reply, VL_JSON_FORMAT_COMPACT);
        return s ? send_to_stdout(s, strlen(s)) : -ENOMEM;
}

/* The connection for interface ("" is the resolver), made on first use. */
static int route(Router *rt, const char *interface, VlClient **ret) {
        _cleanup_free_ char *address = NULL;
        Route *routes;
        int r;

        for (size_t i = 0; i < rt->n_routes; i++)
                if (streq(rt->routes[i].interface, interface)) {
                        *ret = rt->routes[i].client;
                        return 0;
                }
        if (!*interface)
                address = strdup(rt->cli->resolver ? rt->cli->resolver : CLI_DEFAULT_RESOLVER);
        else if (cli_resolve(rt->cli, interface, &address) != CLI_EXIT_OK)
                return -ENXIO;
        if (!address)
                return -ENOMEM;
        routes = realloc(rt->routes, (rt->n_routes + 1) * sizeof(Route));
        if (!routes)
                return -ENOMEM;
        rt->routes = routes;
        r = vl_client_connect(&routes[rt->n_routes].client, address);
        if (r < 0)
                return r;
        routes[rt->n_routes].interface = strdup(interface);
        if (!routes[rt->n_routes].interface) {
                vl_client_free(routes[rt->n_routes].client);
                return -ENOMEM;
        }
        *ret = routes[rt->n_routes++].client;
        return 0;
}

/* Which interface a call is about: for the service interface, the one it asks about. */
static int call_interface(const VlJson *call, char **ret) {
        const char *method = vl_json_get_string(vl_json_object_get(call, "method"));
        const char *dot, *iface;

        if (!method || !(dot = strrchr(method, '.')))
                return -EBADMSG;
        if (strncmp(method, "org.varlink.service.", 20) == 0) {
                iface = vl_json_get_string(
                        vl_json_object_get(vl_json_object_get(call, "parameters"), "interface"));
                *ret = strdup(iface && streq(method + 20, "GetInterfaceDescription") ? iface : "");
        } else
                *ret = strndup(method, (size_t)(dot - method));
        return *ret ? 0 : -ENOMEM;
}

/* Forwards one call and copies its replies (all of them for "more", none for "oneway"). */
static int forward(Router *rt, const char *msg, size_t len) {
        _cleanup_json_ VlJson *call = NULL;
        _cleanup_free_ char *interface = NULL;
        VlClient *c;
        bool more;
        int r;

        if (vl_json_parse(msg, len, NULL, &call, NULL) < 0 || call_interface(call, &interface) < 0)
                return -EBADMSG;
        more = vl_json_get_bool(vl_json_object_get(call, "more"));
        r = route(rt, interface, &c);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vl_json_get_bool(vl_json_object_get(call, "oneway"))
                               ? 0
                               : reply_error("org.varlink.service.InterfaceNotFound", "interface",
                                             interface);
        r = vl_client_send_raw(c, msg, len);
        if (r < 0 || vl_json_get_bool(vl_json_object_get(call, "oneway")))
                return r;
        for (;;) {
                _cleanup_free_ char *reply = NULL;
                _cleanup_json_ VlJson *v = NULL;
                size_t n;

                r = vl_client_recv_raw(c, &reply, &n);
                if (r < 0)
                        return r;
                r = send_to_stdout(reply, n);
                if (r < 0 || !more)
                        return r;
                if (vl_json_parse(reply, n, NULL, &v, NULL) < 0 ||
                    !vl_json_get_bool(vl_json_object_get(v, "continues")))
                        return 0;
        }
}

static int bridge_routed(Cli *cli) {
        Router rt = {.cli = cli};
        VlBuf in = VL_BUF_INIT;
        size_t start = 0;
        int r = 0;

        for (;;) {
                char *nul;
                ssize_t n;

                nul = in.len > start ? memchr(in.data + start, '\0', in.len - start) : NULL;
                if (nul) {
                        r = forward(&rt, in.data + start, (size_t)(nul - (in.data + start)));
                        if (r < 0)
                                break;
                        start = (size_t)(nul - in.data) + 1;
                        continue;
                }
                if (start > 0) {
                        memmove(in.data, in.data + start, in.len - start);
                        in.len -= start;
                        start = 0;
                }
                if ((r = vl_buf_reserve(&in, 65536)) < 0)
                        break;
                n = read(STDIN_FILENO, in.data + in.len, in.cap - in.len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                in.len += (size_t)n;
        }
        for (size_t i = 0; i < rt.n_routes; i++) {
                vl_client_free(rt.routes[i].client);
                free(rt.routes[i].interface);
        }
        free(rt.routes);
        vl_buf_free(&in);
        if (r < 0 && r != -EPIPE) {
                fprintf(stderr, "varlink: bridge failed: %s\n", strerror(-r));
                return r == -EBADMSG ? CLI_EXIT_INVALID_MESSAGE : CLI_EXIT_CALL_FAILED;
        }
        return CLI_EXIT_OK;
}

int cmd_bridge(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"connect", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *address = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        free(address);
                        if (cli_normalize_address(optarg, &address) < 0)
                                return cli_call_failed("bridge", -ENOMEM);
                        break;
                case 'h':
                        return cli_command_usage(cli_find_command(argv[0]), stdout);
                default:
                        return CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "varlink: unexpected argument '%s'\n", argv[optind]);
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        if (address || cli->activate || cli->bridge)
                return bridge_connected(cli, address);
        return bridge_routed(cli);
}
