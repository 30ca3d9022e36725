# account-lifecycle-operator
IMG ?= account-lifecycle-operator:dev
K8S_VERSION ?= 1.36.3
ETCD_VERSION ?= 3.6.16
CONTAINER_TOOL ?= docker

# Tools are pinned here and built from the Go module proxy into ./bin.
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.7.1
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# golangci-lint with kube-api-linter compiled in (versions in hack/tools/kal/go.mod).
KAL_LINT ?= $(LOCALBIN)/golangci-kal-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)

# The control plane binaries live outside the checkout so fresh clones reuse them.
CONTROL_PLANE = K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/build-control-plane.sh

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from markers.
	$(CONTROLLER_GEN) rbac:roleName=account-lifecycle-operator-manager crd paths="./..." output:crd:artifacts:config=config/crd/bases
	@$(MAKE) --no-print-directory helm-crds

CHART ?= charts/account-lifecycle-operator

.PHONY: helm-crds
helm-crds: ## Copy the generated CRDs, RBAC rules, alerts and dashboard into the Helm chart (manifests does this).
	rm -f $(CHART)/crds/*.yaml
	cp config/crd/bases/*.yaml $(CHART)/crds/
	cp config/rbac/role.yaml $(CHART)/files/role.yaml
	cp config/rbac/decision_roles.yaml $(CHART)/files/decision_roles.yaml
	cp config/rbac/metrics_reader_role.yaml $(CHART)/files/metrics_reader_role.yaml
	cp config/prometheus/rules.yaml $(CHART)/files/prometheus_rules.yaml
	cp config/prometheus/dashboard.json $(CHART)/files/dashboard.json

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) $(KAL_LINT) ## Run golangci-lint (and go vet through it), and kube-api-linter on the API.
	$(GOLANGCI_LINT) run ./...
	$(KAL_LINT) run --config .golangci-kal.yml ./api/...

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## Run golangci-lint and fix what it can.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: control-plane
control-plane: ## Build (once) and cache the local cluster from the Go module proxy: kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok.
	@$(CONTROL_PLANE) --full >/dev/null

# The envtest suites mostly wait on their API servers (the CPU is about a
# third busy with go test's default of one package per core), so make test
# runs four packages at once: 155 s to 93 s on the 2-core machine.
TEST_PACKAGES ?= 4

.PHONY: test
test: manifests generate vet ## Run unit tests and envtest suites against a real kube-apiserver.
	@assets=$$($(CONTROL_PLANE) --full) && \
	echo "envtest: using the control plane, controllers, scheduler and kwok from $$assets" && \
	KUBEBUILDER_ASSETS="$$assets" go test ./... -count=1 -timeout 30m -p $(TEST_PACKAGES)

.PHONY: test-short
test-short: ## Run the pure tests only: no API server needed (tests that need one are skipped).
	go test -short ./... -count=1

.PHONY: test-reliability
test-reliability: manifests generate ## The long reliability suite: a crash after every write of a cycle, the full API error matrix, 200 accounts under leader kills (docs/reliability.md).
	@assets=$$($(CONTROL_PLANE)) && \
	KUBEBUILDER_ASSETS="$$assets" RELIABILITY_LONG=1 go test ./internal/enforcement ./test/e2e -count=1 -timeout 40m -v \
		-run 'TestCrashAfterEveryWriteOfACycle|TestAPIErrorMatrix|TestLeaderKilledDuringAWave' | grep -E '^(--- |PASS|FAIL|ok)|reliability_test'

.PHONY: bench
bench: ## Run benchmarks and print the figures.
	go test ./internal/... -run '^$$' -bench . -benchmem

.PHONY: bench-scale
bench-scale: manifests generate build ## Measure the operator at N accounts (default 1000) against a plain client on a local control plane; ARGS adds flags (docs/performance.md).
	@assets=$$($(CONTROL_PLANE)) && \
	go run ./hack/benchscale --assets "$$assets" --manager bin/manager -n $${N:-1000} --json bench-scale.json $(ARGS)

.PHONY: fuzz
fuzz: ## Fuzz the lifecycle engine for FUZZTIME (default 60s).
	go test ./internal/lifecycle -run '^$$' -fuzz FuzzEvaluate -fuzztime $${FUZZTIME:-60s}

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager ./cmd

.PHONY: plugin
plugin: ## Build the kubectl plugin bin/kubectl-account (put it on PATH: `kubectl account --help`).
	go build -o bin/kubectl-account ./cmd/kubectl-account
	cp hack/kubectl_complete-account bin/

.PHONY: plugin-release
plugin-release: ## Build the plugin's release archives, checksums and krew manifest into dist/ (VERSION=v0.2.0).
	hack/plugin-release.sh $(or $(VERSION),v0.0.0-dev)

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in your kubeconfig.
	go run ./cmd

.PHONY: run-local
run-local: manifests generate ## Start a local cluster (API server, controllers, scheduler, 2 simulated nodes), install CRDs and policies, run the manager.
	@assets=$$($(CONTROL_PLANE) --full) && go build -o $(LOCALBIN)/localrun ./hack/localrun && \
	exec $(LOCALBIN)/localrun --assets "$$assets"

.PHONY: demo
demo: plugin ## The whole story on the local cluster (start make run-local first): Warned, frozen, approved, Terminated with pods gone and access revoked, reinstated.
	hack/demo.sh

# Image build tool, pinned (go install from the module proxy).
CRANE_VERSION ?= v0.22.1
CRANE ?= $(LOCALBIN)/crane-$(CRANE_VERSION)
# A base to pull instead of the one made here (make image BASE=...);
# make image-distroless uses the Dockerfile's pinned distroless base.
BASE ?=
DISTROLESS_BASE ?= gcr.io/distroless/static:nonroot@sha256:e2e927ec666bae08560abb3c55d0659eceabb657f56b6782ab500a9fc7f555e3

$(CRANE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION) && mv $(LOCALBIN)/crane $@

.PHONY: image
image: $(CRANE) ## Build the manager image with crane, no Docker daemon, nothing pulled: dist/image.tar, or with PLATFORM=linux/amd64,linux/arm64 an OCI layout dist/image/ holding one index (IMG=repo:tag, BASE=a base to pull).
	hack/build-image.sh $(CRANE) $(or $(IMG),account-lifecycle-operator:dev) $(or $(PLATFORM),linux/amd64) $(BASE)

.PHONY: image-distroless
image-distroless: BASE = $(DISTROLESS_BASE)
image-distroless: image ## make image on the Dockerfile's digest-pinned distroless base (pulled: needs gcr.io).

.PHONY: docker-build
docker-build: ## Build the container image.
	$(CONTAINER_TOOL) build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install CRDs, admission policies and the operator namespace into the cluster in your kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side --force-conflicts -f -
	kubectl create namespace account-lifecycle-operator-system --dry-run=client -o yaml | kubectl apply --server-side -f -
	kubectl label --overwrite namespace account-lifecycle-operator-system accounts.lifecycle.dev/protected=true
	$(KUSTOMIZE) build config/admission | kubectl apply --server-side --force-conflicts -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove CRDs and admission policies.
	$(KUSTOMIZE) build config/admission | kubectl delete --ignore-not-found -f -
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator (image IMG) to the cluster in your kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side --force-conflicts -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator from the cluster.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

$(KAL_LINT): hack/tools/kal/go.mod hack/tools/kal/main.go | $(LOCALBIN)
	@echo "building golangci-lint with kube-api-linter from the module proxy (first time takes a few minutes)"
	cd hack/tools/kal && go build -o $(abspath $@) .

$(GOLANGCI_LINT): | $(LOCALBIN)
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) from the module proxy (first time takes a few minutes)"
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

$(KUSTOMIZE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $@
