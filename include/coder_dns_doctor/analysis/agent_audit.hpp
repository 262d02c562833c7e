// Findings that come from the Kubernetes side: AGENT_URL_EXTERNAL (do workspace agents start against
// the external URL while it is broken from inside the cluster and the internal URL works?) and
// KUBERNETES_UNAVAILABLE. Pure, like analyze: pods and API failures come in as values.
#pragma once

#include <coder_dns_doctor/analysis/analyze.hpp>
#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/k8s/facts.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::analysis {

// The Kubernetes facts analysis reads are the k8s module's.
using k8s::AgentTarget;
using k8s::HostAlias;
using k8s::KubeFailure;
using k8s::KubeProblem;
using k8s::KubeScope;

// One workspace pod's agent, as the audit read it. Only the host is kept: the env values it came
// from sit next to the agent token and are never stored.
struct WorkspaceAgent {
  std::string pod;    // namespace/name
  std::string host;   // empty when no agent URL was found
  std::string origin; // where the host was read: "ENVBUILDER_INIT_SCRIPT", "command", "CODER_AGENT_URL", ...
  AgentTarget target = AgentTarget::unknown;
  std::vector<HostAlias> host_aliases;
  k8s::WorkspaceLabels labels; // which Coder workspace the pod belongs to, when its labels say
};

// Return one line per agent: "coder-workspace/ws-1: agent URL host coder.example.test (external, from command)".
[[nodiscard]] std::string describe(const WorkspaceAgent& agent);

// Return AGENT_URL_EXTERNAL when some of `agents` dial the external host while, in the
// `observations` of `plan` (with their `annotations`), the external host is mismatched (or its /healthz fails through
// DNS) on a cluster-aware resolver and the internal URL's /healthz succeeds; nullopt otherwise.
[[nodiscard]] std::optional<Finding> audit_agents(const probe::Plan& plan, const probe::Observations& observations,
                                                  const std::vector<Annotation>& annotations,
                                                  const std::vector<WorkspaceAgent>& agents);

// Add to `findings` the workspace pods whose `hostAliases` pin a host of `plan` outside its
// `truth` (HOSTS_FILE_OVERRIDE: into the finding the hosts-file check made, or a new one).
void audit_host_aliases(const probe::Plan& plan, const truth::Truth& truth, const std::vector<WorkspaceAgent>& agents,
                        std::vector<Finding>& findings);

// Return KUBERNETES_UNAVAILABLE for `problems` (nullopt when there are none): one finding, each
// problem one evidence line, a remediation per kind of failure.
[[nodiscard]] std::optional<Finding> kubernetes_unavailable(const std::vector<KubeProblem>& problems);

} // namespace coder_dns_doctor::analysis
