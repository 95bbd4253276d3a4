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

_cpod_containers() {
        local -a global=()
        local i
        for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
                case ${COMP_WORDS[i]} in
                --root | --runroot | --storage-driver) global+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
                esac
        done
        "${COMP_WORDS[0]}" "${global[@]}" ps -a --noheading --format '{{.Names}}' 2>/dev/null
}

_cpod() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local i cmd="" sub="" words
        local top="attach commit container cp create diff events exec export history image images import
                inspect kill load logs mount pause port ps rename restart rm rmi run save start stats stop system
                tag top umount unmount unpause untag version wait"
        local container_cmds="attach commit cp create diff exec exists export inspect kill list logs ls mount
                pause port prune ps rename restart rm run start stats stop top umount unmount unpause wait"
        local create_opts="--cap-add --cap-drop --cidfile --cpus --detach --detach-keys --entrypoint --env
                --env-file --hostname --init --interactive --label --log-driver --memory --mount --name --network
                --pids-limit --privileged --read-only --restart --rm --runtime --security-opt --stop-signal
                --stop-timeout --tmpfs --tty --ulimit --user --volume --workdir"
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
                        elif [[ -z $sub && ($cmd == image || $cmd == system || $cmd == container) ]]; then
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
        --network | --net) words="none host" ;;
        --restart) words="no on-failure always unless-stopped" ;;
        --log-driver) words="k8s-file none" ;;
        --runtime) words="crun runc" ;;
        -s | --signal | --stop-signal) words="HUP INT QUIT KILL USR1 USR2 TERM STOP CONT" ;;
        -v | --volume | --env-file | --cidfile)
                compopt -o default 2>/dev/null
                COMPREPLY=()
                return
                ;;
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
        if [[ -z $sub && $cmd == container ]]; then
                COMPREPLY=($(compgen -W "$container_cmds --help" -- "$cur"))
                return
        fi
        if [[ -z $sub && $cmd == system ]]; then
                COMPREPLY=($(compgen -W "$system_cmds --help" -- "$cur"))
                return
        fi

        local verb=${sub:-$cmd}
        if [[ $cmd == container ]]; then
                case $sub in
                ls | list) verb=ps ;;
                prune) verb=container-prune ;;
                rm) verb=container-rm ;;
                esac
        fi
        case $verb in
        create | run) words="$create_opts" ;;
        ps) words="--all --filter --format --last --latest --no-trunc --noheading --quiet --size" ;;
        container-rm) words="--all --force --ignore --volumes" ;;
        container-prune) words="--force" ;;
        start) words="--all --attach --detach-keys --interactive" ;;
        stop | restart) words="--all --ignore --time" ;;
        kill) words="--all --signal" ;;
        pause | unpause) words="--all" ;;
        logs) words="--follow --names --since --tail --timestamps --until" ;;
        exec) words="--detach --detach-keys --env --env-file --interactive --privileged --tty --user --workdir" ;;
        attach) words="--detach-keys --no-stdin --sig-proxy" ;;
        wait) words="--condition --ignore --interval" ;;
        stats) words="--all --format --interval --no-reset --no-stream" ;;
        commit) words="--author --change --format --message --pause --quiet" ;;
        diff) words="--format" ;;
        events) words="--filter --format --since --stream --until" ;;
        cp) words="--archive --overwrite" ;;
        images | ls | list) words="--all --digests --filter --format --history --no-trunc --noheading --quiet --sort" ;;
        inspect) words="--format --type" ;;
        history) words="--format --human --no-trunc --noheading --quiet" ;;
        rmi) words="--all --force --ignore" ;;
        rm)
                words="--all --force --ignore"
                [[ $cmd == image ]] || words+=" --volumes"
                ;;
        prune) words="--all --filter --force" ;;
        load) words="--input --quiet" ;;
        save) words="--compress --format --multi-image-archive --output --quiet" ;;
        import) words="--change --message --quiet" ;;
        export) words="--output" ;;
        mount) words="--all" ;;
        unmount | umount) words="--all --force" ;;
        check) words="--repair" ;;
        reset) words="--force" ;;
        df | version) words="--format" ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
                return
        fi
        case $verb in
        import | cp)
                compopt -o default 2>/dev/null
                COMPREPLY=()
                ;;
        load | prune | container-prune | check | df | reset | version | ps | events) COMPREPLY=() ;;
        create | run)
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_cpod_images)" -- "$cur"))
                ;;
        start | stop | restart | kill | container-rm | pause | unpause | logs | exec | attach | wait | stats | \
                commit | diff | rename | port | top | exists)
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_cpod_containers)" -- "$cur"))
                ;;
        rm | mount | umount | unmount | export | inspect)
                local IFS=$'\n'
                if [[ $cmd == image ]]; then
                        COMPREPLY=($(compgen -W "$(_cpod_images)" -- "$cur"))
                elif [[ $verb == inspect && $cmd != container ]]; then
                        COMPREPLY=($(compgen -W "$(_cpod_containers)"$'\n'"$(_cpod_images)" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$(_cpod_containers)" -- "$cur"))
                fi
                ;;
        *)
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_cpod_images)" -- "$cur"))
                ;;
        esac
}

complete -F _cpod cpod
