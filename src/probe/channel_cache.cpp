#include <coder_dns_doctor/probe/channel_cache.hpp>

namespace coder_dns_doctor::probe {

std::expected<dns::Channel*, std::string> ChannelCache::channel_for(const std::vector<util::Endpoint>& servers,
                                                                    std::chrono::milliseconds timeout,
                                                                    std::size_t occurrence) {
  std::vector<std::string> texts;
  texts.reserve(servers.size());
  for (const auto& server : servers)
    texts.push_back(server.to_string());
  Key key{std::move(texts), static_cast<long>(timeout.count()), occurrence};
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    auto made = dns::Channel::create({.servers = servers, .timeout = timeout});
    if (!made)
      return std::unexpected(made.error()); // not kept: the next cycle tries again
    it = m_entries.emplace(std::move(key), Entry{.channel = std::move(*made), .used = true}).first;
  }
  it->second.used = true;
  return it->second.channel.get();
}

void ChannelCache::sweep() {
  std::erase_if(m_entries, [](const auto& entry) { return !entry.second.used; });
  for (auto& [key, entry] : m_entries)
    entry.used = false;
}

} // namespace coder_dns_doctor::probe
