"""The ping timeline: what the guest's pinger records around an event, and how the host shows
it (text for the terminal, a picture with matplotlib), and the demo's story filter."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lab", "host"))
import boot  # noqa: E402
import timeline  # noqa: E402


def _pinger_module():
    # guest/__init__ refuses to run outside the VM; the pinger itself needs nothing of it.
    spec = importlib.util.spec_from_file_location("lab_pinger", os.path.join(HERE, "lab", "guest",
                                                                             "pinger.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinger_timeline_marks_late_and_missing_replies_lost() -> None:
    p = _pinger_module().Pinger("192.0.2.1", interval=0.01, timeout=1.0)
    p.sent = {0: 100.00, 1: 100.01, 2: 100.02, 3: 100.03, 4: 105.0}
    p.recv = {0: 100.002, 2: 101.5, 3: 100.035}
    assert p.timeline(100.01, 100.03) == [[0.0, None], [10.0, None], [20.0, 5.0]]


def window(lost_from: float, lost_to: float, n: int = 400) -> dict:
    probes = [[i * 10.0, None if lost_from <= i * 10 < lost_to else 1.0 + (i % 3)] for i in range(n)]
    return {"label": "wire cut", "interval_ms": 10, "timeout_ms": 1000, "event_ms": 1000.0,
            "probes": probes, "marks": [[1000.0, "wire cut"], [1120.0, "wlan0 active"]]}


def test_summary_counts_the_window_drawn() -> None:
    tl = window(1000, 1130)
    s = timeline.summary(tl)
    assert s == {"sent": 400, "lost": 13, "max_gap_ms": 142}   # replies at 991 and 1133 ms
    # A probe lost while the fault was being applied, just before its mark, counts too:
    # the picture shows it.
    assert timeline.summary(window(980, 1000))["lost"] == 2


def test_terminal_shows_the_loss_where_it_was_and_the_events_under_it() -> None:
    head, bars, marks = timeline.terminal(window(1000, 1130), width=40)
    assert head.startswith("wire cut: 13 of 400 pings lost, longest gap 142 ms")
    cells = bars.strip().strip("|")
    assert len(cells) == 40
    lost_cols = [i for i, c in enumerate(cells) if c == timeline.LOST]
    assert lost_cols and all(9 <= i <= 12 for i in lost_cols), cells   # 1.0-1.13 s of 4 s
    assert marks.strip().startswith("12") and "1 wire cut; 2 wlan0 active" in marks


def test_load_reads_the_runs_copy_not_the_guests(tmp_path) -> None:
    run = tmp_path / "archwiki"
    (run / "share" / "out" / "archwiki").mkdir(parents=True)
    data = {"scenario": "archwiki", "timelines": [window(1000, 1130)]}
    (run / "timelines.json").write_text(json.dumps(data))
    (run / "share" / "out" / "archwiki" / "timelines.json").write_text(json.dumps(data))
    (run / "result.json").write_text(json.dumps({"suite": "sid"}))
    found = timeline.load(run)
    assert len(found) == 1 and found[0]["suite"] == "sid" and found[0]["scenario"] == "archwiki"
    assert "timelines.json" in boot.GUEST_FILES   # the host copies it back from the guest


def test_draw_makes_a_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    png = timeline.draw([window(1000, 1130), window(1500, 1800)], tmp_path / "t.png", "title")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000


def test_demo_tells_the_story_and_keeps_the_console_out(tmp_path, capsys) -> None:
    import demo

    console = tmp_path / "console.log"
    console.write_text("[    3.1] systemd[1]: Started foo.\n"
                       "wibond-demo| 1. The config.\r\n"
                       "[    9.0] wibond-helper[300]: bond0: eth0 enslaved\n"
                       "wibond-demo|    The bond moved to the radio.\n")
    done = threading.Event()
    done.set()
    prog = demo.Progress("booting")
    prog.tty = False
    prog._stop.set()   # not started: nothing to print
    demo.follow(console, False, done, prog)
    assert capsys.readouterr().out == "  1. The config.\n     The bond moved to the radio.\n"
    demo.follow(console, True, done, prog)
    assert "    | [    9.0] wibond-helper[300]: bond0: eth0 enslaved" in capsys.readouterr().out


def test_progress_line_in_a_log_is_plain_lines() -> None:
    import demo

    prog = demo.Progress("the image")
    prog.tty = False
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        prog.stop()
    finally:
        sys.stdout = real
    assert "\033" not in out.getvalue() and out.getvalue().startswith("  the image: done in 0:00")
