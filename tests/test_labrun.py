"""The lab runner's own logic that needs no VM: telling a wedged guest kernel from a slow one."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab", "host"))
import boot  # noqa: E402
import deadlines  # noqa: E402
import labrun  # noqa: E402

EARLY = "[    1.385416] alg: self-tests for CTR-KDF (hmac(sha256)) passed\n"
LOCKUP = "[   {t}.376876] watchdog: BUG: soft lockup - CPU#0 stuck for {s}s! [cryptomgr_test:52]\n"
INIT = "[    2.100000] Run /init as init process\n"


def console(tmp_path, text):
    p = tmp_path / "console.log"
    p.write_text(text)
    return p


def test_a_short_lockup_is_slowness_not_a_hang(tmp_path) -> None:
    assert boot._kernel_hang(console(tmp_path, EARLY + LOCKUP.format(t=28, s=26))) is None


def test_a_long_lockup_before_userspace_is_a_hang_worth_another_boot(tmp_path) -> None:
    why = boot._kernel_hang(console(tmp_path, EARLY + LOCKUP.format(t=28, s=26)
                                      + LOCKUP.format(t=56, s=52)))
    assert why is not None and why.startswith("before userspace") and "stuck for 52s" in why


def test_a_long_lockup_after_userspace_is_reported_as_such(tmp_path) -> None:
    why = boot._kernel_hang(console(tmp_path, EARLY + INIT + LOCKUP.format(t=99, s=60)))
    assert why is not None and why.startswith("after userspace")


def test_a_kernel_silent_before_userspace_is_a_hang_worth_another_boot(tmp_path) -> None:
    log = console(tmp_path, EARLY)
    silence = boot._Silence(0.0)
    assert silence.hang(log, 1.0) is None                      # first look: it grew
    assert silence.hang(log, 1.0 + boot.KERNEL_SILENT_S - 1) is None
    why = silence.hang(log, 1.0 + boot.KERNEL_SILENT_S + 5)
    assert why is not None and why.startswith("before userspace") and "silent for 125 s" in why
    log.write_text(EARLY + "[    1.2] hpet0: at MMIO\n")      # a new line: the clock restarts
    assert silence.hang(log, 500.0) is None
    assert silence.hang(log, 500.0 + boot.KERNEL_SILENT_S + 5) is not None
    # after userspace a quiet console is the scenario's business (its own deadline)
    log.write_text(EARLY + INIT)
    quiet = boot._Silence(0.0)
    quiet.hang(log, 1.0)
    assert quiet.hang(log, 1000.0) is None


def test_no_console_no_hang(tmp_path) -> None:
    assert boot._kernel_hang(tmp_path / "missing.log") is None
    assert boot._kernel_hang(console(tmp_path, EARLY + INIT)) is None


def test_deadlines_scale_with_the_suite_and_the_machine(monkeypatch) -> None:
    monkeypatch.setattr(deadlines, "_host_scale", [])
    monkeypatch.setenv("WIBOND_LAB_SCALE", "2")
    assert deadlines.deadline_scale("bookworm") == 2.0
    assert deadlines.deadline_scale("sid") == 3.0
    monkeypatch.setattr(deadlines, "_host_scale", [])
    monkeypatch.delenv("WIBOND_LAB_SCALE")
    monkeypatch.setattr(deadlines, "_probe", lambda: deadlines.PROBE_IDLE_S * 3)  # a busy machine
    assert deadlines.deadline_scale("bookworm") == 3.0
    monkeypatch.setattr(deadlines, "_host_scale", [])
    monkeypatch.setattr(deadlines, "_probe", lambda: deadlines.PROBE_IDLE_S / 2)  # a faster one
    assert deadlines.deadline_scale("trixie") == 1.2  # never shorter than measured here


def test_run_matrix_runs_every_suites_boots_in_one_pool(monkeypatch, tmp_path) -> None:
    calls = []

    def fake_boot(group, bdir, suite, **_kw):
        calls.append((suite, tuple(group)))
        bdir.mkdir(parents=True)
        return [{"suite": suite, "scenario": n, "out_dir": str(bdir / n), "passed": True}
                for n in group]

    monkeypatch.setattr(labrun, "run_boot", fake_boot)
    monkeypatch.setattr(labrun, "image_dir", lambda *a, **k: tmp_path)
    runs = [("bookworm", "boot"), ("bookworm", "plain-bond"), ("sid", "boot"),
            ("sid", "archwiki")]
    done = labrun.run_matrix(runs, {"bookworm": tmp_path / "b", "sid": tmp_path / "s"}, jobs=2)
    assert set(done) == set(runs)
    # boot and plain-bond share a boot (both shareable, no etc/); sid's two do not share
    assert sorted(calls) == [("bookworm", ("boot", "plain-bond")), ("sid", ("archwiki",)),
                             ("sid", ("boot",))]
    assert calls[0] == ("sid", ("archwiki",))  # the longest first: 300 s x sid's 1.5


def test_the_share_keeps_a_variants_linked_check_and_leaves_out_a_unit_the_host_lacks(tmp_path) -> None:
    """dhcp-failover-dhcpcd's check.py links ../dhcp-failover/check.py (kept, followed);
    beside-networkmanager's etc/ links /usr/lib/systemd/system/NetworkManager.service, which
    this host may not have (left out of the share; the rootfs keeps the link)."""
    import shutil
    from pathlib import Path

    scen = Path(labrun.scenario_dir("dhcp-failover-dhcpcd"))
    shutil.copytree(scen, tmp_path / "a", ignore=boot._ignore_for_share)
    assert (tmp_path / "a" / "check.py").is_file() and not (tmp_path / "a" / "check.py").is_symlink()
    src = tmp_path / "src"
    (src / "etc").mkdir(parents=True)
    (src / "check.py").write_text("")
    (src / "etc" / "x.service").symlink_to("/nonexistent/x.service")
    shutil.copytree(src, tmp_path / "b", ignore=boot._ignore_for_share)
    assert (tmp_path / "b" / "check.py").exists() and not (tmp_path / "b" / "etc" / "x.service").exists()


def test_a_stray_int3_oops_is_the_emulators_fault_worth_another_boot(tmp_path) -> None:
    oops = ("[    8.885363] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n"
            "[    8.885775] RIP: 0010:allocate_slab+0xdf/0x4a0\n")
    why = boot._emulator_fault(console(tmp_path, EARLY + INIT + oops))
    assert why is not None and why.startswith("emulator:")  # not "after": retried
    assert boot._emulator_fault(console(tmp_path, EARLY + INIT)) is None
    assert boot._emulator_fault(console(tmp_path, EARLY + "[ 9.1] Oops: general protection fault\n")) is None
