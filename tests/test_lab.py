"""VM-lab scenarios (tests/lab/): wibond on a real kernel with bonding and mac80211_hwsim.

Each name in LAB_SCENARIOS is one test.  They boot QEMU (TCG) and need root, so they run only
when switched on:

    WIBOND_LAB=1   run them (as root); `make lab` does this.  CI=<anything> also switches
                   them on (.ci/run exports WIBOND_LAB=1 too), so CI's `make test` runs them.
    WIBOND_LAB=0   never run them, even in CI.
    otherwise      skipped with the reason, so `make test` stays a few seconds of host tests.

Scenarios that allow it (fixture.json "shared_boot": true) share one boot: the first test that
needs a result runs every selected scenario at once (WIBOND_LAB_BOOT_EACH=1: one boot each),
two boots at a time on 2 CPUs or more (WIBOND_LAB_JOBS=N to choose).
Results go to $WIBOND_LAB_OUT or /var/cache/wibond-lab/runs/<time>/<scenario>/ (result.json,
console.log, journal.txt, state.txt, check.log).  See tests/lab/README.md.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lab", "host"))
import labrun  # noqa: E402

# Add new scenarios here (a directory under tests/lab/scenarios/ with check.py).
LAB_SCENARIOS = ["boot", "plain-bond", "archwiki", "raspberry-pi", "dhcp-failover",
                 "dhcp-failover-dhcpcd", "stop-start", "faults", "dongles",
                 "silent-archwiki", "silent-raspberry-pi", "restart-race", "beside-networkd",
                 "beside-networkmanager", "beside-dhcpcd", "apply-live", "try-rollback",
                 "try-reboot", "fleet-ansible"]
# Which scenarios run on which guest. bookworm (systemd 252) runs every scenario but the
# sid-only one; trixie (257)
# and sid (262, no isc-dhcp-client: DHCP by dhcpcd) run what a user of those systems does
# first: boot, the two bundled setups, DHCP across failover and dongles, plus DHCP with dhcpcd
# named where the ISC pair is also installed. WIBOND_LAB_SUITES=sid (comma list) picks suites.
ON_EVERY_SUITE = ["boot", "archwiki", "raspberry-pi", "dhcp-failover", "dongles"]
# Silent failures and ARP monitoring (issue 13, 9-11 minutes each with their 5-minute steady
# state): on sid, the kernel (7.2) and dhcpcd our users have. silent-archwiki on bookworm
# (the lease's router from dhclient) runs on demand (`labrun.py run silent-archwiki`): CI's
# fresh-machine run must stay under 60 minutes.
# examples/ansible run by the guest's ansible-core (issue 29, 6 to 10 minutes): in CI on sid,
# the newest ansible-core and Python; on bookworm (ansible-core 2.14, the oldest the role
# supports) and trixie on demand (`labrun.py run fleet-ansible --suite bookworm`).
ON_SID_ONLY = ["silent-archwiki", "silent-raspberry-pi", "fleet-ansible"]
# Beside the network manager the image runs (issue 19), and every unit's stop and restart:
# on bookworm (systemd 252, NetworkManager 1.42) and sid (262, NetworkManager 1.5x).
# `wibond apply` on a live bond and `wibond try` (issue 20) too.
BESIDE = ["restart-race", "beside-networkd", "beside-networkmanager", "beside-dhcpcd",
          "apply-live", "try-rollback", "try-reboot"]
LAB_MATRIX = {
    "bookworm": [n for n in LAB_SCENARIOS if n not in ON_SID_ONLY],
    "trixie": ON_EVERY_SUITE + ["dhcp-failover-dhcpcd"],
    "sid": ON_EVERY_SUITE + BESIDE + ON_SID_ONLY,
}
LAB_RUNS = [(suite, name) for suite, names in LAB_MATRIX.items() for name in names]


def lab_suites() -> list[str]:
    wanted = os.environ.get("WIBOND_LAB_SUITES", "")
    return [s for s in LAB_MATRIX if not wanted or s in wanted.split(",")]


def lab_skip_reason() -> str | None:
    switch = os.environ.get("WIBOND_LAB", "")
    if switch == "0":
        return "VM lab switched off (WIBOND_LAB=0)"
    if switch != "1" and not os.environ.get("CI"):
        return "VM lab not switched on: run `make lab` (or WIBOND_LAB=1 pytest tests/test_lab.py) as root"
    if os.geteuid() != 0:
        return "VM lab needs root (QEMU, 9p share, make install into the run tree)"
    if not labrun.lab_available():
        return "VM lab: no qemu-system-x86_64 and no apt-get to install it"
    return None


def lab_jobs() -> int:
    """Boots at once: $WIBOND_LAB_JOBS, else 2 on a machine with 2 CPUs or more. Two TCG guests
    on 2 CPUs passed every scenario (failover figures alike) in about half the time of one."""
    try:
        return max(1, int(os.environ["WIBOND_LAB_JOBS"]))
    except (KeyError, ValueError):
        return 2 if (os.cpu_count() or 1) >= 2 else 1


_results: dict[tuple[str, str], dict] = {}


@pytest.fixture(scope="module")
def lab_run(request):
    """Returns run(suite, name) -> result dict; the first call runs every selected scenario of
    every selected suite."""
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    selected = [(item.callspec.params["suite"], item.callspec.params["scenario"])
                for item in request.session.items
                if getattr(item, "callspec", None) and item.module is sys.modules[__name__]
                and "scenario" in item.callspec.params]
    out = os.environ.get("WIBOND_LAB_OUT") or None

    def run(suite, name):
        if (suite, name) not in _results:
            # Every selected boot of every suite at once, in one pool (labrun.run_matrix).
            todo = [(s, n) for s, n in selected
                    if (s, n) not in _results and s in lab_suites()] or [(suite, name)]
            outs = {s: os.path.join(out, s) if out else str(labrun._default_out(
                labrun.DEFAULT_CACHE, f"{s}-matrix")) for s, _n in todo}
            _results.update(labrun.run_matrix(
                todo, outs, quiet=True, jobs=lab_jobs(),
                boot_each=os.environ.get("WIBOND_LAB_BOOT_EACH") == "1"))
        return _results[(suite, name)]

    return run


@pytest.mark.parametrize("suite, scenario", LAB_RUNS)
def test_lab_scenario(lab_run, suite, scenario):
    if suite not in lab_suites():
        pytest.skip(f"{suite} not in WIBOND_LAB_SUITES")
    res = lab_run(suite, scenario)
    print(f"lab scenario {scenario} on {suite}: {'PASSED' if res['passed'] else 'FAILED'}; "
          f"out {res['out_dir']}")
    for f in res.get("figures", []):
        print(f"  {f['name']} = {f['value']} {f.get('unit', '')}")
    print(f"  timings: {json.dumps(res.get('timings', {}))}")
    assert res["passed"], f"lab scenario {scenario} failed on {suite}:\n{labrun.failed_checks(res)}"


def test_lab_scenarios_exist():
    """Host-side sanity (always runs): every listed scenario has a check.py and a valid
    fixture.json, and the guest library refuses to run off the VM."""
    for name in LAB_SCENARIOS:
        d = labrun.scenario_dir(name)
        labrun.fixture_config(d)  # raises on bad JSON
    assert set(LAB_SCENARIOS) <= set(labrun.list_scenarios())
    for suite, name in LAB_RUNS:
        assert suite in labrun.scenario_suites(labrun.scenario_dir(name)), (suite, name)
    # every scenario on at least one suite; the core set on all three
    assert {n for _s, n in LAB_RUNS} == set(LAB_SCENARIOS)
    for name in ON_EVERY_SUITE:
        assert all((s, name) in LAB_RUNS for s in labrun.SUITES), name


def test_guest_code_refuses_to_run_on_the_host():
    """A scenario's check.py (or the guest library) run here by mistake does nothing."""
    import subprocess

    with open("/proc/cmdline") as f:
        if "wibond.lab=1" in f.read().split():
            pytest.skip("this is the lab VM")
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "lab"))
    for name in LAB_SCENARIOS:
        check = os.path.join(labrun.scenario_dir(name), "check.py")
        r = subprocess.run([sys.executable, check], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 3 and "refuses to run" in r.stderr, (name, r.returncode, r.stderr)
    r = subprocess.run([sys.executable, "-m", "guest", "run"], env=env, capture_output=True, text=True,
                       timeout=60, cwd=os.path.join(HERE, "lab"))
    assert r.returncode == 3 and "refuses to run" in r.stderr, r.stderr
