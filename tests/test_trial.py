"""`wibond try`, `confirm` and `rollback` against the fake kernel: the candidate under /run, the
deadline's timer in systemd, a rollback that touches only what the try changed."""

from __future__ import annotations

import pytest
from test_apply import Booted, _root  # noqa: F401  (the fixture: WIBOND_ROOT per test)
from test_helper import PI

from wibond.common import paths
from wibond.runtime import apply, trial

WLAN1_PRIMARY = PI.replace("primary = wlan0", "primary = wlan1")


def candidate(tmp_path, text: str) -> str:
    path = tmp_path / "candidate.conf"
    path.write_text(text)
    return str(path)


def tried(w: Booted, tmp_path, text: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    said: list[str] = []
    loaded = trial.start(w.host, candidate(tmp_path, text), timeout, "/usr/bin/wibond", said.append)
    apply.apply(w.host, loaded, said.append, lookup=w.lookup)
    return loaded


def test_try_puts_the_candidate_in_force_under_run_and_arms_the_timer(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    tried(w, tmp_path, WLAN1_PRIMARY, timeout=90)
    ops = w.host.mutations()
    timer = [op for op in ops if op.startswith("systemd-run")]
    assert timer == ["systemd-run --unit=wibond-rollback --on-active=90s "
                     "--timer-property=AccuracySec=1s --description=wibond: roll back an "
                     "unconfirmed `wibond try` /usr/bin/wibond rollback --deadline"]
    assert ops.index(timer[0]) < ops.index("systemctl daemon-reload")   # armed before applying
    assert paths.config_in_force() == paths.TRY_CONFIG
    assert (tmp_path / "etc" / "wibond.conf").read_text() == PI          # untouched until confirmed
    assert w.host._active(w.host.links["bond0"]) == "wlan1"
    pending = trial.pending()
    assert pending and pending["source"] == str(tmp_path / "candidate.conf") and pending["deadline"]
    with pytest.raises(trial.TryError, match="pending already"):
        trial.start(w.host, candidate(tmp_path, PI), 60, "/usr/bin/wibond", print)


def test_a_candidate_with_errors_changes_nothing(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    with pytest.raises(trial.TryError, match="has errors; nothing changed"):
        trial.start(w.host, candidate(tmp_path, PI.replace("metric = 100", "metric = lots")), 60,
                    "/usr/bin/wibond", print)
    assert trial.pending() is None and w.host.mutations() == []


def test_rollback_takes_back_only_what_the_try_changed(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    tried(w, tmp_path, WLAN1_PRIMARY)
    w.host.mutations()
    said: list[str] = []
    the_plan = trial.rollback(w.host, said.append, "the deadline passed", lookup=w.lookup)
    ops = w.host.mutations()
    assert [c.describe() for c in the_plan.changes] == ["bond0: primary wlan1 -> wlan0, set in place"]
    assert "systemctl stop wibond-rollback.timer" in ops
    assert w.host._active(w.host.links["bond0"]) == "wlan0"
    assert trial.pending() is None and paths.config_in_force() == paths.CONFIG
    assert trial.rollback(w.host, said.append, "again") is None   # nothing pending: nothing done


def test_confirm_makes_it_permanent_and_keeps_the_old_file(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    tried(w, tmp_path, WLAN1_PRIMARY)
    w.host.mutations()
    kept = trial.confirm(w.host, print)
    ops = w.host.mutations()
    assert (tmp_path / "etc" / "wibond.conf").read_text() == WLAN1_PRIMARY
    assert kept == "/etc/wibond.conf.previous"
    assert (tmp_path / "etc" / "wibond.conf.previous").read_text() == PI
    assert "systemctl stop wibond-rollback.timer" in ops and "systemctl daemon-reload" in ops
    assert trial.pending() is None
    # The same config in force: a later apply has nothing to do.
    assert apply.plan(w.host, w.edit(WLAN1_PRIMARY))[0].changes == []
    with pytest.raises(trial.TryError, match="no try is pending"):
        trial.confirm(w.host, print)


def test_verify_names_what_does_not_work(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    loaded = w.edit(PI)
    assert trial.verify(w.host, loaded, 0, print) is None
    for name in ("wlan0", "wlan1"):
        w.host.links[name].carrier = False
    assert trial.verify(w.host, loaded, 0, print) == "bond0 has no active slave (no slave has a link)"
    w.host.links["wlan1"].carrier = True
    w.host.links["bond0"].addrs = []
    assert trial.verify(w.host, loaded, 0, print) == "bond0 lacks 192.168.43.150/24"


def test_trying_etc_wibond_conf_edited_in_place_rolls_back_the_file_too(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    etc = tmp_path / "etc" / "wibond.conf"
    etc.write_text(WLAN1_PRIMARY)                 # edited in place, then tried
    said: list[str] = []
    loaded = trial.start(w.host, str(etc), 120, "/usr/bin/wibond", said.append)
    assert etc.read_text() == PI                  # a reboot now boots what ran
    assert (tmp_path / "run" / "wibond-try" / "wibond.conf").read_text() == WLAN1_PRIMARY
    apply.apply(w.host, loaded, said.append, lookup=w.lookup)
    assert w.host._active(w.host.links["bond0"]) == "wlan1"
    the_plan = trial.rollback(w.host, said.append, "check failed", lookup=w.lookup)
    assert [c.describe() for c in the_plan.changes] == ["bond0: primary wlan1 -> wlan0, set in place"]
    assert etc.read_text() == PI and w.host._active(w.host.links["bond0"]) == "wlan0"
    assert (tmp_path / "etc" / "wibond.conf.rejected").read_text() == WLAN1_PRIMARY
    assert not (tmp_path / "run" / "wibond-try").exists()
    # tried again in place and confirmed: the edit stays, the old text is .previous
    etc.write_text(WLAN1_PRIMARY)
    tried_again = trial.start(w.host, str(etc), 120, "/usr/bin/wibond", said.append)
    apply.apply(w.host, tried_again, said.append, lookup=w.lookup)
    trial.confirm(w.host, said.append)
    assert etc.read_text() == WLAN1_PRIMARY
    assert (tmp_path / "etc" / "wibond.conf.previous").read_text() == PI


def test_an_in_place_try_whose_old_text_is_unknown_is_refused_and_leaves_nothing(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    for bond in ("bond0",):
        (tmp_path / "run" / "wibond" / bond / "applied.conf").unlink()
    etc = tmp_path / "etc" / "wibond.conf"
    etc.write_text(WLAN1_PRIMARY)
    with pytest.raises(trial.TryError, match="the text the bonds run is not known"):
        trial.start(w.host, str(etc), 120, "/usr/bin/wibond", print)
    assert etc.read_text() == WLAN1_PRIMARY and not (tmp_path / "run" / "wibond-try").exists()
    assert w.host.mutations() == []


def test_a_try_that_cannot_arm_its_timer_leaves_nothing_behind(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    w.host.programs.discard("systemd-run")
    with pytest.raises(trial.TryError, match="cannot arm the rollback timer.*nothing changed"):
        trial.start(w.host, candidate(tmp_path, WLAN1_PRIMARY), 60, "/usr/bin/wibond", print)
    assert trial.pending() is None and not (tmp_path / "run" / "wibond-try").exists()
    assert paths.config_in_force() == paths.CONFIG


WPA_WRONG_KEY = """wlan0: SME: Trying to authenticate with 02:00:00:00:02:00 (SSID='home' freq=2412 MHz)
wlan0: WPA: 4-Way Handshake failed - pre-shared key may be incorrect
wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="home" auth_failures=1 duration=10 reason=WRONG_KEY
wlan1: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="hotspot" auth_failures=1 duration=10 reason=CONN_FAILED
"""


def test_refused_keys_reads_wpa_supplicants_wrong_key_only() -> None:
    assert trial.refused_keys(WPA_WRONG_KEY) == ["wlan0"]
    assert trial.refused_keys(WPA_WRONG_KEY.replace("CONN_FAILED", "WRONG_KEY")) == ["wlan0", "wlan1"]
    assert trial.refused_keys("wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00 completed") == []


def test_verify_fails_at_once_when_every_radio_s_key_was_refused(tmp_path) -> None:
    w = Booted(tmp_path, PI)
    loaded = w.edit(PI)
    for name in ("wlan0", "wlan1"):
        w.host.links[name].carrier = False
    # One radio refused, the other still trying: that one may yet come up; with no time
    # left the usual verdict stands.
    w.host.journal["bond0-supplicant@wlan0.service"] = WPA_WRONG_KEY.splitlines()[2] + "\n"
    w.host.journal["bond0-supplicant@wlan1.service"] = WPA_WRONG_KEY.splitlines()[3] + "\n"
    assert trial.verify(w.host, loaded, 0, print, since=0) == \
        "bond0 has no active slave (no slave has a link)"
    # Both refused: no use waiting, even with a minute left.
    w.host.journal["bond0-supplicant@wlan1.service"] = \
        WPA_WRONG_KEY.splitlines()[3].replace("CONN_FAILED", "WRONG_KEY") + "\n"
    assert trial.verify(w.host, loaded, 60, print, since=0) == (
        "bond0 has no active slave: the access point refused the key of wlan0, wlan1 "
        "(wpa_supplicant: WRONG_KEY; check its psk)")
    # Without a start time (or with a slave up) the journal is not asked.
    assert trial.verify(w.host, loaded, 0, print) == "bond0 has no active slave (no slave has a link)"
    w.host.links["wlan1"].carrier = True
    assert trial.verify(w.host, loaded, 0, print, since=0) is None


def test_a_radio_matched_by_pattern_is_asked_by_the_name_it_has_now(tmp_path) -> None:
    conf = PI.replace("    [[wlan1]]\n        after = wlan0", "    [[wlx*]]\n        type = wireless")
    assert "[[wlx*]]" in conf
    w = Booted(tmp_path, PI)
    loaded = w.edit(conf)
    bond = loaded.bonds[0]
    w.host.add("wlx020000000300", "wlan")
    w.host.add("eth9", "ether")
    for name in ("wlx020000000300", "eth9"):
        w.host.set_master(name, "bond0", True)
    assert trial._radio_names(w.host, bond) == ["wlan0", "wlan1", "wlx020000000300"]
    w.host.links["wlx020000000300"].carrier = False
    for name in ("wlan0", "wlan1", "eth9"):
        w.host.links[name].carrier = False
    w.host.journal["bond0-supplicant@wlan0.service"] = WPA_WRONG_KEY.splitlines()[2] + "\n"
    w.host.journal["bond0-supplicant@wlx020000000300.service"] = \
        WPA_WRONG_KEY.splitlines()[2].replace("wlan0:", "wlx020000000300:") + "\n"
    # wlan1, still in the bond, is a radio too and still trying: a pattern counts its
    # interfaces, not its section, so one refused dongle is not every radio.
    assert trial.verify(w.host, loaded, 0, print, since=0) == \
        "bond0 has no active slave (no slave has a link)"
    w.host.journal["bond0-supplicant@wlan1.service"] = \
        WPA_WRONG_KEY.splitlines()[2].replace("wlan0:", "wlan1:") + "\n"
    assert "refused the key of wlan0, wlan1, wlx020000000300" in trial.verify(
        w.host, loaded, 0, print, since=0)


def test_try_no_wait_returns_once_the_check_passes_with_the_try_pending(tmp_path, monkeypatch,
                                                                        capsys) -> None:
    """`wibond try --no-wait` (a config manager's hand-off): exit 0 at once, the candidate in
    force and the timer armed, for `wibond confirm` after the manager reconnects."""
    import argparse

    from wibond.cli import trial as cli_trial
    from wibond.runtime import hostio

    w = Booted(tmp_path, PI)
    real_apply = apply.apply
    monkeypatch.setattr(cli_trial, "_root", lambda _command: True)
    monkeypatch.setattr(hostio, "Host", lambda _log: w.host)
    monkeypatch.setattr(apply, "apply", lambda host, loaded, log, planned=None: real_apply(
        host, loaded, log, planned=planned, lookup=w.lookup))
    monkeypatch.setattr(cli_trial, "_wait", lambda *a: pytest.fail("--no-wait waited"))
    args = argparse.Namespace(config=None, file=candidate(tmp_path, WLAN1_PRIMARY), timeout=60.0,
                              no_wait=True)
    assert cli_trial.cmd_try(args) == 0
    out = capsys.readouterr().out
    assert "bond0: primary wlan0 -> wlan1, set in place" in out
    assert "The try is pending: `wibond confirm` keeps it" in out
    assert trial.pending() is not None
    assert w.host.links["bond0"].bonding["primary"] == "wlan1"
