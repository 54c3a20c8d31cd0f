# Developer entry points. 'make demo' and 'make test' are all a newcomer needs.
GO ?= go

.PHONY: demo test bench lint ginkgo

# Run the whole catalog, print the results table, and leave one pcapng
# capture and one TLS key log per scenario under out/.
demo:
	$(GO) run ./cmd/tlslab run --pcap out/pcap --keylog out/keylog

# Every test, with the race detector (includes the Ginkgo scenario suite and
# its tshark checks, which skip locally when tshark is missing).
test:
	$(GO) test -race -count=1 ./...

# netsim benchmarks only (no tests).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./netsim/...

# Fails when a file is not gofmt-formatted, then runs go vet.
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need 'gofmt -w':"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...

# The scenario suite through the Ginkgo CLI, specs spread over processes.
ginkgo:
	$(GO) tool ginkgo -p -race ./scenarios
