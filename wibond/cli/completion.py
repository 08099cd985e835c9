"""Bash completion for `wibond`, written from the command's own parser (`make` runs this), so
it offers exactly the subcommands and options the command takes.

    python3 -m wibond.cli.completion > /usr/share/bash-completion/completions/wibond
"""

from __future__ import annotations

import argparse

# What a value is, by the option or argument it belongs to: a file, a directory, a bond.
_FILES = ("--config", "file")
_DIRS = ("outdir",)
_BONDS = ("bond",)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _words(parser: argparse.ArgumentParser) -> tuple[list[str], list[str], list[str]]:
    """(options, options that take a value, positional destinations)."""
    options, valued, positional = [], [], []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            options += action.option_strings
            if action.nargs != 0:
                valued += action.option_strings
        elif not isinstance(action, argparse._SubParsersAction):
            positional.append(action.dest)
    return options, valued, positional


def bash(parser: argparse.ArgumentParser) -> str:
    top_options, _v, _p = _words(parser)
    commands = _subparsers(parser)
    cases = []
    for name, sub in commands.items():
        options, valued, positional = _words(sub)
        file_opts = [o for o in valued if o in _FILES]
        other_valued = [o for o in valued if o not in _FILES]
        arg = ("_filedir" if any(p in _FILES for p in positional)
               else "_filedir -d" if any(p in _DIRS for p in positional)
               else "__wibond_bonds" if any(p in _BONDS for p in positional) else ":")
        values = ""
        if file_opts:
            values += f"\n                {'|'.join(file_opts)}) _filedir; return ;;"
        if other_valued:   # a number of seconds: nothing to offer
            values += f"\n                {'|'.join(other_valued)}) return ;;"
        cases.append(f"""        {name})
            case "$prev" in{values}
            esac
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "{' '.join(options)}" -- "$cur"))
            else
                {arg}
            fi
            ;;""")
    return f"""# bash completion for wibond(8); generated from its parser by wibond.cli.completion
__wibond_bonds()
{{
    local b bonds=()
    for b in /sys/class/net/*/bonding; do
        [[ -e "$b" ]] && bonds+=("$(basename "$(dirname "$b")")")
    done
    COMPREPLY=($(compgen -W "${{bonds[*]}}" -- "$cur"))
}}

_wibond()
{{
    local cur prev words cword
    _init_completion || return
    local i command=""
    for ((i = 1; i < cword; i++)); do
        if [[ "${{words[i]}}" != -* ]]; then
            command="${{words[i]}}"
            break
        fi
    done
    case "$command" in
        "")
            COMPREPLY=($(compgen -W "{' '.join(commands)} {' '.join(top_options)}" -- "$cur"))
            ;;
{chr(10).join(cases)}
    esac
}} &&
    complete -F _wibond wibond
"""


if __name__ == "__main__":
    from .main import build_parser

    print(bash(build_parser()), end="")
