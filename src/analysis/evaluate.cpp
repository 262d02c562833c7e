#include <coder_dns_doctor/analysis/evaluate.hpp>

#include <coder_dns_doctor/analysis/transport_findings.hpp>

#include <algorithm>

namespace coder_dns_doctor::analysis {

Evaluation evaluate(const probe::Plan& plan, const probe::Observations& observations, const truth::Truth& truth,
                    const KubeFacts& kube, const std::vector<HeldConnection>& held, const CoderInput* coder) {
  Evaluation result;
  result.annotations = annotate(observations, truth);
  result.findings = analyze(plan, observations, result.annotations, truth);
  for (Finding& finding : check_transport(plan, observations, held))
    result.findings.push_back(std::move(finding));
  if (auto unavailable = kubernetes_unavailable(kube.problems))
    result.findings.push_back(std::move(*unavailable));
  if (kube.agents) {
    if (auto finding = audit_agents(plan, observations, result.annotations, *kube.agents))
      result.findings.push_back(std::move(*finding));
    audit_host_aliases(plan, truth, *kube.agents, result.findings);
  }
  if (coder != nullptr) {
    // after every other check: the join names their findings as causes
    AgentJoin join = join_agents(plan, observations, result.annotations, truth, result.findings, kube.agents, *coder);
    for (Finding& finding : join.findings)
      result.findings.push_back(std::move(finding));
    if (coder->facts.agents) // else unknown, not "none": the API could not be read
      result.agents = std::move(join.agents);
  }
  std::stable_sort(result.findings.begin(), result.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  result.verdict = verdict_of(result.findings);
  return result;
}

} // namespace coder_dns_doctor::analysis
