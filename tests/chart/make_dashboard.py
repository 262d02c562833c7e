#!/usr/bin/env python3
"""Write charts/coder-dns-doctor/files/dashboard.json (the Grafana dashboard) from the panel table
below, so the JSON stays regular. Run it after editing; tests/chart checks the file is up to date
(--check) and that every metric it queries exists in a real /metrics scrape of serve."""
import json
import pathlib
import sys

SEL = 'job=~"$job", node=~"$node"'
DS = {"type": "prometheus", "uid": "${datasource}"}

# (title, type, width, height, description, [(expr, legend)], extra field config / options)
PANELS = [
    ("Verdict", "stat", 6, 5,
     "The last cycle's verdict per prober: healthy, degraded (warnings) or broken (errors).",
     [(f'max by (verdict) (coder_dns_doctor_verdict{{{SEL}}} == 1)', "{{verdict}}")],
     {"options": {"textMode": "name", "colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}},
      "fieldConfig": {"defaults": {"mappings": [], "color": {"mode": "fixed", "fixedColor": "blue"}},
                      "overrides": [
                          {"matcher": {"id": "byName", "options": "healthy"},
                           "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "green"}}]},
                          {"matcher": {"id": "byName", "options": "degraded"},
                           "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "orange"}}]},
                          {"matcher": {"id": "byName", "options": "broken"},
                           "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}]}}),
    ("Active findings", "table", 18, 5,
     "Findings of the last cycle (finding codes: README). `curl <pod>:9816/report` shows their evidence and remediation.",
     [(f'max by (code, severity, node) (coder_dns_doctor_finding{{{SEL}}})', "")],
     {"options": {"showHeader": True},
      "transformations": [{"id": "labelsToFields", "options": {}},
                          {"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True}}}]}),
    ("Answer matches truth, per resolver", "state-timeline", 24, 9,
     "1 (green) when the answer of `resolver` for `host` stayed inside the truth Kubernetes (or --expect) gives; "
     "0 (red) when it did not: the field report's stale record. `<label>/search` is the relative-name lookup "
     "(search list + ndots).",
     [(f'min by (host, resolver, family, node) (coder_dns_doctor_dns_answer_match{{{SEL}}})',
       "{{host}} via {{resolver}} ({{family}}) {{node}}")],
     {"options": {"showValue": "never", "mergeValues": True},
      "fieldConfig": {"defaults": {"min": 0, "max": 1, "mappings": [
          {"type": "value", "options": {"0": {"text": "mismatch", "color": "red"},
                                        "1": {"text": "match", "color": "green"}}}]}, "overrides": []}}),
    ("Lookup succeeded", "state-timeline", 12, 8,
     "0 on NXDOMAIN, SERVFAIL, REFUSED, timeout or error.",
     [(f'min by (host, resolver, family, node) (coder_dns_doctor_dns_lookup_success{{{SEL}}})',
       "{{host}} via {{resolver}} ({{family}}) {{node}}")],
     {"options": {"showValue": "never", "mergeValues": True},
      "fieldConfig": {"defaults": {"min": 0, "max": 1, "mappings": [
          {"type": "value", "options": {"0": {"text": "failed", "color": "red"},
                                        "1": {"text": "ok", "color": "green"}}}]}, "overrides": []}}),
    ("Mismatching cycles (1h)", "timeseries", 12, 8,
     "Cycles in the last hour whose answer fell outside the truth, per host and resolver.",
     [(f'sum by (host, resolver, node) (increase(coder_dns_doctor_dns_mismatch_total{{{SEL}}}[1h]))',
       "{{host}} via {{resolver}} {{node}}")],
     {"fieldConfig": {"defaults": {"unit": "short", "min": 0}, "overrides": []}}),
    ("DNS lookup latency (p50, p95)", "timeseries", 12, 8,
     "Per resolver, from the lookup-duration histogram.",
     [(f'histogram_quantile(0.95, sum by (le, resolver) (rate(coder_dns_doctor_dns_lookup_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))',
       "p95 {{resolver}}"),
      (f'histogram_quantile(0.5, sum by (le, resolver) (rate(coder_dns_doctor_dns_lookup_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))',
       "p50 {{resolver}}")],
     {"fieldConfig": {"defaults": {"unit": "s", "min": 0}, "overrides": []}}),
    ("Answer TTL", "timeseries", 12, 8,
     "Minimum TTL of each answer: a mismatch that outlives it is not a cache artefact.",
     [(f'min by (host, resolver, family) (coder_dns_doctor_dns_answer_ttl_seconds{{{SEL}}})',
       "{{host}} via {{resolver}} ({{family}})")],
     {"fieldConfig": {"defaults": {"unit": "s", "min": 0}, "overrides": []}}),
    ("/healthz per path", "state-timeline", 24, 8,
     "Coder's /healthz through each path: `dns` (the addresses resolvers gave), `pinned` (the truth addresses), "
     "`internal` (the in-cluster Service URL). dns down while pinned is up: DNS is the cause.",
     [(f'min by (url, via, node) (coder_dns_doctor_http_up{{{SEL}, url=~".*/healthz"}})', "{{url}} via {{via}} {{node}}")],
     {"options": {"showValue": "never", "mergeValues": True},
      "fieldConfig": {"defaults": {"min": 0, "max": 1, "mappings": [
          {"type": "value", "options": {"0": {"text": "down", "color": "red"},
                                        "1": {"text": "up", "color": "green"}}}]}, "overrides": []}}),
    ("Transport checks per path", "state-timeline", 24, 9,
     "What a workspace agent needs beyond /healthz, per URL, path (`via`) and check: `derp-map-websocket` and "
     "`derp-websocket` (WebSockets pass the path), `derp-upgrade` (Upgrade: DERP passes; when only this one fails, "
     "DERP falls back to WebSockets), `agent-binary` (the agent download), `agent-api` (coderd and its database "
     "answer the agent route). Red with /healthz green: a proxy in the path (docs/transport.md).",
     [(f'min by (url, via, check, node) (coder_dns_doctor_transport_up{{{SEL}}})',
       "{{check}} {{url}} via {{via}} {{node}}")],
     {"options": {"showValue": "never", "mergeValues": True},
      "fieldConfig": {"defaults": {"min": 0, "max": 1, "mappings": [
          {"type": "value", "options": {"0": {"text": "failed", "color": "red"},
                                        "1": {"text": "ok", "color": "green"}}}]}, "overrides": []}}),
    ("HTTP latency p95 per path", "timeseries", 12, 8,
     "From the request-duration histogram.",
     [(f'histogram_quantile(0.95, sum by (le, via) (rate(coder_dns_doctor_http_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))',
       "p95 {{via}}")],
     {"fieldConfig": {"defaults": {"unit": "s", "min": 0}, "overrides": []}}),
    ("Check cycles", "timeseries", 12, 8,
     "Cycle wall time and seconds since the last complete cycle (the CoderDNSDoctorDown alert fires past 3 intervals + 1m).",
     [(f'max by (instance, node) (coder_dns_doctor_cycle_duration_seconds{{{SEL}}})', "cycle {{instance}} {{node}}"),
      (f'max by (instance, node) (time() - coder_dns_doctor_last_cycle_timestamp_seconds{{{SEL}}})', "age {{instance}} {{node}}")],
     {"fieldConfig": {"defaults": {"unit": "s", "min": 0}, "overrides": []}}),
    ("Probers", "table", 24, 5,
     "Version and revision of every prober, and whether its last config reload succeeded.",
     [(f'max by (instance, node, version, revision) (coder_dns_doctor_build_info{{{SEL}}})', ""),
      (f'max by (instance, node) (coder_dns_doctor_config_last_reload_success{{{SEL}}})', "")],
     {"options": {"showHeader": True},
      "transformations": [{"id": "labelsToFields", "options": {}},
                          {"id": "organize", "options": {"excludeByName": {"Time": True}}}]}),
]


def dashboard():
    panels, x, y, row_height = [], 0, 0, 0
    for number, (title, kind, width, height, description, targets, extra) in enumerate(PANELS, start=1):
        if x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        panel = {
            "id": number, "title": title, "type": kind, "description": description, "datasource": DS,
            "gridPos": {"x": x, "y": y, "w": width, "h": height},
            "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend,
                         **({"format": "table", "instant": True} if kind == "table" else {})}
                        for i, (expr, legend) in enumerate(targets)],
        }
        panel.update(extra)
        panels.append(panel)
        x, row_height = x + width, max(row_height, height)
    return {
        "title": "coder-dns-doctor", "uid": "coder-dns-doctor", "editable": True,
        "description": "DNS answers vs the Kubernetes truth, per resolver and node; Coder /healthz and transport checks per path; active findings.",
        "tags": ["coder", "dns"], "timezone": "", "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0},
            {"name": "job", "label": "Job", "type": "query", "datasource": DS,
             "query": {"query": "label_values(coder_dns_doctor_build_info, job)", "refId": "job"},
             "definition": "label_values(coder_dns_doctor_build_info, job)",
             "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "refresh": 2, "hide": 0},
            {"name": "node", "label": "Node (daemonset mode)", "type": "query", "datasource": DS,
             "query": {"query": 'label_values(coder_dns_doctor_build_info{job=~"$job"}, node)', "refId": "node"},
             "definition": 'label_values(coder_dns_doctor_build_info{job=~"$job"}, node)',
             "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "refresh": 2, "hide": 0},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


def main():
    target = pathlib.Path(__file__).resolve().parents[2] / "charts/coder-dns-doctor/files/dashboard.json"
    text = json.dumps(dashboard(), indent=2) + "\n"
    if sys.argv[1:] == ["--check"]:
        if target.read_text() != text:
            sys.exit(f"{target} is out of date: run python3 tests/chart/make_dashboard.py")
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
