// Transport observations (WebSocket, DERP, the agent's routes) -> AGENT_TRANSPORT_BLOCKED,
// DERP_UPGRADE_BLOCKED, TRANSPORT_CUT_BY_PROXY, NOT_CODERD. Pure, like analyze().
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>

#include <vector>

namespace coder_dns_doctor::analysis {

// Findings about the agent's own connection, at most one per code and URL:
// - AGENT_TRANSPORT_BLOCKED: a path whose /healthz is OK fails the DERP-map or DERP WebSocket
//   (not_sent and passing statuses do not count);
// - DERP_UPGRADE_BLOCKED: a path whose DERP WebSocket works fails `Upgrade: DERP`;
// - TRANSPORT_CUT_BY_PROXY: a held DERP connection closed before its hold ended;
// - NOT_CODERD: an address gave at least one 2xx answer and none of its answers carried
//   X-Coder-Build-Version (a proxy's 502 alone says nothing about what is behind it).
[[nodiscard]] std::vector<Finding> check_transport(const probe::Plan& plan, const probe::Observations& observations);

} // namespace coder_dns_doctor::analysis
