/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The registry commands: pull, push, login, logout, search, and "manifest inspect". */

#include "cpod.h"
#include "output.h"
#include "registry.h"

extern const CliCommand cli_manifest_commands[];

int cmd_pull(Cli *cli, int argc, char **argv);
int cmd_push(Cli *cli, int argc, char **argv);
int cmd_login(Cli *cli, int argc, char **argv);
int cmd_logout(Cli *cli, int argc, char **argv);
int cmd_search(Cli *cli, int argc, char **argv);
int cmd_manifest_inspect(Cli *cli, int argc, char **argv);
/* `pull --platform` "os/arch[/variant]" into o's os, arch and variant (pointing into a copy kept in buf);
 * -EINVAL when malformed. */
int cli_parse_platform(const char *s, char *buf, size_t n, RegistryOptions *o);
/* `image exists --remote IMAGE`: 0 when the image's registry has it, 1 when not, 125 on errors. */
int cli_image_exists_remote(Cli *cli, int argc, char **argv);

/* Print search results as search does (local mode, and remote mode from SearchImages' records). */
int cli_search_print(const Output *out, const SearchResult *v, size_t n, bool list_tags, CpodError *err);
