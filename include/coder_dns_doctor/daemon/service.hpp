// Layer 8 (daemon; uses doctor, report, core; see README "Layers").
// The serve/sidecar daemon: the checkup on a schedule, each finished cycle published as an
// immutable snapshot, metrics and health endpoints on one listener, signals for stop and reload.
#pragma once

#include <coder_dns_doctor/core/exit_status.hpp>
#include <coder_dns_doctor/daemon/log.hpp>
#include <coder_dns_doctor/daemon/metrics.hpp>
#include <coder_dns_doctor/doctor/checkup.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <string>

namespace coder_dns_doctor::daemon {

struct DaemonOptions {
  std::string listen = "0.0.0.0:9816";
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds jitter{3'000}; // each wait is interval + a random share of this
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;
  // Held DERP connections (daemon::Holder): one per path whose derp-websocket check passed; a
  // connection closed sooner than hold_min counts as closed_early (TRANSPORT_CUT_BY_PROXY).
  bool hold_connections = true;
  std::chrono::milliseconds hold_min{75'000};
  // The status page links each finding code to `<runbook_url>#<anchor>`: the daemon's own
  // `/runbook` (relative), or an absolute http(s) URL such as an internal wiki's copy.
  std::string runbook_url = "/runbook";
  // Serve the topology (`/report`'s JSON and the status page at `/`); off, both answer that they
  // are off and only /metrics, /healthz, /readyz and /runbook carry data. Reloadable.
  bool serve_report = true;
  // What /metrics exposes: every family (the default) or the fleet-sized set.
  MetricSet metrics = MetricSet::full;
  int test_stall_cycle = 0; // TEST ONLY: cycle N blocks until shutdown, to prove /healthz turns 503
};

struct RunConfig {
  doctor::Settings settings;
  DaemonOptions daemon;
};

// Build a new RunConfig on SIGHUP (re-read the config file); an error keeps the running one.
using Reloader = std::function<std::expected<RunConfig, std::string>()>;

// Run until SIGTERM or SIGINT; return the process exit status (0 on a clean stop, 3 when the
// listener cannot start or the loop failed). Blocks those signals and SIGHUP in every thread.
[[nodiscard]] core::ExitStatus serve(RunConfig config, const Reloader& reload, Logger& logger);

// Return the 503 threshold of /healthz: no loop progress for this long means it stalled.
[[nodiscard]] constexpr std::chrono::milliseconds stall_threshold(std::chrono::milliseconds interval) {
  return 3 * interval;
}

} // namespace coder_dns_doctor::daemon
