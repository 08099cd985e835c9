"""One boot of the guest: the run's files (product, lab units, scenario etc/), QEMU under TCG with
its deadline, a wedged guest kernel told from a slow one, the guest's results copied out.
Runs on the host."""
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

from catalog import (
    DEFAULT_ARCH,
    DEFAULT_CACHE,
    DEFAULT_SUITE,
    LAB,
    REPO,
    fixture_config,
    scenario_dir,
    scenario_suites,
)
from deadlines import deadline_scale
from image import image_dir
from results import _log, _new_result, _save

CLEANUP_ALLOWANCE_S = 60
LAB_UNITS = {"sysinit.target.wants": ["wibond-lab-fixture.service", "wibond-lab-watchdog.service"],
             "multi-user.target.wants": ["wibond-lab-run.service"]}
DEFAULT_BOOT_LIMIT_S = 180  # guest watchdog: power off when the runner has not started by then
GUEST_FILES = ("result.json", "timelines.json", "check.log", "journal.txt", "state.txt", "fixture-state.json",
               "hostapd.log", "dnsmasq.log")


def _copytree_over(src, dst):
    """Copy src/. over dst/ replacing files (never writing through existing files)."""
    if Path(src).is_dir():
        Path(dst).mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", "--remove-destination", f"{src}/.", str(dst)], check=True)


def _ignore_pycache(_d, names):
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def _ignore_for_share(d, names):
    """Bytecode, and links whose target is not on this host (a unit in a scenario's etc/)."""
    gone = [n for n in names
            if os.path.islink(os.path.join(d, n)) and not os.path.exists(os.path.join(d, n))]
    return _ignore_pycache(d, names) + gone


def _excerpt(path, tail=60, grep=("wibond",), max_grep=150):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return {}
    hits = [ln for ln in lines if any(g in ln.lower() for g in grep)]
    return {"tail": lines[-tail:], "wibond": hits[-max_grep:]}


_package = []
_deb = []
GUEST_DEB_DIR = "var/cache/wibond-lab"   # under the guest's root: the .deb it was installed from
_deb_lock = threading.Lock()


def deb_package(log_dir):
    """wibond's Debian package, built once per process with `make deb` (its tests skipped:
    the host tests run on their own), in a directory of this process's own."""
    with _deb_lock:
        if not _deb:
            build = Path(tempfile.mkdtemp(prefix="wibond-lab-deb-"))
            with open(log_dir / "deb.log", "w") as lf:
                r = subprocess.run(["make", "-C", str(REPO), "deb", f"DEBBUILDDIR={build}/b",
                                    f"DEBOUT={build}"],
                                   env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck"),
                                   stdout=lf, stderr=subprocess.STDOUT)
            found = sorted(build.glob("wibond_*_all.deb"))
            if r.returncode != 0 or not found:
                raise RuntimeError(f"make deb failed (rc={r.returncode}); see {log_dir / 'deb.log'}")
            _deb.append(found[0])
        return _deb[0]


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


def prepare_rootfs(rootfs, scen_dirs, install=True, log_dir=None, package="deb",
                   guest_python=None):
    """The files the initramfs copies over the cached root: product (the Debian package's
    files, laid out with dpkg-deb; the Arch package through pacman -U --root; or `make
    install` with PACKAGE None), lab units, scenario etc/."""
    t = time.monotonic()
    rootfs.mkdir(parents=True)
    info = {}
    if install and package == "deb":
        deb = deb_package(log_dir)
        with open(log_dir / "install.log", "w") as lf:
            r = subprocess.run(["dpkg-deb", "-x", str(deb), str(rootfs)], stdout=lf,
                               stderr=subprocess.STDOUT)
            # What the package's postinst does on the machine: bytecode for its python3
            # (here with this Python when it is the guest's version; else the guest does it
            # at the first import, as without a postinst).
            if r.returncode == 0 and guest_python == f"{sys.version_info.major}.{sys.version_info.minor}":
                subprocess.run([sys.executable, "-m", "compileall", "-q", "-d",
                                "/usr/lib/wibond/python/wibond",
                                str(rootfs / "usr/lib/wibond/python/wibond")],
                               stdout=lf, stderr=subprocess.STDOUT)
        info["install_rc"] = r.returncode
        info["installed_from"] = deb.name
        if r.returncode != 0:
            raise RuntimeError(f"dpkg-deb -x failed (rc={r.returncode}); see {log_dir / 'install.log'}")
        # The package file itself, for what installs it the way a user does (examples/ansible
        # in fleet-ansible: apt on the .deb, its maintainer scripts run).
        (rootfs / GUEST_DEB_DIR).mkdir(parents=True)
        shutil.copy(deb, rootfs / GUEST_DEB_DIR / deb.name)
    elif install and package == "arch":
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
            # This Python builds the man page (configobj) and the bytecode: labrun's own, which
            # `make demo` runs from the virtual environment tools/bootstrap made.
            r = subprocess.run(["make", "-C", str(REPO), "install", f"DESTDIR={rootfs}",
                                f"HOST_PYTHON={sys.executable}"],
                               stdout=lf, stderr=subprocess.STDOUT)
        info["install_rc"] = r.returncode
        if r.returncode != 0:
            raise RuntimeError(f"make install failed (rc={r.returncode}); see {log_dir / 'install.log'}")
    _copytree_over(LAB / "guest-root", rootfs)
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
        # Links are followed: a variant scenario may link another's check.py. (etc/ goes in
        # through the rootfs with its links kept: one to a unit the host lacks is left out
        # here. Not copytree's ignore_dangling_symlinks: it resolves a relative link from the
        # current directory and so drops a variant's check.py.)
        shutil.copytree(s, share / "scenarios" / s.name, ignore=_ignore_for_share)
    (share / "plan.json").write_text(json.dumps({"scenarios": snames}) + "\n")
    try:
        boot_timings.update(prepare_rootfs(
            share / "rootfs", scens, install=install, log_dir=out,
            package="arch" if arch == "arm64" else "deb",
            guest_python=json.loads((image / "manifest.json").read_text()).get("guest_python")))
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
    # A scenario that reboots (fixture.json "boots": N) asks for the next boot by leaving
    # out/<name>/reboot; the share, with what it put into rootfs/ (the /etc a disk keeps), and
    # its results so far (result-previous.json) go to the next boot.
    boots = int(fixture_config(scens[0]).get("boots", 1)) if single else 1
    gout0 = share / "out" / snames[0]
    for boot_no in range(1, boots + 1):
        for attempt in range(1 + KERNEL_HANG_RETRIES):
            p, hang = _run_qemu(cmd, console, limit)
            if not hang and not (gout0 / "result.json").exists():
                hang = _emulator_fault(console)
            if not hang:
                break
            boot_timings.setdefault("kernel_hangs", []).append(hang)
            if hang.startswith("after") or attempt == KERNEL_HANG_RETRIES:
                break  # wedged with the product running: a failure, reported, not retried
            _log(f"{' + '.join(snames)}: {hang}; booting again")
            shutil.copy2(console, out / f"console-hang-{attempt + 1}.log")
            hang = None
        if hang or boot_no == boots or not (gout0 / "reboot").exists():
            break
        (gout0 / "reboot").unlink()
        if (gout0 / "result.json").exists():
            os.replace(gout0 / "result.json", gout0 / "result-previous.json")
        shutil.move(str(console), str(out / f"console-boot{boot_no}.log"))
        for f in ("journal.txt", "check.log"):
            if (gout0 / f).exists():
                shutil.copy2(gout0 / f, out / f"{Path(f).stem}-boot{boot_no}{Path(f).suffix}")
        boot_timings.setdefault("reboots_at_s", []).append(round(time.monotonic() - t, 1))
        _log(f"{snames[0]}: the guest asked for another boot ({boot_no + 1} of {boots})")
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


# The other wedge seen (sid, 2026-12-07, two guests on 2 CPUs): the kernel's output stops for
# good 1 s into the boot (hpet0's line), no watchdog line ever comes, and QEMU runs until the
# run's deadline, 25 minutes later. Before userspace the kernel prints every few seconds
# even on a loaded host; this long without a line it is wedged.
KERNEL_SILENT_S = 120


class _Silence:
    """How long the console has not grown, for a guest whose kernel stops without a word."""

    def __init__(self, now):
        self.size, self.since = -1, now

    def hang(self, console, now):
        """Why the guest is wedged (silent before userspace), or None."""
        try:
            size = Path(console).stat().st_size
        except OSError:
            size = 0
        if size != self.size:
            self.size, self.since = size, now
            return None
        if now - self.since < KERNEL_SILENT_S or any(_USERSPACE in ln for ln in _lines(console)):
            return None
        return f"before userspace: guest kernel silent for {int(now - self.since)} s (wedged)"


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


# The guest kernel hitting the int3 its own text patching (static keys, alternatives) puts in
# place, under TCG with two vCPUs: "Oops: int3" in code that has no breakpoint, a panic, the
# guest gone in seconds (seen once in CI: trixie, 8.9 s into the boot, allocate_slab, before
# any scenario ran). Not something a product can cause; worth another boot.
_EMULATOR_OOPS = re.compile(r"Oops: int3\b")


def _emulator_fault(console):
    """Why the guest died of the emulator rather than of the run, or None."""
    for ln in _lines(console):
        if _EMULATOR_OOPS.search(ln):
            return f"emulator: guest kernel hit a stray int3 ({ln.strip()[:80]})"
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
    silence = _Silence(time.monotonic())
    while p.poll() is None:
        time.sleep(2)
        hang = _kernel_hang(console) or silence.hang(console, time.monotonic())
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
