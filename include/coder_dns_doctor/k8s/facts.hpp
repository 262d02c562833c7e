// Layer 4 (k8s): the facts the Kubernetes reader produces for analysis: why a read failed, what a
// pod's hostAliases pin, and which Coder URL an agent dials. Plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::k8s {

// What a failed Kubernetes read was for: truth and URLs (error), resolvers (error), or only the
// workspace audit (warning: the rest of the check stands).
enum class KubeScope { truth, resolvers, audit };
enum class KubeFailure { config, credentials, unauthorized, forbidden, unreachable, server, malformed, missing };

struct KubeProblem {
  KubeScope scope = KubeScope::truth;
  KubeFailure failure = KubeFailure::unreachable;
  std::string text; // one line, names the request (verb, resource, namespace) and what went wrong
};

// One `spec.hostAliases` entry of a pod: Kubernetes writes it into the pod's /etc/hosts, which the
// agent reads before DNS.
struct HostAlias {
  std::string address;
  std::vector<std::string> hostnames; // lower case
  friend bool operator==(const HostAlias&, const HostAlias&) = default;
};

// The Coder workspace a pod belongs to, from the labels Coder's official templates set
// (`com.coder.workspace.id`, `com.coder.workspace.name`, `com.coder.user.username`); empty when absent.
struct WorkspaceLabels {
  std::string workspace_id;
  std::string workspace;
  std::string owner;
  friend bool operator==(const WorkspaceLabels&, const WorkspaceLabels&) = default;
};

// Which of the plan's Coder URLs an agent dials.
enum class AgentTarget { external, internal, other, unknown };

[[nodiscard]] std::string_view to_string(AgentTarget target);

} // namespace coder_dns_doctor::k8s
