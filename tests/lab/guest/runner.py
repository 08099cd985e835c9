"""Guest side of wibond-lab-run.service (`python3 -m guest run`): run this boot's scenarios
(plan.json) one after the other, collect evidence for each, make sure every scenario has an
out/<name>/result.json (a failure record when check.py wrote none), then return so the unit's
SuccessAction/FailureAction powers the VM off.

The first scenario uses the fixture wibond-lab-fixture.service built at boot.  Before each
later one (scenarios that share a boot) the runner kills every process the previous one left in
this unit's cgroup, tears the fixture down (guest.fixture.teardown: netns, bonds, hwsim and
bonding modules) and builds it again from that scenario's fixture.json.  If the teardown leaves
something behind, the remaining scenarios are not run (each gets a failure record saying why).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .fixture import load_config
from .fixture import setup as fixture_setup
from .fixture import teardown as fixture_teardown
from .paths import LAB_DIR, STATE_DIR, out_dir, plan, scenario_dir
from .util import lab_scale, log, wait_for

EVIDENCE = [
    ("ip -d link", ["ip", "-d", "link"]),
    ("ip addr", ["ip", "addr"]),
    ("ip route", ["ip", "route"]),
    ("ip -6 route", ["ip", "-6", "route"]),
    ("far: ip addr", ["ip", "-n", "far", "addr"]),
    ("far: bridge link", ["ip", "netns", "exec", "far", "bridge", "link"]),
    ("bonds", ["sh", "-c", "for b in /sys/class/net/*/bonding; do [ -d $b ] || continue; "
                           "echo == $b; grep -H . $b/* 2>/dev/null; done; "
                           "cat /proc/net/bonding/* 2>/dev/null"]),
    ("hostapd all_sta", ["hostapd_cli", "-p", str(STATE_DIR / "hostapd"), "-i", "ap0", "all_sta"]),
    ("dnsmasq leases", ["cat", str(STATE_DIR / "dnsmasq.leases")]),
    ("rfkill", ["rfkill", "list"]),
    ("systemctl --failed", ["systemctl", "--no-pager", "--failed"]),
    ("wibond units", ["systemctl", "--no-pager", "--all", "list-units", "*wibond*", "*wpa*", "*dhc*"]),
    ("processes", ["ps", "-eo", "pid,etimes,cgroup:60,args"]),
]


def _run(cmd, timeout=20):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return r.stdout + r.stderr
    except Exception as e:  # noqa: BLE001
        return f"<{e!r}>"


def _uptime():
    return float(open("/proc/uptime").read().split()[0])


def _journal_cursor():
    for ln in _run(["journalctl", "-b", "-n", "1", "--show-cursor", "-o", "cat"]).splitlines():
        if ln.startswith("-- cursor: "):
            return ln[len("-- cursor: "):].strip()
    return None


def kill_strays():
    """Kill every process in this unit's cgroup except this one (daemons a check.py started:
    wpa_supplicant -B, dhclient, a rebuilt fixture's hostapd/dnsmasq).  Returns their argv."""
    me = os.getpid()
    try:
        cg = [ln.split(":", 2)[2] for ln in Path("/proc/self/cgroup").read_text().splitlines()
              if ln.startswith("0::")][0]
        procs = Path("/sys/fs/cgroup") / cg.lstrip("/") / "cgroup.procs"
    except (OSError, IndexError):
        return []

    def others():
        try:
            return [int(x) for x in procs.read_text().split() if int(x) != me]
        except OSError:
            return []

    killed = []
    for pid in others():
        try:
            killed.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip())
        except OSError:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in others():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if wait_for(lambda: not others(), 10, "scenario processes to exit",
                    raise_on_timeout=False):
            break
    if killed:
        log(f"killed processes left by the scenario: {killed}")
    return killed


def _failure(name, check, detail, **extra):
    res = {"scenario": name, "passed": False, "complete": False, "checks": [
        {"name": check, "passed": False, "detail": detail}], "figures": [], "notes": []}
    res.update(extra)
    return res


def _write_result(name, res):
    od = out_dir(name)
    od.mkdir(parents=True, exist_ok=True)
    tmp = od / "result.json.tmp"
    tmp.write_text(json.dumps(res, indent=2, default=str))
    os.replace(tmp, od / "result.json")


def run_one(name, fstat, journal_after=None):
    """Run scenario `name` (fixture already built, status `fstat`); write its result.json."""
    od = out_dir(name)
    sd = scenario_dir(name)
    od.mkdir(parents=True, exist_ok=True)
    cfg = load_config(sd / "fixture.json")
    limit = float(cfg.get("timeout", 300)) * lab_scale()
    t_up = _uptime()
    log(f"scenario {name} starting at uptime {t_up:.1f}s (limit {limit:.0f}s)")
    rc, timed_out, dur = None, False, 0.0
    if fstat.get("ok"):
        env = dict(os.environ, PYTHONPATH=str(LAB_DIR), PYTHONDONTWRITEBYTECODE="1",
                   PYTHONUNBUFFERED="1", WIBOND_LAB_SCENARIO=name)
        t0 = time.monotonic()
        with open(od / "check.log", "w") as logf:
            p = subprocess.Popen([sys.executable, str(sd / "check.py")], cwd=sd, env=env,
                                 stdout=logf, stderr=subprocess.STDOUT)
            try:
                rc = p.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                timed_out = True
                p.kill()
                rc = p.wait()
        dur = time.monotonic() - t0
        log(f"check.py of {name} exited rc={rc} after {dur:.1f}s{' (TIMED OUT)' if timed_out else ''}")
    else:
        log(f"scenario {name} not run: the fixture failed")

    with open(od / "state.txt", "w") as f:
        for title, cmd in EVIDENCE:
            f.write(f"===== {title}\n{_run(cmd)}\n")
    jcmd = ["journalctl", "-b", "--no-pager", "-o", "short-monotonic"]
    if journal_after:
        jcmd.append(f"--after-cursor={journal_after}")
    with open(od / "journal.txt", "w") as f:
        f.write(_run(jcmd, timeout=60))
    for fn in ("hostapd.log", "hostapd-ap1.log", "dnsmasq.log"):
        try:
            (od / fn).write_text((STATE_DIR / fn).read_text())
        except OSError:
            pass

    try:
        res = json.loads((od / "result.json").read_text())
    except (OSError, ValueError) as e:
        res = {"scenario": name, "passed": False, "complete": False, "checks": [], "figures": [],
               "notes": [], "error": f"check.py wrote no readable result.json ({e!r})"}
    res.setdefault("checks", [])
    if not fstat.get("ok"):
        res["checks"].insert(0, {"name": "lab fixture set up", "passed": False,
                                 "detail": fstat.get("error", "") + "\n" + fstat.get("traceback", "")})
    if timed_out:
        res["checks"].append({"name": f"check.py finished within {limit:.0f}s", "passed": False,
                              "detail": "killed"})
    res["fixture"] = fstat
    res["check_exit"] = rc
    res["check_timed_out"] = timed_out
    res["check_duration_s"] = round(dur, 2)
    res["check_started_uptime_s"] = t_up
    res["passed"] = bool(res.get("checks")) and all(c.get("passed") for c in res["checks"]) \
        and rc == 0 and not timed_out and bool(res.get("complete", False))
    _write_result(name, res)
    log(f"RESULT {name}: {'PASSED' if res['passed'] else 'FAILED'}")
    return res


def main():
    Path("/run/wibond-lab-run-started").touch()  # stops the boot watchdog
    names = plan()
    if not names:
        log("no plan.json (or no scenarios in it): nothing to run")
        return 1
    try:
        fstat = json.loads((STATE_DIR / "fixture-status.json").read_text())
    except (OSError, ValueError):
        fstat = {"ok": False, "error": "fixture did not run at boot (no fixture-status.json)"}
    cursor = None
    for i, name in enumerate(names):
        os.environ["WIBOND_LAB_SCENARIO"] = name
        if i > 0:
            t0 = time.monotonic()
            killed = kill_strays()
            problems = fixture_teardown()
            if problems:
                why = (f"cleanup after {names[i - 1]} left the system dirty: {problems}; "
                       f"killed: {killed}")
                log(f"not running {names[i:]}: {why}")
                for rest in names[i:]:
                    _write_result(rest, _failure(rest, "clean system before the scenario", why))
                break
            fstat = fixture_setup(load_config(scenario_dir(name) / "fixture.json"))
            fstat["cleanup_s"] = round(time.monotonic() - t0 - fstat.get("duration_s", 0), 2)
        try:
            run_one(name, fstat, journal_after=cursor)
        except Exception as e:  # noqa: BLE001 - never leave a scenario without a result
            import traceback
            log(traceback.format_exc())
            _write_result(name, _failure(name, "lab runner", f"{e!r}\n{traceback.format_exc()}"))
        cursor = _journal_cursor()
    os.sync()
    log("all scenarios done; powering off")
    return 0
