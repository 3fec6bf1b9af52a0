# The two commands: `make demo` and `make test`. Both install what they need first.
SWIFT ?= swift
DEBS := libsqlite3-dev libcurl4-openssl-dev libssl-dev libyaml-dev libxxhash-dev ffmpeg python3-venv openssl
BIN := .build/debug/omnipost
# For the tests only: promtool (Debian's prometheus package) checks what /metrics serves; the
# dashboard is driven in real headless Chromium (chromium, chromium-driver) through Selenium;
# systemd-analyze (systemd) verifies the unit and rates its hardening.
TEST_DEBS := prometheus chromium chromium-driver systemd
# The shared ledger's tests start a private PostgreSQL server (initdb + postgres on a loopback port in a
# temp folder; as `nobody` when run as root, since both refuse root): Debian's server package.
TEST_DEBS += postgresql
# xxHash's own command-line tool (xxhsum -H2): the upload check's XXH3-128 is compared with what it prints.
TEST_DEBS += xxhash

.PHONY: all deps test-deps debs build samples demo test bench install format clean bench-check

all: build

# Installs the Debian packages that are missing (as root, or through sudo).
deps:
	@$(MAKE) --no-print-directory debs PKGS="$(DEBS)"

test-deps:
	@$(MAKE) --no-print-directory debs PKGS="$(TEST_DEBS)"

debs:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build --product omnipost

samples: deps
	bash samples/generate.sh

demo: build samples
	rm -rf demo-state
	mkdir -p demo-state/inbox
	cp samples/*.mp4 samples/*.yaml samples/*.json demo-state/inbox/
	$(BIN) run pipelines/demo.yaml --once
	@echo
	@echo "outbox:"; ls -1 demo-state/outbox demo-state/outbox/failed
	@echo; echo "folder:nas (a destination):"; ls -1 demo-state/sandbox/folder-nas

# Selenium drives Chromium for the dashboard's tests; aiosmtpd is the SMTP server (with STARTTLS) the e-mail alerts are sent to.
# Official client libraries run against the sandbox (Google's google-api-python-client, X's xdk,
# LinkedIn's client, AWS's boto3, Vimeo's PyVimeo, Meta's facebook-business, the tuspy tus client, the atproto SDK, Reddit's PRAW,
# OpenAI's library for the captions model's chat endpoint), and servers independent of
# ours that targets are tested against (moto's standalone S3, tuspyserver on uvicorn), from PyPI.
VENV := .venv
PYDEPS := google-api-python-client==2.202.0 google-auth==2.63.0 xdk==0.10.6 linkedin-api-client==0.3.0 boto3==1.44.5 "moto[server]==5.2.5" \
	tuspy==1.1.0 PyVimeo==1.1.2 atproto==0.0.73 praw==8.0.3 tuspyserver==4.4.3 fastapi==0.165.0 uvicorn==0.54.0 \
	selenium==4.38.0 aiosmtpd==1.4.6 openai==3.51.0 schemathesis==4.32.5 facebook-business==26.0.3
$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PYDEPS)
	touch $@

# The suite's async tests share a cooperative pool of one thread per core (two here); with every test
# running at once, the sandboxes' handlers starve behind pipelines and ffmpeg and time out. At most
# TEST_WIDTH test functions run at a time (Swift Testing's own limit; the binary is run directly, as
# `swift test` would, since it does not pass the option through).
TEST_WIDTH ?= 6
test: deps test-deps $(VENV)/.installed
	$(SWIFT) build --build-tests
	.build/debug/omnipostPackageTests.xctest --testing-library swift-testing --experimental-maximum-parallelization-width $(TEST_WIDTH)

# The digest row compares with xxHash's own tool (xxh128sum, Debian's xxhash): installed here as for the tests.
bench: deps
	@$(MAKE) --no-print-directory debs PKGS="xxhash"
	$(SWIFT) build -c release --product omnipost
	bash scripts/bench.sh

# A short bench run against the figures committed in scripts/bench-figures.txt; fails on a slowdown
# beyond BENCH_TOLERANCE percent (default 20). Not part of CI (it needs a quiet machine).
bench-check: deps
	@$(MAKE) --no-print-directory debs PKGS="xxhash"
	bash scripts/bench-check.sh

# The production binary (issue 30): the release build, the unit, the `omnipost` system user and the
# folders it owns (docs/nas.md). `DESTDIR=/some/stage` stages the files only (a package build): no user,
# no owners, no systemd. `PREFIX` moves the binary, and the unit's ExecStart with it.
PREFIX ?= /usr/local
install: deps
	$(SWIFT) build -c release --product omnipost
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/omnipost $(DESTDIR)/srv/omnipost
	install -m 0755 .build/release/omnipost $(DESTDIR)$(PREFIX)/bin/omnipost
	sed 's#/usr/local/bin/omnipost#$(PREFIX)/bin/omnipost#g' packaging/omnipost@.service > $(DESTDIR)/etc/systemd/system/omnipost@.service
	chmod 0644 $(DESTDIR)/etc/systemd/system/omnipost@.service
	@if [ -z "$(DESTDIR)" ]; then \
	  id -u omnipost >/dev/null 2>&1 || useradd --system --home-dir /srv/omnipost --no-create-home --shell /usr/sbin/nologin omnipost; \
	  chown omnipost:omnipost /srv/omnipost && chmod 0750 /srv/omnipost; \
	  chown root:omnipost /etc/omnipost && chmod 0750 /etc/omnipost; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	  echo "installed $(PREFIX)/bin/omnipost and omnipost@.service; next: docs/nas.md (a pipeline in /etc/omnipost/<name>.yaml, root: /srv/omnipost/<name>)"; \
	fi

clean:
	rm -rf .build demo-state bench-state $(VENV)

# The committed layout (.swift-format: 4 spaces, 180 columns, existing line breaks kept, no rewriting
# rules): `swift format` ships with the toolchain.
format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format Sources Tests Package.swift
