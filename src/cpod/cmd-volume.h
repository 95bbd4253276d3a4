/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "cpod volume" command group: create, exists, inspect, ls, prune, rm. */

#include "cpod.h"

extern const CliCommand cli_volume_commands[];

int cmd_volume_create(Cli *cli, int argc, char **argv);
int cmd_volume_exists(Cli *cli, int argc, char **argv);
int cmd_volume_inspect(Cli *cli, int argc, char **argv);
int cmd_volume_ls(Cli *cli, int argc, char **argv);
int cmd_volume_prune(Cli *cli, int argc, char **argv);
int cmd_volume_rm(Cli *cli, int argc, char **argv);
