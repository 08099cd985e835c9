#!/usr/bin/env python3
"""Run wibond lab scenarios in a QEMU (TCG) VM with Debian's kernel: bonding + mac80211_hwsim.

CLI:
    python3 tests/lab/labrun.py run SCENARIO [SCENARIO ...] [--suite SUITE] [--out DIR] [--timeout S]
                                    [--boot-each] [--jobs N] [--no-install] [--console-journal]
                                    [--json]
    python3 tests/lab/labrun.py list
    python3 tests/lab/labrun.py build [build-image args]     (same as tests/lab/build-image)

SCENARIO is a name under tests/lab/scenarios/ or a path to a scenario directory.  SUITE is the
guest's Debian suite: bookworm (systemd 252), trixie (257) or sid (262); default
$WIBOND_LAB_SUITE, else bookworm.  A scenario's fixture.json may limit the suites it runs on
("suites": [...]).  Consecutive
scenarios whose fixture.json says "shared_boot": true (and that have no etc/ of their own) run
in one boot, with a cleanup between them; every other scenario gets a boot of its own.
--boot-each gives every scenario its own boot.  Exit status 1 if any scenario failed.

From Python / pytest:
    sys.path.insert(0, "tests/lab"); import labrun
    res = labrun.run_scenario("boot")            # one boot, one scenario
    results = labrun.run_scenarios(["boot", "plain-bond"])
    assert res["passed"], labrun.failed_checks(res)

Per boot (see README.md): tests/lab/build-image (seconds when the cached image is current) ->
a share dir with guest/, scenarios/<name>/, plan.json and rootfs/ (= `make install DESTDIR=`
+ tests/lab/overlay/ + the lab unit links + the scenario's etc/) -> qemu -snapshot on the cached
root.img; the initramfs copies rootfs/ over the root -> results in out/<name>/.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LAB = Path(__file__).resolve().parent
REPO = LAB.parent.parent
SCENARIOS = LAB / "scenarios"
DEFAULT_CACHE = os.environ.get("WIBOND_LAB_CACHE", "/var/cache/wibond-lab")
SUITES = ("bookworm", "trixie", "sid")
DEFAULT_SUITE = os.environ.get("WIBOND_LAB_SUITE", "bookworm")
# amd64, or arm64 (the Raspberry Pi's architecture: qemu-system-aarch64 -M virt; wibond goes in
# from the Arch package, installed with pacman -U --root as into an ALARM image).
ARCHES = ("amd64", "arm64")
DEFAULT_ARCH = os.environ.get("WIBOND_LAB_ARCH", "amd64")
CLEANUP_ALLOWANCE_S = 60
LAB_UNITS = {"sysinit.target.wants": ["wibond-lab-fixture.service", "wibond-lab-watchdog.service"],
             "multi-user.target.wants": ["wibond-lab-run.service"]}
DEFAULT_BOOT_LIMIT_S = 180  # guest watchdog: power off when the runner has not started by then
# Deadlines come from the machine, not fixed numbers: each guest deadline (boot watchdog,
# check.py's timeout, the QEMU deadline) is multiplied by the suite's factor (measured here:
# a sid guest boots to the runner in about 1.5x a bookworm guest's time, trixie 1.2x) and by
# how much slower this host runs a fixed CPU probe than it did idle (PROBE_IDLE_S), so a busy
# or slower machine gets longer limits instead of false failures, and a hang is still caught.
SUITE_FACTOR = {"bookworm": 1.0, "trixie": 1.2, "sid": 1.5}
ARCH_FACTOR = {"amd64": 1.0, "arm64": 2.0}  # aarch64 emulated on x86: about twice as slow
PROBE_IDLE_S = 0.17  # min of 3 runs of _probe() on an idle 2-CPU development machine
GUEST_FILES = ("result.json", "check.log", "journal.txt", "state.txt", "fixture-state.json",
               "hostapd.log", "dnsmasq.log")


def _log(msg):
    print(f"[labrun {time.strftime('%H:%M:%S')}] {msg}", flush=True)


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


def _probe():
    t = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x += i * i
    return time.perf_counter() - t


_host_scale = []


def host_scale():
    """How much slower than idle this machine is now (>= 1), measured once per process."""
    if not _host_scale:
        env = os.environ.get("WIBOND_LAB_SCALE")
        _host_scale.append(float(env) if env else
                           max(1.0, min(_probe() for _ in range(3)) / PROBE_IDLE_S))
    return _host_scale[0]


def deadline_scale(suite, arch="amd64"):
    return round(SUITE_FACTOR.get(suite, 1.5) * ARCH_FACTOR.get(arch, 2.0) * host_scale(), 2)


_image_checked = {}


def image_dir(cache=DEFAULT_CACHE, build=True, suite=DEFAULT_SUITE, arch=DEFAULT_ARCH):
    """The current cached image of SUITE; runs build-image first (once per process and suite)
    so a changed build-image or package list is never silently ignored (a no-op takes a few
    seconds)."""
    cache = str(cache)
    if build and (cache, suite, arch) not in _image_checked:
        r = subprocess.run([sys.executable, str(LAB / "build-image"), "--cache", cache,
                            "--suite", suite, "--arch", arch],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"build-image --suite {suite} failed (rc={r.returncode}):\n"
                               f"{r.stdout[-4000:]}")
        _image_checked[(cache, suite, arch)] = r.stdout
    cur = Path(cache) / (f"current-{suite}" if arch == "amd64" else f"current-{suite}-{arch}")
    if not (cur / "complete").exists() or not (cur / "root.img").exists():
        raise FileNotFoundError(f"no {suite} lab image in {cache}; run tests/lab/build-image "
                                f"--suite {suite}")
    return cur.resolve()


def lab_available():
    """True when a run can work here: root, and qemu present or installable with apt-get."""
    return os.geteuid() == 0 and (shutil.which("qemu-system-x86_64") is not None
                                  or shutil.which("apt-get") is not None)


def _copytree_over(src, dst):
    """Copy src/. over dst/ replacing files (never writing through existing files)."""
    if Path(src).is_dir():
        Path(dst).mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", "--remove-destination", f"{src}/.", str(dst)], check=True)


def _ignore_pycache(_d, names):
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def _excerpt(path, tail=60, grep=("wibond",), max_grep=150):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return {}
    hits = [ln for ln in lines if any(g in ln.lower() for g in grep)]
    return {"tail": lines[-tail:], "wibond": hits[-max_grep:]}


_package = []


def arch_package(log_dir):
    """wibond's Arch package, built once per process with `make pkg` (its check() skipped:
    the host tests run on their own)."""
    if not _package:
        build = Path(tempfile.mkdtemp(prefix="wibond-lab-pkg-"))
        build.chmod(0o755)  # makepkg runs as nobody when we are root
        with open(log_dir / "pkg.log", "w") as lf:
            r = subprocess.run(["make", "-C", str(REPO), "pkg", f"PKGBUILDDIR={build}/b",
                                "MAKEPKG_FLAGS=--nodeps --nocheck"],
                               stdout=lf, stderr=subprocess.STDOUT)
        found = sorted((build / "b").glob("*.pkg.tar.zst"))
        if r.returncode != 0 or not found:
            raise RuntimeError(f"make pkg failed (rc={r.returncode}); see {log_dir / 'pkg.log'}")
        _package.append(found[0])
    return _package[0]


def prepare_rootfs(rootfs, scen_dirs, install=True, log_dir=None, from_package=False):
    """The files the initramfs copies over the cached root: product (make install, or the
    Arch package through pacman -U --root), lab units, scenario etc/."""
    t = time.monotonic()
    rootfs.mkdir(parents=True)
    info = {}
    if install and from_package:
        pkg = arch_package(log_dir)
        (rootfs / "var/lib/pacman").mkdir(parents=True)
        with open(log_dir / "install.log", "w") as lf:
            r = subprocess.run(["pacman", "-U", "--root", str(rootfs), "--dbpath",
                                str(rootfs / "var/lib/pacman"), "-dd", "--noscriptlet",
                                "--noconfirm", str(pkg)], stdout=lf, stderr=subprocess.STDOUT)
        info["install_rc"] = r.returncode
        info["installed_from"] = pkg.name
        if r.returncode != 0:
            raise RuntimeError(f"pacman -U failed (rc={r.returncode}); see {log_dir / 'install.log'}")
    elif install:
        with open(log_dir / "install.log", "w") as lf:
            r = subprocess.run(["make", "-C", str(REPO), "install", f"DESTDIR={rootfs}"],
                               stdout=lf, stderr=subprocess.STDOUT)
        info["install_rc"] = r.returncode
        if r.returncode != 0:
            raise RuntimeError(f"make install failed (rc={r.returncode}); see {log_dir / 'install.log'}")
    _copytree_over(LAB / "overlay", rootfs)
    sysd = rootfs / "etc/systemd/system"
    for wants, units in LAB_UNITS.items():
        (sysd / wants).mkdir(parents=True, exist_ok=True)
        for u in units:
            (sysd / wants / u).symlink_to(f"/etc/systemd/system/{u}")
    for scen in scen_dirs:
        _copytree_over(scen / "etc", rootfs / "etc")
    info["rootfs_s"] = round(time.monotonic() - t, 2)
    return info


def precompile(share, image):
    """Byte-compile the guest library and the scenarios with the host's python when it has the
    guest's major.minor (saves compiling under TCG at every import; `make install` already
    ships the product's bytecode).  Returns True when done."""
    want = json.loads((image / "manifest.json").read_text()).get("guest_python")
    if want != f"{sys.version_info.major}.{sys.version_info.minor}":
        return False
    jobs = [(share / "guest", "/mnt/lab/guest"), (share / "scenarios", "/mnt/lab/scenarios")]
    for d, guest_path in jobs:
        if d.is_dir():
            subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-s", str(d),
                            "-p", guest_path, str(d)], check=False, stdout=subprocess.DEVNULL)
    return True


def qemu_cmd(image, share, console, label, extra_append="", arch="amd64"):
    tty = "ttyAMA0" if arch == "arm64" else "ttyS0"
    append = (f"console={tty},115200 root=/dev/vda rw panic=-1 wibond.lab=1 "
              f"wibond.lab.scenario={label} systemd.show_status=1 "
              # the kernel testing its own crypto: no use here, and where TCG wedged it once
              "cryptomgr.notests " + extra_append).strip()
    machine = (["qemu-system-aarch64", "-M", "virt", "-accel", "tcg",
                # pauth-impdef: the kernel boots in ~6 s instead of 15 under TCG
                "-cpu", "max,pauth-impdef=on"] if arch == "arm64" else
               ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max"])
    return machine + ["-smp", "2", "-m", "1024",
            "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
            "-serial", f"file:{console}",
            "-kernel", str(image / "vmlinuz"), "-initrd", str(image / "initrd.img"),
            "-append", append,
            "-drive", f"file={image / 'root.img'},if=virtio,format=raw,snapshot=on",
            "-virtfs", f"local,path={share},mount_tag=lab,security_model=none,id=lab",
            "-device", "virtio-rng-pci", "-nic", "none"]


def _new_result(name, out, console):
    return {"scenario": name, "passed": False, "out_dir": str(out), "console_log": str(console),
            "checks": [], "figures": [], "timings": {}}


def run_boot(names, out, timeout=None, install=True, cache=DEFAULT_CACHE,
             console_journal=False, quiet=False, append="", follow=None, suite=DEFAULT_SUITE,
             arch=DEFAULT_ARCH):
    """One boot running `names` in order.  `out` is the boot's directory; with one scenario it
    is also that scenario's directory, with several each gets out/<name>/.
    `follow`: a regular expression; console lines matching it are printed as they come.
    Returns the list of result dicts (never raises for a failing scenario)."""
    t_all = time.monotonic()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    scens = [scenario_dir(n) for n in names]
    snames = [s.name for s in scens]
    single = len(scens) == 1
    sdirs = {s: (out if single else out / s) for s in snames}
    share = out / "share"
    console = out / "console.log"
    results = {s: _new_result(s, sdirs[s], console) for s in snames}
    for s in snames:
        results[s]["suite"] = suite
        results[s]["arch"] = arch
    boot_timings = {}

    def finish_all(error=None):
        for s in snames:
            r = results[s]
            if error:
                r["error"] = error
                r["checks"].append({"name": "boot", "passed": False, "detail": error})
            r["timings"].update(boot_timings)
            r["timings"]["total_s"] = round(time.monotonic() - t_all, 2)
            if len(snames) > 1:
                r["shared_boot_with"] = snames
            _save(r, sdirs[s], quiet)
        return [results[s] for s in snames]

    limits = []
    for s in scens:
        try:
            limits.append(float(fixture_config(s).get("timeout", 300)))
        except ValueError as e:
            return finish_all(f"bad fixture.json in {s}: {e}")
    scale = deadline_scale(suite, arch)
    boot_timings["deadline_scale"] = scale
    boot_limit = int(float(fixture_config(scens[0]).get("boot_limit", DEFAULT_BOOT_LIMIT_S))
                     * scale)
    limit = timeout or (sum(limits) * scale + boot_limit + 60
                        + CLEANUP_ALLOWANCE_S * (len(scens) - 1))
    try:
        image = image_dir(cache, suite=suite, arch=arch)
    except (RuntimeError, FileNotFoundError) as e:
        return finish_all(str(e))
    wrong = [s.name for s in scens if suite not in scenario_suites(s)]
    if wrong:
        return finish_all(f"{', '.join(wrong)} do not run on {suite} (fixture.json suites)")
    manifest = json.loads((image / "manifest.json").read_text())
    for s in snames:
        results[s]["image"] = manifest.get("key")
    t = time.monotonic()
    (share / "out").mkdir(parents=True)
    shutil.copytree(LAB / "guest", share / "guest", ignore=_ignore_pycache)
    for s in scens:
        # Links are followed: a variant scenario may link another's check.py.
        shutil.copytree(s, share / "scenarios" / s.name, ignore=_ignore_pycache)
    (share / "plan.json").write_text(json.dumps({"scenarios": snames}) + "\n")
    try:
        boot_timings.update(prepare_rootfs(share / "rootfs", scens, install=install, log_dir=out,
                                           from_package=arch == "arm64"))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        return finish_all(f"prepare run files: {e}")
    boot_timings["precompiled"] = precompile(share, image)
    boot_timings["prepare_s"] = round(time.monotonic() - t, 2)

    append = f"wibond.lab.boot_limit={boot_limit} wibond.lab.scale={scale} {append}"
    if console_journal:
        append = f"{append} systemd.journald.forward_to_console=1"
    cmd = qemu_cmd(image, share, console, ",".join(snames), append, arch)
    (out / "qemu-cmd.txt").write_text(" ".join(cmd) + "\n")
    if not quiet:
        _log(f"{' + '.join(snames)} [{suite}{'' if arch == 'amd64' else ' ' + arch}]: booting (deadline {limit:.0f}s), console: {console}")
    t = time.monotonic()
    stop_follow = threading.Event()
    follower = None
    if follow:
        follower = threading.Thread(target=_follow_console, args=(console, follow, stop_follow),
                                    daemon=True)
        follower.start()
    for attempt in range(1 + KERNEL_HANG_RETRIES):
        p, hang = _run_qemu(cmd, console, limit)
        if not hang:
            break
        boot_timings.setdefault("kernel_hangs", []).append(hang)
        if hang.startswith("after") or attempt == KERNEL_HANG_RETRIES:
            break  # wedged with the product running: a failure, reported, not retried
        _log(f"{' + '.join(snames)}: {hang}; booting again")
        shutil.copy2(console, out / f"console-hang-{attempt + 1}.log")
        hang = None
    stop_follow.set()
    if follower:
        follower.join(5)
    boot_timings["qemu_wall_s"] = round(time.monotonic() - t, 2)
    timed_out = p.returncode in (124, 137) and not hang
    if p.stdout.strip():
        (out / "qemu-output.txt").write_text(p.stdout)
    fatal = [ln.strip() for ln in _lines(console)
             if ln.lstrip().startswith("wibond-lab") and ": FATAL: " in ln]
    if (share / "out" / "boot-fatal.txt").exists():
        shutil.copy2(share / "out" / "boot-fatal.txt", out / "boot-fatal.txt")

    for s in snames:
        r = results[s]
        r["qemu_exit"] = p.returncode
        r["qemu_timed_out"] = timed_out
        gout = share / "out" / s
        if not single:
            sdirs[s].mkdir(parents=True, exist_ok=True)
        for f in GUEST_FILES:
            if (gout / f).exists():
                shutil.copy2(gout / f, sdirs[s] / ("guest-result.json" if f == "result.json" else f))
        rfile = gout / "result.json"
        if rfile.exists():
            try:
                g = json.loads(rfile.read_text())
            except ValueError as e:
                g = {"passed": False, "error": f"unreadable result.json: {e}"}
            for k in ("checks", "figures", "notes", "complete", "check_exit", "check_timed_out",
                      "fixture", "error"):
                if k in g:
                    r[k] = g[k]
            r["passed"] = bool(g.get("passed")) and not timed_out
            if "check_started_uptime_s" in g:
                r["timings"]["check_started_uptime_s"] = g["check_started_uptime_s"]
                if s == snames[0]:
                    r["timings"]["boot_to_check_s"] = g["check_started_uptime_s"]
            if "check_duration_s" in g:
                r["timings"]["check_s"] = g["check_duration_s"]
            fx = g.get("fixture") or {}
            for k in ("duration_s", "cleanup_s"):
                if k in fx:
                    r["timings"][f"fixture_{k}"] = fx[k]
        else:
            r["passed"] = False
            why = fatal[-1] if fatal else \
                "no result file from the guest (boot failure, earlier scenario hung, or timeout?)"
            r.setdefault("error", why)
            r["checks"].append({"name": "guest wrote a result", "passed": False,
                                "detail": f"{why}; qemu exit {p.returncode}; see {console}"})
        if timed_out:
            r["checks"].append({"name": "VM finished before the deadline", "passed": False,
                                "detail": f"killed after {limit:.0f}s"})
        if hang:
            r["passed"] = False
            r["checks"].append({"name": "guest kernel kept running", "passed": False,
                                "detail": f"{hang}; see {console}"})
        r["journal_excerpt"] = _excerpt(sdirs[s] / "journal.txt")
        r["console_excerpt"] = _excerpt(console, tail=30, grep=("wibond", "lab"), max_grep=0).get("tail", [])
        if not single:
            try:
                os.symlink("../console.log", sdirs[s] / "console.log")
            except OSError:
                pass
    # the rootfs tree is large-ish and reproducible; the guest results were copied out
    shutil.rmtree(share / "rootfs", ignore_errors=True)
    return finish_all()


# Under TCG with -smp 2 the guest kernel sometimes wedges for good in early boot (seen: a
# soft lockup in cryptomgr_test 1.4 s in, still stuck 400 s later). The kernel's watchdog
# says so on the console; waiting out the QEMU deadline would cost CI most of its budget.
_LOCKUP = re.compile(r"watchdog: BUG: soft lockup - CPU#\d+ stuck for (\d+)s|"
                     r"rcu: INFO: \w+ (?:self-)?detected stall")
_USERSPACE = "Run /init as init process"
KERNEL_HANG_RETRIES = 2
KERNEL_HANG_S = 50  # a CPU stuck this long under TCG is wedged, not slow


def _kernel_hang(console):
    """Why the guest kernel is wedged, or None. Before userspace it is the emulator's fault
    and worth another boot; after, the run is a failure either way, only a faster one."""
    userspace = False
    for ln in _lines(console):
        if _USERSPACE in ln:
            userspace = True
        m = _LOCKUP.search(ln)
        if m and m.group(1) and int(m.group(1)) >= KERNEL_HANG_S:
            where = "after userspace started" if userspace else "before userspace"
            return f"{where}: guest kernel wedged ({m.group(0)})"
    return None


def _run_qemu(cmd, console, limit):
    """Run QEMU under `timeout`; kill it early when the guest kernel is wedged.
    Returns (CompletedProcess-like, hang reason or None)."""
    p = subprocess.Popen(["timeout", "--kill-after=10", str(int(limit))] + cmd,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    reader.start()
    hang = None
    while p.poll() is None:
        time.sleep(2)
        hang = _kernel_hang(console)
        if hang:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            break
    reader.join(10)
    return subprocess.CompletedProcess(cmd, p.returncode, "".join(out)), hang


def _follow_console(console, pattern, stop):
    """Print the console lines matching `pattern` while QEMU writes them (make demo)."""
    rx = re.compile(pattern)
    while not console.exists() and not stop.is_set():
        time.sleep(0.2)
    with open(console, errors="replace") as f:
        buf = ""
        while True:
            chunk = f.read()
            if chunk:
                buf += chunk
                *done, buf = buf.split("\n")
                for ln in done:
                    ln = ln.rstrip("\r")
                    if rx.search(ln):
                        print(ln, flush=True)
            elif stop.is_set():
                return
            else:
                time.sleep(0.2)


def _lines(path):
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []


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


def plan_boots(names, boot_each=False):
    """Group scenario names into boots: runs of consecutive shareable scenarios share one."""
    boots = []
    for n in names:
        share = not boot_each and can_share_boot(scenario_dir(n))
        if share and boots and boots[-1][0] and n not in boots[-1][1]:
            boots[-1][1].append(n)
        else:
            boots.append((share, [n]))
    return [b for _s, b in boots]


def _expected_s(group):
    return sum(float(fixture_config(scenario_dir(n)).get("timeout", 300)) for n in group)


def run_scenarios(names, out=None, timeout=None, install=True, cache=DEFAULT_CACHE,
                  console_journal=False, quiet=False, boot_each=False, append="", follow=None,
                  jobs=1, suite=DEFAULT_SUITE, arch=DEFAULT_ARCH):
    """Run scenarios (sharing boots where allowed); returns one result dict per scenario, in
    the order of `names`.  Output: <out>/<name>/ for each scenario (<out> defaults to
    <cache>/runs/<time>/).  jobs > 1 runs that many boots at once, the longest first."""
    out = Path(out) if out else _default_out(
        cache, f"{suite}-" + "+".join(Path(n).name for n in names)[:80])
    done = run_matrix([(suite, n) for n in names], {suite: out}, timeout=timeout,
                      install=install, cache=cache, console_journal=console_journal,
                      quiet=quiet, boot_each=boot_each, append=append, follow=follow, jobs=jobs,
                      arch=arch)
    return [done[(suite, scenario_dir(n).name)] for n in names]


def run_matrix(runs, outs, timeout=None, install=True, cache=DEFAULT_CACHE,
               console_journal=False, quiet=False, boot_each=False, append="", follow=None,
               jobs=1, arch=DEFAULT_ARCH):
    """Run (suite, scenario) pairs: each suite's scenarios grouped into boots as
    run_scenarios does, and all boots of all suites in one pool of `jobs`, the longest first,
    so no CPU idles while one suite's last boot runs.  outs[suite] is that suite's output
    directory.  Returns {(suite, scenario): result}."""
    suites = list(dict.fromkeys(s for s, _n in runs))
    boots = [(suite, group) for suite in suites
             for group in plan_boots([n for s, n in runs if s == suite], boot_each)]

    def one(boot):
        suite, group = boot
        out = Path(outs[suite])
        bdir = out / group[0] if len(group) == 1 else out / ("boot-" + "+".join(group))
        res = run_boot(group, bdir, timeout=timeout, install=install, cache=cache,
                       console_journal=console_journal, quiet=quiet, append=append,
                       follow=follow, suite=suite, arch=arch)
        if len(group) > 1:  # make <out>/<name> exist for every scenario
            for r in res:
                link = out / r["scenario"]
                if not link.exists():
                    link.symlink_to(Path(r["out_dir"]).relative_to(out))
        return res

    if jobs <= 1 or len(boots) <= 1:
        done = [r for b in boots for r in one(b)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        for suite in suites:
            try:
                image_dir(cache, suite=suite, arch=arch)  # build-image once, before the boots
            except (RuntimeError, FileNotFoundError):
                pass  # each boot reports it
        order = sorted(boots, key=lambda b: _expected_s(b[1]) * SUITE_FACTOR.get(b[0], 1.5),
                       reverse=True)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            done = [r for res in pool.map(one, order) for r in res]
    return {(r["suite"], r["scenario"]): r for r in done}


def run_scenario(name, out=None, timeout=None, install=True, cache=DEFAULT_CACHE,
                 console_journal=False, quiet=False, append="", follow=None, suite=DEFAULT_SUITE,
                 arch=DEFAULT_ARCH):
    """Boot once, run scenario `name`, return its result dict (never raises for a failing
    scenario; 'passed' says it).  Result also saved as <out>/result.json."""
    sname = scenario_dir(name).name
    out = Path(out) if out else _default_out(cache, f"{suite}-{sname}")
    return run_boot([name], out, timeout=timeout, install=install, cache=cache,
                    console_journal=console_journal, quiet=quiet, append=append,
                    follow=follow, suite=suite, arch=arch)[0]


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run scenarios (boots shared where the scenarios allow)")
    r.add_argument("scenarios", nargs="+")
    r.add_argument("--out", help="output dir (with one scenario: its dir; else one subdir each)")
    r.add_argument("--timeout", type=float, help="QEMU wall-clock deadline per boot, seconds")
    r.add_argument("--boot-each", action="store_true", help="one boot per scenario, always")
    r.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="boots at once (2 suits 2 CPUs: each TCG guest is mostly one busy thread)")
    r.add_argument("--no-install", action="store_true", help="skip make install (product absent)")
    r.add_argument("--console-journal", action="store_true", help="forward the journal to the console")
    r.add_argument("--append", default="", help="extra kernel command line (e.g. systemd.log_level=debug)")
    r.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    r.add_argument("--follow", metavar="REGEX",
                   help="print console lines matching REGEX live (with --console-journal: journal too)")
    r.add_argument("--cache", default=DEFAULT_CACHE)
    r.add_argument("--suite", choices=SUITES, default=DEFAULT_SUITE,
                   help="the guest's Debian suite (default $WIBOND_LAB_SUITE or bookworm)")
    r.add_argument("--arch", choices=ARCHES, default=DEFAULT_ARCH,
                   help="the guest's architecture (default $WIBOND_LAB_ARCH or amd64); arm64 "
                        "installs wibond from its Arch package")
    sub.add_parser("list", help="list scenarios")
    b = sub.add_parser("build", help="build/refresh the cached image (tests/lab/build-image)")
    b.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)

    if a.cmd == "list":
        print("\n".join(list_scenarios()))
        return 0
    if a.cmd == "build":
        return subprocess.run([sys.executable, str(LAB / "build-image")] + a.args).returncode
    if os.geteuid() != 0:
        print("labrun: must run as root (qemu, 9p, make install into the run tree)", file=sys.stderr)
        return 2
    for s in a.scenarios:
        if a.suite not in scenario_suites(scenario_dir(s)):  # also fails early on a typo
            print(f"labrun: {s} does not run on {a.suite} (its fixture.json says "
                  f"{scenario_suites(scenario_dir(s))})", file=sys.stderr)
            return 2
    t0 = time.monotonic()
    _log(f"checking the cached {a.suite} image (tests/lab/build-image --suite {a.suite})")
    image_dir(a.cache, suite=a.suite, arch=a.arch)
    _log(f"image ready in {time.monotonic() - t0:.1f}s")
    if a.out and len(a.scenarios) == 1:
        results = [run_scenario(a.scenarios[0], out=a.out, timeout=a.timeout,
                                install=not a.no_install, cache=a.cache,
                                console_journal=a.console_journal, append=a.append,
                                follow=a.follow, suite=a.suite, arch=a.arch)]
    else:
        results = run_scenarios(a.scenarios, out=a.out, timeout=a.timeout,
                                install=not a.no_install, cache=a.cache,
                                console_journal=a.console_journal, boot_each=a.boot_each,
                                append=a.append, follow=a.follow, jobs=a.jobs, suite=a.suite,
                                arch=a.arch)
    print("\n=== summary")
    print("  (wall = the whole boot the scenario ran in; check = its check.py in the guest)")
    for r in results:
        t = r["timings"]
        shared = f"  [one boot: {'+'.join(r['shared_boot_with'])}]" if r.get("shared_boot_with") else ""
        print(f"  {'PASS' if r['passed'] else 'FAIL'}  {r['scenario']:<20} {r.get('suite', ''):<9} wall {t.get('total_s', 0):6.1f}s"
              f"  check {t.get('check_s', 0):5.1f}s  {r['out_dir']}{shared}")
    nfail = sum(not r["passed"] for r in results)
    print(f"  {len(results) - nfail}/{len(results)} passed in {time.monotonic() - t0:.0f}s")
    if a.json:
        print(json.dumps(results, indent=2, default=str))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
