"""wibond.conf in: the configspec (configspec.ini), reading the file (reader: lines,
configobj, the configspec), the checks of one value (values) and the rules across keys and
bonds (rules), the model every later phase works on (model: Bond, Slave, Loaded), which
section a device belongs to (match), what changes between two configs (changes), and the man
page's table built from the configspec (manpage).

Only reader and values import configobj; the model and match are cheap to import, so
run-time steps use them without parsing anything."""
