# Parrain: `make dev` runs everything, `make test` runs every test.
# Both start Postgres and Redis when they are not reachable (scripts/stack.sh).

SHELL := /bin/bash
GO    ?= go
LOCAL := .local

# Development-only credentials: the simulator plays Shopify with the same
# pair. Never use them for a real shop. The simulators listen on 127.0.0.1,
# which the WooCommerce SSRF guard refuses unless told otherwise.
DEV_ENV := SHOPIFY_API_KEY=parrain-dev-key \
	SHOPIFY_API_SECRET=parrain-dev-secret \
	ENCRYPTION_KEY=dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM= \
	APP_URL=http://127.0.0.1:8080 LISTEN_ADDR=127.0.0.1:8080 \
	SHOPIFY_API_ORIGIN=http://127.0.0.1:8090 \
	WOOCOMMERCE_ALLOW_PRIVATE_STORES=true \
	METRICS_TOKEN=parrain-dev-metrics-token \
	SMTP_URL='smtp://127.0.0.1:1025?tls=none' EMAIL_FROM=rewards@parrain.dev

.PHONY: dev test stack build vet bench bench-intake bench-console bench-store fuzz chaos stop clean

stack:
	@scripts/stack.sh up

build:
	@mkdir -p bin
	$(GO) build -o bin/parrain ./cmd/parrain
	$(GO) build -o bin/shopify-sim ./cmd/shopify-sim
	$(GO) build -o bin/mail-sim ./cmd/mail-sim

## dev: Postgres + Redis, migrations, the Shopify simulator with a demo shop,
## the app (serve + work), and the demo shop installed through real OAuth.
dev: stack build
	@source $(LOCAL)/stack.env && export DATABASE_URL REDIS_URL && export $(DEV_ENV) && \
	  bin/parrain migrate up && \
	  scripts/dev.sh

## test: every test, against real Postgres and Redis, and the widget in
## headless chromium; prints the widget's gzipped size (fails over budget).
test: stack
	@scripts/browser-deps.sh
	@scripts/extensions-check.sh
	@scripts/plugin-check.sh
	@source $(LOCAL)/stack.env && \
	  unformatted=$$(gofmt -l cmd app integrations jobs migrations widget 2>/dev/null); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi; \
	  $(GO) vet ./... && \
	  (cd widget && $(GO) run ./internal/gen -check) && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -count=1 -timeout 30m ./... && \
	  echo "benchmarks, once each on small data (a broken one fails here; figures: make bench):" && \
	  BENCH_SMALL=1 TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 5m ./...

## bench-intake: webhook intake throughput and latency vs. the raw insert rate.
bench-intake: stack build
	@source $(LOCAL)/stack.env && export $(DEV_ENV) && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL REDIS_URL=$$REDIS_URL scripts/bench-intake.sh

## bench: Go benchmarks (attribution with 100k advocates, /r/{code} and widget
## latency, webhook-to-referral detection at rest, signed events delivered per
## second to a local endpoint, emails/s for 10,000 reward emails to the
## loopback SMTP server, the replay of a rule change over 100,000 orders).
bench: stack
	@source $(LOCAL)/stack.env && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'Attribution|ReferralRedirect|WidgetSession' -benchtime 1500x ./app/stack && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'Detection' -benchtime 30x ./app/stack && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'EventDelivery' -benchtime 2x ./app/stack && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'RewardEmails' -benchtime 1x -timeout 20m ./app/stack && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'Replay' -benchtime 1x -timeout 20m ./app/postgres

## bench-console: the review queue and dashboard with 1M referrals (p50/p99).
bench-console: stack
	@source $(LOCAL)/stack.env && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench ConsoleAtScale -benchtime 100x -timeout 30m ./app/stack

## bench-store: 5,000 new advocates on one shop with a Standard plan's
## Admin API budget while a second shop receives 60 friends' orders: codes
## per second, share of the budget spent, THROTTLED answers, the second
## shop's order-to-referral p50/p99 (BENCH_STORE_ADVOCATES=n for fewer,
## BENCH_WORKERS=n for the worker's concurrency); then the store stage
## alone: as many codes already waiting, put in the store by bulk adds.
bench-store: stack
	@source $(LOCAL)/stack.env && \
	  TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$$REDIS_URL $(GO) test -run '^$$' -bench 'StoreBudget|FriendCodeStore' -benchtime 1x -timeout 60m ./app/stack

## fuzz: each Go fuzz target for FUZZTIME (default 30s); `make test` runs
## their seeds and testdata/fuzz regressions only. A crash is kept in the
## package's testdata/fuzz as a regression seed.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./integrations/shopify:FuzzParseOrderEvent \
	./integrations/shopify:FuzzParseRefundEvent \
	./integrations/woocommerce:FuzzParseOrder \
	./integrations/woocommerce:FuzzDeliveryKey \
	./app/attribution:FuzzNormalizeIdentity \
	./app/attribution:FuzzAttributionInputs \
	./app/httpapi:FuzzWidgetSession
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz: $$fn ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## chaos: kill -9, Redis and Postgres restarts under a webhook burst; its own
## Postgres/Redis under .local/chaos; exits non-zero on any loss or double.
## CHAOS_ORDERS (default 5000), CHAOS_KILLS (kills of each process kind).
CHAOS_ORDERS ?= 5000
CHAOS_KILLS ?= 3
chaos: build
	$(GO) run ./cmd/chaos -orders $(CHAOS_ORDERS) -kills $(CHAOS_KILLS) -dir $(LOCAL)/chaos -bin bin

## stop: stop project-local Postgres/Redis started by scripts/stack.sh.
stop:
	@scripts/stack.sh down

clean: stop
	rm -rf bin $(LOCAL)
