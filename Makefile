# PatchDPO pipeline. Set-up: `make run`, `make test`. See README.md.
SWIFT     ?= swift
CONFIG    ?= pipelines/default.toml
RUN_DIR   ?= runs/default
THREADS   ?= 2
RELEASE    = $(SWIFT) build -c release
BIN        = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all bootstrap build test bench run smoke stage docs clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(RELEASE)

# Correctness only: no timed assertions. Long training runs live in `make bench`.
test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

# JSON lines on stdout, one per figure.
bench: build
	$(BIN)/perf-bench

clean:
	rm -rf .build

# Safetensors round trip with the Python package (Python -> Swift, Swift -> Python); venv in .build-py/.
.PHONY: interop
interop:
	scripts/check-safetensors-interop
