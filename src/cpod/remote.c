/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote mode: the connection, the calls, the command table, and the commands that print little (version,
 * tag, untag, rmi, the lifecycle commands, start, wait, logs). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vl/varlink.h>

#include "cmd-container.h"
#include "manifest.h"
#include "remote-ext.h"

#define IFACE "io.podman."

static bool is_varlink_address(const char *s) {
        return s && (startswith(s, "unix:") || startswith(s, "tcp:") || startswith(s, "exec:") ||
                     startswith(s, "ssh://"));
}

/* Only characters no shell gives a meaning to. */
static bool shell_safe(const char *s, size_t n, const char *extra) {
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]) && !strchr(extra, s[i]))
                        return false;
        return n > 0;
}

/*
 * ssh://[USER@]HOST[:PORT]/PATH, as podman 1.x's remote client took it: the system's ssh client runs
 * `varlink bridge --connect unix:/PATH` on HOST, and the call goes through that bridge. The command line
 * (malloc'ed) in *ret; -EINVAL for an address that is not of that form or holds shell characters.
 */
static int ssh_bridge(const char *url, char **ret) {
        const char *rest = startswith(url, "ssh://"), *path, *at, *colon;
        if (!rest || !(path = strchr(rest, '/')))
                return -EINVAL;
        at = memchr(rest, '@', (size_t)(path - rest));
        const char *host = at ? at + 1 : rest;
        colon = memchr(host, ':', (size_t)(path - host));
        size_t host_len = (size_t)((colon ?: path) - host);
        if ((at && !shell_safe(rest, (size_t)(at - rest), "")) || !shell_safe(host, host_len, "") ||
            (colon && !shell_safe(colon + 1, (size_t)(path - colon - 1), "")) ||
            !shell_safe(path, strlen(path), "/") ||
            (colon && strspn(colon + 1, "0123456789") != (size_t)(path - colon - 1)))
                return -EINVAL;
        return asprintf(ret,
                        "exec ssh -xT -o BatchMode=yes %s%.*s -- %.*s%.*s varlink bridge --connect unix:%s",
                        colon ? "-p " : "", colon ? (int)(path - colon - 1) : 0, colon ? colon + 1 : "",
                        at ? (int)(at - rest + 1) : 0, rest, (int)host_len, host, path) < 0
                       ? -ENOMEM
                       : 0;
}

const char *remote_address(const Cli *cli, char *buf, size_t n) {
        const char *s, *xdg;

        if (cli->remote_url)
                return cli->remote_url;
        if (is_varlink_address(s = getenv("CONTAINER_HOST")))
                return s;
        if ((s = getenv("PODMAN_VARLINK_ADDRESS")) && *s)
                return s;
        if (geteuid() != 0 && (xdg = getenv("XDG_RUNTIME_DIR")) && *xdg) {
                snprintf(buf, n, "unix:%s/podman/io.podman", xdg);
                return buf;
        }
        return "unix:/run/podman/io.podman";
}

VlClient *remote_client(Cli *cli) {
        const char *bridge = cli->remote_url ? NULL : getenv("PODMAN_VARLINK_BRIDGE");
        char buf[4096];
        int r;

        if (cli->client)
                return cli->client;
        if (bridge && *bridge) {
                r = vl_client_connect_bridge(&cli->client, bridge);
                if (r < 0) {
                        cli_error(0, "connecting through the bridge \"%s\": %s", bridge, strerror(-r));
                        cli->client = NULL;
                }
                return cli->client;
        }
        const char *address = remote_address(cli, buf, sizeof(buf));
        if (startswith(address, "ssh://")) {
                _cleanup_free_ char *command = NULL;
                r = ssh_bridge(address, &command);
                if (r >= 0)
                        r = vl_client_connect_bridge(&cli->client, command);
        } else
                r = vl_client_connect(&cli->client, address);
        if (r < 0) {
                cli_error(0, "connecting to %s: %s", address, strerror(-r));
                cli->client = NULL;
        }
        return cli->client;
}

void remote_close(Cli *cli) {
        cli->client = vl_client_free(cli->client);
}

VlJson *remote_params1(const char *key, const char *value) {
        VlJson *p = vl_json_new_object();

        if (p && vl_json_object_set_string(p, key, value) < 0)
                return vl_json_unref(p);
        return p;
}

/* errno for an io.podman, io.cpod or org.varlink.service error name. */
static int error_code(const char *name) {
        static const struct {
                const char *name;
                int code;
        } map[] = {
                {"ContainerNotFound", ENOENT},    {"ImageNotFound", ENOENT},
                {"PodNotFound", ENOENT},          {"VolumeNotFound", ENOENT},
                {"NetworkNotFound", ENOENT},      {"NetworkAlreadyExists", EEXIST},
                {"NetworkInUse", EBUSY},          {"InvalidState", EBUSY},
                {"NoContainerRunning", EINVAL},   {"InvalidKube", EINVAL},
                {"InvalidParameter", EINVAL},     {"MethodNotFound", ENOSYS},
                {"MethodNotImplemented", ENOSYS}, {"InterfaceNotFound", ENOSYS},
                {"CommandNotFound", ENOENT},      {"CommandNotExecutable", EACCES},
        };
        const char *short_name = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(short_name, map[i].name))
                        return map[i].code;
        return EIO;
}

/* The one call path of remote mode: iface is "io.podman." or "io.cpod.". */
static int call_iface(Cli *cli, const char *iface, const char *method, VlJson *params, unsigned flags,
                      VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *p = params, *reply = NULL;
        char full[128];
        const char *error = NULL;
        VlClient *c = remote_client(cli);
        int r;

        if (ret)
                *ret = NULL;
        if (!c)
                return cpod_error(err, ECONNREFUSED, "no connection to the service");
        snprintf(full, sizeof(full), "%s%s", iface, method);
        r = vl_client_call(c, full, p, flags, &reply, &error);
        if (r < 0)
                return cpod_error(err, -r, "calling %s: %s", full, strerror(-r));
        if (error) {
                const char *reason = vl_json_get_string(vl_json_object_get(reply, "reason"));
                int code = error_code(error);
                if (reason && *reason)
                        return cpod_error(err, code, "%s", reason);
                if (code == ENOSYS)
                        return cpod_error(err, code, "the service does not implement %s", full);
                if (streq(error, "org.varlink.service.InvalidParameter"))
                        return cpod_error(err, code, "%s: invalid parameter %s", full,
                                          vl_json_get_string(vl_json_object_get(reply, "parameter")) ?: "");
                return cpod_error(err, code, "%s", error);
        }
        if (ret)
                *ret = TAKE_PTR(reply);
        return 0;
}

int remote_call(Cli *cli, const char *method, VlJson *params, VlJson **ret, CpodError *err) {
        return call_iface(cli, IFACE, method, params, 0, ret, err);
}

int remote_call_flags(Cli *cli, const char *method, VlJson *params, unsigned flags, VlJson **ret,
                      CpodError *err) {
        return call_iface(cli, IFACE, method, params, flags, ret, err);
}

int remote_cpod_call(Cli *cli, const char *method, VlJson *params, VlJson **ret, CpodError *err) {
        return call_iface(cli, "io.cpod.", method, params, 0, ret, err);
}

int remote_cpod_call_flags(Cli *cli, const char *method, VlJson *params, unsigned flags, VlJson **ret,
                           CpodError *err) {
        return call_iface(cli, "io.cpod.", method, params, flags, ret, err);
}

int remote_take_socket(Cli *cli, char **ret_pending, size_t *ret_n, CpodError *err) {
        int sock = -1;
        int r = vl_client_take_upgraded(cli->client, &sock, ret_pending, ret_n);

        remote_close(cli);
        return r < 0 ? cpod_error(err, -r, "taking over the connection: %s", strerror(-r)) : sock;
}

int remote_local_help(Cli *cli, int argc, char **argv) {
        optind = 0;
        return cli->command->run(cli, argc, argv);
}

int remote_args_value(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                      int value_opt, const char **ret_value, int min, int max) {
        static const struct option help_only[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = cli_getopt(cli, argc, argv, shortopts ?: "h", options ?: help_only)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv) == CLI_EXIT_OK ? -1 : CLI_EXIT_ERROR;
                if (ret_value && c == value_opt)
                        *ret_value = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, min, max) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int remote_help_only(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                     int min, int max) {
        return remote_args_value(cli, argc, argv, shortopts, options, 0, NULL, min, max);
}

int remote_force_args(Cli *cli, int argc, char **argv, int min, int max, const char *filter_error,
                      bool *ret_force) {
        static const struct option with_filter[] = {
                {"filter", required_argument, NULL, 'F'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        *ret_force = false;
        while ((c = cli_getopt(cli, argc, argv, "fh", filter_error ? with_filter : with_filter + 1)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv) == CLI_EXIT_OK ? -1 : CLI_EXIT_ERROR;
                if (c == 'F' && *filter_error)
                        return cli_error(CLI_EXIT_ERROR, "%s", filter_error);
                *ret_force = *ret_force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, min, max) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int remote_exists(Cli *cli, int argc, char **argv, const struct option *options, bool cpod,
                  const char *method) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        int r = remote_help_only(cli, argc, argv, "h", options, 1, 1);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        VlJson *p = remote_params1("name", argv[optind]);
        r = cpod ? remote_cpod_call(cli, method, p, &reply, &err)
                 : remote_call(cli, method, p, &reply, &err);
        if (r < 0)
                return cpod || !streq(method, "ImageExists") ? cli_engine_error(&err, r)
                                                             : cli_image_error(argv[optind], &err, r);
        const VlJson *e = vl_json_object_get(reply, "exists");
        /* io.podman answers 0 for "exists", io.cpod true */
        bool exists = vl_json_type(e) == VL_JSON_BOOL ? vl_json_get_bool(e) : vl_json_get_int(e) == 0;
        return exists ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* ---- version: the client's own, as local mode ---- */

static int remote_version(Cli *cli, int argc, char **argv) {
        return cmd_version(cli, argc, argv);
}

/* ---- tag, untag, rmi ---- */

static VlJson *params2(const char *k1, const char *v1, const char *k2, const char *v2) {
        VlJson *p = remote_params1(k1, v1);

        if (p && vl_json_object_set_string(p, k2, v2) < 0)
                return vl_json_unref(p);
        return p;
}

static int remote_tag(Cli *cli, int argc, char **argv) {
        int r = remote_help_only(cli, argc, argv, NULL, NULL, 2, INT32_MAX);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        for (int i = optind + 1; i < argc; i++) {
                CpodError err = {};
                r = remote_call(cli, "TagImage", params2("name", argv[optind], "tagged", argv[i]), NULL,
                                &err);
                if (r < 0)
                        return r == -ENOENT ? cli_image_error(argv[optind], &err, r)
                                            : cli_engine_error(&err, r);
        }
        return CLI_EXIT_OK;
}

static int remote_untag(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        int r = remote_help_only(cli, argc, argv, NULL, NULL, 1, INT32_MAX);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (optind + 1 == argc) { /* every name */
                const VlJson *names;
                r = remote_call(cli, "GetImage", remote_params1("id", argv[optind]), &reply, &err);
                if (r < 0)
                        return cli_image_error(argv[optind], &err, r);
                names = vl_json_object_get(vl_json_object_get(reply, "image"), "repoTags");
                for (size_t i = 0; i < vl_json_array_length(names); i++) {
                        const char *name = vl_json_get_string(vl_json_array_get(names, i));
                        r = remote_call(cli, "UntagImage", params2("name", argv[optind], "tag", name), NULL,
                                        &err);
                        if (r < 0)
                                return cli_image_error(argv[optind], &err, r);
                }
                return CLI_EXIT_OK;
        }
        for (int i = optind + 1; i < argc; i++) {
                r = remote_call(cli, "UntagImage", params2("name", argv[optind], "tag", argv[i]), NULL,
                                &err);
                if (r < 0)
                        return r == -ENOENT ? cli_image_error(argv[optind], &err, r)
                                            : cli_engine_error(&err, r);
        }
        return CLI_EXIT_OK;
}

static int rmi_status(int status, int r) {
        int s = r == -ENOENT ? CLI_EXIT_FAILURE : r == -EBUSY ? CLI_EXIT_IN_USE : CLI_EXIT_ERROR;
        return MAX(status, s);
}

/* Remove one image, printing podman's "Untagged:" and "Deleted:" lines. */
static int remove_image(Cli *cli, const char *ref, bool force, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", ref), *reply = NULL;
        const VlJson *resp, *untagged;
        const char *deleted;
        int r;

        if (!params || vl_json_object_set_bool(params, "force", force) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = remote_call(cli, "RemoveImageWithResponse", TAKE_PTR(params), &reply, err);
        if (r < 0) {
                /* the engine's "in use" is EBUSY; the service reports it as a failure with the reason */
                if (r == -EIO && strstr(err->message, "in use"))
                        err->code = EBUSY, r = -EBUSY;
                return r;
        }
        resp = vl_json_object_get(reply, "response");
        untagged = vl_json_object_get(resp, "untagged");
        deleted = vl_json_get_string(vl_json_object_get(resp, "deleted"));
        for (size_t i = 0; i < vl_json_array_length(untagged); i++)
                printf("Untagged: %s\n", vl_json_get_string(vl_json_array_get(untagged, i)));
        if (deleted && *deleted)
                printf("Deleted: %s\n", deleted);
        return 0;
}

static int remote_rmi(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"ignore", no_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false, ignore = false;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "afih", options)) >= 0) {
                if (c == 'h')
                        return cmd_rmi(cli, argc, argv);
                all = all || c == 'a';
                force = force || c == 'f';
                ignore = ignore || c == 'i';
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all && optind < argc)
                return cli_error(CLI_EXIT_ERROR,
                                 "when using the --all switch, you may not pass any images names or IDs");
        if (!all && optind >= argc)
                return cli_error(CLI_EXIT_ERROR, "image name or ID must be specified");
        if (all) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                CpodError err = {};
                int r = remote_call(cli, "ListImages", NULL, &reply, &err);
                const VlJson *imgs = vl_json_object_get(reply, "images");
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t i = 0; i < vl_json_array_length(imgs); i++) {
                        const char *id =
                                vl_json_get_string(vl_json_object_get(vl_json_array_get(imgs, i), "id"));
                        cpod_error_clear(&err);
                        r = remove_image(cli, id, force, &err);
                        if (r < 0 && r != -ENOENT) {
                                cli_image_error(id, &err, r);
                                status = rmi_status(status, r);
                        }
                }
                return status;
        }
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                int r = remove_image(cli, argv[i], force, &err);
                if (r == -ENOENT && ignore)
                        continue;
                if (r < 0) {
                        cli_image_error(argv[i], &err, r);
                        status = rmi_status(status, r);
                }
        }
        return status;
}

/* ---- stop, kill, restart, pause, unpause, rm, start ---- */

typedef struct EachArgs {
        bool all, latest, force, volumes, ignore;
        int timeout, signo;
        const char *method;
        const char *state; /* --all acts on containers with this status ("running"), NULL: every one */
        bool print_id;     /* print the full ID rather than the name given */
} EachArgs;

/* The containers --all or --latest name: IDs, newest first. */
static int implicit_targets(Cli *cli, const EachArgs *a, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *ids = vl_json_new_array();
        const VlJson *cs;
        int r;

        if (!ids)
                return cpod_error(err, ENOMEM, "out of memory");
        r = remote_call(cli, "ListContainers", NULL, &reply, err);
        if (r < 0)
                return r;
        cs = vl_json_object_get(reply, "containers");
        for (size_t i = 0; i < vl_json_array_length(cs); i++) {
                const VlJson *c = vl_json_array_get(cs, i);
                const char *status = vl_json_get_string(vl_json_object_get(c, "status"));
                if (!a->latest && a->state && !streq_ptr(status, a->state))
                        continue;
                if (vl_json_array_append(ids, vl_json_copy(vl_json_object_get(c, "id"))) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                if (a->latest)
                        break;
        }
        *ret = TAKE_PTR(ids);
        return 0;
}

static int each_one(Cli *cli, const EachArgs *a, const char *ref, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", ref), *reply = NULL;
        int r = params ? 0 : -ENOMEM;

        if (streq(a->method, "StopContainer") || streq(a->method, "RestartContainer"))
                r = vl_json_object_set_int(params, "timeout", a->timeout);
        else if (streq(a->method, "KillContainer"))
                r = vl_json_object_set_int(params, "signal", a->signo);
        else if (streq(a->method, "RemoveContainer"))
                r = vl_json_object_set_bool(params, "force", a->force)
                            ?: vl_json_object_set_bool(params, "removeVolumes", a->volumes);
        if (r < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = remote_call(cli, a->method, TAKE_PTR(params), &reply, err);
        if (r < 0)
                return r;
        printf("%s\n", a->print_id ? vl_json_get_string(vl_json_object_get(reply, "container")) : ref);
        return 0;
}

static int run_each(Cli *cli, int argc, char **argv, EachArgs *a, bool rm) {
        _cleanup_(vl_json_unrefp) VlJson *ids = NULL;
        bool implicit = a->all || a->latest;
        int status = CLI_EXIT_OK;
        CpodError err = {};
        int r;

        if (cli_check_args(cli, argc - optind, implicit ? 0 : 1, implicit ? 0 : INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (implicit && (r = implicit_targets(cli, a, &ids, &err)) < 0)
                return cli_engine_error(&err, r);
        size_t n = implicit ? vl_json_array_length(ids) : (size_t)(argc - optind);
        for (size_t i = 0; i < n; i++) {
                const char *ref =
                        implicit ? vl_json_get_string(vl_json_array_get(ids, i)) : argv[optind + i];
                cpod_error_clear(&err);
                r = each_one(cli, a, ref, &err);
                if (r == -ENOENT && (a->ignore || (rm && a->all)))
                        continue;
                if (r < 0) {
                        cli_engine_error(&err, r);
                        if (!rm)
                                status = CLI_EXIT_ERROR;
                        else {
                                int s = r == -ENOENT  ? CLI_EXIT_FAILURE
                                        : r == -EBUSY ? CLI_EXIT_IN_USE
                                                      : CLI_EXIT_ERROR;
                                if (status == CLI_EXIT_OK || s == CLI_EXIT_ERROR)
                                        status = s;
                        }
                }
        }
        return status;
}

/* Parse the flags of the lifecycle commands; help goes to the local command (local_run). */
static int parse_each(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                      EachArgs *a) {
        char *end;
        long long v;
        int c;

        while ((c = cli_getopt(cli, argc, argv, shortopts, options)) >= 0) {
                switch (c) {
                case 'h':
                        return -1;
                case 'a':
                        a->all = true;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case 'v':
                        a->volumes = true;
                        break;
                case 'i':
                        a->ignore = true;
                        break;
                case 'l':
                        a->latest = true;
                        break;
                case 't':
                        v = strtoll(optarg, &end, 10);
                        if (end == optarg || *end || v < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"-t, --time\" flag", optarg);
                        a->timeout = v > INT32_MAX ? INT32_MAX : (int)v;
                        break;
                case 's':
                        a->signo = cli_parse_signal(optarg);
                        if (a->signo < 0)
                                return cli_error(CLI_EXIT_ERROR, "invalid signal: %s", optarg);
                        break;
                default:
                        break;
                }
        }
        return c == -2 ? CLI_EXIT_ERROR : 0;
}

#define REMOTE_EACH(fn_name, local_fn, shortopts, init, is_rm)               \
        static int fn_name(Cli *cli, int argc, char **argv) {                \
                static const struct option options[] = {                     \
                        {"all", no_argument, NULL, 'a'},                     \
                        {"ignore", no_argument, NULL, 'i'},                  \
                        {"time", required_argument, NULL, 't'},              \
                        {"latest", no_argument, NULL, 'l'},                  \
                        {"force", no_argument, NULL, 'f'},                   \
                        {"volumes", no_argument, NULL, 'v'},                 \
                        {"signal", required_argument, NULL, 's'},            \
                        {"help", no_argument, NULL, 'h'},                    \
                        {},                                                  \
                };                                                           \
                EachArgs a = init;                                           \
                int r = parse_each(cli, argc, argv, shortopts, options, &a); \
                if (r < 0) {                                                 \
                        optind = 0;                                          \
                        return local_fn(cli, argc, argv);                    \
                }                                                            \
                if (r > 0)                                                   \
                        return r;                                            \
                return run_each(cli, argc, argv, &a, is_rm);                 \
        }

REMOTE_EACH(remote_stop, cmd_stop, "ait:lh",
            ((EachArgs){.timeout = 10, .method = "StopContainer", .state = "running"}), false)
REMOTE_EACH(remote_kill, cmd_kill, "as:lh",
            ((EachArgs){.signo = SIGKILL, .method = "KillContainer", .state = "running"}), false)
REMOTE_EACH(remote_restart, cmd_restart, "at:lh",
            ((EachArgs){.timeout = 10, .method = "RestartContainer", .print_id = true}), false)
REMOTE_EACH(remote_pause, cmd_pause, "alh", ((EachArgs){.method = "PauseContainer", .state = "running"}),
            false)
REMOTE_EACH(remote_unpause, cmd_unpause, "alh",
            ((EachArgs){.method = "UnpauseContainer", .state = "paused"}), false)
REMOTE_EACH(remote_rm, cmd_rm, "afivt:lh", ((EachArgs){.timeout = 10, .method = "RemoveContainer"}), true)

static int remote_start(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"attach", no_argument, NULL, 'a'},      {"all", no_argument, NULL, 0x100},
                {"interactive", no_argument, NULL, 'i'}, {"detach-keys", required_argument, NULL, 0x101},
                {"help", no_argument, NULL, 'h'},        {},
        };
        EachArgs a = {.method = "StartContainer"};
        bool attach = false, interactive = false;
        const char *keys = NULL;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "aih", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                attach = attach || c == 'a';
                interactive = interactive || c == 'i';
                if (c == 0x101)
                        keys = optarg;
                if (c == 0x100) {
                        a.all = true;
                        a.state = "configured";
                }
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        attach = attach || interactive;
        if (attach) {
                if (cli_check_args(cli, argc - optind, a.all ? 0 : 1, a.all ? 0 : INT32_MAX) < 0)
                        return CLI_EXIT_ERROR;
                if (argc - optind != 1)
                        return cli_error(CLI_EXIT_ERROR,
                                         "you cannot start and attach multiple containers at once");
                return remote_attach(cli, argv[optind], true, interactive, -1, keys, true);
        }
        return run_each(cli, argc, argv, &a, false);
}

/* ---- wait ---- */

static int remote_wait(Cli *cli, int argc, char **argv) {
        enum { ARG_IGNORE = 0x100 };
        static const struct option options[] = {
                {"condition", required_argument, NULL, 'c'},
                {"interval", required_argument, NULL, 'n'},
                {"ignore", no_argument, NULL, ARG_IGNORE},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool ignore = false;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "c:i:lh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'c' && !streq(optarg, "stopped") && !streq(optarg, "exited"))
                        return cli_error(CLI_EXIT_ERROR,
                                         "wait --condition %s is not supported in remote mode yet", optarg);
                if (c == ARG_IGNORE)
                        ignore = true;
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", argv[i]), *reply = NULL;
                CpodError err = {};
                int r = params ? vl_json_object_set_int(params, "interval", 250) : -ENOMEM;
                if (r >= 0)
                        r = remote_call(cli, "WaitContainer", TAKE_PTR(params), &reply, &err);
                if (r == -ENOENT && ignore) {
                        printf("-1\n");
                        continue;
                }
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else
                        printf("%lld\n", (long long)vl_json_get_int(vl_json_object_get(reply, "exitcode")));
        }
        return status;
}

/* ---- logs ---- */

static void format_log_time(int64_t ns, char *buf, size_t n) {
        time_t secs = (time_t)(ns / 1000000000);
        struct tm tm;
        char date[40], zone[16];
        long off;

        localtime_r(&secs, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        off = tm.tm_gmtoff;
        if (off == 0)
                snprintf(zone, sizeof(zone), "Z");
        else
                snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+',
                         (int)(labs(off) / 3600 % 100), (int)(labs(off) % 3600 / 60));
        snprintf(buf, n, "%s.%09lld%s", date, (long long)(ns % 1000000000), zone);
}

static int print_log(const VlJson *line, const char *prefix, bool timestamps) {
        const char *device = vl_json_get_string(vl_json_object_get(line, "device"));
        const char *type = vl_json_get_string(vl_json_object_get(line, "parseLogType"));
        const char *time_s = vl_json_get_string(vl_json_object_get(line, "time"));
        const VlJson *msg = vl_json_object_get(line, "msg");
        FILE *f = streq_ptr(device, "stderr") ? stderr : stdout;

        if (!type || !*type) /* the empty line that ends the stream */
                return 0;
        if (f == stderr)
                fflush(stdout);
        fputs(prefix, f);
        if (timestamps) {
                int64_t sec = 0;
                int32_t nsec = 0;
                char ts[96];
                (void)rfc3339_parse(time_s ?: "", &sec, &nsec);
                format_log_time(sec * 1000000000 + nsec, ts, sizeof(ts));
                fprintf(f, "%s ", ts);
        }
        fwrite(vl_json_get_string(msg) ?: "", 1, vl_json_get_string_length(msg), f);
        if (!streq(type, "P"))
                fputc('\n', f);
        fflush(f);
        return ferror(f) ? -EPIPE : 0;
}

static int logs_one(Cli *cli, const char *ref, bool follow, int64_t tail, const char *since, bool timestamps,
                    const char *prefix, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *names = vl_json_new_array();
        VlClient *c = remote_client(cli);
        const char *error = NULL;
        bool more = true;
        int r;

        if (!c)
                return cpod_error(err, ECONNREFUSED, "no connection to the service");
        if (!params || !names || vl_json_array_append(names, vl_json_new_string(ref)) < 0 ||
            vl_json_object_set(params, "names", TAKE_PTR(names)) < 0 ||
            vl_json_object_set_bool(params, "follow", follow) < 0 ||
            vl_json_object_set_bool(params, "latest", false) < 0 ||
            vl_json_object_set_string(params, "since", since ?: "") < 0 ||
            vl_json_object_set_int(params, "tail", tail) < 0 ||
            vl_json_object_set_bool(params, "timestamps", timestamps) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        for (bool first = true; more; first = false) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                if (first) {
                        r = vl_client_call(c, IFACE "GetContainersLogs", params, VL_CALL_MORE, &reply,
                                           &error);
                        more = r >= 0 && vl_client_continues(c);
                } else
                        r = vl_client_next(c, &reply, &error, &more);
                if (r < 0)
                        return cpod_error(err, -r, "reading the logs: %s", strerror(-r));
                if (error) {
                        const char *reason = vl_json_get_string(vl_json_object_get(reply, "reason"));
                        return cpod_error(err, error_code(error), "%s", reason ?: error);
                }
                r = print_log(vl_json_object_get(reply, "log"), prefix, timestamps);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int remote_logs(Cli *cli, int argc, char **argv) {
        enum { ARG_SINCE = 0x100, ARG_UNTIL, ARG_TAIL };
        static const struct option options[] = {
                {"follow", no_argument, NULL, 'f'},
                {"names", no_argument, NULL, 'n'},
                {"since", required_argument, NULL, ARG_SINCE},
                {"until", required_argument, NULL, ARG_UNTIL},
                {"tail", required_argument, NULL, ARG_TAIL},
                {"timestamps", no_argument, NULL, 't'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool follow = false, names = false, timestamps = false;
        const char *since = NULL;
        int64_t tail = -1;
        int c, status = CLI_EXIT_OK;
        char *end;

        while ((c = cli_getopt(cli, argc, argv, "fntlh", options)) >= 0) {
                switch (c) {
                case 'h':
                        return remote_local_help(cli, argc, argv);
                case 'f':
                        follow = true;
                        break;
                case 'n':
                        names = true;
                        break;
                case 't':
                        timestamps = true;
                        break;
                case ARG_SINCE:
                        since = optarg;
                        break;
                case ARG_UNTIL:
                        return cli_error(CLI_EXIT_ERROR, "logs --until is not supported in remote mode yet");
                case ARG_TAIL:
                        tail = strtoll(optarg, &end, 10);
                        if (end == optarg || *end)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--tail\" flag", optarg);
                        if (tail < 0)
                                tail = -1;
                        break;
                case 'l':
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                char prefix[80] = "";
                CpodError err = {};
                int r;

                if (names || argc - optind > 1) {
                        r = remote_call(cli, "GetContainer", remote_params1("id", argv[i]), &reply, &err);
                        if (r < 0) {
                                status = cli_engine_error(&err, -ENOENT);
                                continue;
                        }
                        const VlJson *ctr = vl_json_object_get(reply, "container");
                        snprintf(prefix, sizeof(prefix), "%.12s ",
                                 vl_json_get_string(vl_json_object_get(ctr, names ? "names" : "id")) ?: "");
                }
                r = logs_one(cli, argv[i], follow, tail, since, timestamps, prefix, &err);
                if (r < 0 && r != -EPIPE)
                        status = cli_engine_error(&err, r);
        }
        return status;
}

/* ---- the command table ---- */

static const RemoteCommand remote_commands[] = {
        {"version", remote_version},
        {"images", remote_images},
        {"image ls", remote_images},
        {"image list", remote_images},
        {"inspect", remote_inspect},
        {"image inspect", remote_image_inspect},
        {"container inspect", remote_container_inspect},
        {"history", remote_history},
        {"image history", remote_history},
        {"tag", remote_tag},
        {"image tag", remote_tag},
        {"untag", remote_untag},
        {"image untag", remote_untag},
        {"rmi", remote_rmi},
        {"image rm", remote_rmi},
        {"ps", remote_ps},
        {"container ls", remote_ps},
        {"container list", remote_ps},
        {"container ps", remote_ps},
        {"create", remote_create},
        {"container create", remote_create},
        {"run", remote_run_command},
        {"container run", remote_run_command},
        {"start", remote_start},
        {"container start", remote_start},
        {"stop", remote_stop},
        {"container stop", remote_stop},
        {"kill", remote_kill},
        {"container kill", remote_kill},
        {"restart", remote_restart},
        {"container restart", remote_restart},
        {"pause", remote_pause},
        {"container pause", remote_pause},
        {"unpause", remote_unpause},
        {"container unpause", remote_unpause},
        {"rm", remote_rm},
        {"container rm", remote_rm},
        {"wait", remote_wait},
        {"container wait", remote_wait},
        {"logs", remote_logs},
        {"container logs", remote_logs},
        {},
};

int remote_run(Cli *cli, int argc, char **argv) {
        const char *path = startswith(cli->path, "cpod ") ?: cli->path;

        static const RemoteCommand *const tables[] = {
                remote_commands,         remote_container_commands,
                remote_image_commands,   remote_pod_volume_commands,
                remote_network_commands, remote_system_commands,
        };

        for (size_t t = 0; t < ELEMENTSOF(tables); t++)
                for (const RemoteCommand *c = tables[t]; c->path; c++)
                        if (streq(c->path, path))
                                return c->run(cli, argc, argv);
        /* help needs no service */
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h")))
                return cli->command->run(cli, argc, argv);
        if (streq(path, "varlink") || streq(path, "system service"))
                return cli_error(CLI_EXIT_ERROR,
                                 "cpod %s serves the local store and cannot run in remote mode", path);
        return cli_error(CLI_EXIT_ERROR, "command %s is not supported in remote mode yet", path);
}
