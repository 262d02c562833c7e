#include <coder_dns_doctor/coderapi/facts.hpp>
#include <coder_dns_doctor/util/json_access.hpp>
#include <coder_dns_doctor/util/secret.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace coder_dns_doctor::coderapi {
namespace {

using nlohmann::json;
using util::member;
using util::text_at;

constexpr std::size_t k_max_health_line = 200;

// The sections of healthsdk.HealthcheckReport, in the order coderd's health page shows them.
constexpr std::array<std::string_view, 6> k_sections{"access_url", "websocket",       "derp",
                                                     "database",   "workspace_proxy", "provisioner_daemons"};

// A health code at the start of `text` ("EACS03: ..." -> "EACS03"): E, capitals, digits.
std::optional<std::string> code_prefix(std::string_view text) {
  std::size_t i = 0;
  if (text.empty() || text[0] != 'E')
    return std::nullopt;
  for (i = 1; i < text.size() && std::isupper(static_cast<unsigned char>(text[i])) != 0; ++i) {
  }
  std::size_t digits = i;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0; ++i) {
  }
  if (digits == 1 || i == digits || (i < text.size() && text[i] != ':'))
    return std::nullopt;
  return std::string(text.substr(0, i));
}

void add_code(HealthSection& section, std::string code) {
  if (!code.empty() && std::find(section.codes.begin(), section.codes.end(), code) == section.codes.end())
    section.codes.push_back(std::move(code));
}

// One warning: {"code", "message"} (coderd 2.5+) or a plain string (older).
void read_warning(const json& warning, HealthSection& section) {
  if (warning.is_string()) {
    auto text = warning.get<std::string>();
    add_code(section, code_prefix(text).value_or(""));
    section.lines.push_back(util::one_line(text, k_max_health_line));
  } else if (warning.is_object()) {
    std::string code = text_at(warning, "code");
    std::string message = text_at(warning, "message");
    add_code(section, code);
    section.lines.push_back(
        util::one_line(code.empty() || message.starts_with(code) ? message : code + ": " + message, k_max_health_line));
  }
}

std::string severity_of(const json& object) {
  std::string severity = text_at(object, "severity");
  if (!severity.empty())
    return severity;
  const json* healthy = member(object, "healthy");
  return healthy != nullptr && healthy->is_boolean() && !healthy->get<bool>() ? "error" : "ok";
}

std::optional<HealthSection> read_section(const json& report, std::string_view name) {
  const json* object = member(report, name);
  if (object == nullptr || !object->is_object())
    return std::nullopt;
  HealthSection section{
      .name = std::string(name), .severity = severity_of(*object), .codes = {}, .lines = {}, .dismissed = false};
  if (section.severity == "ok")
    return std::nullopt;
  if (const json* dismissed = member(*object, "dismissed"); dismissed != nullptr && dismissed->is_boolean())
    section.dismissed = dismissed->get<bool>();
  if (std::string error = text_at(*object, "error"); !error.empty()) {
    add_code(section, code_prefix(error).value_or(""));
    section.lines.push_back(util::one_line(error, k_max_health_line));
  }
  if (const json* warnings = member(*object, "warnings"); warnings != nullptr && warnings->is_array())
    for (const json& warning : *warnings)
      read_warning(warning, section);
  return section;
}

std::vector<Agent> agents_of(const json& workspace) {
  Agent base;
  base.workspace_id = text_at(workspace, "id");
  base.workspace = text_at(workspace, "name");
  base.owner = text_at(workspace, "owner_name");
  if (base.owner.empty())
    base.owner = text_at(workspace, "owner_username");
  base.template_name = text_at(workspace, "template_name");
  if (const json* outdated = member(workspace, "outdated"); outdated != nullptr && outdated->is_boolean())
    base.outdated = outdated->get<bool>();
  const json& build = util::child(workspace, "latest_build");
  base.build_status = text_at(build, "status");
  base.build_transition = text_at(build, "transition");
  base.template_version_name = text_at(build, "template_version_name");
  std::vector<Agent> agents;
  const json* resources = member(build, "resources");
  if (resources == nullptr || !resources->is_array())
    return agents;
  for (const json& resource : *resources) {
    const json* list = member(resource, "agents");
    if (list == nullptr || !list->is_array())
      continue;
    for (const json& item : *list) {
      Agent agent = base;
      agent.agent = text_at(item, "name");
      agent.status = agent_status_of(text_at(item, "status"));
      agent.lifecycle_state = text_at(item, "lifecycle_state");
      agent.created_at = text_at(item, "created_at");
      agent.last_connected_at = text_at(item, "last_connected_at");
      agent.disconnected_at = text_at(item, "disconnected_at");
      agents.push_back(std::move(agent));
    }
  }
  return agents;
}

} // namespace

std::string_view to_string(AgentStatus status) {
  switch (status) {
  case AgentStatus::connecting: return "connecting";
  case AgentStatus::connected: return "connected";
  case AgentStatus::disconnected: return "disconnected";
  case AgentStatus::timeout: return "timeout";
  case AgentStatus::unknown: return "unknown";
  }
  return "unknown";
}

AgentStatus agent_status_of(std::string_view text) {
  for (AgentStatus status :
       {AgentStatus::connecting, AgentStatus::connected, AgentStatus::disconnected, AgentStatus::timeout})
    if (text == to_string(status))
      return status;
  return AgentStatus::unknown;
}

std::expected<WorkspacePage, std::string> read_workspace_page(const json& page) {
  const json* workspaces = member(page, "workspaces");
  if (workspaces == nullptr || !workspaces->is_array())
    return std::unexpected("no `workspaces` array");
  const json* count = member(page, "count");
  if (count == nullptr || !count->is_number_integer() || count->get<long long>() < 0)
    return std::unexpected("no `count` (a non-negative integer)");
  WorkspacePage result;
  result.count = count->get<std::size_t>();
  for (const json& workspace : *workspaces) {
    if (!workspace.is_object() || text_at(workspace, "id").empty())
      return std::unexpected("a workspace without an `id`");
    ++result.rows;
    auto agents = agents_of(workspace);
    result.agents.insert(result.agents.end(), agents.begin(), agents.end());
  }
  return result;
}

std::expected<Health, std::string> read_health(const json& report) {
  if (member(report, "severity") == nullptr && member(report, "healthy") == nullptr)
    return std::unexpected("neither `severity` nor `healthy`: not a coderd health report");
  Health health{.severity = severity_of(report), .failing = {}};
  for (std::string_view name : k_sections)
    if (auto section = read_section(report, name))
      health.failing.push_back(std::move(*section));
  return health;
}

bool TokenUser::sees_all_workspaces() const {
  return std::any_of(roles.begin(), roles.end(), [](const std::string& r) { return r == "owner" || r == "auditor"; });
}

std::expected<TokenUser, std::string> read_user(const json& user) {
  TokenUser result{.username = text_at(user, "username"), .roles = {}};
  if (result.username.empty())
    return std::unexpected("no `username`");
  if (const json* roles = member(user, "roles"); roles != nullptr && roles->is_array())
    for (const json& role : *roles)
      if (std::string name = text_at(role, "name"); !name.empty())
        result.roles.push_back(std::move(name));
  return result;
}

} // namespace coder_dns_doctor::coderapi
