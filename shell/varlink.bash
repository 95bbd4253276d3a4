# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for varlink(1): the tool itself knows its commands and asks
# services for their interfaces and methods ("varlink complete").

_varlink() {
        local line words cword cur prefix c IFS
        local -a candidates

        # COMP_WORDS splits at ':' and '=', which addresses and options are full
        # of; split the line at blanks only.
        line=${COMP_LINE:0:COMP_POINT}
        read -r -a words <<<"$line"
        if [[ -z $line || $line == *[[:blank:]] ]]; then
                words+=("")
        fi
        cword=$((${#words[@]} - 1))
        cur=${words[cword]}

        IFS=$'\n'
        candidates=($("${words[0]}" complete "$cword" -- "${words[@]}" 2>/dev/null))
        unset IFS

        if ((${#candidates[@]} == 0)); then
                # Addresses are often socket paths, parameters often files.
                compopt -o default 2>/dev/null
                COMPREPLY=()
                return 0
        fi

        # bash replaces only the part of the word after the last ':' or '='.
        prefix=${cur%"${cur##*[:=]}"}
        COMPREPLY=()
        for c in "${candidates[@]}"; do
                COMPREPLY+=("${c#"$prefix"}")
        done
        if ((${#COMPREPLY[@]} == 1)) && [[ ${candidates[0]} == *= ]]; then
                compopt -o nospace 2>/dev/null
        fi
        return 0
}

complete -F _varlink varlink
