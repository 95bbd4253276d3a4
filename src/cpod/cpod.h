/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The cpod command-line tool: global state, the command tables, and helpers shared by the commands. */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine.h"
#include "error.h"
#include "image.h"
#include "util.h"

/* Exit codes, podman's convention. */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_FAILURE = 1, /* a documented "no" (image exists) or a missing image for rmi */
        CLI_EXIT_IN_USE = 2,  /* rmi: an image is used by a container */
        CLI_EXIT_ERROR = 125, /* cpod itself failed */
};

typedef struct Cli {
        EngineOptions options;
        const char *log_level;
        Engine *engine;                   /* opened on first use */
        const struct CliCommand *command; /* the command being run */
        char path[64];                    /* "cpod image ls": the command as typed, for messages */
        bool remote;                      /* --remote, --url: run the command through a service (remote.h) */
        const char *remote_url;           /* --url ADDRESS */
        struct VlClient *client;          /* remote mode's connection, opened on first use */
} Cli;

typedef struct CliCommand CliCommand;
struct CliCommand {
        const char *name;
        const char *usage;   /* "[options] IMAGE [IMAGE...]" */
        const char *summary; /* one line */
        int (*run)(Cli *cli, int argc, char **argv);
        const CliCommand *subcommands; /* a group ("image", "system") */
};

/* Groups defined by the command files. */
extern const CliCommand cli_image_commands[];
extern const CliCommand cli_system_commands[];

/* The engine, opened with the global options; prints the error and returns NULL on failure. */
Engine *cli_engine(Cli *cli);

/* Report an error once, podman's way ("Error: message"); returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report an engine error (its message, or strerror when none was set); returns CLI_EXIT_ERROR. */
int cli_engine_error(const CpodError *err, int r);

/*
 * getopt_long for a command, with cobra's messages: returns the option, -1 at the end, or -2 after printing
 * "unknown flag" / "flag needs an argument" (the caller returns CLI_EXIT_ERROR). 'h' (--help) is handled by
 * the caller through cli_command_help.
 */
int cli_getopt(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *longopts);
int cli_command_help(Cli *cli, const char *options_text);
/* Require between min and max (SIZE_MAX: any) positional arguments; prints cobra's message otherwise. */
int cli_check_args(Cli *cli, int n, int min, int max);
/* Parse a boolean flag value ("true", "false", "1", "0"); -EINVAL otherwise. */
int cli_parse_bool(const char *s, bool *ret);

/* Commands. */
int cmd_images(Cli *cli, int argc, char **argv);
int cmd_inspect(Cli *cli, int argc, char **argv);
int cmd_image_inspect(Cli *cli, int argc, char **argv);
int cmd_history(Cli *cli, int argc, char **argv);
int cmd_image_tree(Cli *cli, int argc, char **argv);
int cmd_tag(Cli *cli, int argc, char **argv);
int cmd_untag(Cli *cli, int argc, char **argv);
int cmd_rmi(Cli *cli, int argc, char **argv);
int cmd_image_prune(Cli *cli, int argc, char **argv);
int cmd_image_exists(Cli *cli, int argc, char **argv);
int cmd_image_mount(Cli *cli, int argc, char **argv);
int cmd_image_unmount(Cli *cli, int argc, char **argv);
int cmd_load(Cli *cli, int argc, char **argv);
int cmd_save(Cli *cli, int argc, char **argv);
int cmd_import(Cli *cli, int argc, char **argv);
int cmd_image_export(Cli *cli, int argc, char **argv);
int cmd_system_check(Cli *cli, int argc, char **argv);
int cmd_system_df(Cli *cli, int argc, char **argv);
int cmd_system_reset(Cli *cli, int argc, char **argv);
int cmd_version(Cli *cli, int argc, char **argv);

/* Ask "question [y/N] " on stderr and read the answer from stdin. */
bool cli_confirm(const char *question);

/* Shared by the image commands (cmd-image.c). */
#include <vl/json.h>
/* The image's config document, parsed. */
int cli_image_config(Engine *e, const Image *img, VlJson **ret, CpodError *err);
/* The config's "config" "Labels" object (borrowed), or NULL. */
const VlJson *cli_config_labels(const VlJson *config);
/* Split "domain/repo:tag" into malloc'ed repository and tag ("<none>" when absent). */
int cli_split_name(const char *name, char **ret_repo, char **ret_tag);
/* Report an engine error about ref, naming it when the engine did not ("<ref>: image not known");
 * returns CLI_EXIT_ERROR. */
int cli_image_error(const char *ref, const CpodError *err, int r);
