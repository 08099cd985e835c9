"""How long a guest may take: every deadline scales with the suite, the architecture and how
busy this machine is now (tests/lab/README.md, "Deadlines under load"). Runs on the host."""
import os
import time

# Deadlines come from the machine, not fixed numbers: each guest deadline (boot watchdog,
# check.py's timeout, the QEMU deadline) is multiplied by the suite's factor (measured here:
# a sid guest boots to the runner in about 1.5x a bookworm guest's time, trixie 1.2x) and by
# how much slower this host runs a fixed CPU probe than it did idle (PROBE_IDLE_S), so a busy
# or slower machine gets longer limits instead of false failures, and a hang is still caught.
SUITE_FACTOR = {"bookworm": 1.0, "trixie": 1.2, "sid": 1.5}
ARCH_FACTOR = {"amd64": 1.0, "arm64": 2.0}  # aarch64 emulated on x86: about twice as slow
PROBE_IDLE_S = 0.17  # min of 3 runs of _probe() on an idle 2-CPU development machine


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
