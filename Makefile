# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench qemu-goldens clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vgaemu demo --screenshot build/vgaemu-demo.png

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_display.py

clean:
	rm -rf $(VENV) build *.egg-info

# Regenerate the QEMU screendumps the pixel tests compare against (needs qemu-system-x86 and
# the oracle: ../shared/oracle/oracle.py or $VGAEMU_ORACLE).
qemu-goldens:
	python3 tests/traces/qemu_goldens.py --jobs 2
