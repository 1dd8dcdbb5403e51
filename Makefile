# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test stress bench wheel-check qemu-goldens gallery clean roms

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vgaemu demo --screenshot build/vgaemu-demo.png

# -rs: say why tests were skipped (no QEMU, no X server) instead of a bare "s".
test: $(STAMP)
	$(BIN)/python -m pytest -q -rs

# Build the wheel, install it into a clean venv and run it from a temporary directory.
wheel-check: $(STAMP)
	.ci/wheel-smoke $(BIN)/python

# The stress suite for as long as you like (seconds per scenario).
STRESS_SECONDS ?= 30
stress: $(STAMP)
	VGAEMU_STRESS_SECONDS=$(STRESS_SECONDS) $(BIN)/python -m pytest -q -m stress tests/stress

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_display.py
	$(BIN)/python benchmarks/bench_planar.py
	$(BIN)/python benchmarks/bench_cpu.py
	$(BIN)/python benchmarks/bench_bios_chars.py
	$(BIN)/python benchmarks/bench_pc.py

clean:
	rm -rf $(VENV) build *.egg-info

# Regenerate the QEMU screendumps the pixel tests compare against (needs qemu-system-x86 and
# the oracle: ../shared/oracle/oracle.py or $VGAEMU_ORACLE).
qemu-goldens:
	python3 tests/traces/qemu_goldens.py --jobs 2
	python3 tests/bios/make_bios_traces.py --goldens
	python3 tests/vgaemu/pc/qemu_programs.py

# The pictures README.md shows: demo screenshots, the profiler's plot and heat map, and
# QEMU | vgaemu side-by-sides of a few corpus traces (against QEMU's committed screendumps).
GALLERY_DEMOS := text:10 plasma:30 palette_cycle:10 planar:100 modex:31 sprites:60 dimm:90
GALLERY_TRACES := text_mode3_attr_grid planar_logical_ops modex_split_status cga_mode4 vbe_32bpp_1024x768
gallery: $(STAMP)
	mkdir -p docs/gallery build/side
	for d in $(GALLERY_DEMOS); do \
	  $(BIN)/vgaemu run $${d%%:*} --headless --frames $${d##*:} --screenshot docs/gallery/$${d%%:*}.png || exit 1; done
	$(BIN)/vgaemu profile sprites --frames 120 --plot docs/gallery/profile-sprites.png --heatmap docs/gallery/heatmap-sprites.png
	$(BIN)/vgaemu profile text --frames 120 --plot docs/gallery/profile-text.png
	$(BIN)/vgaemu compare $(foreach t,$(GALLERY_TRACES),tests/traces/$(t).json) \
	  --golden-dir tests/golden/qemu --side-by-side --out build/side
	$(BIN)/vgaemu compare tests/traces/text_blink.json --golden-dir tests/golden/qemu --side-by-side --out build/side || true
	cp build/side/*.side.png docs/gallery/

# The programs in vgaemu/roms/programs/ (NASM sources; the built images are committed).
PROGRAMS := $(patsubst %.asm,%.img,$(wildcard vgaemu/roms/programs/*.asm))
roms: $(PROGRAMS)
vgaemu/roms/programs/%.img: vgaemu/roms/programs/%.asm
	nasm -f bin -o $@ $<
