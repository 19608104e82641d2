# The two commands a new user needs: `make run` and `make test`.
GO ?= go

.PHONY: run build test gen gen-check lint-spec vet swagger-ui

## run: serve the API on 127.0.0.1:8080 with the SQLite file protocol.db (created on first start)
run:
	$(GO) run ./cmd/protocol serve

## build: build the binary into bin/protocol
build:
	$(GO) build -o bin/protocol ./cmd/protocol

## test: every check: generated code up to date, spec lint, vet, and all tests with the race detector
## on SQLite; then the API tests again on PostgreSQL, if PROTOCOL_TEST_POSTGRES names a database
## (scripts/with-postgres make test starts a throwaway one)
test: gen-check lint-spec vet
	PROTOCOL_TEST_STORE=sqlite $(GO) test -race -count=1 ./...
	GO=$(GO) scripts/test-postgres

## gen: regenerate from openapi.yaml: gen/, the Go client and the TypeScript client's types
gen:
	$(GO) generate ./gen ./clients/go/protocolclient
	cd clients/typescript && { [ -d node_modules ] || npm ci --no-audit --no-fund --ignore-scripts; } && npm run --silent gen

## swagger-ui: copy the Swagger UI files /docs serves from the pinned swagger-ui-dist package
swagger-ui:
	scripts/swagger-ui

gen-check:
	scripts/check-gen
	scripts/swagger-ui --check

lint-spec:
	scripts/lint-spec

vet:
	$(GO) vet ./...

## bench: load-test the server at 10,000 contacts beside a bare Echo floor (under two minutes)
## bench-large: the same at 10,000 and at 1,000,000 contacts, into bench/results/latest-large.json
.PHONY: bench bench-large
bench:
	$(GO) run ./bench

bench-large:
	$(GO) run ./bench -sizes 10000,1000000 -out bench/results/latest-large.json

## fuzz: fuzz each target of ./server in turn for FUZZTIME (default 30s); a failure stops the run
FUZZTIME ?= 30s
FUZZ_TARGETS = FuzzCreateContact FuzzUpdateContact FuzzCreateConversation FuzzUpdateConversation FuzzListQuery
.PHONY: fuzz
fuzz:
	@set -e; for target in $(FUZZ_TARGETS); do \
		echo "== $$target"; \
		$(GO) test ./server -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME); \
	done
