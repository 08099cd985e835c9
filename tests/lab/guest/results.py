"""Results writer: checks (name/passed/detail) and figures (name/value/unit) -> out/result.json.

    with Results() as res:            # an exception inside is recorded as a failed check
        res.check("bond exists", st is not None, st)
        res.figure("failover loss", 4, "pings")

The file is rewritten after every check/figure (marked "complete": false) so a run that dies
half way still leaves evidence; leaving the with-block writes the final version.
passed = at least one check, all checks passed, no exception.
"""
import json
import os
import time
import traceback

from .paths import LAB_DIR, OUT_DIR, RESULT_FILE, SCENARIO_DIR, TIMELINES_FILE
from .util import log


class Results:
    def __init__(self, path=RESULT_FILE, scenario=None):
        self.path = path
        self.scenario = scenario or os.environ.get("WIBOND_LAB_SCENARIO") or SCENARIO_DIR.name
        self.checks = []
        self.figures = []
        self.notes = []
        self.timelines = []
        self.t0 = time.monotonic()
        self.complete = False
        # A later boot of a scenario that reboots (fixture.json "boots"): what the earlier
        # boots found comes first.
        self.boot = 1
        previous = OUT_DIR / "result-previous.json"
        if previous.exists():
            old = json.loads(previous.read_text())
            self.checks, self.figures, self.notes = old["checks"], old["figures"], old["notes"]
            self.boot = old.get("boot", 1) + 1
        if TIMELINES_FILE.exists():
            self.timelines = json.loads(TIMELINES_FILE.read_text()).get("timelines", [])

    def reboot(self, keep=()):
        """Ask the host for another boot of this scenario once check.py ends, keeping the files
        KEEP (paths in the guest) as a disk would: they go into the share's rootfs/, which the
        initramfs lays over the root at every boot (a file of KEEP that is gone is taken out
        of it)."""
        import shutil

        for path in keep:
            copy = LAB_DIR / "rootfs" / str(path).lstrip("/")
            if os.path.exists(path):
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copy)
            elif copy.exists():
                copy.unlink()
        (OUT_DIR / "reboot").write_text(f"{self.boot + 1}\n")
        log(f"boot {self.boot} done; asking for boot {self.boot + 1}")
        self.t0 = time.monotonic()
        self.complete = False

    def check(self, name, passed, detail=""):
        passed = bool(passed)
        if not isinstance(detail, (str, int, float, bool, type(None), list, dict)):
            detail = repr(detail)
        self.checks.append({"name": name, "passed": passed, "detail": detail,
                            "t": round(time.monotonic() - self.t0, 2)})
        log(f"CHECK {'PASS' if passed else 'FAIL'}: {name} {detail if detail != '' else ''}")
        self.write()
        return passed

    def figure(self, name, value, unit=""):
        self.figures.append({"name": name, "value": value, "unit": unit})
        log(f"FIGURE {name} = {value} {unit}")
        self.write()

    def timeline(self, label, pinger, since, until, marks, lead=1.0):
        """The pings around one event for a picture: every probe from LEAD seconds before
        SINCE to UNTIL, and MARKS [(monotonic time, what happened)], to out/timelines.json
        (call after the pinger stopped: every probe in the window is decided)."""
        start = since - lead
        self.timelines.append({
            "label": label, "interval_ms": round(pinger.interval * 1000, 3),
            "timeout_ms": round(pinger.timeout * 1000), "event_ms": round(lead * 1000, 1),
            "probes": pinger.timeline(start, until),
            "marks": [[round((t - start) * 1000, 1), what] for t, what in marks if t is not None],
        })
        TIMELINES_FILE.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{TIMELINES_FILE}.tmp", "w") as f:
            json.dump({"scenario": self.scenario, "timelines": self.timelines}, f)
        os.replace(f"{TIMELINES_FILE}.tmp", TIMELINES_FILE)

    def note(self, text):
        self.notes.append(str(text))
        self.write()

    @property
    def passed(self):
        return bool(self.checks) and all(c["passed"] for c in self.checks)

    def as_dict(self):
        return {"scenario": self.scenario, "passed": self.passed, "complete": self.complete,
                "boot": self.boot,
                "checks": self.checks, "figures": self.figures, "notes": self.notes,
                "duration_s": round(time.monotonic() - self.t0, 2)}

    def write(self):
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.as_dict(), f, indent=2, default=str)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if etype is not None:
            self.checks.append({"name": f"no exception ({etype.__name__})", "passed": False,
                                "detail": "".join(traceback.format_exception(etype, exc, tb))[-3000:],
                                "t": round(time.monotonic() - self.t0, 2)})
            log("".join(traceback.format_exception(etype, exc, tb)))
        self.complete = True
        self.write()
        return False
