/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <signal.h>
#include <sys/wait.h>

#include "varlink-tool.h"

void cli_target_done(CliTarget *t) {
        free(t->address);
        free(t->interface);
        free(t->member);
        *t = (CliTarget){};
}

bool cli_method_name_valid(const char *name) {
        const char *dot = strrchr(name, '.');
        _cleanup_free_ char *iface = NULL;

        if (!dot || !vl_member_name_valid(dot + 1))
                return false;
        iface = strndup(name, (size_t)(dot - name));
        return iface && vl_interface_name_valid(iface);
}

int cli_normalize_address(const char *address, char **ret) {
        char *s;

        if (address[0] == '/' || strncmp(address, "./", 2) == 0 || strncmp(address, "../", 3) == 0) {
                if (asprintf(&s, "unix:%s", address) < 0)
                        return -ENOMEM;
        } else {
                s = strdup(address);
                if (!s)
                        return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static int oom(void) {
        fprintf(stderr, "varlink: out of memory\n");
        return CLI_EXIT_PANIC;
}

/* Splits "prefix/tail" at the last '/': the address part is normalized, the tail copied. */
static int split_at_slash(const char *s, const char *slash, char **ret_address, char **ret_tail) {
        _cleanup_free_ char *prefix = strndup(s, (size_t)(slash - s));

        if (!prefix || cli_normalize_address(prefix, ret_address) < 0)
                return -ENOMEM;
        *ret_tail = strdup(slash + 1);
        return *ret_tail ? 0 : -ENOMEM;
}

int cli_target_method(int argc, char **argv, CliTarget *ret, int *consumed) {
        _cleanup_free_ char *method = NULL;
        CliTarget t = {};
        char *dot;

        if (argc < 1) {
                fprintf(stderr, "varlink: missing [ADDRESS/]INTERFACE.METHOD\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        /* varlinkctl's "ADDRESS METHOD": recognizable because JSON never looks like a method name. */
        if (argc >= 2 && cli_method_name_valid(argv[1])) {
                if (cli_normalize_address(argv[0], &t.address) < 0 || !(method = strdup(argv[1])))
                        return cli_target_done(&t), oom();
                *consumed = 2;
        } else {
                const char *slash = strrchr(argv[0], '/');

                if (slash) {
                        if (split_at_slash(argv[0], slash, &t.address, &method) < 0)
                                return cli_target_done(&t), oom();
                } else if (!(method = strdup(argv[0])))
                        return oom();
                *consumed = 1;
        }
        if (!cli_method_name_valid(method)) {
                fprintf(stderr, "varlink: invalid method name '%s' (expected INTERFACE.Method)\n", method);
                cli_target_done(&t);
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        dot = strrchr(method, '.');
        t.member = strdup(dot + 1);
        *dot = '\0';
        t.interface = strdup(method);
        if (!t.member || !t.interface)
                return cli_target_done(&t), oom();
        *ret = t;
        return CLI_EXIT_OK;
}

int cli_target_interface(Cli *cli, int argc, char **argv, CliTarget *ret, int *consumed) {
        CliTarget t = {};
        const char *slash;
        int r;

        if (argc < 1) {
                fprintf(stderr, "varlink: missing [ADDRESS/]INTERFACE\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        *consumed = 1;
        slash = strrchr(argv[0], '/');
        if (argc >= 2 && vl_interface_name_valid(argv[1])) {
                r = cli_normalize_address(argv[0], &t.address);
                if (r >= 0 && !(t.interface = strdup(argv[1])))
                        r = -ENOMEM;
                *consumed = 2;
        } else if (slash && vl_interface_name_valid(slash + 1))
                r = split_at_slash(argv[0], slash, &t.address, &t.interface);
        else if (!slash && vl_interface_name_valid(argv[0]))
                r = (t.interface = strdup(argv[0])) ? 0 : -ENOMEM;
        else
                /* A bare address: the command decides what that means (all interfaces). */
                r = cli_normalize_address(argv[0], &t.address);
        if (r < 0)
                return cli_target_done(&t), oom();
        *ret = t;
        return CLI_EXIT_OK;
}

char *cli_shell_quote(const char *s) {
        size_t n = 3;
        char *q, *p;

        for (const char *c = s; *c; c++)
                n += *c == '\'' ? 4 : 1;
        q = p = malloc(n);
        if (!q)
                return NULL;
        *p++ = '\'';
        for (const char *c = s; *c; c++) {
                if (*c == '\'') {
                        memcpy(p, "'\\''", 4);
                        p += 4;
                } else
                        *p++ = *c;
        }
        *p++ = '\'';
        *p = '\0';
        return q;
}

/* systemd's ssh-unix:HOST:/path and ssh-exec:HOST:COMMAND, as a bridge command line. */
static int ssh_bridge_command(const char *address, char **ret) {
        const char *rest, *colon;
        _cleanup_free_ char *host = NULL, *qhost = NULL, *target = NULL, *q1 = NULL, *q2 = NULL;
        bool is_unix;

        if ((rest = startswith(address, "ssh-unix:")))
                is_unix = true;
        else if ((rest = startswith(address, "ssh-exec:")))
                is_unix = false;
        else
                return 0;
        colon = strchr(rest, ':');
        if (!colon || colon == rest || !colon[1])
                return -EINVAL;
        host = strndup(rest, (size_t)(colon - rest));
        if (!host || !(qhost = cli_shell_quote(host)))
                return -ENOMEM;
        if (!is_unix)
                /* The remote shell runs COMMAND as written, like ssh itself would. */
                return asprintf(ret, "exec ssh -xT -- %s %s", qhost, colon + 1) < 0 ? -ENOMEM : 1;

        /* Quoted twice: once for our shell, once for the remote one. */
        if (asprintf(&target, "unix:%s", colon + 1) < 0)
                return -ENOMEM;
        if (!(q1 = cli_shell_quote(target)) || !(q2 = cli_shell_quote(q1)))
                return -ENOMEM;
        return asprintf(ret, "exec ssh -xT -- %s varlink bridge --connect %s", qhost, q2) < 0 ? -ENOMEM : 1;
}

static int connect_failed(const char *what, const char *address, int r) {
        if (r == -EINVAL) {
                fprintf(stderr, "varlink: invalid address '%s'\n", address);
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        if (r == -ENOMEM)
                return oom();
        fprintf(stderr, "varlink: cannot %s %s: %s\n", what, address, strerror(-r));
        return CLI_EXIT_CANNOT_CONNECT;
}

static int connect_address(const char *address, VlClient **ret) {
        _cleanup_free_ char *bridge = NULL;
        int r;

        r = ssh_bridge_command(address, &bridge);
        if (r < 0)
                return connect_failed("connect to", address, r);
        if (r > 0)
                r = vl_client_connect_bridge(ret, bridge);
        else
                r = vl_client_connect(ret, address);
        if (r < 0)
                return connect_failed("connect to", address, r);
        return CLI_EXIT_OK;
}

static int spawn_activated(Cli *cli) {
        int r;

        _cleanup_free_ char *command = NULL;

        if (cli->activated_address)
                return CLI_EXIT_OK;
        /* LISTEN_PID names the shell's pid: the service must replace the shell, not be its child. */
        if (asprintf(&command, "exec %s", cli->activate) < 0)
                return oom();
        r = vl_spawn_activated(command, &cli->activated_address, &cli->activated_pid);
        if (r < 0)
                return connect_failed("activate", cli->activate, r);
        cli_set_child(cli->activated_pid);
        return CLI_EXIT_OK;
}

int cli_connect(Cli *cli, const char *address, const char *interface, VlClient **ret) {
        _cleanup_free_ char *resolved = NULL;
        VlClient *c = NULL;
        int r;

        if (address)
                r = connect_address(address, &c);
        else if (cli->bridge) {
                r = vl_client_connect_bridge(&c, cli->bridge);
                r = r < 0 ? connect_failed("run the bridge", cli->bridge, r) : CLI_EXIT_OK;
        } else if (cli->activate) {
                r = spawn_activated(cli);
                if (r == CLI_EXIT_OK)
                        r = connect_address(cli->activated_address, &c);
        } else if (interface) {
                r = cli_resolve(cli, interface, &resolved);
                if (r == CLI_EXIT_OK)
                        r = connect_address(resolved, &c);
        } else {
                fprintf(stderr, "varlink: missing ADDRESS (or --activate, --bridge)\n");
                r = CLI_EXIT_MISSING_ARGUMENT;
        }
        if (r != CLI_EXIT_OK)
                return r;
        if (cli->timeout_usec > 0)
                vl_client_set_timeout(c, cli->timeout_usec);
        *ret = c;
        return CLI_EXIT_OK;
}

int cli_resolve(Cli *cli, const char *interface, char **ret_address) {
        const char *resolver = cli->resolver ? cli->resolver : CLI_DEFAULT_RESOLVER;
        _cleanup_client_ VlClient *c = NULL;
        _cleanup_json_ VlJson *params = NULL, *reply = NULL;
        const char *error = NULL, *address;
        int r;

        r = vl_client_connect(&c, resolver);
        if (r < 0) {
                fprintf(stderr, "varlink: cannot connect to the resolver %s: %s\n", resolver, strerror(-r));
                return CLI_EXIT_CANNOT_RESOLVE;
        }
        if (cli->timeout_usec > 0)
                vl_client_set_timeout(c, cli->timeout_usec);
        params = vl_json_new_object();
        if (!params || vl_json_object_set_string(params, "interface", interface) < 0)
                return oom();
        r = vl_client_call(c, "org.varlink.resolver.Resolve", params, 0, &reply, &error);
        if (r < 0) {
                fprintf(stderr, "varlink: cannot resolve interface %s: %s\n", interface, strerror(-r));
                return CLI_EXIT_CANNOT_RESOLVE;
        }
        if (error) {
                fprintf(stderr, "varlink: cannot resolve interface %s: %s\n", interface, error);
                return CLI_EXIT_CANNOT_RESOLVE;
        }
        address = vl_json_get_string(vl_json_object_get(reply, "address"));
        if (!address || !*address) {
                fprintf(stderr, "varlink: the resolver returned no address for %s\n", interface);
                return CLI_EXIT_CANNOT_RESOLVE;
        }
        *ret_address = strdup(address);
        return *ret_address ? CLI_EXIT_OK : oom();
}

void cli_cleanup(Cli *cli) {
        if (cli->activated_pid > 0) {
                cli_set_child(0);
                kill(cli->activated_pid, SIGTERM);
                while (waitpid(cli->activated_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                cli->activated_pid = 0;
        }
        free(cli->activated_address);
        cli->activated_address = NULL;
}
