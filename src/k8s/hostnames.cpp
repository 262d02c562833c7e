#include <coder_dns_doctor/k8s/hostnames.hpp>

#include <coder_dns_doctor/dns/channel.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <poll.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace coder_dns_doctor::k8s {
namespace {

using Clock = std::chrono::steady_clock;

struct Lookup {
  std::string resolver;
  std::string hostname;
  probe::Family family = probe::Family::a;
  std::optional<dns::Answer> answer;
};

} // namespace

ResolvedClaims resolve_hostnames(const std::vector<HostnameClaim>& claims,
                                 const std::vector<probe::ResolverPlan>& resolvers,
                                 const std::vector<probe::Family>& families, std::chrono::milliseconds timeout,
                                 const std::atomic<bool>* cancel) {
  ResolvedClaims out;
  if (claims.empty())
    return out;
  std::set<std::string> hostnames;
  for (const auto& claim : claims)
    hostnames.insert(claim.hostname);

  std::vector<std::unique_ptr<dns::Channel>> channels;
  std::vector<std::unique_ptr<Lookup>> lookups;
  for (const auto& resolver : resolvers) {
    if (resolver.servers.empty())
      continue;
    auto channel = dns::Channel::create({.servers = resolver.servers, .timeout = timeout});
    if (!channel)
      continue;
    for (const std::string& hostname : hostnames)
      for (probe::Family family : families) {
        auto lookup = std::make_unique<Lookup>(Lookup{resolver.label, hostname, family, std::nullopt});
        Lookup* raw = lookup.get();
        lookups.push_back(std::move(lookup));
        (*channel)->query(hostname + ".", family, [raw](dns::Answer answer) { raw->answer = std::move(answer); });
      }
    channels.push_back(std::move(*channel));
  }

  // one small poll loop over every channel; bounded by the lookup timeout plus a margin
  auto deadline = Clock::now() + timeout + std::chrono::milliseconds(500);
  auto pending = [&] {
    std::size_t total = 0;
    for (const auto& channel : channels)
      total += channel->pending();
    return total;
  };
  while (pending() > 0 && Clock::now() < deadline && (cancel == nullptr || !cancel->load())) {
    std::vector<pollfd> fds;
    std::vector<dns::Channel*> owners;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    for (const auto& channel : channels) {
      for (const auto& socket : channel->sockets()) {
        short events = static_cast<short>((socket.read ? POLLIN : 0) | (socket.write ? POLLOUT : 0));
        fds.push_back({socket.fd, events, 0});
        owners.push_back(channel.get());
      }
      if (auto next = channel->next_timeout())
        wait = std::min(wait, *next);
    }
    wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
    ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0)
        owners[i]->process(fds[i].fd, (fds[i].revents & ~POLLOUT) != 0, (fds[i].revents & POLLOUT) != 0);
    for (const auto& channel : channels)
      if (auto next = channel->next_timeout(); next && next->count() == 0)
        channel->process_timeouts();
  }

  // hostname -> addresses, and who said so
  std::map<std::string, std::set<std::string>> addresses;
  std::map<std::string, std::set<std::string>> answered_by;
  for (const auto& lookup : lookups) {
    if (!lookup->answer || lookup->answer->status != probe::LookupStatus::ok)
      continue;
    addresses[lookup->hostname].insert(lookup->answer->addresses.begin(), lookup->answer->addresses.end());
    answered_by[lookup->hostname].insert(lookup->resolver);
  }
  for (const auto& claim : claims) {
    const auto& found = addresses[claim.hostname];
    if (found.empty()) {
      out.notes.push_back(fmt::format("{}: load-balancer hostname {} did not resolve through any resolver; no truth "
                                      "from it for {}",
                                      claim.source, claim.hostname, claim.host));
      continue;
    }
    std::vector<std::string> list(found.begin(), found.end());
    out.entries.push_back({claim.host, list, claim.source});
    const auto& who = answered_by[claim.hostname];
    out.notes.push_back(fmt::format("{}: load-balancer hostname {} resolved to {} (via {})", claim.source,
                                    claim.hostname, util::join(list, ", "),
                                    util::join({who.begin(), who.end()}, ", ")));
  }
  return out;
}

} // namespace coder_dns_doctor::k8s
