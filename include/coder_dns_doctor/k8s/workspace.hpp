// The workspace-pod audit's reading side: which Coder host each workspace agent is started against.
// Pure. Env values and scripts are read here and dropped; only the host leaves.
#pragma once

#include <coder_dns_doctor/k8s/facts.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <nlohmann/json.hpp>

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::k8s {

// Return the host of the URL starting at `text` (`http://` or `https://`), lower case, without
// userinfo, port or brackets; nullopt when `text` does not start with such a URL.
[[nodiscard]] std::optional<std::string> host_of_url_at(std::string_view text);

// Return the host a Coder agent init script (or a shell command that embeds one) starts the agent
// against: the URL assigned to CODER_AGENT_URL, else the URL the agent binary is downloaded from
// (`.../bin/coder-<os>-<arch>`); nullopt when the script holds neither.
[[nodiscard]] std::optional<std::string> agent_host_in_script(std::string_view script);

// Return the workspace labels of `pod`.
[[nodiscard]] WorkspaceLabels workspace_labels_of(const nlohmann::json& pod);

// A workspace agent found in a pod, before it is compared with the plan's hosts.
struct AgentPodHost {
  std::string pod; // namespace/name
  std::string host;
  std::string origin;
  std::vector<HostAlias> host_aliases; // spec.hostAliases, valid IP entries only
  WorkspaceLabels labels;
};

// Return the `spec.hostAliases` of `pod` whose address is an IP literal, names lower case.
[[nodiscard]] std::vector<HostAlias> host_aliases_of(const nlohmann::json& pod);

// Return the pods of a PodList that carry CODER_AGENT_TOKEN (not finished ones), with the host
// their agent dials: the init script (ENVBUILDER_INIT_SCRIPT, command/args) wins over the
// CODER_AGENT_URL env because the script overwrites it before starting the agent.
[[nodiscard]] std::expected<std::vector<AgentPodHost>, std::string> agent_pods(const nlohmann::json& list);

// Classify `host` against the plan's external and internal hosts; a shorter in-cluster alias of
// the internal host (`coder.coder.svc`) or one of its Service addresses counts as internal.
[[nodiscard]] AgentTarget classify_agent_host(std::string_view host, std::string_view external_host,
                                              std::string_view internal_host,
                                              const std::vector<util::IpAddress>& internal_addresses);

} // namespace coder_dns_doctor::k8s
