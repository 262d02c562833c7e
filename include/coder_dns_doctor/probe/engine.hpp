// One probe cycle: every DNS lookup and HTTP request of a Plan, concurrently, in one poll loop.
#pragma once

#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <atomic>

namespace coder_dns_doctor::probe {

// Run every check of `plan` once. HTTP checks start as soon as their inputs exist: pinned ones at
// once (to the addresses of `truth`), DNS-routed ones when the lookup that yields their address
// finishes; so a cycle lasts as long as its slowest chain, not the sum. Setting `cancel` makes the
// cycle stop at the next loop turn with what it has. Never throws for failures of the world.
[[nodiscard]] Observations run_cycle(const Plan& plan, const truth::Truth& truth,
                                     const std::atomic<bool>* cancel = nullptr);

} // namespace coder_dns_doctor::probe
