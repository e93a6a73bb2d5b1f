#!/bin/sh
# Registers journey-executor's custom search attributes on the namespace.
# Runs in temporalio/admin-tools as the one-shot `temporal-search-attributes` service, after the namespace
# exists. Idempotent: the CLI accepts attributes that already exist with the same type (the server skips them);
# an attribute that exists with a DIFFERENT type is a real conflict and fails this service.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SLEEP_SECONDS:-2}"
NAMES="ConsumerId JourneyId JourneyStep JourneyVersion JourneyStatus"

retry_or_fail() {
  if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
    echo "$1 (gave up after $MAX_ATTEMPTS attempts)" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$SLEEP_SECONDS"
}

echo "Waiting for namespace '$NAMESPACE' at $ADDRESS..."
attempt=1
until temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; do
  retry_or_fail "Namespace '$NAMESPACE' is not available"
done

# --name and --type are repeatable and paired by position.
attempt=1
while :; do
  if output=$(temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" \
    --name ConsumerId --type Keyword \
    --name JourneyId --type Keyword \
    --name JourneyStep --type Keyword \
    --name JourneyVersion --type Int \
    --name JourneyStatus --type Keyword 2>&1); then
    echo "$output"
    break
  fi
  case "$output" in
    *"different type"*)
      echo "$output" >&2
      exit 1
      ;;
    *"already exists"*)
      echo "Search attributes already registered"
      break
      ;;
  esac
  echo "$output" >&2
  retry_or_fail "Could not register search attributes"
done

# Confirm every attribute is visible on the namespace (the namespace cache refreshes within seconds).
attempt=1
while :; do
  listing=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" 2>&1 || true)
  missing=""
  for name in $NAMES; do
    printf '%s\n' "$listing" | grep -qw "$name" || missing="$missing $name"
  done
  if [ -z "$missing" ]; then
    echo "Search attributes registered on '$NAMESPACE': $NAMES"
    break
  fi
  retry_or_fail "Search attributes missing on '$NAMESPACE':$missing"
done
