"""The boot plan: the systemd generator (generator) turns the checked config
into a pure plan of files and symlinks (plan), written by a thin writer
(writer), and leaves the checked config for the run-time steps (snapshot)."""
