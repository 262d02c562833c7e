#include <coder_dns_doctor/daemon/holder.hpp>

#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/transport/session.hpp>

#include <curl/curl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <tuple>

namespace coder_dns_doctor::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Key = std::tuple<std::string, probe::Via, util::IpAddress>; // base URL, route, address

constexpr milliseconds k_max_wait{1000};       // the loop wakes at least this often while it holds
constexpr milliseconds k_idle_wait{3'600'000}; // holding nothing: update() and stop() wake it

Key key_of(const HeldPath& path) {
  return {path.base_url, path.via, path.address};
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// What the holder's thread alone touches: one path's connection and its reconnect schedule.
struct Connection {
  HeldPath path;
  std::unique_ptr<transport::Session> session;
  bool connecting = false;
  Clock::time_point next_attempt;
  milliseconds backoff{0};
};

// What snapshot() reads, under the mutex.
struct Shared {
  HeldStats stats;
  std::optional<Clock::time_point> held_since;
  std::deque<std::pair<Clock::time_point, double>> early; // (when, lifetime)
};

} // namespace

std::string close_cause(std::optional<double> held_s, std::string_view status, milliseconds hold_min) {
  if (held_s)
    return *held_s < seconds(hold_min) ? "closed_early" : "closed";
  return std::string(status);
}

struct Holder::State {
  explicit State(HolderOptions o) : options(o), wake_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~State() {
    if (wake_fd >= 0)
      close(wake_fd);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  mutable std::mutex mutex;
  HolderOptions options;                        // guarded by mutex
  std::optional<std::vector<HeldPath>> pending; // guarded by mutex
  std::map<Key, Shared> shared;                 // guarded by mutex
  CloseTotals totals;                           // guarded by mutex
  std::atomic<bool> stopping{false};
  int wake_fd = -1;
  std::thread thread;

  void wake() const {
    if (wake_fd >= 0) {
      std::uint64_t one = 1;
      (void)!write(wake_fd, &one, sizeof one);
    }
  }

  void drain() const {
    std::uint64_t count = 0;
    if (wake_fd >= 0)
      (void)!read(wake_fd, &count, sizeof count);
  }

  HolderOptions current() const {
    std::lock_guard lock(mutex);
    return options;
  }

  void run() {
    http::Client client;
    std::map<Key, Connection> connections; // destroyed before the client: every Stream first
    while (!stopping) {
      apply_pending(connections);
      start_due(client, connections, Clock::now());
      wait(client, connections);
      client.perform();
      step(connections, Clock::now());
    }
    connections.clear();
  }

  // Take the latest update(): keep the paths still seen, drop the others, add new passing ones.
  void apply_pending(std::map<Key, Connection>& connections) {
    std::lock_guard lock(mutex);
    if (!pending)
      return;
    std::map<Key, HeldPath> seen;
    for (HeldPath& path : *pending)
      seen.emplace(key_of(path), std::move(path));
    pending.reset();
    std::erase_if(connections, [&](const auto& entry) { return !seen.contains(entry.first); });
    std::erase_if(shared, [&](const auto& entry) { return !seen.contains(entry.first); });
    for (auto& [key, path] : seen) {
      if (connections.contains(key) || !path.passed || connections.size() >= options.max_paths)
        continue;
      Shared& entry = shared[key];
      entry.stats.base_url = path.base_url;
      entry.stats.via = path.via;
      entry.stats.address = path.address;
      connections.emplace(key, Connection{.path = std::move(path),
                                          .session = nullptr,
                                          .connecting = false,
                                          .next_attempt = Clock::now(),
                                          .backoff = milliseconds(0)});
    }
  }

  void start_due(http::Client& client, std::map<Key, Connection>& connections, Clock::time_point now) {
    for (auto& [key, connection] : connections) {
      if (connection.session || connection.connecting || now < connection.next_attempt)
        continue;
      connection.connecting = true;
      const HeldPath& path = connection.path;
      http::Request request{
          .url = path.url, .connect_to = path.address, .timeout = path.timeout, .ca_file = path.ca_file};
      client.connect(request, [this, &connections, key](http::Response response, std::unique_ptr<http::Stream> stream) {
        auto found = connections.find(key);
        if (found == connections.end())
          return; // dropped meanwhile: the stream closes here
        on_connected(key, found->second, std::move(response), std::move(stream));
      });
    }
  }

  void on_connected(const Key& key, Connection& connection, http::Response response,
                    std::unique_ptr<http::Stream> stream) {
    connection.connecting = false;
    if (!stream) {
      transport::Result failed = transport::judge_http(transport::Check::derp_websocket, response);
      ended(key, connection, failed, Clock::now());
      return;
    }
    transport::SessionOptions session{.check = transport::Check::derp_websocket,
                                      .host_header = connection.path.host_header,
                                      .path = connection.path.path,
                                      .timeout = connection.path.timeout,
                                      .hold = transport::k_hold_forever};
    connection.session = std::make_unique<transport::Session>(std::move(session), std::move(stream), Clock::now());
  }

  void wait(http::Client& client, const std::map<Key, Connection>& connections) const {
    auto now = Clock::now();
    // Nothing held or due: sleep until update() or stop() writes the wake descriptor.
    milliseconds timeout = connections.empty() ? k_idle_wait : k_max_wait;
    auto until = [&](Clock::time_point when) {
      if (when != Clock::time_point::max())
        timeout = std::min(timeout, std::max(std::chrono::ceil<milliseconds>(when - now), milliseconds(0)));
    };
    std::vector<http::WaitDescriptor> waits{{wake_fd, CURL_WAIT_POLLIN, 0}};
    for (const auto& [key, connection] : connections) {
      if (connection.session && connection.session->socket() >= 0) {
        auto events =
            static_cast<short>(CURL_WAIT_POLLIN | (connection.session->wants_write() ? CURL_WAIT_POLLOUT : 0));
        waits.push_back({connection.session->socket(), events, 0});
        until(connection.session->deadline());
      } else if (!connection.session && !connection.connecting) {
        until(connection.next_attempt);
      }
    }
    if (auto next = client.next_timeout())
      timeout = std::min(timeout, *next);
    client.poll(waits, timeout);
    if (waits.front().revents != 0)
      drain();
  }

  void step(std::map<Key, Connection>& connections, Clock::time_point now) {
    for (auto& [key, connection] : connections) {
      if (!connection.session)
        continue;
      if (!connection.session->step(now)) {
        if (connection.session->holding())
          mark_held(key, now);
        continue;
      }
      transport::Result result = connection.session->result();
      connection.session.reset();
      ended(key, connection, result, now);
    }
  }

  void mark_held(const Key& key, Clock::time_point now) {
    std::lock_guard lock(mutex);
    auto found = shared.find(key);
    if (found != shared.end() && !found->second.held_since)
      found->second.held_since = now;
  }

  // Count how the connection ended and schedule the next one.
  void ended(const Key& key, Connection& connection, const transport::Result& result, Clock::time_point now) {
    std::lock_guard lock(mutex);
    std::string cause = close_cause(result.held_s, transport::to_string(result.status), options.hold_min);
    bool lived = cause == "closed";
    connection.backoff = lived || connection.backoff.count() == 0
                             ? options.backoff_min
                             : std::min(connection.backoff * 2, options.backoff_max);
    connection.next_attempt = now + connection.backoff;
    auto found = shared.find(key);
    if (found == shared.end())
      return;
    Shared& entry = found->second;
    entry.held_since.reset();
    ++entry.stats.closes[cause];
    ++totals[{std::get<0>(key), std::string(probe::to_string(std::get<1>(key))), cause}];
    entry.stats.last_detail = result.detail;
    if (cause == "closed_early" && result.held_s) {
      entry.early.emplace_back(now, *result.held_s);
      while (entry.early.size() > options.recent_max)
        entry.early.pop_front();
    }
  }
};

Holder::Holder(HolderOptions options) : m_state(std::make_unique<State>(options)) {
  m_state->thread = std::thread([state = m_state.get()] { state->run(); });
  pthread_setname_np(m_state->thread.native_handle(), "cdd-holder");
}

Holder::~Holder() {
  stop();
}

void Holder::update(std::vector<HeldPath> paths) {
  {
    std::lock_guard lock(m_state->mutex);
    // Nothing to hold and nothing held (a path is in `shared` exactly while it has a connection):
    // applying the update would change nothing, so the loop is left asleep.
    if (paths.empty() && m_state->shared.empty() && !m_state->pending)
      return;
    m_state->pending = std::move(paths);
  }
  m_state->wake();
}

void Holder::set_hold_min(milliseconds hold_min) {
  std::lock_guard lock(m_state->mutex);
  m_state->options.hold_min = hold_min;
}

std::vector<HeldStats> Holder::snapshot() const {
  auto now = Clock::now();
  std::lock_guard lock(m_state->mutex);
  std::vector<HeldStats> out;
  for (const auto& [key, entry] : m_state->shared) {
    HeldStats stats = entry.stats;
    if (entry.held_since)
      stats.age_s = seconds(now - *entry.held_since);
    for (const auto& [when, lifetime] : entry.early)
      if (now - when <= m_state->options.recent)
        stats.early_closes_s.push_back(lifetime);
    out.push_back(std::move(stats));
  }
  return out;
}

CloseTotals Holder::close_totals() const {
  std::lock_guard lock(m_state->mutex);
  return m_state->totals;
}

std::vector<analysis::HeldConnection> Holder::facts() const {
  double hold_min_s = seconds(m_state->current().hold_min);
  std::vector<analysis::HeldConnection> out;
  for (HeldStats& stats : snapshot())
    out.push_back({.url = std::move(stats.base_url),
                   .via = stats.via,
                   .address = stats.address,
                   .early_closes_s = std::move(stats.early_closes_s),
                   .hold_min_s = hold_min_s});
  return out;
}

void Holder::stop() {
  if (m_state->stopping.exchange(true))
    return;
  m_state->wake();
  if (m_state->thread.joinable())
    m_state->thread.join();
}

} // namespace coder_dns_doctor::daemon
