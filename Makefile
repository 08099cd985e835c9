# wibond: install into a system or an image tree (make install DESTDIR=/mnt/alarm).
# Directories default to Arch Linux (ARM)'s; override any of them.

PREFIX          ?= /usr
SYSCONFDIR      ?= /etc
BINDIR          ?= $(PREFIX)/bin
LIBEXECDIR      ?= $(PREFIX)/lib/wibond
PKGDIR          ?= $(LIBEXECDIR)/python
UNITTEMPLATEDIR ?= $(LIBEXECDIR)/units
GENERATORDIR    ?= $(PREFIX)/lib/systemd/system-generators
UNITDIR         ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR    ?= $(PREFIX)/lib/udev/rules.d
MANDIR          ?= $(PREFIX)/share/man
DOCDIR          ?= $(PREFIX)/share/doc/wibond
BASHCOMPDIR     ?= $(PREFIX)/share/bash-completion/completions
# yes: byte-compile the package at install (boot may find / read-only); a distribution
# package that compiles on the target (debian/postinst) sets COMPILE=no.
COMPILE         ?= yes
PYTHON          ?= /usr/bin/python3
# Used only to build the man pages and run tests on this machine.
HOST_PYTHON     ?= python3
DESTDIR         ?=

VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' wibond/__init__.py)
PACKAGE_FILES := $(wildcard wibond/*.py wibond/*/*.py) wibond/config/configspec.ini
# Units systemd loads by name from UNITDIR (they must outlive a daemon-reload that drops a
# bond's generated units: a running wibond-arp@ keeps its ordering and its stop); the other
# templates go to UNITTEMPLATEDIR, linked per bond by the generator.
SYSTEM_UNITS := units/wibond@.service units/wibond-arp@.service units/wibond-managers.service \
	units/wibond-metrics.service
SHIPPED_UNITS := $(filter-out $(SYSTEM_UNITS),$(wildcard units/*.service))
UDEV_RULES := $(wildcard udev/*.rules)
MANPAGES := man/wibond.conf.5 man/wibond.8
COMPLETION := completion/wibond.bash

# Entry scripts and units name install paths; rewrite them for this install.
SUBST = sed -e '1s|^\#![^ ]*python3|\#!$(PYTHON)|' \
	-e 's|^PKGDIR = None .*|PKGDIR = "$(PKGDIR)"|' \
	-e 's|/usr/lib/wibond/wibond-helper|$(LIBEXECDIR)/wibond-helper|g' \
	-e 's|/usr/bin/wibond\b|$(BINDIR)/wibond|g' \
	-e 's|^LIBEXECDIR = .*|LIBEXECDIR = "$(LIBEXECDIR)"|' \
	-e 's|^UNIT_TEMPLATE_DIR = .*|UNIT_TEMPLATE_DIR = "$(UNITTEMPLATEDIR)"|' \
	-e 's|^UNIT_DIR = .*|UNIT_DIR = "$(UNITDIR)"|'

.PHONY: all man install uninstall test check demo examples bench lab lab-image clean dist pkg srcinfo deb

all: man $(COMPLETION)

man: $(MANPAGES)

# Bash completion, made from the command's own parser so it never drifts from it.
$(COMPLETION): wibond/cli/main.py wibond/cli/completion.py
	mkdir -p completion
	tmp=$@.$$$$.tmp; $(HOST_PYTHON) -m wibond.cli.completion > $$tmp && mv $$tmp $@

# Each build writes a file of its own and renames it: two `make install` from one tree at
# once (the lab's parallel boots) must not move or truncate each other's page.
man/wibond.conf.5: man/wibond.conf.5.in wibond/config/configspec.ini wibond/config/manpage.py
	tmp=$@.$$$$.tmp; $(HOST_PYTHON) -m wibond.config.manpage $< $$tmp && \
		sed -i 's|@VERSION@|$(VERSION)|' $$tmp && mv $$tmp $@

man/wibond.8: man/wibond.8.in
	tmp=$@.$$$$.tmp; sed 's|@VERSION@|$(VERSION)|' $< > $$tmp && mv $$tmp $@

install: man $(COMPLETION)
	for f in $(PACKAGE_FILES); do \
		install -d $(DESTDIR)$(PKGDIR)/$$(dirname $$f) && \
		$(SUBST) $$f > $(DESTDIR)$(PKGDIR)/$$f.tmp && \
		chmod 644 $(DESTDIR)$(PKGDIR)/$$f.tmp && \
		mv $(DESTDIR)$(PKGDIR)/$$f.tmp $(DESTDIR)$(PKGDIR)/$$f || exit 1; \
	done
	# Bytecode now: at boot / may still be read-only and the generator would
	# compile every module on every boot. A target Python of another version
	# ignores these files and compiles as before.
	$(if $(filter yes,$(COMPILE)),$(HOST_PYTHON) -m compileall -q -d $(PKGDIR)/wibond $(DESTDIR)$(PKGDIR)/wibond)
	install -d $(DESTDIR)$(GENERATORDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR)
	$(SUBST) generator/wibond-generator > $(DESTDIR)$(GENERATORDIR)/wibond-generator
	$(SUBST) helpers/wibond-helper > $(DESTDIR)$(LIBEXECDIR)/wibond-helper
	$(SUBST) bin/wibond > $(DESTDIR)$(BINDIR)/wibond
	chmod 755 $(DESTDIR)$(GENERATORDIR)/wibond-generator $(DESTDIR)$(LIBEXECDIR)/wibond-helper \
		$(DESTDIR)$(BINDIR)/wibond
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(UNITTEMPLATEDIR)
	for f in $(SYSTEM_UNITS); do \
		$(SUBST) $$f > $(DESTDIR)$(UNITDIR)/$$(basename $$f) || exit 1; \
	done
	for f in $(SHIPPED_UNITS); do \
		$(SUBST) $$f > $(DESTDIR)$(UNITTEMPLATEDIR)/$$(basename $$f) || exit 1; \
	done
	chmod 644 $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(SYSTEM_UNITS))) \
		$(DESTDIR)$(UNITTEMPLATEDIR)/*.service
	install -d $(DESTDIR)$(UDEVRULESDIR)
	for f in $(UDEV_RULES); do \
		$(SUBST) $$f > $(DESTDIR)$(UDEVRULESDIR)/$$(basename $$f) && \
		chmod 644 $(DESTDIR)$(UDEVRULESDIR)/$$(basename $$f) || exit 1; \
	done
	install -Dpm644 man/wibond.conf.5 $(DESTDIR)$(MANDIR)/man5/wibond.conf.5
	install -Dpm644 man/wibond.8 $(DESTDIR)$(MANDIR)/man8/wibond.8
	install -Dpm644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/wibond
	install -Dpm644 -t $(DESTDIR)$(DOCDIR)/examples examples/*.conf
	# The fleet's examples: Prometheus alert rules and an Ansible playbook with its role.
	cd examples && for f in $$(find prometheus ansible -type f | sort); do \
		install -Dpm644 $$f $(DESTDIR)$(DOCDIR)/examples/$$f || exit 1; \
	done
	install -Dpm644 README.md $(DESTDIR)$(DOCDIR)/README.md

uninstall:
	rm -f $(DESTDIR)$(GENERATORDIR)/wibond-generator $(DESTDIR)$(BINDIR)/wibond
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(SYSTEM_UNITS)))
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)
	for f in $(UDEV_RULES); do rm -f $(DESTDIR)$(UDEVRULESDIR)/$$(basename $$f); done
	rm -f $(DESTDIR)$(MANDIR)/man5/wibond.conf.5 $(DESTDIR)$(MANDIR)/man8/wibond.8
	rm -f $(DESTDIR)$(BASHCOMPDIR)/wibond

# The README's test command: sets up what this machine lacks (tools/bootstrap: a virtual
# environment in $(VENV) for the Python packages; as root, the Debian packages the tests
# run), then the host tests and, when switched on (WIBOND_LAB=1, CI), the VM lab scenarios.
VENV ?= .venv
VENV_PYTHON = $(abspath $(VENV))/bin/python
test:
	VENV=$(VENV) sh tools/bootstrap test
	HOST_PYTHON=$(VENV_PYTHON) $(MAKE) --no-print-directory check

# The tests with the Python there is, nothing set up: a packager's check() (PKGBUILD).
check:
	$(HOST_PYTHON) -m pytest -q tests

# The main job, shown as a story (tests/lab/host/demo.py): boot the VM lab (as root;
# tests/lab/README.md) with the ArchWiki setup in /etc/wibond.conf, tell what wibond made of
# it, pull the cable under a 10 ms ping, then the figures and the ping timeline (terminal and
# picture). The guest's console goes to a log; V=1 shows wibond's lines of it.
# DEMO_SCENARIO=raspberry-pi (or any lab scenario) shows another, DEMO_SUITE=sid another Debian.
DEMO_SCENARIO ?= archwiki
DEMO_SUITE ?= bookworm
demo:
	VENV=$(VENV) sh tools/bootstrap demo
	$(VENV_PYTHON) tests/lab/host/demo.py $(DEMO_SCENARIO) --suite $(DEMO_SUITE) $(if $(V),--verbose)

# Without the lab: check each bundled example (on a machine with the example wpa_supplicant
# file in place and dhcpcd installed) and show the units boot would make from it.
examples:
	@root=$$(mktemp -d) && install -D -m 600 examples/wpa_supplicant.conf \
		$$root/etc/wpa_supplicant/wpa_supplicant.conf && install -D -m 755 /dev/null $$root/usr/sbin/dhcpcd; \
	for f in $$(ls examples/*.conf | grep -v wpa_supplicant.conf); do \
		echo "== $$f"; \
		WIBOND_ROOT=$$root $(HOST_PYTHON) -m wibond check $$f || exit 1; \
		out=$$(mktemp -d) && WIBOND_ROOT=$$root $(HOST_PYTHON) -m wibond generate --config $$f $$out/units && \
		(cd $$out/units && find . -mindepth 1 \( -type l -printf '%p -> %l\n' -o -type f -printf '%p\n' \) | sort && \
		 for d in $$(find . -name '*.conf' | sort); do echo "--- $$d"; cat $$d; done); \
		rm -rf $$out; \
	done

# Figures, not tests: the generator against its baseline here; failover loss, bring-up and
# boot in the VM lab (as root) with results in benchmarks/results/.
# The timeline pictures need matplotlib: bench runs in the virtual environment (tools/bootstrap).
bench:
	VENV=$(VENV) sh tools/bootstrap demo
	$(VENV_PYTHON) benchmarks/generator.py
	$(VENV_PYTHON) benchmarks/metrics.py
	$(VENV_PYTHON) benchmarks/lab.py

# The VM lab (tests/lab/README.md): as root; QEMU under TCG, Debian kernel with bonding and
# mac80211_hwsim. lab-image builds or refreshes the cached guest image (a no-op when current);
# lab runs the scenarios of tests/test_lab.py (LAB_SCENARIOS=... to pick some by name).
lab-image:
	for suite in bookworm trixie sid; do $(HOST_PYTHON) tests/lab/host/build-image --suite $$suite || exit 1; done

# LAB_SUITE=bookworm|trixie|sid and LAB_ARCH=amd64|arm64 pick the guest for LAB_SCENARIOS
# (arm64: the Raspberry Pi's architecture, wibond installed from its Arch package; on demand,
# not in `make test`: its image takes about 20 minutes to build the first time).
LAB_SUITE ?= $(or $(WIBOND_LAB_SUITE),bookworm)
LAB_ARCH  ?= $(or $(WIBOND_LAB_ARCH),amd64)
lab:
	$(if $(LAB_SCENARIOS),$(HOST_PYTHON) tests/lab/host/labrun.py run --suite $(LAB_SUITE) --arch $(LAB_ARCH) --jobs 2 $(LAB_SCENARIOS),WIBOND_LAB=1 $(HOST_PYTHON) -m pytest -q -rs tests/test_lab.py)

# A source tarball of the files git tracks, as they are in this checkout.
DIST := dist/wibond-$(VERSION).tar.gz
dist:
	mkdir -p dist
	git ls-files -z | tar --null -T - --transform 's,^,wibond-$(VERSION)/,SH' \
		--owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -czf $(DIST)
	@echo $(DIST)

# The Arch package (packaging/arch/PKGBUILD) from that tarball, in $(PKGBUILDDIR). makepkg
# refuses root: as root it runs as $(PKGUSER). Outside Arch (no pacman database) pass
# MAKEPKG_FLAGS=--nodeps (the default here); PKGEXT matches Arch's.
PKGBUILDDIR  ?= build/pkg
PKGUSER      ?= nobody
MAKEPKG_FLAGS ?= --nodeps
AS_BUILDER = $(if $(filter 0,$(shell id -u)),runuser -u $(PKGUSER) -- env HOME=$(abspath $(PKGBUILDDIR)),)
# It builds as Arch builds it: with the system's python3 (HOST_PYTHON unset), not the venv.
pkg: dist
	rm -rf $(PKGBUILDDIR)
	mkdir -p $(PKGBUILDDIR)
	cp packaging/arch/PKGBUILD $(DIST) $(PKGBUILDDIR)/
	$(if $(filter 0,$(shell id -u)),chown -R $(PKGUSER) $(PKGBUILDDIR))
	cd $(PKGBUILDDIR) && $(AS_BUILDER) env -u HOST_PYTHON -u MAKEFLAGS PKGEXT=.pkg.tar.zst \
		makepkg --force $(MAKEPKG_FLAGS)
	@ls $(PKGBUILDDIR)/*.pkg.tar.zst

# The Debian package (debian/), for Raspberry Pi OS and Debian 12, 13 and sid: built with
# dpkg-buildpackage from the files git tracks, as they are in this checkout, in
# $(DEBBUILDDIR); dist/wibond_$(VERSION)_all.deb. DEB_BUILD_OPTIONS=nocheck skips its tests
# (and their build dependencies: the nocheck build profile).
# Needs debhelper, dpkg-dev, python3-configobj (and for its tests python3-pytest,
# python3-hypothesis, python3-pyudev); lintian checks it: `make deb-lint`.
DEBBUILDDIR ?= build/deb
DEBOUT ?= dist
DEB := $(DEBOUT)/wibond_$(VERSION)_all.deb
deb:
	rm -rf $(DEBBUILDDIR)
	mkdir -p $(DEBBUILDDIR)/wibond-$(VERSION) $(DEBOUT)
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(DEBBUILDDIR)/wibond-$(VERSION)
	cd $(DEBBUILDDIR)/wibond-$(VERSION) && env -u MAKEFLAGS -u HOST_PYTHON \
		dpkg-buildpackage -us -uc -b --no-sign $(if $(findstring nocheck,$(DEB_BUILD_OPTIONS)),-Pnocheck)
	cp $(DEBBUILDDIR)/wibond_$(VERSION)_all.deb $(DEB)
	@echo $(DEB)

deb-lint: deb
	lintian --fail-on error --info $(DEB)

# packaging/arch/.SRCINFO, for the AUR, made from the PKGBUILD.
srcinfo:
	mkdir -p $(PKGBUILDDIR)
	cp packaging/arch/PKGBUILD $(PKGBUILDDIR)/
	$(if $(filter 0,$(shell id -u)),chown -R $(PKGUSER) $(PKGBUILDDIR))
	cd $(PKGBUILDDIR) && $(AS_BUILDER) makepkg --printsrcinfo > $(abspath packaging/arch/.SRCINFO)

clean:
	rm -f $(MANPAGES) man/*.tmp
	rm -rf completion
	rm -rf build dist *.egg-info .pytest_cache
