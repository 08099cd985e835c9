#!/usr/bin/env python3
"""Issue 3, scenario 1: the ArchWiki setup from /etc/wibond.conf alone (wired eth0 primary, radio
wlan0, DHCPv4 + DHCPv6).  After a cold boot bond0 has both addresses over the wire; cutting the
wire moves traffic to the radio with the addresses kept; restoring it moves traffic back."""
import ipaddress
import subprocess
import time
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, mac_of, sh, wait_for
from guest.failover import PING_MS, STEADY_REPLIES, failover, loss_figures
from guest.product import (
    scrape,
    wibond_metrics,
    default_routes,
    dhcp_client_name,
    dhcp_units,
    failed_units,
    global_addrs,
    status_json,
    status_text,
    unit_props,
    unit_state,
    unit_timestamp,
    uptime,
    wait_unit,
    wpa_status,
)
from guest.util import say

BOND = "bond0"
NODE = "prometheus-node-exporter.service"
PROM = "/var/lib/prometheus/node-exporter/wibond.prom"


def indent(text):
    return "\n".join("     " + ln for ln in text.rstrip().splitlines()) + "\n"
UNITS = ["wibond@bond0.service", "bond0-wired@eth0.service", "bond0-supplicant@wlan0.service"]


def dhcp6_addr():
    pool = ipaddress.ip_network("fd77::/64")
    return [a for a in global_addrs(BOND, 6)
            if ipaddress.ip_interface(a).ip in pool and a.endswith("/128")]


with Results() as res:
    far = fixture()
    wlan, wired = far.stations[0]["ifname"], far.wired
    wlan_mac, wired_mac = far.stations[0]["mac"], mac_of(wired)

    # The config names no client: the image decides (dhclient+dhcp6c where both are installed,
    # dhcpcd on sid, which has no dhclient).
    wait_unit("wibond@bond0.service", "active", 180)
    clients = dhcp_units(BOND)
    res.note(f"DHCP by {dhcp_client_name(BOND)}: {clients}")
    res.check("wibond pulled in a DHCP client for IPv4 and IPv6", clients in (
        ["dhclient@bond0.service", "dhcp6c@bond0.service"], ["dhcpcd@bond0.service"]), clients)
    wibond_check = sh(["wibond", "check"], check=False, quiet=True)
    res.check("`wibond check` names the client boot uses",
              f"by {clients[0].split('@')[0]} " in wibond_check.stdout if clients else False,
              wibond_check.stdout + wibond_check.stderr)
    for u in UNITS + clients:
        wait_unit(u, "active", 180)
        res.check(f"{u} active after boot", unit_state(u) == "active", unit_state(u))

    st = wait_for(lambda: (lambda s: s if s and s["active_slave"] == wired and len(s["slaves"]) == 2
                           else None)(bond_state(BOND)), 120, "both slaves, wire active")
    res.check("bond0 options from wibond.conf",
              st["mode"].startswith("active-backup") and st["fail_over_mac"].startswith("active")
              and st["miimon"] == "100" and st["primary"] == wired
              and st["primary_reselect"].startswith("always"),
              {k: st[k] for k in ("mode", "fail_over_mac", "miimon", "primary", "primary_reselect")})
    # Both units start when their devices appear; the order they join in is a race that does
    # not matter: the primary (the wire) is the active slave whichever came first.
    res.check("both slaves enslaved, the wire (primary) active",
              sorted(st["slaves"]) == sorted([wired, wlan]) and st["active_slave"] == wired,
              {"slaves": st["slaves"], "active": st["active_slave"]})
    res.check("bond MAC is the wire's (fail_over_mac=active)", st["address"] == wired_mac,
              {"bond": st["address"], "wired": wired_mac})

    wait_for(lambda: wpa_status(wlan).get("wpa_state") == "COMPLETED", 120, "wlan0 COMPLETED")
    res.check("wlan0 associated while enslaved", wlan_mac in far.ap_stations(), far.ap_stations())
    env = Path("/run/wibond/bond0/slave-wlan0.env").read_text()
    post = unit_props("bond0-supplicant@wlan0.service", "ExecStartPost")["ExecStartPost"]
    res.check("bitrates from wibond.conf reach the unit's environment",
              'BITRATES="legacy-2.4 6 9 12 18 24 36 48 54"' in env or
              "BITRATES=legacy-2.4 6 9 12 18 24 36 48 54" in env, env)
    res.check("ExecStartPost `iw dev wlan0 set bitrates $BITRATES` exited 0",
              "set bitrates $BITRATES" in post and "status=0 " in post + " ", post)

    a4 = wait_for(lambda: global_addrs(BOND, 4), 120, "DHCPv4 address on bond0")
    res.check("bond0 has a DHCPv4 address from the pool", a4 and a4[0].startswith("192.168.77."), a4)
    a6 = wait_for(dhcp6_addr, 180, "DHCPv6 address on bond0")
    res.check(f"bond0 has a DHCPv6 address ({dhcp_client_name(BOND)})", bool(a6),
              global_addrs(BOND, 6))
    dr = default_routes(BOND)
    res.check("default route via the DHCP router on bond0",
              any(r.get("gateway") == far.ip4.split("/")[0] for r in dr), dr)
    res.check("no failed units", not failed_units(), failed_units())
    say("1. The config. The VM booted with this /etc/wibond.conf and nothing else set up:\n\n"
        + indent(open("/etc/wibond.conf").read()))
    units = sh(["systemctl", "list-units", "--no-legend", "--plain", "wibond*", "bond0-*",
                "dhclient@*", "dhcp6c@*", "dhcpcd@*"], check=False, quiet=True).stdout
    say("2. What wibond made of it. At boot its generator wrote one unit per slave and one per\n"
        "   DHCP client, each bound to its device; they are running now:\n\n"
        + indent("\n".join(" ".join(ln.split()[:1] + ln.split()[2:4]) for ln in units.splitlines()
                            if not ln.startswith("wibond-lab"))))
    status = status_text()
    say(f"3. The bond is up. The cable ({wired}) is the primary and carries the traffic; the radio\n"
        f"   ({wlan}) is associated and waits. `wibond status` says:\n\n" + indent(status))
    report = status_json(BOND)[BOND]
    radio = next(s for s in report["slaves"] if s["name"] == wlan).get("radio", {})
    res.check("status: the radio's SSID, access point, signal and bitrate (iw)",
              radio.get("ssid") == far.ssid and radio.get("ap") == far.ap_mac.lower()
              and isinstance(radio.get("signal_dbm"), int) and radio.get("tx_bitrate_mbps"),
              radio)
    res.check("status: the radio line in the text",
              f'SSID "{far.ssid}" via {far.ap_mac.lower()}' in status, status)
    v4 = next((a for a in report["addresses"] if a["address"] == a4[0]), {})
    lease = v4.get("lease") or {}
    res.check(f"status: {a4[0]} held by {clients[0]}, with its lease's time and length",
              v4.get("source") == "dhcp" and v4.get("unit") == clients[0]
              and isinstance(lease.get("seconds"), int) and lease["seconds"] > 0
              and 0 <= lease.get("ago_s", -1) < 600 and 0 < lease.get("left_s", 0) <= lease["seconds"],
              v4)
    res.check("status: the text names the lease's holder",
              f"{a4[0]} DHCP by {clients[0]}: " in status and " lease obtained " in status, status)
    v6 = [a for a in report["addresses"] if a["address"] in a6]
    res.check("status: the DHCPv6 address held by the IPv6 client",
              v6 and v6[0].get("source") == "dhcp" and v6[0].get("unit") == clients[-1], v6)
    res.figure("boot: wibond@bond0 active", unit_timestamp("wibond@bond0.service"), "s uptime")
    res.figure("boot: wlan0 supplicant active", unit_timestamp("bond0-supplicant@wlan0.service"), "s uptime")
    res.figure("boot: DHCPv4 address seen", round(uptime(), 1), "s uptime (upper bound)")

    # -- issue 29: metrics through Debian's node_exporter (its textfile collector), from the
    # wibond-metrics.service this image enabled in /etc like a user does
    wait_unit("wibond-metrics.service", "active", 60)
    sh(["systemctl", "unmask", NODE])
    sh(["systemctl", "start", NODE])
    wait_unit(NODE, "active", 60)

    def metrics_when(pred, what, timeout=30):
        """The first scrape whose wibond samples satisfy PRED, and when it came."""
        got = wait_for(lambda: (lambda m: m if pred(m) else None)(wibond_metrics(scrape())),
                       timeout, what, raise_on_timeout=False)
        return got, time.monotonic()

    m, _ = metrics_when(lambda m: m.get(f'wibond_bond_active_slave{{slave="{wired}"}}') == 1
                        and f'wibond_radio_signal_dbm{{slave="{wlan}"}}' in m, "metrics scraped", 90)
    scraped = scrape()
    res.check("metrics: node_exporter reads wibond.prom without error (node_textfile_scrape_error 0)",
              scraped.get("node_textfile_scrape_error") == 0
              and f'node_textfile_mtime_seconds{{file="{PROM}"}}' in scraped,
              {k: v for k, v in scraped.items() if k.startswith("node_textfile")})
    m = m or {}
    res.check("metrics: the wire active and up, the radio up, the bond on its primary",
              m.get(f'wibond_bond_active_slave{{slave="{wired}"}}') == 1
              and m.get(f'wibond_bond_active_slave{{slave="{wlan}"}}') == 0
              and m.get(f'wibond_slave_up{{slave="{wired}",type="wired"}}') == 1
              and m.get(f'wibond_slave_up{{slave="{wlan}",type="radio"}}') == 1
              and m.get("wibond_bond_on_primary") == 1 and m.get("wibond_bond_up") == 1, m)
    res.check("metrics: the radio's signal, bitrate and association; the lease's expiry ahead",
              m.get(f'wibond_radio_connected{{slave="{wlan}"}}') == 1
              and -100 < m.get(f'wibond_radio_signal_dbm{{slave="{wlan}"}}', 0) < 0
              and m.get(f'wibond_radio_tx_bitrate_bits_per_second{{slave="{wlan}"}}', 0) >= 1e6
              and m.get('wibond_lease_expiry_timestamp_seconds{family="ipv4"}', 0) > time.time(), m)
    failovers0 = m.get("wibond_failovers_total")
    res.check("metrics: a failover count is kept", failovers0 is not None, m)
    failovers0 = failovers0 or 0

    with Pinger(far.ip4.split("/")[0], interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        # It runs until the failback is printed (the metrics' scrapes between the cut and the
        # failback take a while under load), at most 5 minutes.
        monitor = subprocess.Popen(["wibond", "monitor", "--duration", "300"], text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        first = monitor.stdout.readline()   # it watches from here on
        say(f"4. Pulling the cable. The VM pings the router ({far.ip4.split('/')[0]}) every {PING_MS} ms"
            f" while {wired}'s\n   link goes down ...")
        try:
            cut = failover(res, p, "wire cut", far.wire_cut, wlan)
            res.check("bond MAC becomes the radio's", cut["state"]["address"] == wlan_mac,
                      {"bond": cut["state"]["address"], "wlan": wlan_mac})
            res.check("addresses kept over the radio", global_addrs(BOND, 4) == a4
                      and set(a6) <= set(global_addrs(BOND, 6)),
                      {"v4": global_addrs(BOND, 4), "v6": global_addrs(BOND, 6)})
            last = status_json(BOND)[BOND].get("last_failover") or {}
            res.check("status: the last failover is the cut, the wire -> wlan0, and why",
                      last.get("from") == wired and last.get("to") == wlan
                      and last.get("why") == f"{wired} link went down", last)
            m, seen = metrics_when(lambda m: m.get(f'wibond_bond_active_slave{{slave="{wlan}"}}') == 1
                                   and m.get("wibond_failovers_total") == failovers0 + 1,
                                   "metrics: the failover scraped")
            res.check("metrics: after the cut node_exporter shows the radio active, the bond off "
                      "its primary, one more failover, the wire down",
                      bool(m) and m.get("wibond_bond_on_primary") == 0
                      and m.get(f'wibond_slave_up{{slave="{wired}",type="wired"}}') == 0, m)
            res.figure("metrics: the failover seen in a scrape, after the switch",
                       round(seen - cut["t_switch"], 1), "s (upper bound)")
            say(f"   The bond moved to the radio {round((cut['t_switch'] - cut['t0']) * 1000)} ms after"
                f" the cable went: {wlan} carries the\n   traffic now, with the same addresses; the bond"
                f" took the radio's MAC ({wlan_mac}).\n"
                f"5. Plugging the cable back in ...")
        finally:
            back = failover(res, p, "wire restore", far.wire_restore, wired)
        say(f"   {bond_state(BOND)['active_slave']}, the primary, carries the traffic again"
            f" {round((back['t_switch'] - back['t0']) * 1000)} ms later.")
        res.check("bond MAC back to the wire's", back["state"]["address"] == wired_mac,
                  {"bond": back["state"]["address"], "wired": wired_mac})
        m, seen = metrics_when(lambda m: m.get(f'wibond_bond_active_slave{{slave="{wired}"}}') == 1
                               and m.get("wibond_failovers_total") == failovers0 + 2,
                               "metrics: the failback scraped")
        res.check("metrics: after the failback the wire active again, two failovers more, the "
                  "last one's time now", bool(m) and m.get("wibond_bond_on_primary") == 1
                  and abs(m.get("wibond_last_failover_timestamp_seconds", 0) - time.time()) < 60, m)
        res.figure("metrics: the failback seen in a scrape, after the switch",
                   round(seen - back["t_switch"], 1), "s (upper bound)")
    mon_out = first
    until = time.monotonic() + 60
    while time.monotonic() < until and f"active slave {wlan} -> {wired}" not in mon_out:
        line = monitor.stdout.readline()
        if not line:
            break
        mon_out += line
    monitor.terminate()
    mon_out += monitor.communicate(timeout=60)[0]
    say("   What `wibond monitor` printed meanwhile:\n\n" + indent(mon_out))
    res.check("wibond monitor showed the failover and the failback",
              f"active slave {wired} -> {wlan}" in mon_out and f"active slave {wlan} -> {wired}" in mon_out,
              mon_out)
    say(f"6. What was lost (a ping counts as lost without a reply within {p.timeout:g} s):")
    for ev in (cut, back):
        s = loss_figures(res, p, ev)
        say(f"   {ev['label']}: {s['lost']} of {s['sent']} pings lost, longest time without a reply "
            f"{s['max_gap_ms']} ms")
    res.check("addresses kept after failback", global_addrs(BOND, 4) == a4, global_addrs(BOND, 4))
    last = status_json(BOND)[BOND].get("last_failover") or {}
    res.check("status: the last failover is the failback, wlan0 -> the wire, and why",
              last.get("from") == wlan and last.get("to") == wired
              and last.get("why", "").startswith(f"{wired} link came up")
              and 0 <= last.get("ago_s", -1) < 120, last)
    say("7. `wibond status` now names the last failover, when and why:\n\n"
        + indent("\n".join(ln for ln in status_text().splitlines() if "last failover" in ln)))

    # -- issue 28: the radio's quirks (power save off while a slave, its own setting back when it
    # leaves), what status and report say of it, and no key in the report
    def power_save():
        return sh(["iw", "dev", wlan, "get", "power_save"], check=False, quiet=True).stdout.strip()

    unit = f"{BOND}-supplicant@{wlan}.service"
    res.check("quirks: power save off while the radio is a slave", power_save() == "Power save: off",
              power_save())
    report = sh(["wibond", "report"], check=False, quiet=True).stdout
    psk = "wibond-lab-psk"
    res.check("report: the radio's driver, iw's link, the kernel's view, the journal; no key",
              f"### {BOND}: {wlan}" in report and "driver mac80211_hwsim" in report
              and "Connected to" in report and "Bonding Mode" in report
              and "### journal" in report and psk not in report, report[-3000:])
    res.figure("report: size", len(report), "bytes")
    # leave and join again with the driver's power save on: off while a slave, on when it leaves
    sh(["systemctl", "stop", unit])
    sh(["iw", "dev", wlan, "set", "power_save", "on"])
    sh(["systemctl", "start", "--no-block", unit])
    # active: its join step (enslave, then the quirks) is done and wpa_supplicant runs
    wait_unit(unit, "active", 120)
    on_join = power_save()
    text = status_text()
    say("8. The radio's driver, its power save and what wibond set (`wibond status`):\n\n"
        + indent("\n".join(ln for ln in text.splitlines() if "driver " in ln)))
    res.check("quirks: status shows the radio's driver, its power save and what wibond set",
              "driver mac80211_hwsim" in text and "power save off; wibond set: power save off" in text,
              text)
    sh(["systemctl", "stop", unit])
    on_leave = power_save()
    res.check("quirks: power save off at join and the radio's own (on) back when it leaves",
              on_join == "Power save: off" and on_leave == "Power save: on", [on_join, on_leave])
    sh(["systemctl", "start", "--no-block", unit])
    wait_for(lambda: wlan in bond_state(BOND)["slaves"], 120, f"{wlan} enslaved again")
    # the count survives a restart of the exporter (kept under /run); a stop takes the file away
    sh(["systemctl", "restart", "wibond-metrics.service"])
    m, _ = metrics_when(lambda m: m.get("wibond_failovers_total") is not None, "metrics back", 60)
    res.check("metrics: the failover count kept across a restart of wibond-metrics.service",
              bool(m) and m.get("wibond_failovers_total") == failovers0 + 2, m)
    rss = sh(["ps", "-o", "rss=", "-p", unit_props("wibond-metrics.service", "MainPID")["MainPID"]],
             check=False, quiet=True).stdout.strip()
    if rss.isdigit():
        res.figure("metrics: wibond-metrics.service resident memory", round(int(rss) / 1024, 1), "MB")
    cpu = unit_props("wibond-metrics.service", "CPUUsageNSec")["CPUUsageNSec"]
    if cpu.isdigit():
        res.figure("metrics: wibond-metrics.service CPU since its restart", round(int(cpu) / 1e6), "ms")
    say("9. What Prometheus scrapes from node_exporter (wibond's textfile, `wibond metrics`):\n\n"
        + indent("\n".join(ln for ln in sh(["wibond", "metrics"], check=False, quiet=True)
                           .stdout.splitlines() if not ln.startswith("#"))))
    sh(["systemctl", "stop", "wibond-metrics.service"])
    res.check("metrics: stopping wibond-metrics.service removes wibond.prom (no stale figures)",
              not Path(PROM).exists() and not any(k.startswith("wibond_") for k in scrape()),
              sh(["ls", "-la", str(Path(PROM).parent)], check=False, quiet=True).stdout)
    res.check("no failed units at the end", not failed_units(), failed_units())
