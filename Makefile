# Developer entry points. 'make demo' and 'make test' are all a newcomer needs.
GO ?= go

.PHONY: demo test bench lint ginkgo matrix baselines fuzz

# Run the whole catalog, print the results table, and leave one pcapng
# capture and one TLS key log per scenario under out/.
demo:
	$(GO) run ./cmd/tlslab run --pcap out/pcap --keylog out/keylog

# Every test, with the race detector (includes the Ginkgo scenario suite and
# its tshark checks, which skip locally when tshark is missing), then the
# lab/labtest example module's tests.
test:
	$(GO) test -race -count=1 ./...
	cd examples/labtest && $(GO) test -race -count=1 ./...

# The defense matrix as a document: every attack with the hardened defaults
# and with each defense changed alone (1,512 runs, about 3.6 s on 2 cores).
# tlslab writes the document only when the matrix completes, under a
# temporary name renamed into place: an interrupted run leaves it as it was.
matrix:
	$(GO) run ./cmd/tlslab matrix --format markdown --output docs/defense-matrix.md

# Rewrite the catalog's baselines, which 'make test' checks, after a change
# that is meant to flip verdicts; review the diff before committing it. An
# interrupted run writes no baseline, and stops make.
baselines:
	$(GO) run ./cmd/tlslab run --update-baseline scenarios/testdata/baselines/run.json > /dev/null
	$(GO) run ./cmd/tlslab matrix --update-baseline scenarios/testdata/baselines/matrix.json > /dev/null

# Fuzz the scenario file loader (new corpus entries land in
# scenarios/testdata/fuzz/FuzzParseFile).
FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseFile -fuzztime $(FUZZTIME) ./scenarios

# netsim benchmarks only (no tests): the stream and handshake benchmarks,
# then BenchmarkRegistrationStorm once per case with 1,000 hosts (about
# 10 s). STORM=large adds the 10,000-host cases (about 45 s more);
# 'go test -run ^$$ -bench RegistrationStorm/hosts=10000 -benchtime 1x
# ./netsim' runs them alone.
bench:
	$(GO) test -run '^$$' -bench 'Stream|TLSHandshake' -benchmem ./netsim/...
	$(if $(filter large,$(STORM)),NETSIM_STORM_LARGE=1) $(GO) test -run '^$$' -bench RegistrationStorm -benchtime 1x ./netsim

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
