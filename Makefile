# mmvae_nb — every command creates .venv on first use (python -m venv + pip), then runs.
#   make quick       all notebooks, reduced sizes, CPU, minutes        (PROFILE=quick)
#   make reproduce   every training as a job (launch.py), then the notebooks (PROFILE=paper)
#   make rehearse    the paper pipeline with only counts cut, every table and figure (CPU)
#   make gpu-slice   on one GPU: compile and time every paper step, then train whole sections
#   make plan        the paper profile's projected H100 hours, from committed tables in seconds
#                    (python -m mmvae_nb.launch --plan); rewrites its README block and CSV copy
#   make test        pytest in parallel + every notebook in the smoke profile
#   make <experiment> PROFILE=...   one experiment (python -m mmvae_nb list names them)
#   make scorecard   tables/<profile>/scorecard.{csv,md} from whatever tables exist (quick: and
#                    docs/results.md, README.md); make record-timings: this machine's times
#   make bench       throughput benchmarks (bench-torch: side by side with PyTorch)
#   make site        static website of the executed quick notebooks and docs, offline (build/site)
#   make site-check  every page of the site in headless Chromium: errors, math, links, screenshots
# GPU=1 (default where nvidia-smi lists a GPU): JAX with CUDA (extra GPU_EXTRA, `gpu` = CUDA 12;
# gpu-cuda13 for CUDA 13 drivers). PROFILE=paper on a machine without an accelerator stops
# before training with the projected CPU and H100 hours; ALLOW_CPU=1 goes on anyway.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
EXECUTOR ?= local
LAUNCH_ARGS ?=
comma := ,
GPU ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo 1)
GPU_EXTRA ?= gpu
EXTRAS := dev$(if $(filter 1,$(GPU)),$(comma)$(GPU_EXTRA))
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export MMVAE_NB_ALLOW_CPU := $(ALLOW_CPU)
SLICE_SECONDS ?= 540
SOURCES := $(shell find mmvae_nb -name '*.py' -o -name '*.csv')

.DELETE_ON_ERROR:
.PHONY: record-timings quick reproduce rehearse gpu-slice plan launch-status test sections scorecard bench bench-paper-time bench-torch lint strip clean help site site-check

help:
	@sed -n '/^[^#]/q;p' Makefile

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $@

# One executed notebook per profile under build/<profile>/ (outside git), written by
# `python -m mmvae_nb run` (mmvae_nb/cli.py: at the paper and rehearse profiles the launcher
# trains first, EXECUTOR and LAUNCH_ARGS passed on, so that the notebook only evaluates; papermill
# writes a .part file renamed only on success). It depends on the library and the notebook, so
# `make` re-runs only what changed; trained models are cached by config hash, so a re-run
# retrains nothing that finished. The experiments, their notebooks and make's order come from
# the registry (mmvae_nb/experiments/registry.py) through `python -m mmvae_nb list --make`.
.SECONDEXPANSION:
build/%.ipynb: notebooks/$$(notdir $$*).ipynb $(SOURCES) $(STAMP)
	$(PY) -m mmvae_nb run $(notdir $*) --profile $(patsubst %/,%,$(dir $*)) \
		--executor $(EXECUTOR) --launch-args "$(LAUNCH_ARGS)"

EXPERIMENTS_MK := build/make/experiments.mk
$(EXPERIMENTS_MK): mmvae_nb/experiments/registry.py mmvae_nb/cli.py $(STAMP)
	@mkdir -p $(@D) && $(PY) -m mmvae_nb list --make > $@.part && mv $@.part $@
ifeq ($(filter help clean strip,$(MAKECMDGOALS)),)
include $(EXPERIMENTS_MK)
endif
.PHONY: $(EXPERIMENTS)
# Two lanes on 2 cores pair a convolutional experiment (05, 04: multi-threaded, ~1.4-1.6 cores
# busy) with a small-op one (01, 02, 03: mostly single-threaded XLA compilation, e.g. 17 of an
# auxiliary-label row's 28 s), so that `make -j2` never runs the two convolutional ones side by
# side: 05 | 01 -> 02, then 04 | 02 -> 03 (make starts prerequisites in the registry's
# make_rank order).
sections: $(EXPERIMENTS)

# quick runs two notebooks at a time on 2 cores, and one per two cores on more (QUICK_JOBS).
# Before notebook 05 joined, one at a time was measured as fast as two (552b1fe: four notebooks
# side by side under outside load); the lanes above are what make two pay. Tables and figures
# do not depend on the lanes (each notebook is one process, seeded). reproduce runs its notebooks
# one at a time: on a GPU each would preallocate 75 % of the device (JAX's default); they only
# evaluate, the launcher's workers having trained, several per device, preallocation off.
QUICK_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n / 2 > 2 ? n / 2 : 2 )))
quick:
	$(MAKE) -j$(QUICK_JOBS) sections PROFILE=quick && $(MAKE) scorecard PROFILE=quick

# reproduce: every training as a job first (mmvae_nb/launch.py: EXECUTOR=local uses every
# local GPU, as many jobs per device as their compiled memory allows, longest first, at most 4,
# LAUNCH_ARGS="--per-device N" for another cap; EXECUTOR=submitit a SLURM array,
# LAUNCH_ARGS="--partition gpu"), then the notebooks evaluate from the cache; `make
# launch-status` shows what has run, `make plan` what it should cost
reproduce: $(STAMP)
	$(PY) -m mmvae_nb.launch --profile paper --all --executor $(EXECUTOR) $(LAUNCH_ARGS)
	$(MAKE) sections PROFILE=paper && $(MAKE) scorecard PROFILE=paper

# rehearse: the paper profile with only counts cut (steps, data, test points, particles), every
# grid row, beta, seed, width and evaluation path; launcher then notebooks, in two lanes as quick;
# writes every table and figure of both papers to tables/rehearse, figures/rehearse (numbers
# meaningless, not committed)
# Lanes: the compile report (one core) first, then the experiments as lanes free up.
rehearse: $(STAMP)
	$(MAKE) -j$(QUICK_JOBS) tables/rehearse/paper_programs.csv $(EXPERIMENTS) PROFILE=rehearse \
		&& $(MAKE) scorecard PROFILE=rehearse \
		&& $(PY) -m mmvae_nb.reporting.inventory --profile rehearse

# every paper training's step compiled (not run) at the paper's shapes: XLA's memory per step
tables/rehearse/paper_programs.csv: $(SOURCES) $(STAMP)
	@mkdir -p $(@D) && $(PY) -m mmvae_nb.paper_programs --out $@.part && mv $@.part $@

# gpu-slice: on one GPU within SLICE_SECONDS, compile and time every paper training's step
# (benchmarks/results/paper_programs_<device>.csv), then train whole sections at the paper's
# settings (five modalities, Table 7, linear) and write their per-run tables under tables/paper
gpu-slice: $(STAMP)
	$(PY) -m mmvae_nb.gpu_slice --budget $(SLICE_SECONDS)

# plan: trainings, programs, steps, FLOPs, memory and projected hours on one H100 per section
# (mmvae_nb/planning), printed and written to README.md's block and reference/paper_gpu_plan.csv
plan: $(STAMP)
	$(PY) -m mmvae_nb.launch --plan --write

launch-status: $(STAMP)
	$(PY) -m mmvae_nb.launch --profile $(PROFILE) --status

# the quick scorecard's summary also goes to docs/results.md and its headline to README.md
scorecard: $(STAMP)
	$(PY) -m mmvae_nb.reporting.scorecard --profile $(PROFILE) \
		$(if $(filter quick,$(PROFILE)),--readme README.md --results docs/results.md)

# a run writes this machine's training times to build/<profile>/ (outside git); this commits
# them as the record the scorecard's cost claims read (then `make scorecard`)
record-timings:
	cp build/$(PROFILE)/linear_training_time.csv benchmarks/results/linear_training_time_$(PROFILE).csv

test: $(STAMP)
	$(PY) -m pytest -n auto --dist load -q --durations=25

bench: $(STAMP)
	$(PY) benchmarks/bench_linear.py
	$(PY) benchmarks/bench_mst.py --no-torch
	$(PY) benchmarks/bench_relational.py

# the `bench` extra (torch, multivae); torch first from PyTorch's CPU index when it is
# reachable (~200 MB instead of the CUDA build PyPI serves on Linux)
# paper-profile training time projected from this machine's steps/s, on one core (issue 15)
bench-paper-time: $(STAMP)
	taskset -c 0 $(PY) benchmarks/paper_time.py

bench-torch: $(STAMP)
	$(PY) -c 'import torch' 2>/dev/null || $(PY) -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu || true
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/bench_torch.py

lint: $(STAMP)
	$(PY) -m ruff check mmvae_nb tests benchmarks notebooks
	$(PY) -m ruff format --check mmvae_nb tests benchmarks

strip: $(STAMP)
	$(PY) -m nbstripout notebooks/*.ipynb

clean:
	rm -rf build tables/smoke figures/smoke tables/rehearse figures/rehearse .cache

# the static site (Sphinx + myst-nb, site/): renders the notebooks `make quick` executed, never
# runs them; its own stamp adds the `site` extra to the environment's
SITE_STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))-site
$(SITE_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(EXTRAS),site]'
	touch $@

site: $(SITE_STAMP)
	$(PY) site/assemble.py
	rm -rf build/site
	$(PY) -m sphinx -b html -q -W --keep-going build/site-src build/site
	@echo "site: build/site/index.html"

# Debian's Chromium (playwright cannot download its own browser here); as root it is installed
site-check: $(SITE_STAMP)
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 && apt-get update -qq \
		&& apt-get install -y -q chromium; } || { echo "site-check needs /usr/bin/chromium:" \
		"sudo apt-get install chromium"; exit 1; }
	$(PY) site/check.py
