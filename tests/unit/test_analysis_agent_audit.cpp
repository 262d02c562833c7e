// Table tests: AGENT_URL_EXTERNAL and KUBERNETES_UNAVAILABLE from values (no network).
#include <coder_dns_doctor/analysis/agent_audit.hpp>
#include <coder_dns_doctor/analysis/analyze.hpp>

#include "addresses.hpp"
#include "observations.hpp"

#include <doctest/doctest.h>

using namespace coder_dns_doctor;
using analysis::AgentTarget;
using analysis::Code;
using analysis::KubeFailure;
using analysis::KubeScope;
using analysis::Severity;
using probe::Family;
using probe::LookupStatus;
using probe::Via;

namespace {

constexpr const char* k_external = "coder.example.test";
constexpr const char* k_internal = "coder.coder.svc.cluster.local";
constexpr const char* k_external_url = "https://coder.example.test:18443";
constexpr const char* k_internal_url = "http://coder.coder.svc.cluster.local:18080";

probe::Plan plan_with(std::vector<probe::ResolverPlan> resolvers) {
  probe::Plan plan;
  plan.resolvers = std::move(resolvers);
  plan.hosts = {{k_external, probe::HostRole::external}, {k_internal, probe::HostRole::internal}};
  plan.urls = {{*util::parse_url(k_external_url), probe::HostRole::external},
               {*util::parse_url(k_internal_url), probe::HostRole::internal}};
  return plan;
}

probe::ResolverPlan resolver(std::string label, bool cluster) {
  probe::ResolverPlan r;
  r.label = std::move(label);
  r.scope = cluster ? probe::ResolverScope::cluster : probe::ResolverScope::external;
  return r;
}

probe::DnsObservation answer(std::string host, std::string who, std::vector<std::string> addresses) {
  probe::DnsObservation o;
  o.host = std::move(host);
  o.name = o.host + ".";
  o.resolver = std::move(who);
  o.family = Family::a;
  o.status = LookupStatus::ok;
  o.addresses = test::ips(addresses);
  return o;
}

using test::healthz;

// The field report from the pods' view: cluster DNS stale, public right, internal fine.
probe::Observations field_report() {
  probe::Observations o;
  o.dns = {answer(k_external, "cluster", {"127.0.50.100"}), answer(k_external, "public", {"127.0.50.101"}),
           answer(k_internal, "cluster", {"127.0.209.202"})};
  o.http = {healthz(k_external_url, Via::dns, "127.0.50.100", false, {"cluster"}),
            healthz(k_external_url, Via::pinned, "127.0.50.101", true),
            healthz(k_internal_url, Via::dns, "127.0.209.202", true, {"cluster"})};
  return o;
}

truth::Truth field_truth() {
  return truth::merge({}, {{k_external, test::ips({"127.0.50.101"}), "kubernetes:ingress/coder/coder"},
                           {k_internal, test::ips({"127.0.209.202"}), "kubernetes:service/coder/coder"}});
}

// audit_agents on `observations` annotated against `truth`.
std::optional<analysis::Finding> audit(const probe::Plan& plan, const probe::Observations& observations,
                                       const truth::Truth& truth, const std::vector<analysis::WorkspaceAgent>& agents) {
  return analysis::audit_agents(plan, observations, analysis::annotate(observations, truth), agents);
}

std::vector<analysis::WorkspaceAgent> agents() {
  return {{"coder-workspace/alice", k_external, "ENVBUILDER_INIT_SCRIPT", AgentTarget::external},
          {"coder-workspace/bob", k_internal, "command", AgentTarget::internal}};
}

} // namespace

TEST_SUITE("analysis::agent_audit") {
  TEST_CASE("flags agents on the external URL when it is broken in-cluster and the internal URL works") {
    auto plan = plan_with({resolver("cluster", true), resolver("public", false)});
    auto finding = audit(plan, field_report(), field_truth(), agents());
    REQUIRE(finding);
    CHECK(finding->code == Code::agent_url_external);
    CHECK(finding->severity == Severity::error);
    CHECK(finding->summary.find("1 of 2") != std::string::npos);
    std::string evidence;
    for (const auto& line : finding->evidence)
      evidence += line + "\n";
    CHECK(evidence.find(
              "coder-workspace/alice: agent URL host coder.example.test (external, from ENVBUILDER_INIT_SCRIPT)") !=
          std::string::npos);
    CHECK(evidence.find("coder-workspace/bob: agent URL host coder.coder.svc.cluster.local (internal, from command)") !=
          std::string::npos);
    CHECK(evidence.find("resolver cluster answers coder.example.test A with 127.0.50.100; expected 127.0.50.101") !=
          std::string::npos);
    CHECK(evidence.find("resolver public") == std::string::npos); // right answers are not evidence
    CHECK(finding->remediation.find("coder-dns-doctor patch") != std::string::npos);
    CHECK(finding->remediation.find(k_internal_url) != std::string::npos);
  }

  TEST_CASE("no finding when it should not fire") {
    auto plan = plan_with({resolver("cluster", true), resolver("public", false)});
    SUBCASE("every agent already uses the internal URL") {
      std::vector<analysis::WorkspaceAgent> patched{{"ws/bob", k_internal, "command", AgentTarget::internal},
                                                    {"ws/eve", "", "", AgentTarget::unknown}};
      CHECK_FALSE(audit(plan, field_report(), field_truth(), patched));
    }
    SUBCASE("the external URL is fine from the pods' view") {
      auto observations = field_report();
      observations.dns[0].addresses = test::ips({"127.0.50.101"});
      observations.http[0].ok = true;
      CHECK_FALSE(audit(plan, observations, field_truth(), agents()));
    }
    SUBCASE("only a resolver pods do not use is wrong") {
      auto observations = field_report();
      std::swap(observations.dns[0].addresses, observations.dns[1].addresses); // public stale, cluster right
      observations.http[0].resolvers = {"public"};
      CHECK_FALSE(audit(plan, observations, field_truth(), agents()));
    }
    SUBCASE("the internal URL is down too: moving agents there would not help") {
      auto observations = field_report();
      observations.http[2].ok = false;
      CHECK_FALSE(audit(plan, observations, field_truth(), agents()));
    }
    SUBCASE("no agents") {
      CHECK_FALSE(audit(plan, field_report(), field_truth(), {}));
    }
    SUBCASE("a plan without an external URL") {
      auto internal_only = plan;
      internal_only.urls.erase(internal_only.urls.begin());
      CHECK_FALSE(audit(internal_only, field_report(), field_truth(), agents()));
    }
  }

  TEST_CASE("without cluster-aware resolvers every resolver counts; a failing /healthz alone is enough") {
    auto plan = plan_with({resolver("lan", false)});
    probe::Observations observations;
    observations.dns = {answer(k_external, "lan", {"127.0.50.101"})};
    observations.http = {healthz(k_external_url, Via::dns, "127.0.50.101", false, {"lan"}),
                         healthz(k_internal_url, Via::internal, "127.0.209.202", true)};
    auto finding = audit(plan, observations, truth::Truth{}, agents()); // no truth: no match verdict
    REQUIRE(finding);
    std::string evidence;
    for (const auto& line : finding->evidence)
      evidence += line + "\n";
    CHECK(evidence.find("https://coder.example.test:18443/healthz through 127.0.50.101 fails") != std::string::npos);
  }

  TEST_CASE("kubernetes_unavailable: severity by scope, one remediation per kind of failure") {
    CHECK_FALSE(analysis::kubernetes_unavailable({}));
    SUBCASE("truth missing is an error") {
      auto finding = analysis::kubernetes_unavailable(
          {{KubeScope::truth, KubeFailure::unauthorized, "get services \"coder\" in namespace coder: HTTP 401"}});
      REQUIRE(finding);
      CHECK(finding->code == Code::kubernetes_unavailable);
      CHECK(finding->severity == Severity::error);
      CHECK(finding->summary.find("401") != std::string::npos);
      CHECK(finding->evidence.size() == 1);
      CHECK(finding->remediation.find("token") != std::string::npos);
    }
    SUBCASE("only the audit missing is a warning") {
      auto finding = analysis::kubernetes_unavailable(
          {{KubeScope::audit, KubeFailure::forbidden, "list pods in namespace coder-workspace: HTTP 403"},
           {KubeScope::audit, KubeFailure::forbidden, "list pods in namespace other: HTTP 403"}});
      REQUIRE(finding);
      CHECK(finding->severity == Severity::warning);
      CHECK(finding->summary.find("workspace-pod audit") != std::string::npos);
      CHECK(finding->summary.find("2 request(s)") != std::string::npos);
      CHECK(finding->remediation.find("RBAC") != std::string::npos);
    }
    SUBCASE("mixed failures name every remedy") {
      auto finding = analysis::kubernetes_unavailable({{KubeScope::resolvers, KubeFailure::unreachable, "a"},
                                                       {KubeScope::truth, KubeFailure::malformed, "b"},
                                                       {KubeScope::audit, KubeFailure::server, "c"}});
      REQUIRE(finding);
      CHECK(finding->severity == Severity::error);
      CHECK(finding->remediation.find("reachable") != std::string::npos);
      CHECK(finding->remediation.find("server error") != std::string::npos);
      CHECK(finding->remediation.find("not at a proxy") != std::string::npos);
    }
  }
}
