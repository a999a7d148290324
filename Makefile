# Shortcuts for the README's two commands; dev.py does the work.
# make test ARGS="-k grids -x" passes arguments on to pytest.
PYTHON ?= python3

.PHONY: run test

run:
	$(PYTHON) dev.py run

test:
	$(PYTHON) dev.py test $(ARGS)
