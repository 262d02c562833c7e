// One complete check, as diagnose runs it once and serve runs it every interval:
// gather the truth, probe every path, analyze, and return the report.
#pragma once

#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/report/report.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace coder_dns_doctor::doctor {

// Where truth comes from besides --expect (the Kubernetes API, when that module is configured).
struct KubeSettings {
  std::string mode = "auto"; // auto | off | in-cluster | API base URL
  std::string token_file;
  std::string ca_file;
};

struct Settings {
  probe::Plan plan;                              // may lack the external URL when Kubernetes supplies it
  std::vector<truth::TruthEntry> expectations;   // static truth; wins over discovered truth
  KubeSettings kube;
};

// Run one check of `settings`. Failures of the world become findings, never exceptions;
// throws cli::UsageError only when the settings cannot describe a check (no external URL at all).
[[nodiscard]] report::Report run_checkup(const Settings& settings, const std::atomic<bool>* cancel = nullptr);

} // namespace coder_dns_doctor::doctor
