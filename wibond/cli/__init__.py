"""The `wibond` command (main): check and generate, status and monitor, which
read the kernel's view of a bond (state)."""
