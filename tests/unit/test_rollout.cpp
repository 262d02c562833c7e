// rollout's pure parts: the RBAC it needs (kept equal to docs/rbac.yaml's `rollout` table), the
// outcome of a set of steps (exit statuses), and the JSON document.
#include <coder_dns_doctor/rollout/rollout.hpp>

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

using namespace coder_dns_doctor;
using rollout::StepStatus;

namespace {

rollout::Result result_of(std::initializer_list<StepStatus> statuses, bool dry_run = false) {
  rollout::Result result{.steps = {}, .dry_run = dry_run};
  int n = 0;
  for (StepStatus status : statuses)
    result.steps.push_back(rollout::Step{.name = "step" + std::to_string(n++), .status = status});
  return result;
}

} // namespace

TEST_SUITE("rollout") {
  TEST_CASE("docs/rbac.yaml's rollout rules are exactly what rollout may request") {
    YAML::Node doc = YAML::LoadFile(std::string(CDD_TEST_DATA_DIR) + "/../docs/rbac.yaml");
    REQUIRE(doc["rollout"].IsSequence());
    std::set<std::string> documented;
    for (const auto& rule : doc["rollout"]) {
      CHECK(rule["kind"].as<std::string>() == "Role");
      for (const auto& verb : rule["verbs"])
        documented.insert(verb.as<std::string>() + " " + rule["apiGroups"][0].as<std::string>() + "/" +
                          rule["resources"][0].as<std::string>() + " " +
                          rule["namespace"]["default"].as<std::string>());
    }
    rollout::Options flux;
    rollout::Options apply;
    apply.apply_configmap = true;
    rollout::Options coder;
    coder.coder = rollout::CoderOptions{};
    std::set<std::string> used;
    for (const auto* options : {&flux, &apply, &coder})
      for (const auto& access : rollout::permissions(*options, "flux-system"))
        used.insert(access.verb + " " + access.group + "/" + access.resource + " " + access.namespace_);
    CHECK(documented == used);
    // the daemon's own table stays read-only: rollout's writes are only in the opt-in section
    for (const auto& rule : doc["rules"])
      for (const auto& verb : rule["verbs"])
        CHECK((verb.as<std::string>() == "get" || verb.as<std::string>() == "list"));
  }

  TEST_CASE("only a failed, timed-out, errored or interrupted step fails the rollout") {
    CHECK(result_of({StepStatus::verified, StepStatus::manual, StepStatus::skipped}).succeeded());
    CHECK(result_of({StepStatus::planned, StepStatus::planned}, true).succeeded());
    for (StepStatus bad : {StepStatus::failed, StepStatus::timed_out, StepStatus::error, StepStatus::interrupted})
      CHECK_FALSE(result_of({StepStatus::verified, bad}).succeeded());
    CHECK(result_of({StepStatus::error}).could_not_run());
    CHECK(result_of({StepStatus::interrupted}).could_not_run());
    CHECK_FALSE(result_of({StepStatus::failed, StepStatus::timed_out}).could_not_run());
  }

  TEST_CASE("the JSON document: result, every step with its status and calls") {
    auto result = result_of({StepStatus::verified, StepStatus::failed});
    result.steps[0].calls.push_back(rollout::ApiCall{.method = "PATCH",
                                                     .path = "/api/v1/namespaces/coder/configmaps/x",
                                                     .content_type = "application/merge-patch+json",
                                                     .body = "{}",
                                                     .sent = true});
    auto json = rollout::to_json(result);
    CHECK(json["rollout"]["result"] == "failed");
    CHECK(json["rollout"]["steps"].size() == 2);
    CHECK(json["rollout"]["steps"][1]["status"] == "failed");
    CHECK(json["rollout"]["steps"][0]["calls"][0]["sent"] == true);
    CHECK(rollout::to_json(result_of({StepStatus::error}))["rollout"]["result"] == "error");
    CHECK(rollout::to_json(result_of({StepStatus::planned}, true))["rollout"]["result"] == "planned");
    CHECK(rollout::to_json(result_of({StepStatus::verified}))["rollout"]["result"] == "verified");
  }

  TEST_CASE("the summary table has one row per step") {
    auto table = rollout::summary_table(result_of({StepStatus::verified, StepStatus::timed_out}));
    CHECK(table.find("step0") != std::string::npos);
    CHECK(table.find("timed_out") != std::string::npos);
  }
}
