"""Which scenarios exist, on which suites and architectures they run, and which may share a
boot (each scenario's fixture.json). Runs on the host."""
import json
import os
from pathlib import Path

LAB = Path(__file__).resolve().parent.parent  # tests/lab
REPO = LAB.parent.parent
SCENARIOS = LAB / "scenarios"
DEFAULT_CACHE = os.environ.get("WIBOND_LAB_CACHE", "/var/cache/wibond-lab")
SUITES = ("bookworm", "trixie", "sid")
DEFAULT_SUITE = os.environ.get("WIBOND_LAB_SUITE", "bookworm")
# amd64, or arm64 (the Raspberry Pi's architecture: qemu-system-aarch64 -M virt; wibond goes in
# from the Arch package, installed with pacman -U --root as into an ALARM image).
ARCHES = ("amd64", "arm64")
DEFAULT_ARCH = os.environ.get("WIBOND_LAB_ARCH", "amd64")


def scenario_dir(name):
    p = Path(name)
    if p.is_dir() and (p / "check.py").exists():
        return p.resolve()
    p = SCENARIOS / name
    if (p / "check.py").exists():
        return p
    raise FileNotFoundError(f"no scenario '{name}' (looked for {p}/check.py)")


def list_scenarios():
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "check.py").exists())


def fixture_config(scen):
    f = Path(scen) / "fixture.json"
    return json.loads(f.read_text()) if f.exists() else {}


def scenario_suites(scen):
    """The suites a scenario runs on (fixture.json "suites"; default all)."""
    return list(fixture_config(scen).get("suites", SUITES))


def can_share_boot(scen):
    """A scenario may share a boot when it says so and brings no etc/ (boot-time config)."""
    try:
        return bool(fixture_config(scen).get("shared_boot")) and not (Path(scen) / "etc").exists()
    except ValueError:
        return False
