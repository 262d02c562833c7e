// The probe options' scope rules: declarations, inference from the pod's resolv.conf, the cluster
// domain, and the hosts-file lookup a system resolver gets.
#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

using namespace coder_dns_doctor;
using coder_dns_doctor::testing::TempDir;
using probe::ResolverScope;

TEST_SUITE("cli::probe_options") {
  TEST_CASE("system and kube-dns-pods are cluster-scoped; a server list is external until shown otherwise") {
    TempDir dir("cdd-probe-options");
    std::string conf = dir.write("resolv.conf", "nameserver 127.0.0.10\nsearch svc.cluster.local\n");
    CHECK(cli::parse_resolver("c=system", conf).scope == ResolverScope::cluster);
    CHECK(cli::parse_resolver("k=kube-dns-pods", conf).scope == ResolverScope::cluster);
    auto lan = cli::parse_resolver("lan=127.0.50.53", conf);
    CHECK(lan.scope == ResolverScope::external);
    CHECK_FALSE(lan.scope_declared);
  }

  TEST_CASE("cluster: and external: declare the scope") {
    auto declared = cli::parse_resolver("coredns=cluster:127.0.96.10,[::ffff:7f00:a]:53", "/nonexistent");
    CHECK(declared.scope == ResolverScope::cluster);
    CHECK(declared.scope_declared);
    REQUIRE(declared.servers.size() == 2);
    CHECK(declared.servers[1].address.text == "::ffff:127.0.0.10");
    auto external = cli::parse_resolver("pub=external:127.0.52.53", "/nonexistent");
    CHECK(external.scope == ResolverScope::external);
    CHECK(external.scope_declared);
    CHECK_THROWS_AS((void)cli::parse_resolver("x=cluster:", "/nonexistent"), core::UsageError);
    CHECK_THROWS_AS((void)cli::parse_resolver("x=cluster:nope", "/nonexistent"), core::UsageError);
  }

  TEST_CASE("a server list naming a resolv.conf nameserver is cluster-scoped; declarations win") {
    TempDir dir("cdd-probe-options");
    cli::ProbeOptions options;
    options.resolv_conf =
        dir.write("resolv.conf", "nameserver 127.0.0.10\nsearch ns.svc.k8s.internal svc.k8s.internal\n");
    options.hosts_file = dir.write("hosts", "");
    options.resolvers = {"coredns=127.0.0.10", "lan=127.0.50.53", "forced=external:127.0.0.10"};
    probe::Plan plan = cli::make_plan(options);
    CHECK(plan.resolvers[0].scope == ResolverScope::cluster);
    CHECK(plan.resolvers[0].scope_reason.find("nameserver of " + options.resolv_conf) != std::string::npos);
    CHECK(plan.resolvers[1].scope == ResolverScope::external);
    CHECK(plan.resolvers[2].scope == ResolverScope::external);
    CHECK(plan.cluster_domain == "k8s.internal");
  }

  TEST_CASE("no resolv.conf: nothing inferred, default cluster domain, no error") {
    cli::ProbeOptions options;
    options.resolv_conf = "/nonexistent/resolv.conf";
    options.resolvers = {"coredns=127.0.0.10"};
    probe::Plan plan = cli::make_plan(options);
    CHECK(plan.resolvers[0].scope == ResolverScope::external);
    CHECK(plan.cluster_domain == "cluster.local");
  }

  TEST_CASE("cluster_domain_of reads the svc.<domain> search entry") {
    CHECK(cli::cluster_domain_of(
              {.nameservers = {}, .search = {"a.svc.cluster.local", "svc.cluster.local"}, .ndots = 5}) ==
          "cluster.local");
    CHECK(cli::cluster_domain_of({.nameservers = {}, .search = {"corp.example"}, .ndots = 1}) == "cluster.local");
  }

  TEST_CASE("a system resolver reads the hosts file when nsswitch puts files first") {
    TempDir dir("cdd-probe-options");
    cli::ProbeOptions options;
    options.resolv_conf = dir.write("resolv.conf", "nameserver 127.0.0.10\n");
    options.hosts_file = dir.write("hosts", "127.0.50.100 coder.example.test\n");
    SUBCASE("files dns") {
      options.nsswitch_conf =
          dir.write("nsswitch.conf", "passwd: files\nhosts: files mdns4_minimal [NOTFOUND=return] dns\n");
      probe::Plan plan = cli::make_plan(options);
      REQUIRE(plan.resolvers[0].hosts);
      CHECK(plan.resolvers[0].hosts->file.entries.size() == 1);
    }
    SUBCASE("dns files") {
      options.nsswitch_conf = dir.write("nsswitch.conf", "hosts: dns files\n");
      CHECK_FALSE(cli::make_plan(options).resolvers[0].hosts);
    }
    SUBCASE("no nsswitch.conf: files first") {
      options.nsswitch_conf = (dir.path / "absent").string();
      CHECK(cli::make_plan(options).resolvers[0].hosts);
    }
    SUBCASE("a hosts file that is not a regular file is a usage error") {
      options.hosts_file = dir.path.string();
      CHECK_THROWS_AS((void)cli::make_plan(options), core::UsageError);
    }
  }
}
