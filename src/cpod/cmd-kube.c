/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod generate kube and cpod play kube. */
#include "cmd-pod.h"

const CliCommand cli_generate_commands[] = {
        {"kube", "[options] {CONTAINER...|POD...}", "Generate Kubernetes YAML based on containers or pods",
         cmd_generate_kube, NULL},
        {},
};

const CliCommand cli_play_commands[] = {
        {"kube", "[options] KUBEFILE", "Play a pod or volume based on Kubernetes YAML", cmd_play_kube, NULL},
        {},
};

int cmd_generate_kube(Cli *cli, int argc, char **argv) {
        (void)argc, (void)argv;
        return cli_error(CLI_EXIT_ERROR, "%s: not supported yet", cli->path);
}

int cmd_play_kube(Cli *cli, int argc, char **argv) {
        (void)argc, (void)argv;
        return cli_error(CLI_EXIT_ERROR, "%s: not supported yet", cli->path);
}
