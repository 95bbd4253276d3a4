# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for cpod(1). Commands, subcommands and flags come from the
# installed cpod's own --help, so they never fall behind it; names of images,
# containers, pods, volumes and networks come from the store the line names.

# The global options of the line being completed that select a store or a service.
_cpod_global() {
        local i
        for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                case ${COMP_WORDS[i]} in
                --root | --runroot | --storage-driver | --url) printf '%s\n%s\n' "${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}" ;;
                --remote | -r) printf '%s\n' "${COMP_WORDS[i]}" ;;
                esac
        done
}

_cpod_query() {
        local IFS=$'\n'
        local -a global=($(_cpod_global))
        "${COMP_WORDS[0]}" "${global[@]}" "$@" 2>/dev/null
}

_cpod_images() { _cpod_query images --noheading --format '{{.Repository}}:{{.Tag}}' | grep -v '^<none>'; }
_cpod_containers() { _cpod_query ps -a --noheading --format '{{.Names}}'; }
_cpod_pods() { _cpod_query pod ps --noheading --format '{{.Name}}'; }
_cpod_volumes() { _cpod_query volume ls -q; }
_cpod_networks() { _cpod_query network ls --format '{{.Name}}'; }

# The commands listed under "Available Commands:" by `cpod [WORDS] --help`.
_cpod_subcommands() {
        "${COMP_WORDS[0]}" "$@" --help 2>/dev/null |
                awk '/^Available Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'
}

# The long (and short) options `cpod WORDS --help` lists.
_cpod_options() {
        "${COMP_WORDS[0]}" "$@" --help 2>/dev/null |
                grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'
}

_cpod() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local i words=""
        local -a path=()

        # the command path so far: words that are commands, as cpod's help lists them
        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --root | --runroot | --storage-driver | --log-level | --registries-conf | --url) ((i++)) ;;
                -*) ;;
                *)
                        if _cpod_subcommands "${path[@]}" | grep -qx -- "${COMP_WORDS[i]}"; then
                                path+=("${COMP_WORDS[i]}")
                        else
                                break
                        fi
                        ;;
                esac
        done

        case $prev in
        --root | --runroot | -i | --input | -o | --output | --registries-conf | --authfile | --cert-dir | \
                -v | --volume | --env-file | --cidfile | --digestfile | --kubeconfig)
                compopt -o default 2>/dev/null
                COMPREPLY=()
                return
                ;;
        --storage-driver) words="overlay vfs" ;;
        --network | --net) words="none host bridge $(_cpod_networks)" ;;
        --pod) words="$(_cpod_pods)" ;;
        --restart) words="no on-failure always unless-stopped" ;;
        --log-driver) words="k8s-file none" ;;
        --runtime) words="crun runc" ;;
        -s | --signal | --stop-signal) words="HUP INT QUIT KILL USR1 USR2 TERM STOP CONT" ;;
        --log-level) words="debug info warn error" ;;
        --sort) words="created id repository size tag" ;;
        -d | --driver) [[ ${path[0]} == network ]] && words="bridge macvlan" ;;
        --format)
                if [[ ${path[-1]} == save ]]; then
                        words="docker-archive oci-archive oci-dir"
                else
                        words="json table"
                fi
                ;;
        esac
        if [[ -n $words ]]; then
                COMPREPLY=($(compgen -W "$words" -- "$cur"))
                return
        fi

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$(_cpod_options "${path[@]}")" -- "$cur"))
                return
        fi
        local subs
        subs=$(_cpod_subcommands "${path[@]}")
        if [[ -n $subs ]]; then
                COMPREPLY=($(compgen -W "$subs" -- "$cur"))
                return
        fi

        local IFS=$'\n'
        case "${path[*]}" in
        "") ;;
        pod* | "generate kube") COMPREPLY=($(compgen -W "$(_cpod_pods)"$'\n'"$(_cpod_containers)" -- "$cur")) ;;
        volume*) COMPREPLY=($(compgen -W "$(_cpod_volumes)" -- "$cur")) ;;
        "network connect" | "network disconnect")
                COMPREPLY=($(compgen -W "$(_cpod_networks)"$'\n'"$(_cpod_containers)" -- "$cur")) ;;
        network*) COMPREPLY=($(compgen -W "$(_cpod_networks)" -- "$cur")) ;;
        image* | images | rmi | tag | untag | history | save | push | create | run | "container create" | \
                "container run" | "manifest inspect")
                COMPREPLY=($(compgen -W "$(_cpod_images)" -- "$cur")) ;;
        inspect) COMPREPLY=($(compgen -W "$(_cpod_containers)"$'\n'"$(_cpod_images)" -- "$cur")) ;;
        import | cp | load | "play kube")
                compopt -o default 2>/dev/null
                COMPREPLY=()
                ;;
        pull | search | login | logout | system* | info | version | events | ps | varlink) COMPREPLY=() ;;
        *) COMPREPLY=($(compgen -W "$(_cpod_containers)" -- "$cur")) ;;
        esac
}

complete -F _cpod cpod
