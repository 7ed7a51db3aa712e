# agentkit — developer commands. `make test` and `make demo` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
# llama.cpp built for these CPUs: the default native build crashed ("Illegal instruction").
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
# The demo goal: the goal of the simple-goals suite (bench/bench_small_goals.py) with the best
# measured rate on the embedded model, 3 of 3 seeds (docs/benchmarks.md), and the suite's budget.
GOAL ?= Create a folder named data.
DEMO_CALLS ?= 8

.PHONY: install sandbox test lint typecheck bench demo clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet -e ".[local,dev,mcp,postgres,bench,otel,ray,server]"
	touch $@

# The shell and python tools run under bubblewrap; install it where it is missing (Debian/Ubuntu).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq || true; $$SUDO apt-get install -y -qq bubblewrap; }

test: install sandbox
	$(VENV)/bin/mypy agentkit
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check agentkit tools tests bench

typecheck: install
	$(VENV)/bin/mypy agentkit

bench: install
	$(PY) -m bench

# The main job: an agent run on the embedded local model (no key, no network).
# Exit code 3 means the tiny model did not complete the goal; the run is still recorded.
demo: install sandbox
	mkdir -p ws
	$(VENV)/bin/agentkit run "$(GOAL)" --workspace ws --db .agentkit/demo.db \
		--max-model-calls $(DEMO_CALLS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 3 ]
	$(VENV)/bin/agentkit runs list --db .agentkit/demo.db --limit 1

clean:
	rm -rf $(VENV) ws dist build
