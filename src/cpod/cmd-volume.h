/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "cpod volume" command group: create, exists, inspect, ls, prune, rm. */

#include "cpod.h"
#include "output.h"

extern const CliCommand cli_volume_commands[];

int cmd_volume_create(Cli *cli, int argc, char **argv);
int cmd_volume_exists(Cli *cli, int argc, char **argv);
int cmd_volume_inspect(Cli *cli, int argc, char **argv);
int cmd_volume_ls(Cli *cli, int argc, char **argv);
int cmd_volume_prune(Cli *cli, int argc, char **argv);
int cmd_volume_rm(Cli *cli, int argc, char **argv);

/* Shared with remote mode (remote-pods.c), so both print alike. */
/* rm's options and arguments: 0 to go on, -1 after --help, else the exit code. */
int cli_volume_rm_args(Cli *cli, int argc, char **argv, bool *ret_all, bool *ret_force);
/* ls's output from the volumes' inspect documents (quiet: their names). */
int cli_volume_print_rows(const VlJson *rows, const Output *out, bool quiet, CpodError *err);
/* inspect's output: the documents with --format or as JSON, then the errors collected (freed); returns
 * status or CLI_EXIT_ERROR. */
int cli_volume_print_inspect(const char *format, const VlJson *items, VlBuf *errors, int status);
