#!/usr/bin/env bash
# The workspace-pod audit reads spec.hostAliases: Kubernetes writes them into the pod's /etc/hosts,
# which the agent reads before DNS. A pin of the external host to a stale address is
# HOSTS_FILE_OVERRIDE naming the pod; a pin to the truth, or of another name, is silent.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world healthy
kube_fixtures host-aliases
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolv-conf "$RESOLV_CONF" --resolver cluster=system --hosts-file "$WORK/none" $(kube_args)
expect_status 1
assert_report "{f['code'] for f in r['findings'] if f['severity'] == 'error'} == {'HOSTS_FILE_OVERRIDE'}" "only the stale pin is an error"
assert_report "'pod coder-workspace/coder-erin-dev: spec.hostAliases pins coder.example.test to $STALE_IP' in evidence('HOSTS_FILE_OVERRIDE')" \
  "the evidence names the pod and the pinned address"
assert_report "'coder-frank-dev' not in evidence('HOSTS_FILE_OVERRIDE')" "a pin to the truth (and of another name) is silent"
assert_report "[w['host_aliases'] for w in r['workspaces'] if w['pod'] == 'coder-workspace/coder-erin-dev'] == [[{'ip': '$STALE_IP', 'hostnames': ['coder.example.test', 'registry.example.test']}]]" \
  "workspaces[] shows the aliases, names lower-cased"

# without the overlay no pod has hostAliases: no finding
kube_fixtures
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolv-conf "$RESOLV_CONF" --resolver cluster=system --hosts-file "$WORK/none" $(kube_args)
assert_report "'HOSTS_FILE_OVERRIDE' not in codes()" "no hostAliases, no finding"
pass
