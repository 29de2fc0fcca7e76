# Two commands on a fresh machine:
#   make demo   creates .venv, installs the pinned dependencies, runs real predictions with the shipped checkpoints
#   make test   the same set-up, then the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The shared data folder beside the checkout, when it exists; override with ZOO_DATA_DIR=...
ZOO_DATA_DIR ?= $(firstword $(wildcard $(abspath ../shared/datasets)))
export ZOO_DATA_DIR
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: venv demo test test-fast cards bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: venv
	$(BIN)/zoo list
	$(BIN)/zoo predict imdb-bigru "A wonderful, moving film with a superb cast." "Dull, predictable and far too long. I want my two hours back."
	$(BIN)/python -c "import zoo; print(zoo.pipeline('imdb-lstm')(['One of the best films I have seen this year.', 'The plot made no sense and the acting was wooden.']))"
	$(BIN)/zoo predict udpos-bilstm "I love football." "She didn't book the flight to Paris yesterday."
	$(BIN)/zoo predict image-caption-lstm-attention examples/images/astronaut.jpg examples/images/grace_hopper.jpg examples/images/cat.jpg
	$(BIN)/zoo predict conll03-bilstm-crf "Barack Obama visited Paris with Angela Merkel." "Manchester United signed a striker from Ajax Amsterdam on Friday."
	$(BIN)/zoo predict spa-eng-gru-attention "¿Dónde está la biblioteca?" "Hace frío." "Mañana voy a visitar a mis abuelos con mi hermana."
	$(BIN)/zoo predict names-char-rnn Nakamura Schmidt "O'Brien" Dvořák
	$(BIN)/python -c "import zoo; from zoo.data import fsdd; clip = fsdd.local_recording('7_jackson_0.wav'); print('fsdd-gru, 7_jackson_0.wav of the FSDD test split:', zoo.pipeline('fsdd-gru')(clip) if clip else 'skipped (no fsdd/ in ZOO_DATA_DIR)')"
	$(BIN)/python -c "import zoo; from zoo.data import mnist; t = mnist.load('test', limit=10); print('MNIST test digits:', t.labels.tolist()); print('mnist-row-lstm reads:', [int(r['label']) for r in zoo.pipeline('mnist-row-lstm')(list(t.images))])"
	$(BIN)/zoo predict jsb-chorales-lstm --seed-chorale 0 --out "$${TMPDIR:-/tmp}/chorale.mid"
	$(BIN)/zoo predict shakespeare-char-lstm "ROMEO:" --max-chars 200 --seed 0
	$(BIN)/zoo predict imdb-lm-lstm "This movie was" --max-words 50 --seed 0
	$(BIN)/zoo predict imdb-lstm-lm-ft "A wonderful, moving film with a superb cast." "Dull, predictable and far too long. I want my two hours back."
	$(BIN)/python -c "import zoo; from zoo.data import captcha; t = captcha.load('test', limit=5); print('captcha test labels:', list(t.labels)); print('captcha-crnn-ctc reads:', [r['text'] for r in zoo.pipeline('captcha-crnn-ctc')(list(t.images))])"

test: venv
	$(BIN)/python -m pytest -q -ra --durations=15 -n 2 --dist loadfile  # two workers, one test file each at a time

test-fast: venv
	$(BIN)/python -m pytest -q -ra -m "not slow"

cards: venv
	$(BIN)/python -m zoo._cards

bench: venv
	$(BIN)/python benchmarks/bench_imdb.py

clean:
	rm -rf $(VENV) .pytest_cache
