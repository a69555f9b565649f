# Convenience targets; each calls the script that does the work (the scripts need no make).
.PHONY: test run deb check-deb

test:
	./scripts/test.sh

run:
	./scripts/run.sh

deb:
	./scripts/build-deb.sh

check-deb:
	./scripts/check-deb.sh
