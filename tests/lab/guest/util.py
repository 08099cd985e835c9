"""Small helpers: logged commands, waiting for states (never fixed sleeps)."""
import shlex
import subprocess
import sys
import time

_T0 = time.monotonic()


def log(msg):
    sys.stdout.write(f"[lab {time.monotonic() - _T0:8.2f}] {msg}\n")
    sys.stdout.flush()


def sh(cmd, check=True, netns=None, quiet=False, timeout=120, input=None):
    """Run a command (list or string; strings are split with shlex, no shell).

    Returns CompletedProcess with text stdout/stderr.  netns="far" runs it in that namespace.
    """
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    cmd = [str(c) for c in cmd]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    if not quiet:
        log("$ " + " ".join(shlex.quote(c) for c in cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    if r.returncode != 0 and (check or not quiet):
        log(f"  -> rc={r.returncode} {r.stderr.strip()[:500]}")
    if check and r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)
    return r


class WaitTimeout(AssertionError):
    pass


_scale = []


def lab_scale():
    """labrun's wibond.lab.scale (kernel command line): how much slower than our idle machine
    this guest runs (the host's load, the suite, the architecture); 1.0 outside a run."""
    if not _scale:
        value = 1.0
        try:
            for word in open("/proc/cmdline").read().split():
                if word.startswith("wibond.lab.scale="):
                    value = max(1.0, float(word.split("=", 1)[1]))
        except (OSError, ValueError):
            pass
        _scale.append(value)
    return _scale[0]


def wait_for(cond, timeout=60.0, what=None, interval=0.1, raise_on_timeout=True):
    """Poll cond() until it returns a truthy value; return (value).

    The timeout is multiplied by lab_scale(): a slower or busier machine waits longer.
    Deadlines should be generous: under TCG one reconnect took >4 s and a dhclient restart 31 s.
    Exceptions raised by cond() count as "not yet".  On timeout raises WaitTimeout (an
    AssertionError) unless raise_on_timeout=False, in which case returns None.
    The elapsed time of the last successful wait is in wait_for.last_elapsed (seconds).
    """
    what = what or getattr(cond, "__name__", "condition")
    timeout = timeout * lab_scale()
    t0 = time.monotonic()
    deadline = t0 + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                wait_for.last_elapsed = time.monotonic() - t0
                return v
        except Exception as e:  # noqa: BLE001 - "not yet"
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc:
                msg += f" (last error: {last_exc!r})"
            log(msg)
            if raise_on_timeout:
                raise WaitTimeout(msg)
            return None
        time.sleep(interval)


wait_for.last_elapsed = None


def say(msg):
    """Narrate: to check.log and, prefixed "wibond-demo|", to the serial console, where
    `host/labrun.py run --follow` (make demo) shows it live."""
    log(msg)
    try:
        with open("/dev/console", "w") as con:
            for ln in str(msg).splitlines() or [""]:
                con.write(f"wibond-demo| {ln}\n")
    except OSError:
        pass
