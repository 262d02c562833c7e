#include <coder_dns_doctor/analysis/analyze.hpp>
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

Report build(const probe::Plan& plan, probe::Observations observations, truth::Truth truth,
             std::vector<analysis::Finding> extra_findings) {
  Report report;
  report.observations = analysis::annotate(std::move(observations), truth);
  report.findings = analysis::analyze(plan, report.observations, truth);
  report.findings.insert(report.findings.end(), extra_findings.begin(), extra_findings.end());
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const analysis::Finding& a, const analysis::Finding& b) { return a.severity > b.severity; });
  report.verdict = analysis::verdict_of(report.findings);
  report.truth = std::move(truth);
  report.resolvers = plan.resolvers;
  report.generated_at = now_rfc3339();
  return report;
}

} // namespace coder_dns_doctor::report
