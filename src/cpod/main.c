/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "cmd-pod.h"
#include "cmd-network.h"
#include "cmd-volume.h"
#include "cmd-registry.h"
#include "remote.h"
#include "service.h"
#include "remote-ext.h"

static const CliCommand top_commands[] = {
        {"attach", "[options] CONTAINER", "Attach to a running container", cmd_attach, NULL},
        {"commit", "[options] CONTAINER [IMAGE]", "Create new image based on the changed container",
         cmd_commit, NULL},
        {"container", "", "Manage containers", NULL, cli_container_commands},
        {"cp", "[options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
         "Copy files/folders between a container and the local filesystem", cmd_cp, NULL},
        {"create", "[options] IMAGE [COMMAND [ARG...]]", "Create but do not start a container", cmd_create,
         NULL},
        {"diff", "[options] CONTAINER", "Display the changes to the object's file system", cmd_diff, NULL},
        {"events", "[options]", "Show cpod events", cmd_events, NULL},
        {"exec", "[options] CONTAINER COMMAND [ARG...]", "Run a process in a running container", cmd_exec,
         NULL},
        {"export", "[options] CONTAINER", "Export container's filesystem contents as a tar archive",
         cmd_export, NULL},
        {"generate", "", "Generate structured data based on containers and pods", NULL,
         cli_generate_commands},
        {"history", "[options] IMAGE", "Show history of a specified image", cmd_history, NULL},
        {"image", "", "Manage images", NULL, cli_image_commands},
        {"images", "[options] [IMAGE]", "List images in local storage", cmd_images, NULL},
        {"import", "[options] PATH [REFERENCE]", "Import a tarball to create a filesystem image", cmd_import,
         NULL},
        {"info", "[options]", "Display cpod system information", cmd_info, NULL},
        {"inspect", "[options] {CONTAINER|IMAGE} [...]", "Display the configuration of object denoted by ID",
         cmd_inspect, NULL},
        {"kill", "[options] CONTAINER [CONTAINER...]",
         "Kill one or more running containers with a specific "
         "signal",
         cmd_kill, NULL},
        {"load", "[options]", "Load image(s) from a tar archive", cmd_load, NULL},
        {"login", "[options] REGISTRY", "Log in to a container registry", cmd_login, NULL},
        {"logout", "[options] REGISTRY", "Log out of a container registry", cmd_logout, NULL},
        {"logs", "[options] CONTAINER [CONTAINER...]", "Fetch the logs of one or more containers", cmd_logs,
         NULL},
        {"manifest", "", "Manipulate manifest lists and image indexes", NULL, cli_manifest_commands},
        {"mount", "[options] [CONTAINER...]", "Mount a working container's root filesystem", cmd_mount,
         NULL},
        {"network", "", "Manage networks", NULL, cli_network_commands},
        {"pause", "[options] CONTAINER [CONTAINER...]", "Pause all the processes in one or more containers",
         cmd_pause, NULL},
        {"play", "", "Play containers, pods or volumes from a structured file", NULL, cli_play_commands},
        {"pod", "", "Manage pods", NULL, cli_pod_commands},
        {"port", "[options] CONTAINER [PORT]", "List port mappings or a specific mapping for the container",
         cmd_port, NULL},
        {"ps", "[options]", "List containers", cmd_ps, NULL},
        {"pull", "[options] IMAGE [IMAGE...]", "Pull an image from a registry", cmd_pull, NULL},
        {"push", "[options] IMAGE [DESTINATION]", "Push an image to a specified destination", cmd_push,
         NULL},
        {"rename", "CONTAINER NAME", "Rename an existing container", cmd_rename, NULL},
        {"restart", "[options] CONTAINER [CONTAINER...]", "Restart one or more containers", cmd_restart,
         NULL},
        {"rm", "[options] CONTAINER [CONTAINER...]", "Remove one or more containers", cmd_rm, NULL},
        {"rmi", "[options] IMAGE [IMAGE...]", "Removes one or more images from local storage", cmd_rmi,
         NULL},
        {"run", "[options] IMAGE [COMMAND [ARG...]]", "Run a command in a new container", cmd_run, NULL},
        {"save", "[options] IMAGE [IMAGE...]", "Save image(s) to an archive", cmd_save, NULL},
        {"search", "[options] TERM", "Search registry for image", cmd_search, NULL},
        {"start", "[options] CONTAINER [CONTAINER...]", "Start one or more containers", cmd_start, NULL},
        {"stats", "[options] [CONTAINER...]", "Display a live stream of container resource usage statistics",
         cmd_stats, NULL},
        {"stop", "[options] CONTAINER [CONTAINER...]", "Stop one or more containers", cmd_stop, NULL},
        {"system", "", "Manage cpod", NULL, cli_system_commands},
        {"tag", "IMAGE TARGET_NAME [TARGET_NAME...]", "Add an additional name to a local image", cmd_tag,
         NULL},
        {"top", "[options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
         "Display the running processes of a "
         "container",
         cmd_top, NULL},
        {"umount", "[options] CONTAINER [CONTAINER...]", "Unmount working container's root filesystem",
         cmd_umount, NULL},
        {"unmount", "[options] CONTAINER [CONTAINER...]", "Unmount working container's root filesystem",
         cmd_umount, NULL},
        {"unpause", "[options] CONTAINER [CONTAINER...]", "Unpause the processes in one or more containers",
         cmd_unpause, NULL},
        {"untag", "IMAGE [IMAGE...]", "Remove names from a local image", cmd_untag, NULL},
        {"varlink", "[options] [ADDRESS]", "Run the Varlink service (io.podman)", cmd_varlink, NULL},
        {"version", "[options]", "Display the cpod version information", cmd_version, NULL},
        {"volume", "", "Manage volumes", NULL, cli_volume_commands},
        {"wait", "[options] CONTAINER [CONTAINER...]", "Block on one or more containers", cmd_wait, NULL},
        {},
};

int cli_error(int code, const char *fmt, ...) {
        va_list ap;

        fflush(stdout);
        fputs("Error: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int cli_engine_error(const CpodError *err, int r) {
        if (err && err->code != 0 && err->message[0])
                return cli_error(CLI_EXIT_ERROR, "%s", err->message);
        return cli_error(CLI_EXIT_ERROR, "%s", strerror(r < 0 ? -r : EIO));
}

Engine *cli_engine(Cli *cli) {
        CpodError err = {};
        int r;

        if (cli->engine)
                return cli->engine;
        r = engine_open(&cli->options, &cli->engine, &err);
        if (r < 0) {
                cli_engine_error(&err, r);
                cli->engine = NULL;
        }
        return cli->engine;
}

static void print_commands(const CliCommand *table, FILE *f) {
        for (const CliCommand *c = table; c->name; c++)
                if (c->summary[0]) /* hidden commands have no summary */
                        fprintf(f, "  %-12s %s\n", c->name, c->summary);
}

static void usage(FILE *f) {
        fputs("Manage containers and images without a daemon\n"
              "\n"
              "Usage:\n"
              "  cpod [options] [command]\n"
              "\n"
              "Available Commands:\n",
              f);
        print_commands(top_commands, f);
        fputs("\n"
              "Options:\n"
              "  -h, --help                     Help for cpod\n"
              "      --log-level string         Log messages above specified level (debug, info, warn, "
              "error)\n"
              "                                 (default \"warn\")\n"
              "  -r, --remote                   Access a remote cpod or podman service over Varlink\n"
              "                                 ($CONTAINER_HOST, $PODMAN_VARLINK_ADDRESS, "
              "$PODMAN_VARLINK_BRIDGE)\n"
              "      --registries-conf string   Path to registries.conf (default "
              "$CONTAINERS_REGISTRIES_CONF,\n"
              "                                 else /etc/containers/registries.conf)\n"
              "      --root string              Path to the root directory in which data, including "
              "images,\n"
              "                                 is stored\n"
              "      --runroot string           Path to the 'run directory' where all state information is\n"
              "                                 stored\n"
              "      --storage-driver string    Select which storage driver is used to manage storage of\n"
              "                                 images and containers (overlay, vfs)\n"
              "      --url string               The service's Varlink address (unix:/path, tcp:HOST:PORT);\n"
              "                                 implies --remote\n"
              "  -v, --version                  Version of cpod\n",
              f);
}

int cli_command_help(Cli *cli, const char *options_text) {
        const CliCommand *c = cli->command;

        printf("%s\n\nUsage:\n  %s %s\n", c->summary, cli->path, c->usage);
        if (c->subcommands) {
                printf("\nAvailable Commands:\n");
                print_commands(c->subcommands, stdout);
        }
        if (options_text && *options_text)
                printf("\nOptions:\n%s", options_text);
        return CLI_EXIT_OK;
}

int cli_getopt(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *longopts) {
        char spec[64];
        const char *arg;
        int c;

        /* A leading ':' makes getopt tell a missing argument from an unknown option. */
        if (shortopts[0] == '+')
                snprintf(spec, sizeof(spec), "+:%s", shortopts + 1);
        else
                snprintf(spec, sizeof(spec), ":%s", shortopts);
        opterr = 0;
        c = getopt_long(argc, argv, spec, longopts, NULL);
        if (c != '?' && c != ':')
                return c;
        arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        if (startswith(arg, "--")) {
                size_t n = strcspn(arg, "=");
                if (c == '?')
                        cli_error(0, "unknown flag: %.*s", (int)n, arg);
                else
                        cli_error(0, "flag needs an argument: %.*s", (int)n, arg);
        } else if (c == '?')
                cli_error(0, "unknown shorthand flag: '%c' in -%c", optopt, optopt);
        else
                cli_error(0, "flag needs an argument: '%c' in -%c", optopt, optopt);
        fprintf(stderr, "See '%s --help'\n", cli->path);
        return -2;
}

int cli_check_args(Cli *cli, int n, int min, int max) {
        if (n >= min && n <= max)
                return 0;
        if (min == max && min > 0)
                cli_error(0, "%s requires exactly %d argument%s", cli->path, min, min == 1 ? "" : "s");
        else if (n < min)
                cli_error(0, "%s requires at least %d argument%s", cli->path, min, min == 1 ? "" : "s");
        else if (max == 0)
                cli_error(0, "%s takes no arguments", cli->path);
        else
                cli_error(0, "%s accepts at most %d argument%s", cli->path, max, max == 1 ? "" : "s");
        return -EINVAL;
}

int cli_parse_bool(const char *s, bool *ret) {
        if (!s || streq(s, "true") || streq(s, "1") || streq(s, "t") || streq(s, "TRUE") || streq(s, "True"))
                *ret = true;
        else if (streq(s, "false") || streq(s, "0") || streq(s, "f") || streq(s, "FALSE") ||
                 streq(s, "False"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

bool cli_confirm(const char *question) {
        char line[64];

        fprintf(stderr, "%s [y/N] ", question);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static int set_log_level(Cli *cli, const char *level) {
        static const char *const levels[] = {"trace",   "debug", "info",  "warn",
                                             "warning", "error", "fatal", "panic"};

        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (streq(level, levels[i])) {
                        cli->log_level = level;
                        return 0;
                }
        return cli_error(
                -EINVAL,
                "log level \"%s\" is not supported, choose from: trace, debug, info, warn, warning, "
                "error, fatal, panic",
                level);
}

/* Set by the global --varlink=ADDRESS. */
static const char *varlink_address;

/* `cpod varlink`: the service, with the global storage options passed on. */
int cmd_varlink(Cli *cli, int argc, char **argv) {
        const struct {
                const char *option, *value;
        } globals[] = {
                {"--root", cli->options.root},
                {"--runroot", cli->options.runroot},
                {"--storage-driver", cli->options.storage_driver},
                {"--registries-conf", cli->options.registries_conf},
        };
        char **v = calloc((size_t)argc + 2 * ELEMENTSOF(globals) + 1, sizeof(char *));
        int n = 0;

        if (!v)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        v[n++] = argv[0];
        for (size_t i = 0; i < ELEMENTSOF(globals); i++)
                if (globals[i].value) {
                        v[n++] = (char *)globals[i].option;
                        v[n++] = (char *)globals[i].value;
                }
        for (int i = 1; i < argc; i++)
                v[n++] = argv[i];
        int r = service_main(n, v);
        free(v);
        return r;
}

static int parse_global(Cli *cli, int argc, char **argv) {
        enum {
                ARG_ROOT = 0x100,
                ARG_RUNROOT,
                ARG_DRIVER,
                ARG_LOG_LEVEL,
                ARG_REGISTRIES,
                ARG_VARLINK,
                ARG_URL,
        };
        static const struct option options[] = {
                {"root", required_argument, NULL, ARG_ROOT},
                {"runroot", required_argument, NULL, ARG_RUNROOT},
                {"storage-driver", required_argument, NULL, ARG_DRIVER},
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
                {"registries-conf", required_argument, NULL, ARG_REGISTRIES},
                {"varlink", required_argument, NULL, ARG_VARLINK},
                {"remote", no_argument, NULL, 'r'},
                {"url", required_argument, NULL, ARG_URL},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'v'},
                {},
        };
        int c;

        /* '+': stop at the command; its own options follow it. */
        while ((c = cli_getopt(cli, argc, argv, "+hrv", options)) >= 0) {
                switch (c) {
                case ARG_ROOT:
                        cli->options.root = optarg;
                        break;
                case ARG_RUNROOT:
                        cli->options.runroot = optarg;
                        break;
                case ARG_DRIVER:
                        if (!streq(optarg, "overlay") && !streq(optarg, "vfs"))
                                return cli_error(-EINVAL, "unknown storage driver \"%s\" (overlay, vfs)",
                                                 optarg);
                        cli->options.storage_driver = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        if (set_log_level(cli, optarg) < 0)
                                return -EINVAL;
                        break;
                case ARG_REGISTRIES:
                        cli->options.registries_conf = optarg;
                        break;
                case 'r':
                        cli->remote = true;
                        break;
                case ARG_URL: /* a Varlink address: unix:/path, tcp:host:port, exec:/path */
                        cli->remote = true;
                        cli->remote_url = optarg;
                        break;
                case ARG_VARLINK: /* the seed's `cpod --varlink=ADDRESS`: `cpod varlink ADDRESS` */
                        varlink_address = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'v':
                        printf("cpod version %s\n", PROJECT_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        return c == -2 ? -EINVAL : 1;
}

static const CliCommand *find_command(const CliCommand *table, const char *name) {
        for (const CliCommand *c = table; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}

/* Find the command argv names (descending into groups) and run it with its own argv. */
static int dispatch(Cli *cli, const CliCommand *table, int argc, char **argv) {
        const CliCommand *cmd = find_command(table, argv[0]);
        size_t n = strlen(cli->path);

        if (!cmd) {
                cli_error(0, "unrecognized command `%s %s`", cli->path, argv[0]);
                fprintf(stderr, "Try '%s --help' for more information\n", cli->path);
                return CLI_EXIT_ERROR;
        }
        snprintf(cli->path + n, sizeof(cli->path) - n, " %s", cmd->name);
        cli->command = cmd;
        if (cmd->subcommands) {
                if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                        if (argc >= 2)
                                return cli_command_help(cli, "  -h, --help   Help for this command\n");
                        return cli_error(CLI_EXIT_ERROR, "missing command '%s COMMAND'", cli->path);
                }
                return dispatch(cli, cmd->subcommands, argc - 1, argv + 1);
        }
        optind = 0; /* the command's getopt starts afresh at argv[1] */
        if (cli->remote)
                return remote_run(cli, argc, argv);
        return cmd->run(cli, argc, argv);
}

int main(int argc, char **argv) {
        Cli cli = {.path = "cpod"};
        int r;

        cli.options.registries_conf = getenv("CONTAINERS_REGISTRIES_CONF");
        r = parse_global(&cli, argc, argv);
        if (r <= 0)
                return r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
        if (varlink_address) {
                char *v[] = {"varlink", (char *)varlink_address, NULL};
                if (cli.remote)
                        return cli_error(
                                CLI_EXIT_ERROR,
                                "cpod varlink serves the local store and cannot run in remote mode");
                return cmd_varlink(&cli, 2, v);
        }
        if (optind >= argc) {
                usage(stderr);
                return cli_error(CLI_EXIT_ERROR, "missing command 'cpod COMMAND'");
        }
        /* A reader that goes away (cpod images | head) must not leave a half-written store. */
        signal(SIGPIPE, SIG_IGN);

        r = dispatch(&cli, top_commands, argc - optind, argv + optind);
        remote_close(&cli);
        engine_close(cli.engine);
        if (fflush(stdout) != 0 && r == 0 && errno != EPIPE)
                r = cli_error(CLI_EXIT_ERROR, "writing the output: %s", strerror(errno));
        return r;
}
