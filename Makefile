# The two commands of the Quick start are `make demo` and `make test`; both set everything up first.
PY := .venv/bin/python
DEMO_REQUEST := What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list the named entities in it.

.PHONY: setup protos check-protos lint typecheck unit service integration k8s-validate k8s-run test demo up down bench

setup:
	scripts/setup.sh

protos: setup
	scripts/gen_protos.sh

# CI fails when the committed generated package differs from what the protos produce.
check-protos: setup
	scripts/gen_protos.sh
	git diff --exit-code -- hugginggpt/v1 || { echo "generated code is stale: run 'make protos' and commit"; exit 1; }
	test -z "$$(git status --porcelain -- hugginggpt/v1)" || { echo "untracked generated files: run 'make protos'"; exit 1; }
	.venv/bin/buf lint

lint: setup
	.venv/bin/ruff check .

typecheck: setup
	.venv/bin/mypy hugginggpt services gateway edge hugginggpt_cli

unit: setup
	$(PY) -m pytest -q tests/unit

service: setup
	$(PY) -m pytest -q tests/service

k8s-validate: setup
	scripts/k8s_validate.sh

# Images built with podman, every workload of k8s/overlays/cpu run as its manifest says, the demo asked
# through the gateway pod (root, Debian; not a cluster: see scripts/k8s_run.py). Not part of `make test`.
k8s-run: setup
	scripts/k8s_run.sh

integration: setup
	$(PY) -m pytest -q -m integration tests/integration

test: setup check-protos lint typecheck
	$(PY) -m pytest -q -m "not integration" tests/unit tests/service
	$(MAKE) k8s-validate
	$(PY) -m pytest -q -m integration tests/integration

demo: setup
	.venv/bin/hugginggpt up
	.venv/bin/hugginggpt ask "$(DEMO_REQUEST)" --file examples/media/invoice_text.png --file examples/media/speech_fox.wav --out out/demo; \
	  status=$$?; .venv/bin/hugginggpt down; exit $$status

up: setup
	.venv/bin/hugginggpt up

down:
	.venv/bin/hugginggpt down
