// docs/rbac.yaml is the RBAC table users and the Helm chart read: keep it equal to the requests
// discovery really makes (k8s::permissions()), so a 403 never names a rule the docs lack.
#include <coder_dns_doctor/k8s/discovery.hpp>

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

using namespace coder_dns_doctor;

TEST_SUITE("k8s::rbac") {
  TEST_CASE("docs/rbac.yaml lists exactly the permissions the code uses") {
    YAML::Node doc = YAML::LoadFile(std::string(CDD_TEST_DATA_DIR) + "/../docs/rbac.yaml");
    REQUIRE(doc["rules"].IsSequence());
    std::set<std::string> documented;
    for (const auto& rule : doc["rules"]) {
      REQUIRE(rule["apiGroups"].size() == 1);
      REQUIRE(rule["resources"].size() == 1);
      REQUIRE(rule["verbs"].size() == 1);
      std::string kind = rule["kind"].as<std::string>();
      CHECK((kind == "Role" || kind == "ClusterRole"));
      documented.insert(rule["feature"].as<std::string>() + " " + rule["verbs"][0].as<std::string>() + " " +
                        rule["apiGroups"][0].as<std::string>() + "/" + rule["resources"][0].as<std::string>() + " " +
                        kind + " " + rule["namespace"]["option"].as<std::string>() + " " +
                        rule["namespace"]["default"].as<std::string>());
      CHECK_FALSE(rule["when"].as<std::string>().empty());
    }
    std::set<std::string> used;
    for (const auto& p : k8s::permissions())
      used.insert(std::string(p.name) + " " + std::string(p.verb) + " " + std::string(p.group) + "/" +
                  std::string(p.resource) + " " + (p.namespace_option.empty() ? "ClusterRole" : "Role") + " " +
                  std::string(p.namespace_option) + " " + std::string(p.default_namespace));
    CHECK(documented == used);
  }

  TEST_CASE("only read verbs") {
    for (const auto& p : k8s::permissions())
      CHECK((p.verb == "get" || p.verb == "list"));
  }

  TEST_CASE("access_for fills the namespace and the object name of a get") {
    auto service = k8s::access_for(k8s::Feature::coder_service, "coder", "coder");
    CHECK(service.describe() == "get services \"coder\" in namespace coder");
    auto ingresses = k8s::access_for(k8s::Feature::ingresses, "ignored", "ignored");
    CHECK(ingresses.describe() == "list ingresses (API group networking.k8s.io) (cluster-wide)");
    auto pods = k8s::access_for(k8s::Feature::workspace_pods, "team-b", "ignored");
    CHECK(pods.describe() == "list pods in namespace team-b");
  }
}
