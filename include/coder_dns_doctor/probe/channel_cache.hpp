// Layer 4 (probe: the probe engine; uses dns, util). See README "Layers".
// The c-ares channels of a daemon's probe cycles, kept from one cycle to the next.
#pragma once

#include <coder_dns_doctor/dns/channel.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <chrono>
#include <cstddef>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace coder_dns_doctor::probe {

// Setting up a c-ares channel (ares_init_options: the system's resolver configuration read and
// parsed, the server state allocated) and tearing it down were about half of the CPU of a
// DNS-only `serve` cycle (callgrind, 6 lookups a cycle). A cache hands a cycle the channel its
// previous cycle used for the same servers and time budget. What a lookup sees does not change:
// the cycle abandons what it left pending, and c-ares (1.18, Debian 12) closes a channel's sockets
// whenever no query is left, so every cycle still asks on fresh sockets and keeps no per-server
// state between cycles. Not thread-safe: one cycle at a time.
class ChannelCache {
public:
  // The channel for the `occurrence`-th resolver of a cycle asking `servers` (one channel per
  // resolver, as a cycle without a cache has), or why none can be made.
  std::expected<dns::Channel*, std::string> channel_for(const std::vector<util::Endpoint>& servers,
                                                        std::chrono::milliseconds timeout, std::size_t occurrence);

  // Forget the channels no cycle asked for since the last sweep (a reloaded plan's old servers).
  void sweep();

  [[nodiscard]] std::size_t size() const { return m_entries.size(); }

private:
  using Key = std::tuple<std::vector<std::string>, long, std::size_t>;
  struct Entry {
    std::unique_ptr<dns::Channel> channel;
    bool used = true; // asked for since the last sweep
  };
  std::map<Key, Entry> m_entries;
};

} // namespace coder_dns_doctor::probe
