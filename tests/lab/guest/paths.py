"""Fixed locations inside the lab VM.

The 9p share "lab" (mounted at /mnt/lab by the initramfs) holds, per boot:
    plan.json                 {"scenarios": ["boot", "plain-bond", ...]}  in run order
    guest/                    this library
    scenarios/<name>/         copy of tests/lab/scenarios/<name>/
    out/<name>/               results of that scenario (the host reads them)
    rootfs/                   files the initramfs copied over the root (product + lab units)

SCENARIO_DIR / OUT_DIR are the *current* scenario's: the runner sets WIBOND_LAB_SCENARIO for
check.py (and while it rebuilds the fixture); without it they are the first scenario's.
"""
import json
import os
from pathlib import Path

LAB_DIR = Path(os.environ.get("WIBOND_LAB_DIR", "/mnt/lab"))  # the 9p share
PLAN_FILE = LAB_DIR / "plan.json"
STATE_DIR = Path("/run/wibond-lab")        # fixture runtime state (pids, confs, leases)
STATE_FILE = STATE_DIR / "fixture-state.json"


def plan():
    """Scenario names for this boot, in order."""
    try:
        return list(json.loads(PLAN_FILE.read_text())["scenarios"])
    except (OSError, ValueError, KeyError):
        return []


def current_scenario():
    name = os.environ.get("WIBOND_LAB_SCENARIO")
    if name:
        return name
    p = plan()
    return p[0] if p else "unknown"


def scenario_dir(name=None):
    return LAB_DIR / "scenarios" / (name or current_scenario())


def out_dir(name=None):
    return LAB_DIR / "out" / (name or current_scenario())


SCENARIO_NAME = current_scenario()
SCENARIO_DIR = scenario_dir(SCENARIO_NAME)  # copy of tests/lab/scenarios/<name>/
OUT_DIR = out_dir(SCENARIO_NAME)            # results go here; the host reads them
RESULT_FILE = OUT_DIR / "result.json"
TIMELINES_FILE = OUT_DIR / "timelines.json"  # the pings around each event (Results.timeline)
