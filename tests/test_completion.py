"""Bash completion, made from the parser: it offers every subcommand and each one's options,
and what it offers is what the command takes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wibond.cli.completion import bash
from wibond.cli.main import build_parser

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")

# bash-completion's helpers, reduced to what the script uses.
STUBS = """
_init_completion() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}";
                     words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
_filedir() { COMPREPLY=("<files$1>"); }
"""


def offered(*words: str) -> list[str]:
    line = " ".join(f"'{w}'" for w in ("wibond",) + words)
    script = (STUBS + bash(build_parser()) +
              f"\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; _wibond; "
              'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return sorted(filter(None, out.stdout.splitlines()))


def test_every_subcommand_and_its_options_are_offered() -> None:
    parser = build_parser()
    commands = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0]
    assert set(offered("")) >= set(commands.choices) | {"--version"}
    assert offered("st") == ["status"]
    for name, sub in commands.choices.items():
        options = {o for a in sub._actions for o in a.option_strings
                   if a.help != "==SUPPRESS=="}
        assert set(offered(name, "-")) == options, name
    assert "--deadline" not in offered("rollback", "-")      # hidden: the timer's own


def test_values_are_completed_by_what_they_are() -> None:
    assert offered("check", "") == ["<files>"]
    assert offered("try", "--config", "") == ["<files>"]
    assert offered("generate", "") == ["<files-d>"]
    assert offered("monitor", "--interval", "") == []
