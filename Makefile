# Two commands for a fresh machine: `make run` (the main job on the embedded default) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Empty: pip's default (here, the CPU build on disk). Elsewhere use https://download.pytorch.org/whl/cpu
# for a CPU build or https://download.pytorch.org/whl/cu128 for CUDA.
TORCH_INDEX_URL ?=
TORCH_INDEX := $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL),)
STAMP := $(VENV)/.installed
# The OpenVINO export toolchain lives in its own environment: optimum-intel pins an older transformers.
EXPORT_VENV := .venv-export
EXPORT_STAMP := $(EXPORT_VENV)/.installed
# The GGUF converter that llama.cpp ships, taken from the llama-cpp-python sdist (nothing is compiled), run in the
# export environment.
LLAMA_CPP_PYTHON := 0.3.36
GGUF_CONVERTER := $(EXPORT_VENV)/llama.cpp/convert_hf_to_gguf.py
# torch goes in with pip (it knows TORCH_INDEX_URL and this machine's CPU build on disk), everything else with uv, which
# resolves and downloads in parallel.
# uv keeps the torch that pip installed (it satisfies torch==2.13.0); the constraint pins that exact build (2.13.0+cpu
# here), so uv fails rather than fetch another torch from PyPI (a multi-GB CUDA build).
# No bytecode is compiled at install: Python compiles a module on its first import and keeps the .pyc. Compiling all
# of .venv and .venv-export up front (~45,000 files, ~600 MB of source) took about 2 CPU-minutes of `make setup` on
# this 2-core machine, most of it for modules that nothing here imports.
UV_VERSION := 0.13.8
UV := $(BIN)/uv
TORCH_PIN = $(1)/bin/python -c 'import importlib.metadata as m; print("torch==" + m.version("torch"))' >$(1)/torch-pin.txt
UV_INSTALL = $(UV) pip install --quiet --python $(1)/bin/python --constraints $(1)/torch-pin.txt
# checkov (the CloudFormation template's security lint) pins boto3, networkx and packaging below ours: its own venv.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
CHECKOV_VERSION := 3.3.30
# Both install the versions their tests last passed with (requirements/*.constraints.txt): a new release of one of their
# own dependencies can break them (Label Studio 1.23.2 starts with today's sentry-sdk 3 only while SENTRY_DSN is empty).
# Label Studio (the server of the review round trip's test) pins Django, numpy and pyjwt of its own: its own venv too.
# Its bytecode is compiled at install (a fresh start compiles ~2,500 modules otherwise: ~10 s more per start where
# PYTHONDONTWRITEBYTECODE is set), and a database with its ~230 migrations applied is kept as a template the test copies
# (a start on an empty database migrates it first: ~60 s on 2 cores instead of ~10 s). Any label-studio command
# migrates its database before it runs; `version` does nothing else. DJANGO_DB picks SQLite (the default is Postgres).
LABEL_STUDIO_VENV := .venv-labelstudio
LABEL_STUDIO_STAMP := $(LABEL_STUDIO_VENV)/.installed
LABEL_STUDIO_VERSION := 1.23.2
LABEL_STUDIO_TEMPLATE := $(CURDIR)/$(LABEL_STUDIO_VENV)/template

.PHONY: setup setup-test run test static-checks system-deps clean-venv

# The environments build in parallel (-j2 unless make was given a -j of its own). `setup` is what the project runs on;
# `setup-test` adds the tests' own tools (checkov, Label Studio), which `make run` does not need.
PARALLEL = $(if $(filter -j%,$(MAKEFLAGS)),,-j2)
setup:
	@$(MAKE) --no-print-directory --output-sync=target $(PARALLEL) $(STAMP) $(EXPORT_STAMP) $(GGUF_CONVERTER)

setup-test:
	@$(MAKE) --no-print-directory --output-sync=target $(PARALLEL) $(STAMP) $(EXPORT_STAMP) $(GGUF_CONVERTER) $(TOOLS_STAMP) $(LABEL_STUDIO_STAMP)

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml requirements/no-deps.txt | $(UV)
	$(BIN)/pip install --quiet --no-compile torch==2.13.0 $(TORCH_INDEX)
	$(call TORCH_PIN,$(VENV))
	$(call UV_INSTALL,$(VENV)) -e ".[dev,aws]"
	$(call UV_INSTALL,$(VENV)) --no-deps -r requirements/no-deps.txt
	touch $(STAMP)

$(EXPORT_STAMP): requirements/openvino-export.txt | $(UV)
	test -x $(EXPORT_VENV)/bin/python || $(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_VENV)/bin/pip install --quiet --no-compile torch==2.13.0 $(TORCH_INDEX)
	$(call TORCH_PIN,$(EXPORT_VENV))
	$(call UV_INSTALL,$(EXPORT_VENV)) -r requirements/openvino-export.txt
	$(call UV_INSTALL,$(EXPORT_VENV)) --no-deps optimum-intel==2.2.0
	touch $(EXPORT_STAMP)

$(GGUF_CONVERTER): $(EXPORT_STAMP) Makefile
	rm -rf $(EXPORT_VENV)/llama.cpp $(EXPORT_VENV)/sdist
	$(EXPORT_VENV)/bin/pip download --quiet --no-deps --no-binary :all: --dest $(EXPORT_VENV)/sdist llama-cpp-python==$(LLAMA_CPP_PYTHON)
	mkdir -p $(EXPORT_VENV)/llama.cpp
	tar xzf $(EXPORT_VENV)/sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C $(EXPORT_VENV)/llama.cpp --strip-components=3 \
		llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp/convert_hf_to_gguf.py \
		llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp/conversion \
		llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp/gguf-py \
		llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp/LICENSE
	rm -rf $(EXPORT_VENV)/sdist
	touch $(GGUF_CONVERTER)

# Debian packages the crawlers and their tests need (headless Chromium and git); needs root and apt-get.
system-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v git >/dev/null; then \
		echo "system packages present"; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver git; \
	fi

# The main job installs the browser too when it can; without one it still runs to the end (Medium is fetched
# over plain HTTP, LinkedIn links fail with the reason).
run: setup
	@$(MAKE) --no-print-directory system-deps || echo "warning: could not install chromium and chromium-driver (needs root and apt-get): Medium links are fetched over plain HTTP and LinkedIn links fail."
	$(BIN)/poe quickstart

# The browser's Debian packages install beside the environments (a third job: apt waits on the network and the disk),
# and the static checks (`poe static-checks`: ruff, mypy, import-linter, the docs build) start as soon as .venv is
# there, while the other environments are still being made. pytest (`poe pytest`) runs once all of it is done: the
# two of them together is `poe test`.
test:
	@$(MAKE) --no-print-directory --output-sync=target $(if $(filter -j%,$(MAKEFLAGS)),,-j3) \
		$(STAMP) $(EXPORT_STAMP) $(GGUF_CONVERTER) $(TOOLS_STAMP) $(LABEL_STUDIO_STAMP) system-deps static-checks
	$(BIN)/poe pytest

static-checks: $(STAMP)
	$(BIN)/poe static-checks

$(TOOLS_STAMP): Makefile requirements/checkov.constraints.txt | $(UV)
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(UV) pip install --quiet --python $(TOOLS_VENV)/bin/python --constraints requirements/checkov.constraints.txt \
		checkov==$(CHECKOV_VERSION)
	touch $(TOOLS_STAMP)

$(LABEL_STUDIO_STAMP): Makefile requirements/label-studio.constraints.txt | $(UV)
	test -x $(LABEL_STUDIO_VENV)/bin/python || $(PYTHON) -m venv $(LABEL_STUDIO_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(LABEL_STUDIO_VENV)/bin/python \
		--constraints requirements/label-studio.constraints.txt label-studio==$(LABEL_STUDIO_VERSION)
	rm -rf $(LABEL_STUDIO_TEMPLATE)
	env -i PATH="$$PATH" HOME="$(LABEL_STUDIO_TEMPLATE)" DJANGO_DB=sqlite \
		LABEL_STUDIO_BASE_DATA_DIR="$(LABEL_STUDIO_TEMPLATE)" LABEL_STUDIO_DATABASE_NAME="$(LABEL_STUDIO_TEMPLATE)/label_studio.sqlite3" \
		LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false SENTRY_DSN= FRONTEND_SENTRY_DSN= \
		$(LABEL_STUDIO_VENV)/bin/label-studio version >$(LABEL_STUDIO_VENV)/template.log 2>&1 \
		|| { echo "Label Studio's template database failed; its output:"; cat $(LABEL_STUDIO_VENV)/template.log; \
			df -h $(CURDIR) | tail -1; exit 1; }
	touch $(LABEL_STUDIO_STAMP)

clean-venv:
	rm -rf $(VENV) $(EXPORT_VENV) $(TOOLS_VENV) $(LABEL_STUDIO_VENV)
