"""A fast ICMP pinger (raw socket, 10 ms default) that counts losses, for failover measurements.

    with Pinger("192.168.77.1", interval=0.01) as p:
        t_cut = p.now(); far.wire_cut()
        wait_for(lambda: bond_state()["active_slave"] == "wlan0", 60)
        t_sw = p.now(); wait_for(lambda: p.replies_since(t_sw) >= 150, 60)   # flowing again
        t_ok = p.now()
    w = p.stats(since=t_cut, until=t_ok)   # after stop(): every probe in the window is decided
    s = p.stats()                          # whole run

stats(): sent, received, lost, loss_pct, max_consecutive_lost, loss_runs ([ms after `since`,
probes lost in a row], first 20), max_gap_ms (longest time with no reply, measured between
replies), first_loss_s/last_loss_s (seconds since start), rtt_avg_ms, rtt_max_ms.
While running, probes sent less than `timeout` ago are not counted (not decided yet): take
window stats after stop() or the window's end is cut to now - timeout.
"""
import os
import random
import select
import socket
import struct
import threading
import time


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


class Pinger:
    def __init__(self, dest, interval=0.01, timeout=1.0, iface=None, payload=56):
        self.dest = dest.split("/")[0]
        self.v6 = ":" in self.dest
        self.interval = interval
        self.timeout = timeout
        self.iface = iface
        self.payload = max(payload, 16)
        self.ident = (os.getpid() ^ random.getrandbits(16)) & 0xFFFF
        self.sent = {}     # counter -> send time (monotonic)
        self.recv = {}     # counter -> recv time
        self._stop = threading.Event()
        self._threads = []
        self.t_start = None
        self.t_stop = None
        self.send_errors = 0

    # -- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def now(self):
        return time.monotonic()

    def start(self):
        if self.v6:
            self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        if self.iface:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.iface.encode())
        self.sock.setblocking(False)
        self.t_start = time.monotonic()
        for fn in (self._sender, self._receiver):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self):
        if self.t_stop is not None:
            return
        self._stop_send = True
        self.t_stop = time.monotonic()
        time.sleep(min(self.timeout, 2.0))  # let in-flight replies arrive
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self.sock.close()

    # -- threads
    _stop_send = False

    def _packet(self, n):
        data = struct.pack("!Q", n) + b"\xa5" * (self.payload - 8)
        typ = 128 if self.v6 else 8
        hdr = struct.pack("!BBHHH", typ, 0, 0, self.ident, n & 0xFFFF)
        if self.v6:
            return hdr + data  # kernel fills the ICMPv6 checksum
        c = _csum(hdr + data)
        return struct.pack("!BBHHH", typ, 0, c, self.ident, n & 0xFFFF) + data

    def _sender(self):
        n = 0
        nxt = time.monotonic()
        while not self._stop.is_set() and not self._stop_send:
            now = time.monotonic()
            if now < nxt:
                time.sleep(nxt - now)
                continue
            pkt = self._packet(n)
            # record the send time first: under TCG the reply can be handled by the receiver
            # thread before sendto() returns here (recording after made ~10% false losses)
            self.sent[n] = time.monotonic()
            try:
                self.sock.sendto(pkt, (self.dest, 0))
            except OSError:
                self.send_errors += 1  # e.g. ENETUNREACH while no route: still a lost probe
            n += 1
            nxt += self.interval
            if time.monotonic() - nxt > 5 * self.interval:  # fell behind (TCG): do not burst
                nxt = time.monotonic()

    def _receiver(self):
        want = 129 if self.v6 else 0
        while not self._stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                continue
            t = time.monotonic()
            off = 0 if self.v6 else (data[0] & 0x0F) * 4
            if len(data) < off + 16:
                continue
            typ, _code, _c, ident, _seq = struct.unpack_from("!BBHHH", data, off)
            if typ != want or ident != self.ident:
                continue
            (n,) = struct.unpack_from("!Q", data, off + 8)
            if n not in self.recv:  # first reply only (duplicates ignored)
                self.recv[n] = t

    # -- results
    def replies_since(self, t):
        """Number of replies received at or after monotonic time t (for wait_for: "pings are
        flowing again" = replies_since(t_switch) >= N)."""
        return sum(1 for r in list(self.recv.values()) if r >= t)

    def last_reply(self):
        """Monotonic time of the newest reply, or None."""
        v = list(self.recv.values())
        return max(v) if v else None

    def timeline(self, since, until):
        """Every probe sent in [since, until]: [ms after `since`, reply time in ms or None
        when lost], for a picture of the window (host/timeline.py draws it)."""
        out = []
        sent, recv = dict(self.sent), dict(self.recv)
        for n in sorted(sent):
            t = sent[n]
            if since <= t <= until:
                r = recv.get(n)
                rtt = round((r - t) * 1000, 2) if r is not None and r - t <= self.timeout else None
                out.append([round((t - since) * 1000, 1), rtt])
        return out

    def stats(self, since=None, until=None):
        end = self.t_stop if self.t_stop is not None else time.monotonic()
        horizon = end - self.timeout if self.t_stop is None else end
        since = self.t_start if since is None else since
        until = horizon if until is None else min(until, horizon)
        sent, recv = dict(self.sent), dict(self.recv)
        seqs = sorted(n for n, t in sent.items() if since <= t <= until)
        lost = [n for n in seqs if n not in recv or recv[n] - sent[n] > self.timeout]
        lost_set = set(lost)
        got = [n for n in seqs if n not in lost_set]
        maxrun = run = 0
        runs = []  # [ms after `since` the run started, probes lost in a row]
        for n in seqs:
            if n in lost_set:
                if run == 0:
                    runs.append([round((sent[n] - since) * 1000), 0])
                run += 1
                runs[-1][1] = run
            else:
                run = 0
            maxrun = max(maxrun, run)
        rtimes = sorted(recv[n] for n in got)
        edges = [since] + rtimes + ([until] if seqs else [])
        max_gap = max((b - a for a, b in zip(edges, edges[1:])), default=0.0)
        rtts = [recv[n] - sent[n] for n in got]
        return {
            "dest": self.dest, "interval_ms": self.interval * 1000,
            "sent": len(seqs), "received": len(got), "lost": len(lost),
            "loss_pct": round(100.0 * len(lost) / len(seqs), 2) if seqs else None,
            "max_consecutive_lost": maxrun,
            "max_gap_ms": round(max_gap * 1000, 1),
            "loss_runs": runs[:20],
            "first_loss_s": round(sent[lost[0]] - self.t_start, 3) if lost else None,
            "last_loss_s": round(sent[lost[-1]] - self.t_start, 3) if lost else None,
            "rtt_avg_ms": round(1000 * sum(rtts) / len(rtts), 2) if rtts else None,
            "rtt_max_ms": round(1000 * max(rtts), 2) if rtts else None,
            "send_errors": self.send_errors,
            "window_s": round(until - since, 3),
        }
