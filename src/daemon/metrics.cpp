#include <coder_dns_doctor/daemon/exposition.hpp>
#include <coder_dns_doctor/daemon/metrics.hpp>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace coder_dns_doctor::daemon {
namespace {

// Index of each family in family_table(); the recorder asks for handles by id, never by name.
enum class Id : std::size_t {
  dns_lookup_success,
  dns_answer_match,
  dns_mismatch_total,
  dns_lookup_duration_seconds,
  dns_answer_ttl_seconds,
  http_up,
  http_duration_seconds,
  finding,
  cycle_duration_seconds,
  last_cycle_timestamp_seconds,
  build_info,
  verdict,
  cycles_total,
  interval_seconds,
  config_reloads_total,
  config_last_reload_success,
  http_failures_total,
  transport_up,
  transport_connection_age_seconds,
  transport_closes_total,
  agents,
  agent_disconnected_with_cause,
  count_
};

const std::vector<double> k_dns_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
const std::vector<double> k_http_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// The families in Family order, in two parts: what the probes saw (DNS, HTTP, findings), then the
// daemon's own (cycles, configuration, transport, agents). FamilySpec.minimal marks --metrics minimal.
std::vector<FamilySpec> probe_families() {
  using enum MetricKind;
  return {
      {"coder_dns_doctor_dns_lookup_success",
       gauge,
       {"host", "resolver", "family"},
       "1 when the last lookup got an answer (addresses or NODATA), 0 on NXDOMAIN, SERVFAIL, REFUSED, timeout or error",
       {},
       true},
      {"coder_dns_doctor_dns_answer_match",
       gauge,
       {"host", "resolver", "family"},
       "1 when the last answer stayed inside the host's truth set, 0 when it did not; absent when no truth is known",
       {},
       true},
      {"coder_dns_doctor_dns_mismatch_total",
       counter,
       {"host", "resolver"},
       "Cycles in which the host's answer via the resolver fell outside its truth set",
       {}},
      {"coder_dns_doctor_dns_lookup_duration_seconds",
       histogram,
       {"resolver"},
       "Duration of each DNS lookup",
       k_dns_buckets},
      {"coder_dns_doctor_dns_answer_ttl_seconds",
       gauge,
       {"host", "resolver", "family"},
       "TTL of the last answer's address records (minimum); absent when there were none",
       {}},
      {"coder_dns_doctor_http_up",
       gauge,
       {"url", "via"},
       "1 when every request of the last cycle to the URL by this path (dns, pinned, internal) succeeded",
       {},
       true},
      {"coder_dns_doctor_http_duration_seconds", histogram, {"via"}, "Duration of each HTTP check", k_http_buckets},
      {"coder_dns_doctor_finding", gauge, {"code", "severity"}, "1 while a finding of this code is active", {}, true},
  };
}

std::vector<FamilySpec> daemon_families() {
  using enum MetricKind;
  return {
      {"coder_dns_doctor_cycle_duration_seconds", gauge, {}, "Wall time of the last complete cycle", {}},
      {"coder_dns_doctor_last_cycle_timestamp_seconds",
       gauge,
       {},
       "Unix time the last complete cycle finished",
       {},
       true},
      {"coder_dns_doctor_build_info", gauge, {"version", "revision"}, "Always 1: the running build", {}},
      {"coder_dns_doctor_verdict",
       gauge,
       {"verdict"},
       "1 for the verdict of the last cycle (healthy, degraded, broken)",
       {},
       true},
      {"coder_dns_doctor_cycles_total", counter, {}, "Complete cycles since start", {}},
      {"coder_dns_doctor_interval_seconds",
       gauge,
       {},
       "Configured time between cycle starts (before jitter)",
       {},
       true},
      {"coder_dns_doctor_config_reloads_total", counter, {"result"}, "Config reloads (SIGHUP) by result", {}},
      {"coder_dns_doctor_config_last_reload_success",
       gauge,
       {},
       "1 when the last config reload succeeded (or none happened)",
       {},
       true},
      {"coder_dns_doctor_http_failures_total",
       counter,
       {"url", "via", "reason"},
       "Failed HTTP requests to the URL by this path, by reason (the JSON http[].status: http_error, body_mismatch, "
       "timeout, refused, unreachable, tls, too_large, not_sent, error)",
       {}},
      {"coder_dns_doctor_transport_up",
       gauge,
       {"url", "via", "check"},
       "1 when every attempt of the transport check (derp-map-websocket, derp-websocket, derp-upgrade, agent-binary, "
       "agent-api) through this path in the last cycle passed",
       {}},
      {"coder_dns_doctor_transport_connection_age_seconds",
       gauge,
       {"url", "via"},
       "Age of the DERP WebSocket serve holds open through this path (the youngest of the path's addresses); 0 "
       "while reconnecting; absent when the path is not held",
       {}},
      {"coder_dns_doctor_transport_closes_total",
       counter,
       {"url", "via", "cause"},
       "Ends of serve's held DERP WebSockets through this path, by cause: closed_early (lived less than --hold-min), "
       "closed (lived longer), or the failed attempt's transport status (refused, timeout, not_upgraded, ...)",
       {}},
      {"coder_dns_doctor_agents",
       gauge,
       {"status"},
       "Agents of started workspaces by the status coderd reports (connecting, connected, disconnected, timeout, "
       "unknown); absent without --coder-token-file or when the Coder API could not be read",
       {}},
      {"coder_dns_doctor_agent_disconnected_with_cause",
       gauge,
       {"code"},
       "Disconnected or timed-out agents of running workspaces with this finding code on their path (an agent counts "
       "once per code); code=\"none\" for those with no cause found",
       {},
       true},
  };
}

} // namespace

const std::vector<FamilySpec>& family_table() {
  static const std::vector<FamilySpec> table = [] {
    std::vector<FamilySpec> all = probe_families();
    std::vector<FamilySpec> rest = daemon_families();
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  }();
  return table;
}

std::string_view to_string(MetricSet set) {
  return set == MetricSet::minimal ? "minimal" : "full";
}

std::optional<MetricSet> parse_metric_set(std::string_view text) {
  if (text == "minimal")
    return MetricSet::minimal;
  if (text == "full")
    return MetricSet::full;
  return std::nullopt;
}

std::string resolver_label(const probe::DnsObservation& observation) {
  switch (observation.mode) {
  case probe::QueryMode::search: return observation.resolver + "/search";
  case probe::QueryMode::hosts: return observation.resolver + "/hosts";
  case probe::QueryMode::absolute: break;
  }
  return observation.resolver;
}

namespace {

// One family with its fixed label names. Gauges are swept: a series not touched since begin()
// is removed by sweep(), so hosts, URLs and findings that went away stop being exported.
template <typename T> class Handle {
public:
  Handle() = default;
  Handle(prometheus::Family<T>* family, const FamilySpec* spec) : m_family(family), m_spec(spec) {}

  template <typename... Args> T& at(const std::vector<std::string>& values, Args&&... args) {
    if (values.size() != m_spec->labels.size())
      throw std::logic_error(std::string("wrong label count for ") + std::string(m_spec->name));
    auto found = m_series.find(values);
    if (found == m_series.end()) {
      std::map<std::string, std::string> labels;
      for (std::size_t i = 0; i < values.size(); ++i)
        labels.emplace(m_spec->labels[i], values[i]);
      T& metric = m_family->Add(labels, std::forward<Args>(args)...);
      found = m_series.emplace(values, Entry{&metric, false}).first;
    }
    found->second.touched = true;
    return *found->second.metric;
  }

  void begin() {
    for (auto& [values, entry] : m_series)
      entry.touched = false;
  }

  void sweep() {
    for (auto it = m_series.begin(); it != m_series.end();) {
      if (it->second.touched) {
        ++it;
        continue;
      }
      m_family->Remove(it->second.metric);
      it = m_series.erase(it);
    }
  }

private:
  struct Entry {
    T* metric;
    bool touched;
  };
  prometheus::Family<T>* m_family = nullptr;
  const FamilySpec* m_spec = nullptr;
  std::map<std::vector<std::string>, Entry> m_series;
};

const FamilySpec& spec(Id id) {
  return family_table().at(static_cast<std::size_t>(id));
}

template <typename Builder> auto& build(Builder builder, Id id, prometheus::Registry& registry) {
  const FamilySpec& s = spec(id);
  return builder.Name(std::string(s.name)).Help(std::string(s.help)).Register(registry);
}

} // namespace

struct Metrics::State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Handle<prometheus::Gauge> gauge(Id id) {
    if (spec(id).kind != MetricKind::gauge)
      throw std::logic_error("not a gauge: " + std::string(spec(id).name));
    return {&build(prometheus::BuildGauge(), id, *registry), &spec(id)};
  }
  Handle<prometheus::Counter> counter(Id id) {
    if (spec(id).kind != MetricKind::counter)
      throw std::logic_error("not a counter: " + std::string(spec(id).name));
    return {&build(prometheus::BuildCounter(), id, *registry), &spec(id)};
  }
  Handle<prometheus::Histogram> histogram(Id id) {
    if (spec(id).kind != MetricKind::histogram)
      throw std::logic_error("not a histogram: " + std::string(spec(id).name));
    return {&build(prometheus::BuildHistogram(), id, *registry), &spec(id)};
  }

  // Registered in table order, so the exposition follows the table.
  Handle<prometheus::Gauge> dns_lookup_success = gauge(Id::dns_lookup_success);
  Handle<prometheus::Gauge> dns_answer_match = gauge(Id::dns_answer_match);
  Handle<prometheus::Counter> dns_mismatch_total = counter(Id::dns_mismatch_total);
  Handle<prometheus::Histogram> dns_lookup_duration = histogram(Id::dns_lookup_duration_seconds);
  Handle<prometheus::Gauge> dns_answer_ttl = gauge(Id::dns_answer_ttl_seconds);
  Handle<prometheus::Gauge> http_up = gauge(Id::http_up);
  Handle<prometheus::Histogram> http_duration = histogram(Id::http_duration_seconds);
  Handle<prometheus::Gauge> finding = gauge(Id::finding);
  Handle<prometheus::Gauge> cycle_duration = gauge(Id::cycle_duration_seconds);
  Handle<prometheus::Gauge> last_cycle_timestamp = gauge(Id::last_cycle_timestamp_seconds);
  Handle<prometheus::Gauge> build_info = gauge(Id::build_info);
  Handle<prometheus::Gauge> verdict = gauge(Id::verdict);
  Handle<prometheus::Counter> cycles_total = counter(Id::cycles_total);
  Handle<prometheus::Gauge> interval = gauge(Id::interval_seconds);
  Handle<prometheus::Counter> reloads_total = counter(Id::config_reloads_total);
  Handle<prometheus::Gauge> last_reload_success = gauge(Id::config_last_reload_success);
  Handle<prometheus::Counter> http_failures_total = counter(Id::http_failures_total);
  Handle<prometheus::Gauge> transport_up = gauge(Id::transport_up);
  Handle<prometheus::Gauge> connection_age = gauge(Id::transport_connection_age_seconds);
  Handle<prometheus::Counter> closes_total = counter(Id::transport_closes_total);
  Handle<prometheus::Gauge> agents = gauge(Id::agents);
  Handle<prometheus::Gauge> agent_causes = gauge(Id::agent_disconnected_with_cause);
};

Metrics::Metrics(std::string_view version, std::string_view revision) : m_state(std::make_unique<State>()) {
  static_assert(static_cast<std::size_t>(Id::count_) == 22, "keep Id in step with family_table()");
  if (family_table().size() != static_cast<std::size_t>(Id::count_))
    throw std::logic_error("family_table() and Id disagree");
  m_state->build_info.at({std::string(version), std::string(revision)}).Set(1);
  m_state->last_reload_success.at({}).Set(1);
  m_state->reloads_total.at({"success"});
  m_state->reloads_total.at({"failure"});
  m_state->cycles_total.at({});
}

Metrics::~Metrics() = default;

void Metrics::record_dns(State& s, const report::Report& report) {
  std::map<std::vector<std::string>, bool> mismatched; // (host, resolver) -> any family outside the truth
  for (std::size_t i = 0; i < report.observations.dns.size(); ++i) {
    const probe::DnsObservation& o = report.observations.dns[i];
    const analysis::Annotation& note = report::annotation_of(report, i);
    std::string resolver = resolver_label(o);
    std::vector<std::string> labels{o.host, resolver, std::string(probe::to_string(o.family))};
    bool answered = o.status == probe::LookupStatus::ok || o.status == probe::LookupStatus::nodata;
    // A resolver that cannot know a cluster-only name did not fail by saying so: no series, so
    // CoderDNSLookupFailing cannot fire on it. Any other outcome of that lookup is exported.
    bool excused =
        o.outside_scope && (o.status == probe::LookupStatus::nxdomain || o.status == probe::LookupStatus::refused ||
                            o.status == probe::LookupStatus::nodata);
    if (!excused)
      s.dns_lookup_success.at(labels).Set(answered ? 1 : 0);
    if (note.match)
      s.dns_answer_match.at(labels).Set(*note.match ? 1 : 0);
    if (o.ttl && o.status == probe::LookupStatus::ok)
      s.dns_answer_ttl.at(labels).Set(static_cast<double>(*o.ttl));
    s.dns_lookup_duration.at({resolver}, prometheus::Histogram::BucketBoundaries(k_dns_buckets))
        .Observe(o.duration_ms / 1000.0);
    bool& any = mismatched[{o.host, resolver}];
    any = any || note.match == false;
  }
  for (const auto& [labels, any] : mismatched) {
    prometheus::Counter& counter = s.dns_mismatch_total.at(labels); // exported from 0, before the first mismatch
    if (any)
      counter.Increment();
  }
}

void Metrics::record_http(State& s, const report::Report& report) {
  std::map<std::vector<std::string>, bool> up; // (url, via) -> every request succeeded
  for (const probe::HttpObservation& o : report.observations.http) {
    auto [entry, inserted] = up.emplace(std::vector<std::string>{o.url, std::string(probe::to_string(o.via))}, o.ok);
    if (!inserted)
      entry->second = entry->second && o.ok;
    // One per failed request (each address of a path is a request); `reason` has ten values at most.
    if (!o.ok) {
      http::Status reason = o.status == http::Status::ok ? http::Status::error : o.status;
      s.http_failures_total.at({o.url, std::string(probe::to_string(o.via)), std::string(http::to_string(reason))})
          .Increment();
    }
    s.http_duration.at({std::string(probe::to_string(o.via))}, prometheus::Histogram::BucketBoundaries(k_http_buckets))
        .Observe(o.duration_ms / 1000.0);
  }
  for (const auto& [labels, ok] : up)
    s.http_up.at(labels).Set(ok ? 1 : 0);
}

void Metrics::record_transport(State& s, const report::Report& report) {
  std::map<std::vector<std::string>, bool> up; // (base url, via, check) -> every attempt passed
  for (const probe::TransportObservation& o : report.observations.transport) {
    bool passed = transport::passes(o.status);
    auto [entry, inserted] = up.emplace(std::vector<std::string>{o.base_url, std::string(probe::to_string(o.via)),
                                                                 std::string(transport::to_string(o.check))},
                                        passed);
    if (!inserted)
      entry->second = entry->second && passed;
  }
  for (const auto& [labels, passed] : up)
    s.transport_up.at(labels).Set(passed ? 1 : 0);
}

void Metrics::record_agents(State& s, const report::Report& report) {
  if (!report.agents)
    return;
  // Every status and the none-cause are exported from 0, so a rule can tell "no agent lost" from "not asked".
  std::map<std::string, double> by_status;
  for (auto status : {coderapi::AgentStatus::connecting, coderapi::AgentStatus::connected,
                      coderapi::AgentStatus::disconnected, coderapi::AgentStatus::timeout})
    by_status[std::string(coderapi::to_string(status))] = 0;
  std::map<std::string, double> by_cause{{"none", 0}};
  for (const analysis::AgentEntry& agent : *report.agents) {
    by_status[std::string(coderapi::to_string(agent.status))] += 1;
    if (!agent.lost())
      continue;
    if (agent.cause_codes.empty())
      by_cause["none"] += 1;
    for (analysis::Code code : agent.cause_codes)
      by_cause[std::string(analysis::to_string(code))] += 1;
  }
  for (const auto& [status, count] : by_status)
    s.agents.at({status}).Set(count);
  for (const auto& [code, count] : by_cause)
    s.agent_causes.at({code}).Set(count);
}

void Metrics::record_cycle(const report::Report& report, std::chrono::system_clock::time_point finished) {
  std::lock_guard lock(m_mutex);
  State& s = *m_state;
  // Families whose series follow the report: marked now, the ones not set again are swept below.
  s.dns_lookup_success.begin();
  s.dns_answer_match.begin();
  s.dns_answer_ttl.begin();
  s.http_up.begin();
  s.transport_up.begin();
  s.finding.begin();
  s.verdict.begin();
  s.agents.begin();
  s.agent_causes.begin();

  record_dns(s, report);
  record_http(s, report);
  record_transport(s, report);
  record_agents(s, report);
  for (const analysis::Finding& f : report.findings)
    s.finding.at({std::string(analysis::to_string(f.code)), std::string(analysis::to_string(f.severity))}).Set(1);
  s.verdict.at({std::string(analysis::to_string(report.verdict))}).Set(1);

  s.cycle_duration.at({}).Set(report.observations.cycle_ms / 1000.0);
  s.last_cycle_timestamp.at({}).Set(std::chrono::duration<double>(finished.time_since_epoch()).count());
  s.cycles_total.at({}).Increment();

  s.dns_lookup_success.sweep();
  s.dns_answer_match.sweep();
  s.dns_answer_ttl.sweep();
  s.http_up.sweep();
  s.transport_up.sweep();
  s.finding.sweep();
  s.verdict.sweep();
  s.agents.sweep();
  s.agent_causes.sweep();
}

void Metrics::record_held(const std::vector<HeldStats>& held, const CloseTotals& closes) {
  std::lock_guard lock(m_mutex);
  State& s = *m_state;
  std::map<std::vector<std::string>, double> age; // (url, via) -> the youngest connection's age
  for (const HeldStats& path : held) {
    std::vector<std::string> labels{path.base_url, std::string(probe::to_string(path.via))};
    double value = path.age_s.value_or(0);
    auto [entry, inserted] = age.emplace(labels, value);
    if (!inserted)
      entry->second = std::min(entry->second, value);
  }
  s.connection_age.begin();
  for (const auto& [labels, value] : age) {
    s.connection_age.at(labels).Set(value);
    s.closes_total.at({labels[0], labels[1], "closed_early"}); // exported from 0
  }
  s.connection_age.sweep();
  for (const auto& [labels, count] : closes) {
    prometheus::Counter& counter = s.closes_total.at(labels);
    double missing = static_cast<double>(count) - counter.Value();
    if (missing > 0)
      counter.Increment(missing);
  }
}

void Metrics::set_interval(std::chrono::milliseconds interval) {
  std::lock_guard lock(m_mutex);
  m_state->interval.at({}).Set(std::chrono::duration<double>(interval).count());
}

void Metrics::record_reload(bool succeeded) {
  std::lock_guard lock(m_mutex);
  m_state->reloads_total.at({succeeded ? "success" : "failure"}).Increment();
  m_state->last_reload_success.at({}).Set(succeeded ? 1 : 0);
}

void Metrics::set_metric_set(MetricSet set) {
  std::lock_guard lock(m_mutex);
  m_set = set;
}

std::string Metrics::render() const {
  std::lock_guard lock(m_mutex);
  std::vector<prometheus::MetricFamily> families = m_state->registry->Collect();
  if (m_set == MetricSet::minimal) {
    static const std::set<std::string> k_minimal = [] {
      std::set<std::string> names;
      for (const FamilySpec& family : family_table())
        if (family.minimal)
          names.emplace(family.name);
      return names;
    }();
    std::erase_if(families, [](const prometheus::MetricFamily& family) { return !k_minimal.contains(family.name); });
  }
  return exposition_text(families);
}

} // namespace coder_dns_doctor::daemon
