/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The varlink command-line tool: shared state and helpers of the commands. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h> /* struct ucred, used by <vl/varlink.h> */
#include <sys/types.h>
#include <unistd.h>

#include <vl/vl.h>

/* Exit codes: 1–14 keep libvarlink's numbering so scripts written for it go on working. */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_PANIC = 1,
        CLI_EXIT_CANNOT_RESOLVE = 2,
        CLI_EXIT_MISSING_COMMAND = 3,
        CLI_EXIT_COMMAND_NOT_FOUND = 4,
        CLI_EXIT_MISSING_ARGUMENT = 5,
        CLI_EXIT_INVALID_ARGUMENT = 6,
        CLI_EXIT_INVALID_JSON = 7,
        CLI_EXIT_CANNOT_CONNECT = 8,
        CLI_EXIT_TIMEOUT = 9,
        CLI_EXIT_CANCELED = 10,
        CLI_EXIT_CALL_FAILED = 11,
        CLI_EXIT_REMOTE_ERROR = 12,
        CLI_EXIT_INVALID_MESSAGE = 13,
        CLI_EXIT_CONNECTION_CLOSED = 14,
};

#define CLI_DEFAULT_RESOLVER "unix:/run/org.varlink.resolver"

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void cli_freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(cli_freep)

static inline void cli_closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(cli_closep)

static inline void cli_client_freep(VlClient **c) {
        vl_client_free(*c);
}
#define _cleanup_client_ _cleanup_(cli_client_freep)
#define _cleanup_json_   _cleanup_(vl_json_unrefp)

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

typedef enum CliJsonMode {
        CLI_JSON_PRETTY,
        CLI_JSON_SHORT,
} CliJsonMode;

/* Global options and what they spawned. */
typedef struct Cli {
        const char *activate; /* -A: a service to spawn with a listening socket */
        const char *bridge;   /* -b: a command whose stdio is the connection */
        const char *resolver; /* -R */
        uint64_t timeout_usec;
        char *activated_address; /* where the -A child listens */
        pid_t activated_pid;
} Cli;

typedef struct CliCommand {
        const char *name;
        const char *args; /* the synopsis after the name */
        const char *help;
        int (*run)(Cli *cli, int argc, char **argv);
        /* Prints completion candidates for words[cword] (words[0] is the command). */
        void (*complete)(Cli *cli, char **words, int n_words, int cword);
        const char *options; /* long options for completion, space separated */
} CliCommand;

extern const CliCommand cli_commands[];
const CliCommand *cli_find_command(const char *name);

/* Commands (one file each). */
int cmd_info(Cli *cli, int argc, char **argv);
int cmd_list_interfaces(Cli *cli, int argc, char **argv);
int cmd_list_methods(Cli *cli, int argc, char **argv);
int cmd_help(Cli *cli, int argc, char **argv);
int cmd_call(Cli *cli, int argc, char **argv);
int cmd_format(Cli *cli, int argc, char **argv);
int cmd_validate(Cli *cli, int argc, char **argv);
int cmd_resolve(Cli *cli, int argc, char **argv);
int cmd_bridge(Cli *cli, int argc, char **argv);
int cmd_complete(Cli *cli, int argc, char **argv);
void complete_call(Cli *cli, char **words, int n_words, int cword);
void complete_help(Cli *cli, char **words, int n_words, int cword);
void complete_address(Cli *cli, char **words, int n_words, int cword);

void cli_usage(FILE *f);
/* Remembers a child for the signal handler to kill. */
void cli_set_child(pid_t pid);
int cli_command_usage(const CliCommand *cmd, FILE *f);

/* ---- address.c ---- */

/* What a command line names: an address (NULL: use -A, -b or the resolver),
 * an interface and a member (either may be NULL). */
typedef struct CliTarget {
        char *address;
        char *interface;
        char *member;
} CliTarget;

void cli_target_done(CliTarget *t);
/* "ADDRESS/INTERFACE.METHOD", "INTERFACE.METHOD" or the two-word "ADDRESS METHOD". *consumed tells
 * how many of argv were used. Returns an exit code. */
int cli_target_method(int argc, char **argv, CliTarget *ret, int *consumed);
/* "ADDRESS/INTERFACE", "INTERFACE", "ADDRESS INTERFACE" or a bare "ADDRESS" (interface NULL). */
int cli_target_interface(Cli *cli, int argc, char **argv, CliTarget *ret, int *consumed);
/* A user's address in libvl's syntax: "/path" and "./path" become "unix:…". */
int cli_normalize_address(const char *address, char **ret);
bool cli_method_name_valid(const char *name);
/* Connects to address, or with address NULL to -b, -A, or what the resolver says about interface.
 * Prints the reason on failure; returns an exit code. */
int cli_connect(Cli *cli, const char *address, const char *interface, VlClient **ret);
/* Asks the resolver for the address of interface. Returns an exit code. */
int cli_resolve(Cli *cli, const char *interface, char **ret_address);
void cli_cleanup(Cli *cli);
/* A single-quoted shell word. */
char *cli_shell_quote(const char *s);

/* ---- output.c ---- */

bool cli_color(void);
int cli_parse_json_mode(const char *s, CliJsonMode *ret);
int cli_print_json(const VlJson *v, CliJsonMode mode);
/* Maps a negative errno of a call to an exit code and prints what happened. */
int cli_call_failed(const char *what, int r);
int cli_parse_timeout(const char *s, uint64_t *ret);
/* Reads all of fd into a NUL-terminated buffer. */
int cli_read_fd(int fd, char **ret, size_t *ret_len);
int cli_read_file(const char *path, char **ret, size_t *ret_len);
int cli_write_all(int fd, const void *p, size_t n);
/* A simple call with no flags, reporting failures; *ret_params on success. Returns an exit code. */
int cli_simple_call(VlClient *c, const char *method, const VlJson *params, VlJson **ret_params);
/* GetInterfaceDescription and parse; returns an exit code. */
int cli_get_interface(VlClient *c, const char *interface, VlInterface **ret, char **ret_description);

/* ---- proxy.c ---- */

/* Copies in_fd → sock and sock → out_fd until both directions are done.
 * pending (may be NULL) goes to out_fd first. Returns 0 or -errno. */
int cli_proxy(int in_fd, int out_fd, int sock, const char *pending, size_t n_pending);

/* ---- main.c ---- */

/* Parses a command's options when it has none but --help. Returns 1 to go on (optind is then the first
 * argument), 0 when the help was printed, or a negative exit code. */
int cli_parse_no_options(int argc, char **argv);
