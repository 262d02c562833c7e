// Layer 7 (doctor; the one place k8s, probe and analysis meet; see README "Layers").
// One complete check, as diagnose runs it once and serve runs it every interval:
// gather the truth, probe every path, analyze, and return the report.
#pragma once

#include <coder_dns_doctor/analysis/transport_findings.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/k8s/discovery.hpp>
#include <coder_dns_doctor/probe/channel_cache.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/report/report.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::doctor {

// Where truth comes from besides --expect: the Kubernetes API (docs/kubernetes.md).
struct KubeSettings {
  std::string mode = "auto"; // auto | off | in-cluster | API base URL
  std::string token_file;
  std::string ca_file;
  k8s::TlsVerify verify = k8s::TlsVerify::yes; // --kube-insecure turns it off
  k8s::Targets targets;                        // which objects to read
};

// coderd's view of its agents (docs/coder-api.md): on when a token file is given.
struct CoderSettings {
  std::string token_file;       // empty: the Coder API is not asked
  std::optional<util::Url> url; // nullopt: the plan's internal URL
};

struct Settings {
  probe::Plan plan;                            // may lack the external URL when Kubernetes supplies it
  std::vector<truth::TruthEntry> expectations; // static truth; wins over discovered truth
  KubeSettings kube;
  CoderSettings coder;
};

// The API-server connection `settings` ask for (their --kube options, the plan's timeout).
[[nodiscard]] k8s::ConnectionSettings kube_connection_settings(const Settings& settings);

// Run one check of `settings`. Failures of the world become findings, never exceptions;
// throws core::UsageError only when the settings cannot describe a check (no external URL at all).
// `held`: what serve's held DERP connections saw since the last check (analysis::evaluate).
// `channels`: a daemon's c-ares channels, kept across checks (nullptr: made for this check).
[[nodiscard]] report::Report run_checkup(const Settings& settings, const std::atomic<bool>* cancel = nullptr,
                                         const std::vector<analysis::HeldConnection>& held = {},
                                         probe::ChannelCache* channels = nullptr);

} // namespace coder_dns_doctor::doctor
