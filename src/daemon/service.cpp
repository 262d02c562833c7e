#include <coder_dns_doctor/core/version.hpp>
#include <coder_dns_doctor/daemon/holder.hpp>
#include <coder_dns_doctor/daemon/http_server.hpp>
#include <coder_dns_doctor/daemon/metrics.hpp>
#include <coder_dns_doctor/daemon/service.hpp>
#include <coder_dns_doctor/probe/channel_cache.hpp>
#include <coder_dns_doctor/report/html.hpp>
#include <coder_dns_doctor/report/runbook.hpp>
#include <coder_dns_doctor/transport/check.hpp>
#include <coder_dns_doctor/util/duration.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <pthread.h>
#include <random>
#include <thread>

namespace coder_dns_doctor::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One finished cycle as the HTTP handlers see it; never changed after publication.
struct Snapshot {
  std::uint64_t cycle = 0;
  report::Report report;                     // for /report and the status page, rendered on request
  std::vector<report::CycleVerdict> history; // the last cycles' verdicts, oldest first
  std::string runbook_url;                   // the configuration this cycle ran with (reloadable)
  bool serve_report = true;                  // likewise
  // The status page, rendered by the first request that asks for it (the listener's one thread;
  // the once_flag keeps it correct whatever thread asks): once per snapshot, not per request.
  mutable std::once_flag page_once;
  mutable std::string page_html;
  // /report, likewise: a cycle nobody asks about costs no JSON.
  mutable std::once_flag json_once;
  mutable std::string report_json;
};

constexpr std::size_t k_history_cycles = 60; // the status page's strip

std::int64_t ticks(Clock::time_point t) {
  return t.time_since_epoch().count();
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::vector<std::string> codes_of(const report::Report& report) {
  std::vector<std::string> codes;
  for (const auto& finding : report.findings)
    codes.emplace_back(analysis::to_string(finding.code));
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

nlohmann::json describe(const RunConfig& config) {
  std::vector<std::string> hosts;
  for (const auto& host : config.settings.plan.hosts)
    hosts.push_back(host.host);
  std::vector<std::string> resolvers;
  for (const auto& resolver : config.settings.plan.resolvers)
    resolvers.push_back(resolver.label);
  return {{"interval", util::format_duration(config.daemon.interval)},
          {"hosts", fmt::format("{}", fmt::join(hosts, ","))},
          {"resolvers", fmt::format("{}", fmt::join(resolvers, ","))}};
}

// The paths the cycle's derp-websocket checks reached, for the holder: every one it saw (so a held
// path stays while the cycle still checks it), `passed` where the check passed.
std::vector<HeldPath> held_paths(const report::Report& report, const doctor::Settings& settings) {
  std::vector<HeldPath> paths;
  for (const probe::TransportObservation& o : report.observations.transport) {
    if (o.check != transport::Check::derp_websocket)
      continue;
    auto base = util::parse_url(o.base_url);
    if (!base)
      continue;
    paths.push_back({.base_url = o.base_url,
                     .via = o.via,
                     .address = o.address,
                     .url = o.url,
                     .host_header = base->authority(),
                     .path = base->path + transport::path_of(o.check, settings.plan.agent_arch),
                     .timeout = settings.plan.timeout,
                     .ca_file = settings.plan.ca_file,
                     .passed = transport::passes(o.status)});
  }
  return paths;
}

class Service {
public:
  Service(RunConfig config, const Reloader& reload, Logger& logger)
      : m_config(std::move(config)), m_reload(reload), m_log(logger), m_metrics(core::version(), core::revision()) {
    m_interval_ms = m_config.daemon.interval.count();
    m_heartbeat = ticks(Clock::now());
    m_metrics.set_interval(m_config.daemon.interval);
    m_metrics.set_metric_set(m_config.daemon.metrics);
  }

  core::ExitStatus run() {
    // Signals arrive here, in sigwaitinfo, never in a handler: block them before any thread
    // (the listener's, the prober) exists so every thread inherits the mask. The prober's end is
    // one more signal (prober_done_signal(), sent to this thread), so the wait needs no timeout to
    // notice it: an idle daemon's main thread never wakes on its own.
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, prober_done_signal()})
      sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    m_main_thread = pthread_self();

    m_holder = std::make_unique<Holder>(HolderOptions{.hold_min = m_config.daemon.hold_min});
    auto server = HttpServer::start({.listen = m_config.daemon.listen, .page = [this] { return page(); }}, routes());
    if (!server) {
      m_log.error("cannot start the listener", {{"error", server.error()}});
      return core::ExitStatus::cannot_run;
    }
    nlohmann::json fields = describe(m_config);
    fields["listen"] = (*server)->address();
    m_log.info("listening", fields);

    std::thread prober([this] { prober_loop(); });
    pthread_setname_np(prober.native_handle(), "cdd-prober"); // as `top -H` and /proc/PID/task show it
    bool stopping = false;
    while (!m_prober_done) {
      int signal = sigwaitinfo(&signals, nullptr);
      if (signal == SIGHUP) {
        m_log.info("SIGHUP: reloading the configuration after the cycle in flight");
        request([this] { m_reload_pending = true; });
      } else if ((signal == SIGTERM || signal == SIGINT) && !stopping) {
        stopping = true;
        m_log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
        m_cancel = true;
        request([this] { m_stop = true; });
      }
    }
    prober.join();
    m_holder->stop(); // close the held connections
    server->reset();  // close the listener; requests in flight finish
    m_log.info("stopped");
    return m_failed ? core::ExitStatus::cannot_run : core::ExitStatus::ok;
  }

private:
  // Change the loop's wake-up conditions under its mutex, then wake it.
  template <typename F> void request(F change) {
    {
      std::lock_guard lock(m_wake_mutex);
      change();
    }
    m_wake.notify_all();
  }

  std::vector<Route> routes() {
    return {
        {"/metrics", "Prometheus metrics",
         [this] {
           m_metrics.record_held(m_holder->snapshot(), m_holder->close_totals());
           return Response{.content_type = "text/plain; version=0.0.4; charset=utf-8", .body = m_metrics.render()};
         }},
        {"/healthz", "200 while the probe loop makes progress, 503 when it stalled > 3 intervals",
         [this] { return healthz(); }},
        {"/readyz", "200 after the first complete cycle", [this] { return readyz(); }},
        {"/report", "the latest diagnose JSON document", [this] { return report(); }},
        {"/runbook", "what to do for each alert and finding (docs/runbook.md)", [] { return runbook(); }},
    };
  }

  Response healthz() const {
    auto idle = Clock::now() - Clock::time_point(Clock::duration(m_heartbeat.load()));
    auto threshold = stall_threshold(milliseconds(m_interval_ms.load()));
    if (idle > threshold)
      return {.status = 503,
              .body = fmt::format("stalled: no probe loop progress for {:.1f}s (threshold {:.1f}s)\n", seconds(idle),
                                  seconds(threshold))};
    return {.body = "ok\n"};
  }

  Response readyz() const {
    if (latest() == nullptr)
      return {.status = 503, .body = "not ready: no complete cycle yet\n"};
    return {.body = "ready\n"};
  }

  Response report() const {
    auto snapshot = latest();
    if (snapshot != nullptr && !snapshot->serve_report)
      return {.status = 404,
              .content_type = "application/json",
              .body = R"({"error": "not served: --report off"})"
                      "\n"};
    if (snapshot == nullptr)
      return {.status = 503,
              .content_type = "application/json",
              .body = R"({"error": "no complete cycle yet"})"
                      "\n"};
    std::call_once(snapshot->json_once,
                   [&] { snapshot->report_json = report::to_json(snapshot->report).dump(2) + "\n"; });
    return {.content_type = "application/json", .body = snapshot->report_json, .version = snapshot->cycle};
  }

  // The status page for a browser at `/`: built from the current snapshot by the first request.
  Response page() const {
    auto snapshot = latest();
    if (snapshot != nullptr && !snapshot->serve_report)
      return {.content_type = "text/html; charset=utf-8",
              .body = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>coder-dns-doctor</title>"
                      "</head><body><p>The status page is off (<code>--report off</code>). See <a "
                      "href=\"/metrics\">/metrics</a>, <a href=\"/healthz\">/healthz</a> and <a "
                      "href=\"/runbook\">/runbook</a>.</p></body></html>\n",
              .headers = page_headers()};
    if (snapshot == nullptr)
      return {.status = 503,
              .content_type = "text/html; charset=utf-8",
              .body = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
                      "content=\"1\"><title>coder-dns-doctor</title></head><body><p>No complete cycle yet.</p>"
                      "</body></html>\n",
              .headers = page_headers()};
    std::call_once(snapshot->page_once, [&] {
      auto interval = std::chrono::ceil<std::chrono::seconds>(milliseconds(m_interval_ms.load()));
      report::PageContext context{.history = snapshot->history,
                                  .version = std::string(core::version()),
                                  .revision = std::string(core::revision()),
                                  .refresh_seconds = static_cast<unsigned>(std::max<long long>(1, interval.count())),
                                  .runbook_base = snapshot->runbook_url};
      snapshot->page_html = report::to_html(snapshot->report, context);
    });
    return {.content_type = "text/html; charset=utf-8",
            .body = snapshot->page_html,
            .headers = page_headers(),
            .version = snapshot->cycle};
  }

  static Response runbook() {
    return {.content_type = "text/html; charset=utf-8",
            .body = report::runbook_html(),
            .headers = page_headers(),
            .version = 1}; // the embedded runbook never changes
  }

  // The pages allow nothing but their own inline style; they send no Referer to what they link.
  static std::vector<std::string> page_headers() {
    return {"Content-Security-Policy: " + report::page_security_policy(), "Referrer-Policy: no-referrer"};
  }

  std::shared_ptr<const Snapshot> latest() const {
    std::lock_guard lock(m_snapshot_mutex);
    return m_snapshot;
  }

  void publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(m_snapshot_mutex);
    m_snapshot = std::move(snapshot);
  }

  void beat() { m_heartbeat = ticks(Clock::now()); }

  void prober_loop() {
    try {
      loop();
    } catch (const std::exception& error) {
      m_log.error("probe loop failed", {{"error", error.what()}});
      m_failed = true;
    }
    m_prober_done = true;
    pthread_kill(m_main_thread, prober_done_signal());
  }

  // A real-time signal: queued, so it is not lost when it comes before the main thread waits,
  // and one no user sends by accident.
  static int prober_done_signal() { return SIGRTMIN; }

  void loop() {
    std::mt19937_64 random{std::random_device{}()};
    Clock::time_point next_start = Clock::now();
    std::uint64_t cycle = 0;
    while (wait_turn(next_start)) {
      ++cycle;
      beat();
      stall_if_asked(cycle);
      if (m_cancel)
        return;

      Clock::time_point started = Clock::now();
      const DaemonOptions& daemon = m_config.daemon;
      std::uniform_int_distribution<std::int64_t> spread(0, daemon.jitter.count());
      next_start = started + daemon.interval + milliseconds(spread(random));
      report::Report report;
      try {
        report = doctor::run_checkup(m_config.settings, &m_cancel, m_holder->facts(), &m_channels);
        m_channels.sweep(); // a reloaded plan's old servers go
      } catch (const std::exception& error) {
        // A daemon outlives one bad cycle: no snapshot, /readyz stays as it was, try again later.
        m_log.error("the cycle could not run", {{"cycle", cycle}, {"error", error.what()}});
        beat();
        continue;
      }
      if (m_cancel)
        return; // a cancelled cycle is incomplete: keep the last snapshot
      m_holder->update(daemon.hold_connections ? held_paths(report, m_config.settings) : std::vector<HeldPath>{});
      publish_cycle(cycle, std::move(report));
      if (Clock::now() - started > daemon.interval)
        m_log.warn("the cycle took longer than --interval; the next one starts right away",
                   {{"duration_ms", std::round(seconds(Clock::now() - started) * 1000)},
                    {"interval", util::format_duration(daemon.interval)}});
    }
  }

  // Sleep until `next_start`, applying a reload that arrives meanwhile (then the next cycle runs at
  // once, with the new settings); false when the daemon is stopping.
  bool wait_turn(Clock::time_point next_start) {
    std::unique_lock lock(m_wake_mutex);
    m_wake.wait_until(lock, next_start, [this] { return m_stop || m_reload_pending; });
    if (m_stop)
      return false;
    if (m_reload_pending) {
      m_reload_pending = false;
      lock.unlock();
      apply_reload();
    }
    return true;
  }

  void stall_if_asked(std::uint64_t cycle) {
    if (static_cast<std::uint64_t>(m_config.daemon.test_stall_cycle) != cycle)
      return;
    m_log.warn("TEST ONLY: --test-stall-cycle blocks this cycle until shutdown", {{"cycle", cycle}});
    while (!m_cancel)
      std::this_thread::sleep_for(milliseconds(20));
  }

  // Metrics, the /report snapshot, and one log line: info when the findings changed (warn when
  // broken), debug when they did not.
  void publish_cycle(std::uint64_t cycle, report::Report report) {
    m_metrics.record_cycle(report, std::chrono::system_clock::now());
    std::vector<std::string> codes = codes_of(report);
    analysis::Verdict verdict = report.verdict;
    double cycle_ms = report.observations.cycle_ms;
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->cycle = cycle;
    m_history.push_back({report.generated_at, verdict});
    if (m_history.size() > k_history_cycles)
      m_history.erase(m_history.begin());
    snapshot->history = m_history;
    snapshot->report = std::move(report); // the cycle's own: moved, not copied
    snapshot->runbook_url = m_config.daemon.runbook_url;
    snapshot->serve_report = m_config.daemon.serve_report;
    bool first = latest() == nullptr;
    publish(std::move(snapshot));
    beat();

    LogLevel level = LogLevel::debug;
    std::string_view message = "cycle complete";
    if (first) {
      level = LogLevel::info;
      message = "first cycle complete: ready";
    } else if (m_last_verdict != verdict || m_last_codes != codes) {
      level = verdict == analysis::Verdict::broken ? LogLevel::warn : LogLevel::info;
      message = "findings changed";
    }
    if (m_log.enabled(level)) // a steady cycle at the default level builds no log fields
      m_log.log(level, message,
                {{"cycle", cycle},
                 {"verdict", analysis::to_string(verdict)},
                 {"findings", fmt::format("{}", fmt::join(codes, ","))},
                 {"duration_ms", std::round(cycle_ms * 10) / 10}});
    m_last_verdict = verdict;
    m_last_codes = std::move(codes);
  }

  void apply_reload() {
    auto next = m_reload();
    if (!next) {
      m_metrics.record_reload(false);
      m_log.error("config reload failed; keeping the previous configuration", {{"error", next.error()}});
      return;
    }
    if (next->daemon.listen != m_config.daemon.listen)
      m_log.warn("a new --listen needs a restart; keeping the current listener",
                 {{"listen", m_config.daemon.listen}, {"requested", next->daemon.listen}});
    next->daemon.listen = m_config.daemon.listen;
    next->daemon.test_stall_cycle = m_config.daemon.test_stall_cycle;
    m_config = std::move(*next);
    m_log.configure(m_config.daemon.log_level, m_config.daemon.log_format);
    m_interval_ms = m_config.daemon.interval.count();
    m_metrics.set_interval(m_config.daemon.interval);
    m_metrics.set_metric_set(m_config.daemon.metrics);
    m_holder->set_hold_min(m_config.daemon.hold_min);
    m_metrics.record_reload(true);
    m_log.info("config reloaded", describe(m_config));
  }

  RunConfig m_config; // owned by the prober thread after start
  const Reloader& m_reload;
  Logger& m_log;
  Metrics m_metrics;
  std::unique_ptr<Holder> m_holder; // made in run(), after the signal mask
  probe::ChannelCache m_channels;   // the cycles' c-ares channels, used by the cycle thread only

  mutable std::mutex m_snapshot_mutex;
  std::shared_ptr<const Snapshot> m_snapshot;
  std::vector<report::CycleVerdict> m_history; // the prober thread's; copied into each snapshot

  std::mutex m_wake_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;           // guarded by m_wake_mutex
  bool m_reload_pending = false; // guarded by m_wake_mutex
  std::atomic<bool> m_cancel{false};
  std::atomic<bool> m_prober_done{false};
  pthread_t m_main_thread{}; // where run() waits for signals; set before the prober starts
  // What the last published cycle found, so only changes are logged at info.
  std::vector<std::string> m_last_codes;
  std::optional<analysis::Verdict> m_last_verdict;
  std::atomic<bool> m_failed{false};
  std::atomic<std::int64_t> m_heartbeat{0};   // steady clock ticks of the last loop progress
  std::atomic<std::int64_t> m_interval_ms{0}; // for /healthz, which runs on the listener's thread
};

} // namespace

core::ExitStatus serve(RunConfig config, const Reloader& reload, Logger& logger) {
  logger.configure(config.daemon.log_level, config.daemon.log_format);
  Service service(std::move(config), reload, logger);
  return service.run();
}

} // namespace coder_dns_doctor::daemon
