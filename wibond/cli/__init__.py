"""The `wibond` command (main: the parser): check and generate (check), status and
monitor (status, report, radio, failovers), apply (apply), try, confirm and rollback
(trial). Each subcommand reads the config and the running system through the phases
below; what changes the system is runtime/'s."""
