#!/bin/sh
# One-shot namespace and search-attribute setup (compose service `temporal-init`, image temporalio/admin-tools).
# Also usable against any existing cluster: TEMPORAL_ADDRESS=host:7233 TEMPORAL_NAMESPACE=ns sh init-namespace.sh
# (the `temporal` CLI also reads TEMPORAL_API_KEY and TEMPORAL_TLS_* from the environment).
#
# 1. waits for `temporal operator cluster health`;
# 2. creates the namespace unless `namespace describe` finds it;
# 3. creates every floe search attribute (src/shared/search-attributes.ts), treating "already exists" as done
#    (servers also answer success for an existing attribute of the same type) and another type as an error;
# 4. waits until a visibility query on each attribute is accepted, so the first worker's schedule sync and
#    first run do not race the server's search-attribute cache.
# Safe to run again.
set -eu

NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-7d}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"

# floe's search attributes, NAME=TYPE: keep in step with src/shared/search-attributes.ts (a unit test checks).
FLOE_SEARCH_ATTRIBUTES="FloeSchedule=Keyword FloeJob=Keyword FloeStateId=Keyword FloeEnvironment=Keyword FloeTrigger=Keyword FloeConfigHash=Keyword"

# Like upstream's create-namespace.sh: talk to the IPv4 address, since some Docker setups resolve the service
# name to an address the server does not listen on.
host="${ADDRESS%:*}"
port="${ADDRESS##*:}"
ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)"
if [ -n "$ip" ]; then ADDRESS="${ip}:${port}"; fi
export TEMPORAL_ADDRESS="$ADDRESS"

# Runs "$@" until it succeeds, at most $1 times, 2 s apart; prints the last output when it never does.
retry() {
  max="$1"
  shift
  n=0
  until out="$("$@" 2>&1)"; do
    n=$((n + 1))
    if [ "$n" -ge "$max" ]; then
      echo "$out" >&2
      return 1
    fi
    sleep 2
  done
}

echo "Waiting for the Temporal server at ${ADDRESS}..."
retry 90 temporal operator cluster health || {
  echo "The Temporal server at ${ADDRESS} did not report healthy within 3 minutes; check the temporal service logs." >&2
  exit 1
}

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "Namespace '${NAMESPACE}' exists."
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "Namespace '${NAMESPACE}' created (retention ${RETENTION})."
fi

for pair in $FLOE_SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  n=0
  # A namespace created a moment ago may not be visible to every server component yet: retry other errors.
  while :; do
    if out="$(temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1)"; then
      echo "Search attribute ${name} (${type}) created."
      break
    fi
    case "$out" in
      *"different type"*)
        echo "Search attribute ${name} exists in namespace '${NAMESPACE}' with another type (${out}); floe needs ${type}: remove it or use another namespace." >&2
        exit 1
        ;;
      *"already exists"* | *"already registered"*)
        echo "Search attribute ${name} exists."
        break
        ;;
    esac
    n=$((n + 1))
    if [ "$n" -ge 30 ]; then
      echo "Creating search attribute ${name} in namespace '${NAMESPACE}' failed: ${out}" >&2
      exit 1
    fi
    sleep 2
  done
done

for pair in $FLOE_SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  retry 60 temporal workflow count --namespace "$NAMESPACE" --query "${name} = 'floe-init-check'" || {
    echo "Search attribute ${name} is still not queryable in namespace '${NAMESPACE}' after 2 minutes." >&2
    exit 1
  }
done
echo "Namespace '${NAMESPACE}' is ready for floe."
