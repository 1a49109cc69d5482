# Two set-up commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGING_STAMP := $(VENV)/.packaging-installed

.PHONY: run test bench lint clean package package-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is installed first and on its own: the pinned CPU wheel lies on this disk, and
# asking for it alone keeps pip from resolving a multi-gigabyte CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The check prints the one apt command when Qt's X11 plugin lacks system libraries.
run: $(STAMP)
	@$(BIN)/python -m desktop_app.platform_check
	$(BIN)/mfagan-studio

test: $(STAMP)
	$(BIN)/ruff check engine desktop_app tests packaging
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/mfagan bench --readme docs/BENCH.md

# Installed builds (packaging/README.md): dist/mfagan-studio/ (GUI and CLI), its tar.gz and
# sha256. package-test runs that archive from a clean environment against the source tree.
$(PACKAGING_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,packaging]"
	touch $(PACKAGING_STAMP)

package: $(PACKAGING_STAMP)
	$(BIN)/python packaging/build.py

package-test: package
	$(BIN)/python packaging/package_test.py

clean:
	rm -rf $(VENV) build dist *.egg-info
