// Table tests: one case per finding code, built from observations by hand (no network).
#include <coder_dns_doctor/analysis/analyze.hpp>
#include <coder_dns_doctor/analysis/evaluate.hpp>

#include "addresses.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace coder_dns_doctor;
using analysis::Code;
using analysis::Severity;
using probe::Family;
using probe::LookupStatus;
using probe::QueryMode;
using probe::Via;

namespace {

constexpr const char* k_external = "coder.example.test";
constexpr const char* k_internal = "coder.coder.svc.cluster.local";

probe::Plan field_plan() {
  probe::Plan plan;
  plan.resolvers = {{.label = "cluster", .spec = "system", .scope = probe::ResolverScope::cluster},
                    {.label = "public", .spec = "127.0.52.53", .scope = probe::ResolverScope::external}};
  plan.hosts = {{k_external, probe::HostRole::external}, {k_internal, probe::HostRole::internal}};
  plan.urls = {{*util::parse_url("https://coder.example.test:18443"), probe::HostRole::external},
               {*util::parse_url("http://coder.coder.svc.cluster.local:18080"), probe::HostRole::internal}};
  return plan;
}

truth::Truth field_truth() {
  return truth::merge(
      {}, {{k_external, test::ips({"127.0.50.101"}), "static"}, {k_internal, test::ips({"127.0.209.202"}), "static"}});
}

probe::DnsObservation answer(std::string host, std::string resolver, Family family, LookupStatus status,
                             std::vector<std::string> addresses, QueryMode mode = QueryMode::absolute,
                             std::string name = "") {
  probe::DnsObservation o;
  o.name = name.empty() ? host + "." : name;
  o.host = std::move(host);
  o.resolver = std::move(resolver);
  o.family = family;
  o.status = status;
  o.addresses = test::ips(addresses);
  o.mode = mode;
  if (status == LookupStatus::ok)
    o.ttl = 30;
  return o;
}

probe::HttpObservation health(std::string base, Via via, std::string address, bool ok,
                              probe::Endpoint endpoint = probe::Endpoint::healthz,
                              std::optional<std::string> deployment = std::nullopt) {
  probe::HttpObservation o;
  o.base_url = base;
  o.url = base + std::string(probe::to_string(endpoint));
  o.via = via;
  o.address = test::ip(address);
  o.ok = ok;
  o.endpoint = endpoint;
  o.deployment_id = std::move(deployment);
  if (ok) {
    o.status_code = 200;
    o.coderd_version = "v2.18.0"; // every coderd answer carries X-Coder-Build-Version
  } else {
    o.error = "Connection refused";
  }
  return o;
}

// A healthy world: every resolver gives the truth, every path answers.
probe::Observations healthy() {
  probe::Observations o;
  for (const char* resolver : {"cluster", "public"}) {
    o.dns.push_back(answer(k_external, resolver, Family::a, LookupStatus::ok, {"127.0.50.101"}));
    o.dns.push_back(answer(k_external, resolver, Family::aaaa, LookupStatus::nodata, {}));
    o.dns.push_back(answer(k_internal, resolver, Family::a, LookupStatus::ok, {"127.0.209.202"}));
  }
  o.http.push_back(health("https://coder.example.test:18443", Via::dns, "127.0.50.101", true));
  o.http.push_back(health("https://coder.example.test:18443", Via::pinned, "127.0.50.101", true));
  o.http.push_back(health("http://coder.coder.svc.cluster.local:18080", Via::internal, "127.0.209.202", true));
  return o;
}

std::vector<analysis::Finding> run(const probe::Observations& observations, const truth::Truth& truth = field_truth()) {
  return analysis::evaluate(field_plan(), observations, truth, {}).findings;
}

const analysis::Finding* find(const std::vector<analysis::Finding>& findings, Code code) {
  auto it = std::find_if(findings.begin(), findings.end(), [&](const auto& f) { return f.code == code; });
  return it == findings.end() ? nullptr : &*it;
}

bool mentions(const analysis::Finding& finding, const std::string& text) {
  return std::any_of(finding.evidence.begin(), finding.evidence.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; }) ||
         finding.summary.find(text) != std::string::npos;
}

} // namespace

TEST_SUITE("analysis::annotate") {
  TEST_CASE("answers are compared as sets per family") {
    auto truth = truth::merge({}, {{k_external, test::ips({"127.0.50.101", "127.0.50.102"}), "static"}});
    probe::Observations o;
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.102", "127.0.50.101"}));
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.101"}));
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.100", "127.0.50.101"}));
    o.dns.push_back(answer(k_external, "cluster", Family::aaaa, LookupStatus::nodata, {}));
    o.dns.push_back(answer(k_external, "cluster", Family::aaaa, LookupStatus::ok, {"::1"}));
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::timeout, {}));
    o.dns.push_back(answer("other.example.test", "cluster", Family::a, LookupStatus::ok, {"127.0.0.1"}));
    std::sort(o.dns[0].addresses.begin(), o.dns[0].addresses.end());
    auto annotated = analysis::annotate(o, truth);
    CHECK(annotated[0].match == true);           // same set, any order
    CHECK(annotated[1].match == true);           // a subset: round-robin answers are fine
    CHECK(annotated[2].match == false);          // one address outside the truth
    CHECK(annotated[3].match == true);           // no AAAA truth, no AAAA answer
    CHECK(annotated[4].match == false);          // AAAA answer while the truth has no IPv6
    CHECK_FALSE(annotated[5].match.has_value()); // no answer to judge
    CHECK_FALSE(annotated[6].match.has_value()); // no truth for that host
    CHECK(util::texts(annotated[0].expected) == std::vector<std::string>{"127.0.50.101", "127.0.50.102"});
    CHECK(annotated[4].expected.empty());
  }
}

TEST_SUITE("analysis::analyze") {
  TEST_CASE("a healthy world has no findings") {
    CHECK(run(healthy()).empty());
  }

  TEST_CASE("EXTERNAL_DNS_MISMATCH and RESOLVER_DISAGREEMENT name the stale resolver and the right one") {
    auto o = healthy();
    o.dns[0].addresses = test::ips({"127.0.50.100"}); // cluster gives the stale LAN record
    auto findings = run(o);
    const auto* mismatch = find(findings, Code::external_dns_mismatch);
    REQUIRE(mismatch);
    CHECK(mismatch->severity == Severity::error);
    CHECK(mentions(*mismatch, "127.0.50.100"));
    CHECK(mentions(*mismatch, "cluster"));
    CHECK_FALSE(mentions(*mismatch, "public"));
    CHECK_FALSE(mismatch->remediation.empty());
    const auto* disagreement = find(findings, Code::resolver_disagreement);
    REQUIRE(disagreement);
    CHECK(disagreement->severity == Severity::error);
    CHECK(mentions(*disagreement, "agrees with the truth: public"));
    CHECK(analysis::verdict_of(findings) == analysis::Verdict::broken);
  }

  TEST_CASE("RESOLVER_DISAGREEMENT without truth is a warning") {
    auto o = healthy();
    o.dns[0].addresses = test::ips({"127.0.50.100"});
    auto findings = run(o, truth::Truth{});
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].code == Code::resolver_disagreement);
    CHECK(findings[0].severity == Severity::warning);
    CHECK(analysis::verdict_of(findings) == analysis::Verdict::degraded);
  }

  TEST_CASE("INTERNAL_DNS_MISMATCH for the Service name") {
    auto o = healthy();
    o.dns[2].addresses = test::ips({"127.0.0.99"});
    auto findings = run(o);
    REQUIRE(find(findings, Code::internal_dns_mismatch));
    CHECK_FALSE(find(findings, Code::external_dns_mismatch));
  }

  TEST_CASE("HOST_DNS_MISMATCH for an extra host") {
    auto o = healthy();
    o.dns.push_back(answer("extra.example.test", "cluster", Family::a, LookupStatus::ok, {"127.0.0.7"}));
    auto truth = field_truth();
    truth.entries.push_back({"extra.example.test", test::ips({"127.0.0.8"}), "static"});
    auto findings = run(o, truth);
    REQUIRE(find(findings, Code::host_dns_mismatch));
  }

  TEST_CASE("DNS_LOOKUP_FAILED says which status and resolver") {
    for (LookupStatus status : {LookupStatus::nxdomain, LookupStatus::servfail, LookupStatus::refused,
                                LookupStatus::timeout, LookupStatus::error}) {
      CAPTURE(probe::to_string(status));
      auto o = healthy();
      o.dns[2] = answer(k_internal, "cluster", Family::a, status, {});
      auto findings = run(o);
      const auto* failed = find(findings, Code::dns_lookup_failed);
      REQUIRE(failed);
      CHECK(mentions(*failed, std::string(probe::to_string(status))));
      CHECK(mentions(*failed, "cluster"));
      CHECK_FALSE(find(findings, Code::internal_dns_mismatch)); // a failure is not a wrong answer
    }
  }

  TEST_CASE("SEARCH_SHADOWING when a search suffix answers first") {
    auto o = healthy();
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.66.66"}, QueryMode::search,
                           "coder.example.test.coder.svc.cluster.local."));
    auto findings = run(o);
    const auto* shadow = find(findings, Code::search_shadowing);
    REQUIRE(shadow);
    CHECK(mentions(*shadow, "coder.example.test.coder.svc.cluster.local."));
    CHECK(mentions(*shadow, "127.0.66.66"));
    CHECK_FALSE(find(findings, Code::external_dns_mismatch)); // the absolute answer is right
  }

  TEST_CASE("no SEARCH_SHADOWING when the name itself answered") {
    auto o = healthy();
    o.dns.push_back(answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.101"}, QueryMode::search));
    CHECK(run(o).empty());
  }

  TEST_CASE("HEALTHZ_FAILS_VIA_DNS when the DNS address fails and the pinned one works") {
    auto o = healthy();
    o.http[0] = health("https://coder.example.test:18443", Via::dns, "127.0.50.100", false);
    auto findings = run(o);
    const auto* via_dns = find(findings, Code::healthz_fails_via_dns);
    REQUIRE(via_dns);
    CHECK(mentions(*via_dns, "127.0.50.100"));
    CHECK(via_dns->remediation.find("127.0.50.101") != std::string::npos);
    CHECK_FALSE(find(findings, Code::healthz_down));
  }

  TEST_CASE("HEALTHZ_DOWN when every path fails") {
    auto o = healthy();
    o.http[0].ok = false;
    o.http[1].ok = false;
    auto findings = run(o);
    const auto* down = find(findings, Code::healthz_down);
    REQUIRE(down);
    CHECK(mentions(*down, "coder.example.test"));
    CHECK_FALSE(find(findings, Code::healthz_fails_via_dns));
  }

  TEST_CASE("DEPLOYMENT_MISMATCH when buildinfo differs between paths") {
    auto o = healthy();
    o.http.push_back(health("https://coder.example.test:18443", Via::dns, "127.0.50.101", true,
                            probe::Endpoint::buildinfo, "dep-1"));
    o.http.push_back(health("http://coder.coder.svc.cluster.local:18080", Via::internal, "127.0.209.202", true,
                            probe::Endpoint::buildinfo, "dep-1"));
    CHECK_FALSE(find(run(o), Code::deployment_mismatch));
    o.http.back().deployment_id = "dep-2";
    auto findings = run(o);
    const auto* split = find(findings, Code::deployment_mismatch);
    REQUIRE(split);
    CHECK(mentions(*split, "dep-1"));
    CHECK(mentions(*split, "dep-2"));
  }

  TEST_CASE("every code has a unique name and errors carry a remediation") {
    std::vector<std::string_view> names;
    for (const auto& info : analysis::code_table())
      names.push_back(info.name);
    auto sorted = names;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    auto o = healthy();
    o.dns[0].addresses = test::ips({"127.0.50.100"});
    o.http[0] = health("https://coder.example.test:18443", Via::dns, "127.0.50.100", false);
    for (const auto& finding : run(o))
      if (finding.severity == Severity::error)
        CHECK_FALSE(finding.remediation.empty());
  }

  TEST_CASE("a cluster-only name that an external resolver cannot know is info, not a failure or an opinion") {
    for (LookupStatus status : {LookupStatus::nxdomain, LookupStatus::refused, LookupStatus::nodata}) {
      CAPTURE(probe::to_string(status));
      auto o = healthy();
      o.dns[5] = answer(k_internal, "public", Family::a, status, {});
      o.dns.push_back(answer(k_internal, "public", Family::aaaa, status, {}));
      o.dns[5].outside_scope = o.dns.back().outside_scope = true; // as the engine marks them
      auto findings = run(o);
      CHECK_FALSE(find(findings, Code::internal_dns_mismatch));
      CHECK_FALSE(find(findings, Code::dns_lookup_failed));
      CHECK_FALSE(find(findings, Code::resolver_disagreement));
      const auto* scope = find(findings, Code::resolver_out_of_scope);
      REQUIRE(scope);
      CHECK(scope->severity == Severity::info);
      CHECK(mentions(*scope, "public"));
      CHECK(analysis::verdict_of(findings) == analysis::Verdict::healthy);
    }
  }

  TEST_CASE("an external resolver's timeout for a cluster-only name stays a failure") {
    auto o = healthy();
    o.dns[5] = answer(k_internal, "public", Family::a, LookupStatus::timeout, {});
    o.dns[5].outside_scope = true;
    CHECK(find(run(o), Code::dns_lookup_failed));
  }

  TEST_CASE("a name under the cluster domain is cluster-only even as an extra host") {
    auto plan = field_plan();
    CHECK(plan.is_cluster_only(k_internal));
    CHECK(plan.is_cluster_only("kube-dns.kube-system.svc.cluster.local"));
    CHECK_FALSE(plan.is_cluster_only("coder.example.test"));
    CHECK_FALSE(plan.is_cluster_only("notcluster.local"));
    plan.cluster_domain = "k8s.internal";
    CHECK(plan.is_cluster_only("x.svc.k8s.internal"));
    CHECK_FALSE(plan.is_cluster_only("x.svc.cluster.local"));
    CHECK(plan.outside_scope("public", "x.svc.k8s.internal"));
    CHECK_FALSE(plan.outside_scope("cluster", "x.svc.k8s.internal"));
  }

  TEST_CASE("a resolver agrees with the truth only when every family it answered matches") {
    auto o = healthy();
    o.dns[0].addresses = test::ips({"127.0.50.100"}); // cluster A is stale
    // public: A right, but AAAA nxdomain for a name whose truth has an A address: wrong
    o.dns[4] = answer(k_external, "public", Family::aaaa, LookupStatus::nxdomain, {});
    auto findings = run(o);
    const auto* disagreement = find(findings, Code::resolver_disagreement);
    REQUIRE(disagreement);
    CHECK(disagreement->summary.find("none is right") != std::string::npos);
    CHECK(disagreement->remediation.find("cluster, public") != std::string::npos);
    CHECK(disagreement->remediation.find("the truth says") != std::string::npos);
  }

  TEST_CASE("nxdomain matches only a host without any truth") {
    auto o = healthy();
    o.dns[1] = answer(k_external, "cluster", Family::aaaa, LookupStatus::nxdomain, {});
    auto annotated = analysis::annotate(o, field_truth());
    CHECK(annotated[1].match == false);
    auto unknown =
        analysis::annotate(o, truth::merge({}, {{"other.example.test", test::ips({"127.0.0.9"}), "static"}}));
    CHECK_FALSE(unknown[1].match.has_value());
  }

  TEST_CASE("HOSTS_FILE_OVERRIDE names the file and line of a stale entry") {
    auto o = healthy();
    auto pinned =
        answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.100"}, QueryMode::hosts, k_external);
    pinned.detail = "/etc/hosts:3";
    o.dns.push_back(pinned);
    auto stale = health("https://coder.example.test:18443", Via::dns, "127.0.50.100", false);
    stale.resolvers = {"cluster/hosts"};
    o.http.push_back(stale);
    auto findings = run(o);
    const auto* hosts = find(findings, Code::hosts_file_override);
    REQUIRE(hosts);
    CHECK(hosts->severity == Severity::error);
    CHECK(mentions(*hosts, "/etc/hosts:3"));
    CHECK(hosts->remediation.find("/etc/hosts:3") != std::string::npos);
    CHECK_FALSE(find(findings, Code::external_dns_mismatch)); // DNS itself is right
    CHECK_FALSE(find(findings, Code::healthz_fails_via_dns)); // the hosts file sent it there, not DNS
  }

  TEST_CASE("HOSTS_FILE_OVERRIDE without truth: the pinned address does not answer while DNS's does") {
    auto o = healthy();
    o.dns.push_back(
        answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.100"}, QueryMode::hosts, k_external));
    o.dns.back().detail = "/etc/hosts:3";
    auto stale = health("https://coder.example.test:18443", Via::dns, "127.0.50.100", false);
    stale.resolvers = {"cluster/hosts"};
    o.http.push_back(stale);
    o.http.erase(o.http.begin() + 1); // no pinned path without truth
    auto findings = run(o, {});
    const auto* hosts = find(findings, Code::hosts_file_override);
    REQUIRE(hosts);
    CHECK(mentions(*hosts, "but works at 127.0.50.101"));
    SUBCASE("a pinned address that answers is a deliberate pin: silent") {
      o.http.back() = health("https://coder.example.test:18443", Via::dns, "127.0.50.100", true);
      o.http.back().resolvers = {"cluster/hosts"};
      CHECK_FALSE(find(run(o, {}), Code::hosts_file_override));
    }
  }

  TEST_CASE("a hosts-file entry that matches the truth is silent") {
    auto o = healthy();
    o.dns.push_back(
        answer(k_external, "cluster", Family::a, LookupStatus::ok, {"127.0.50.101"}, QueryMode::hosts, k_external));
    CHECK(run(o).empty());
  }

  TEST_CASE("INGRESS_UNREACHABLE_IN_CLUSTER: no answer at any address of the external URL, internal works") {
    auto o = healthy();
    o.http[0] = health("https://coder.example.test:18443", Via::dns, "127.0.50.101", false);
    o.http[1] = health("https://coder.example.test:18443", Via::pinned, "127.0.50.101", false);
    auto findings = run(o);
    const auto* hairpin = find(findings, Code::ingress_unreachable_in_cluster);
    REQUIRE(hairpin);
    CHECK(hairpin->remediation.find("http://coder.coder.svc.cluster.local:18080") != std::string::npos);
    CHECK_FALSE(find(findings, Code::healthz_down));
    SUBCASE("an HTTP answer from the ingress means it is reachable: HEALTHZ_DOWN") {
      o.http[1].status_code = 503;
      auto answered = run(o);
      CHECK_FALSE(find(answered, Code::ingress_unreachable_in_cluster));
      const auto* down = find(answered, Code::healthz_down);
      REQUIRE(down);
      CHECK(down->remediation.find("internal URL") != std::string::npos);
    }
    SUBCASE("without a pinned truth address it cannot be told from stale DNS") {
      o.http.erase(o.http.begin() + 1);
      CHECK_FALSE(find(run(o), Code::ingress_unreachable_in_cluster));
    }
    SUBCASE("the internal URL down too: HEALTHZ_DOWN for both") {
      o.http[2] = health("http://coder.coder.svc.cluster.local:18080", Via::internal, "127.0.209.202", false);
      auto down = run(o);
      CHECK_FALSE(find(down, Code::ingress_unreachable_in_cluster));
      CHECK(std::count_if(down.begin(), down.end(), [](const auto& f) { return f.code == Code::healthz_down; }) == 2);
    }
  }
}
