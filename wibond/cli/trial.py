"""`wibond try`, `wibond confirm`, `wibond rollback`: a config change with a way back."""

from __future__ import annotations

import argparse
import os
import select
import shutil
import sys
import time

from ..common import paths
from .base import EXIT_ERROR, EXIT_OK, config_path, refuse_test_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..runtime.hostio import Host


def _log(line: str) -> None:
    """A step of a try, confirm or rollback: on the terminal and in the journal."""
    from ..runtime.trial import journal

    print(f"  {line}", flush=True)
    journal(line)


def _root(command: str) -> bool:
    if refuse_test_root(command):
        return False
    if os.geteuid() != 0:
        print(f"wibond {command}: changing the network takes root", file=sys.stderr)
        return False
    return True


def _wibond() -> str:
    """This command's path, for the rollback timer to run."""
    me = sys.argv[0]
    if os.path.basename(me) == "wibond" and os.access(me, os.X_OK):
        return os.path.abspath(me)
    return shutil.which("wibond") or "/usr/bin/wibond"


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def cmd_try(args: argparse.Namespace) -> int:
    from ..runtime import apply, trial
    from ..runtime.context import StepError
    from ..runtime.hostio import Host, HostError

    if not _root("try"):
        return EXIT_ERROR
    candidate = config_path(args)
    host = Host(_log)
    t0 = time.monotonic()
    began = time.time()
    try:
        with open(candidate, "rb") as f:
            tried = f.read()
        loaded = trial.start(host, candidate, args.timeout, _wibond(), _log)
    except OSError as e:
        print(f"wibond try: cannot read {candidate}: {e.strerror}", file=sys.stderr)
        return EXIT_ERROR
    except trial.TryError as e:
        print(f"wibond try: {e}", file=sys.stderr)
        return EXIT_ERROR
    deadline = time.time() + args.timeout
    pending = trial.pending()
    if pending and pending["deadline"]:
        deadline = pending["deadline"]
    print(f"trying {candidate}; it rolls back at {_clock(deadline)} unless confirmed",
          flush=True)
    problem: str | None
    try:
        with trial.Lock():
            planned = apply.plan(host, loaded)
            the_plan = planned[0]
            for line in the_plan.lines():
                print(line, flush=True)
                trial.journal(line)
            apply.apply(host, loaded, _log, planned=planned)
            problem = trial.verify(host, loaded, min(60.0, args.timeout / 2), _log,
                                   since=began)
    except (HostError, StepError) as e:
        problem = str(e)
    if problem:
        print(f"the tried config does not work: {problem}; rolling back", flush=True)
        trial.journal(f"try of {candidate} failed its check: {problem}")
        t = time.monotonic()
        trial.rollback(host, _log, f"check failed: {problem}")
        print(f"rolled back in {time.monotonic() - t:.1f} s ({time.monotonic() - t0:.1f} s "
              f"after the try began); {paths.CONFIG} is as it was before the try"
              + (f" (the edit: {trial.REJECTED})" if trial.in_place(candidate) else ""))
        return EXIT_ERROR
    works = "it works: every bond has an active slave, its addresses and its gateway.\n"
    if args.no_wait:
        # A config manager's hand-off: it reconnects over the new path, then confirms.
        print(works + f"The try is pending: `wibond confirm` keeps it; without it, it rolls "
                      f"back at {_clock(deadline)}.", flush=True)
        return EXIT_OK
    print(works + f"Press Enter to keep it, or run `wibond confirm` from a new login (which "
                  f"proves the new path works). Without either it rolls back at "
                  f"{_clock(deadline)}.", flush=True)
    return _wait(host, deadline, tried)


def _wait(host: Host, deadline: float, tried: bytes) -> int:
    """Enter here, `wibond confirm` elsewhere, or the timer's rollback: which came first."""
    from ..runtime import trial

    watch_stdin = True
    while True:
        if not trial.pending():
            # Confirmed or rolled back by another command (or the timer).
            kept = _read(paths.CONFIG) == tried
            print("confirmed by `wibond confirm`" if kept else "rolled back", flush=True)
            return EXIT_OK if kept else EXIT_ERROR
        ready = []
        if watch_stdin:
            ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        else:
            time.sleep(1.0)
        if ready:
            line = sys.stdin.readline()
            if line == "":
                watch_stdin = False   # end of input is no confirmation: the timer decides
                continue
            try:
                kept = trial.confirm(host, _log)
            except trial.TryError as e:
                print(f"wibond try: {e}", file=sys.stderr)
                continue
            print(f"confirmed: {paths.CONFIG} is the tried config"
                  + (f"; the old one is {kept}" if kept else ""))
            return EXIT_OK
        if time.time() > deadline + 60:
            print("the deadline passed and no rollback came: `wibond rollback`", file=sys.stderr)
            return EXIT_ERROR


def _read(path: str) -> bytes | None:
    try:
        with open(paths.host(path), "rb") as f:
            return f.read()
    except OSError:
        return None


def cmd_confirm(args: argparse.Namespace) -> int:
    from ..runtime import trial
    from ..runtime.hostio import Host

    if not _root("confirm"):
        return EXIT_ERROR
    try:
        kept = trial.confirm(Host(_log), _log)
    except trial.TryError as e:
        print(f"wibond confirm: {e}", file=sys.stderr)
        return EXIT_ERROR
    print(f"confirmed: {paths.CONFIG} is the tried config" + (f"; the old one is {kept}" if kept else ""))
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from ..runtime import trial
    from ..runtime.context import StepError
    from ..runtime.hostio import Host, HostError

    if not _root("rollback"):
        return EXIT_ERROR
    why = "the deadline passed" if args.deadline else "wibond rollback"
    try:
        the_plan = trial.rollback(Host(_log), _log, why)
    except (trial.TryError, HostError, StepError) as e:
        print(f"wibond rollback: {e}", file=sys.stderr)
        return EXIT_ERROR
    if the_plan is None:
        # As confirm says it (exit 1); the timer's own run found a try confirmed or rolled
        # back just before it: its unit must not end failed.
        print("wibond rollback: no try is pending (nothing to roll back)", file=sys.stderr)
        return EXIT_OK if args.deadline else EXIT_ERROR
    for line in the_plan.lines():
        print(line)
    print(f"rolled back ({why}): {paths.CONFIG} is in force")
    return EXIT_OK
