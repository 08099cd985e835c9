"""The `wibond` command: check a config, show what boot will generate."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__, config, paths
from .plan import plan_all
from .writer import WriteError, write_plan

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _print_diagnostics(loaded: config.Loaded) -> None:
    for diag in sorted(loaded.diagnostics, key=lambda d: (d.line or 0, d.severity)):
        print(diag, file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    path = args.file or paths.host(paths.CONFIG)
    loaded = config.load(path)
    _print_diagnostics(loaded)
    if loaded.errors:
        errors, warnings = len(loaded.errors), len(loaded.diagnostics) - len(loaded.errors)
        print(f"{path}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return EXIT_ERROR
    for bond in loaded.bonds:
        slaves = ", ".join(f"{s.name} ({s.type})" for s in bond.slaves)
        dhcp = ", ".join(bond.dhcp) or "none"
        static = ", ".join(bond.address) or "none"
        print(f"{bond.name}: {bond.mode}, primary {bond.primary}, slaves {slaves}; "
              f"dhcp {dhcp}; static {static}")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    outdir = args.outdir
    if os.path.isdir(outdir) and os.listdir(outdir):
        print(f"wibond generate: {outdir} is not empty; give a new or empty directory",
              file=sys.stderr)
        return EXIT_USAGE
    loaded = config.load(args.config)
    _print_diagnostics(loaded)
    try:
        os.makedirs(outdir, exist_ok=True)
        write_plan(plan_all(loaded.bonds, paths.CONFIG), outdir)
    except (WriteError, OSError) as e:
        print(f"wibond generate: {e}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ERROR if loaded.errors else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wibond", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wibond {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser("check", help="check a config and print every error and warning")
    check.add_argument("file", nargs="?", help=f"the config (default {paths.CONFIG})")
    check.set_defaults(func=cmd_check)
    gen = sub.add_parser("generate", help="write what the generator would write at boot")
    gen.add_argument("--config", required=True, help="the config to read")
    gen.add_argument("outdir", help="a new or empty directory")
    gen.set_defaults(func=cmd_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
