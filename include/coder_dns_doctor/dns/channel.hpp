// Layer 2 (dns; c-ares behind one type; uses util; see README "Layers").
// One c-ares channel: a resolution path (a list of servers) that many queries share.
// The channel does no waiting of its own; an event loop drives it through sockets() / process().
#pragma once

#include <coder_dns_doctor/dns/lookup.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::dns {

// The answer to one query, as values: a failure of the world is a status, never an exception.
struct Answer {
  LookupStatus status = LookupStatus::error;
  std::string detail;
  std::vector<util::IpAddress> addresses; // sorted, unique
  std::optional<std::uint32_t> ttl;
  std::vector<std::string> cname_chain;
  double duration_ms = 0;
  bool responded = true; // false when no server said anything (timeout, unreachable)
};

struct SocketInterest {
  int fd = -1;
  bool read = false;
  bool write = false;
};

class Channel {
public:
  struct Options {
    std::vector<util::Endpoint> servers;
    std::chrono::milliseconds timeout{2000}; // the whole lookup, across all servers
  };
  using Callback = std::function<void(Answer)>;

  // Create a channel that asks `options.servers` only (never /etc/resolv.conf's servers).
  static std::expected<std::unique_ptr<Channel>, std::string> create(const Options& options);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Ask `name` (absolute; a trailing dot is allowed) for A or AAAA; `done` runs from process().
  // Pending callbacks are dropped, not run, when the channel is destroyed or abandon()ed.
  void query(const std::string& name, Family family, Callback done);

  // Drop every pending query without running its callback, so a channel kept across probe cycles
  // starts the next one empty. c-ares then closes the channel's sockets, as it does whenever no
  // query is left: each cycle's lookups go out on fresh sockets, as a real client's do.
  void abandon();

  // Sockets c-ares wants watched right now.
  [[nodiscard]] std::vector<SocketInterest> sockets() const;
  // Handle readiness of `fd` (and any expired timeouts).
  void process(int fd, bool readable, bool writable);
  // Handle expired timeouts only.
  void process_timeouts();
  // Time until the next query timeout, or nullopt when nothing is pending.
  [[nodiscard]] std::optional<std::chrono::milliseconds> next_timeout() const;
  [[nodiscard]] std::size_t pending() const { return m_pending; }

private:
  struct State;
  explicit Channel(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
  std::size_t m_pending = 0;
  std::uint64_t m_generation = 0; // abandon() moves it; an answer of an older generation is dropped
};

} // namespace coder_dns_doctor::dns
