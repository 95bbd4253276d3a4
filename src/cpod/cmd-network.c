/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod network create, ls, inspect, rm, prune, exists, connect and disconnect, with podman's flags and
 * output. */
#include <limits.h>
#include <string.h>

#include "cmd-network.h"
#include "network.h"
#include "output.h"
#include "remote-ext.h"
#include "template.h"

static int cmd_network_connect(Cli *cli, int argc, char **argv);
static int cmd_network_create(Cli *cli, int argc, char **argv);
static int cmd_network_disconnect(Cli *cli, int argc, char **argv);
static int cmd_network_exists(Cli *cli, int argc, char **argv);
static int cmd_network_inspect(Cli *cli, int argc, char **argv);
static int cmd_network_ls(Cli *cli, int argc, char **argv);
static int cmd_network_prune(Cli *cli, int argc, char **argv);
static int cmd_network_rm(Cli *cli, int argc, char **argv);

const CliCommand cli_network_commands[] = {
        {"connect", "[options] NETWORK CONTAINER", "Add container to a network", cmd_network_connect, NULL},
        {"create", "[options] [NAME]", "Create networks for containers and pods", cmd_network_create, NULL},
        {"disconnect", "[options] NETWORK CONTAINER", "Disconnect a container from a network",
         cmd_network_disconnect, NULL},
        {"exists", "NETWORK", "Network exists", cmd_network_exists, NULL},
        {"inspect", "[options] NETWORK [NETWORK...]",
         "Displays the network configuration for one or more "
         "networks",
         cmd_network_inspect, NULL},
        {"list", "[options]", "List networks", cmd_network_ls, NULL},
        {"ls", "[options]", "List networks", cmd_network_ls, NULL},
        {"prune", "[options]", "Prune unused networks", cmd_network_prune, NULL},
        {"remove", "[options] NETWORK [NETWORK...]", "Remove networks", cmd_network_rm, NULL},
        {"rm", "[options] NETWORK [NETWORK...]", "Remove networks", cmd_network_rm, NULL},
        {},
};

typedef struct StrList {
        char **v;
        size_t n, cap;
} StrList;

static int strlist_add(StrList *l, char *s) {
        if (VL_GROW(l->v, l->cap, l->n + 1) < 0)
                return cli_error(-ENOMEM, "out of memory");
        l->v[l->n++] = s;
        return 0;
}

static void strlist_free(StrList *l) {
        free(l->v);
        *l = (StrList){};
}

/* ---- the engine as the network commands' backend ---- */

static int engine_get(void *u, const char *name, VlJson **ret, CpodError *err) {
        return net_get(u, name, ret, err);
}

static int engine_create(void *u, const NetCreateOptions *o, char **ret_name, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        int r = net_create(u, o, &doc, err);

        if (r < 0)
                return r;
        *ret_name = strdup(vl_json_get_string(vl_json_object_get(doc, "name")) ?: "");
        return *ret_name ? 0 : cpod_error(err, ENOMEM, "out of memory");
}

static int engine_remove(void *u, const char *name, bool force, CpodError *err) {
        return net_remove(u, name, force, err);
}

static int engine_connect(void *u, const char *ctr, const char *network, char **aliases, size_t n_aliases,
                          const char *ip, CpodError *err) {
        return net_connect(u, ctr, network, aliases, n_aliases, ip, err);
}

static int engine_disconnect(void *u, const char *ctr, const char *network, bool force, CpodError *err) {
        return net_disconnect(u, ctr, network, force, err);
}

static const NetworkOps engine_ops = {
        .get = engine_get,
        .create = engine_create,
        .remove = engine_remove,
        .connect = engine_connect,
        .disconnect = engine_disconnect,
};

/* ops, or the engine's (opening it, *u set to it) when NULL; NULL when the engine cannot be opened. */
static const NetworkOps *backend(Cli *cli, const NetworkOps *ops, void **u) {
        if (ops)
                return ops;
        return (*u = cli_engine(cli)) ? &engine_ops : NULL;
}

/* ---- create ---- */

static const char create_help[] =
        "  -d, --driver string        driver to manage the network (bridge, macvlan) (default \"bridge\")\n"
        "      --disable-dns          disable dns plugin\n"
        "      --gateway stringArray  IPv4 or IPv6 gateway for the subnet\n"
        "      --interface-name string  interface name which is used by the driver\n"
        "      --internal             restrict external access from this network\n"
        "      --ipv6                 enable IPv6 networking\n"
        "      --label stringArray    set metadata on a network\n"
        "  -o, --opt stringArray      Set driver specific options (default [])\n"
        "      --subnet stringArray   subnets in CIDR format\n";

typedef struct CreateFlags {
        NetCreateOptions o;
        StrList subnets, gateways, labels, opts;
} CreateFlags;

static int create_flag(CreateFlags *f, int c, char *arg) {
        enum {
                ARG_DISABLE_DNS = 0x100,
                ARG_GATEWAY,
                ARG_INTERNAL,
                ARG_IPV6,
                ARG_LABEL,
                ARG_SUBNET,
                ARG_IFACE
        };
        switch (c) {
        case 'd':
                f->o.driver = arg;
                return 0;
        case 'o':
                return strlist_add(&f->opts, arg);
        case ARG_DISABLE_DNS:
                f->o.disable_dns = true;
                return 0;
        case ARG_GATEWAY:
                return strlist_add(&f->gateways, arg);
        case ARG_INTERNAL:
                f->o.internal = true;
                return 0;
        case ARG_IPV6:
                f->o.ipv6 = true;
                return 0;
        case ARG_LABEL:
                return strlist_add(&f->labels, arg);
        case ARG_SUBNET:
                return strlist_add(&f->subnets, arg);
        case ARG_IFACE:
                f->o.interface = arg;
                return 0;
        default:
                return -EINVAL;
        }
}

int network_create_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u) {
        static const struct option options[] = {
                {"driver", required_argument, NULL, 'd'},
                {"opt", required_argument, NULL, 'o'},
                {"disable-dns", no_argument, NULL, 0x100},
                {"gateway", required_argument, NULL, 0x101},
                {"internal", no_argument, NULL, 0x102},
                {"ipv6", no_argument, NULL, 0x103},
                {"label", required_argument, NULL, 0x104},
                {"subnet", required_argument, NULL, 0x105},
                {"interface-name", required_argument, NULL, 0x106},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *name = NULL;
        CreateFlags f = {};
        CpodError err = {};
        int c, r = 0;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "d:o:h", options)) >= 0) {
                if (c == 'h') {
                        r = -1;
                        cli_command_help(cli, create_help);
                } else
                        r = create_flag(&f, c, optarg);
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 1) < 0))
                r = -EINVAL;
        if (r >= 0 && !(ops = backend(cli, ops, &u)))
                r = -EIO;
        if (r >= 0) {
                f.o.name = optind < argc ? argv[optind] : NULL;
                f.o.subnets = f.subnets.v, f.o.n_subnets = f.subnets.n;
                f.o.gateways = f.gateways.v, f.o.n_gateways = f.gateways.n;
                f.o.labels = f.labels.v, f.o.n_labels = f.labels.n;
                f.o.options = f.opts.v, f.o.n_options = f.opts.n;
                r = ops->create(u, &f.o, &name, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
                else
                        puts(name);
        }
        strlist_free(&f.subnets);
        strlist_free(&f.gateways);
        strlist_free(&f.labels);
        strlist_free(&f.opts);
        return r == -1 ? CLI_EXIT_OK : r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int cmd_network_create(Cli *cli, int argc, char **argv) {
        return network_create_with(cli, argc, argv, NULL, NULL);
}

/* ---- exists, inspect ---- */

static int cmd_network_exists(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = net_exists(e, argv[optind], &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        return r > 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int network_inspect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *items = vl_json_new_array();
        const char *format = NULL;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "f:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli,
                                                "  -f, --format string   Pretty-print network to JSON or "
                                                "using a Go template\n");
                if (c == 'f')
                        format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT_MAX) < 0 || !items)
                return CLI_EXIT_ERROR;
        if (!(ops = backend(cli, ops, &u)))
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                VlJson *doc = NULL;
                int r = ops->get(u, argv[i], &doc, &err);
                if (r < 0) {
                        cli_engine_error(&err, r);
                        status = CLI_EXIT_ERROR;
                } else if (vl_json_array_append(items, doc) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        if (format && !output_is_json(format)) {
                CpodError err = {};
                int r = output_print_each(format, items, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        } else if (vl_json_array_length(items) > 0 || status == CLI_EXIT_OK)
                output_json(items, 5);
        return status;
}

static int cmd_network_inspect(Cli *cli, int argc, char **argv) {
        return network_inspect_with(cli, argc, argv, NULL, NULL);
}

/* ---- ls ---- */

static const OutputColumn network_columns[] = {
        {"ID", "NETWORK ID"},
        {"Name", "NAME"},
        {"Driver", "DRIVER"},
        {"Labels", "LABELS", true},
        {"Created", "CREATED", true},
        {"Internal", "INTERNAL", true},
        {"IPv6Enabled", "IPV6", true},
        {"DNSEnabled", "DNS", true},
        {"NetworkInterface", "INTERFACE", true},
        {},
};

static VlJson *network_row(const VlJson *doc, bool no_trunc) {
        VlJson *row = vl_json_new_object();
        char id[80];
        const char *full = vl_json_get_string(vl_json_object_get(doc, "id")) ?: "";
        snprintf(id, sizeof id, no_trunc ? "%s" : "%.12s", full);
        int r = row ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(row, "ID", id);
        r = r < 0 ? r : vl_json_object_set(row, "Name", vl_json_copy(vl_json_object_get(doc, "name")));
        r = r < 0 ? r : vl_json_object_set(row, "Driver", vl_json_copy(vl_json_object_get(doc, "driver")));
        r = r < 0 ? r : vl_json_object_set(row, "Created", vl_json_copy(vl_json_object_get(doc, "created")));
        r = r < 0 ? r
                  : vl_json_object_set(row, "NetworkInterface",
                                       vl_json_copy(vl_json_object_get(doc, "network_interface")));
        r = r < 0 ? r
                  : vl_json_object_set_bool(row, "Internal",
                                            vl_json_get_bool(vl_json_object_get(doc, "internal")));
        r = r < 0 ? r
                  : vl_json_object_set_bool(row, "IPv6Enabled",
                                            vl_json_get_bool(vl_json_object_get(doc, "ipv6_enabled")));
        r = r < 0 ? r
                  : vl_json_object_set_bool(row, "DNSEnabled",
                                            vl_json_get_bool(vl_json_object_get(doc, "dns_enabled")));
        const VlJson *labels = vl_json_object_get(doc, "labels");
        r = r < 0 ? r
                  : vl_json_object_set(row, "Labels", labels ? vl_json_copy(labels) : vl_json_new_object());
        return r < 0 ? vl_json_unref(row) : row;
}

int network_print_list(const VlJson *docs, const Output *out, bool quiet, bool no_trunc, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array();
        const VlJson *doc;

        if (quiet) {
                VL_JSON_FOREACH_ELEMENT (doc, docs)
                        puts(vl_json_get_string(vl_json_object_get(doc, "name")) ?: "");
                return 0;
        }
        if (output_is_json(out->format))
                return output_json(docs, 5);
        VL_JSON_FOREACH_ELEMENT (doc, docs)
                if (!rows || vl_json_array_append(rows, network_row(doc, no_trunc)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        return output_print(out, network_columns, rows, NULL, err);
}

static int cmd_network_ls(Cli *cli, int argc, char **argv) {
        enum { ARG_FORMAT = 0x100, ARG_NOHEADING, ARG_NO_TRUNC };
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"noheading", no_argument, NULL, ARG_NOHEADING},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *docs = NULL;
        Output out = {};
        StrList filters = {};
        CpodError err = {};
        bool quiet = false, no_trunc = false;
        int c, r = 0;
        Engine *e;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "f:qh", options)) >= 0) {
                if (c == 'h') {
                        strlist_free(&filters);
                        return cli_command_help(cli,
                                                "  -f, --filter strings   Provide filter values (e.g. "
                                                "'name=podman')\n"
                                                "      --format string    Pretty-print networks to JSON or "
                                                "using a Go template\n"
                                                "      --noheading        Do not print headers\n"
                                                "      --no-trunc         Do not truncate the network ID\n"
                                                "  -q, --quiet            display only names\n");
                }
                if (c == 'f')
                        r = strlist_add(&filters, optarg);
                out.format = c == ARG_FORMAT ? optarg : out.format;
                out.noheading = out.noheading || c == ARG_NOHEADING;
                no_trunc = no_trunc || c == ARG_NO_TRUNC;
                quiet = quiet || c == 'q';
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0))
                r = -EINVAL;
        if (r >= 0 && !(e = cli_engine(cli)))
                r = -EIO;
        if (r >= 0) {
                r = net_list(e, (const char *const *)filters.v, filters.n, &docs, &err);
                if (r >= 0)
                        r = network_print_list(docs, &out, quiet, no_trunc, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
        }
        strlist_free(&filters);
        return r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- rm, prune ---- */

int network_rm_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'},
                {"time", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool force = false;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "ft:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli,
                                                "  -f, --force       remove any containers using network\n"
                                                "  -t, --time uint   Seconds to wait for running "
                                                "containers to stop (default 10)\n");
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT_MAX) < 0 || !(ops = backend(cli, ops, &u)))
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                int r = ops->remove(u, argv[i], force, &err);
                if (r >= 0) {
                        puts(argv[i]);
                        continue;
                }
                cli_engine_error(&err, r);
                status = MAX(status, r == -ENOENT  ? CLI_EXIT_FAILURE
                                     : r == -EBUSY ? CLI_EXIT_IN_USE
                                                   : CLI_EXIT_ERROR);
        }
        return status;
}

static int cmd_network_rm(Cli *cli, int argc, char **argv) {
        return network_rm_with(cli, argc, argv, NULL, NULL);
}

static int cmd_network_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'},
                {"filter", required_argument, NULL, 'F'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        char **names = NULL;
        bool force = false;
        size_t n = 0;
        int c, r;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --force   do not prompt for confirmation\n");
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!force && !cli_confirm("WARNING! This will remove all networks not used by at least one "
                                   "container.\nAre you sure you want to continue?"))
                return CLI_EXIT_OK;
        r = net_prune(e, &names, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++) {
                puts(names[i]);
                free(names[i]);
        }
        free(names);
        return CLI_EXIT_OK;
}

/* ---- connect, disconnect ---- */

int network_connect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u) {
        static const struct option options[] = {
                {"alias", required_argument, NULL, 'a'},
                {"ip", required_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StrList aliases = {};
        const char *ip = NULL;
        CpodError err = {};
        int c, r = 0;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h') {
                        strlist_free(&aliases);
                        return cli_command_help(cli, "      --alias strings   network scoped alias for "
                                                     "container\n"
                                                     "      --ip string       set a static ipv4 address for "
                                                     "this container network\n");
                }
                if (c == 'a')
                        r = strlist_add(&aliases, optarg);
                ip = c == 'i' ? optarg : ip;
        }
        if (r >= 0 &&
            (c == -2 || cli_check_args(cli, argc - optind, 2, 2) < 0 || !(ops = backend(cli, ops, &u))))
                r = -EINVAL;
        if (r >= 0) {
                r = ops->connect(u, argv[optind + 1], argv[optind], aliases.v, aliases.n, ip, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
        }
        strlist_free(&aliases);
        return r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int cmd_network_connect(Cli *cli, int argc, char **argv) {
        return network_connect_with(cli, argc, argv, NULL, NULL);
}

int network_disconnect_with(Cli *cli, int argc, char **argv, const NetworkOps *ops, void *u) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        bool force = false;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --force   force removal of container from "
                                                     "network\n");
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 2, 2) < 0 || !(ops = backend(cli, ops, &u)))
                return CLI_EXIT_ERROR;
        r = ops->disconnect(u, argv[optind + 1], argv[optind], force, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int cmd_network_disconnect(Cli *cli, int argc, char **argv) {
        return network_disconnect_with(cli, argc, argv, NULL, NULL);
}
