// Table tests: Kubernetes JSON -> the facts truth discovery uses (no network).
#include <coder_dns_doctor/k8s/objects.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor;
using nlohmann::json;

TEST_SUITE("k8s::objects") {
  TEST_CASE("parse_object_ref accepts NS/NAME and names what is wrong") {
    auto ref = k8s::parse_object_ref("coder/coder");
    REQUIRE(ref);
    CHECK(ref->namespace_ == "coder");
    CHECK(ref->name == "coder");
    CHECK(ref->to_string() == "coder/coder");
    for (const char* bad : {"coder", "/coder", "coder/", "a/b/c", "Coder/coder", "coder/co der"})
      CHECK_FALSE(k8s::parse_object_ref(bad));
  }

  TEST_CASE("service_of_host reads <svc>.<ns>.svc[.<domain>]") {
    CHECK(k8s::service_of_host("coder.coder.svc.cluster.local") == k8s::ObjectRef{"coder", "coder"});
    CHECK(k8s::service_of_host("coder.prod.svc") == k8s::ObjectRef{"prod", "coder"});
    CHECK(k8s::service_of_host("web.team-a.svc.example.internal.") == k8s::ObjectRef{"team-a", "web"});
    CHECK_FALSE(k8s::service_of_host("coder.example.com"));
    CHECK_FALSE(k8s::service_of_host("coder.coder"));
  }

  TEST_CASE("read_service: ClusterIP, dual stack, headless, LoadBalancer") {
    SUBCASE("clusterIPs wins over clusterIP and is canonical and sorted") {
      auto facts = k8s::read_service(json::parse(R"({"spec": {"type": "ClusterIP", "clusterIP": "127.0.209.202",
        "clusterIPs": ["127.0.209.202", "fd00:0:0::a"], "ports": [{"port": 80}]}})"));
      REQUIRE(facts);
      CHECK(facts->cluster_ips == std::vector<std::string>{"127.0.209.202", "fd00::a"});
      CHECK_FALSE(facts->headless);
      CHECK(facts->ports == std::vector<int>{80});
    }
    SUBCASE("only clusterIP (old API servers)") {
      auto facts = k8s::read_service(json::parse(R"({"spec": {"clusterIP": "127.0.0.5"}})"));
      REQUIRE(facts);
      CHECK(facts->type == "ClusterIP");
      CHECK(facts->cluster_ips == std::vector<std::string>{"127.0.0.5"});
    }
    SUBCASE("headless") {
      auto facts = k8s::read_service(json::parse(R"({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}})"));
      REQUIRE(facts);
      CHECK(facts->headless);
      CHECK(facts->cluster_ips.empty());
    }
    SUBCASE("LoadBalancer with an IP and a hostname") {
      auto facts = k8s::read_service(json::parse(R"({"spec": {"type": "LoadBalancer", "clusterIP": "127.0.96.1"},
        "status": {"loadBalancer": {"ingress": [{"ip": "127.0.50.101"}, {"hostname": "LB.Example.Test."}, {}]}}})"));
      REQUIRE(facts);
      CHECK(facts->load_balancer.ips == std::vector<std::string>{"127.0.50.101"});
      CHECK(facts->load_balancer.hostnames == std::vector<std::string>{"lb.example.test"});
    }
    SUBCASE("a load-balancer status on a ClusterIP Service is ignored") {
      auto facts = k8s::read_service(json::parse(R"({"spec": {"clusterIP": "127.0.0.5"},
        "status": {"loadBalancer": {"ingress": [{"ip": "127.0.50.101"}]}}})"));
      REQUIRE(facts);
      CHECK(facts->load_balancer.empty());
    }
    SUBCASE("not a Service") {
      CHECK_FALSE(k8s::read_service(json::parse(R"({"kind": "Status"})")));
      CHECK_FALSE(k8s::read_service(json::parse(R"([1, 2])")));
      CHECK_FALSE(k8s::read_service(json::parse(R"({"spec": "x"})")));
    }
  }

  TEST_CASE("ready_endpoint_addresses keeps ready (or unknown) endpoints") {
    auto addresses = k8s::ready_endpoint_addresses(json::parse(R"({"items": [
      {"endpoints": [{"addresses": ["127.0.209.202"], "conditions": {"ready": true}},
                     {"addresses": ["127.0.209.203"], "conditions": {"ready": false}},
                     {"addresses": ["127.0.209.204"]}]},
      {"endpoints": null},
      {"endpoints": [{"addresses": ["127.0.209.202", "not-an-ip"]}]}]})"));
    REQUIRE(addresses);
    CHECK(*addresses == std::vector<std::string>{"127.0.209.202", "127.0.209.204"});
    CHECK_FALSE(k8s::ready_endpoint_addresses(json::parse(R"({"kind": "EndpointSliceList"})")));
  }

  TEST_CASE("rule_host_matches: exact, and a wildcard for exactly one label") {
    struct Case {
      const char* rule;
      const char* host;
      bool matches;
    };
    for (const Case& c :
         {Case{"coder.example.test", "coder.example.test", true},
          Case{"Coder.Example.Test", "coder.example.test.", true}, Case{"*.example.test", "coder.example.test", true},
          Case{"*.example.test", "example.test", false}, Case{"*.example.test", "a.coder.example.test", false},
          Case{"*.example.test", "coder.example.testing", false}, Case{"", "coder.example.test", false},
          Case{"other.example.test", "coder.example.test", false}}) {
      CAPTURE(c.rule);
      CAPTURE(c.host);
      CHECK(k8s::rule_host_matches(c.rule, c.host) == c.matches);
    }
  }

  TEST_CASE("ingresses_for_host finds the Ingresses with a rule for the host") {
    auto list = json::parse(R"({"items": [
      {"metadata": {"namespace": "monitoring", "name": "grafana"},
       "spec": {"rules": [{"host": "grafana.example.test"}]},
       "status": {"loadBalancer": {"ingress": [{"ip": "127.0.50.102"}]}}},
      {"metadata": {"namespace": "ingress-nginx", "name": "wildcard"},
       "spec": {"rules": [{"http": {}}, {"host": "*.example.test"}]},
       "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.test"}]}}},
      {"metadata": {"namespace": "coder", "name": "coder"},
       "spec": {"rules": [{"host": "coder.example.test"}]},
       "status": {"loadBalancer": {}}}]})");
    auto matches = k8s::ingresses_for_host(list, "coder.example.test");
    REQUIRE(matches);
    REQUIRE(matches->size() == 2);
    CHECK((*matches)[0].ingress.to_string() == "coder/coder");
    CHECK((*matches)[0].load_balancer.empty());
    CHECK((*matches)[1].ingress.to_string() == "ingress-nginx/wildcard");
    CHECK((*matches)[1].rule_host == "*.example.test");
    CHECK((*matches)[1].load_balancer.hostnames == std::vector<std::string>{"lb.example.test"});
    CHECK_FALSE(k8s::ingresses_for_host(json::parse("{}"), "coder.example.test"));
  }

  TEST_CASE("access_url_source: literal, configMapKeyRef, secretKeyRef, absent") {
    auto deployment = [](const char* env) {
      return json::parse(std::string(R"({"metadata": {"namespace": "coder", "name": "coder"}, "spec": {"template":
        {"spec": {"containers": [{"name": "sidecar", "env": [{"name": "CODER_ACCESS_URL", "value": "https://side.example"}]},
                                 {"name": "coder", "env": [)") +
                         env + "]}]}}}}");
    };
    SUBCASE("literal in the coder container wins over a sidecar's") {
      auto source =
          k8s::access_url_source(deployment(R"({"name": "CODER_ACCESS_URL", "value": "https://coder.example.test"})"));
      REQUIRE(source);
      REQUIRE(*source);
      CHECK((*source)->container == "coder");
      CHECK((*source)->literal == "https://coder.example.test");
    }
    SUBCASE("configMapKeyRef in the Deployment's namespace") {
      auto source = k8s::access_url_source(deployment(
          R"({"name": "CODER_ACCESS_URL", "valueFrom": {"configMapKeyRef": {"name": "coder-config", "key": "url"}}})"));
      REQUIRE(source);
      REQUIRE(*source);
      REQUIRE((*source)->config_map);
      CHECK((*source)->config_map->to_string() == "coder/coder-config");
      CHECK((*source)->key == "url");
    }
    SUBCASE("secretKeyRef is named, not read") {
      auto source = k8s::access_url_source(
          deployment(R"({"name": "CODER_ACCESS_URL", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})"));
      REQUIRE(source);
      REQUIRE(*source);
      CHECK((*source)->unsupported == "secretKeyRef");
    }
    SUBCASE("only the sidecar sets it") {
      auto source = k8s::access_url_source(deployment(R"({"name": "OTHER", "value": "x"})"));
      REQUIRE(source);
      REQUIRE(*source);
      CHECK((*source)->container == "sidecar");
    }
    SUBCASE("not a Deployment") {
      CHECK_FALSE(k8s::access_url_source(json::parse(R"({"spec": {}})")));
    }
  }

  TEST_CASE("config_map_value") {
    auto map = json::parse(R"({"metadata": {"name": "c"}, "data": {"access_url": "https://coder.example.test"}})");
    auto found = k8s::config_map_value(map, "access_url");
    REQUIRE(found);
    CHECK(*found == "https://coder.example.test");
    auto missing = k8s::config_map_value(map, "nope");
    REQUIRE(missing);
    CHECK_FALSE(*missing);
    CHECK_FALSE(k8s::config_map_value(json::parse("[]"), "x"));
  }

  TEST_CASE("ready_dns_pods keeps running, ready, not terminating pods with their dns port") {
    auto list = json::parse(R"({"items": [
      {"metadata": {"name": "coredns-b"}, "spec": {"containers": [{"ports": [
         {"name": "dns", "containerPort": 1053, "protocol": "UDP"}, {"name": "metrics", "containerPort": 9153}]}]},
       "status": {"phase": "Running", "podIP": "127.0.6.53", "conditions": [{"type": "Ready", "status": "True"}]}},
      {"metadata": {"name": "coredns-a"}, "spec": {"containers": [{}]},
       "status": {"phase": "Running", "podIP": "127.0.0.10", "conditions": [{"type": "Ready", "status": "True"}]}},
      {"metadata": {"name": "coredns-notready"},
       "status": {"phase": "Running", "podIP": "127.0.6.54", "conditions": [{"type": "Ready", "status": "False"}]}},
      {"metadata": {"name": "coredns-leaving", "deletionTimestamp": "2025-01-01T00:00:00Z"},
       "status": {"phase": "Running", "podIP": "127.0.6.55", "conditions": [{"type": "Ready", "status": "True"}]}},
      {"metadata": {"name": "coredns-pending"}, "status": {"phase": "Pending"}},
      "garbage"]})");
    auto pods = k8s::ready_dns_pods(list);
    REQUIRE(pods);
    REQUIRE(pods->size() == 2);
    CHECK((*pods)[0].name == "coredns-a");
    CHECK((*pods)[0].endpoint.to_string() == "127.0.0.10:53");
    CHECK((*pods)[1].name == "coredns-b");
    CHECK((*pods)[1].endpoint.to_string() == "127.0.6.53:1053");
  }
}
