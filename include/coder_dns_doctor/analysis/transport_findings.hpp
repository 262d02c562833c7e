// Transport observations (WebSocket, DERP, the agent's routes) -> AGENT_TRANSPORT_BLOCKED,
// DERP_UPGRADE_BLOCKED, TRANSPORT_CUT_BY_PROXY, NOT_CODERD. Pure, like analyze().
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>

#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::analysis {

// What serve's continuously held DERP connection of one path saw (daemon::Holder): the lifetimes of
// its recent connections that closed before `hold_min_s`. Facts, not a clock: the daemon decides
// what "recent" is.
struct HeldConnection {
  std::string url; // the configured base URL
  probe::Via via = probe::Via::dns;
  util::IpAddress address;
  std::vector<double> early_closes_s; // lifetime of each recent connection closed before hold_min_s
  double hold_min_s = 75;
};

// Closes before --hold-min on one path that make TRANSPORT_CUT_BY_PROXY in serve: one may be a
// restart of coderd or of the proxy, two in the recent window are a pattern.
inline constexpr std::size_t k_early_closes_for_cut = 2;

// Findings about the agent's own connection, at most one per code and URL:
// - AGENT_TRANSPORT_BLOCKED: a path whose /healthz is OK fails the DERP-map or DERP WebSocket
//   (not_sent and passing statuses do not count);
// - DERP_UPGRADE_BLOCKED: a path whose DERP WebSocket works fails `Upgrade: DERP`;
// - TRANSPORT_CUT_BY_PROXY: a held DERP connection closed before its hold ended (diagnose --hold),
//   or serve's held connection of a path closed before --hold-min k_early_closes_for_cut times
//   (`held`); one finding per URL with the evidence of both;
// - NOT_CODERD: an address gave at least one 2xx answer and none of its answers carried
//   X-Coder-Build-Version (a proxy's 502 alone says nothing about what is behind it).
[[nodiscard]] std::vector<Finding> check_transport(const probe::Plan& plan, const probe::Observations& observations,
                                                   const std::vector<HeldConnection>& held = {});
// The evidence line of a path whose held connections were cut; nullopt below the threshold.
[[nodiscard]] std::optional<std::string> held_cut_line(const HeldConnection& held);

} // namespace coder_dns_doctor::analysis
