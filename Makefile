# One command each: `make run` (server + demo blog on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

VNU_VERSION := 26.9.27
AXE_VERSION := 4.14.1
LEAFLET_VERSION := 1.9.4
LIGHTHOUSE_VERSION := 12.2.3
LEAFLET_DIR := themes/default/static/vendor/leaflet
NGINX_BROTLI := /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so
NGINX_LUA := /usr/lib/nginx/modules/ngx_http_lua_module.so

.PHONY: run test test-tools lint golden clean vendor-leaflet lighthouse

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,redis,test]'
	touch $@

run: $(VENV)/installed
	$(BIN)/liveblog db upgrade
	$(BIN)/liveblog demo
	$(BIN)/liveblog serve --host $(HOST) --port $(PORT)

lint: $(VENV)/installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# What the browser, HTML-validity, caching-front and Pushpin tests need beyond Python:
# Debian's chromium, Java, the Nu HTML checker from npm (its install script would
# download a JDK: skipped), axe-core, which the editor's browser tests inject to check
# accessibility, and the engines in front of the app (below).
test-tools: .tools/vnu-$(VNU_VERSION) .tools/axe-$(AXE_VERSION) .tools/engines

.tools/vnu-$(VNU_VERSION):
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }
	mkdir -p .tools
	cd .tools && npm install --ignore-scripts --no-audit --no-fund --silent vnu-jar@$(VNU_VERSION)
	touch $@

# Debian's nginx with its brotli filter and Lua modules, and pushpin with the zurl and
# condure it runs.
# apt would start Debian's own services (a site on port 80, a pushpin) unless a
# policy-rc.d forbids it: one is put in place for the install where there is none, since
# the tests start their own, on ports of their own. The cache-purge module is not
# wanted: deploy/nginx/liveblog.conf says why. Made again when this Makefile changes, so
# that a checkout made before an engine or module was added gets it too (the recipe
# installs only what is missing).
.tools/engines: Makefile
	test -e $(NGINX_BROTLI) && test -e $(NGINX_LUA) && command -v pushpin >/dev/null \
	  && command -v zurl >/dev/null && command -v condure >/dev/null || { \
	  made=; test -e /usr/sbin/policy-rc.d || { \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made=1; }; \
	  apt-get update -qq && apt-get install -y -qq nginx libnginx-mod-http-brotli-filter \
	    libnginx-mod-http-lua pushpin zurl condure; \
	  status=$$?; test -z "$$made" || rm -f /usr/sbin/policy-rc.d; exit $$status; }
	mkdir -p .tools
	touch $@

.tools/axe-$(AXE_VERSION):
	mkdir -p .tools
	cd .tools && npm install --ignore-scripts --no-audit --no-fund --silent axe-core@$(AXE_VERSION)
	touch $@

# Leaflet for interactive maps, served from our own origin: the npm package's dist files.
vendor-leaflet:
	rm -rf .tools/leaflet && mkdir -p .tools/leaflet
	cd .tools/leaflet && npm pack --silent leaflet@$(LEAFLET_VERSION) >/dev/null && tar xzf leaflet-$(LEAFLET_VERSION).tgz
	rm -rf $(LEAFLET_DIR) && mkdir -p $(LEAFLET_DIR)
	cp -r .tools/leaflet/package/dist/leaflet.js .tools/leaflet/package/dist/leaflet.js.map \
	      .tools/leaflet/package/dist/leaflet.css .tools/leaflet/package/dist/images \
	      .tools/leaflet/package/LICENSE $(LEAFLET_DIR)/
	echo "Leaflet $(LEAFLET_VERSION), from the npm package leaflet@$(LEAFLET_VERSION) (make vendor-leaflet)." > $(LEAFLET_DIR)/VERSION

# Lighthouse on the demo's live page and map permalink (bench/lighthouse.py; a benchmark,
# not a test). Lighthouse 13 wants Node 22, so 12 is pinned, in a folder of its own.
.tools/lighthouse-$(LIGHTHOUSE_VERSION):
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	mkdir -p .tools/lighthouse
	npm install --prefix .tools/lighthouse -E --no-audit --no-fund --silent lighthouse@$(LIGHTHOUSE_VERSION)
	touch $@

lighthouse: $(VENV)/installed .tools/lighthouse-$(LIGHTHOUSE_VERSION)
	$(BIN)/python bench/lighthouse.py --details

# One worker per core, a test file each at a time (13 min on two cores, 17 serially). Four
# workers took 11 min but made timing-sensitive tests fail under the load.
test: lint test-tools
	$(BIN)/pytest --numprocesses=auto --dist=loadfile

# Rewrite tests/golden/ (the demo's feeds and live page) from what the code renders now;
# the diff of those files is then reviewed like code.
golden: $(VENV)/installed
	$(BIN)/pytest tests/test_golden.py --update-golden

clean:
	rm -rf $(VENV)
