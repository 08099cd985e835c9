"""wibond.conf in: the configspec (configspec.ini), reading and validating it
(reader), the checks across keys and bonds (checks), the model every later
phase works on (model: Bond, Slave, Loaded), which section a device belongs
to (match), and the man page's table built from the configspec (manpage).

Only reader imports configobj; the model and match are cheap to import, so
run-time steps use them without parsing anything."""
