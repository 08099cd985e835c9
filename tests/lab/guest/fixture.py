"""The far side of the network, in its own network namespace (default "far").

Built at boot by wibond-lab-fixture.service (`python3 -m guest fixture setup`), which is
ordered before sysinit.target, so it exists before any normal service (the product) starts.
Between scenarios that share a boot the runner calls teardown() and setup() again.

    root netns (the machine under test)          netns "far" (the LAN)
    wlan0 .. wlan{N-1}  (hwsim stations)  ~~air~~  ap0 (hwsim, hostapd WPA2-PSK) --+
                                          ~~air~~  ap1 (with "ap2" enabled) -------+
    <wired.name> (veth, left DOWN)  --------------  wired-far (veth) ---------------+-- br0
                                                   192.168.77.1/24, fd77::1/64 on br0;
                                                   dnsmasq on br0: DHCPv4, DHCPv6, RA

fixture.json (in the scenario dir; every key optional, defaults below):
    {"radios": 2,                     station radios left in the root netns (wlan0..)
     "ap":    {"enabled": true, "ssid": "wibond-lab", "psk": "wibond-lab-psk", "channel": 1},
     "ap2":   {"enabled": false, "ssid": "wibond-lab-2", "channel": 6},   a second access point
                                      on the same LAN (ap1, same psk): two radios, two APs
     "wired": {"enabled": true, "name": "eth0", "carrier": true},
     "dhcp":  {"enabled": true, "start": true, "lease": "2m", "v6": true, "v6_mode": "slaac",
               "ra": true, "extra_args": []},     more dnsmasq arguments; start: false = the
                                      server is down at boot (far.dhcp_start() later)
     "rfkill_blocked": [],            station radios soft-blocked before the product starts
     "far":   {"netns": "far", "ip4": "192.168.77.1/24", "ip6": "fd77::1/64"},
     "timeout": 300,                  guest-side limit for check.py, seconds
     "boot_limit": 180,               the runner must start by this uptime (else power off)
     "shared_boot": false}            may run in one boot with other such scenarios (labrun)
dnsmasq never hands out leases shorter than 2 minutes ("lease" below that is raised to 2m).
v6_mode: see V6_MODES below.

Silent faults (issue 13): a port of br0 (ap0, ap1, wired-far) can be cut off the LAN while its
link stays up (isolate()): the AP stays associated and relays among its own stations, the
cable keeps its carrier, nothing crosses to the LAN.  An AP can vanish without a deauth
(ap_silence(): its hwsim radio leaves the stations' radio group, so no frame of it reaches them).
"""
import copy
import ipaddress
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

from . import hwsim
from .paths import STATE_DIR, STATE_FILE, out_dir, scenario_dir
from .util import log, sh, wait_for

DEFAULTS = {
    "radios": 2,
    "ap": {"enabled": True, "ssid": "wibond-lab", "psk": "wibond-lab-psk", "channel": 1},
    "ap2": {"enabled": False, "ssid": "wibond-lab-2", "channel": 6},
    "wired": {"enabled": True, "name": "eth0", "carrier": True},
    "dhcp": {"enabled": True, "start": True, "lease": "2m", "v6": True, "v6_mode": "slaac",
             "ra": True},
    "rfkill_blocked": [],
    "far": {"netns": "far", "ip4": "192.168.77.1/24", "ip6": "fd77::1/64"},
    "timeout": 300,
}
# IPv6 on the LAN (dhcp.v6_mode): "slaac" = RA with an autonomous prefix (SLAAC) and DHCPv6
# addresses too, like many home routers; "stateful" = DHCPv6 addresses only (RA: M flag, no
# SLAAC); "ra-stateless" = SLAAC + DHCPv6 for options only; "ra-only" = SLAAC, no DHCPv6.
V6_MODES = {"slaac", "stateful", "ra-stateless", "ra-only"}
AP_IFS = ("ap0", "ap1")
DEBUGFS = Path("/sys/kernel/debug")
WIRED_FAR = "wired-far"
BRIDGE = "br0"


def _merge(base, over):
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path=None):
    path = Path(path or scenario_dir() / "fixture.json")
    over = json.loads(path.read_text()) if path.exists() else {}
    return _merge(DEFAULTS, over)


def _read(p):
    try:
        return Path(p).read_text().strip()
    except OSError:
        return None


class Fixture:
    """Controls for the far side.  Get one with guest.fixture() (reads the boot-time state)."""

    def __init__(self, cfg, state=None):
        self.cfg = cfg
        self.state = state or {}
        self.ns = cfg["far"]["netns"]
        self.ip4 = cfg["far"]["ip4"].split("/")[0]
        self.ip6 = cfg["far"]["ip6"].split("/")[0]
        self.ssid = cfg["ap"]["ssid"]
        self.psk = cfg["ap"]["psk"]
        self.wired = cfg["wired"]["name"] if cfg["wired"]["enabled"] else None
        self.stations = self.state.get("stations", [])   # [{"ifname","phy","mac","radio_id"}]
        self.ap_mac = self.state.get("ap_mac")
        self.leasefile = STATE_DIR / "dnsmasq.leases"

    # ------------------------------------------------------------------ building (boot time)
    def setup(self):
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        cfg = self.cfg
        sh(["ip", "netns", "add", self.ns])
        sh(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        sh(["ip", "netns", "exec", self.ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0"])
        sh(["ip", "-n", self.ns, "link", "add", BRIDGE, "type", "bridge", "forward_delay", "0",
            "stp_state", "0"])
        sh(["ip", "-n", self.ns, "addr", "add", cfg["far"]["ip4"], "dev", BRIDGE])
        sh(["ip", "-n", self.ns, "addr", "add", cfg["far"]["ip6"], "dev", BRIDGE, "nodad"])
        sh(["ip", "-n", self.ns, "link", "set", BRIDGE, "up"])
        self._setup_radios()
        if cfg["wired"]["enabled"]:
            name = cfg["wired"]["name"]
            sh(["ip", "link", "add", name, "type", "veth", "peer", "name", WIRED_FAR,
                "netns", self.ns])
            sh(["ip", "-n", self.ns, "link", "set", WIRED_FAR, "master", BRIDGE])
            if cfg["wired"].get("carrier", True):
                sh(["ip", "-n", self.ns, "link", "set", WIRED_FAR, "up"])
            self.state["wired"] = {"name": name, "far": WIRED_FAR,
                                   "mac": _read(f"/sys/class/net/{name}/address")}
        for name in cfg.get("rfkill_blocked", []):
            self.rfkill(name, True)   # a radio switched off before anything of the product starts
        if cfg["dhcp"]["enabled"] and cfg["dhcp"].get("start", True):
            self.dhcp_start()
        self._save()
        log(f"fixture ready: {json.dumps(self.state)}")

    def _setup_radios(self):
        n = int(self.cfg["radios"])
        aps = self.ap_configs()
        total = n + len(aps)
        self.state["stations"] = []
        if total == 0:
            return
        sh(["modprobe", "mac80211_hwsim", f"radios={total}"])
        ids = list(range(total))
        infos = [wait_for(lambda i=i: (lambda r: r if r["ifnames"] else None)(hwsim.radio_info(i)),
                          60, f"hwsim{i} netdev") for i in ids]
        # radio 0..n-1 stay here as wlan0..; the last ones become the APs in the far netns
        for info in infos[:n]:
            ifn = info["ifnames"][0]
            self.state["stations"].append({"ifname": ifn, "phy": info["phy"], "radio_id": info["id"],
                                           "mac": _read(f"/sys/class/net/{ifn}/address")})
        self.state["aps"] = []
        for i, (ap, info) in enumerate(zip(aps, infos[n:])):
            old = info["ifnames"][0]
            rec = {"ifname": AP_IFS[i], "mac": _read(f"/sys/class/net/{old}/address"),
                   "phy": info["phy"], "radio_id": info["id"], "ssid": ap["ssid"]}
            self.state["aps"].append(rec)
            sh(["iw", "phy", info["phy"], "set", "netns", "name", self.ns])
            sh(["ip", "-n", self.ns, "link", "set", old, "name", AP_IFS[i]])
            self._write_hostapd_conf(i)
            self.ap_start(i)
        if aps:
            first = self.state["aps"][0]
            self.state.update(ap_mac=first["mac"], ap_phy=first["phy"], ap_radio_id=first["radio_id"])
            self.ap_mac = first["mac"]

    def ap_configs(self):
        """The access points to build: [cfg["ap"]] (+ cfg["ap2"] with the first one's psk)."""
        aps = []
        if self.cfg["ap"]["enabled"]:
            aps.append(self.cfg["ap"])
            if self.cfg.get("ap2", {}).get("enabled"):
                aps.append(_merge(self.cfg["ap"], self.cfg["ap2"]))
        return aps

    def _ap_file(self, ap, suffix):
        """Per-AP state files: hostapd.conf for ap0 (as before), hostapd-ap1.conf for ap1."""
        return STATE_DIR / (f"hostapd{suffix}" if ap == 0 else f"hostapd-{AP_IFS[ap]}{suffix}")

    def _write_hostapd_conf(self, ap_index=0):
        ap = self.ap_configs()[ap_index]
        conf = self._ap_file(ap_index, ".conf")
        conf.write_text("\n".join([
            f"interface={AP_IFS[ap_index]}", f"bridge={BRIDGE}", "driver=nl80211",
            f"ctrl_interface={self._ap_file(ap_index, '')}", f"ssid={ap['ssid']}", "hw_mode=g",
            f"channel={ap['channel']}", "wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP",
            f"wpa_passphrase={ap['psk']}", "logger_stdout=-1", "logger_stdout_level=1", ""]))
        return conf

    def _save(self):
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps({"cfg": self.cfg, "state": self.state}, indent=2))
        try:
            out_dir().mkdir(parents=True, exist_ok=True)
            (out_dir() / "fixture-state.json").write_text(json.dumps(self.state, indent=2))
        except OSError:
            pass

    # ------------------------------------------------------------------ access point
    def ap_start(self, ap=0):
        """Start hostapd (AP number `ap`) in the far netns and wait until the AP is ENABLED."""
        sh(["hostapd", "-B", "-P", self._ap_file(ap, ".pid"), "-f", self._ap_file(ap, ".log"), "-t",
            self._ap_file(ap, ".conf")], netns=self.ns)
        wait_for(lambda: "state=ENABLED" in self.hostapd_cli("status", check=False, ap=ap).stdout,
                 60, "hostapd ENABLED")

    def ap_stop(self, ap=0):
        """Kill hostapd: stations see the AP vanish (beacon loss / deauth)."""
        self._kill(self._ap_file(ap, ".pid"))

    def ap_down(self, ap=0):
        """Disable the AP (hostapd DISABLE: deauth all, stop beaconing); process stays."""
        self.hostapd_cli("disable", ap=ap)

    def ap_up(self, ap=0):
        self.hostapd_cli("enable", ap=ap)
        wait_for(lambda: "state=ENABLED" in self.hostapd_cli("status", check=False, ap=ap).stdout,
                 60, "hostapd ENABLED")

    def hostapd_cli(self, *args, check=True, ap=0):
        return sh(["hostapd_cli", "-p", self._ap_file(ap, ""), "-i", AP_IFS[ap]] + list(args),
                  check=check, quiet=not check)

    # ------------------------------------------------------------------ silent faults
    def isolate(self, port, on=True):
        """Cut a bridge port (ap0, ap1, wired-far) off the LAN, its link staying up (on=False:
        put it back).  Off the bridge the port would still be this netns's own interface, and
        Linux answers ARP for any of its addresses on any interface: the gateway would "answer"
        through a dead AP.  A real AP with a dead uplink answers nothing, so the port also
        gets NOARP and no IPv6 while cut off.  The step that cuts (nomaster) or restores
        (master) comes last and first, so a caller timing the fault from this call's return is
        at most one command late."""
        if on:
            # Harmless while the port is bridged (the bridge, not the port, handles its frames).
            sh(["ip", "-n", self.ns, "link", "set", port, "arp", "off"])
            self.far_sh(["sysctl", "-q", "-w", f"net.ipv6.conf.{port}.disable_ipv6=1"])
            sh(["ip", "-n", self.ns, "link", "set", port, "nomaster"])
        else:
            sh(["ip", "-n", self.ns, "link", "set", port, "master", BRIDGE])
            self.far_sh(["sysctl", "-q", "-w", f"net.ipv6.conf.{port}.disable_ipv6=0"])
            sh(["ip", "-n", self.ns, "link", "set", port, "arp", "on"])
        log(f"{port}: {'cut off the LAN, link up' if on else 'back on the LAN'}")

    def ap_silence(self, on=True, ap=0):
        """The AP vanishes without a deauth (on=False: it is heard again): its hwsim radio moves
        to another radio group, so the stations hear no frame of it and it hears none of theirs.
        hostapd keeps running and sends nothing of its own."""
        if not (DEBUGFS / "ieee80211").exists():
            sh(["mount", "-t", "debugfs", "debugfs", DEBUGFS])
        phy = self.state["aps"][ap]["phy"]
        (DEBUGFS / "ieee80211" / phy / "hwsim" / "group").write_text("2" if on else "1")
        log(f"{AP_IFS[ap]} ({phy}): {'silent' if on else 'heard again'}")

    def deauth(self, mac, ap=0):
        """Deauthenticate one station (by MAC) from the AP."""
        return self.hostapd_cli("deauthenticate", mac, ap=ap)

    def ap_stations(self, authorized=True, ap=0):
        """MACs of the stations connected to the AP: associated and, with authorized=True (the
        default), done with the 4-way handshake.  hostapd keeps a deauthenticated station in
        all_sta for 5 s (AP_MAX_INACTIVITY_AFTER_DEAUTH) with its flags cleared, so the flags
        decide, not the listing.  authorized=False: every station entry hostapd has."""
        return [mac for mac, flags in self.ap_station_flags(ap).items()
                if not authorized or ("[ASSOC]" in flags and "[AUTHORIZED]" in flags)]

    def ap_station_flags(self, ap=0):
        """{mac: 'flags=[AUTH][ASSOC][AUTHORIZED]...'} from hostapd_cli all_sta."""
        r = self.hostapd_cli("all_sta", check=False, ap=ap)
        out, mac = {}, None
        for ln in r.stdout.splitlines():
            ln = ln.strip()
            if re.fullmatch(r"[0-9a-f:]{17}", ln):
                mac = ln
                out[mac] = ""
            elif mac and ln.startswith("flags="):
                out[mac] = ln
        return out

    # ------------------------------------------------------------------ wire
    def wire_cut(self):
        """Far end of the veth down: the guest end loses carrier."""
        sh(["ip", "-n", self.ns, "link", "set", WIRED_FAR, "down"])

    def wire_restore(self):
        sh(["ip", "-n", self.ns, "link", "set", WIRED_FAR, "up"])

    # ------------------------------------------------------------------ DHCP / RA
    def dhcp_start(self):
        d = self.cfg["dhcp"]
        n4 = ipaddress.ip_interface(self.cfg["far"]["ip4"]).network
        n6 = ipaddress.ip_interface(self.cfg["far"]["ip6"]).network
        args = ["dnsmasq", "--conf-file=/dev/null", "--port=0", f"--interface={BRIDGE}",
                "--bind-interfaces", "--dhcp-authoritative", "--log-dhcp", "--user=root",
                "--group=root", f"--pid-file={STATE_DIR / 'dnsmasq.pid'}",
                f"--log-facility={STATE_DIR / 'dnsmasq.log'}",
                f"--dhcp-leasefile={self.leasefile}",
                f"--dhcp-range={n4[100]},{n4[200]},{n4.netmask},{d['lease']}"]
        mode = d.get("v6_mode", "slaac")
        if mode not in V6_MODES:
            raise ValueError(f"dhcp.v6_mode must be one of {sorted(V6_MODES)}, not {mode!r}")
        if d.get("v6", True):
            if mode in ("ra-only", "ra-stateless"):
                args.append(f"--dhcp-range={n6[0]},{mode},{n6.prefixlen},{d['lease']}")
            else:
                extra = ",slaac" if mode == "slaac" else ""
                args.append(f"--dhcp-range={n6[0x100]},{n6[0x1ff]}{extra},{n6.prefixlen},{d['lease']}")
        if d.get("ra", True):
            args.append("--enable-ra")
        args += d.get("extra_args", [])
        sh(args, netns=self.ns)
        wait_for(lambda: (STATE_DIR / "dnsmasq.pid").exists(), 30, "dnsmasq pid file")

    def dhcp_stop(self):
        self._kill(STATE_DIR / "dnsmasq.pid")

    def leases(self):
        """Parsed dnsmasq lease file: [{'expiry','mac','ip','hostname','client_id'}] (v4) and
        v6 lines as {'expiry','iaid','ip','hostname','duid'}."""
        out = []
        txt = _read(self.leasefile) or ""
        for ln in txt.splitlines():
            f = ln.split()
            if len(f) >= 5 and f[0] == "duid":
                continue
            if len(f) >= 5 and ":" in f[2] and "." not in f[2]:
                out.append({"expiry": int(f[0]), "iaid": f[1], "ip": f[2], "hostname": f[3],
                            "duid": f[4], "family": 6})
            elif len(f) >= 5:
                out.append({"expiry": int(f[0]), "mac": f[1], "ip": f[2], "hostname": f[3],
                            "client_id": f[4], "family": 4})
        return out

    def dhcp_log(self):
        return _read(STATE_DIR / "dnsmasq.log") or ""

    # ------------------------------------------------------------------ radios
    def rfkill(self, name, blocked=True):
        """Soft-block/unblock a radio by netdev (wlan0) or phy name (phy0)."""
        phy = _read(f"/sys/class/net/{name}/phy80211/name") or name
        for r in Path("/sys/class/rfkill").iterdir():
            if _read(r / "name") == phy:
                (r / "soft").write_text("1" if blocked else "0")
                log(f"rfkill {'block' if blocked else 'unblock'} {name} ({phy}, {r.name})")
                return r.name
        raise FileNotFoundError(f"no rfkill switch for {name} ({phy})")

    def new_radio(self, name=None, timeout=60):
        """Plug a 'USB dongle': HWSIM_CMD_NEW_RADIO; waits for its netdev.
        Returns {'id', 'phy', 'ifnames', 'ifname'}."""
        rid = hwsim.new_radio(name=name)
        info = wait_for(lambda: (lambda r: r if r["ifnames"] else None)(hwsim.radio_info(rid)),
                        timeout, f"netdev of new hwsim radio {rid}")
        info["ifname"] = info["ifnames"][0]
        log(f"new radio: {info}")
        return info

    def del_radio(self, radio_id=None, name=None):
        """Unplug: HWSIM_CMD_DEL_RADIO by id (from new_radio) or phy name."""
        hwsim.del_radio(radio_id=radio_id, name=name)
        log(f"deleted radio id={radio_id} name={name}")

    # ------------------------------------------------------------------ misc
    def far_sh(self, cmd, **kw):
        """Run a command in the far netns."""
        return sh(cmd, netns=self.ns, **kw)

    def _kill(self, pidf):
        pid = _read(pidf)
        if not pid:
            return
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30, f"pid {pid} exit")
        try:
            Path(pidf).unlink()
        except FileNotFoundError:
            pass


def fixture():
    """The fixture built at boot (controls + state).  Fails if the fixture unit did not run."""
    st = json.loads(STATE_FILE.read_text())
    return Fixture(st["cfg"], st["state"])


def setup(cfg=None):
    """Build the far side for `cfg` (default: the current scenario's fixture.json).

    Writes STATE_DIR/fixture-status.json ({"ok", "error", "traceback", "duration_s"}) and
    returns that dict; never raises."""
    t0 = time.monotonic()
    try:
        Fixture(cfg or load_config()).setup()
        status = {"ok": True}
    except Exception as e:  # noqa: BLE001
        import traceback
        status = {"ok": False, "error": repr(e), "traceback": traceback.format_exc()}
        log(traceback.format_exc())
    status["duration_s"] = round(time.monotonic() - t0, 2)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    (STATE_DIR / "fixture-status.json").write_text(json.dumps(status))
    log(f"fixture setup {'OK' if status['ok'] else 'FAILED'} in {status['duration_s']}s")
    return status


def teardown():
    """Undo setup() and whatever a scenario left in the kernel, back to a just-booted state:
    stop hostapd/dnsmasq, delete the far netns (the wired veth pair goes with it; the AP phy
    returns to the root netns), delete every bond, unload mac80211_hwsim (all radios, also
    those made by new_radio) and bonding, forget the fixture state.

    Returns a list of problems (empty when the system is clean).  Used between scenarios
    that share one boot; processes the scenario started must be gone before (the runner
    kills its own cgroup first)."""
    problems = []
    ns = "far"
    try:
        ns = json.loads(STATE_FILE.read_text())["cfg"]["far"]["netns"]
    except (OSError, ValueError, KeyError):
        pass
    for pidf in ("hostapd.pid", "hostapd-ap1.pid", "dnsmasq.pid"):
        pid = _read(STATE_DIR / pidf)
        if pid and pid.isdigit():
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 30,
                            f"{pidf} exit", raise_on_timeout=False):
                os.kill(int(pid), signal.SIGKILL)
    if Path(f"/run/netns/{ns}").exists():
        sh(["ip", "netns", "del", ns], check=False)
    for dev in sorted(p.parent.name for p in Path("/sys/class/net").glob("*/bonding")):
        sh(["ip", "link", "del", dev], check=False)
    wired = None
    try:
        wired = json.loads(STATE_FILE.read_text())["state"]["wired"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if wired and Path(f"/sys/class/net/{wired}").exists():
        sh(["ip", "link", "del", wired], check=False)
    for mod in ("mac80211_hwsim", "bonding"):
        if Path(f"/sys/module/{mod}").exists():
            # radios/bonds can take a moment to let go after their users died
            wait_for(lambda mod=mod: sh(["modprobe", "-r", mod], check=False, quiet=True).returncode == 0
                     or not Path(f"/sys/module/{mod}").exists(), 30, f"unload {mod}",
                     interval=0.5, raise_on_timeout=False)
            if Path(f"/sys/module/{mod}").exists():
                problems.append(f"module {mod} still loaded: "
                                + sh(["modprobe", "-r", mod], check=False, quiet=True).stderr.strip())
    if Path(f"/run/netns/{ns}").exists():
        problems.append(f"netns {ns} still exists")
    left = [p.parent.name for p in Path("/sys/class/net").glob("*/bonding")]
    if left:
        problems.append(f"bonds left: {left}")
    if wired and Path(f"/sys/class/net/{wired}").exists():
        problems.append(f"{wired} still exists")
    for f in STATE_DIR.glob("*") if STATE_DIR.exists() else []:
        if f.is_file():
            f.unlink()
    log("fixture teardown " + ("clean" if not problems else f"PROBLEMS: {problems}"))
    return problems


def main(argv):
    if len(argv) < 2 or argv[1] not in ("setup", "show", "teardown"):
        print("usage: python3 -m guest fixture setup|show|teardown", file=sys.stderr)
        return 2
    if argv[1] == "show":
        print(STATE_FILE.read_text())
        return 0
    if argv[1] == "teardown":
        return 1 if teardown() else 0
    return 0 if setup()["ok"] else 1
