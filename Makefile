# make book: set up .venv, fetch the offline data and build the book from the committed
#            executed notebooks and records (no training; a few minutes).
# make test: set up .venv, fetch the offline data, check the code with ruff (lint and format) and
#            run the tests.
# make reproduce PROFILE=cpu: rerun the notebooks at a profile (smoke | cpu | paper) into
#            reproduced/<profile>/, run records into results/; finished runs are skipped, so a
#            killed run resumes. make reproduce-in-place: the same into the book's own book/.
# PYTHON: the interpreter the virtual environment is made from (3.10 or newer).
# TORCH=pin (default): torch 2.14.1 + torchvision 0.29.1 (PyPI's CUDA build: about 6 GB in .venv,
#   and it runs on a CPU too); TORCH=keep: no torch install, the venv sees PYTHON's own packages
#   (--system-site-packages), so a torch already installed there (a CPU build, Colab's) is kept.
PYTHON ?= python3
TORCH ?= pin
VENV ?= .venv
PY := $(VENV)/bin/python
FASHION_MNIST_DEB := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
PROFILE ?= cpu
# when make started: `make test` prints its whole time, set-up included, at the end
START := $(shell date +%s)

.PHONY: setup data book test lint reproduce reproduce-in-place bench clean

setup: $(VENV)/.installed

# torch 2.14.1 / torchvision 0.29.1 where the machine serves those; otherwise whatever pip finds.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(if $(filter keep,$(TORCH)),--system-site-packages) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(filter keep,$(TORCH)),@echo "TORCH=keep: using $$($(PY) -c 'import torch; print(torch.__version__)')",$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1 || $(PY) -m pip install --quiet 'torch>=2.1' 'torchvision>=0.16')
	$(PY) -m pip install --quiet -e '.[book,test]'
	touch $@

# Fashion-MNIST: Debian's package as root, torchvision's download otherwise.
data: setup
	@if [ -f $(FASHION_MNIST_DEB) ]; then echo "Fashion-MNIST: Debian's files are in place"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q dataset-fashion-mnist || { apt-get update -q && apt-get install -y -q dataset-fashion-mnist; }; \
	else $(PY) -m lossprio.data fashion-mnist; fi

book: setup data
	$(VENV)/bin/jupyter-book build . -W --keep-going

reproduce: setup data
	$(PY) -m lossprio.reproduce --profile $(PROFILE)

reproduce-in-place: setup data
	$(PY) -m lossprio.reproduce --profile $(PROFILE) --in-place

test: setup data lint
	$(PY) -m pytest
	@echo "make test: $$(( $$(date +%s) - $(START) )) s in all, set-up included"

# ruff: lint and format check of the library and the tests (settings in pyproject.toml)
lint: setup
	$(VENV)/bin/ruff check lossprio tests
	$(VENV)/bin/ruff format --check lossprio tests

bench: setup
	$(PY) -m lossprio.bench_data
	$(PY) -m lossprio.bench

clean:
	rm -rf _build
