"""Benchmark on a real kernel: failover loss, bring-up cost and boot time, in the VM lab.

Boots the lab (tests/lab/, as root) with the `bench`, `bench-seed` and `bench-seed-boot`
scenarios (bench-seed: wibond's bring-up, start, stop and restart beside the same steps as plain
commands and the ArchWiki page's own units, with ratios, and the CPU of each unit;
bench-seed-boot: the seed's units at boot, for the boot ratio) and, unless --only-bench, the
scenarios whose figures complete the picture (archwiki: wire cut/restore with DHCP;
raspberry-pi: AP deauth, rfkill and radio removal between two radios; dongles: plug to
enslaved and to carrying traffic, pull under load, udev's cost of the rule). --silent runs
silent-archwiki and silent-raspberry-pi instead (on sid): silent failures with ARP monitoring
beside MII monitoring, with a table of the two. Prints every figure and writes them to
benchmarks/results/lab-<date>.txt (and .json; --silent: silent-<date>), and the ping timeline
around each fault of each scenario, in the terminal and drawn into
benchmarks/results/lab-<date>-<scenario>.png (host/timeline.py). Figures, not
assertions: the scenarios' own checks are the tests.

    sudo python3 benchmarks/lab.py [--only-bench | --silent] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lab", "host"))
import labrun  # noqa: E402
import timeline  # noqa: E402

RESULTS = os.path.join(REPO, "benchmarks", "results")


def boot_ratio(results: list[dict]) -> list[str]:
    """Boot, the radio's device to ready: wibond's (bench-seed) beside the seed's units'
    (bench-seed-boot), which two boots measure."""
    found = {}
    for r in results:
        for f in r.get("figures", []):
            if f["name"].endswith("boot: radio device -> ready"):
                found[f["name"].split()[0]] = f["value"]
    if set(found) != {"wibond", "seed"}:
        return []
    return ["", f"== boot, radio device -> ready: wibond {found['wibond']} s, seed's units "
                f"{found['seed']} s, ratio {found['wibond'] / found['seed']:.2f} x"]


SILENT = {"silent-archwiki": "ArchWiki", "silent-raspberry-pi": "Raspberry Pi"}


SILENT_FAULTS = ("ap-uplink", "ap-silent", "cable-silent")


def silent_table(results: list[dict]) -> list[str]:
    """Each silent fault of each setup: MII monitoring's failover beside ARP monitoring's."""
    rows: dict[tuple[str, str], dict] = {}
    for r in results:
        setup = SILENT.get(r["scenario"])
        for f in r.get("figures", []) if setup else []:
            monitor, _, rest = f["name"].partition(": ")
            fault, _, what = rest.partition(": ")
            if fault in SILENT_FAULTS:
                rows.setdefault((setup, fault), {})[(monitor, what.rsplit(": ", 1)[-1])] = f["value"]
    if not rows:
        return []
    head = "to failover  longest gap  pings lost  failback"
    out = ["", "== silent faults: MII monitoring beside ARP monitoring (pings every 10 ms, lost ="
               " no reply within 1 s, counted until the fault cleared)",
           f"{'':27}{'MII':^47}   {'ARP':^47}", f"{'setup':13} {'fault':13} {head:47}   {head:47}"]
    for (setup, fault), got in sorted(rows.items()):
        cells = []
        for monitor in ("MII", "ARP"):
            t = got.get((monitor, "time to failover"))
            t = f"{t} ms" if isinstance(t, (int, float)) else (t or "-")
            gap = got.get((monitor, "longest gap without a reply"), "-")
            lost = str(got.get((monitor, "pings lost until the fault cleared"), "-")).split(" of ")[0]
            back = got.get((monitor, "failback time"))
            cells.append(f"{t:>12} {str(gap) + ' ms':>12} {lost:>11} "
                         f"{(str(back) + ' ms') if back is not None else '-':>9}")
        out.append(f"{setup:13} {fault:13} {cells[0]:47}   {cells[1]:47}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only-bench", action="store_true",
                        help="only the bench, bench-seed and bench-seed-boot scenarios")
    parser.add_argument("--silent", action="store_true",
                        help="only silent-archwiki and silent-raspberry-pi (on sid)")
    parser.add_argument("--out", help="where the lab runs put their files")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/lab.py: the VM lab needs root", file=sys.stderr)
        return 2
    names = ["bench", "bench-seed", "bench-seed-boot"]
    if args.silent:
        names = list(SILENT)
    elif not args.only_bench:
        names += ["archwiki", "raspberry-pi", "dongles"]
    started = time.strftime("%Y-%m-%d %H:%M")
    # One boot at a time: two guests on the same CPUs would time each other.
    results = labrun.run_scenarios(names, out=args.out, quiet=True, jobs=1,
                                   **({"suite": "sid"} if args.silent else {}))
    lines = [f"wibond lab benchmark, {started}; host {platform.node()} ({os.cpu_count()} CPUs), "
             "guest under QEMU TCG (-smp 2): absolute times are slow, ratios and ping counts "
             "carry over"]
    failed = False
    for r in results:
        lines.append("")
        lines.append(f"== {r['scenario']}: {'checks passed' if r['passed'] else 'CHECKS FAILED'}"
                     f" ({r['out_dir']})")
        if not r["passed"]:
            failed = True
            lines.append(labrun.failed_checks(r))
        for f in r.get("figures", []):
            value = f["value"] if not isinstance(f["value"], (list, dict)) else json.dumps(f["value"])
            lines.append(f"  {f['name']}: {value} {f.get('unit', '')}".rstrip())
    lines += boot_ratio(results)
    lines += silent_table(results)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    os.makedirs(RESULTS, exist_ok=True)
    stem = os.path.join(RESULTS, f"{'silent' if args.silent else 'lab'}-{time.strftime('%Y%m%d-%H%M')}")
    with open(stem + ".txt", "w") as out:
        out.write(text)
    with open(stem + ".json", "w") as out:
        json.dump([{k: r.get(k) for k in ("scenario", "passed", "figures", "timings")}
                   for r in results], out, indent=1, default=str)
    print(f"results: {stem}.txt")
    for r in results:
        drawn = timeline.load(r["out_dir"])
        if not drawn:
            continue
        print(f"\n== {r['scenario']}: the pings around each fault")
        for tl in drawn:
            print("\n".join("  " + ln for ln in timeline.terminal(tl)))
        try:
            png = timeline.draw(drawn, f"{stem}-{r['scenario']}.png",
                                f"{r['scenario']} [{r.get('suite', '')}]: ping every 10 ms")
            print(f"picture: {png}")
        except ImportError:
            print("no picture: matplotlib is not installed (`make bench` installs it)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
