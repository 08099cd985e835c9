"""Files wibond acts on that someone else could have written: the config and the
wpa_supplicant files. A file that any user may change, or that another user owns, decides how
this machine connects (and to what): say so, in the journal and in `wibond check`."""

from __future__ import annotations

import os
import stat


def problems(path: str, shown: str | None = None) -> list[str]:
    """Warnings about who may change PATH (a host path), [] when only root (or we) can."""
    shown = shown or path
    try:
        st = os.stat(path)
    except OSError:
        return []
    out = []
    if st.st_mode & stat.S_IWOTH:
        out.append(f"{shown} is writable by every user (mode {stat.S_IMODE(st.st_mode):04o}): "
                   f"anyone can change this machine's network; chmod o-w {shown}")
    elif st.st_mode & stat.S_IWGRP and st.st_gid != 0:
        out.append(f"{shown} is writable by group {st.st_gid} (mode "
                   f"{stat.S_IMODE(st.st_mode):04o}); chmod g-w {shown}")
    if st.st_uid not in (0, os.getuid()):
        out.append(f"{shown} is owned by user {st.st_uid}, not root; chown root {shown}")
    return out
