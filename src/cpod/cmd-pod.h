/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "cpod pod" command group (create, exists, inspect, kill, pause, prune, ps, restart, rm, start,
 * stats, stop, top, unpause) and "cpod generate kube" / "cpod play kube". */

#include "cpod.h"
#include "output.h"
#include "pod.h"
#include "container.h"

extern const CliCommand cli_pod_commands[];
extern const CliCommand cli_generate_commands[];
extern const CliCommand cli_play_commands[];

int cmd_generate_kube(Cli *cli, int argc, char **argv);
int cmd_play_kube(Cli *cli, int argc, char **argv);

/* pod ps, shared with remote mode (remote-pods.c) so both print alike. */
typedef struct PodPsArgs {
        Output out;
        bool quiet, no_trunc, ctr_names, ctr_status, ctr_ids;
        char **filters;
        size_t n_filters;
} PodPsArgs;

/* Parse ps's options: 0 to go on, -1 when help was printed, else the exit code (the caller frees
 * a->filters in every case). */
int cli_pod_ps_parse(Cli *cli, int argc, char **argv, PodPsArgs *a);
/* One pod and its containers (id, name and state are read): printed at once with --quiet, else added to
 * rows and items when it passes the filters. */
int cli_pod_ps_add(const PodPsArgs *a, const Pod *p, const Container *c, size_t n, VlJson *rows,
                   VlJson *items);
/* Print what cli_pod_ps_add collected; returns the exit code. */
int cli_pod_ps_print(const PodPsArgs *a, const VlJson *rows, const VlJson *items);
/* pod inspect's output of the documents collected; returns status or CLI_EXIT_ERROR. */
int cli_pod_print_inspect(const char *format, const VlJson *items, int status);
/* generate kube's output (cmd-kube.c): the header comment and the documents as a YAML stream, to stdout
 * or to a new file. */
int cli_kube_generate_output(const VlJson *docs, const char *file);
/* One line of pod stats' table (tab-separated, newline-ended) appended to b. */
int cli_pod_stats_line(VlBuf *b, const char *pod_id, const char *ctr_id, const char *name,
                       double cpu_percent, uint64_t mem_usage, uint64_t mem_limit, uint64_t pids);
