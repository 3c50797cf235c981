#!/usr/bin/env bash
# From observed traffic to enforced policy on the guide's two clusters (docs/flows-to-policy.md).
#
#   examples/flows-to-policy/walkthrough.sh [WORKDIR]
#
# Permissive start (with L7 visibility), traffic, `hubble observe -o json` to a file,
# `policy generate --l7`, a replay showing nothing would break, apply under audit, more traffic,
# the audit report, promotion, and a second replay after a deliberately over-tight edit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
export CMESH_HOME="$work/home"
cmesh() { "${CMESH:-$repo/.venv/bin/cmesh}" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }
run() { say "cmesh $*"; cmesh "$@"; }

# -- the guide's two clusters, permissive, with L7 visibility ----------------------------------
for i in 1 2; do
  cmesh install --context cluster-$i --cluster-name cluster-$i --cluster-id $i --ipam kubernetes >/dev/null
  cmesh clustermesh enable --context cluster-$i >/dev/null
done
cmesh clustermesh connect --context cluster-1 --destination-context cluster-2 >/dev/null
for c in cluster-1 cluster-2; do
  cmesh apply --context $c -f "$repo/examples/seed/payment.yaml" -f "$repo/examples/seed/workloads.yaml" \
    -f "$here/visibility.yaml" >/dev/null
done
cmesh dns add example.com 93.184.216.34 >/dev/null

traffic() {
  cmesh exec --context cluster-1 default/frontend -- curl -s http://payment-service/health
  cmesh exec --context cluster-1 default/frontend -- curl -s http://api:8080/api/v1/orders/123
  cmesh exec --context cluster-1 default/frontend -- curl -s -X POST http://api:8080/api/v1/orders/456
  cmesh exec --context cluster-2 default/frontend -- curl -s http://payment-service/health
  cmesh exec --context cluster-1 default/api -- nc -z -w 3 database 5432
  cmesh exec --context cluster-1 default/client -- curl -s http://example.com/
}
say "traffic (curl, nc, DNS) in both clusters"
traffic >/dev/null 2>&1 || true

run hubble observe --all-clusters --all -o json > "$work/flows.json"
echo "$(wc -l < "$work/flows.json") flows in $work/flows.json"
# watching is over: the visibility policy's L7 wildcard allows must not outlive it (ref §2.4)
for c in cluster-1 cluster-2; do cmesh delete --context $c -f "$here/visibility.yaml" >/dev/null; done

run policy generate "$work/flows.json" --all-clusters --l7 -o "$work/generated"
run replay "$work/flows.json" --all-clusters --policies "$work/generated"

say "apply the generated policies (audited) and run the traffic again, plus one new connection"
for c in cluster-1 cluster-2; do cmesh apply --context $c -f "$work/generated/$c"; done
extra() { cmesh exec --context cluster-1 default/frontend -- curl -s -m 2 http://example.com/; }
traffic >/dev/null 2>&1 || true
extra >/dev/null 2>&1 || true

pick() {  # audited policies of the report on stdin: "clean" or "dirty", as CLUSTER:NS/NAME
  python3 -c '
import json, sys
want = sys.argv[1] == "clean"
print(" ".join("%s:%s/%s" % (e["cluster"], e["namespace"], e["name"])
               for e in json.load(sys.stdin) if e["clean"] == want))' "$1"
}
run policy audit-report --all-clusters
dirty=$(cmesh policy audit-report --all-clusters -o json | pick dirty)
first_dirty="${dirty%% *}"
if [ -n "$first_dirty" ]; then
  say "cmesh policy promote --context ${first_dirty%%:*} ${first_dirty#*:}   # refused: not clean"
  cmesh policy promote --context "${first_dirty%%:*}" "${first_dirty#*:}" || echo "(exit $?)"
fi

say "the audit saw traffic the first log missed: regenerate from everything observed so far"
run hubble observe --all-clusters --all -o json > "$work/flows-2.json"
run policy generate "$work/flows-2.json" --all-clusters --l7 -o "$work/generated-2"
run replay "$work/flows-2.json" --all-clusters --policies "$work/generated-2"
for c in cluster-1 cluster-2; do cmesh apply --context $c -f "$work/generated-2/$c" >/dev/null; done
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
traffic >/dev/null 2>&1 || true
extra >/dev/null 2>&1 || true
run policy audit-report --all-clusters --since "$since"
for c in cluster-1 cluster-2; do
  names=$(cmesh policy audit-report --context $c --since "$since" -o json | pick clean | tr ' ' '\n' | sed 's/^[^:]*://' | tr '\n' ' ')
  if [ -n "${names// /}" ]; then run policy promote --context $c --since "$since" $names; fi
done

say "a deliberately over-tight edit: cluster-2's payment policy loses the cluster of its peers"
cp -r "$work/generated-2" "$work/tight"
python3 - "$work/tight/cluster-2/default-payment-generated.yaml" <<'PY'
import sys, yaml
p = sys.argv[1]
doc = yaml.safe_load(open(p))
for el in doc["spec"]["ingress"]:
    for sel in el.get("fromEndpoints", []):
        sel["matchLabels"].pop("io.cilium.k8s.policy.cluster", None)
        sel["matchLabels"].pop("k8s:io.kubernetes.pod.namespace", None)
open(p, "w").write(yaml.safe_dump(doc, sort_keys=False))
PY
diff -u "$work/generated-2/cluster-2/default-payment-generated.yaml" "$work/tight/cluster-2/default-payment-generated.yaml" || true
set +e
run replay "$work/flows-2.json" --all-clusters --policies "$work/tight"
echo "(exit $?)"
