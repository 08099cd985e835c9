"""A run's results on the host: result.json per scenario, the printed summary, the runs kept."""
import json
import shutil
import time
from pathlib import Path


def _log(msg):
    print(f"[labrun {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _new_result(name, out, console):
    return {"scenario": name, "passed": False, "out_dir": str(out), "console_log": str(console),
            "checks": [], "figures": [], "timings": {}}


def _save(result, out, quiet):
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    if not quiet:
        _print_result(result)


def failed_checks(result):
    """Human-readable lines for the failed checks of a result (for assertion messages)."""
    lines = [f"{c.get('name')}: {c.get('detail')}" for c in result.get("checks", [])
             if not c.get("passed")]
    if result.get("error"):
        lines.append(f"error: {result['error']}")
    lines.append(f"details in {result.get('out_dir')}")
    return "\n".join(lines)


KEEP_RUNS = 30


def _default_out(cache, label):
    """<cache>/runs/<time>-<label>, pruning all but the newest KEEP_RUNS runs."""
    runs = Path(cache) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_RUNS + 1)]:
        shutil.rmtree(p, ignore_errors=True)
    return runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{label}"


def _print_result(r):
    print(f"\n=== scenario {r['scenario']}: {'PASSED' if r['passed'] else 'FAILED'}")
    for c in r.get("checks", []):
        d = c.get("detail", "")
        d = d if isinstance(d, str) else json.dumps(d, default=str)
        print(f"  [{'PASS' if c.get('passed') else 'FAIL'}] {c.get('name')}"
              + (f": {d[:300]}" if d else ""))
    for f in r.get("figures", []):
        print(f"  figure {f['name']} = {f['value']} {f.get('unit', '')}")
    if r.get("error"):
        print(f"  error: {r['error']}")
    print(f"  timings: {json.dumps(r.get('timings', {}))}")
    print(f"  out: {r['out_dir']}  (result.json, console.log, journal.txt, state.txt, check.log)")
