#!/usr/bin/env bash
# DNS is right everywhere, but the pod's hosts file (a forgotten hostAliases entry) pins the
# external name to the stale address. libc and the agent's Go resolver read it before DNS
# (nsswitch `hosts: files dns`), so the agent dials the stale address: HOSTS_FILE_OVERRIDE, in
# diagnose and in the sidecar that shares the pod's hosts file. With the entry removed, or with an
# nsswitch order that asks DNS first, it is silent.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
start_world hosts-override
pod_view=(--resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF")
truth=(--expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP")
line=$(grep -n "coder.example.test" "$HOSTS_FILE" | cut -d: -f1)

diagnose "${pod_view[@]}" --resolver cluster=system --resolver "upstream=$UPSTREAM_DNS" --resolver "public=$PUBLIC_DNS" "${truth[@]}"
expect_status 1
assert_report "{f['code'] for f in r['findings'] if f['severity'] == 'error'} == {'HOSTS_FILE_OVERRIDE'}" \
  "the only error is the hosts file (DNS is right, and the stale path is the hosts file's doing)"
assert_report "'$HOSTS_FILE:$line' in evidence('HOSTS_FILE_OVERRIDE') and '$HOSTS_FILE:$line' in finding('HOSTS_FILE_OVERRIDE')['remediation']" \
  "the finding names the file and the line"
assert_report "dns('coder.example.test', 'cluster', query='hosts')['addresses'] == ['$STALE_IP'] and dns('coder.example.test', 'cluster', query='hosts')['match'] is False" \
  "the hosts-file answer is in dns[] with query hosts, compared with the truth"
assert_report "dns('coder.example.test', 'cluster', 'AAAA', query='hosts')['status'] == 'nodata'" \
  "a name in the hosts file gets no AAAA from DNS either (no fall-through)"
assert_report "dns('coder.example.test', 'cluster')['match'] is True" "the DNS answer itself is right"
assert_report "any(h['address'] == '$STALE_IP' and h['resolvers'] == ['cluster/hosts'] and not h['ok'] for h in http('$EXTERNAL_URL', 'dns'))" \
  "the path the agent really takes is checked, and it fails"
assert_report "[x['hosts_file'] for x in r['resolvers'] if x['label'] == 'cluster'] == ['$HOSTS_FILE']" "the resolver says it reads the file"
assert_report "not any(d['query'] == 'hosts' for d in r['dns'] if d['resolver'] != 'cluster')" "only system resolvers read it"

# nsswitch asking DNS first: the file decides nothing
printf 'hosts: dns files\n' >"$WORK/nsswitch-dns-first"
diagnose --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$WORK/nsswitch-dns-first" \
  --resolver cluster=system "${truth[@]}"
expect_status 0
assert_report "not any(d['query'] == 'hosts' for d in r['dns'])" "dns before files: no hosts-file answer"

# no nsswitch.conf at all: files then dns, as glibc and Go default
diagnose --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$WORK/absent" --resolver cluster=system "${truth[@]}"
expect_status 1
assert_report "'HOSTS_FILE_OVERRIDE' in codes()" "default order reads the file first"

# the entry removed: healthy
bash "$SANDBOX" switch healthy
diagnose "${pod_view[@]}" --resolver cluster=system "${truth[@]}"
expect_status 0
assert_report "not any(d['query'] == 'hosts' for d in r['dns'])" "no entry, no hosts-file row"

# the sidecar, in the same pod, sees what its agent sees
bash "$SANDBOX" switch hosts-override
export CODER_AGENT_URL="$EXTERNAL_URL"
export CODER_DNS_DOCTOR_RESOLV_CONF="$RESOLV_CONF" CODER_DNS_DOCTOR_HOSTS_FILE="$HOSTS_FILE"
export CODER_DNS_DOCTOR_NSSWITCH_CONF="$NSSWITCH_CONF" CODER_DNS_DOCTOR_CA_FILE="$CA_FILE"
export CODER_DNS_DOCTOR_INTERNAL_URL="$INTERNAL_URL" CODER_DNS_DOCTOR_EXPECT="coder.example.test=$INGRESS_IP"
serve_start sidecar --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200
scrape "$WORK/m.txt"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_finding', code='HOSTS_FILE_OVERRIDE', severity='error') == 1" \
  "the sidecar reports the hosts-file override"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_dns_answer_match', host='coder.example.test', resolver='cluster/hosts', family='A') == 0" \
  "the hosts-file answer is exported as resolver <label>/hosts"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_verdict', verdict='broken') == 1" "broken"
expect_clean_stop
pass
