// Resolver scope: which resolvers can answer cluster names, and which names only they can.
#include <coder_dns_doctor/probe/plan.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor;
using probe::ResolverScope;

namespace {

probe::ResolverPlan servers(std::string label, std::vector<std::string> endpoints, bool declared = false) {
  probe::ResolverPlan resolver{.label = std::move(label), .spec = "list"};
  for (const auto& text : endpoints)
    resolver.servers.push_back(*util::parse_endpoint(text, 53));
  resolver.scope_declared = declared;
  return resolver;
}

} // namespace

TEST_SUITE("probe::scope_by_servers") {
  TEST_CASE("a server list holding a known server becomes cluster-scoped, with the reason") {
    probe::Plan plan;
    plan.resolvers = {servers("coredns", {"127.0.96.10"}), servers("lan", {"127.0.50.53"}),
                      servers("both", {"127.0.52.53", "127.0.96.10"})};
    probe::scope_by_servers(plan, {*util::parse_endpoint("127.0.96.10", 53)},
                            "the ClusterIP of Service kube-system/kube-dns");
    CHECK(plan.resolvers[0].scope == ResolverScope::cluster);
    CHECK(plan.resolvers[0].scope_reason == "127.0.96.10:53 is the ClusterIP of Service kube-system/kube-dns");
    CHECK(plan.resolvers[1].scope == ResolverScope::external);
    CHECK(plan.resolvers[2].scope == ResolverScope::cluster); // any of its servers
    CHECK(plan.has_cluster_resolver());
  }

  TEST_CASE("the port must match too, and IPv6 compares canonically") {
    probe::Plan plan;
    plan.resolvers = {servers("other-port", {"127.0.96.10:5353"}), servers("v6", {"[::ffff:127.0.0.10]"})};
    probe::scope_by_servers(plan,
                            {*util::parse_endpoint("127.0.96.10", 53), *util::parse_endpoint("[::ffff:7f00:a]", 53)},
                            "a nameserver of /etc/resolv.conf");
    CHECK(plan.resolvers[0].scope == ResolverScope::external);
    CHECK(plan.resolvers[1].scope == ResolverScope::cluster);
  }

  TEST_CASE("a declared scope is left alone") {
    probe::Plan plan;
    plan.resolvers = {servers("forced-external", {"127.0.96.10"}, true)};
    probe::scope_by_servers(plan, {*util::parse_endpoint("127.0.96.10", 53)}, "x");
    CHECK(plan.resolvers[0].scope == ResolverScope::external);
    CHECK_FALSE(plan.has_cluster_resolver());
  }
}

TEST_SUITE("probe::Plan") {
  TEST_CASE("cluster-only names: the internal host and anything under the cluster domain") {
    probe::Plan plan;
    plan.hosts = {{"coder.example.test", probe::HostRole::external}, {"coder-svc.internal", probe::HostRole::internal}};
    plan.resolvers = {servers("lan", {"127.0.50.53"})};
    CHECK(plan.is_cluster_only("coder-svc.internal")); // by role, whatever its name
    CHECK(plan.is_cluster_only("kube-dns.kube-system.svc.cluster.local"));
    CHECK(plan.is_cluster_only("cluster.local"));
    CHECK_FALSE(plan.is_cluster_only("coder.example.test"));
    CHECK_FALSE(plan.is_cluster_only("evilcluster.local"));
    CHECK(plan.outside_scope("lan", "x.svc.cluster.local"));
    CHECK_FALSE(plan.outside_scope("lan", "coder.example.test"));
    CHECK_FALSE(plan.outside_scope("unknown-label", "x.svc.cluster.local"));
    // the per-entry form the engine uses answers the same for every planned host
    plan.hosts.push_back({"kube-dns.kube-system.svc.cluster.local", probe::HostRole::extra});
    plan.hosts.push_back({"evilcluster.local", probe::HostRole::extra});
    for (const auto& entry : plan.hosts) {
      CAPTURE(entry.host);
      CHECK(plan.is_cluster_only(entry) == plan.is_cluster_only(entry.host));
    }
    CHECK(plan.is_cluster_only(probe::HostPlan{.host = "coder-svc.internal", .role = probe::HostRole::internal}));
    CHECK_FALSE(plan.is_cluster_only(probe::HostPlan{.host = "coder.example.test", .role = probe::HostRole::extra}));
  }
}
