// Layer 5 (analysis; pure; reads probe, k8s facts, truth; see README "Layers").
// The one entry of analysis: everything one check saw -> annotations, findings, verdict.
// Pure: no I/O, no clock. The only place findings are sorted and the verdict is decided.
#pragma once

#include <coder_dns_doctor/analysis/agent_audit.hpp>
#include <coder_dns_doctor/analysis/agent_causes.hpp>
#include <coder_dns_doctor/analysis/analyze.hpp>
#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/analysis/transport_findings.hpp>
#include <coder_dns_doctor/k8s/facts.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <optional>
#include <vector>

namespace coder_dns_doctor::analysis {

// What the Kubernetes API contributed besides truth.
struct KubeFacts {
  std::vector<k8s::KubeProblem> problems;
  std::optional<std::vector<WorkspaceAgent>> agents; // nullopt: the workspace audit did not run
};

struct Evaluation {
  std::vector<Annotation> annotations; // one per observations.dns entry, same order
  std::vector<Finding> findings;       // errors first, then warnings, then info; stable otherwise
  Verdict verdict = Verdict::healthy;
  std::optional<std::vector<AgentEntry>>
      agents; // coderd's agents joined with pods and paths; nullopt: not asked or unreadable
};

// Evaluate one check: annotate the DNS answers against `truth`, run every check (DNS, HTTP,
// Kubernetes availability, the workspace audit, serve's held connections, coderd's view of its
// agents when `coder` is given), sort, and decide the verdict.
[[nodiscard]] Evaluation evaluate(const probe::Plan& plan, const probe::Observations& observations,
                                  const truth::Truth& truth, const KubeFacts& kube,
                                  const std::vector<HeldConnection>& held = {}, const CoderInput* coder = nullptr);

} // namespace coder_dns_doctor::analysis
