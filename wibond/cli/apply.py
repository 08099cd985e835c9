"""`wibond apply`: the running system brought to /etc/wibond.conf, only what changed."""

from __future__ import annotations

import argparse
import os
import sys

from ..common import paths
from .base import EXIT_ERROR, EXIT_OK, UsageError, print_diagnostics, print_json, refuse_test_root


def cmd_apply(args: argparse.Namespace) -> int:
    from ..config import reader
    from ..runtime import apply
    from ..runtime.context import StepError
    from ..runtime.hostio import Host, HostError

    own = paths.host(paths.CONFIG)
    other = bool(args.config) and os.path.abspath(args.config) != os.path.abspath(own)
    if other and not args.dry_run:
        raise UsageError(f"apply brings the running bonds to {paths.CONFIG}, the file boot "
                         f"reads; to try another file with a way back: wibond try {args.config}"
                         f" (--dry-run shows what it would change)")
    if args.json and not args.dry_run:
        raise UsageError("--json shows the changes of --dry-run; add --dry-run")
    source = args.config if other else own
    shown_as = args.config if other else paths.CONFIG
    loaded = reader.load(source, shown=shown_as)
    if not args.json:
        print_diagnostics(loaded)
    if loaded.errors:
        if args.json:
            print_diagnostics(loaded)
        print(f"wibond apply: {shown_as} has errors (above); nothing changed",
              file=sys.stderr)
        return EXIT_ERROR
    if not args.dry_run:
        if refuse_test_root("apply"):
            return EXIT_ERROR
        if os.geteuid() != 0:
            print("wibond apply: changing the network takes root; --dry-run shows the changes",
                  file=sys.stderr)
            return EXIT_ERROR

    def log(line: str) -> None:
        print(f"  {line}", flush=True)

    host = Host(log)
    try:
        planned = apply.plan(host, loaded)
        the_plan = planned[0]
        if args.json:
            print_json({"config": shown_as,
                        "changes": [{"bond": c.bond, "kind": str(c.kind), "what": c.what or None,
                                     "old": _plain(c.old), "new": _plain(c.new),
                                     "why": c.why or None, "text": c.describe()}
                                    for c in the_plan.changes],
                        "unchanged": list(the_plan.unchanged)})
            return EXIT_OK
        if args.dry_run:
            print("\n".join(the_plan.lines()) or "nothing runs and nothing is configured")
            return EXIT_OK
        for line in the_plan.lines():
            print(line, flush=True)
        if not the_plan.changes:
            return EXIT_OK
        apply.apply(host, loaded, log, planned=planned)
    except (HostError, StepError) as e:
        print(f"wibond apply: {e}", file=sys.stderr)
        return EXIT_ERROR
    print("applied")
    return EXIT_OK


def _plain(value: object) -> object:
    """A config value as JSON holds it: lists as lists, None as null."""
    if value in ("", None):
        return None
    return list(value) if isinstance(value, (list, tuple)) else value
