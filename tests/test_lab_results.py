"""The guest's Results (tests/lab/guest/results.py) outside the VM: checks and figures written
as they come, timelines, and a scenario that reboots starting from its earlier boots' results."""

from __future__ import annotations

import importlib
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(HERE, "lab", "guest")


def load(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """guest.results with the share at TMP_PATH (its package __init__ refuses to run outside
    the VM: a bare package stands in for it)."""
    monkeypatch.setenv("WIBOND_LAB_DIR", str(tmp_path))
    monkeypatch.setenv("WIBOND_LAB_SCENARIO", "demo")
    for name in [m for m in sys.modules if m == "labguest" or m.startswith("labguest.")]:
        del sys.modules[name]
    pkg = types.ModuleType("labguest")
    pkg.__path__ = [GUEST]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "labguest", pkg)
    return importlib.import_module("labguest.results")


class FakePinger:
    interval, timeout = 0.01, 1.0

    def timeline(self, since, until):  # type: ignore[no-untyped-def]
        return [[0.0, 1.0], [10.0, None]]


def test_results_written_as_they_come(tmp_path, monkeypatch) -> None:
    results = load(tmp_path, monkeypatch)
    with results.Results() as res:
        res.check("one", True, {"a": 1})
        res.figure("lost", 3, "pings")
        res.timeline("cut", FakePinger(), 100.0, 101.0, [(100.0, "cut"), (None, "never")])
        written = json.loads((tmp_path / "out" / "demo" / "result.json").read_text())
        assert written["complete"] is False and written["checks"][0]["name"] == "one"
    final = json.loads((tmp_path / "out" / "demo" / "result.json").read_text())
    assert final["passed"] and final["complete"] and final["boot"] == 1
    tl = json.loads((tmp_path / "out" / "demo" / "timelines.json").read_text())["timelines"]
    assert tl[0]["marks"] == [[1000.0, "cut"]] and tl[0]["event_ms"] == 1000.0


def test_a_rebooting_scenario_keeps_files_and_earlier_results(tmp_path, monkeypatch) -> None:
    results = load(tmp_path, monkeypatch)
    kept = tmp_path / "etc-wibond.conf"
    kept.write_text("[bond0]\n")
    with results.Results() as res:
        res.check("boot 1 check", True)
        res.reboot(keep=[str(kept), str(tmp_path / "absent")])
    out = tmp_path / "out" / "demo"
    assert (out / "reboot").read_text() == "2\n"
    assert (tmp_path / "rootfs" / str(kept).lstrip("/")).read_text() == "[bond0]\n"
    # What the host does between the boots (host/boot.py).
    (out / "reboot").unlink()
    os.replace(out / "result.json", out / "result-previous.json")
    with results.Results() as res:
        assert res.boot == 2
        res.check("boot 2 check", True)
    final = json.loads((out / "result.json").read_text())
    assert [c["name"] for c in final["checks"]] == ["boot 1 check", "boot 2 check"]
    assert final["boot"] == 2 and final["passed"]
