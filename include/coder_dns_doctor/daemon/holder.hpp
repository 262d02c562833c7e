// Layer 8 (daemon; uses transport, http, probe, analysis; see README "Layers").
// serve's held DERP connections: one DERP WebSocket per path, open for as long as the path lets it
// live (transport::Session with k_hold_forever), reconnected with backoff when it closes. Its own
// thread, http::Client and poll loop, so a held connection never delays a cycle. The cycle tells it
// which paths exist (update()); metrics and analysis read a snapshot().
#pragma once

#include <coder_dns_doctor/analysis/transport_findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::daemon {

struct HolderOptions {
  // A connection that closes sooner is `closed_early`; one that lived this long resets the backoff.
  std::chrono::milliseconds hold_min{75'000};
  std::size_t max_paths = 16;                   // paths beyond this are not held
  std::chrono::milliseconds backoff_min{1'000}; // the wait before the first reconnect
  std::chrono::milliseconds backoff_max{60'000};
  std::chrono::milliseconds recent{15 * 60'000}; // early closes older than this are forgotten
  std::size_t recent_max = 32;                   // ... and at most this many are kept per path
};

// One path to hold, as the cycle's derp-websocket check reached it.
struct HeldPath {
  std::string base_url; // the configured URL (label `url`)
  probe::Via via = probe::Via::dns;
  util::IpAddress address;
  std::string url;         // the /derp URL requested
  std::string host_header; // as the cycle's check sent it
  std::string path;
  std::chrono::milliseconds timeout{2000}; // of the connect and of the upgrade
  std::string ca_file;
  bool passed = false; // the cycle's check passed: only then is a new path held
};

// What one held path has seen since it was first held.
struct HeldStats {
  std::string base_url;
  probe::Via via = probe::Via::dns;
  util::IpAddress address;
  std::optional<double> age_s;                 // of the current connection; nullopt when none
  std::map<std::string, std::uint64_t> closes; // by cause: closed_early, closed, refused, timeout, ...
  std::vector<double> early_closes_s;          // lifetimes of the recent closed_early connections
  std::optional<std::string> last_detail;      // how the last connection ended
};

// Why a held connection ended, as the `cause` label says it: a held connection that closed
// (however: a close frame, EOF, a reset) is `closed_early` when it lived less than `hold_min`,
// else `closed`; one that never got held is its transport::Status name (refused, timeout, ...).
[[nodiscard]] std::string close_cause(std::optional<double> held_s, std::string_view status,
                                      std::chrono::milliseconds hold_min);

// Closes since start by (url, via, cause), summed over a path's addresses; kept when a path goes.
using CloseTotals = std::map<std::vector<std::string>, std::uint64_t>;

class Holder {
public:
  explicit Holder(HolderOptions options = {});
  ~Holder(); // stop()
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  // The paths the last cycle saw: existing ones stay held (untouched), paths not in `paths` are
  // closed and forgotten, new ones are held when their check passed. Returns at once.
  void update(std::vector<HeldPath> paths);
  // A new --hold-min (a reload); connections stay.
  void set_hold_min(std::chrono::milliseconds hold_min);
  // Every held path, in (url, via, address) order.
  [[nodiscard]] std::vector<HeldStats> snapshot() const;
  [[nodiscard]] CloseTotals close_totals() const;
  // The facts analysis::evaluate takes (the early closes of the recent window).
  [[nodiscard]] std::vector<analysis::HeldConnection> facts() const;
  // Close every connection and join the thread (idempotent; bounded by one poll wake-up).
  void stop();

private:
  struct State;
  std::unique_ptr<State> m_state;
};

} // namespace coder_dns_doctor::daemon
