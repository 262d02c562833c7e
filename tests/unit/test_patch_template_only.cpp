// Unit tests for template-only mode: the variable, the init-script rewrite in every position,
// CODER_AGENT_URL composed with its wrapper, idempotence (also on rewrites in another form), refusals.
#include <coder_dns_doctor/patch/fix.hpp>

#include <doctest/doctest.h>

namespace patch = coder_dns_doctor::patch;

namespace {

constexpr std::string_view k_url = "http://coder.coder.svc.cluster.local:80";

std::string agent_and(const std::string& rest) {
  return "data \"coder_workspace\" \"me\" {}\n\nresource \"coder_agent\" \"main\" {\n  os = \"linux\"\n}\n\n" + rest;
}

patch::TemplateResult fix_ok(const std::string& source, patch::Scope scope = patch::Scope::full) {
  auto result = patch::fix_template_only("main.tf", source, k_url, scope);
  if (!result)
    FAIL(result.error().message);
  REQUIRE(result);
  auto again = patch::fix_template_only("main.tf", result->text, k_url, scope);
  REQUIRE(again);
  CHECK(again->text == result->text);
  for (const auto& step : again->steps)
    CHECK(step.status != patch::StepStatus::done);
  return std::move(*result);
}

const patch::StepReport& step(const patch::TemplateResult& result, std::string_view name) {
  for (const auto& report : result.steps)
    if (report.step == name)
      return report;
  FAIL("no step " << name);
  return result.steps.front();
}

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

} // namespace

TEST_SUITE("patch::template_only") {
  TEST_CASE("adds the variable with the --coder-url default and a description") {
    auto result = fix_ok(agent_and("locals {\n  s = coder_agent.main.init_script\n}\n"));
    CHECK(contains(result.text, "variable \"coder_agent_internal_url\" {"));
    CHECK(contains(result.text, "default     = \"http://coder.coder.svc.cluster.local:80\""));
    CHECK(contains(result.text, "description = \"In-cluster Coder URL"));
    CHECK(step(result, "template-variable").status == patch::StepStatus::done);
  }

  TEST_CASE("wraps init_script references in every position") {
    auto result = fix_ok(agent_and(R"(locals {
  a = ["sh", "-c", coder_agent.main.init_script]
  b = { X = coder_agent.main.init_script }
  c = coder_agent.main[0].init_script
  d = <<-EOT
    ${coder_agent.main.init_script}
  EOT
}
)"));
    CHECK(contains(result.text, "[\"sh\", \"-c\", replace(coder_agent.main.init_script, "
                                "data.coder_workspace.me.access_url, var.coder_agent_internal_url)]"));
    CHECK(contains(result.text, "X = replace(coder_agent.main.init_script,"));
    CHECK(contains(result.text, "c = replace(coder_agent.main[0].init_script, data.coder_workspace.me.access_url"));
    CHECK(contains(result.text, "${replace(coder_agent.main.init_script, data.coder_workspace.me.access_url, "
                                "var.coder_agent_internal_url)}"));
    CHECK(contains(step(result, "init-script").detail, "4 coder_agent init_script references"));
  }

  TEST_CASE("wraps the existing replace() around the init script, not the bare reference") {
    auto result =
        fix_ok(agent_and("locals {\n  s = replace(coder_agent.main.init_script, \"localhost\", \"gw\")\n}\n"));
    CHECK(contains(result.text, "s = replace(replace(coder_agent.main.init_script, \"localhost\", \"gw\"), "
                                "data.coder_workspace.me.access_url, var.coder_agent_internal_url)"));
  }

  TEST_CASE("an existing rewrite in another form counts as done") {
    std::string source = agent_and(R"(variable "coder_agent_internal_url" {
  default = "http://other:80"
}

locals {
  s = replace(coder_agent.main.init_script,data.coder_workspace.me.access_url,   "${var.coder_agent_internal_url}")
  t = replace(coder_agent.main.init_script, data.coder_workspace.me.access_url, local.coder_url)
  e = { CODER_AGENT_URL = "${var.coder_agent_internal_url}/" }
}
)");
    auto result = patch::fix_template_only("main.tf", source, k_url, patch::Scope::full);
    REQUIRE(result);
    CHECK(result->text == source);
    for (const auto& report : result->steps)
      CHECK(report.status == patch::StepStatus::already_done);
  }

  TEST_CASE("CODER_AGENT_URL: plain access_url, a wrapper composed, a literal replaced") {
    auto result = fix_ok(agent_and(R"(locals {
  s = coder_agent.main.init_script
  e = {
    "CODER_AGENT_URL" : replace(data.coder_workspace.me.access_url, "localhost", "gw"),
  }
  f = { CODER_AGENT_URL = data.coder_workspace.me.access_url }
  g = { CODER_AGENT_URL = "https://coder.example.test" }
}
)"));
    CHECK(contains(result.text, "\"CODER_AGENT_URL\" : replace(var.coder_agent_internal_url, \"localhost\", \"gw\")"));
    CHECK(contains(result.text, "f = { CODER_AGENT_URL = var.coder_agent_internal_url }"));
    CHECK(contains(result.text, "g = { CODER_AGENT_URL = var.coder_agent_internal_url }"));
    CHECK(contains(step(result, "agent-env").detail, "composed with the existing `replace("));
  }

  TEST_CASE("access_url used for anything else stays") {
    auto result = fix_ok(agent_and(R"(resource "coder_app" "a" {
  url = data.coder_workspace.me.access_url
}

locals {
  s = coder_agent.main.init_script
}
)"));
    CHECK(contains(result.text, "  url = data.coder_workspace.me.access_url\n"));
  }

  TEST_CASE("adds data coder_workspace when the template has none") {
    auto result = fix_ok("resource \"coder_agent\" \"main\" {}\n\nlocals {\n  s = coder_agent.main.init_script\n}\n");
    CHECK(contains(result.text, "data \"coder_workspace\" \"me\" {}\n\nresource \"coder_agent\""));
  }

  TEST_CASE("--agent-env-only leaves the init script alone") {
    auto result = fix_ok(agent_and("locals {\n  s = coder_agent.main.init_script\n  e = { CODER_AGENT_URL = "
                                   "data.coder_workspace.me.access_url }\n}\n"),
                         patch::Scope::agent_env_only);
    CHECK(contains(result.text, "s = coder_agent.main.init_script\n"));
    CHECK(step(result, "init-script").status == patch::StepStatus::skipped);
  }

  TEST_CASE("refusals name file:line and what was expected") {
    auto no_agent = patch::fix_template_only("main.tf", "locals {}\n", k_url, patch::Scope::full);
    REQUIRE_FALSE(no_agent);
    CHECK(no_agent.error().message.starts_with("main.tf:1: expected a resource \"coder_agent\" block"));
    auto no_script = patch::fix_template_only("main.tf", agent_and("locals {}\n"), k_url, patch::Scope::full);
    REQUIRE_FALSE(no_script);
    CHECK(contains(no_script.error().message, "main.tf:3: expected coder_agent.<name>.init_script"));
    auto dynamic = patch::fix_template_only(
        "main.tf",
        agent_and("resource \"x\" \"y\" {\n  dynamic \"env\" {\n    for_each = coder_agent.main\n    content {\n"
                  "      value = env.value.init_script\n    }\n  }\n}\n"),
        k_url, patch::Scope::full);
    REQUIRE_FALSE(dynamic);
    CHECK(contains(dynamic.error().message, "main.tf:11: expected coder_agent.<name>.init_script; found "
                                            "`env.value.init_script` in a dynamic block"));
    auto splat = patch::fix_template_only("main.tf", agent_and("locals {\n  s = coder_agent.main[*].init_script\n}\n"),
                                          k_url, patch::Scope::full);
    REQUIRE_FALSE(splat);
    CHECK(contains(splat.error().message, "main.tf:8: expected coder_agent.<name>.init_script; found"));
  }
}

TEST_SUITE("patch::provider_url") {
  TEST_CASE("sets url in provider coder: existing block, one-line block, existing url; idempotent, caveat") {
    for (std::string provider : {"provider \"coder\" {\n  feature = true\n}\n", "provider \"coder\" {}\n",
                                 "provider \"coder\" {\n  url = \"https://coder.example.test\"\n}\n"}) {
      std::string source = provider + "\nresource \"coder_agent\" \"main\" {}\n";
      auto result = patch::fix_provider_url("main.tf", source, k_url);
      REQUIRE(result);
      CHECK(contains(result->text, "  url "));
      CHECK(contains(result->text, "= var.coder_agent_internal_url\n"));
      CHECK_FALSE(contains(result->text, "example.test"));
      CHECK(contains(result->text, "variable \"coder_agent_internal_url\""));
      CHECK(contains(step(*result, "provider-url").detail, "caveat: this changes data.coder_workspace.*.access_url"));
      auto again = patch::fix_provider_url("main.tf", result->text, k_url);
      REQUIRE(again);
      CHECK(again->text == result->text);
    }
  }
}
