# StoryReel: every target installs what it needs into ./.venv first.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
PROTO_OUT := libs/core/src/storyreel_core/proto

.PHONY: install run test lint proto proto-check bench bench-scale bench-realtime bench-providers up clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

install: $(UV)
	$(UV) sync --frozen --all-packages --inexact

run: install
	$(VENV)/bin/storyreel up

# Two workers, a test file each at a time (a file's module fixtures stay in one worker): most
# end-to-end tests wait on processes they started, so a second worker fills the idle cores.
# Files go in collection order, where tests/conftest.py puts the slowest first.
TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

lint: install proto-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/core/src gateway/src services/*/src cli/src

proto: install
	$(PY) -m storyreel_core.tools.gen_proto proto $(PROTO_OUT)

proto-check: install
	$(PY) -m storyreel_core.tools.gen_proto proto $(PROTO_OUT) --check

bench: install
	$(PY) bench/render_speed.py
	$(PY) bench/render_floor.py
	$(PY) bench/segments.py

bench-providers: install
	$(PY) bench/providers.py

bench-scale: install
	$(PY) bench/scale.py

bench-realtime: install
	$(PY) bench/realtime.py

# The distributed stack (needs Docker): see deploy/README.md.
up:
	docker compose up --build -d

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
