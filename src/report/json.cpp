#include <coder_dns_doctor/report/report.hpp>

#include <cmath>

namespace coder_dns_doctor::report {
namespace {

using nlohmann::json;

// Durations in milliseconds with 0.1 ms resolution: enough for a person, stable for diffs.
double round_ms(double ms) {
  return std::round(ms * 10.0) / 10.0;
}

template <typename T> json optional_value(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json findings_json(const Report& report) {
  json findings = json::array();
  for (const auto& finding : report.findings)
    findings.push_back({{"code", analysis::to_string(finding.code)},
                        {"severity", analysis::to_string(finding.severity)},
                        {"summary", finding.summary},
                        {"evidence", finding.evidence},
                        {"remediation", finding.remediation}});
  return findings;
}

json truth_json(const Report& report) {
  json truth = json::array();
  for (const auto& entry : report.truth.entries)
    truth.push_back({{"host", entry.host}, {"addresses", util::texts(entry.addresses)}, {"source", entry.source}});
  return truth;
}

json resolvers_json(const Report& report) {
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
  return resolvers;
}

json dns_json(const Report& report) {
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
                   {"addresses", util::texts(o.addresses)},
                   {"ttl", optional_value(o.ttl)},
                   {"cname_chain", o.cname_chain},
                   {"responded", o.responded},
                   {"outside_scope", o.outside_scope},
                   {"duration_ms", round_ms(o.duration_ms)},
                   {"expected", util::texts(note.expected)},
                   {"match", optional_value(note.match)}});
  }
  return dns;
}

json http_json(const Report& report) {
  json http = json::array();
  for (const auto& o : report.observations.http)
    http.push_back({{"url", o.url},
                    {"base_url", o.base_url},
                    {"endpoint", probe::to_string(o.endpoint)},
                    {"via", probe::to_string(o.via)},
                    {"address", o.address.text},
                    {"resolvers", o.resolvers},
                    {"status_code", optional_value(o.status_code)},
                    {"status", http::to_string(o.status)},
                    {"ok", o.ok},
                    {"error", optional_value(o.error)},
                    {"deployment_id", optional_value(o.deployment_id)},
                    {"version", optional_value(o.version)},
                    {"coderd_version", optional_value(o.coderd_version)},
                    {"duration_ms", round_ms(o.duration_ms)}});
  return http;
}

json transport_json(const Report& report) {
  json transport = json::array();
  for (const auto& o : report.observations.transport)
    transport.push_back({{"url", o.url},
                         {"base_url", o.base_url},
                         {"check", transport::to_string(o.check)},
                         {"via", probe::to_string(o.via)},
                         {"address", o.address.text},
                         {"resolvers", o.resolvers},
                         {"ok", o.ok},
                         {"status", transport::to_string(o.status)},
                         {"status_code", optional_value(o.status_code)},
                         {"coderd_version", optional_value(o.coderd_version)},
                         {"detail", o.detail},
                         {"duration_ms", round_ms(o.duration_ms)},
                         {"held_s", optional_value(o.held_s)}});
  return transport;
}

json workspaces_json(const Report& report) {
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
  return workspaces;
}

json agents_json(const std::vector<analysis::AgentEntry>& agents) {
  json out = json::array();
  auto text_or_null = [](const std::string& text) { return text.empty() ? json(nullptr) : json(text); };
  for (const auto& agent : agents) {
    json causes = json::array();
    for (analysis::Code code : agent.cause_codes)
      causes.push_back(analysis::to_string(code));
    out.push_back({{"workspace", agent.workspace},
                   {"owner", agent.owner},
                   {"workspace_id", agent.workspace_id},
                   {"agent", agent.agent},
                   {"status", coderapi::to_string(agent.status)},
                   {"since", text_or_null(agent.since)},
                   {"build_status", agent.build_status},
                   {"outdated", agent.outdated},
                   {"pod", text_or_null(agent.pod)},
                   {"agent_host", text_or_null(agent.agent_host)},
                   {"target", k8s::to_string(agent.target)},
                   {"path_verdict", analysis::to_string(agent.path_verdict)},
                   {"cause_codes", causes}});
  }
  return out;
}

} // namespace

// Keys in the order CONTRACTS.md lists them (nlohmann::json sorts them when dumping anyway).
json to_json(const Report& report) {
  json document;
  document["verdict"] = analysis::to_string(report.verdict);
  document["generated_at"] = report.generated_at;
  document["duration_ms"] = round_ms(report.observations.cycle_ms);
  document["findings"] = findings_json(report);
  document["truth"] = truth_json(report);
  document["truth_notes"] = report.truth.notes;
  document["resolvers"] = resolvers_json(report);
  document["dns"] = dns_json(report);
  document["http"] = http_json(report);
  document["transport"] = transport_json(report);
  document["workspaces"] = workspaces_json(report);
  if (report.agents)
    document["agents"] = agents_json(*report.agents);
  return document;
}

} // namespace coder_dns_doctor::report
