#include <coder_dns_doctor/k8s/json_access.hpp>
#include <coder_dns_doctor/k8s/workspace.hpp>

#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::k8s {
namespace {

using nlohmann::json;

constexpr std::string_view k_agent_url = "CODER_AGENT_URL";

// Characters that end a host inside shell text: quoting, expansion, path, port, whitespace.
bool ends_host(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '/' || c == ':' || c == '"' || c == '\'' ||
         c == '`' || c == '$' || c == '}' || c == ')' || c == '\\' || c == ';' || c == '?' || c == '#' || c == '&' ||
         c == '|' || c == '<' || c == '>' || c == ',';
}

bool valid_host(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == ':';
  });
}

// Find the first "http://" or "https://" in `text` at or after `from`, up to `limit` characters.
std::size_t find_url(std::string_view text, std::size_t from, std::size_t limit = std::string_view::npos) {
  std::size_t end = limit == std::string_view::npos ? text.size() : std::min(text.size(), from + limit);
  for (std::size_t at = text.find("http", from); at != std::string_view::npos && at < end;
       at = text.find("http", at + 1))
    if (text.substr(at).starts_with("http://") || text.substr(at).starts_with("https://"))
      return at;
  return std::string_view::npos;
}

} // namespace

std::optional<std::string> host_of_url_at(std::string_view text) {
  std::size_t scheme = text.starts_with("https://") ? 8 : text.starts_with("http://") ? 7 : 0;
  if (scheme == 0)
    return std::nullopt;
  std::string_view rest = text.substr(scheme);
  // userinfo ends at '@' before the path starts
  std::size_t authority_end = 0;
  while (authority_end < rest.size() && rest[authority_end] != '/' &&
         std::isspace(static_cast<unsigned char>(rest[authority_end])) == 0 && rest[authority_end] != '"' &&
         rest[authority_end] != '\'')
    ++authority_end;
  std::string_view authority = rest.substr(0, authority_end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    rest = rest.substr(at + 1);
  std::string host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    host = std::string(rest.substr(1, close - 1));
    auto ip = util::parse_ip(host);
    if (!ip || ip->family != util::AddressFamily::ipv6)
      return std::nullopt;
    return ip->text;
  }
  std::size_t end = 0;
  while (end < rest.size() && !ends_host(rest[end]))
    ++end;
  host = util::to_lower(rest.substr(0, end));
  if (!host.empty() && host.back() == '.')
    host.pop_back();
  if (!valid_host(host) || host.find(':') != std::string::npos)
    return std::nullopt;
  return host;
}

std::optional<std::string> agent_host_in_script(std::string_view script) {
  // 1. CODER_AGENT_URL=<url>, in any quoting (export X="..", X='..', X=${X:-..}); the last
  //    assignment is the one in force when the agent starts.
  std::optional<std::string> assigned;
  for (std::size_t at = script.find(k_agent_url); at != std::string_view::npos;
       at = script.find(k_agent_url, at + k_agent_url.size())) {
    std::size_t after = at + k_agent_url.size();
    if (after >= script.size() || script[after] != '=')
      continue;
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(script[at - 1])) != 0 || script[at - 1] == '_'))
      continue; // part of a longer name
    // the value runs to the end of the line (or of the command)
    std::size_t line_end = script.find_first_of("\n;", after);
    std::size_t span = (line_end == std::string_view::npos ? script.size() : line_end) - after;
    std::size_t url = find_url(script, after + 1, span);
    if (url == std::string_view::npos)
      continue;
    if (auto host = host_of_url_at(script.substr(url)))
      assigned = host;
  }
  if (assigned)
    return assigned;
  // 2. the agent download: <access URL>/bin/coder-<os>-<arch>
  for (std::size_t url = find_url(script, 0); url != std::string_view::npos; url = find_url(script, url + 1)) {
    std::size_t end = url;
    while (end < script.size() && std::isspace(static_cast<unsigned char>(script[end])) == 0 && script[end] != '"' &&
           script[end] != '\'')
      ++end;
    std::string_view candidate = script.substr(url, end - url);
    if (candidate.find("/bin/coder-") != std::string_view::npos)
      if (auto host = host_of_url_at(candidate))
        return host;
  }
  return std::nullopt;
}

std::vector<HostAlias> host_aliases_of(const json& pod) {
  std::vector<HostAlias> aliases;
  const json* entries = member(child(pod, "spec"), "hostAliases");
  if (entries == nullptr || !entries->is_array())
    return aliases;
  for (const json& entry : *entries) {
    auto address = util::parse_ip(text_at(entry, "ip"));
    const json* names = member(entry, "hostnames");
    if (!address || names == nullptr || !names->is_array())
      continue;
    HostAlias alias{.address = address->text, .hostnames = {}};
    for (const json& name : *names)
      if (name.is_string()) {
        std::string host = util::to_lower(util::trim(name.get_ref<const std::string&>()));
        while (!host.empty() && host.back() == '.')
          host.pop_back();
        if (!host.empty())
          alias.hostnames.push_back(std::move(host));
      }
    if (!alias.hostnames.empty())
      aliases.push_back(std::move(alias));
  }
  return aliases;
}

namespace {

// What one pod's containers say about its agent.
struct AgentEvidence {
  bool has_token = false;                  // some container carries CODER_AGENT_TOKEN
  std::optional<AgentPodHost> from_script; // the init script (env or command/args): what the agent dials
  std::optional<AgentPodHost> from_env;    // CODER_AGENT_URL, which the script overwrites
};

void read_env(const json& container, const std::string& pod, AgentEvidence& evidence) {
  const json* env = member(container, "env");
  if (env == nullptr || !env->is_array())
    return;
  for (const json& variable : *env) {
    std::string variable_name = text_at(variable, "name");
    if (variable_name == "CODER_AGENT_TOKEN") {
      evidence.has_token = true;
    } else if (variable_name == "ENVBUILDER_INIT_SCRIPT" && !evidence.from_script) {
      if (auto host = agent_host_in_script(text_at(variable, "value")))
        evidence.from_script = AgentPodHost{pod, *host, "ENVBUILDER_INIT_SCRIPT", {}, {}};
    } else if (variable_name == k_agent_url && !evidence.from_env) {
      if (auto host = host_of_url_at(util::trim(text_at(variable, "value"))))
        evidence.from_env = AgentPodHost{pod, *host, std::string(k_agent_url), {}, {}};
    }
  }
}

void read_command(const json& container, const std::string& pod, AgentEvidence& evidence) {
  for (std::string_view field : {"command", "args"}) {
    const json* words = member(container, field);
    if (evidence.from_script || words == nullptr || !words->is_array())
      continue;
    for (const json& word : *words)
      if (word.is_string())
        if (auto host = agent_host_in_script(word.get_ref<const std::string&>())) {
          evidence.from_script = AgentPodHost{pod, *host, std::string(field), {}, {}};
          break;
        }
  }
}

// The agent of a running pod, or nullopt when the pod has none (no CODER_AGENT_TOKEN) or is done.
std::optional<AgentPodHost> agent_of(const json& pod) {
  std::string phase = text_at(child(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed")
    return std::nullopt;
  const json* containers = member(child(pod, "spec"), "containers");
  if (containers == nullptr || !containers->is_array())
    return std::nullopt;
  const json& metadata = child(pod, "metadata");
  std::string name = text_at(metadata, "namespace") + "/" + text_at(metadata, "name");
  AgentEvidence evidence;
  for (const json& container : *containers) {
    read_env(container, name, evidence);
    read_command(container, name, evidence);
  }
  if (!evidence.has_token)
    return std::nullopt;
  AgentPodHost agent = evidence.from_script ? *evidence.from_script
                       : evidence.from_env  ? *evidence.from_env
                                            : AgentPodHost{name, {}, {}, {}, {}};
  agent.host_aliases = host_aliases_of(pod);
  agent.labels = workspace_labels_of(pod);
  return agent;
}

} // namespace

WorkspaceLabels workspace_labels_of(const json& pod) {
  const json& labels = child(child(pod, "metadata"), "labels");
  return {.workspace_id = text_at(labels, "com.coder.workspace.id"),
          .workspace = text_at(labels, "com.coder.workspace.name"),
          .owner = text_at(labels, "com.coder.user.username")};
}

std::expected<std::vector<AgentPodHost>, std::string> agent_pods(const json& list) {
  const json* items = member(list, "items");
  if (items == nullptr || !items->is_array())
    return std::unexpected(std::string("not a list object (no \"items\" array)"));
  std::vector<AgentPodHost> pods;
  for (const json& pod : *items)
    if (auto agent = agent_of(pod))
      pods.push_back(std::move(*agent));
  std::sort(pods.begin(), pods.end(), [](const AgentPodHost& a, const AgentPodHost& b) { return a.pod < b.pod; });
  return pods;
}

AgentTarget classify_agent_host(std::string_view host, std::string_view external_host, std::string_view internal_host,
                                const std::vector<util::IpAddress>& internal_addresses) {
  if (host.empty())
    return AgentTarget::unknown;
  if (host == external_host)
    return AgentTarget::external;
  if (host == internal_host)
    return AgentTarget::internal;
  // coder.coder, coder.coder.svc: the search list completes them to the internal host
  if (internal_host.size() > host.size() && internal_host.starts_with(host) && internal_host[host.size()] == '.' &&
      host.find('.') != std::string_view::npos)
    return AgentTarget::internal;
  if (auto ip = util::parse_ip(host);
      ip && std::find(internal_addresses.begin(), internal_addresses.end(), *ip) != internal_addresses.end())
    return AgentTarget::internal;
  return AgentTarget::other;
}

} // namespace coder_dns_doctor::k8s
