#!/bin/sh
# Waits until the Temporal server reports SERVING, then creates the namespace if it does not exist.
# Runs in temporalio/admin-tools as the one-shot `temporal-create-namespace` service; idempotent.
# Modelled on temporalio/samples-server compose/scripts/create-namespace.sh.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-72h}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SLEEP_SECONDS:-2}"

retry_or_fail() {
  if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
    echo "$1 (gave up after $MAX_ATTEMPTS attempts)" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$SLEEP_SECONDS"
}

echo "Waiting for the Temporal server at $ADDRESS to be healthy..."
attempt=1
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  retry_or_fail "Temporal server at $ADDRESS is not healthy"
done

attempt=1
while :; do
  if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
    echo "Namespace '$NAMESPACE' exists"
    break
  fi
  if temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"; then
    echo "Namespace '$NAMESPACE' created (retention $RETENTION)"
    break
  fi
  retry_or_fail "Could not create namespace '$NAMESPACE'"
done
