#!/usr/bin/env python3
"""`make demo`: wibond's main job on a real kernel, told as a story.

Boots the lab's VM (tests/lab/README.md) with a scenario's /etc/wibond.conf (the ArchWiki
setup by default), prints the scenario's own narration as it happens (the guest's say()
lines: the config, what wibond generated, the bond coming up, the fault, who carries the
traffic, what was lost), then the figures, the ping timeline around each fault in the
terminal and as a picture. The guest's console (kernel, systemd, the journal) goes to a log
file and is shown only with --verbose. The first run builds the guest image (a few minutes):
a progress line says what it is doing.

    python3 tests/lab/host/demo.py [SCENARIO] [--suite SUITE] [--verbose] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import image
import labrun
import timeline
from catalog import DEFAULT_CACHE, DEFAULT_SUITE, SUITES, scenario_dir, scenario_suites

STORY = "wibond-demo| "
# Console lines --verbose shows besides the story: the journal's lines of wibond's units.
VERBOSE = re.compile(r"wibond|bond0|supplicant|dhclient|dhcp6c|dhcpcd")
INTRO = {
    "archwiki": """\
This demo boots a small Debian VM (QEMU, a real Linux kernel with the bonding driver and
simulated Wi-Fi) wired to a simulated LAN: a router with DHCP, a cable (eth0) and a WPA2
access point for the radio (wlan0). /etc/wibond.conf holds the ArchWiki page's setup: one
bond, the cable as primary, the radio as backup, DHCP for IPv4 and IPv6. Nothing else is
configured: wibond's generator makes the units at boot. Then we pull the cable while pinging
the router every 10 ms, and plug it back.""",
}


def say(text: str = "") -> None:
    print(text, flush=True)


def para(text: str) -> None:
    say(textwrap.fill(" ".join(text.split()), 92))


class Progress:
    """One line rewritten in place (a terminal) or a line every 30 s (a log): what a long step
    is doing and for how long."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.detail = ""
        self.t0 = time.monotonic()
        self.tty = sys.stdout.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2)
        if self.tty:
            sys.stdout.write("\r\033[K")
        say(f"  {self.what}: done in {self._elapsed()}")

    def _elapsed(self) -> str:
        s = int(time.monotonic() - self.t0)
        return f"{s // 60}:{s % 60:02d}"

    def _run(self) -> None:
        last = 0.0
        while not self._stop.wait(1):
            line = f"  {self.what}: {self._elapsed()} {self.detail}"[:100]
            if self.tty:
                sys.stdout.write("\r\033[K" + line)
                sys.stdout.flush()
            elif time.monotonic() - last >= 30:
                say(line)
                last = time.monotonic()


def ensure_image(cache: str, suite: str, log: Path) -> None:
    """build-image (a no-op of seconds when the cached image is current), its output to LOG,
    its latest step on the progress line."""
    say(f"  The VM's disk image: built once (a few minutes) and cached; its log: {log}")
    with Progress(f"the {suite} guest image") as prog, open(log, "w") as out:
        p = subprocess.Popen([sys.executable, str(image.BUILD_IMAGE), "--cache", cache,
                              "--suite", suite], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        assert p.stdout is not None
        lines = []
        for line in p.stdout:
            out.write(line)
            lines.append(line)
            prog.detail = re.sub(r"^\[build-image [0-9:]+\] ", "", line.strip())
        if p.wait() != 0:
            raise SystemExit(f"demo: building the guest image failed; see {log}")
    image._image_checked[(cache, suite, "amd64")] = "".join(lines)


def follow(console: Path, verbose: bool, done: threading.Event, prog: Progress) -> None:
    """The story as the guest tells it; with VERBOSE also wibond's journal lines."""
    while not console.exists() and not done.is_set():
        time.sleep(0.2)
    if not console.exists():
        return
    told = False
    with open(console, errors="replace") as f:
        buf = ""
        while True:
            chunk = f.read()
            if not chunk:
                if done.is_set():
                    return
                time.sleep(0.2)
                continue
            buf += chunk
            *lines, buf = buf.split("\n")
            for ln in lines:
                ln = ln.rstrip("\r")
                at = ln.find(STORY)
                if at >= 0:
                    if not told:
                        prog.stop()
                        told = True
                    say("  " + ln[at + len(STORY):])
                elif verbose and VERBOSE.search(ln):
                    say("    | " + ln)


def figures(result: dict) -> None:
    checks = result.get("checks", [])
    failed = [c for c in checks if not c["passed"]]
    say()
    say(f"== {len(checks) - len(failed)} of {len(checks)} checks passed"
        + ("" if not failed else "; failed:"))
    for c in failed:
        say(f"   FAILED: {c['name']}: {str(c.get('detail'))[:300]}")
    wanted = ("time to active slave change", "pings lost", "longest gap", "time to failover",
              "failback time", "boot:")
    shown = [f for f in result.get("figures", []) if any(w in f["name"] for w in wanted)]
    if shown:
        say("== figures")
        for f in shown:
            value = round(f["value"], 1) if isinstance(f["value"], float) else f["value"]
            say(f"   {f['name']}: {value} {f['unit']}".rstrip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="archwiki")
    ap.add_argument("--suite", choices=SUITES, default=DEFAULT_SUITE)
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="also show wibond's journal lines from the guest's console")
    ap.add_argument("--out", help="where the run's files go (default under the lab cache)")
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("demo: run it as root (it installs QEMU if missing, boots a VM and mounts a "
              "share)", file=sys.stderr)
        return 2
    try:
        if a.suite not in scenario_suites(scenario_dir(a.scenario)):
            print(f"demo: {a.scenario} does not run on {a.suite}", file=sys.stderr)
            return 2
    except (FileNotFoundError, ValueError) as e:
        print(f"demo: {e}; `python3 tests/lab/host/labrun.py list` names them", file=sys.stderr)
        return 2
    out = Path(a.out or Path(a.cache) / "demo" / f"{a.suite}-{a.scenario}")
    out.parent.mkdir(parents=True, exist_ok=True)
    say(f"== wibond demo: {a.scenario} on Debian {a.suite}")
    para(INTRO.get(a.scenario, f"This demo boots the lab's VM with the {a.scenario} scenario's "
                               f"/etc/wibond.conf and runs its checks."))
    say()
    Path(a.cache).mkdir(parents=True, exist_ok=True)
    ensure_image(a.cache, a.suite, Path(a.cache) / f"demo-build-image-{a.suite}.log")
    say(f"  the guest's console (kernel, systemd, journal) goes to {out / 'console.log'}"
        + ("" if a.verbose else "; --verbose shows wibond's lines of it here"))
    # The follower must not read a console.log of an earlier run.
    shutil.rmtree(out, ignore_errors=True)
    done = threading.Event()
    with Progress("booting the VM (under emulation: about a minute)") as prog:
        follower = threading.Thread(target=follow, args=(out / "console.log", a.verbose, done, prog),
                                    daemon=True)
        follower.start()
        try:
            result = labrun.run_scenario(a.scenario, out=out, cache=a.cache, quiet=True,
                                         console_journal=a.verbose, suite=a.suite)
        finally:
            done.set()
            follower.join(5)
    figures(result)
    timelines = timeline.load(out)
    if timelines:
        say("== the pings around each fault (a ping every 10 ms to the router)")
        for tl in timelines:
            for line in timeline.terminal(tl):
                say("   " + line)
        try:
            png = timeline.draw(timelines, out / "timeline.png",
                                f"wibond demo: {a.scenario} on Debian {a.suite}")
            say(f"   picture: {png}")
        except ImportError:
            say("   (no picture: matplotlib is not installed here; `make demo` installs it)")
    say(f"== {'PASSED' if result['passed'] else 'FAILED'}; everything the run left is in {out}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
