// libFuzzer target: reading the agent's Coder host out of init scripts, shell commands and pod
// lists (k8s/workspace.hpp) must never crash or throw, and a host it returns must be one a URL
// can carry: non-empty, lower case, no userinfo, port, path or brackets (an IPv6 literal is kept
// in canonical form). A pod whose agent host is unreadable is listed with an empty host.
#include <coder_dns_doctor/k8s/workspace.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace k8s = coder_dns_doctor::k8s;
namespace util = coder_dns_doctor::util;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant broken: %s: '%.*s'\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void check_host(const std::optional<std::string>& host) {
  if (!host)
    return;
  if (host->empty())
    fail("an empty host", *host);
  if (host->find(':') != std::string::npos) {
    auto ip = util::parse_ip(*host);
    if (!ip || ip->family != util::AddressFamily::ipv6 || ip->text != *host)
      fail("a host with ':' that is not a canonical IPv6 literal", *host);
    return;
  }
  if (host->size() > 253)
    fail("a host longer than 253 characters", *host);
  for (char c : *host)
    if (!(std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
          c == '-' || c == '.' || c == '_'))
      fail("a host with a character no host name has", *host);
}

} // namespace

// Input: one selector byte, then the text. Selector % 3: a script, the text right after a URL
// start, or a PodList (JSON) whose pods carry the text as their init script and agent URL.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
  case 0: check_host(k8s::agent_host_in_script(text)); break;
  case 1: check_host(k8s::host_of_url_at(text)); break;
  default: {
    // Arbitrary JSON as a pod list: agent_pods must answer (a list or an error), whatever the shape.
    auto list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (list.is_discarded()) {
      // Not JSON: put the text where the script and URL go in a well-formed pod.
      std::string script(text);
      list = nlohmann::json{
          {"items",
           nlohmann::json::array({nlohmann::json{
               {"metadata", {{"name", "ws"}, {"namespace", "coder-workspace"}}},
               {"spec",
                {{"containers",
                  nlohmann::json::array({nlohmann::json{
                      {"name", "dev"},
                      {"command", {"sh", "-c", script}},
                      {"env", nlohmann::json::array(
                                  {nlohmann::json{{"name", "CODER_AGENT_TOKEN"}, {"value", "t"}},
                                   nlohmann::json{{"name", "CODER_AGENT_URL"}, {"value", script}}})}}})}}}}})}};
    }
    auto pods = k8s::agent_pods(list);
    if (pods)
      for (const auto& pod : *pods) {
        // An agent pod whose host could not be read is listed with an empty host and origin.
        if (pod.host.empty() != pod.origin.empty())
          fail("a host without an origin, or an origin without a host", pod.origin);
        if (!pod.host.empty())
          check_host(pod.host);
      }
    break;
  }
  }
  return 0;
}
