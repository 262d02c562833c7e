// Unit tests for the template fix: each step, its idempotence, alignment and refusals.
#include <coder_dns_doctor/patch/fix.hpp>
#include <coder_dns_doctor/patch/hcl/format.hpp>

#include <doctest/doctest.h>

namespace patch = coder_dns_doctor::patch;

namespace {

const std::string k_source = R"(data "kubernetes_config_map_v1" "cfg" {
  metadata {
    name = "coder-workspace-config"
  }
}

resource "coder_agent" "dev" {
  os = "linux"
}

resource "kubernetes_pod" "main" {
  spec {
    container {
      command = ["sh", "-c", coder_agent.dev.init_script]
      env {
        name  = "CODER_AGENT_URL"
        value = "https://coder.example.test"
      }
    }
  }
}
)";

patch::TemplateResult fix_ok(const std::string& source, patch::Scope scope = patch::Scope::full) {
  auto result = patch::fix_template("main.tf", source, patch::k_configmap_name, scope);
  if (!result)
    FAIL(result.error().message);
  REQUIRE(result);
  // Idempotent: a second run changes nothing and reports no step as done.
  auto again = patch::fix_template("main.tf", result->text, patch::k_configmap_name, scope);
  REQUIRE(again);
  CHECK(again->text == result->text);
  for (const auto& step : again->steps)
    CHECK(step.status != patch::StepStatus::done);
  return std::move(*result);
}

} // namespace

TEST_SUITE("patch::fix") {

  TEST_CASE("env blocks, a new locals block and an added coder_workspace data source") {
    auto result = fix_ok(k_source);
    CHECK(result.text == R"(data "coder_workspace" "me" {}

data "kubernetes_config_map_v1" "cfg" {
  metadata {
    name = "coder-workspace-config"
  }
}

locals {
  # In-cluster Coder URL for agents: the external name may resolve to a stale address in the cluster
  coder_url = data.kubernetes_config_map_v1.cfg.data["coder_url"]
}

resource "coder_agent" "dev" {
  os = "linux"
}

resource "kubernetes_pod" "main" {
  spec {
    container {
      command = ["sh", "-c", replace(coder_agent.dev.init_script, data.coder_workspace.me.access_url, local.coder_url)]
      env {
        name  = "CODER_AGENT_URL"
        value = local.coder_url
      }
    }
  }
}
)");
  }

  TEST_CASE("--agent-env-only leaves the init script alone") {
    auto result = fix_ok(k_source, patch::Scope::agent_env_only);
    CHECK(result.text.find("replace(") == std::string::npos);
    CHECK(result.text.find("data \"coder_workspace\"") == std::string::npos);
    CHECK(result.text.find("value = local.coder_url") != std::string::npos);
  }

  TEST_CASE("the new local joins the following group and realigns it") {
    std::string source = k_source;
    source.insert(
        source.find("resource \"coder_agent\""),
        "locals {\n  reg = data.kubernetes_config_map_v1.cfg.data[\"r\"]\n  b   = 1 # note\n  cc  = 2\n}\n\n");
    auto result = fix_ok(source);
    CHECK(result.text.find("  reg = data.kubernetes_config_map_v1.cfg.data[\"r\"]\n  # In-cluster") !=
          std::string::npos);
    CHECK(result.text.find("  coder_url = data.kubernetes_config_map_v1.cfg.data[\"coder_url\"]\n"
                           "  b         = 1 # note\n  cc        = 2\n") != std::string::npos);
  }

  TEST_CASE("a wrapped reference inside a heredoc interpolation") {
    std::string source = k_source;
    source.replace(
        source.find("[\"sh\", \"-c\", coder_agent.dev.init_script]"),
        std::string("[\"sh\", \"-c\", coder_agent.dev.init_script]").size(),
        "[\"sh\", \"-c\", <<-EOT\n        x=1   = 2\n        ${coder_agent.dev.init_script}\n      EOT\n      ]");
    auto result = fix_ok(source);
    CHECK(result.text.find(
              "        x=1   = 2\n        ${replace(coder_agent.dev.init_script, data.coder_workspace.me.access_url, "
              "local.coder_url)}\n") != std::string::npos);
  }

  TEST_CASE("refusals name the file and line") {
    SUBCASE("no data source for the ConfigMap") {
      auto result = patch::fix_template("main.tf", "resource \"coder_agent\" \"a\" {}\n", patch::k_configmap_name,
                                        patch::Scope::full);
      REQUIRE_FALSE(result);
      CHECK(result.error().message.starts_with("main.tf: expected a data \"kubernetes_config_map_v1\""));
    }
    SUBCASE("coder_url defined twice") {
      std::string source = k_source + "locals {\n  coder_url = 1\n}\nlocals {\n  coder_url = 2\n}\n";
      auto result = patch::fix_template("main.tf", source, patch::k_configmap_name, patch::Scope::full);
      REQUIRE_FALSE(result);
      CHECK(result.error().message.starts_with("main.tf:26: local coder_url is defined more than once"));
    }
    SUBCASE("agent-env-only without any CODER_AGENT_URL entry") {
      std::string source = k_source;
      source.replace(source.find("CODER_AGENT_URL"), 15, "OTHER");
      auto result = patch::fix_template("main.tf", source, patch::k_configmap_name, patch::Scope::agent_env_only);
      REQUIRE_FALSE(result);
      CHECK(result.error().message.find("run without --agent-env-only") != std::string::npos);
    }
  }

} // TEST_SUITE

TEST_SUITE("patch::hcl::format") {

  TEST_CASE("realign follows hclwrite: groups end at comment-only, blank and bracket-opening lines") {
    std::string source = "  a = 1\n  long_name = 2 # c\n  b = 3 # dd\n  # x\n  m = {\n  z = 1\n";
    CHECK(coder_dns_doctor::patch::hcl::realign(source, {1}, {}) ==
          "  a         = 1\n  long_name = 2 # c\n  b         = 3 # dd\n  # x\n  m = {\n  z = 1\n");
  }

} // TEST_SUITE
