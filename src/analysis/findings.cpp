#include <coder_dns_doctor/analysis/findings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace coder_dns_doctor::analysis {

const std::vector<CodeInfo>& code_table() {
  static const std::vector<CodeInfo> table{
      {Code::external_dns_mismatch, "EXTERNAL_DNS_MISMATCH",
       "the external host resolves, via some resolver, to addresses outside its truth set"},
      {Code::internal_dns_mismatch, "INTERNAL_DNS_MISMATCH",
       "the internal host resolves to something other than the Service's ClusterIP(s)"},
      {Code::host_dns_mismatch, "HOST_DNS_MISMATCH", "an extra --host resolves to addresses outside its truth set"},
      {Code::dns_lookup_failed, "DNS_LOOKUP_FAILED", "a lookup returned nxdomain/servfail/refused/timeout/error"},
      {Code::resolver_disagreement, "RESOLVER_DISAGREEMENT",
       "resolvers return different answer sets for the same host"},
      {Code::search_shadowing, "SEARCH_SHADOWING",
       "the system resolver's answer for the relative name (search list + ndots) differs from the absolute name's"},
      {Code::healthz_fails_via_dns, "HEALTHZ_FAILS_VIA_DNS",
       "/healthz fails through a DNS answer while another path to the same URL succeeds: DNS is the cause"},
      {Code::healthz_down, "HEALTHZ_DOWN", "/healthz fails through every path of a URL: the server or ingress is down"},
      {Code::deployment_mismatch, "DEPLOYMENT_MISMATCH",
       "/api/v2/buildinfo deployment_id differs between paths: they reach different deployments"},
      {Code::agent_url_external, "AGENT_URL_EXTERNAL",
       "workspace agents start against the external URL while it is mismatched and the internal URL is healthy"},
      {Code::kubernetes_unavailable, "KUBERNETES_UNAVAILABLE", "truth could not be read from the Kubernetes API"},
      {Code::hosts_file_override, "HOSTS_FILE_OVERRIDE",
       "the hosts file read before DNS, or a workspace pod's hostAliases, pins a Coder host outside its truth"},
      {Code::ingress_unreachable_in_cluster, "INGRESS_UNREACHABLE_IN_CLUSTER",
       "the external URL fails at every address, its truth included, from inside while the internal URL works"},
      {Code::resolver_out_of_scope, "RESOLVER_OUT_OF_SCOPE",
       "info: a resolver that cannot know cluster names said so for a cluster-only name (no failure)"},
      {Code::agent_transport_blocked, "AGENT_TRANSPORT_BLOCKED",
       "/healthz works through a path but a WebSocket (the DERP map or DERP) does not: agents cannot connect"},
      {Code::derp_upgrade_blocked, "DERP_UPGRADE_BLOCKED",
       "warning: `Upgrade: DERP` fails where the DERP WebSocket works (agents fall back to WebSockets)"},
      {Code::transport_cut_by_proxy, "TRANSPORT_CUT_BY_PROXY",
       "a held DERP connection was closed by the path before the hold time: an idle timeout cuts relay links"},
      {Code::not_coderd, "NOT_CODERD",
       "an address of a Coder URL answers HTTP but is not coderd (no X-Coder-Build-Version on any answer)"},
      {Code::agent_disconnected, "AGENT_DISCONNECTED",
       "coderd reports a running workspace's agent disconnected or timed out; each with the cause on its path, or "
       "none"},
      {Code::coder_api_unavailable, "CODER_API_UNAVAILABLE",
       "warning: the Coder API (--coder-token-file) could not be read, or the token sees only some workspaces"},
      {Code::coderd_reports_unhealthy, "CODERD_REPORTS_UNHEALTHY",
       "warning: coderd's own health report (/api/v2/debug/health, seen from coderd) has failing sections"},
      {Code::workspace_rebuild_needed, "WORKSPACE_REBUILD_NEEDED",
       "info: a running workspace's build predates its template's active version, or still dials the external URL"},
  };
  return table;
}

std::string_view to_string(Code code) {
  for (const auto& info : code_table())
    if (info.code == code)
      return info.name;
  return "UNKNOWN";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
  case Severity::info: return "info";
  case Severity::warning: return "warning";
  case Severity::error: return "error";
  }
  return "error";
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
  case Verdict::healthy: return "healthy";
  case Verdict::degraded: return "degraded";
  case Verdict::broken: return "broken";
  }
  return "broken";
}

Verdict verdict_of(const std::vector<Finding>& findings) {
  auto has = [&](Severity severity) {
    return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.severity == severity; });
  };
  if (has(Severity::error))
    return Verdict::broken;
  if (has(Severity::warning))
    return Verdict::degraded;
  return Verdict::healthy;
}

std::string addresses_text(const std::vector<util::IpAddress>& addresses) {
  return addresses.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(addresses, ", "));
}

} // namespace coder_dns_doctor::analysis
