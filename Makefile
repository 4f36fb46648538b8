# Shortcuts for the scripts the README names.
.PHONY: setup demo test bench clean

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench: setup
	.venv/bin/python benchmarks/bench_kernels.py

clean:
	rm -rf .venv build cyext/*.c cyext/*.so *.egg-info
