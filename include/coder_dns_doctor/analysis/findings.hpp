// Findings: the stable codes users alert on, their severities, and the verdict they add up to.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::analysis {

enum class Severity { info, warning, error };
enum class Verdict { healthy, degraded, broken };

// Stable identifiers (CONTRACTS.md): add new ones, never rename.
enum class Code {
  external_dns_mismatch,
  internal_dns_mismatch,
  host_dns_mismatch,
  dns_lookup_failed,
  resolver_disagreement,
  search_shadowing,
  healthz_fails_via_dns,
  healthz_down,
  deployment_mismatch,
  agent_url_external,
  kubernetes_unavailable,
  hosts_file_override,
  ingress_unreachable_in_cluster,
  resolver_out_of_scope,
  agent_transport_blocked,
  derp_upgrade_blocked,
  transport_cut_by_proxy,
  not_coderd,
  agent_disconnected,
  coder_api_unavailable,
  coderd_reports_unhealthy,
  workspace_rebuild_needed,
};

struct CodeInfo {
  Code code;
  std::string_view name; // e.g. "EXTERNAL_DNS_MISMATCH"
  std::string_view when; // one line for --help and the README
};

// Every code, once, in contract order.
[[nodiscard]] const std::vector<CodeInfo>& code_table();
[[nodiscard]] std::string_view to_string(Code code);
[[nodiscard]] std::string_view to_string(Severity severity);
[[nodiscard]] std::string_view to_string(Verdict verdict);

struct Finding {
  Code code = Code::dns_lookup_failed;
  Severity severity = Severity::error;
  std::string summary;
  std::vector<std::string> evidence;
  std::string remediation;
  // The hosts of the plan this finding is about, when it is about hosts: how an agent's path is
  // joined with its causes. Not part of the JSON contract.
  std::vector<std::string> hosts;
};

// How evidence lists addresses: "127.0.50.100, 127.0.50.101", or "(none)".
[[nodiscard]] std::string addresses_text(const std::vector<util::IpAddress>& addresses);

// Return broken when any finding is an error, degraded when any is a warning, else healthy.
[[nodiscard]] Verdict verdict_of(const std::vector<Finding>& findings);

} // namespace coder_dns_doctor::analysis
