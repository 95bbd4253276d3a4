/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote network commands over io.cpod: the flags and output of cmd-network.c. --help is the local
 * command's. */
#include <limits.h>
#include <string.h>

#include "output.h"
#include "remote-ext.h"

static int strings_add(VlJson *a, const char *s) {
        return vl_json_array_append(a, vl_json_new_string(s));
}

/* "K=V" into the map m (V "" without "="). */
static int map_add(VlJson *m, const char *kv) {
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k = strndup(kv, eq ? (size_t)(eq - kv) : strlen(kv));
        return k ? vl_json_object_set_string(m, k, eq ? eq + 1 : "") : -ENOMEM;
}

static int strings_set(VlJson *o, const char *key, char **v, size_t n) {
        VlJson *a = vl_json_new_array();
        int r = a ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = strings_add(a, v[i]);
        return r < 0 ? (vl_json_unref(a), r) : vl_json_object_set(o, key, a);
}

static int map_set(VlJson *o, const char *key, char **v, size_t n) {
        VlJson *m = vl_json_new_object();
        int r = m ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = map_add(m, v[i]);
        return r < 0 ? (vl_json_unref(m), r) : vl_json_object_set(o, key, m);
}

/* io.cpod.CreateNetwork with the options local mode parsed. */
static int create_network(void *u, const NetCreateOptions *o, char **ret_name, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        VlJson *cr = vl_json_new_object(), *p = vl_json_new_object();
        int r = cr && p ? vl_json_object_set(p, "create", vl_json_ref(cr)) : -ENOMEM;

        r = r < 0 ? r : strings_set(cr, "subnets", o->subnets, o->n_subnets);
        r = r < 0 ? r : strings_set(cr, "gateways", o->gateways, o->n_gateways);
        r = r < 0 ? r : map_set(cr, "labels", o->labels, o->n_labels);
        r = r < 0 ? r : map_set(cr, "options", o->options, o->n_options);
        r = r < 0 || !o->driver ? r : vl_json_object_set_string(cr, "driver", o->driver);
        r = r < 0 || !o->disable_dns ? r : vl_json_object_set_bool(cr, "disableDns", true);
        r = r < 0 || !o->internal ? r : vl_json_object_set_bool(cr, "internal", true);
        r = r < 0 || !o->ipv6 ? r : vl_json_object_set_bool(cr, "ipv6", true);
        r = r < 0 || !o->interface ? r : vl_json_object_set_string(cr, "interfaceName", o->interface);
        r = r < 0 || !o->name ? r : vl_json_object_set_string(cr, "name", o->name);
        vl_json_unref(cr);
        if (r < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = remote_cpod_call(u, "CreateNetwork", p, &reply, err);
        if (r < 0)
                return r;
        *ret_name = strdup(vl_json_get_string(vl_json_object_get(reply, "name")) ?: "");
        return *ret_name ? 0 : cpod_error(err, ENOMEM, "out of memory");
}

static int remote_network_exists(Cli *cli, int argc, char **argv) {
        return remote_exists(cli, argc, argv, NULL, true, "NetworkExists");
}

/* The inspect document of one network, parsed. */
static int network_document(void *u, const char *name, VlJson **ret, CpodError *err) {
        Cli *cli = u;
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_cpod_call(cli, "InspectNetwork", remote_params1("name", name), &reply, err);
        if (r < 0)
                return r;
        const VlJson *text = vl_json_object_get(reply, "network");
        if (vl_json_parse(vl_json_get_string(text) ?: "", vl_json_get_string_length(text), NULL, ret, NULL) <
            0)
                return cpod_error(err, EPROTO, "the service sent a malformed network document");
        return 0;
}

static int remote_network_ls(Cli *cli, int argc, char **argv) {
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
        _cleanup_(vl_json_unrefp) VlJson *filters = vl_json_new_array(), *reply = NULL, *docs = NULL;
        Output out = {};
        CpodError err = {};
        bool quiet = false, no_trunc = false;
        int c, r = filters ? 0 : -ENOMEM;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "f:qh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'f')
                        r = strings_add(filters, optarg);
                out.format = c == ARG_FORMAT ? optarg : out.format;
                out.noheading = out.noheading || c == ARG_NOHEADING;
                no_trunc = no_trunc || c == ARG_NO_TRUNC;
                quiet = quiet || c == 'q';
        }
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set(p, "filters", vl_json_ref(filters)) < 0) {
                vl_json_unref(p);
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        r = remote_cpod_call(cli, "ListNetworks", p, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *list = vl_json_object_get(reply, "networks"), *n;
        if (!quiet && output_is_json(out.format)) {
                /* the whole documents, as local mode prints them */
                if (!(docs = vl_json_new_array()))
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                VL_JSON_FOREACH_ELEMENT (n, list) {
                        VlJson *doc = NULL;
                        r = network_document(cli, vl_json_get_string(vl_json_object_get(n, "id")) ?: "",
                                             &doc, &err);
                        if (r < 0)
                                return cli_engine_error(&err, r);
                        if (vl_json_array_append(docs, doc) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
        }
        r = network_print_list(docs ?: list, &out, quiet, no_trunc, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_network_prune(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        bool force;
        const VlJson *name;
        int r = remote_force_args(cli, argc, argv, 0, 0, "", &force);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!force && !cli_confirm("WARNING! This will remove all networks not used by at least one "
                                   "container.\nAre you sure you want to continue?"))
                return CLI_EXIT_OK;
        r = remote_cpod_call(cli, "PruneNetworks", NULL, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        VL_JSON_FOREACH_ELEMENT (name, vl_json_object_get(reply, "names"))
                puts(vl_json_get_string(name) ?: "");
        return CLI_EXIT_OK;
}

static int remove_network(void *u, const char *name, bool force, CpodError *err) {
        VlJson *p = remote_params1("name", name);

        if (!p || vl_json_object_set_bool(p, "force", force) < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        return remote_cpod_call(u, "RemoveNetwork", p, NULL, err);
}

/* Parameters {network, container} of connect and disconnect. */
static VlJson *link_params(const char *network, const char *ctr) {
        VlJson *p = remote_params1("network", network);
        if (p && vl_json_object_set_string(p, "container", ctr) < 0)
                return vl_json_unref(p);
        return p;
}

static int connect_network(void *u, const char *ctr, const char *network, char **aliases, size_t n_aliases,
                           const char *ip, CpodError *err) {
        VlJson *p = link_params(network, ctr);

        if (!p || strings_set(p, "aliases", aliases, n_aliases) < 0 ||
            vl_json_object_set_string(p, "ip", ip ?: "") < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        return remote_cpod_call(u, "ConnectNetwork", p, NULL, err);
}

static int disconnect_network(void *u, const char *ctr, const char *network, bool force, CpodError *err) {
        VlJson *p = link_params(network, ctr);

        if (!p || vl_json_object_set_bool(p, "force", force) < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        return remote_cpod_call(u, "DisconnectNetwork", p, NULL, err);
}

static const NetworkOps service_ops = {
        .get = network_document,
        .create = create_network,
        .remove = remove_network,
        .connect = connect_network,
        .disconnect = disconnect_network,
};

static int remote_network_create(Cli *cli, int argc, char **argv) {
        return network_create_with(cli, argc, argv, &service_ops, cli);
}

static int remote_network_inspect(Cli *cli, int argc, char **argv) {
        return network_inspect_with(cli, argc, argv, &service_ops, cli);
}

static int remote_network_rm(Cli *cli, int argc, char **argv) {
        return network_rm_with(cli, argc, argv, &service_ops, cli);
}

static int remote_network_connect(Cli *cli, int argc, char **argv) {
        return network_connect_with(cli, argc, argv, &service_ops, cli);
}

static int remote_network_disconnect(Cli *cli, int argc, char **argv) {
        return network_disconnect_with(cli, argc, argv, &service_ops, cli);
}

const RemoteCommand remote_network_commands[] = {
        {"network create", remote_network_create},
        {"network ls", remote_network_ls},
        {"network list", remote_network_ls},
        {"network inspect", remote_network_inspect},
        {"network rm", remote_network_rm},
        {"network remove", remote_network_rm},
        {"network prune", remote_network_prune},
        {"network exists", remote_network_exists},
        {"network connect", remote_network_connect},
        {"network disconnect", remote_network_disconnect},
        {},
};
