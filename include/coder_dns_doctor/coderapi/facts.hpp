// Layer 4 (coderapi): what coderd says about its agents and its own health, as plain values, and
// the pure readers that make them from coderd's JSON (codersdk.Workspace, healthsdk.HealthcheckReport).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::coderapi {

// codersdk.WorkspaceAgentStatus; `unknown` for a value this build does not know.
enum class AgentStatus { connecting, connected, disconnected, timeout, unknown };
[[nodiscard]] std::string_view to_string(AgentStatus status);
[[nodiscard]] AgentStatus agent_status_of(std::string_view text);

// One agent of a workspace's latest build.
struct Agent {
  std::string workspace_id;
  std::string workspace; // the workspace's name
  std::string owner;     // its owner's username
  std::string agent;     // the agent's name
  AgentStatus status = AgentStatus::unknown;
  std::string lifecycle_state;
  std::string created_at; // RFC 3339 as coderd wrote it; empty when absent
  std::string last_connected_at;
  std::string disconnected_at;
  std::string build_status;     // the latest build's status: running, starting, stopped, failed, ...
  std::string build_transition; // start | stop | delete
  bool outdated = false;        // the build's template version is not the template's active one
  std::string template_name;
  std::string template_version_name; // of the latest build

  // "alice/dev"
  [[nodiscard]] std::string workspace_path() const { return owner + "/" + workspace; }
};

// One page of GET /api/v2/workspaces.
struct WorkspacePage {
  std::vector<Agent> agents;
  std::size_t rows = 0;  // workspaces on this page
  std::size_t count = 0; // every workspace the token may see
};

// Read a `{"workspaces": [...], "count": N}` answer; the error says what was not as expected.
[[nodiscard]] std::expected<WorkspacePage, std::string> read_workspace_page(const nlohmann::json& page);

// A section of coderd's health report that is not healthy.
struct HealthSection {
  std::string name;               // access_url, websocket, derp, database, workspace_proxy, provisioner_daemons
  std::string severity;           // ok | warning | error
  std::vector<std::string> codes; // EACS03, EWS01, EDERP01, ...: from warnings and the error
  std::vector<std::string> lines; // "EACS03: ..." one per warning or error, clipped
  bool dismissed = false;
};

struct Health {
  std::string severity = "ok";
  std::vector<HealthSection> failing; // sections whose severity is not ok, in report order
};

// Read GET /api/v2/debug/health (healthsdk.HealthcheckReport); older reports with `healthy` and
// string warnings are read too.
[[nodiscard]] std::expected<Health, std::string> read_health(const nlohmann::json& report);

// Who the token belongs to (GET /api/v2/users/me).
struct TokenUser {
  std::string username;
  std::vector<std::string> roles; // site roles: owner, auditor, template-admin, user-admin, ...
  // Owners and auditors read every workspace; anyone else sees only their own.
  [[nodiscard]] bool sees_all_workspaces() const;
};

[[nodiscard]] std::expected<TokenUser, std::string> read_user(const nlohmann::json& user);

// A Coder API read that failed: the request, why (one line, from ApiError::describe), and whether
// it was the token (so analysis can say what it lacks).
enum class CoderFailure { config, credentials, unauthorized, forbidden, partial_view, unreachable, server, malformed };
struct CoderProblem {
  CoderFailure failure = CoderFailure::unreachable;
  std::string text;
};

// Everything one check learnt from coderd's API.
struct CoderFacts {
  std::string base_url;                     // where it was asked (no credential in it)
  std::optional<TokenUser> user;            // nullopt: /users/me failed
  std::optional<std::vector<Agent>> agents; // nullopt: the workspaces could not be read
  std::size_t workspaces = 0;               // workspaces read
  bool truncated = false;                   // more workspaces than the page bound; the rest unread
  std::optional<Health> health;             // nullopt: not read
  std::vector<CoderProblem> problems;
};

} // namespace coder_dns_doctor::coderapi
