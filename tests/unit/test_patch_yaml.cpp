// Unit tests for the line-preserving YAML editor.
#include <coder_dns_doctor/patch/yaml/editor.hpp>

#include <doctest/doctest.h>

namespace yaml = coder_dns_doctor::patch::yaml;

namespace {

const std::vector<std::string> k_coder_url = {"data", "coder_url"};
constexpr std::string_view k_url = "http://coder.coder.svc.cluster.local:80";

yaml::Document find(std::string_view text, std::string_view kind, std::string_view name) {
  auto docs = yaml::documents(text);
  REQUIRE(docs);
  for (const auto& doc : *docs)
    if (doc.kind == kind && doc.name == name)
      return doc;
  FAIL("document not found");
  return {};
}

std::string set_ok(std::string_view text, const std::vector<std::string>& path, std::string_view comment = "") {
  auto doc = find(text, "ConfigMap", "cfg");
  auto result = yaml::set_scalar(text, doc, path, k_url, comment);
  if (!result)
    FAIL(result.error().message);
  REQUIRE(result);
  auto docs = yaml::documents(text);
  std::size_t index = 0;
  while ((*docs)[index].begin != doc.begin)
    ++index;
  if (result->change != yaml::Change::none)
    CHECK(yaml::verify_edit(text, result->text, index, path, k_url).has_value());
  return result->text;
}

} // namespace

TEST_SUITE("patch::yaml") {

  TEST_CASE("inserts after the last sibling with its indentation and a comment") {
    std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n    # registry\n"
                       "    registry_url: reg:5000 # trailing\n    other: x\n";
    CHECK(set_ok(text, k_coder_url, "for agents") ==
          text + "    # for agents\n    coder_url: http://coder.coder.svc.cluster.local:80\n");
  }

  TEST_CASE("matches the siblings' double quotes") {
    std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"x\"\n";
    CHECK(set_ok(text, k_coder_url) == text + "  coder_url: \"http://coder.coder.svc.cluster.local:80\"\n");
  }

  TEST_CASE("updates an existing different value in place, keeping its comment") {
    std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  coder_url: https://old  # keep\n  z: 1\n";
    CHECK(set_ok(text, k_coder_url) == "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  coder_url: "
                                       "http://coder.coder.svc.cluster.local:80  # keep\n  z: 1\n");
  }

  TEST_CASE("an equal value is no change") {
    std::string text =
        "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  coder_url: \"http://coder.coder.svc.cluster.local:80\"\n";
    auto result = yaml::set_scalar(text, find(text, "ConfigMap", "cfg"), k_coder_url, k_url, "c");
    REQUIRE(result);
    CHECK(result->change == yaml::Change::none);
    CHECK(result->text == text);
  }

  TEST_CASE("multi-document streams: only the named document changes") {
    std::string text =
        "# head\n---\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n---\n"
        "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n---\nkind: Secret\nmetadata:\n  name: s\n";
    std::string out = set_ok(text, k_coder_url);
    CHECK(
        out ==
        "# head\n---\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n---\n"
        "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n  coder_url: http://coder.coder.svc.cluster.local:80\n"
        "---\nkind: Secret\nmetadata:\n  name: s\n");
  }

  TEST_CASE("creates missing parent mappings") {
    std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\n";
    CHECK(set_ok(text, k_coder_url) == text + "data:\n  coder_url: http://coder.coder.svc.cluster.local:80\n");
    std::string no_newline = "kind: ConfigMap\nmetadata:\n  name: cfg";
    CHECK(set_ok(no_newline, k_coder_url) ==
          no_newline + "\ndata:\n  coder_url: http://coder.coder.svc.cluster.local:80\n");
  }

  TEST_CASE("keeps CRLF line endings") {
    std::string text = "kind: ConfigMap\r\nmetadata:\r\n  name: cfg\r\ndata:\r\n  a: b\r\n";
    CHECK(set_ok(text, k_coder_url, "c") == text + "  # c\r\n  coder_url: http://coder.coder.svc.cluster.local:80\r\n");
  }

  TEST_CASE("sets a nested key (flux spec.ref.branch)") {
    std::string text =
        "kind: ConfigMap\nmetadata:\n  name: cfg\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  url: x\n";
    CHECK(set_ok(text, {"spec", "ref", "branch"}) ==
          "kind: ConfigMap\nmetadata:\n  name: cfg\nspec:\n  interval: 1m\n  ref:\n    branch: "
          "http://coder.coder.svc.cluster.local:80\n  url: x\n");
  }

  TEST_CASE("refuses flow style, sequences and block scalars with the line") {
    SUBCASE("flow mapping") {
      std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata: {}\n";
      auto result = yaml::set_scalar(text, find(text, "ConfigMap", "cfg"), k_coder_url, k_url, "");
      REQUIRE_FALSE(result);
      CHECK(result.error().line == 4);
      CHECK(result.error().message.find("expected a block mapping under `data:`, found `{}`") == 0);
    }
    SUBCASE("sequence") {
      std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  - a\n";
      auto result = yaml::set_scalar(text, find(text, "ConfigMap", "cfg"), k_coder_url, k_url, "");
      REQUIRE_FALSE(result);
      CHECK(result.error().line == 5);
    }
    SUBCASE("block scalar") {
      std::string text = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  coder_url: |\n    x\n";
      auto result = yaml::set_scalar(text, find(text, "ConfigMap", "cfg"), k_coder_url, k_url, "");
      REQUIRE_FALSE(result);
      CHECK(result.error().line == 5);
    }
  }

  TEST_CASE("format_scalar quotes only when needed") {
    CHECK(yaml::format_scalar("http://a:80", false) == "http://a:80");
    CHECK(yaml::format_scalar("true", false) == "\"true\"");
    CHECK(yaml::format_scalar("8080", false) == "\"8080\"");
    CHECK(yaml::format_scalar("a: b", false) == "\"a: b\"");
    CHECK(yaml::format_scalar("x", true) == "\"x\"");
  }

  TEST_CASE("verify_edit catches a wrong edit") {
    std::string before = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n";
    std::string after = "kind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: c\n  coder_url: "
                        "http://coder.coder.svc.cluster.local:80\n";
    CHECK_FALSE(yaml::verify_edit(before, after, 0, k_coder_url, k_url).has_value());
  }

} // TEST_SUITE
