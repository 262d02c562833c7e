// Layer 4 (probe: the probe engine; uses dns, http, truth, util; not k8s or analysis).
// See README "Layers".
// One probe cycle: every DNS lookup and HTTP request of a Plan, concurrently, in one poll loop.
#pragma once

#include <coder_dns_doctor/probe/channel_cache.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace coder_dns_doctor::probe {

// Run every check of `plan` once. HTTP checks start as soon as their inputs exist: pinned ones at
// once (to the addresses of `truth`), DNS-routed ones when the lookup that yields their address
// finishes; so a cycle lasts as long as its slowest chain, not the sum. Setting `cancel` makes the
// cycle stop at the next loop turn with what it has. `channels`: where a daemon keeps its c-ares
// channels across cycles (nullptr: the cycle makes its own). Never throws for failures of the world.
[[nodiscard]] Observations run_cycle(const Plan& plan, const truth::Truth& truth,
                                     const std::atomic<bool>* cancel = nullptr, ChannelCache* channels = nullptr);

// Look up each of `names` (absolute, the plan's families) through every resolver of `plan` that
// asks servers, in the same loop and per-server in-flight window as a cycle: no HTTP, no search
// list, no hosts file. For names learnt from the cluster (load-balancer hostnames) that stand for
// addresses. One observation per (name, resolver, family); `host` is the name.
[[nodiscard]] std::vector<DnsObservation> look_up_names(const Plan& plan, const std::vector<std::string>& names,
                                                        const std::atomic<bool>* cancel = nullptr);

} // namespace coder_dns_doctor::probe
