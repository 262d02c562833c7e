// coderd's agents joined with their pods and paths: AGENT_DISCONNECTED names the cause on each
// lost agent's path, or says plainly that there is none; the other Coder API findings beside it.
#include <coder_dns_doctor/analysis/agent_causes.hpp>
#include <coder_dns_doctor/analysis/evaluate.hpp>

#include "addresses.hpp"
#include "observations.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace coder_dns_doctor;
using analysis::Code;
using analysis::PathVerdict;
using coderapi::AgentStatus;

namespace {

const std::string k_external = "https://coder.example.test:18443";
const std::string k_internal = "http://coder.coder.svc.cluster.local:18080";
const std::string k_external_host = "coder.example.test";
const std::string k_internal_host = "coder.coder.svc.cluster.local";

probe::Plan plan() {
  probe::Plan plan;
  plan.urls = {{*util::parse_url(k_external), probe::HostRole::external},
               {*util::parse_url(k_internal), probe::HostRole::internal}};
  plan.hosts = {{k_external_host, probe::HostRole::external}, {k_internal_host, probe::HostRole::internal}};
  probe::ResolverPlan cluster;
  cluster.label = "cluster";
  cluster.spec = "127.0.0.10";
  cluster.scope = probe::ResolverScope::cluster;
  plan.resolvers = {cluster};
  return plan;
}

probe::HttpObservation healthz(const std::string& base, const std::string& address, bool ok) {
  return test::healthz(base, base == k_internal ? probe::Via::internal : probe::Via::dns, address, ok);
}

// The field report: the external host answers the stale address in the cluster; internal works.
struct World {
  probe::Observations observations;
  std::vector<analysis::Annotation> annotations;
  std::vector<analysis::Finding> findings;
};

World field_report() {
  World w;
  probe::DnsObservation stale;
  stale.host = k_external_host;
  stale.name = k_external_host + ".";
  stale.resolver = "cluster";
  stale.status = dns::LookupStatus::ok;
  stale.addresses = test::ips({"127.0.50.100"});
  w.observations.dns = {stale};
  w.annotations = {{.expected = test::ips({"127.0.209.210"}), .match = false}};
  w.observations.http = {healthz(k_external, "127.0.50.100", false), healthz(k_internal, "127.0.209.202", true)};
  w.findings = {
      {.code = Code::external_dns_mismatch, .severity = analysis::Severity::error, .hosts = {k_external_host}},
      {.code = Code::healthz_fails_via_dns, .severity = analysis::Severity::error, .hosts = {k_external_host}},
      {.code = Code::agent_url_external, .severity = analysis::Severity::error},
      {.code = Code::resolver_out_of_scope, .severity = analysis::Severity::info, .hosts = {k_internal_host}}};
  return w;
}

World healthy() {
  World w;
  w.observations.http = {healthz(k_external, "127.0.209.210", true), healthz(k_internal, "127.0.209.202", true)};
  return w;
}

analysis::WorkspaceAgent pod(const std::string& name, const std::string& host, analysis::AgentTarget target,
                             k8s::WorkspaceLabels labels) {
  return {.pod = "coder-workspace/" + name,
          .host = host,
          .origin = "ENVBUILDER_INIT_SCRIPT",
          .target = target,
          .host_aliases = {},
          .labels = std::move(labels)};
}

std::vector<analysis::WorkspaceAgent> pods() {
  return {pod("coder-alice-dev", k_external_host, analysis::AgentTarget::external, {"w-alice", "dev", "alice"}),
          pod("coder-bob-dev", k_internal_host, analysis::AgentTarget::internal, {"w-bob", "dev", "bob"}),
          // no labels: found by the official templates' pod name coder-<owner>-<workspace>
          pod("coder-carol-dev-6c9f7d-abcde", k_external_host, analysis::AgentTarget::external, {})};
}

coderapi::Agent agent(const std::string& id, const std::string& owner, AgentStatus status, bool outdated = false,
                      const std::string& build = "running") {
  coderapi::Agent a;
  a.workspace_id = id;
  a.workspace = "dev";
  a.owner = owner;
  a.agent = "main";
  a.status = status;
  a.disconnected_at = status == AgentStatus::connected ? "" : "2026-12-02T10:42:00Z";
  a.last_connected_at = "2026-12-02T10:41:30Z";
  a.build_status = build;
  a.build_transition = build == "stopped" ? "stop" : "start";
  a.outdated = outdated;
  return a;
}

analysis::CoderInput coder(std::vector<coderapi::Agent> agents) {
  analysis::CoderInput input;
  input.facts.base_url = k_internal;
  input.facts.agents = std::move(agents);
  input.workspace_namespaces = {"coder-workspace"};
  return input;
}

analysis::CoderInput field_report_agents() {
  return coder({agent("w-alice", "alice", AgentStatus::disconnected, true),
                agent("w-bob", "bob", AgentStatus::disconnected), agent("w-carol", "carol", AgentStatus::timeout),
                agent("w-grace", "grace", AgentStatus::connected), agent("w-heidi", "heidi", AgentStatus::disconnected),
                agent("w-dave", "dave", AgentStatus::disconnected, false, "stopped")});
}

analysis::AgentJoin join(const World& w, const analysis::CoderInput& input,
                         const std::optional<std::vector<analysis::WorkspaceAgent>>& audit = pods()) {
  return analysis::join_agents(plan(), w.observations, w.annotations, {}, w.findings, audit, input);
}

const analysis::Finding* find(const analysis::AgentJoin& j, Code code) {
  auto it = std::find_if(j.findings.begin(), j.findings.end(), [code](const auto& f) { return f.code == code; });
  return it == j.findings.end() ? nullptr : &*it;
}

std::string line_of(const analysis::Finding& f, const std::string& workspace) {
  for (const auto& line : f.evidence)
    if (line.starts_with(workspace + " ") || line.starts_with(workspace + ":"))
      return line;
  return {};
}

const analysis::AgentEntry& entry(const analysis::AgentJoin& j, const std::string& owner) {
  auto it = std::find_if(j.agents.begin(), j.agents.end(), [&](const auto& e) { return e.owner == owner; });
  REQUIRE(it != j.agents.end());
  return *it;
}

} // namespace

TEST_SUITE("analysis::join_agents") {
  TEST_CASE("field report: the lost agents whose pods dial the external URL carry its DNS finding") {
    analysis::AgentJoin j = join(field_report(), field_report_agents());
    const analysis::Finding* lost = find(j, Code::agent_disconnected);
    REQUIRE(lost != nullptr);
    CHECK(lost->severity == analysis::Severity::error);
    CHECK(lost->evidence.size() == 4); // alice, bob, carol, heidi; not grace (connected), not dave (stopped)
    std::string alice = line_of(*lost, "alice/dev");
    CHECK(alice.find("disconnected since 2026-12-02T10:42:00Z") != std::string::npos);
    CHECK(alice.find("pod coder-workspace/coder-alice-dev dials coder.example.test (external)") != std::string::npos);
    CHECK(alice.find("resolves in the cluster to 127.0.50.100, not 127.0.209.210") != std::string::npos);
    CHECK(alice.ends_with("EXTERNAL_DNS_MISMATCH, HEALTHZ_FAILS_VIA_DNS"));
    std::string carol = line_of(*lost, "carol/dev");
    CHECK(carol.find("timeout") != std::string::npos);
    CHECK(carol.find("coder-carol-dev-6c9f7d-abcde") != std::string::npos);
    CHECK(carol.ends_with("EXTERNAL_DNS_MISMATCH, HEALTHZ_FAILS_VIA_DNS"));
    std::string bob = line_of(*lost, "bob/dev");
    CHECK(bob.find("no cause found on its path") != std::string::npos);
    CHECK(bob.find("coder ping bob/dev") != std::string::npos);
    CHECK(bob.find("MISMATCH") == std::string::npos);
    std::string heidi = line_of(*lost, "heidi/dev");
    CHECK(heidi.find("no workspace pod in namespace(s) coder-workspace carries com.coder.workspace.id=w-heidi") !=
          std::string::npos);
    CHECK(lost->summary.find("4 of 5 running agent(s) disconnected; 2 with a cause") != std::string::npos);

    CHECK(entry(j, "alice").path_verdict == PathVerdict::fails);
    CHECK(entry(j, "alice").cause_codes == std::vector<Code>{Code::external_dns_mismatch, Code::healthz_fails_via_dns});
    CHECK(entry(j, "bob").path_verdict == PathVerdict::works);
    CHECK(entry(j, "bob").cause_codes.empty()); // the info finding on the internal host is no cause
    CHECK(entry(j, "heidi").path_verdict == PathVerdict::unchecked);
    CHECK(entry(j, "grace").status == AgentStatus::connected);
    CHECK(std::none_of(j.agents.begin(), j.agents.end(), [](const auto& e) { return e.owner == "dave"; }));
  }

  TEST_CASE("field report: workspaces to rebuild: outdated ones, and those still on the external URL") {
    analysis::AgentJoin j = join(field_report(), field_report_agents());
    const analysis::Finding* rebuild = find(j, Code::workspace_rebuild_needed);
    REQUIRE(rebuild != nullptr);
    CHECK(rebuild->severity == analysis::Severity::info);
    CHECK(line_of(*rebuild, "alice/dev").find("`coder update alice/dev`") != std::string::npos);
    CHECK(line_of(*rebuild, "carol/dev").find("push the patched template") != std::string::npos);
    CHECK(line_of(*rebuild, "bob/dev").empty());
  }

  TEST_CASE("healthy paths: a lost agent gets no invented cause; connected agents are no finding") {
    analysis::AgentJoin j = join(healthy(), coder({agent("w-alice", "alice", AgentStatus::disconnected),
                                                   agent("w-bob", "bob", AgentStatus::connected)}));
    const analysis::Finding* lost = find(j, Code::agent_disconnected);
    REQUIRE(lost != nullptr);
    REQUIRE(lost->evidence.size() == 1);
    CHECK(lost->evidence[0].find("no cause found on its path") != std::string::npos);
    CHECK(entry(j, "alice").path_verdict == PathVerdict::works);
    CHECK(find(j, Code::workspace_rebuild_needed) == nullptr); // external URL works: nothing to rebuild

    analysis::AgentJoin calm = join(healthy(), coder({agent("w-bob", "bob", AgentStatus::connected)}));
    CHECK(calm.findings.empty());
    CHECK(calm.agents.size() == 1);
  }

  TEST_CASE("without the workspace audit the pod is unknown, and said so") {
    analysis::AgentJoin j =
        join(field_report(), coder({agent("w-alice", "alice", AgentStatus::disconnected)}), std::nullopt);
    const analysis::Finding* lost = find(j, Code::agent_disconnected);
    REQUIRE(lost != nullptr);
    CHECK(lost->evidence.at(0).find("its pod is unknown (the workspace audit did not run)") != std::string::npos);
  }

  TEST_CASE("a pod's own hostAliases pinning its host outside the truth is its cause") {
    World w = healthy();
    auto audit = pods();
    audit[1].host_aliases = {{"127.0.50.100", {k_internal_host}}};
    truth::Truth truth;
    truth.entries = {{.host = k_internal_host, .addresses = test::ips({"127.0.209.202"}), .source = "test"}};
    analysis::AgentJoin j = analysis::join_agents(plan(), w.observations, w.annotations, truth, w.findings, audit,
                                                  coder({agent("w-bob", "bob", AgentStatus::disconnected)}));
    CHECK(entry(j, "bob").cause_codes == std::vector<Code>{Code::hosts_file_override});
  }

  TEST_CASE("API problems: CODER_API_UNAVAILABLE, a warning naming what the token lacks") {
    analysis::CoderInput input;
    input.facts.base_url = k_internal;
    input.facts.problems = {{coderapi::CoderFailure::unauthorized, "GET /api/v2/users/me: HTTP 401: ..."}};
    analysis::AgentJoin j = join(healthy(), input);
    const analysis::Finding* unavailable = find(j, Code::coder_api_unavailable);
    REQUIRE(unavailable != nullptr);
    CHECK(unavailable->severity == analysis::Severity::warning);
    CHECK(unavailable->summary.find("the token is not accepted") != std::string::npos);
    CHECK(unavailable->summary.find("agents' state is unknown") != std::string::npos);
    CHECK(find(j, Code::agent_disconnected) == nullptr);
  }

  TEST_CASE("coderd's health: failing sections, with agreement where this report found the same") {
    analysis::CoderInput input = coder({});
    input.facts.health = coderapi::Health{
        .severity = "error",
        .failing = {
            {.name = "access_url",
             .severity = "error",
             .codes = {"EACS03"},
             .lines = {"EACS03: get healthz: connection refused"},
             .dismissed = false},
            {.name = "derp", .severity = "warning", .codes = {"EDERP01"}, .lines = {"EDERP01: x"}, .dismissed = true}}};
    analysis::AgentJoin j = join(field_report(), input);
    const analysis::Finding* unhealthy = find(j, Code::coderd_reports_unhealthy);
    REQUIRE(unhealthy != nullptr);
    CHECK(unhealthy->severity == analysis::Severity::warning);
    CHECK(unhealthy->evidence.at(0) ==
          "access_url (error EACS03, seen from coderd): EACS03: get healthz: connection refused");
    CHECK(unhealthy->evidence.at(1) ==
          "access_url: coderd's own check agrees with EXTERNAL_DNS_MISMATCH, HEALTHZ_FAILS_VIA_DNS of this report");
    CHECK(unhealthy->evidence.size() == 2); // the dismissed derp section is left out
    analysis::AgentJoin alone = join(healthy(), input);
    REQUIRE(find(alone, Code::coderd_reports_unhealthy) != nullptr);
    CHECK(find(alone, Code::coderd_reports_unhealthy)->evidence.size() == 1); // nothing here agrees

    input.facts.health = coderapi::Health{.severity = "ok", .failing = {}};
    CHECK(find(join(healthy(), input), Code::coderd_reports_unhealthy) == nullptr);
  }

  TEST_CASE("evaluate: the join runs only when the Coder API was asked, after every other check") {
    World w = field_report();
    analysis::KubeFacts kube{.problems = {}, .agents = pods()};
    auto without = analysis::evaluate(plan(), w.observations, {}, kube);
    CHECK(!without.agents);
    analysis::CoderInput input = field_report_agents();
    auto with = analysis::evaluate(plan(), w.observations, {}, kube, {}, &input);
    REQUIRE(with.agents);
    CHECK(with.agents->size() == 5);
    CHECK(std::any_of(with.findings.begin(), with.findings.end(),
                      [](const auto& f) { return f.code == Code::agent_disconnected; }));
  }
}
