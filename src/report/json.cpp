#include <coder_dns_doctor/report/report.hpp>

#include <cmath>

namespace coder_dns_doctor::report {
namespace {

using nlohmann::json;

// Durations in milliseconds with 0.1 ms resolution: enough for a person, stable for diffs.
double round_ms(double ms) { return std::round(ms * 10.0) / 10.0; }

template <typename T> json optional_value(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

} // namespace

json to_json(const Report& report) {
  json document;
  document["verdict"] = analysis::to_string(report.verdict);
  document["generated_at"] = report.generated_at;
  document["duration_ms"] = round_ms(report.observations.cycle_ms);

  json findings = json::array();
  for (const auto& finding : report.findings)
    findings.push_back({{"code", analysis::to_string(finding.code)},
                        {"severity", analysis::to_string(finding.severity)},
                        {"summary", finding.summary},
                        {"evidence", finding.evidence},
                        {"remediation", finding.remediation}});
  document["findings"] = findings;

  json truth = json::array();
  for (const auto& entry : report.truth.entries)
    truth.push_back({{"host", entry.host}, {"addresses", entry.addresses}, {"source", entry.source}});
  document["truth"] = truth;
  document["truth_notes"] = report.truth.notes;

  json resolvers = json::array();
  for (const auto& resolver : report.resolvers) {
    json servers = json::array();
    for (const auto& server : resolver.servers)
      servers.push_back(server.to_string());
    json entry{{"label", resolver.label},
               {"spec", resolver.spec},
               {"servers", servers},
               {"scope", probe::to_string(resolver.scope)},
               {"scope_reason", resolver.scope_reason}};
    if (resolver.system) {
      entry["search"] = resolver.system->search;
      entry["ndots"] = resolver.system->ndots;
    }
    if (resolver.hosts) {
      entry["hosts_file"] = resolver.hosts->file.path;
      entry["hosts_order"] = resolver.hosts->order;
    }
    resolvers.push_back(entry);
  }
  document["resolvers"] = resolvers;

  json dns = json::array();
  for (std::size_t i = 0; i < report.observations.dns.size(); ++i) {
    const probe::DnsObservation& o = report.observations.dns[i];
    const analysis::Annotation& note = annotation_of(report, i);
    json servers = o.servers;
    dns.push_back({{"host", o.host},
                   {"name", o.name},
                   {"resolver", o.resolver},
                   {"servers", servers},
                   {"family", probe::to_string(o.family)},
                   {"query", probe::to_string(o.mode)},
                   {"status", probe::to_string(o.status)},
                   {"detail", o.detail.empty() ? json(nullptr) : json(o.detail)},
                   {"addresses", o.addresses},
                   {"ttl", optional_value(o.ttl)},
                   {"cname_chain", o.cname_chain},
                   {"responded", o.responded},
                   {"outside_scope", o.outside_scope},
                   {"duration_ms", round_ms(o.duration_ms)},
                   {"expected", note.expected},
                   {"match", optional_value(note.match)}});
  }
  document["dns"] = dns;

  json http = json::array();
  for (const auto& o : report.observations.http)
    http.push_back({{"url", o.url},
                    {"base_url", o.base_url},
                    {"endpoint", probe::to_string(o.endpoint)},
                    {"via", probe::to_string(o.via)},
                    {"address", o.address},
                    {"resolvers", o.resolvers},
                    {"status_code", optional_value(o.status_code)},
                    {"status", http::to_string(o.status)},
                    {"ok", o.ok},
                    {"error", optional_value(o.error)},
                    {"deployment_id", optional_value(o.deployment_id)},
                    {"version", optional_value(o.version)},
                    {"duration_ms", round_ms(o.duration_ms)}});
  document["http"] = http;

  json workspaces = json::array();
  for (const auto& agent : report.workspaces) {
    json aliases = json::array();
    for (const auto& alias : agent.host_aliases)
      aliases.push_back({{"ip", alias.address}, {"hostnames", alias.hostnames}});
    workspaces.push_back({{"pod", agent.pod},
                          {"agent_host", agent.host.empty() ? json(nullptr) : json(agent.host)},
                          {"target", k8s::to_string(agent.target)},
                          {"origin", agent.origin},
                          {"host_aliases", aliases}});
  }
  document["workspaces"] = workspaces;
  return document;
}

} // namespace coder_dns_doctor::report
