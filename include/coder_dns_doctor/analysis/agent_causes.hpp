// From the symptom to its cause: coderd's view of its agents (the Coder API) joined with the
// workspace pods (the Kubernetes audit) and the paths this check probed. Pure, like analyze.
// AGENT_DISCONNECTED, CODER_API_UNAVAILABLE, CODERD_REPORTS_UNHEALTHY, WORKSPACE_REBUILD_NEEDED.
#pragma once

#include <coder_dns_doctor/analysis/agent_audit.hpp>
#include <coder_dns_doctor/analysis/analyze.hpp>
#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/coderapi/facts.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::analysis {

// What this check can say about the path an agent dials: a finding names a cause on it (`fails`),
// it was probed and nothing is wrong (`works`), or it was not probed (no pod, an unknown host).
enum class PathVerdict { fails, works, unchecked };
[[nodiscard]] std::string_view to_string(PathVerdict verdict);

// One agent of a started workspace, as coderd reports it, with its pod and its path.
struct AgentEntry {
  std::string workspace_id;
  std::string workspace; // name
  std::string owner;     // username
  std::string agent;
  coderapi::AgentStatus status = coderapi::AgentStatus::unknown;
  std::string since; // disconnected_at, else last_connected_at, else created_at (RFC 3339, as coderd wrote it)
  std::string build_status;
  bool outdated = false;
  std::string pod;        // namespace/name of its workspace pod; empty when none matched
  std::string agent_host; // the host that pod's agent dials
  AgentTarget target = AgentTarget::unknown;
  PathVerdict path_verdict = PathVerdict::unchecked;
  std::vector<Code> cause_codes; // findings of this check on the agent's path, in report order

  [[nodiscard]] std::string workspace_path() const { return owner + "/" + workspace; }
  // Whether coderd counts this agent as lost: disconnected or timed out in a running build.
  [[nodiscard]] bool lost() const;
};

// What the Coder API contributed: nullopt when no --coder-token-file was given.
struct CoderInput {
  coderapi::CoderFacts facts;
  std::vector<std::string> workspace_namespaces; // where the audit looked for pods, for evidence
};

struct AgentJoin {
  std::vector<AgentEntry> agents;
  std::vector<Finding> findings;
};

// Join the agents of `coder` with `pods` (the workspace audit; nullopt when it did not run) by the
// pod label com.coder.workspace.id, else by workspace name and owner labels, else by the official
// templates' pod name `coder-<owner>-<workspace>`; then each pod's host with the `findings` already
// made about that host (Finding::hosts). Returns the agent table and the findings of this module.
[[nodiscard]] AgentJoin join_agents(const probe::Plan& plan, const probe::Observations& observations,
                                    const std::vector<Annotation>& annotations, const truth::Truth& truth,
                                    const std::vector<Finding>& findings,
                                    const std::optional<std::vector<WorkspaceAgent>>& pods, const CoderInput& coder);

} // namespace coder_dns_doctor::analysis
