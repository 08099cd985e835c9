"""Stable identities derived from /etc/machine-id: the DUID, IAID and IPv6 secret.

The DUID is systemd-networkd's default (DUID-EN, systemd's enterprise number
43793, SipHash-2-4 of the machine ID): a machine that moves from networkd
to wibond keeps its DHCP leases. DHCPv4 sends the same DUID in its client
identifier (RFC 4361), so the lease belongs to the machine, not to whichever
slave's MAC the bond has at the moment.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import struct

from . import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .protocols import Files

_MASK = (1 << 64) - 1
# systemd's src/libsystemd-network/dhcp-duid.c: HASH_KEY and SYSTEMD_PEN.
_DUID_HASH_KEY = bytes.fromhex("80118cc2fe4a03ee3ed60c6f36391409")
_SYSTEMD_PEN = 43793
DUID_TYPE_EN = 2


class IdentityError(Exception):
    pass


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _MASK


def siphash24(key: bytes, data: bytes) -> int:
    """SipHash-2-4 (Aumasson and Bernstein), as systemd's siphash24()."""
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(n: int) -> None:
        for _ in range(n):
            v[0] = (v[0] + v[1]) & _MASK
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & _MASK
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & _MASK
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & _MASK
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    whole = len(data) - len(data) % 8
    for i in range(0, whole, 8):
        (m,) = struct.unpack_from("<Q", data, i)
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    last = (len(data) & 0xFF) << 56 | int.from_bytes(data[whole:], "little")
    v[3] ^= last
    rounds(2)
    v[0] ^= last
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def machine_id(host: Files) -> bytes:
    text = (host.read(paths.MACHINE_ID) or "").strip()
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise IdentityError(f"{paths.MACHINE_ID} is missing or not a machine ID, so no stable "
                            "DUID can be derived; run systemd-machine-id-setup, or set duid = "
                            f"<hex> in {paths.CONFIG}")
    return bytes.fromhex(text)


def default_duid(mid: bytes) -> bytes:
    """systemd-networkd's DUID-EN for this machine ID."""
    hashed = struct.pack("<Q", siphash24(_DUID_HASH_KEY, mid))
    return struct.pack(">HI", DUID_TYPE_EN, _SYSTEMD_PEN) + hashed


def duid(host: Files, setting: str) -> bytes:
    """The DUID a bond uses: `duid = auto` derives it, otherwise the configured hex."""
    if setting == "auto":
        return default_duid(machine_id(host))
    return bytes.fromhex(setting.replace(":", "").replace("-", ""))


def iaid(bond: str) -> int:
    """A 32-bit IAID from the bond's name, folded as systemd folds its hash."""
    value = siphash24(_DUID_HASH_KEY, bond.encode())
    return ((value & 0xFFFFFFFF) ^ (value >> 32)) & 0x7FFFFFFF


def client_id(bond: str, duid_bytes: bytes) -> bytes:
    """RFC 4361 DHCPv4 client identifier: type 255, IAID, DUID."""
    return b"\xff" + struct.pack(">I", iaid(bond)) + duid_bytes


def hexcolon(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def stable_secret(host: Files, bond: str) -> str:
    """The bond's IPv6 stable_secret (RFC 7217), in the form the kernel reads back."""
    digest = hmac.new(machine_id(host), b"wibond stable_secret " + bond.encode(),
                      hashlib.sha256).digest()[:16]
    # The kernel shows it with %pI6: eight groups of four hex digits.
    return ipaddress.IPv6Address(digest).exploded
