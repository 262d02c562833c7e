// The readers of coderd's JSON: workspaces pages, the health report, the token's user. Shapes
// follow codersdk (Workspace, WorkspaceAgent) and healthsdk (HealthcheckReport).
#include <coder_dns_doctor/coderapi/facts.hpp>
#include <coder_dns_doctor/coderapi/read.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor;
using coderapi::AgentStatus;
using nlohmann::json;

namespace {

json workspace(const std::string& id, const std::string& owner, const std::string& name, const std::string& status,
               const std::string& build_status = "running", bool outdated = false) {
  json agent = {{"id", "a-" + id},
                {"name", "main"},
                {"status", status},
                {"lifecycle_state", "ready"},
                {"created_at", "2026-12-01T09:00:00Z"},
                {"last_connected_at", "2026-12-02T10:41:30Z"},
                {"disconnected_at", status == "connected" ? json(nullptr) : json("2026-12-02T10:42:00Z")}};
  return {
      {"id", id},
      {"name", name},
      {"owner_name", owner},
      {"template_name", "kubernetes-envbuilder"},
      {"outdated", outdated},
      {"latest_build",
       {{"status", build_status},
        {"transition", build_status == "stopped" ? "stop" : "start"},
        {"template_version_name", "v3"},
        {"resources", json::array({{{"name", "dev"},
                                    {"type", "kubernetes_deployment"},
                                    {"agents", build_status == "stopped" ? json::array() : json::array({agent})}}})}}}};
}

} // namespace

TEST_SUITE("coderapi::facts") {
  TEST_CASE("a workspaces page: every agent with its workspace, owner, state and build") {
    json page = {{"workspaces", json::array({workspace("w1", "alice", "dev", "disconnected", "running", true),
                                             workspace("w2", "dave", "old", "connected", "stopped")})},
                 {"count", 5}};
    auto read = coderapi::read_workspace_page(page);
    REQUIRE(read);
    CHECK(read->rows == 2);
    CHECK(read->count == 5);
    REQUIRE(read->agents.size() == 1); // the stopped build has no agent
    const coderapi::Agent& a = read->agents[0];
    CHECK(a.workspace_path() == "alice/dev");
    CHECK(a.workspace_id == "w1");
    CHECK(a.agent == "main");
    CHECK(a.status == AgentStatus::disconnected);
    CHECK(a.disconnected_at == "2026-12-02T10:42:00Z");
    CHECK(a.build_status == "running");
    CHECK(a.build_transition == "start");
    CHECK(a.outdated);
    CHECK(a.template_version_name == "v3");
  }

  TEST_CASE("an unknown status is `unknown`, not a guess") {
    CHECK(coderapi::agent_status_of("timeout") == AgentStatus::timeout);
    CHECK(coderapi::agent_status_of("connecting") == AgentStatus::connecting);
    CHECK(coderapi::agent_status_of("sleeping") == AgentStatus::unknown);
  }

  TEST_CASE("a page that is not coderd's shape is an error naming what is missing") {
    CHECK(coderapi::read_workspace_page(json::object()).error().find("workspaces") != std::string::npos);
    CHECK(coderapi::read_workspace_page({{"workspaces", json::array()}}).error().find("count") != std::string::npos);
    CHECK(!coderapi::read_workspace_page({{"workspaces", json::array({1})}, {"count", 1}}));
    CHECK(!coderapi::read_workspace_page({{"workspaces", json::array()}, {"count", -1}}));
  }

  TEST_CASE("the health report: failing sections with their codes, from warnings and the error") {
    json report = {{"severity", "error"},
                   {"access_url",
                    {{"severity", "error"},
                     {"healthy", false},
                     {"warnings", json::array()},
                     {"dismissed", false},
                     {"error", "EACS03: get healthz: dial tcp 127.0.50.100:443: connect: connection refused"}}},
                   {"websocket", {{"severity", "ok"}, {"healthy", true}, {"warnings", json::array()}}},
                   {"derp",
                    {{"severity", "warning"},
                     {"warnings", json::array({{{"code", "EDERP01"},
                                                {"message", "Node uses websockets because the Upgrade: DERP "
                                                            "header may be broken."}}})},
                     {"dismissed", true}}},
                   {"database", {{"severity", "ok"}}}};
    auto health = coderapi::read_health(report);
    REQUIRE(health);
    CHECK(health->severity == "error");
    REQUIRE(health->failing.size() == 2);
    CHECK(health->failing[0].name == "access_url");
    CHECK(health->failing[0].codes == std::vector<std::string>{"EACS03"});
    CHECK(health->failing[0].lines.at(0).starts_with("EACS03: get healthz"));
    CHECK(health->failing[1].name == "derp");
    CHECK(health->failing[1].codes == std::vector<std::string>{"EDERP01"});
    CHECK(health->failing[1].lines.at(0).starts_with("EDERP01: Node uses websockets"));
    CHECK(health->failing[1].dismissed);
  }

  TEST_CASE("an older report: `healthy` without severity, warnings as strings") {
    json report = {{"healthy", false},
                   {"websocket", {{"healthy", false}, {"warnings", json::array({"EWS01: websocket failed"})}}}};
    auto health = coderapi::read_health(report);
    REQUIRE(health);
    CHECK(health->severity == "error");
    REQUIRE(health->failing.size() == 1);
    CHECK(health->failing[0].codes == std::vector<std::string>{"EWS01"});
    CHECK(!coderapi::read_health(json::object()));
  }

  TEST_CASE("text that only looks like a code is not one") {
    json report = {
        {"severity", "warning"},
        {"database", {{"severity", "warning"}, {"warnings", json::array({"Error: slow", "EDB: x", "E12: y"})}}}};
    auto health = coderapi::read_health(report);
    REQUIRE(health);
    REQUIRE(health->failing.size() == 1);
    CHECK(health->failing[0].codes.empty());
    CHECK(health->failing[0].lines.size() == 3);
  }

  TEST_CASE("the token's user: owners and auditors see every workspace, others their own") {
    auto owner = coderapi::read_user({{"username", "admin"}, {"roles", json::array({{{"name", "owner"}}})}});
    REQUIRE(owner);
    CHECK(owner->sees_all_workspaces());
    auto auditor = coderapi::read_user({{"username", "audit"}, {"roles", json::array({{{"name", "auditor"}}})}});
    CHECK(auditor->sees_all_workspaces());
    auto member = coderapi::read_user({{"username", "alice"}, {"roles", json::array()}});
    REQUIRE(member);
    CHECK(!member->sees_all_workspaces());
    CHECK(!coderapi::read_user(json::object()));
  }

  TEST_CASE("API errors become problems by kind; a 404 on an owner-only route reads as forbidden") {
    using coderapi::CoderFailure;
    using http::ApiErrorKind;
    std::vector<std::pair<ApiErrorKind, CoderFailure>> table{{ApiErrorKind::credentials, CoderFailure::credentials},
                                                             {ApiErrorKind::unauthorized, CoderFailure::unauthorized},
                                                             {ApiErrorKind::forbidden, CoderFailure::forbidden},
                                                             {ApiErrorKind::not_found, CoderFailure::forbidden},
                                                             {ApiErrorKind::server_error, CoderFailure::server},
                                                             {ApiErrorKind::malformed, CoderFailure::malformed},
                                                             {ApiErrorKind::too_large, CoderFailure::malformed},
                                                             {ApiErrorKind::timeout, CoderFailure::unreachable},
                                                             {ApiErrorKind::transport, CoderFailure::unreachable},
                                                             {ApiErrorKind::skipped, CoderFailure::unreachable}};
    for (auto [kind, failure] : table) {
      CAPTURE(http::to_string(kind));
      coderapi::ApiError error{.failure = {kind, 403, "detail"}, .request = "GET /api/v2/debug/health"};
      auto problem = coderapi::problem_of(error);
      CHECK(problem.failure == failure);
      CHECK(problem.text.starts_with("GET /api/v2/debug/health: "));
    }
    coderapi::ApiError forbidden{.failure = {ApiErrorKind::forbidden, 403, ""}, .request = "GET /api/v2/debug/health"};
    CHECK(forbidden.describe().find("Owner role") != std::string::npos);
  }
}
