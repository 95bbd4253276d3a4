/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>

#include "varlink-tool.h"

const CliCommand cli_commands[] = {
        {"info", "[--json=pretty|short] ADDRESS", "Print information about a service", cmd_info,
         complete_address, "--json= --help"},
        {"list-interfaces", "ADDRESS", "List the interfaces of a service", cmd_list_interfaces,
         complete_address, "--help"},
        {"list-methods", "ADDRESS [INTERFACE…]", "List the methods of a service", cmd_list_methods,
         complete_address, "--help"},
        {"help", "[ADDRESS/]INTERFACE", "Print the description of an interface", cmd_help, complete_help,
         "--help"},
        {"introspect", "ADDRESS [INTERFACE]", "Same as help", cmd_help, complete_help, "--help"},
        {"call", "[OPTIONS] [ADDRESS/]INTERFACE.METHOD [JSON|-]", "Call a method", cmd_call, complete_call,
         "--more --collect --oneway --upgrade --timeout= --json= --quiet --graceful= --help"},
        {"format", "[--check|-i] FILE…", "Print an interface description in canonical form", cmd_format,
         NULL, "--check --in-place --help"},
        {"validate", "FILE…", "Check interface description files", cmd_validate, NULL, "--help"},
        {"validate-idl", "FILE…", "Same as validate", cmd_validate, NULL, "--help"},
        {"resolve", "INTERFACE", "Ask the resolver for the address of an interface", cmd_resolve, NULL,
         "--help"},
        {"bridge", "[--connect ADDRESS]", "Connect standard input and output to a service", cmd_bridge, NULL,
         "--connect= --help"},
        {"complete", "CWORD [--] WORDS…", "Print completion candidates (for the shell)", cmd_complete, NULL,
         ""},
        {},
};

/* The child of -A must not outlive us, whatever way we leave. */
static volatile pid_t cli_child_pid;

static void on_signal(int sig) {
        if (cli_child_pid > 0)
                kill(cli_child_pid, SIGTERM);
        _exit(CLI_EXIT_CANCELED);
}

const CliCommand *cli_find_command(const char *name) {
        for (const CliCommand *c = cli_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}

void cli_usage(FILE *f) {
        fprintf(f, "Usage: varlink [OPTIONS] COMMAND [ARGUMENTS…]\n"
                   "\n"
                   "Talk to Varlink services: introspect them and call their methods.\n"
                   "\n"
                   "Options:\n"
                   "  -A, --activate=COMMAND  Start COMMAND with a listening socket and talk to it\n"
                   "  -b, --bridge=COMMAND    Talk through the standard input and output of COMMAND\n"
                   "  -R, --resolver=ADDRESS  The resolver to ask for interfaces without an address\n"
                   "                          (default " CLI_DEFAULT_RESOLVER ")\n"
                   "  -t, --timeout=SECONDS   Give up on a call after SECONDS\n"
                   "  -h, --help              Print this help\n"
                   "      --version           Print the version\n"
                   "\n"
                   "Commands:\n");
        for (const CliCommand *c = cli_commands; c->name; c++)
                if (!streq(c->name, "complete"))
                        fprintf(f, "  %-16s %s\n", c->name, c->help);
        fprintf(f, "\n"
                   "ADDRESS is unix:/path, unix:@abstract, tcp:HOST:PORT, exec:/path/to/service,\n"
                   "ssh-unix:HOST:/path, ssh-exec:HOST:COMMAND, or a path to a socket.\n"
                   "Run 'varlink help COMMAND' for a command's options.\n");
}

int cli_command_usage(const CliCommand *cmd, FILE *f) {
        fprintf(f, "Usage: varlink %s %s\n\n%s.\n", cmd->name, cmd->args, cmd->help);
        if (cmd->options && *cmd->options)
                fprintf(f, "Options: %s\n", cmd->options);
        return CLI_EXIT_OK;
}

static int parse_global(Cli *cli, int argc, char **argv) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                {"activate", required_argument, NULL, 'A'},
                {"bridge", required_argument, NULL, 'b'},
                {"resolver", required_argument, NULL, 'R'},
                {"timeout", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        int c;

        /* '+': the command's own options follow the command name and are not ours. */
        while ((c = getopt_long(argc, argv, "+A:b:R:t:h", options, NULL)) >= 0) {
                switch (c) {
                case 'A':
                        cli->activate = optarg;
                        break;
                case 'b':
                        cli->bridge = optarg;
                        break;
                case 'R':
                        cli->resolver = optarg;
                        break;
                case 't':
                        if (cli_parse_timeout(optarg, &cli->timeout_usec) < 0) {
                                fprintf(stderr, "varlink: invalid timeout: %s\n", optarg);
                                return -CLI_EXIT_INVALID_ARGUMENT;
                        }
                        break;
                case 'h':
                        cli_usage(stdout);
                        return 0;
                case ARG_VERSION:
                        printf("varlink %s\n", VL_VERSION);
                        return 0;
                default:
                        return -CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        if (cli->activate && cli->bridge) {
                fprintf(stderr, "varlink: --activate and --bridge exclude each other\n");
                return -CLI_EXIT_INVALID_ARGUMENT;
        }
        return 1;
}

static void install_signals(void) {
        struct sigaction sa = {.sa_handler = on_signal};

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        /* A peer that goes away must show up as an error, not kill us. */
        signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv) {
        Cli cli = {.activated_pid = 0};
        const CliCommand *cmd;
        int r;

        r = parse_global(&cli, argc, argv);
        if (r <= 0)
                return -r;
        if (optind >= argc) {
                cli_usage(stderr);
                return CLI_EXIT_MISSING_COMMAND;
        }
        cmd = cli_find_command(argv[optind]);
        if (!cmd) {
                fprintf(stderr, "varlink: unknown command '%s'; see 'varlink --help'\n", argv[optind]);
                return CLI_EXIT_COMMAND_NOT_FOUND;
        }

        install_signals();
        argc -= optind;
        argv += optind;
        optind = 0; /* let the command's getopt start afresh at argv[1] */
        r = cmd->run(&cli, argc, argv);

        cli_cleanup(&cli);
        if (fflush(stdout) != 0 && r == 0) {
                fprintf(stderr, "varlink: cannot write the output: %s\n", strerror(errno));
                r = CLI_EXIT_PANIC;
        }
        return r;
}

void cli_set_child(pid_t pid) {
        cli_child_pid = pid;
}

int cli_parse_no_options(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c != 'h')
                        return -CLI_EXIT_INVALID_ARGUMENT;
                cli_command_usage(cli_find_command(argv[0]), stdout);
                return 0;
        }
        return 1;
}
