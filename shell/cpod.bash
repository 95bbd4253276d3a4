# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for cpod(1): commands, their flags, and local image names.

_cpod_images() {
        local -a global=()
        local i
        # keep the store the line names
        for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
                case ${COMP_WORDS[i]} in
                --root | --runroot | --storage-driver) global+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
                esac
        done
        "${COMP_WORDS[0]}" "${global[@]}" images --noheading \
                --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '^<none>'
}

_cpod() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local i cmd="" sub="" words
        local top="history image images import inspect load rmi save system tag untag version"
        local image_cmds="exists export history import inspect list load ls mount prune rm save tag tree umount unmount untag"
        local system_cmds="check df reset"
        local global_opts="--help --log-level --registries-conf --root --runroot --storage-driver --version"

        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --root | --runroot | --storage-driver | --log-level | --registries-conf) ((i++)) ;;
                -*) ;;
                *)
                        if [[ -z $cmd ]]; then
                                cmd=${COMP_WORDS[i]}
                        elif [[ -z $sub && ($cmd == image || $cmd == system) ]]; then
                                sub=${COMP_WORDS[i]}
                        fi
                        ;;
                esac
        done

        case $prev in
        --root | --runroot | -i | --input | -o | --output | --registries-conf)
                compopt -o default 2>/dev/null
                COMPREPLY=()
                return
                ;;
        --storage-driver) words="overlay vfs" ;;
        --log-level) words="debug info warn error" ;;
        --sort) words="created id repository size tag" ;;
        --format)
                if [[ $cmd == save || $sub == save ]]; then
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

        if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$top" -- "$cur"))
                fi
                return
        fi
        if [[ -z $sub && $cmd == image ]]; then
                COMPREPLY=($(compgen -W "$image_cmds --help" -- "$cur"))
                return
        fi
        if [[ -z $sub && $cmd == system ]]; then
                COMPREPLY=($(compgen -W "$system_cmds --help" -- "$cur"))
                return
        fi

        case ${sub:-$cmd} in
        images | ls | list) words="--all --digests --filter --format --history --no-trunc --noheading --quiet --sort" ;;
        inspect) words="--format --type" ;;
        history) words="--format --human --no-trunc --noheading --quiet" ;;
        rmi | rm) words="--all --force --ignore" ;;
        prune) words="--all --filter --force" ;;
        load) words="--input --quiet" ;;
        save) words="--compress --format --multi-image-archive --output --quiet" ;;
        import) words="--change --message --quiet" ;;
        export) words="--output" ;;
        unmount | umount) words="--all --force" ;;
        check) words="--repair" ;;
        reset) words="--force" ;;
        df | version) words="--format" ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
                return
        fi
        case ${sub:-$cmd} in
        import)
                compopt -o default 2>/dev/null
                COMPREPLY=()
                ;;
        load | prune | check | df | reset | version) COMPREPLY=() ;;
        *)
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_cpod_images)" -- "$cur"))
                ;;
        esac
}

complete -F _cpod cpod
