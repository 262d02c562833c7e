// The daemon's Prometheus metrics: every family declared once in a table (name, type, labels,
// help), and a recorder that turns a finished cycle's report into series. Probe code never sees
// a metric name; label values come from configuration only, never from answers.
#pragma once

#include <coder_dns_doctor/daemon/holder.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/report/report.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::daemon {

enum class MetricKind { gauge, counter, histogram };

// Which families /metrics exposes. `full`: every family. `minimal`: the set a sidecar in every
// workspace pod can afford at fleet scale (18 series instead of 128): the verdict, the findings, each
// path's lookup success, answer match and health, and what the alert rules need (staleness, reload,
// lost agents); no histograms, TTLs, per-reason counters, transport or held-connection detail.
// Every alert of files/alerts.yaml fires from the minimal set (CoderTransportCutByProxy from its
// finding alone).
enum class MetricSet { minimal, full };
[[nodiscard]] std::string_view to_string(MetricSet set);
[[nodiscard]] std::optional<MetricSet> parse_metric_set(std::string_view text);

struct FamilySpec {
  std::string_view name;
  MetricKind kind;
  std::vector<std::string_view> labels;
  std::string_view help;
  std::vector<double> buckets; // histograms only
  bool minimal = false;        // exposed under MetricSet::minimal too
};

// Every family this daemon exports, in exposition order (CONTRACTS.md first, extras after).
[[nodiscard]] const std::vector<FamilySpec>& family_table();

// The `resolver` label of an observation: the resolver's label for an absolute query,
// `<label>/search` for the search-list (relative name) lookup of a `system` resolver.
[[nodiscard]] std::string resolver_label(const probe::DnsObservation& observation);

class Metrics {
public:
  Metrics(std::string_view version, std::string_view revision);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Publish one finished cycle: gauges describe exactly this cycle (series of hosts, URLs or
  // findings it no longer saw are removed); counters and histograms accumulate.
  void record_cycle(const report::Report& report, std::chrono::system_clock::time_point finished);
  // Export serve's held connections: the age of each path's connection (series of paths no longer
  // held are removed) and the closes counted since start.
  void record_held(const std::vector<HeldStats>& held, const CloseTotals& closes);
  // Export the configured interval (the staleness alert compares against it).
  void set_interval(std::chrono::milliseconds interval);
  // Count a config reload and export whether the last one succeeded.
  void record_reload(bool succeeded);
  // Choose what render() exposes (every family is still recorded, so a switch on reload shows the
  // full set's counters from the daemon's start).
  void set_metric_set(MetricSet set);

  // Return the text exposition of every family (Prometheus text format 0.0.4).
  [[nodiscard]] std::string render() const;

private:
  struct State;
  // record_cycle's parts, each setting one group of families from the report.
  static void record_dns(State& s, const report::Report& report);
  static void record_http(State& s, const report::Report& report);
  static void record_transport(State& s, const report::Report& report);
  static void record_agents(State& s, const report::Report& report);
  mutable std::mutex m_mutex; // one cycle is written or read as a whole
  MetricSet m_set = MetricSet::full;
  std::unique_ptr<State> m_state;
};

} // namespace coder_dns_doctor::daemon
