/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "cpod pod" command group (create, exists, inspect, kill, pause, prune, ps, restart, rm, start,
 * stats, stop, top, unpause) and "cpod generate kube" / "cpod play kube". */

#include "cpod.h"

extern const CliCommand cli_pod_commands[];
extern const CliCommand cli_generate_commands[];
extern const CliCommand cli_play_commands[];

int cmd_generate_kube(Cli *cli, int argc, char **argv);
int cmd_play_kube(Cli *cli, int argc, char **argv);
