/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote volumes and pods over io.podman. Volumes are listed and inspected from the service's inspect
 * documents (InspectVolume), the same documents local mode prints, through cmd-volume.c's printers.
 * io.cpod serves what io.podman has no field for: volume ls/prune --filter (ListVolumes, PruneVolumes:
 * the engine filters) and pod create --network/--hostname (CreatePod).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "cmd-pod.h"
#include "cmd-volume.h"
#include "remote-ext.h"
#include "manifest.h"
#include "output.h"
#include "remote.h"
#include "yaml.h"

/* ---- volumes ---- */

/* name's inspect document (parsed) from InspectVolume. */
static int volume_document(Cli *cli, const char *name, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_call(cli, "InspectVolume", remote_params1("name", name), &reply, err);
        if (r < 0)
                return r;
        const char *doc = vl_json_get_string(vl_json_object_get(reply, "volume")) ?: "";
        if (vl_json_parse(doc, strlen(doc), NULL, ret, NULL) < 0)
                return cpod_error(err, EPROTO, "the service's inspect document of %s is not JSON", name);
        return 0;
}

/* The names of every volume (GetVolumes), sorted as the service lists them. */
static int volume_names(Cli *cli, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *reply = NULL;
        VlJson *names = vl_json_new_array();
        int r = params && names ? 0 : cpod_error(err, ENOMEM, "out of memory");

        if (r >= 0 && (vl_json_object_set(params, "args", vl_json_new_array()) < 0 ||
                       vl_json_object_set_bool(params, "all", true) < 0))
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0)
                r = remote_call(cli, "GetVolumes", TAKE_PTR(params), &reply, err);
        const VlJson *vols = vl_json_object_get(reply, "volumes");
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(vols); i++)
                if (vl_json_array_append(
                            names, vl_json_copy(vl_json_object_get(vl_json_array_get(vols, i), "name"))) < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
        if (r < 0) {
                vl_json_unref(names);
                return r;
        }
        *ret = names;
        return 0;
}

/*
 * The names io.cpod's method (ListVolumes, PruneVolumes) answers for filters: the engine filters on the
 * service, with the code local mode runs, so a filter means the same and a bad one fails the same.
 */
static int volume_filtered(Cli *cli, const char *method, const VlJson *filters, VlJson **ret,
                           CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        VlJson *params = vl_json_new_object();
        if (!params || vl_json_object_set(params, "filters", vl_json_copy(filters)) < 0) {
                vl_json_unref(params);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        int r = remote_cpod_call(cli, method, params, &reply, err);
        if (r < 0)
                return r;
        if (!(*ret = vl_json_copy(vl_json_object_get(reply, "names"))))
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

/* A [string]string map from "K=V" (or "K") strings. */
static int kv_add(VlJson *map, const char *kv) {
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k = strndup(kv, eq ? (size_t)(eq - kv) : strlen(kv));
        return k ? vl_json_object_set_string(map, k, eq ? eq + 1 : "") : -ENOMEM;
}

static int remote_volume_create(Cli *cli, int argc, char **argv) {
        enum { ARG_DRIVER = 0x100 };
        static const struct option options[] = {
                {"driver", required_argument, NULL, ARG_DRIVER},
                {"label", required_argument, NULL, 'l'},
                {"opt", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *o = vl_json_new_object(),
                                         *labels = vl_json_new_object(), *opts = vl_json_new_object(),
                                         *reply = NULL;
        const char *driver = "";
        CpodError err = {};
        int c, r;

        if (!params || !o || !labels || !opts)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        while ((c = cli_getopt(cli, argc, argv, "l:o:h", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == ARG_DRIVER)
                        driver = optarg;
                else if (kv_add(c == 'l' ? labels : opts, optarg) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 1) < 0)
                return CLI_EXIT_ERROR;
        if (vl_json_object_set_string(o, "volumeName", optind < argc ? argv[optind] : "") < 0 ||
            vl_json_object_set_string(o, "driver", driver) < 0 ||
            vl_json_object_set(o, "labels", TAKE_PTR(labels)) < 0 ||
            vl_json_object_set(o, "options", TAKE_PTR(opts)) < 0 ||
            vl_json_object_set(params, "options", TAKE_PTR(o)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "VolumeCreate", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        puts(vl_json_get_string(vl_json_object_get(reply, "volumeName")) ?: "");
        return CLI_EXIT_OK;
}

static int remote_volume_exists(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        CpodError err = {};
        int r;

        r = remote_help_only(cli, argc, argv, NULL, NULL, 1, 1);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        r = volume_document(cli, argv[optind], &doc, &err);
        if (r == -ENOENT)
                return CLI_EXIT_FAILURE;
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_volume_inspect(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *items = vl_json_new_array(), *all_names = NULL;
        const char *format = NULL;
        VlBuf errors = VL_BUF_INIT;
        bool all = false;
        int c, status = CLI_EXIT_OK;
        CpodError err = {};

        while ((c = cli_getopt(cli, argc, argv, "af:h", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'a')
                        all = true;
                else if (c == 'f')
                        format = optarg;
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all == (optind < argc))
                return cli_error(CLI_EXIT_ERROR, "provide one or more volume names or use --all");
        if (!items)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        int r = all ? volume_names(cli, &all_names, &err) : 0;
        if (r < 0)
                return cli_engine_error(&err, r);
        size_t n = all ? vl_json_array_length(all_names) : (size_t)(argc - optind);
        for (size_t i = 0; i < n; i++) {
                const char *name =
                        all ? vl_json_get_string(vl_json_array_get(all_names, i)) : argv[optind + i];
                VlJson *doc = NULL;
                cpod_error_clear(&err);
                r = volume_document(cli, name, &doc, &err);
                if (r >= 0) {
                        if (vl_json_array_append(items, doc) < 0)
                                status = cli_error(CLI_EXIT_ERROR, "out of memory");
                        continue;
                }
                if (r == -ECONNREFUSED)
                        return cli_engine_error(&err, r);
                status = CLI_EXIT_ERROR;
                if ((errors.len > 0 && vl_buf_append_char(&errors, '\n') < 0) ||
                    vl_buf_append_str(&errors, "Error: inspecting object: ") < 0 ||
                    (r == -ENOENT ? (vl_buf_append_str(&errors, "no such volume ") < 0 ||
                                     vl_buf_append_str(&errors, name) < 0)
                                  : vl_buf_append_str(&errors, err.message) < 0)) {
                        vl_buf_free(&errors);
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
        }
        return cli_volume_print_inspect(format, items, &errors, status);
}

static int remote_volume_ls(Cli *cli, int argc, char **argv) {
        enum { ARG_FORMAT = 0x100, ARG_NOHEADING };
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"noheading", no_argument, NULL, ARG_NOHEADING},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *names = NULL, *rows = vl_json_new_array(),
                                         *filters = vl_json_new_array();
        Output out = {};
        CpodError err = {};
        bool quiet = false;
        int c, r;

        if (!rows || !filters)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        while ((c = cli_getopt(cli, argc, argv, "f:qh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'f' && vl_json_array_append(filters, vl_json_new_string(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                if (c == ARG_FORMAT)
                        out.format = optarg;
                else if (c == ARG_NOHEADING)
                        out.noheading = true;
                else if (c == 'q')
                        quiet = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        r = vl_json_array_length(filters) > 0 ? volume_filtered(cli, "ListVolumes", filters, &names, &err)
                                              : volume_names(cli, &names, &err);
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(names); i++) {
                VlJson *doc = NULL;
                r = volume_document(cli, vl_json_get_string(vl_json_array_get(names, i)), &doc, &err);
                if (r == -ENOENT) { /* removed meanwhile */
                        cpod_error_clear(&err);
                        r = 0;
                } else if (r >= 0 && vl_json_array_append(rows, doc) < 0)
                        r = cpod_error(&err, ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = cli_volume_print_rows(rows, &out, quiet, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* podman's exit codes: 1 when a volume was not found, 2 when one is in use, 125 otherwise. */
static int volume_rm_status(int status, const char *reason) {
        int s = strstr(reason, "no such volume")  ? CLI_EXIT_FAILURE
                : strstr(reason, "is being used") ? CLI_EXIT_IN_USE
                                                  : CLI_EXIT_ERROR;
        return MAX(status, s);
}

static int volume_rm_one(Cli *cli, const char *name, bool all, bool force, int status) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *o = vl_json_new_object(),
                                         *names = vl_json_new_array(), *reply = NULL;
        CpodError err = {};

        if (!params || !o || !names || (name && vl_json_array_append(names, vl_json_new_string(name)) < 0) ||
            vl_json_object_set(o, "volumes", TAKE_PTR(names)) < 0 ||
            vl_json_object_set_bool(o, "all", all) < 0 || vl_json_object_set_bool(o, "force", force) < 0 ||
            vl_json_object_set(params, "options", TAKE_PTR(o)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        int r = remote_call(cli, "VolumeRemove", TAKE_PTR(params), &reply, &err);
        if (r < 0) {
                cli_engine_error(&err, r);
                return CLI_EXIT_ERROR;
        }
        const VlJson *ok = vl_json_object_get(reply, "successes"),
                     *failed = vl_json_object_get(reply, "failures");
        for (size_t i = 0; i < vl_json_array_length(ok); i++)
                puts(vl_json_get_string(vl_json_array_get(ok, i)) ?: "");
        for (size_t i = 0; i < vl_json_object_length(failed); i++) {
                const char *reason = vl_json_get_string(vl_json_object_value(failed, i)) ?: "";
                cli_error(0, "%s", reason);
                status = volume_rm_status(status, reason);
        }
        return status;
}

static int remote_volume_rm(Cli *cli, int argc, char **argv) {
        bool all, force;
        int status = CLI_EXIT_OK;
        int r = cli_volume_rm_args(cli, argc, argv, &all, &force);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (all)
                return volume_rm_one(cli, NULL, true, force, status);
        for (int i = optind; i < argc; i++)
                status = volume_rm_one(cli, argv[i], false, force, status);
        return status;
}

/* With filters, io.cpod's PruneVolumes: the engine's volume_prune, as local mode runs it. */
static int volume_prune_filtered(Cli *cli, const VlJson *filters) {
        _cleanup_(vl_json_unrefp) VlJson *names = NULL;
        CpodError err = {};
        int r = volume_filtered(cli, "PruneVolumes", filters, &names, &err);

        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < vl_json_array_length(names); i++)
                puts(vl_json_get_string(vl_json_array_get(names, i)) ?: "");
        return CLI_EXIT_OK;
}

static int remote_volume_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'F'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *filters = vl_json_new_array();
        CpodError err = {};
        bool force = false;
        int c, r;

        if (!filters)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'F' && vl_json_array_append(filters, vl_json_new_string(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!force) {
                /* as local mode: the question names the volumes that would go (unused, matching the filters)
                 */
                _cleanup_(vl_json_unrefp) VlJson *unused = vl_json_copy(filters), *names = NULL;
                fputs("WARNING! This will remove all volumes not used by at least one container. The "
                      "following "
                      "volumes will be removed:\n",
                      stderr);
                if (unused && vl_json_array_append(unused, vl_json_new_string("dangling=true")) >= 0 &&
                    volume_filtered(cli, "ListVolumes", unused, &names, &err) >= 0)
                        for (size_t i = 0; i < vl_json_array_length(names); i++)
                                fprintf(stderr, "%s\n",
                                        vl_json_get_string(vl_json_array_get(names, i)) ?: "");
                cpod_error_clear(&err);
                if (!cli_confirm("Are you sure you want to continue?"))
                        return CLI_EXIT_OK;
        }
        if (vl_json_array_length(filters) > 0)
                return volume_prune_filtered(cli, filters);
        r = remote_call(cli, "VolumesPrune", NULL, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *names = vl_json_object_get(reply, "prunedNames"),
                     *errors = vl_json_object_get(reply, "prunedErrors");
        for (size_t i = 0; i < vl_json_array_length(names); i++)
                puts(vl_json_get_string(vl_json_array_get(names, i)) ?: "");
        for (size_t i = 0; i < vl_json_array_length(errors); i++)
                cli_error(0, "%s", vl_json_get_string(vl_json_array_get(errors, i)) ?: "");
        return vl_json_array_length(errors) > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- pods ---- */

static int remote_pod_create(Cli *cli, int argc, char **argv) {
        enum { ARG_NAME = 0x100, ARG_INFRA_IMAGE, ARG_SHARE, ARG_NETWORK, ARG_HOSTNAME, ARG_INFRA };
        static const struct option options[] = {
                {"name", required_argument, NULL, ARG_NAME},
                {"infra-image", required_argument, NULL, ARG_INFRA_IMAGE},
                {"share", required_argument, NULL, ARG_SHARE},
                {"network", required_argument, NULL, ARG_NETWORK},
                {"net", required_argument, NULL, ARG_NETWORK},
                {"hostname", required_argument, NULL, ARG_HOSTNAME},
                {"label", required_argument, NULL, 'l'},
                {"publish", required_argument, NULL, 'p'},
                {"infra", required_argument, NULL, ARG_INFRA},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *o = vl_json_new_object(),
                                         *labels = vl_json_new_object(), *share = vl_json_new_array(),
                                         *publish = vl_json_new_array(), *label_list = vl_json_new_array(),
                                         *reply = NULL;
        const char *name = NULL, *infra_image = "", *share_text = NULL, *network = NULL, *hostname = NULL;
        CpodError err = {};
        int c, r;

        if (!params || !o || !labels || !share || !publish || !label_list)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        while ((c = cli_getopt(cli, argc, argv, "l:p:h", options)) >= 0) {
                switch (c) {
                case 'h':
                        return remote_local_help(cli, argc, argv);
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_INFRA_IMAGE:
                        infra_image = optarg;
                        break;
                case ARG_SHARE:
                        share_text = optarg;
                        for (const char *p = optarg; *p;) {
                                size_t len = strcspn(p, ",");
                                _cleanup_free_ char *ns = strndup(p, len);
                                if (!ns || vl_json_array_append(share, vl_json_new_string(ns)) < 0)
                                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                                p += len + (p[len] == ',');
                        }
                        break;
                case ARG_NETWORK:
                        network = optarg;
                        break;
                case ARG_HOSTNAME:
                        hostname = optarg;
                        break;
                case ARG_INFRA:
                        if (!streq(optarg, "true"))
                                return cli_error(CLI_EXIT_ERROR,
                                                 "pods without an infra container are not supported");
                        break;
                case 'l':
                        if (kv_add(labels, optarg) < 0 ||
                            vl_json_array_append(label_list, vl_json_new_string(optarg)) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        break;
                case 'p':
                        if (vl_json_array_append(publish, vl_json_new_string(optarg)) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        break;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 1) < 0)
                return CLI_EXIT_ERROR;
        if (optind < argc) {
                if (name)
                        return cli_error(CLI_EXIT_ERROR, "cannot specify --name and a positional pod name");
                name = argv[optind];
        }
        if (network || hostname) {
                /* io.podman's PodCreate has no network or hostname: io.cpod's CreatePod has every option */
                if ((name && vl_json_object_set_string(o, "name", name) < 0) ||
                    vl_json_object_set_string(o, "infraImage", infra_image) < 0 ||
                    (share_text && vl_json_object_set_string(o, "share", share_text) < 0) ||
                    (network && vl_json_object_set_string(o, "network", network) < 0) ||
                    (hostname && vl_json_object_set_string(o, "hostname", hostname) < 0) ||
                    vl_json_object_set(o, "labels", TAKE_PTR(label_list)) < 0 ||
                    vl_json_object_set(o, "publish", TAKE_PTR(publish)) < 0 ||
                    vl_json_object_set(params, "create", TAKE_PTR(o)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                r = remote_cpod_call(cli, "CreatePod", TAKE_PTR(params), &reply, &err);
        } else if (vl_json_object_set_string(o, "name", name ?: "") < 0 ||
                   vl_json_object_set_string(o, "cgroupParent", "") < 0 ||
                   vl_json_object_set(o, "labels", TAKE_PTR(labels)) < 0 ||
                   vl_json_object_set(o, "share", TAKE_PTR(share)) < 0 ||
                   vl_json_object_set_bool(o, "infra", true) < 0 ||
                   vl_json_object_set_string(o, "infraCommand", "") < 0 ||
                   vl_json_object_set_string(o, "infraImage", infra_image) < 0 ||
                   vl_json_object_set(o, "publish", TAKE_PTR(publish)) < 0 ||
                   vl_json_object_set(params, "create", TAKE_PTR(o)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        else
                r = remote_call(cli, "CreatePod", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        puts(vl_json_get_string(vl_json_object_get(reply, "pod")) ?: "");
        return CLI_EXIT_OK;
}

static int remote_pod_exists(Cli *cli, int argc, char **argv) {
        CpodError err = {};
        int r;

        r = remote_help_only(cli, argc, argv, NULL, NULL, 1, 1);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        r = remote_call(cli, "GetPod", remote_params1("name", argv[optind]), NULL, &err);
        if (r == -ENOENT)
                return CLI_EXIT_FAILURE;
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* A pod's inspect document (parsed) from InspectPod. */
static int pod_document(Cli *cli, const char *name, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_call(cli, "InspectPod", remote_params1("name", name), &reply, err);
        if (r < 0)
                return r;
        const char *doc = vl_json_get_string(vl_json_object_get(reply, "pod")) ?: "";
        if (vl_json_parse(doc, strlen(doc), NULL, ret, NULL) < 0)
                return cpod_error(err, EPROTO, "the service's inspect document of %s is not JSON", name);
        return 0;
}

static int remote_pod_inspect(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                                {"latest", no_argument, NULL, 'l'},
                                                {"help", no_argument, NULL, 'h'},
                                                {}};
        _cleanup_(vl_json_unrefp) VlJson *items = vl_json_new_array();
        const char *format = NULL;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "f:lh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'f')
                        format = optarg;
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (!items)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                VlJson *d = NULL;
                int r = pod_document(cli, argv[i], &d, &err);
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else if (vl_json_array_append(items, d) < 0)
                        status = cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        return cli_pod_print_inspect(format, items, status);
}

/* Pod and its containers from a ListPodData record and the pod's inspect document. */
static int pod_from_record(const VlJson *rec, const VlJson *doc, Pod *p, Container **ret_c, size_t *ret_n) {
        const VlJson *labels = vl_json_object_get(rec, "labels"),
                     *members = vl_json_object_get(rec, "containersinfo");
        const char *network = vl_json_get_string(
                vl_json_object_get(vl_json_object_get(doc, "InfraConfig"), "NetworkMode"));
        int32_t nsec = 0;
        int r = 0;

        snprintf(p->id, sizeof(p->id), "%s", vl_json_get_string(vl_json_object_get(rec, "id")) ?: "");
        snprintf(p->infra_id, sizeof(p->infra_id), "%s",
                 vl_json_get_string(vl_json_object_get(doc, "InfraContainerID")) ?: "");
        (void)rfc3339_parse(vl_json_get_string(vl_json_object_get(rec, "createdat")) ?: "", &p->created,
                            &nsec);
        if (!(p->name = strdup(vl_json_get_string(vl_json_object_get(rec, "name")) ?: "")) ||
            !(p->network = strdup(network && !streq(network, "none") ? network : "")))
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < vl_json_object_length(labels); i++) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", vl_json_object_key(labels, i),
                             vl_json_get_string(vl_json_object_value(labels, i)) ?: "") < 0)
                        return -ENOMEM;
                r = strv_push(&p->labels, &p->n_labels, kv);
        }
        size_t n = vl_json_array_length(members);
        Container *c = calloc(n ?: 1, sizeof(Container));
        if (r < 0 || !c) {
                free(c);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const VlJson *m = vl_json_array_get(members, i);
                const char *status = vl_json_get_string(vl_json_object_get(m, "status")) ?: "";
                snprintf(c[i].id, sizeof(c[i].id), "%s",
                         vl_json_get_string(vl_json_object_get(m, "id")) ?: "");
                c[i].name = strdup(vl_json_get_string(vl_json_object_get(m, "name")) ?: "");
                c[i].state = CONTAINER_UNKNOWN;
                for (int s = CONTAINER_CONFIGURED; s <= CONTAINER_UNKNOWN; s++)
                        if (streq(container_state_name(s), status))
                                c[i].state = s;
                if (!c[i].name)
                        r = -ENOMEM;
        }
        *ret_c = c;
        *ret_n = n;
        return r;
}

static int remote_pod_ps(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *rows = vl_json_new_array(),
                                         *items = vl_json_new_array();
        PodPsArgs a;
        CpodError err = {};
        int r = cli_pod_ps_parse(cli, argc, argv, &a);

        if (r != 0) {
                strv_free_n(a.filters, a.n_filters);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        r = rows && items ? remote_call(cli, "ListPods", NULL, &reply, &err)
                          : cpod_error(&err, ENOMEM, "out of memory");
        const VlJson *recs = vl_json_object_get(reply, "pods");
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(recs); i++) {
                const VlJson *rec = vl_json_array_get(recs, i);
                _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
                Pod p = {};
                Container *c = NULL;
                size_t n = 0;
                r = pod_document(cli, vl_json_get_string(vl_json_object_get(rec, "id")) ?: "", &doc, &err);
                if (r == -ENOENT) { /* removed meanwhile */
                        cpod_error_clear(&err);
                        r = 0;
                        continue;
                }
                if (r >= 0 && pod_from_record(rec, doc, &p, &c, &n) < 0)
                        r = cpod_error(&err, ENOMEM, "out of memory");
                if (r >= 0 && cli_pod_ps_add(&a, &p, c, n, rows, items) < 0)
                        r = cpod_error(&err, ENOMEM, "out of memory");
                container_array_free(c, n);
                pod_done(&p);
        }
        if (r >= 0)
                r = cli_pod_ps_print(&a, rows, items);
        else
                r = cli_engine_error(&err, r);
        strv_free_n(a.filters, a.n_filters);
        return r;
}

typedef struct PodVerb {
        const char *method;
        int timeout, signo;
        bool force, all, ignore;
} PodVerb;

static int pod_verb_one(Cli *cli, const PodVerb *v, const char *ref) {
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", ref), *reply = NULL;
        CpodError err = {};
        int r = params ? 0 : -ENOMEM;

        if (r >= 0 && streq(v->method, "StopPod"))
                r = vl_json_object_set_int(params, "timeout", v->timeout);
        else if (r >= 0 && streq(v->method, "KillPod"))
                r = vl_json_object_set_int(params, "signal", v->signo);
        else if (r >= 0 && streq(v->method, "RemovePod"))
                r = vl_json_object_set_bool(params, "force", v->force);
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, v->method, TAKE_PTR(params), &reply, &err);
        if (r == -ENOENT && v->ignore)
                return CLI_EXIT_OK;
        if (r < 0)
                return cli_engine_error(&err, r);
        puts(vl_json_get_string(vl_json_object_get(reply, "pod")) ?: "");
        return CLI_EXIT_OK;
}

static int pod_verb(Cli *cli, int argc, char **argv, PodVerb v) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"time", required_argument, NULL, 't'},
                {"timeout", required_argument, NULL, 't'},
                {"signal", required_argument, NULL, 's'},
                {"ignore", no_argument, NULL, 'i'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool stop = streq(v.method, "StopPod"), kill = streq(v.method, "KillPod"),
             rm = streq(v.method, "RemovePod");
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "aft:s:ilh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'a')
                        v.all = true;
                else if (c == 'f' && rm)
                        v.force = true;
                else if (c == 'i')
                        v.ignore = true;
                else if (c == 't' && stop)
                        v.timeout = atoi(optarg);
                else if (c == 's' && kill && (v.signo = cli_parse_signal(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "invalid signal: %s", optarg);
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
                else if (c != 'a' && c != 'i' && !(c == 's' && kill) && !(c == 't' && stop) &&
                         !(c == 'f' && rm))
                        return cli_error(CLI_EXIT_ERROR, "unknown flag for %s", cli->path);
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (!v.all && argc - optind < 1)
                return cli_error(CLI_EXIT_ERROR, "you must provide at least one name or id");
        if (v.all && argc - optind > 0)
                return cli_error(CLI_EXIT_ERROR,
                                 "when using the --all switch, you may not pass any pod names "
                                 "or IDs");
        if (v.all) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                CpodError err = {};
                int r = remote_call(cli, "ListPods", NULL, &reply, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                const VlJson *pods = vl_json_object_get(reply, "pods");
                for (size_t i = 0; i < vl_json_array_length(pods); i++) {
                        int s = pod_verb_one(
                                cli, &v,
                                vl_json_get_string(vl_json_object_get(vl_json_array_get(pods, i), "id"))
                                        ?: "");
                        status = s != CLI_EXIT_OK ? s : status;
                }
                return status;
        }
        for (int i = optind; i < argc; i++) {
                int s = pod_verb_one(cli, &v, argv[i]);
                status = s != CLI_EXIT_OK ? s : status;
        }
        return status;
}

#define REMOTE_POD_VERB(fn, ...)                                          \
        static int fn(Cli *cli, int argc, char **argv) {                  \
                return pod_verb(cli, argc, argv, (PodVerb){__VA_ARGS__}); \
        }

REMOTE_POD_VERB(remote_pod_start, .method = "StartPod")
REMOTE_POD_VERB(remote_pod_stop, .method = "StopPod", .timeout = -1)
REMOTE_POD_VERB(remote_pod_restart, .method = "RestartPod")
REMOTE_POD_VERB(remote_pod_kill, .method = "KillPod", .signo = 9)
REMOTE_POD_VERB(remote_pod_pause, .method = "PausePod")
REMOTE_POD_VERB(remote_pod_unpause, .method = "UnpausePod")
REMOTE_POD_VERB(remote_pod_rm, .method = "RemovePod")

/* pod prune: the pods whose every container is stopped or exited (or that have none but the infra one
 * stopped), removed one by one, as the engine's prune picks them. */
static int remote_pod_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *params = vl_json_new_object(),
                                         *statuses = vl_json_new_array();
        CpodError err = {};
        int r = remote_help_only(cli, argc, argv, "fh", options, 0, 0);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!params || !statuses || vl_json_array_append(statuses, vl_json_new_string("Exited")) < 0 ||
            vl_json_array_append(statuses, vl_json_new_string("Stopped")) < 0 ||
            vl_json_array_append(statuses, vl_json_new_string("Created")) < 0 ||
            vl_json_object_set(params, "statuses", TAKE_PTR(statuses)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "GetPodsByStatus", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *ids = vl_json_object_get(reply, "pods");
        for (size_t i = 0; i < vl_json_array_length(ids); i++) {
                _cleanup_(vl_json_unrefp) VlJson *p =
                        remote_params1("name", vl_json_get_string(vl_json_array_get(ids, i)));
                cpod_error_clear(&err);
                if (!p || vl_json_object_set_bool(p, "force", false) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                r = remote_call(cli, "RemovePod", TAKE_PTR(p), NULL, &err);
                if (r < 0 && r != -ENOENT)
                        return cli_engine_error(&err, r);
                if (r >= 0)
                        puts(vl_json_get_string(vl_json_array_get(ids, i)));
        }
        return CLI_EXIT_OK;
}

static int remote_pod_top(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"latest", no_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("pod", ""), *reply = NULL;
        VlBuf b = VL_BUF_INIT;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "+lh", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (!params || vl_json_object_set_string(params, "pod", argv[optind]) < 0 ||
            vl_json_object_set_bool(params, "latest", false) < 0 ||
            vl_json_object_set(params, "descriptors", vl_json_new_array()) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "TopPod", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *lines = vl_json_object_get(reply, "stats");
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(lines); i++)
                if (vl_buf_append_str(&b, vl_json_get_string(vl_json_array_get(lines, i)) ?: "") < 0 ||
                    vl_buf_append_char(&b, '\n') < 0)
                        r = -ENOMEM;
        if (r >= 0)
                output_table_text(b.data, b.len);
        vl_buf_free(&b);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}

static int remote_pod_stats(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"all", no_argument, NULL, 'a'},
                                                {"no-stream", no_argument, NULL, 0x100},
                                                {"format", required_argument, NULL, 0x101},
                                                {"help", no_argument, NULL, 'h'},
                                                {}};
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        VlBuf b = VL_BUF_INIT;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "ah", options)) >= 0)
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
        if (c == -2)
                return CLI_EXIT_ERROR;
        r = remote_call(cli, "ListPods", NULL, &reply, &err);
        if (r >= 0 && vl_buf_append_str(&b, "POD\tCID\tNAME\tCPU %\tMEM USAGE / LIMIT\tPIDS\n") < 0)
                r = cpod_error(&err, ENOMEM, "out of memory");
        const VlJson *pods = vl_json_object_get(reply, "pods");
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(pods); i++) {
                const VlJson *pod = vl_json_array_get(pods, i);
                const char *id = vl_json_get_string(vl_json_object_get(pod, "id")) ?: "",
                           *name = vl_json_get_string(vl_json_object_get(pod, "name")) ?: "";
                _cleanup_(vl_json_unrefp) VlJson *stats = NULL;
                bool wanted = argc == optind;
                for (int k = optind; k < argc; k++)
                        wanted |= streq(argv[k], name) || startswith(id, argv[k]);
                CpodError one = {};
                if (!wanted || remote_call(cli, "GetPodStats", remote_params1("name", id), &stats, &one) < 0)
                        continue; /* gone, or nothing running: as local mode, no lines */
                const VlJson *cs = vl_json_object_get(stats, "containers");
                for (size_t k = 0; r >= 0 && k < vl_json_array_length(cs); k++) {
                        const VlJson *s = vl_json_array_get(cs, k);
                        if (cli_pod_stats_line(&b, id, vl_json_get_string(vl_json_object_get(s, "id")) ?: "",
                                               vl_json_get_string(vl_json_object_get(s, "name")) ?: "",
                                               vl_json_get_double(vl_json_object_get(s, "cpu")),
                                               (uint64_t)vl_json_get_int(vl_json_object_get(s, "mem_usage")),
                                               (uint64_t)vl_json_get_int(vl_json_object_get(s, "mem_limit")),
                                               (uint64_t)vl_json_get_int(vl_json_object_get(s, "pids"))) < 0)
                                r = cpod_error(&err, ENOMEM, "out of memory");
                }
        }
        if (r >= 0)
                output_table_text(b.data, b.len);
        vl_buf_free(&b);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* generate kube: the service's YAML documents, read back and written as local mode writes them. */
static int remote_generate_kube(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"filename", required_argument, NULL, 'f'},
                {"service", no_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *reply = NULL, *docs = vl_json_new_array();
        const char *file = NULL;
        bool service = false;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "f:sh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'f')
                        file = optarg;
                if (c == 's')
                        service = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (argc - optind > 1)
                return cli_error(CLI_EXIT_ERROR, "generating YAML for more than one pod or container is not "
                                                 "supported");
        params = remote_params1("name", argv[optind]);
        if (!docs || !params || vl_json_object_set_bool(params, "service", service) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "GenerateKube", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *pod = vl_json_object_get(reply, "pod");
        const char *texts[] = {vl_json_get_string(vl_json_object_get(pod, "pod")),
                               service ? vl_json_get_string(vl_json_object_get(pod, "service")) : NULL};
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(vl_json_unrefp) VlJson *one = NULL;
                if (!texts[i])
                        continue;
                r = yaml_parse(texts[i], strlen(texts[i]), &one, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t k = 0; k < vl_json_array_length(one); k++)
                        if (vl_json_array_append(docs, vl_json_copy(vl_json_array_get(one, k))) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        return cli_kube_generate_output(docs, file) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

const RemoteCommand remote_pod_volume_commands[] = {
        {"volume create", remote_volume_create},
        {"volume exists", remote_volume_exists},
        {"volume inspect", remote_volume_inspect},
        {"volume ls", remote_volume_ls},
        {"volume list", remote_volume_ls},
        {"volume rm", remote_volume_rm},
        {"volume remove", remote_volume_rm},
        {"volume prune", remote_volume_prune},
        {"pod create", remote_pod_create},
        {"pod exists", remote_pod_exists},
        {"pod inspect", remote_pod_inspect},
        {"pod ps", remote_pod_ps},
        {"pod ls", remote_pod_ps},
        {"pod list", remote_pod_ps},
        {"pod start", remote_pod_start},
        {"pod stop", remote_pod_stop},
        {"pod restart", remote_pod_restart},
        {"pod kill", remote_pod_kill},
        {"pod pause", remote_pod_pause},
        {"pod unpause", remote_pod_unpause},
        {"pod rm", remote_pod_rm},
        {"pod prune", remote_pod_prune},
        {"pod top", remote_pod_top},
        {"pod stats", remote_pod_stats},
        {"generate kube", remote_generate_kube},
        {},
};
