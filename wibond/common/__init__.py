"""The ground every phase stands on: host paths behind one root (paths), one
function per output format that refuses what the format cannot hold
(formats), interface names and systemd escaping (names), the machine's
stable identity (identity), who may change a file (trust), JSON without
the json module's imports (jsonread). Nothing here imports the rest of wibond."""
