#!/usr/bin/env bash
# Regenerates the bundled samples in data/ (deterministic: same bytes every time).
set -euo pipefail
cd "$(dirname "$0")/.."
small=(--blocks 2500 --guarantees 1 --chunks 1 --executors 1 --approvals 1)
node bin/spork-replay.js synth --out data/sample.spork --seed sample "${small[@]}"
node bin/spork-replay.js synth --out data/incident.spork --seed sample "${small[@]}" \
  --faults state-mismatch,bad-seal,payload-mismatch,unsupported-version
