/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The registry commands: pull, push, login, logout, search, and "manifest inspect". */

#include "cpod.h"

extern const CliCommand cli_manifest_commands[];

int cmd_pull(Cli *cli, int argc, char **argv);
int cmd_push(Cli *cli, int argc, char **argv);
int cmd_login(Cli *cli, int argc, char **argv);
int cmd_logout(Cli *cli, int argc, char **argv);
int cmd_search(Cli *cli, int argc, char **argv);
int cmd_manifest_inspect(Cli *cli, int argc, char **argv);
