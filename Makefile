.PHONY: run test setup bench screenshots
run:   ## set up, then run the whole service in the foreground
	scripts/run.sh
test:  ## set up, then run the whole test suite
	scripts/test.sh
setup: ## only set up (idempotent)
	scripts/setup.sh
screenshots: ## run the browser tests, then copy their screenshots into docs/screenshots/
	scripts/screenshots.sh --run
