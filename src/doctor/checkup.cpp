#include <coder_dns_doctor/cli/usage_error.hpp>
#include <coder_dns_doctor/doctor/checkup.hpp>
#include <coder_dns_doctor/probe/engine.hpp>

namespace coder_dns_doctor::doctor {

report::Report run_checkup(const Settings& settings, const std::atomic<bool>* cancel) {
  if (settings.plan.url_for(probe::HostRole::external) == nullptr)
    throw cli::UsageError("--external-url is required (expected the Coder access URL, e.g. https://coder.example.com)");
  truth::Truth truth = truth::merge({}, settings.expectations);
  probe::Observations observations = probe::run_cycle(settings.plan, truth, cancel);
  return report::build(settings.plan, std::move(observations), std::move(truth));
}

} // namespace coder_dns_doctor::doctor
