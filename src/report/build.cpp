#include <coder_dns_doctor/report/report.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace coder_dns_doctor::report {
namespace {

std::string now_rfc3339() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

} // namespace

const analysis::Annotation& annotation_of(const Report& report, std::size_t index) {
  static const analysis::Annotation k_none;
  return index < report.annotations.size() ? report.annotations[index] : k_none;
}

Report build(const probe::Plan& plan, probe::Observations observations, truth::Truth truth,
             analysis::Evaluation evaluation, std::vector<analysis::WorkspaceAgent> workspaces) {
  Report report;
  report.verdict = evaluation.verdict;
  report.findings = std::move(evaluation.findings);
  report.observations = std::move(observations);
  report.annotations = std::move(evaluation.annotations);
  report.workspaces = std::move(workspaces);
  report.agents = std::move(evaluation.agents);
  report.truth = std::move(truth);
  report.resolvers = plan.resolvers;
  report.generated_at = now_rfc3339();
  return report;
}

} // namespace coder_dns_doctor::report
