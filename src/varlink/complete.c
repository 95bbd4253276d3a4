/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "varlink-tool.h"

/* Completion: "varlink complete CWORD [--] WORDS…" prints the candidates for WORDS[CWORD], one a line.
 * WORDS[0] is the program name. An empty answer lets the shell fall back to file names. */

#define COMPLETE_TIMEOUT_USEC (2 * 1000 * 1000)

static const char *const global_options[] = {
        "--activate=", "--bridge=", "--resolver=", "--timeout=", "--help", "--version", NULL,
};

static void candidate(const char *cur, const char *s) {
        if (strncmp(s, cur, strlen(cur)) == 0)
                printf("%s\n", s);
}

/* Options that take their value in the next word. */
static bool takes_argument(const char *w) {
        static const char *const opts[] = {
                "-A",        "--activate", "-b",     "--bridge",   "-R",        "--resolver", "-t",
                "--timeout", "-j",         "--json", "--graceful", "--connect", NULL,
        };
        for (size_t i = 0; opts[i]; i++)
                if (streq(w, opts[i]))
                        return true;
        return false;
}

/* Index of the positional argument words[cword] is, counting from 0 after the command; -1 for an
 * option or an option's value. */
static int positional_index(char **words, int cword) {
        int n = 0;

        for (int i = 1; i < cword; i++) {
                if (takes_argument(words[i]))
                        i++;
                else if (words[i][0] != '-' || streq(words[i], "-"))
                        n++;
        }
        if (cword > 1 && takes_argument(words[cword - 1]))
                return -1;
        return n;
}

static const char *positional(char **words, int cword, int index) {
        for (int i = 1, n = 0; i < cword; i++) {
                if (takes_argument(words[i]))
                        i++;
                else if (words[i][0] != '-' || streq(words[i], "-")) {
                        if (n++ == index)
                                return words[i];
                }
        }
        return NULL;
}

/* Prints prefix + interface (+ ".Method" for each method when methods) for what the service at
 * address offers, filtered by cur. */
static void offer(Cli *cli, const char *address, const char *prefix, const char *cur, bool methods) {
        _cleanup_client_ VlClient *c = NULL;
        _cleanup_json_ VlJson *info = NULL;
        const char *partial = cur + strlen(prefix);
        const VlJson *e;

        if (cli->timeout_usec == 0)
                cli->timeout_usec = COMPLETE_TIMEOUT_USEC;
        if (cli_connect(cli, address, NULL, &c) != CLI_EXIT_OK ||
            cli_simple_call(c, "org.varlink.service.GetInfo", NULL, &info) != CLI_EXIT_OK)
                return;
        VL_JSON_FOREACH_ELEMENT (e, vl_json_object_get(info, "interfaces")) {
                const char *name = vl_json_get_string(e);
                VlInterface *iface = NULL;
                size_t n;

                if (!name)
                        continue;
                n = strlen(name);
                if (!methods) {
                        if (strncmp(name, partial, strlen(partial)) == 0)
                                printf("%s%s\n", prefix, name);
                        continue;
                }
                /* Only interfaces the word can still become are worth a round trip. */
                if (strncmp(name, partial, strlen(partial)) != 0 &&
                    !(strncmp(partial, name, n) == 0 && partial[n] == '.'))
                        continue;
                if (cli_get_interface(c, name, &iface, NULL) != CLI_EXIT_OK)
                        continue;
                for (size_t i = 0; i < iface->n_members; i++) {
                        _cleanup_free_ char *s = NULL;
                        if (iface->members[i].kind != VL_MEMBER_METHOD)
                                continue;
                        if (asprintf(&s, "%s%s.%s", prefix, name, iface->members[i].name) >= 0)
                                candidate(cur, s);
                }
                vl_interface_free(iface);
        }
}

/* Interfaces or methods for the word: "ADDRESS/…", a second word after an address, or a bare name
 * when -A or -b say where the service is. */
static void complete_target(Cli *cli, char **words, int cword, bool methods) {
        const char *cur = words[cword], *slash = strrchr(cur, '/');
        int index = positional_index(words, cword);
        _cleanup_free_ char *address = NULL, *prefix = NULL;

        if (index == 0 && slash) {
                prefix = strndup(cur, (size_t)(slash - cur) + 1);
                if (!prefix || cli_normalize_address(prefix, &address) < 0)
                        return;
                address[strlen(address) - 1] = '\0';
        } else if (index == 0 && (cli->activate || cli->bridge))
                prefix = strdup("");
        else if (index == 1) {
                const char *first = positional(words, cword, 0), *tail;

                /* After "ADDRESS/INTERFACE.METHOD" comes JSON, not a method. */
                if (!first)
                        return;
                tail = strrchr(first, '/');
                if (cli_method_name_valid(tail ? tail + 1 : first) ||
                    cli_normalize_address(first, &address) < 0)
                        return;
                prefix = strdup("");
        }
        if (prefix)
                offer(cli, address, prefix, cur, methods);
}

void complete_call(Cli *cli, char **words, int n_words, int cword) {
        complete_target(cli, words, cword, true);
}

void complete_help(Cli *cli, char **words, int n_words, int cword) {
        complete_target(cli, words, cword, false);
}

void complete_address(Cli *cli, char **words, int n_words, int cword) {
        _cleanup_free_ char *address = NULL;
        const char *first;

        if (!streq(words[0], "list-methods") || positional_index(words, cword) < 1)
                return;
        first = positional(words, cword, 0);
        if (first && cli_normalize_address(first, &address) >= 0)
                offer(cli, address, "", words[cword], false);
}

static void complete_options(const char *options, const char *cur) {
        _cleanup_free_ char *copy = strdup(options);
        char *save = NULL;

        if (!copy)
                return;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                candidate(cur, w);
}

/* Applies the global options found in words so that completion talks to the same service. */
static int skip_globals(Cli *cli, char **words, int n_words) {
        int i = 1;

        while (i < n_words && words[i][0] == '-' && words[i][1]) {
                const char *w = words[i], *v = i + 1 < n_words ? words[i + 1] : NULL, *eq = strchr(w, '=');
                bool sep = takes_argument(w);

                if (eq)
                        v = eq + 1;
                if (startswith(w, "-A") || startswith(w, "--activate"))
                        cli->activate = v;
                else if (startswith(w, "-b") || startswith(w, "--bridge"))
                        cli->bridge = v;
                else if (startswith(w, "-R") || startswith(w, "--resolver"))
                        cli->resolver = v;
                i += sep ? 2 : 1;
        }
        return i;
}

int cmd_complete(Cli *cli, int argc, char **argv) {
        const CliCommand *cmd;
        char **words, *end;
        int n_words, cword, first;
        long l;

        if (argc < 3) {
                fprintf(stderr, "varlink: usage: varlink complete CWORD [--] WORDS…\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        l = strtol(argv[1], &end, 10);
        words = argv + 2;
        n_words = argc - 2;
        if (streq(words[0], "--"))
                words++, n_words--;
        if (*end || l < 0 || l >= n_words)
                return CLI_EXIT_OK;
        cword = (int)l;
        first = skip_globals(cli, words, cword);
        if (cword <= first) {
                if (cword > 1 && takes_argument(words[cword - 1]))
                        return CLI_EXIT_OK;
                if (words[cword][0] == '-')
                        for (size_t i = 0; global_options[i]; i++)
                                candidate(words[cword], global_options[i]);
                else
                        for (const CliCommand *c = cli_commands; c->name; c++)
                                if (!streq(c->name, "complete"))
                                        candidate(words[cword], c->name);
                return CLI_EXIT_OK;
        }
        cmd = cli_find_command(words[first]);
        if (!cmd)
                return CLI_EXIT_OK;
        if (words[cword][0] == '-' && !streq(words[cword], "-"))
                complete_options(cmd->options, words[cword]);
        else if (cmd->complete)
                cmd->complete(cli, words + first, n_words - first, cword - first);
        return CLI_EXIT_OK;
}
