"""The `wibond` command: check a config, show what boot will generate."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..common import paths
from .apply import cmd_apply
from .base import EXIT_USAGE
from .check import cmd_check, cmd_generate
from .status import cmd_monitor, cmd_status
from .trial import cmd_confirm, cmd_rollback, cmd_try


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


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
    app = sub.add_parser("apply", help="bring the running bonds to /etc/wibond.conf, only what "
                                       "changed")
    app.add_argument("--dry-run", action="store_true", help="print the changes, make none")
    app.set_defaults(func=cmd_apply)
    tr = sub.add_parser("try", help="apply a candidate config with a rollback unless confirmed")
    tr.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                    help="roll back after this many seconds without a confirmation (120)")
    tr.add_argument("file", help="the candidate config")
    tr.set_defaults(func=cmd_try)
    conf = sub.add_parser("confirm", help="keep the pending try: it becomes /etc/wibond.conf")
    conf.set_defaults(func=cmd_confirm)
    rb = sub.add_parser("rollback", help="drop the pending try and apply /etc/wibond.conf")
    rb.add_argument("--deadline", action="store_true", help=argparse.SUPPRESS)
    rb.set_defaults(func=cmd_rollback)
    status = sub.add_parser("status", help="show each bond, its slaves and matching devices")
    status.add_argument("--config", help=f"the config (default {paths.CONFIG})")
    status.add_argument("--json", action="store_true",
                        help="the same report as JSON, for scripts and monitoring")
    status.add_argument("bond", nargs="*", help="only these bonds")
    status.set_defaults(func=cmd_status)
    mon = sub.add_parser("monitor", help="print slave and failover changes as they happen")
    mon.add_argument("--config", help=f"the config (default {paths.CONFIG})")
    mon.add_argument("--interval", type=float, default=0.2, help="seconds between looks (0.2)")
    mon.add_argument("--duration", type=float, help="stop after this many seconds")
    mon.add_argument("bond", nargs="*", help="only these bonds")
    mon.set_defaults(func=cmd_monitor)
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
