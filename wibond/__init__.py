"""wibond: bonds of Wi-Fi and wired links that stay online, driven by systemd."""

__version__ = "0.1.0"
