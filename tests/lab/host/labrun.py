#!/usr/bin/env python3
"""Run wibond lab scenarios in a QEMU (TCG) VM with Debian's kernel: bonding + mac80211_hwsim.

CLI:
    python3 tests/lab/host/labrun.py run SCENARIO [SCENARIO ...] [--suite SUITE] [--out DIR] [--timeout S]
                                    [--boot-each] [--jobs N] [--no-install] [--console-journal]
                                    [--json]
    python3 tests/lab/host/labrun.py list
    python3 tests/lab/host/labrun.py build [build-image args]     (same as tests/lab/host/build-image)

SCENARIO is a name under tests/lab/scenarios/ or a path to a scenario directory.  SUITE is the
guest's Debian suite: bookworm (systemd 252), trixie (257) or sid (262); default
$WIBOND_LAB_SUITE, else bookworm.  A scenario's fixture.json may limit the suites it runs on
("suites": [...]).  Consecutive
scenarios whose fixture.json says "shared_boot": true (and that have no etc/ of their own) run
in one boot, with a cleanup between them; every other scenario gets a boot of its own.
--boot-each gives every scenario its own boot.  Exit status 1 if any scenario failed.

From Python / pytest:
    sys.path.insert(0, "tests/lab/host"); import labrun
    res = labrun.run_scenario("boot")            # one boot, one scenario
    results = labrun.run_scenarios(["boot", "plain-bond"])
    assert res["passed"], labrun.failed_checks(res)

Per boot (see README.md): tests/lab/host/build-image (seconds when the cached image is current) ->
a share dir with guest/, scenarios/<name>/, plan.json and rootfs/ (= `make install DESTDIR=`
+ tests/lab/guest-root/ + the lab unit links + the scenario's etc/) -> qemu -snapshot on the cached
root.img; the initramfs copies rootfs/ over the root -> results in out/<name>/.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from boot import run_boot
from catalog import (
    ARCHES,
    DEFAULT_ARCH,
    DEFAULT_CACHE,
    DEFAULT_SUITE,
    SUITES,
    can_share_boot,
    fixture_config,
    list_scenarios,
    scenario_dir,
    scenario_suites,
)
from deadlines import SUITE_FACTOR
from image import BUILD_IMAGE, image_dir, lab_available
from results import _default_out, _log, failed_checks

# The lab's Python API (tests/test_lab.py, benchmarks/lab.py) is this module's names.
__all__ = ["ARCHES", "DEFAULT_ARCH", "DEFAULT_CACHE", "DEFAULT_SUITE", "SUITES", "failed_checks",
           "fixture_config", "lab_available", "list_scenarios", "main", "plan_boots", "run_boot",
           "run_matrix", "run_scenario", "run_scenarios", "scenario_dir", "scenario_suites"]


def plan_boots(names, boot_each=False):
    """Group scenario names into boots: runs of consecutive shareable scenarios share one."""
    boots = []
    for n in names:
        share = not boot_each and can_share_boot(scenario_dir(n))
        if share and boots and boots[-1][0] and n not in boots[-1][1]:
            boots[-1][1].append(n)
        else:
            boots.append((share, [n]))
    return [b for _s, b in boots]


def _expected_s(group):
    return sum(float(fixture_config(scenario_dir(n)).get("timeout", 300)) for n in group)


def run_scenarios(names, out=None, timeout=None, install=True, cache=DEFAULT_CACHE,
                  console_journal=False, quiet=False, boot_each=False, append="", follow=None,
                  jobs=1, suite=DEFAULT_SUITE, arch=DEFAULT_ARCH):
    """Run scenarios (sharing boots where allowed); returns one result dict per scenario, in
    the order of `names`.  Output: <out>/<name>/ for each scenario (<out> defaults to
    <cache>/runs/<time>/).  jobs > 1 runs that many boots at once, the longest first."""
    out = Path(out) if out else _default_out(
        cache, f"{suite}-" + "+".join(Path(n).name for n in names)[:80])
    done = run_matrix([(suite, n) for n in names], {suite: out}, timeout=timeout,
                      install=install, cache=cache, console_journal=console_journal,
                      quiet=quiet, boot_each=boot_each, append=append, follow=follow, jobs=jobs,
                      arch=arch)
    return [done[(suite, scenario_dir(n).name)] for n in names]


def run_matrix(runs, outs, timeout=None, install=True, cache=DEFAULT_CACHE,
               console_journal=False, quiet=False, boot_each=False, append="", follow=None,
               jobs=1, arch=DEFAULT_ARCH):
    """Run (suite, scenario) pairs: each suite's scenarios grouped into boots as
    run_scenarios does, and all boots of all suites in one pool of `jobs`, the longest first,
    so no CPU idles while one suite's last boot runs.  outs[suite] is that suite's output
    directory.  Returns {(suite, scenario): result}."""
    suites = list(dict.fromkeys(s for s, _n in runs))
    boots = [(suite, group) for suite in suites
             for group in plan_boots([n for s, n in runs if s == suite], boot_each)]

    def one(boot):
        suite, group = boot
        out = Path(outs[suite])
        bdir = out / group[0] if len(group) == 1 else out / ("boot-" + "+".join(group))
        res = run_boot(group, bdir, timeout=timeout, install=install, cache=cache,
                       console_journal=console_journal, quiet=quiet, append=append,
                       follow=follow, suite=suite, arch=arch)
        if len(group) > 1:  # make <out>/<name> exist for every scenario
            for r in res:
                link = out / r["scenario"]
                if not link.exists():
                    link.symlink_to(Path(r["out_dir"]).relative_to(out))
        return res

    if jobs <= 1 or len(boots) <= 1:
        done = [r for b in boots for r in one(b)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        for suite in suites:
            try:
                image_dir(cache, suite=suite, arch=arch)  # build-image once, before the boots
            except (RuntimeError, FileNotFoundError):
                pass  # each boot reports it
        order = sorted(boots, key=lambda b: _expected_s(b[1]) * SUITE_FACTOR.get(b[0], 1.5),
                       reverse=True)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            done = [r for res in pool.map(one, order) for r in res]
    return {(r["suite"], r["scenario"]): r for r in done}


def run_scenario(name, out=None, timeout=None, install=True, cache=DEFAULT_CACHE,
                 console_journal=False, quiet=False, append="", follow=None, suite=DEFAULT_SUITE,
                 arch=DEFAULT_ARCH):
    """Boot once, run scenario `name`, return its result dict (never raises for a failing
    scenario; 'passed' says it).  Result also saved as <out>/result.json."""
    sname = scenario_dir(name).name
    out = Path(out) if out else _default_out(cache, f"{suite}-{sname}")
    return run_boot([name], out, timeout=timeout, install=install, cache=cache,
                    console_journal=console_journal, quiet=quiet, append=append,
                    follow=follow, suite=suite, arch=arch)[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run scenarios (boots shared where the scenarios allow)")
    r.add_argument("scenarios", nargs="+")
    r.add_argument("--out", help="output dir (with one scenario: its dir; else one subdir each)")
    r.add_argument("--timeout", type=float, help="QEMU wall-clock deadline per boot, seconds")
    r.add_argument("--boot-each", action="store_true", help="one boot per scenario, always")
    r.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="boots at once (2 suits 2 CPUs: each TCG guest is mostly one busy thread)")
    r.add_argument("--no-install", action="store_true", help="skip make install (product absent)")
    r.add_argument("--console-journal", action="store_true", help="forward the journal to the console")
    r.add_argument("--append", default="", help="extra kernel command line (e.g. systemd.log_level=debug)")
    r.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    r.add_argument("--follow", metavar="REGEX",
                   help="print console lines matching REGEX live (with --console-journal: journal too)")
    r.add_argument("--cache", default=DEFAULT_CACHE)
    r.add_argument("--suite", choices=SUITES, default=DEFAULT_SUITE,
                   help="the guest's Debian suite (default $WIBOND_LAB_SUITE or bookworm)")
    r.add_argument("--arch", choices=ARCHES, default=DEFAULT_ARCH,
                   help="the guest's architecture (default $WIBOND_LAB_ARCH or amd64); arm64 "
                        "installs wibond from its Arch package")
    sub.add_parser("list", help="list scenarios")
    b = sub.add_parser("build", help="build/refresh the cached image (tests/lab/host/build-image)")
    b.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)

    if a.cmd == "list":
        print("\n".join(list_scenarios()))
        return 0
    if a.cmd == "build":
        return subprocess.run([sys.executable, str(BUILD_IMAGE)] + a.args).returncode
    if os.geteuid() != 0:
        print("labrun: must run as root (qemu, 9p, make install into the run tree)", file=sys.stderr)
        return 2
    for s in a.scenarios:
        if a.suite not in scenario_suites(scenario_dir(s)):  # also fails early on a typo
            print(f"labrun: {s} does not run on {a.suite} (its fixture.json says "
                  f"{scenario_suites(scenario_dir(s))})", file=sys.stderr)
            return 2
    t0 = time.monotonic()
    _log(f"checking the cached {a.suite} image (tests/lab/host/build-image --suite {a.suite})")
    image_dir(a.cache, suite=a.suite, arch=a.arch)
    _log(f"image ready in {time.monotonic() - t0:.1f}s")
    if a.out and len(a.scenarios) == 1:
        results = [run_scenario(a.scenarios[0], out=a.out, timeout=a.timeout,
                                install=not a.no_install, cache=a.cache,
                                console_journal=a.console_journal, append=a.append,
                                follow=a.follow, suite=a.suite, arch=a.arch)]
    else:
        results = run_scenarios(a.scenarios, out=a.out, timeout=a.timeout,
                                install=not a.no_install, cache=a.cache,
                                console_journal=a.console_journal, boot_each=a.boot_each,
                                append=a.append, follow=a.follow, jobs=a.jobs, suite=a.suite,
                                arch=a.arch)
    print("\n=== summary")
    print("  (wall = the whole boot the scenario ran in; check = its check.py in the guest)")
    for r in results:
        t = r["timings"]
        shared = f"  [one boot: {'+'.join(r['shared_boot_with'])}]" if r.get("shared_boot_with") else ""
        print(f"  {'PASS' if r['passed'] else 'FAIL'}  {r['scenario']:<20} {r.get('suite', ''):<9} wall {t.get('total_s', 0):6.1f}s"
              f"  check {t.get('check_s', 0):5.1f}s  {r['out_dir']}{shared}")
    nfail = sum(not r["passed"] for r in results)
    print(f"  {len(results) - nfail}/{len(results)} passed in {time.monotonic() - t0:.0f}s")
    if a.json:
        print(json.dumps(results, indent=2, default=str))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
