/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod pod …: podman's pod commands over the engine's pod functions (pod.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd-container.h"
#include "cmd-pod.h"
#include "output.h"
#include "pod.h"

static int cmd_pod_create(Cli *cli, int argc, char **argv);
static int cmd_pod_exists(Cli *cli, int argc, char **argv);
static int cmd_pod_inspect(Cli *cli, int argc, char **argv);
static int cmd_pod_kill(Cli *cli, int argc, char **argv);
static int cmd_pod_pause(Cli *cli, int argc, char **argv);
static int cmd_pod_prune(Cli *cli, int argc, char **argv);
static int cmd_pod_ps(Cli *cli, int argc, char **argv);
static int cmd_pod_restart(Cli *cli, int argc, char **argv);
static int cmd_pod_rm(Cli *cli, int argc, char **argv);
static int cmd_pod_start(Cli *cli, int argc, char **argv);
static int cmd_pod_stats(Cli *cli, int argc, char **argv);
static int cmd_pod_stop(Cli *cli, int argc, char **argv);
static int cmd_pod_top(Cli *cli, int argc, char **argv);
static int cmd_pod_unpause(Cli *cli, int argc, char **argv);

const CliCommand cli_pod_commands[] = {
        {"create", "[options] [NAME]", "Create a new empty pod", cmd_pod_create, NULL},
        {"exists", "POD", "Check if a pod exists in local storage", cmd_pod_exists, NULL},
        {"inspect", "[options] POD [POD...]", "Displays a pod configuration", cmd_pod_inspect, NULL},
        {"kill", "[options] POD [POD...]", "Send the specified signal or SIGKILL to containers in pod",
         cmd_pod_kill, NULL},
        {"list", "[options]", "List pods", cmd_pod_ps, NULL},
        {"ls", "[options]", "List pods", cmd_pod_ps, NULL},
        {"pause", "[options] POD [POD...]", "Pause one or more pods", cmd_pod_pause, NULL},
        {"prune", "[options]", "Remove all stopped pods and their containers", cmd_pod_prune, NULL},
        {"ps", "[options]", "List pods", cmd_pod_ps, NULL},
        {"restart", "[options] POD [POD...]", "Restart one or more pods", cmd_pod_restart, NULL},
        {"rm", "[options] POD [POD...]", "Remove one or more stopped pods and containers", cmd_pod_rm, NULL},
        {"start", "[options] POD [POD...]", "Start one or more pods", cmd_pod_start, NULL},
        {"stats", "[options] [POD...]",
         "Display a live stream of resource usage statistics for the "
         "containers in one or more pods",
         cmd_pod_stats, NULL},
        {"stop", "[options] POD [POD...]", "Stop one or more pods", cmd_pod_stop, NULL},
        {"top", "[options] POD [FORMAT-DESCRIPTORS|ARGS...]",
         "Display the running processes of containers in "
         "a pod",
         cmd_pod_top, NULL},
        {"unpause", "[options] POD [POD...]", "Unpause one or more pods", cmd_pod_unpause, NULL},
        {},
};

/* ---- create ---- */

static const char create_text[] =
        "      --hostname string      Set container hostname\n"
        "      --infra-image string   Image to use to override builtin infra container\n"
        "  -l, --label stringArray    Set metadata on pod (default [])\n"
        "      --name string          Assign a name to the pod\n"
        "      --network string       Connect the pod to a network (none, host)\n"
        "  -p, --publish strings      Publish a container's port, or a range of ports, to the host\n"
        "      --share string         A comma delimited list of kernel namespaces the pod will share "
        "(default \"ipc,net,uts\")\n";

static int cmd_pod_create(Cli *cli, int argc, char **argv) {
        enum {
                ARG_NAME = 0x100,
                ARG_INFRA_IMAGE,
                ARG_SHARE,
                ARG_NETWORK,
                ARG_HOSTNAME,
                ARG_INFRA,
                ARG_IGNORED
        };
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
        PodCreateOptions o = {};
        CpodError err = {};
        char id[65];
        Engine *e;
        int c, r = 0;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "l:p:h", options)) >= 0) {
                switch (c) {
                case 'h':
                        cli_command_help(cli, create_text);
                        r = -1;
                        break;
                case ARG_NAME:
                        o.name = optarg;
                        break;
                case ARG_INFRA_IMAGE:
                        o.infra_image = optarg;
                        break;
                case ARG_SHARE:
                        o.share = optarg;
                        break;
                case ARG_NETWORK:
                        o.network = optarg;
                        break;
                case ARG_HOSTNAME:
                        o.hostname = optarg;
                        break;
                case ARG_INFRA:
                        if (!streq(optarg, "true"))
                                r = cli_error(-ENOTSUP, "pods without an infra container are not supported");
                        break;
                case 'l':
                        r = strv_push(&o.labels, &o.n_labels, optarg);
                        break;
                case 'p':
                        r = strv_push(&o.publish, &o.n_publish, optarg);
                        break;
                }
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 1) < 0))
                r = -EINVAL;
        if (r >= 0 && optind < argc) {
                if (o.name)
                        r = cli_error(-EINVAL, "cannot specify --name and a positional pod name");
                o.name = argv[optind];
        }
        if (r >= 0 && !(e = cli_engine(cli)))
                r = -EIO;
        if (r >= 0 && (r = pod_create(e, &o, id, &err)) < 0)
                cli_engine_error(&err, r);
        else if (r >= 0)
                puts(id);
        strv_free_n(o.labels, o.n_labels);
        strv_free_n(o.publish, o.n_publish);
        return r == -1 ? CLI_EXIT_OK : r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- exists, inspect ---- */

static int cmd_pod_exists(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = pod_exists(e, argv[optind], &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        return r > 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int cmd_pod_inspect(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                                {"latest", no_argument, NULL, 'l'},
                                                {"help", no_argument, NULL, 'h'},
                                                {}};
        _cleanup_(vl_json_unrefp) VlJson *items = vl_json_new_array();
        const char *format = NULL;
        int status = CLI_EXIT_OK;
        Engine *e;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "f:lh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --format string   Format the output to a Go "
                                                     "template or json (default \"json\")\n");
                if (c == 'f')
                        format = optarg;
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!items)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                VlJson *d = NULL;
                int r = pod_inspect(e, argv[i], &d, &err);
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else
                        vl_json_array_append(items, d);
        }
        return cli_pod_print_inspect(format, items, status);
}

int cli_pod_print_inspect(const char *format, const VlJson *items, int status) {
        if (vl_json_array_length(items) == 0)
                return status;
        Output out = {.format = format && !output_is_json(format) ? format : NULL};
        if (out.format) {
                CpodError err = {};
                static const OutputColumn none[] = {{}};
                int r = output_print(&out, none, items, NULL, &err);
                return r < 0 ? cli_engine_error(&err, r) : status;
        }
        /* podman prints one object for one pod, an array for several */
        output_json(vl_json_array_length(items) == 1 ? vl_json_array_get(items, 0) : items, 4);
        fputc('\n', stdout);
        return status;
}

/* ---- lifecycle: start, stop, restart, kill, pause, unpause, rm ---- */

typedef enum PodVerb {
        VERB_START,
        VERB_STOP,
        VERB_RESTART,
        VERB_KILL,
        VERB_PAUSE,
        VERB_UNPAUSE,
        VERB_RM
} PodVerb;

typedef struct PodVerbArgs {
        PodVerb verb;
        int timeout, signo;
        bool force, all, ignore;
} PodVerbArgs;

static int pod_verb_one(Engine *e, const PodVerbArgs *a, const char *ref, char id[65], CpodError *err) {
        Pod p = {};
        int r = pod_get(e, ref, &p, err);
        if (r < 0)
                return r;
        snprintf(id, 65, "%s", p.id);
        pod_done(&p);
        switch (a->verb) {
        case VERB_START:
                return pod_start(e, id, err);
        case VERB_STOP:
                return pod_stop(e, id, a->timeout, err);
        case VERB_RESTART:
                return pod_restart(e, id, err);
        case VERB_KILL:
                return pod_kill(e, id, a->signo, err);
        case VERB_PAUSE:
                return pod_pause(e, id, err);
        case VERB_UNPAUSE:
                return pod_unpause(e, id, err);
        case VERB_RM:
                return pod_remove(e, id, a->force, NULL, err);
        }
        return -EINVAL;
}

static int pod_verb_run(Cli *cli, PodVerbArgs *a, char **refs, int n) {
        Engine *e = cli_engine(cli);
        Pod *pods = NULL;
        size_t np = 0;
        int status = CLI_EXIT_OK;
        CpodError err = {};
        if (!e)
                return CLI_EXIT_ERROR;
        if (a->all) {
                int r = pod_list(e, &pods, &np, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        for (size_t i = 0; i < (a->all ? np : (size_t)n); i++) {
                char id[65];
                cpod_error_clear(&err);
                int r = pod_verb_one(e, a, a->all ? pods[i].id : refs[i], id, &err);
                if (r == -ENOENT && a->ignore)
                        continue;
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else
                        puts(id);
        }
        pod_array_free(pods, np);
        return status;
}

static const char *pod_verb_help(PodVerb verb) {
        switch (verb) {
        case VERB_RM:
                return "  -a, --all      Remove all pods\n"
                       "  -f, --force    Stop and remove running pods and their containers\n"
                       "  -i, --ignore   Ignore pods that do not exist\n";
        case VERB_STOP:
                return "  -a, --all      Stop all pods\n"
                       "  -i, --ignore   Ignore pods that do not exist\n"
                       "  -t, --time N   Seconds to wait for each container to stop before killing it\n";
        case VERB_KILL:
                return "  -a, --all           Kill all pods\n"
                       "  -i, --ignore        Ignore pods that do not exist\n"
                       "  -s, --signal SIGNAL Signal to send to the containers (default KILL)\n";
        default:
                return "  -a, --all      Act on all pods\n"
                       "  -i, --ignore   Ignore pods that do not exist\n";
        }
}

static int pod_verb(Cli *cli, int argc, char **argv, PodVerb verb) {
        enum { ARG_IGNORE = 0x100 };
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
        PodVerbArgs a = {.verb = verb, .timeout = -1, .signo = 9};
        int c;

        while ((c = cli_getopt(cli, argc, argv, "aft:s:ilh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, pod_verb_help(verb));
                if (c == 'a')
                        a.all = true;
                else if (c == 'f' && verb == VERB_RM)
                        a.force = true;
                else if (c == 'i')
                        a.ignore = true;
                else if (c == 't' && verb == VERB_STOP)
                        a.timeout = atoi(optarg);
                else if (c == 's' && verb == VERB_KILL && (a.signo = cli_parse_signal(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "invalid signal: %s", optarg);
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
                else if (c != 'a' && c != 'i' && !(c == 's' && verb == VERB_KILL) &&
                         !(c == 't' && verb == VERB_STOP) && !(c == 'f' && verb == VERB_RM))
                        return cli_error(CLI_EXIT_ERROR, "unknown flag for %s", cli->path);
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (!a.all && argc - optind < 1)
                return cli_error(CLI_EXIT_ERROR, "you must provide at least one name or id");
        if (a.all && argc - optind > 0)
                return cli_error(CLI_EXIT_ERROR,
                                 "when using the --all switch, you may not pass any pod names "
                                 "or IDs");
        return pod_verb_run(cli, &a, argv + optind, argc - optind);
}

static int cmd_pod_start(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_START);
}
static int cmd_pod_stop(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_STOP);
}
static int cmd_pod_restart(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_RESTART);
}
static int cmd_pod_kill(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_KILL);
}
static int cmd_pod_pause(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_PAUSE);
}
static int cmd_pod_unpause(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_UNPAUSE);
}
static int cmd_pod_rm(Cli *cli, int argc, char **argv) {
        return pod_verb(cli, argc, argv, VERB_RM);
}

static int cmd_pod_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        char **ids = NULL;
        size_t n = 0;
        Engine *e;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --force   Do not prompt for confirmation\n");
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        int r = pod_prune(e, &ids, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++)
                puts(ids[i]);
        strv_free_n(ids, n);
        return CLI_EXIT_OK;
}

/* ---- ps ---- */

static const OutputColumn ps_columns[] = {
        {"ID", "POD ID"},
        {"Name", "NAME"},
        {"Status", "STATUS"},
        {"Created", "CREATED"},
        {"InfraID", "INFRA ID"},
        {"ContainerNames", "NAMES"},
        {"ContainerStatuses", "STATUS"},
        {"NumberOfContainers", "# OF CONTAINERS"},
        {"Labels", "LABELS", true},
        {"Networks", "NETWORKS", true},
        {"ContainerIds", "IDS", true},
        {},
};

static bool has_label(const Pod *p, const char *want) {
        size_t kl = strcspn(want, "=");
        for (size_t i = 0; i < p->n_labels; i++)
                if (want[kl] ? streq(p->labels[i], want)
                             : strncmp(p->labels[i], want, kl) == 0 && p->labels[i][kl] == '=')
                        return true;
        return false;
}

static bool ps_match(const PodPsArgs *a, const Pod *p, const char *status) {
        for (size_t i = 0; i < a->n_filters; i++) {
                const char *f = a->filters[i], *v;
                bool ok = (v = startswith(f, "name="))     ? strstr(p->name, v) != NULL
                          : (v = startswith(f, "id="))     ? startswith(p->id, v) != NULL
                          : (v = startswith(f, "status=")) ? strcasecmp(status, v) == 0
                          : (v = startswith(f, "label="))  ? has_label(p, v)
                                                           : false;
                if (!ok)
                        return false;
        }
        return true;
}

/* Comma-joined member fields for the ps columns. */
static char *join_members(const Container *c, size_t n, int what, bool no_trunc) {
        VlBuf b = VL_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
                char id[65];
                const char *s = what == 0   ? c[i].name
                                : what == 1 ? container_state_name(c[i].state)
                                            : output_id(c[i].id, no_trunc, id, sizeof id);
                if ((i > 0 && vl_buf_append_char(&b, ',') < 0) || vl_buf_append_str(&b, s) < 0) {
                        vl_buf_free(&b);
                        return NULL;
                }
        }
        if (vl_buf_append_char(&b, 0) < 0) {
                vl_buf_free(&b);
                return NULL;
        }
        return b.data;
}

static int ps_row(const PodPsArgs *a, const Pod *p, const Container *c, size_t n, VlJson *rows,
                  VlJson *items) {
        char id[65], infra[65], since[64], created[64], num[16];
        _cleanup_free_ char *names = join_members(c, n, 0, a->no_trunc),
                            *states = join_members(c, n, 1, false),
                            *ids = join_members(c, n, 2, a->no_trunc);
        VlJson *row = vl_json_new_object(), *it = vl_json_new_object(), *cs = vl_json_new_array(),
               *labels = vl_json_new_object();
        const char *status = pod_status(c, n);
        snprintf(num, sizeof num, "%zu", n);
        time_t t = (time_t)p->created;
        struct tm tm;
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        int r = row && it && cs && labels && names && states && ids ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < p->n_labels; i++) {
                const char *eq = strchr(p->labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(p->labels[i], eq ? (size_t)(eq - p->labels[i]) : strlen(p->labels[i]));
                r = k ? vl_json_object_set_string(labels, k, eq ? eq + 1 : "") : -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                VlJson *o = vl_json_new_object();
                r = o ? 0 : -ENOMEM;
                r = r < 0 ? r : vl_json_object_set_string(o, "Id", c[i].id);
                r = r < 0 ? r : vl_json_object_set_string(o, "Names", c[i].name);
                r = r < 0 ? r : vl_json_object_set_string(o, "Status", container_state_name(c[i].state));
                r = r < 0 ? (vl_json_unref(o), r) : vl_json_array_append(cs, o);
        }
        r = r < 0 ? r : vl_json_object_set_string(row, "ID", output_id(p->id, a->no_trunc, id, sizeof id));
        r = r < 0 ? r : vl_json_object_set_string(row, "Name", p->name);
        r = r < 0 ? r : vl_json_object_set_string(row, "Status", status);
        r = r < 0 ? r
                  : vl_json_object_set_string(row, "Created", output_since(p->created, since, sizeof since));
        r = r < 0 ? r
                  : vl_json_object_set_string(row, "InfraID",
                                              output_id(p->infra_id, a->no_trunc, infra, sizeof infra));
        r = r < 0 ? r : vl_json_object_set_string(row, "NumberOfContainers", num);
        r = r < 0 ? r : vl_json_object_set_string(row, "ContainerNames", names);
        r = r < 0 ? r : vl_json_object_set_string(row, "ContainerStatuses", states);
        r = r < 0 ? r : vl_json_object_set_string(row, "ContainerIds", ids);
        r = r < 0 ? r : vl_json_object_set_string(row, "Networks", p->network);
        r = r < 0 ? r : vl_json_object_set(row, "Labels", vl_json_copy(labels));
        r = r < 0 ? r : vl_json_object_set_string(it, "Cgroup", "");
        r = r < 0 ? r : vl_json_object_set(it, "Containers", TAKE_PTR(cs));
        r = r < 0 ? r : vl_json_object_set_string(it, "Created", created);
        r = r < 0 ? r : vl_json_object_set_string(it, "Id", p->id);
        r = r < 0 ? r : vl_json_object_set_string(it, "InfraId", p->infra_id);
        r = r < 0 ? r : vl_json_object_set_string(it, "Name", p->name);
        r = r < 0 ? r : vl_json_object_set_string(it, "Namespace", "");
        r = r < 0 ? r : vl_json_object_set(it, "Networks", vl_json_new_array());
        r = r < 0 ? r : vl_json_object_set_string(it, "Status", status);
        r = r < 0 ? r : vl_json_object_set(it, "Labels", TAKE_PTR(labels));
        r = r < 0 ? r : vl_json_array_append(rows, TAKE_PTR(row));
        r = r < 0 ? r : vl_json_array_append(items, TAKE_PTR(it));
        vl_json_unref(row);
        vl_json_unref(it);
        vl_json_unref(cs);
        vl_json_unref(labels);
        return r;
}

int cli_pod_ps_add(const PodPsArgs *a, const Pod *p, const Container *c, size_t n, VlJson *rows,
                   VlJson *items) {
        if (!ps_match(a, p, pod_status(c, n)))
                return 0;
        if (a->quiet) {
                char id[65];
                puts(output_id(p->id, a->no_trunc, id, sizeof id));
                return 0;
        }
        return ps_row(a, p, c, n, rows, items);
}

int cli_pod_ps_print(const PodPsArgs *a, const VlJson *rows, const VlJson *items) {
        OutputColumn cols[ELEMENTSOF(ps_columns)];
        CpodError err = {};
        size_t k = 0;

        if (a->quiet)
                return CLI_EXIT_OK;
        for (size_t i = 0; i < ELEMENTSOF(ps_columns); i++) {
                cols[k] = ps_columns[i];
                if (streq_ptr(cols[k].field, "ContainerNames"))
                        cols[k].hidden = !a->ctr_names;
                if (streq_ptr(cols[k].field, "ContainerStatuses"))
                        cols[k].hidden = !a->ctr_status;
                if (streq_ptr(cols[k].field, "ContainerIds"))
                        cols[k].hidden = !a->ctr_ids;
                k++;
        }
        int r = output_print(&a->out, cols, rows, items, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int ps_print(Engine *e, PodPsArgs *a) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array(), *items = vl_json_new_array();
        CpodError err = {};
        Pod *pods = NULL;
        size_t n = 0;
        int r = rows && items ? pod_list(e, &pods, &n, &err) : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                Container *c = NULL;
                size_t nc = 0;
                r = pod_containers(e, &pods[i], &c, &nc, &err);
                if (r >= 0)
                        r = cli_pod_ps_add(a, &pods[i], c, nc, rows, items);
                container_array_free(c, nc);
        }
        pod_array_free(pods, n);
        if (r < 0)
                return cli_engine_error(&err, r);
        return cli_pod_ps_print(a, rows, items);
}

int cli_pod_ps_parse(Cli *cli, int argc, char **argv, PodPsArgs *a) {
        enum { ARG_FORMAT = 0x100, ARG_NAMES, ARG_STATUS, ARG_IDS, ARG_NO_TRUNC, ARG_NOHEADING };
        static const struct option options[] = {
                {"format", required_argument, NULL, ARG_FORMAT},
                {"filter", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"ctr-names", no_argument, NULL, ARG_NAMES},
                {"ctr-status", no_argument, NULL, ARG_STATUS},
                {"ctr-ids", no_argument, NULL, ARG_IDS},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"noheading", no_argument, NULL, ARG_NOHEADING},
                {"namespace", no_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        *a = (PodPsArgs){};
        while ((c = cli_getopt(cli, argc, argv, "f:qnh", options)) >= 0) {
                if (c == 'h') {
                        cli_command_help(cli, "      --ctr-names       Display the container names\n"
                                              "      --ctr-status      Display the container status\n"
                                              "  -f, --filter strings  Filter output based on conditions "
                                              "given\n      --format string   Pretty-print pods to JSON or "
                                              "using a Go template\n  -q, --quiet           Print the "
                                              "numeric IDs of the pods only\n");
                        return -1;
                }
                a->out.format = c == ARG_FORMAT ? optarg : a->out.format;
                a->quiet |= c == 'q';
                a->ctr_names |= c == ARG_NAMES;
                a->ctr_status |= c == ARG_STATUS;
                a->ctr_ids |= c == ARG_IDS;
                a->no_trunc |= c == ARG_NO_TRUNC;
                a->out.noheading |= c == ARG_NOHEADING;
                if (c == 'f' && strv_push(&a->filters, &a->n_filters, optarg) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

static int cmd_pod_ps(Cli *cli, int argc, char **argv) {
        PodPsArgs a;
        Engine *e;
        int r = cli_pod_ps_parse(cli, argc, argv, &a);

        if (r == 0)
                r = (e = cli_engine(cli)) ? ps_print(e, &a) : CLI_EXIT_ERROR;
        strv_free_n(a.filters, a.n_filters);
        return r < 0 ? CLI_EXIT_OK : r;
}

/* ---- top, stats ---- */

static int cmd_pod_top(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"latest", no_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        Pod p = {};
        Container *ctrs = NULL;
        size_t n = 0;
        VlBuf b = VL_BUF_INIT;
        bool header = false;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "+lh", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = pod_get(e, argv[optind], &p, &err);
        if (r >= 0)
                r = pod_containers(e, &p, &ctrs, &n, &err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char **hdr = NULL, ***rows = NULL;
                size_t ncols = 0, nrows = 0;
                if (ctrs[i].state != CONTAINER_RUNNING ||
                    container_top(e, ctrs[i].id, &hdr, &ncols, &rows, &nrows, &err) < 0)
                        continue;
                for (size_t k = 0; !header && k < ncols; k++)
                        r = r < 0 ? r
                            : vl_buf_append_str(&b, hdr[k]) < 0
                                    ? -ENOMEM
                                    : vl_buf_append_char(&b, k + 1 < ncols ? '\t' : '\n');
                header = true;
                for (size_t j = 0; r >= 0 && j < nrows; j++)
                        for (size_t k = 0; r >= 0 && k < ncols; k++)
                                r = vl_buf_append_str(&b, rows[j][k] ?: "") < 0
                                            ? -ENOMEM
                                            : vl_buf_append_char(&b, k + 1 < ncols ? '\t' : '\n');
                for (size_t j = 0; j < nrows; j++) {
                        for (size_t k = 0; k < ncols; k++)
                                free(rows[j][k]);
                        free(rows[j]);
                }
                free(rows);
                for (size_t k = 0; k < ncols; k++)
                        free(hdr[k]);
                free(hdr);
        }
        if (r >= 0 && !header)
                r = cpod_error(&err, EINVAL, "no containers in pod %s are running", p.name ?: argv[optind]);
        if (r >= 0)
                output_table_text(b.data, b.len);
        vl_buf_free(&b);
        container_array_free(ctrs, n);
        pod_done(&p);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

int cli_pod_stats_line(VlBuf *b, const char *pod_id, const char *ctr_id, const char *name,
                       double cpu_percent, uint64_t mem_usage, uint64_t mem_limit, uint64_t pids) {
        char line[512], u[32], l[32];

        snprintf(line, sizeof line, "%.12s\t%.12s\t%s\t%.2f%%\t%s / %s\t%llu\n", pod_id, ctr_id, name,
                 cpu_percent, output_size(mem_usage, 4, false, u, sizeof u),
                 output_size(mem_limit, 4, false, l, sizeof l), (unsigned long long)pids);
        return vl_buf_append_str(b, line);
}

static int cmd_pod_stats(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"all", no_argument, NULL, 'a'},
                                                {"no-stream", no_argument, NULL, 0x100},
                                                {"format", required_argument, NULL, 0x101},
                                                {"help", no_argument, NULL, 'h'},
                                                {}};
        CpodError err = {};
        Pod *pods = NULL;
        size_t np = 0;
        VlBuf b = VL_BUF_INIT;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "ah", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "  -a, --all    Provide stats for all pods\n"
                                                     "      --no-stream   Disable streaming stats\n");
        if (c == -2 || !(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = pod_list(e, &pods, &np, &err);
        r = r < 0 ? r : vl_buf_append_str(&b, "POD\tCID\tNAME\tCPU %\tMEM USAGE / LIMIT\tPIDS\n");
        for (size_t i = 0; r >= 0 && i < np; i++) {
                bool wanted = argc == optind;
                for (int k = optind; k < argc; k++)
                        wanted |= streq(argv[k], pods[i].name) || startswith(pods[i].id, argv[k]);
                Container *ctrs = NULL;
                size_t n = 0;
                if (!wanted || pod_containers(e, &pods[i], &ctrs, &n, &err) < 0)
                        continue;
                for (size_t k = 0; r >= 0 && k < n; k++) {
                        ContainerStats s = {};
                        if (ctrs[k].state != CONTAINER_RUNNING ||
                            container_stats(e, ctrs[k].id, &s, &err) < 0)
                                continue;
                        r = cli_pod_stats_line(&b, pods[i].id, ctrs[k].id, ctrs[k].name, s.cpu_percent,
                                               s.mem_usage, s.mem_limit, s.pids);
                        free(s.name);
                }
                container_array_free(ctrs, n);
        }
        if (r >= 0)
                output_table_text(b.data, b.len);
        vl_buf_free(&b);
        pod_array_free(pods, np);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
