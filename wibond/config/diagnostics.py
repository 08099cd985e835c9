"""What is wrong beyond the file's own text, in one table: each problem wibond finds on the
machine a config runs on (a DHCP client not installed, a radio's wpa_supplicant file missing,
unreadable, without a network or a key, or readable by everyone) has one severity and one
wording, whoever finds it: `wibond check`, `wibond generate`, the generator at boot and the
units' steps in the journal all say it the same way.

A problem becomes a Diagnostic of the wibond config, naming the section it concerns:
    /etc/wibond.conf:12: error: [bond0] [[wlan0]] wpa_conf: ...
"""

from __future__ import annotations

from .model import ERROR, NOTE, WARNING, Diagnostic

# code -> (severity, key it concerns or None, wording with {fields})
TABLE: dict[str, tuple[str, str | None, str]] = {
    "dhcp-client-missing": (
        ERROR, "dhcp_client", "{problem}; {bond} is not brought up on this machine"),
    "radio-absent": (
        NOTE, None, "{iface} is not on this machine now (a dongle not plugged in?); it joins "
                    "when it appears"),
    "wpa-missing": (
        ERROR, "wpa_conf", "{iface}: the wpa_supplicant file {conf} does not exist, so the radio "
                           "cannot join; write it (wpa_passphrase SSID >> {conf}; chmod 600 "
                           "{conf}) or set wpa_conf"),
    "wpa-unreadable": (
        ERROR, "wpa_conf", "{iface}: cannot read the wpa_supplicant file {conf} ({reason})"),
    "wpa-unchecked": (
        NOTE, "wpa_conf", "{iface}: {conf} is not readable by this user (as it should be with "
                          "a key in it); run `wibond check` as root to check it"),
    "wpa-bad-line": (
        ERROR, "wpa_conf", "{iface}: {conf}:{at}: wpa_supplicant cannot read this line "
                           "({why}); it refuses the whole file"),
    "wpa-no-network": (
        ERROR, "wpa_conf", "{iface}: {conf} has no network={{...}} block, so the radio has "
                           "nothing to join; add one (wpa_passphrase SSID >> {conf})"),
    "wpa-no-ssid": (
        ERROR, "wpa_conf", "{iface}: {conf}:{at}: a network block without ssid"),
    "wpa-no-key": (
        ERROR, "wpa_conf", "{iface}: {conf}:{at}: network {ssid} has no key (psk, "
                           "sae_password or password); for an open network set key_mgmt=NONE"),
    "wpa-open": (
        NOTE, "wpa_conf", "{iface}: {conf}:{at}: network {ssid} is an open network "
                          "(key_mgmt=NONE): no key"),
    "wpa-readable": (
        WARNING, "wpa_conf", "{iface}: {conf} holds a key and every user can read it (mode "
                             "{mode}): chmod 600 {conf}"),
    "file-trust": (WARNING, None, "{text}"),
}


def diagnostic(code: str, config: str, section: tuple[str, ...] = (), line: int | None = None,
               **fields: object) -> Diagnostic:
    """The Diagnostic for problem CODE of the config at CONFIG (shown as named), SECTION."""
    severity, key, wording = TABLE[code]
    return Diagnostic(severity, config, wording.format(**fields), line, section, key)
