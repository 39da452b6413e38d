# PatchDPO pipeline. Set-up: `make run`, `make test`. See README.md.
SWIFT     ?= swift
CONFIG    ?= pipelines/default.toml
RUN_DIR   ?= runs/default
THREADS   ?= 2
RELEASE    = $(SWIFT) build -c release
BIN        = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all bootstrap build test test-slurm perf bench run smoke pipeline stage clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(RELEASE)

# Correctness only: no timed assertions. Long training runs live in `make perf`. scripts/check-deps first: every
# target of Package.swift lists exactly the modules it imports (and docs/ARCHITECTURE.md's table agrees);
# scripts/check-accelerate type-checks TensorCore's macOS BLAS branch against a stand-in Accelerate (README, Portability).
test: bootstrap
	scripts/check-deps
	scripts/check-accelerate
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/check-safetensors-interop
	scripts/check-smoke $$($(SWIFT) build --show-bin-path)
	scripts/check-kill $$($(SWIFT) build --show-bin-path)

# The smoke pipeline through a real Slurm on localhost (docs/SLURM.md): submitted with 3 shards per per-item stage,
# in both shard modes, compared with an unsharded run, then one task cancelled and resubmitted. When the machine
# cannot run the daemons it prints one NOT RUN line with the reason (exit 69 of the scripts) and does not fail the
# build. Then journal mode's crash check (kill -9 of a shard and of the merge, 10 rounds each; about 5 min) and the
# Kubernetes manifests' check (parsed, not applied).
test-slurm: bootstrap
	$(SWIFT) build
	@rc=0; scripts/slurm/install || rc=$$?; \
	if [ $$rc -eq 0 ]; then scripts/slurm/test-pipeline $$($(SWIFT) build --show-bin-path) || rc=$$?; fi; \
	if [ $$rc -eq 69 ]; then echo "test-slurm: NOT RUN (exit 69, the reason is above); the sharded pipeline was not tested on Slurm"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi
	@if command -v sqlite3 >/dev/null; then scripts/check-kill-journal $$($(SWIFT) build --show-bin-path); \
	else echo "check-kill-journal: NOT RUN: no sqlite3 shell (scripts/slurm/install installs it)"; fi
	@if python3 -c 'import yaml' 2>/dev/null; then scripts/k8s/check; \
	else echo "k8s/check: NOT RUN: no python3-yaml (scripts/slurm/install installs it)"; fi

# JSON lines on stdout, one per figure; also saved to runs/perf/perf-bench.jsonl (the bench stage's
# `perf_json` reads it for the report's performance section). The file appears only when perf-bench succeeds.
# (Not the `bench` pipeline stage: that one is `make stage STAGE=bench`.)
perf: build
	@mkdir -p runs/perf
	bash -o pipefail -c '$(BIN)/perf-bench | tee runs/perf/perf-bench.jsonl.partial'
	mv runs/perf/perf-bench.jsonl.partial runs/perf/perf-bench.jsonl

# `make bench` is the old name of `make perf`, kept for existing users.
bench: perf

clean:
	rm -rf .build .build-fuzz

# Fuzzes every file parser (safetensors, PNG, PPM, TOML, HPatches homographies, pretrain records) with libFuzzer and
# AddressSanitizer for FUZZ_SECONDS each (6 x 100 s = 10 minutes), built in .build-fuzz/; fails naming a crashing input.
# Seeds: Tests/Fuzz/corpus/ (Tests/Fuzz/README.md). CI runs `scripts/fuzz 30`.
FUZZ_SECONDS ?= 100
.PHONY: fuzz
fuzz: bootstrap
	SWIFT=$(SWIFT) scripts/fuzz $(FUZZ_SECONDS)

# Proves every backward rule is tested: each recorded op's input gradient scaled by 1.1 in turn must fail
# AutogradTests (60 op:input cases, about 4-6 minutes with its rebuild; not in `make test`, whose budget is 15 minutes).
.PHONY: mutation-check
mutation-check: bootstrap
	scripts/autograd_mutation_check.sh

# Safetensors round trip with the Python package (Python -> Swift, Swift -> Python); venv in .build-py/.
.PHONY: interop
interop:
	scripts/check-safetensors-interop

# The world's contact sheet (categories, backgrounds, defects, one HPatches sequence).
world-sheet:
	$(SWIFT) build --product worldgen
	$$($(SWIFT) build --show-bin-path)/worldgen contact-sheet --out docs/world.png
# One stage: make stage STAGE=<name> [CONFIG=pipelines/smoke.toml] [RUN_DIR=runs/smoke] [ARGS="--force"].
# Exit codes as documented in Sources/StageKit/CLI/ExitCodes.swift (0 ok, 1 items failed, 65 data, 75 busy, ...).
STAGE_CMD_fake-produce = fake-stage produce
STAGE_CMD_fake-consume = fake-stage consume
STAGE_CMD_pretrain-vit = pretrain vit
STAGE_CMD_pretrain-clip = pretrain clip
STAGE_CMD_pretrain-unet = pretrain unet
STAGE_CMD_pretrain-adapter = pretrain adapter
STAGE_CMD_bench = bench
STAGE_CMD_pretrain-judge = pretrain judge
STAGE_CMD_pretrain-segmenter = pretrain segmenter
STAGE_CMD_pretrain-vae = pretrain vae
STAGE_CMD_pretrain-jedi = pretrain jedi
# SHARDS=N (or SHARDS_<stage>=N) runs a per-item stage as N processes at once (`--shard k/N`, THREADS/N threads each) and
# exits with the first failure's code: dpo-train's runs are small products that two threads do not keep busy, and two
# 1-thread shards made 1.4x the runs per hour of one 2-thread process (5 Dec, README).
stage: build
	@test -n "$(STAGE)" || { echo "make stage: set STAGE=<name>, e.g. make stage STAGE=fake-produce"; exit 64; }
	@n=$(or $(SHARDS_$(STAGE)),$(SHARDS),1); cmd="$(BIN)/$(or $(STAGE_CMD_$(STAGE)),$(STAGE)) --config $(CONFIG) --run-dir $(RUN_DIR)"; \
	if [ "$$n" -le 1 ]; then echo "$$cmd --threads $(THREADS) $(ARGS)"; exec $$cmd --threads $(THREADS) $(ARGS); fi; \
	t=$$(( $(THREADS) / n )); [ "$$t" -ge 1 ] || t=1; pids=""; \
	for k in $$(seq 0 $$((n - 1))); do echo "$$cmd --threads $$t --shard $$k/$$n $(ARGS) &"; $$cmd --threads $$t --shard $$k/$$n $(ARGS) & pids="$$pids $$!"; done; \
	rc=0; for p in $$pids; do wait $$p || { c=$$?; [ $$rc -ne 0 ] || rc=$$c; }; done; exit $$rc

# The pipeline's stages in dependency order (each one's upstream comes before it).
PIPELINE_STAGES = pretrain-judge pretrain-vit pretrain-segmenter pretrain-clip pretrain-unet pretrain-adapter pretrain-jedi \
                  generate-pool score-and-pair ssl-finetune-vit patch-quality dpo-train bench

# The whole pipeline on CONFIG in RUN_DIR (default: pipelines/default.toml, runs/default), then status.
run: build
	@$(MAKE) --no-print-directory -o build pipeline

# The smoke pipeline (tiny sizes) end to end; a second `make smoke` skips every stage.
smoke: build
	@$(MAKE) --no-print-directory -o build pipeline CONFIG=pipelines/smoke.toml RUN_DIR=runs/smoke

# Every stage in order on CONFIG / RUN_DIR, then the manifest's status and an integrity check.
pipeline:
	@for s in $(PIPELINE_STAGES); do \
	  $(MAKE) --no-print-directory -o build stage STAGE=$$s CONFIG=$(CONFIG) RUN_DIR=$(RUN_DIR) || exit $$?; \
	done
	$(BIN)/inspect status --run-dir $(RUN_DIR)
	$(BIN)/inspect verify --run-dir $(RUN_DIR)

# The reproduction (issue 16 item 2): pipelines/reproduce.toml (every loss, 3 seeds, the bench on 104 test subjects)
# in REPRO_RUN, then its report's reproduction.md and screenshot (the page's first 3000 px) into docs/. About 45 minutes on
# 2 cores with every dpo-train run shipped (README states the measured times); every stage resumes, so an interrupted run
# continues where it stopped.
REPRO_RUN ?= runs/reproduce
REPRO_DPO_SHARDS ?= 2
.PHONY: reproduce
reproduce: build
	@$(MAKE) --no-print-directory -o build pipeline CONFIG=pipelines/reproduce.toml RUN_DIR=$(REPRO_RUN) SHARDS_dpo-train=$(REPRO_DPO_SHARDS)
	cp $(REPRO_RUN)/report/reproduction.md docs/reproduction.md
	-REPORT_SHOT_HEIGHT=3000 scripts/report-screenshot $(REPRO_RUN)/report/index.html docs/reproduction.png

# The reproduction's finished dpo-train runs in their shipped form -> data/checkpoints/reproduction/ (scripts/ship-runs), which
# pipelines/reproduce.toml's [dpo-train] from imports: a fresh clone's `make reproduce` then trains only the runs not shipped.
.PHONY: ship-reproduction
ship-reproduction: build
	scripts/ship-runs $(REPRO_RUN) data/checkpoints/reproduction $(BIN)

# Incremental refresh, as cron runs it (scripts/refresh documents the crontab line).
.PHONY: refresh
refresh: build
	BIN=$(BIN) CONFIG=$(CONFIG) RUN_DIR=$(RUN_DIR) scripts/refresh

# Retrain the shipped checkpoints (data/checkpoints/) with the [pretrain-*] sections of CONFIG
# (from = "" overrides their import), in RUN_DIR=runs/pretrain, then copy weights, records and
# sample grids into data/checkpoints/ and docs/. About 13.5 hours on 2 cores (data/checkpoints/README.md).
# The judge trains in three phases (data/checkpoints/README.md): [pretrain-judge] as configured in
# $(PRETRAIN_RUN)-judge-phase1, then JUDGE_PHASE2 and JUDGE_PHASE3 more steps, each from the previous
# phase's weights with a fresh schedule. The U-Net too: UNET_PHASE1 (text only, CLIP's text tower
# frozen), UNET_PHASE2 (pooled-text class embedding, object-weighted min-SNR loss, the text tower tuned
# with it; a 20000-step schedule cut at UNET_STOP), then [pretrain-unet] as configured (the anneal). The
# adapter: ADAPTER_PHASE1 (the U-Net frozen) in $(PRETRAIN_RUN)-adapter-phase1, then [pretrain-adapter] as
# configured from it (the U-Net tuned with the adapter, tu1), ADAPTER_PHASE3 (long1: a 20000-step schedule cut at
# ADAPTER_STOP), ADAPTER_PHASE4 (ra1: trained with reference attention), ADAPTER_PHASE5 (rt3: reference attention
# reading the clean reference, reference_timestep = 0, on a 3000-step schedule), then ADAPTER_PHASE6 (ctl3) and
# ADAPTER_PHASE7 (ctl5): the same schedule twice more, each from the previous phase's weights.
# JeDi ([pretrain-jedi] as configured) trains from the final base U-Net in $(PRETRAIN_RUN).
PRETRAIN_RUN ?= runs/pretrain
JUDGE_PHASE2 ?= --set steps=3000 --set lr=5e-4 --set warmup=50
JUDGE_PHASE3 ?= --set steps=2000 --set lr=3e-4 --set warmup=50
UNET_STOP ?= 10196
UNET_PHASE1 ?= --set steps=4500 --set lr=1e-3 --set warmup=100 --set class_embedding=false --set object_weight=0 \
  --set snr_gamma=0 --set train_text_encoder=false
UNET_PHASE2 ?= --set steps=20000 --set lr=5e-4 --set warmup=100 --set stop_at=$(UNET_STOP)
ADAPTER_PHASE1 ?= --set lr=1e-3 --set unet_lr_scale=0
ADAPTER_STOP ?= 10000
ADAPTER_PHASE3 ?= --set steps=20000 --set curve_every=2000 --set stop_at=$(ADAPTER_STOP)
ADAPTER_PHASE4 ?= --set steps=1600 --set lr=3e-4 --set warmup=50 --set curve_every=800 --set reference_attention=true
ADAPTER_PHASE5 ?= --set steps=3000 --set lr=3e-4 --set warmup=50 --set curve_every=1000 --set reference_attention=true \
  --set reference_timestep=0
ADAPTER_PHASE6 ?= $(ADAPTER_PHASE5)
ADAPTER_PHASE7 ?= $(ADAPTER_PHASE5)
.PHONY: pretrain
pretrain: build
	$(BIN)/pretrain judge --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-judge-phase1 --threads $(THREADS) --set 'from=""'
	$(BIN)/pretrain judge --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-judge-phase2 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-judge-phase1/artifacts/pretrain-judge/judge.safetensors"' $(JUDGE_PHASE2)
	$(BIN)/pretrain judge --config $(CONFIG) --run-dir $(PRETRAIN_RUN) --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-judge-phase2/artifacts/pretrain-judge/judge.safetensors"' $(JUDGE_PHASE3)
	@for s in vit clip vae segmenter; do \
	  $(BIN)/pretrain $$s --config $(CONFIG) --run-dir $(PRETRAIN_RUN) --threads $(THREADS) --set 'from=""' || exit $$?; \
	done
	@for p in 1 2; do \
	  $(BIN)/pretrain clip --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-unet-phase$$p --set 'from="$(PRETRAIN_RUN)/artifacts/pretrain-clip"' || exit $$?; \
	done
	$(BIN)/pretrain unet --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-unet-phase1 --threads $(THREADS) --set 'from=""' $(UNET_PHASE1)
	$(BIN)/pretrain unet --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-unet-phase2 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-unet-phase1/artifacts/pretrain-unet/unet.safetensors"' $(UNET_PHASE2)
	$(BIN)/pretrain unet --config $(CONFIG) --run-dir $(PRETRAIN_RUN) --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-unet-phase2/artifacts/pretrain-unet/unet.safetensors"'
	$(BIN)/pretrain jedi --config $(CONFIG) --run-dir $(PRETRAIN_RUN) --threads $(THREADS) --set 'from=""'
	@for p in 1 2 3 4 5 6; do for s in judge clip unet; do \
	  $(BIN)/pretrain $$s --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase$$p --set "from=\"$(PRETRAIN_RUN)/artifacts/pretrain-$$s\"" || exit $$?; \
	done; done
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase1 --threads $(THREADS) --set 'from=""' $(ADAPTER_PHASE1)
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase2 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase1/artifacts/pretrain-adapter/adapter.safetensors"'
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase3 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase2/artifacts/pretrain-adapter/adapter.safetensors"' $(ADAPTER_PHASE3)
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase4 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase3/artifacts/pretrain-adapter/adapter.safetensors"' $(ADAPTER_PHASE4)
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase5 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase4/artifacts/pretrain-adapter/adapter.safetensors"' $(ADAPTER_PHASE5)
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN)-adapter-phase6 --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase5/artifacts/pretrain-adapter/adapter.safetensors"' $(ADAPTER_PHASE6)
	$(BIN)/pretrain adapter --config $(CONFIG) --run-dir $(PRETRAIN_RUN) --threads $(THREADS) --set 'from=""' \
	  --set 'init_from="$(PRETRAIN_RUN)-adapter-phase6/artifacts/pretrain-adapter/adapter.safetensors"' $(ADAPTER_PHASE7)
	scripts/ship-checkpoints $(PRETRAIN_RUN)

# The pipeline's stages in order, for scripts (check-smoke; refresh's default STAGES).
print-stages:
	@echo $(PIPELINE_STAGES)

# The HTML report: re-render RUN_DIR's report from its bench results (no sampling), screenshot it with
# headless Chromium (apt-get install chromium; not part of `make test`), or render the built-in fixture.
REPORT_SHOT ?= docs/report.png
REPORT_SHOT_PHONE ?= docs/report-phone.png
.PHONY: report report-shot report-fixture
report:
	$(SWIFT) build --product render-report
	$$($(SWIFT) build --show-bin-path)/render-report $(RUN_DIR)/artifacts/bench/results.json --run-dir $(RUN_DIR) --out $(RUN_DIR)/report \
	  $$(test -f runs/perf/perf-bench.jsonl && echo --perf runs/perf/perf-bench.jsonl)

report-shot:
	scripts/report-screenshot $(RUN_DIR)/report/index.html $(REPORT_SHOT)
	scripts/report-screenshot $(RUN_DIR)/report/index.html $(REPORT_SHOT_PHONE) 390

report-fixture:
	$(SWIFT) build --product render-report
	$$($(SWIFT) build --show-bin-path)/render-report --fixture --run-dir . --out runs/report-fixture/report
	@$(MAKE) --no-print-directory report-shot RUN_DIR=runs/report-fixture
