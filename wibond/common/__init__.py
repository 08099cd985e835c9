"""The ground every phase stands on: host paths behind one root (paths), one
function per output format that refuses what the format cannot hold
(formats), interface names and systemd escaping (names), the names of the
units and /run files boot and run time share (layout), the machine's
stable identity (identity), who may change a file (trust), JSON without
the json module's imports (jsonread), the types the phases pass each other,
for type checkers only (protocols). Nothing here imports the rest of wibond."""
