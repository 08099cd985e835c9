"""The `wibond` command: check a config, show what boot makes of it, change a running system
(apply, try, confirm, rollback), and show the bonds (status, monitor, metrics)."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..common import paths
from .apply import cmd_apply
from .base import EXIT_USAGE, UsageError
from .bugreport import cmd_report
from .check import cmd_check, cmd_generate
from .metrics import cmd_metrics
from .status import cmd_monitor, cmd_status
from .trial import cmd_confirm, cmd_rollback, cmd_try


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _positive(text: str) -> float:
    """A number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not above 0 seconds")
    return value


def _config(p: argparse.ArgumentParser, default: str = paths.CONFIG) -> None:
    p.add_argument("--config", metavar="FILE", help=f"the config to read (default {default})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wibond", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wibond {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="check a config and print every error and warning")
    _config(check)
    check.add_argument("file", nargs="?", metavar="FILE", help="the config (as --config)")
    check.add_argument("--json", action="store_true",
                       help="the problems and the bonds as JSON, for scripts")
    check.set_defaults(func=cmd_check)

    gen = sub.add_parser("generate", help="write what the generator would write at boot")
    _config(gen)
    gen.add_argument("outdir", metavar="OUTDIR", help="a new or empty directory")
    gen.set_defaults(func=cmd_generate)

    app = sub.add_parser("apply", help=f"bring the running bonds to {paths.CONFIG}, only "
                                       "what changed")
    _config(app)
    app.add_argument("--dry-run", action="store_true",
                     help="print the changes, make none (with --config FILE: what `wibond try "
                          "FILE` would change)")
    app.add_argument("--json", action="store_true", help="with --dry-run: the changes as JSON")
    app.set_defaults(func=cmd_apply)

    tr = sub.add_parser("try", help="apply a candidate config with a rollback unless confirmed")
    _config(tr)
    tr.add_argument("--timeout", type=_positive, default=120.0, metavar="SECONDS",
                    help="roll back after this many seconds without a confirmation (120)")
    tr.add_argument("file", nargs="?", metavar="FILE",
                    help=f"the candidate (as --config; default {paths.CONFIG} as edited, "
                         "rolled back to the text the bonds run)")
    tr.add_argument("--no-wait", action="store_true",
                    help="return once the check passes (exit 0), the try still pending: for "
                         "a config manager that reconnects, then runs `wibond confirm`")
    tr.set_defaults(func=cmd_try)

    conf = sub.add_parser("confirm", help=f"keep the pending try: it becomes {paths.CONFIG}")
    conf.set_defaults(func=cmd_confirm)
    rb = sub.add_parser("rollback", help=f"drop the pending try and apply {paths.CONFIG}")
    rb.add_argument("--deadline", action="store_true", help=argparse.SUPPRESS)
    rb.set_defaults(func=cmd_rollback)

    status = sub.add_parser("status", help="show each bond, its slaves and matching devices")
    _config(status, "the config in force")
    status.add_argument("--json", action="store_true",
                        help="the same report as JSON, for scripts and monitoring")
    status.add_argument("bond", nargs="*", metavar="BOND", help="only these bonds")
    status.set_defaults(func=cmd_status)

    mon = sub.add_parser("monitor", help="print slave and failover changes as they happen")
    _config(mon, "the config in force")
    mon.add_argument("--interval", type=_positive, default=0.2, metavar="SECONDS",
                     help="seconds between looks (0.2)")
    mon.add_argument("--duration", type=_positive, metavar="SECONDS",
                     help="stop after this many seconds")
    mon.add_argument("bond", nargs="*", metavar="BOND", help="only these bonds")
    mon.set_defaults(func=cmd_monitor)

    met = sub.add_parser("metrics", help="the bonds in Prometheus' text format (node_exporter's "
                                         "textfile collector)")
    _config(met, "the config in force")
    met.add_argument("--textfile-dir", metavar="DIR",
                     help=f"write DIR/wibond.prom instead of printing (node_exporter's "
                          f"--collector.textfile.directory; Debian's: {paths.TEXTFILE_DIR})")
    met.add_argument("--follow", action="store_true",
                     help="keep DIR/wibond.prom current until stopped, counting failovers "
                          "(what wibond-metrics.service runs)")
    met.add_argument("--interval", type=_positive, default=15.0, metavar="SECONDS",
                     help="with --follow: how often to look again at a radio's signal and a "
                          "lease (15); a failover is written at once")
    met.set_defaults(func=cmd_metrics)

    rep = sub.add_parser("report", help="what a hardware bug report needs, keys replaced")
    _config(rep, "the config in force")
    rep.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as e:
        parser.print_usage(sys.stderr)
        print(f"wibond {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
