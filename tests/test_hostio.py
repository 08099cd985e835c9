"""The real Host's own code paths that need no root: spawn, running programs, reading
addresses. (Writes to sysfs and `ip` changes are the lab's: tests/lab.)"""

from __future__ import annotations

import os

import pytest

from wibond.runtime.hostio import Host, HostError, spawn


def test_spawn_returns_exit_code_stdout_and_stderr() -> None:
    assert spawn(["echo", "hi"]) == (0, "hi\n", "")
    assert spawn(["sh", "-c", "echo out; echo err >&2; exit 3"]) == (3, "out\n", "err\n")


def test_spawn_feeds_input_and_reads_both_streams_in_full() -> None:
    assert spawn(["cat"], "nameserver 192.0.2.1\n") == (0, "nameserver 192.0.2.1\n", "")
    # more than a pipe holds on both streams at once: no deadlock, nothing lost
    code, out, err = spawn(["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' o; "
                                        "head -c 200000 /dev/zero | tr '\\0' e >&2"])
    assert (code, len(out), len(err)) == (0, 300000, 200000)


def test_spawn_gives_a_child_no_stdin_of_ours() -> None:
    assert spawn(["cat"]) == (0, "", "")


def test_spawn_of_a_missing_program_raises_and_leaks_nothing() -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with pytest.raises(OSError):
            spawn(["/nonexistent/program"])
        with pytest.raises(OSError):
            spawn(["/nonexistent/program"], "input")
        spawn(["true"])
    assert len(os.listdir("/proc/self/fd")) == before


def test_run_says_what_failed_and_why() -> None:
    host = Host(lambda _m: None)
    with pytest.raises(HostError, match=r"`sh -c echo nope >&2; exit 1` failed: nope"):
        host.run("sh", "-c", "echo nope >&2; exit 1")
    with pytest.raises(HostError, match="cannot run /nonexistent/x: No such file"):
        host.run("/nonexistent/x")
    assert host.run("echo", "ok") == "ok\n"


def test_has_addresses_without_ip() -> None:
    host = Host(lambda _m: None)
    assert host.has_addresses("lo")  # 127.0.0.1 (and ::1) wherever there is a kernel
    assert not host.has_addresses("nosuchif0")


def test_wait_link_change_wakes_at_a_link_change_and_not_before(tmp_path) -> None:
    import subprocess
    import time

    if os.geteuid() != 0 or subprocess.run(["ip", "link", "add", "wbtest0", "type", "veth", "peer",
                                            "name", "wbtest1"], capture_output=True).returncode:
        pytest.skip("needs root and veth to make a link change")
    try:
        host = Host(lambda _m: None)
        host.watch_links()
        host.wait_link_change(0.2)  # drain what the add announced
        t = time.monotonic()
        host.wait_link_change(0.5)
        assert time.monotonic() - t >= 0.45  # nothing changed: the whole timeout
        subprocess.Popen(["sh", "-c", "sleep 0.3; ip link set wbtest0 up"])
        t = time.monotonic()
        host.wait_link_change(10)
        assert time.monotonic() - t < 5
    finally:
        subprocess.run(["ip", "link", "del", "wbtest0"], capture_output=True)


def test_remove_takes_what_a_killed_save_left(tmp_path, monkeypatch) -> None:
    """A step killed between writing its temporary file and renaming it (SIGTERM when a dongle
    is pulled) leaves `.NAME.<pid>.<n>.wibond-tmp`; removing NAME removes that too, and only
    that (seen on arm64: one such file outlived every later plug of the same dongle)."""
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    host = Host(lambda _m: None)
    host.save("/run/wibond/bond0/slaves/wlx1", "")
    run = tmp_path / "run/wibond/bond0/slaves"
    (run / ".wlx1.4242.0.wibond-tmp").write_text("")
    (run / ".wlx10.4242.0.wibond-tmp").write_text("")  # another interface's
    (run / "wlx10").write_text("")
    host.remove("/run/wibond/bond0/slaves/wlx1")
    assert sorted(p.name for p in run.iterdir()) == [".wlx10.4242.0.wibond-tmp", "wlx10"]
    host.remove("/run/wibond/bond0/slaves/wlx1")  # nothing there: fine


def test_a_write_refused_by_rfkill_is_told_apart(tmp_path, monkeypatch) -> None:
    """ERFKILL from a sysfs write (a blocked radio's flags) is RfkillBlocked, which
    bondctl turns into how to unblock it; other refusals stay plain HostErrors."""
    import errno

    from wibond.runtime.hostio import RfkillBlocked

    def refuse(code):
        def opener(*_a, **_k):
            raise OSError(code, os.strerror(code))
        return opener

    host = Host(lambda _m: None)
    monkeypatch.setattr("builtins.open", refuse(errno.ERFKILL))
    with pytest.raises(RfkillBlocked, match="blocked by rfkill"):
        host.write("/sys/class/net/wlan0/flags", "0x1003")
    monkeypatch.setattr("builtins.open", refuse(errno.EPERM))
    with pytest.raises(HostError) as e:
        host.write("/sys/class/net/wlan0/flags", "0x1003")
    assert not isinstance(e.value, RfkillBlocked)
