#!/usr/bin/env python3
"""The ping timeline around each fault, as a picture and as a few lines of text.

A scenario's pinger (guest/pinger.py, a probe every 10 ms) records every probe around each
event it measures (Results.timeline -> timelines.json in the run's directory): when it was
sent, its reply time or that it was lost, and what happened when (the fault, the new active
slave, the fault cleared, the failback). This draws them: reply time against time, each lost
probe as a red mark, each event as a line. The picture needs matplotlib, on the host only
(`make demo` and `make bench` run in the virtual environment that has it); the text form
needs nothing.

    python3 tests/lab/host/timeline.py RUN_DIR [RUN_DIR ...] [--png FILE] [--only LABEL ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BARS = "▁▂▃▄▅▆▇█"
LOST = "×"


def load(run_dir: str | Path) -> list[dict]:
    """The timelines of one run directory (a scenario's), each with its scenario and suite."""
    run_dir = Path(run_dir)
    found = []
    for path in sorted(run_dir.rglob("timelines.json")):
        if "share" in path.relative_to(run_dir).parts:
            continue  # the guest's copy; the run's own is beside result.json
        data = json.loads(path.read_text())
        suite = ""
        result = path.parent / "result.json"
        if result.exists():
            suite = json.loads(result.read_text()).get("suite", "")
        for tl in data.get("timelines", []):
            found.append(dict(tl, scenario=data.get("scenario", path.parent.name), suite=suite))
    return found


def summary(tl: dict) -> dict:
    """Probes sent and lost in the whole window drawn (a fault that takes a moment to apply
    can cost a probe just before its mark), and the longest time without a reply."""
    probes = tl["probes"]
    lost = sum(1 for _t, rtt in probes if rtt is None)
    replies = sorted(t + rtt for t, rtt in probes if rtt is not None)
    start = probes[0][0] if probes else 0.0
    edges = [start] + replies
    gap = max((b - a for a, b in zip(edges, edges[1:])), default=0.0)
    return {"sent": len(probes), "lost": lost, "max_gap_ms": round(gap)}


def terminal(tl: dict, width: int = 64) -> list[str]:
    """Two lines: reply time as bars (× where a probe was lost) and the events under them."""
    probes = tl["probes"]
    if not probes:
        return [f"{tl['label']}: no probes"]
    span = max(p[0] for p in probes) or 1.0
    cells: list[list] = [[] for _ in range(width)]
    for t, rtt in probes:
        cells[min(width - 1, int(t / span * width))].append(rtt)
    top = max((r for _t, r in probes if r is not None), default=1.0) or 1.0
    bar = ""
    for cell in cells:
        if not cell:
            bar += " "
        elif any(r is None for r in cell):
            bar += LOST
        else:
            bar += BARS[min(len(BARS) - 1, int(max(cell) / top * (len(BARS) - 1)))]
    marks = [" "] * width
    names = []
    for i, (t, what) in enumerate(tl["marks"]):
        col = min(width - 1, int(t / span * width))
        marks[col] = str(i + 1)
        names.append(f"{i + 1} {what}")
    s = summary(tl)
    head = (f"{tl['label']}: {s['lost']} of {s['sent']} pings lost, longest gap {s['max_gap_ms']} ms"
            f" (every {tl['interval_ms']:g} ms over {span / 1000:.1f} s; bars: reply time, up to"
            f" {top:.0f} ms; {LOST}: lost)")
    return [head, f"  |{bar}|", f"   {''.join(marks)}  {'; '.join(names)}"]


def draw(timelines: list[dict], png: str | Path, title: str = "") -> Path:
    """One panel per timeline, stacked, into PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(timelines)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.6 * n + 0.6), squeeze=False)
    for ax, tl in zip(axes[:, 0], timelines):
        zero = tl.get("event_ms", 0)
        got = [((t - zero) / 1000, rtt) for t, rtt in tl["probes"] if rtt is not None]
        lost = [(t - zero) / 1000 for t, rtt in tl["probes"] if rtt is None]
        top = max((r for _t, r in got), default=1.0)
        if got:
            ax.scatter([t for t, _r in got], [r for _t, r in got], s=4, color="#1f77b4",
                       label="reply time")
        if lost:
            ax.scatter(lost, [top * 1.08] * len(lost), marker="|", s=60, color="#d62728",
                       label=f"lost ({len(lost)})")
        for i, (t, what) in enumerate(tl["marks"]):
            x = (t - zero) / 1000
            ax.axvline(x, color="#555555", linestyle="--", linewidth=0.8)
            # Events close in time (a fault and the failover 100 ms later): labels on two rows.
            ax.annotate(what, (x, top * (1.45 if i % 2 else 1.3)), xytext=(3, 0),
                        textcoords="offset points", fontsize=8, va="top", color="#333333")
        s = summary(tl)
        where = " ".join(x for x in (tl.get("scenario"), f"[{tl['suite']}]" if tl.get("suite") else "") if x)
        ax.set_title(f"{where}: {tl['label']} — {s['lost']} of {s['sent']} pings lost, "
                     f"longest gap {s['max_gap_ms']} ms", fontsize=10, loc="left")
        ax.set_ylim(0, top * 1.5)
        ax.set_ylabel("reply (ms)")
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(f"seconds after the event (a ping every "
                           f"{timelines[0]['interval_ms']:g} ms)")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def pick(timelines: list[dict], only: list[str] | None) -> list[dict]:
    if not only:
        return timelines
    return [tl for tl in timelines if any(o in tl["label"] for o in only)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="run directories (labrun --out)")
    ap.add_argument("--png", help="draw the picture into this file")
    ap.add_argument("--only", nargs="*", help="timelines whose label contains one of these")
    ap.add_argument("--title", default="")
    a = ap.parse_args(argv)
    timelines = pick([tl for r in a.runs for tl in load(r)], a.only)
    if not timelines:
        print("timeline: no timelines.json in " + ", ".join(a.runs), file=sys.stderr)
        return 1
    for tl in timelines:
        print("\n".join(terminal(tl)))
    if a.png:
        print(f"picture: {draw(timelines, a.png, a.title)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
