// Unit tests for the HCL2 span parser: structure, spans, round-trip and error positions.
#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hcl = coder_dns_doctor::patch::hcl;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

hcl::File parse_ok(const std::string& source) {
  auto file = hcl::parse("test.tf", source);
  if (!file)
    FAIL(file.error().to_string());
  REQUIRE(file);
  CHECK(hcl::check_spans(file->root, file->source.size()).has_value());
  CHECK(hcl::unparse(file->root, file->source) == source);
  return std::move(*file);
}

// Collect the traversal paths of every expression in the file.
std::vector<std::string> paths(const hcl::File& file) {
  std::vector<std::string> out;
  std::vector<const hcl::Node*> parents;
  hcl::walk(
      file.root,
      [&](const hcl::Node& node, const std::vector<const hcl::Node*>& chain) {
        bool is_base = !chain.empty() &&
                       (chain.back()->kind == hcl::NodeKind::get_attr || chain.back()->kind == hcl::NodeKind::index) &&
                       &chain.back()->children.front() == &node;
        if (!is_base) {
          std::string path = hcl::traversal_path(node);
          if (!path.empty())
            out.push_back(path);
        }
      },
      parents);
  return out;
}

} // namespace

TEST_SUITE("patch::hcl") {

  TEST_CASE("attributes and blocks carry exact spans") {
    std::string source = "a = 1\nresource \"x\" \"y\" {\n  b = \"two\" # c\n}\n";
    hcl::File file = parse_ok(source);
    REQUIRE(file.root.children.size() == 2);
    const hcl::Node& attr = file.root.children[0];
    CHECK(attr.kind == hcl::NodeKind::attribute);
    CHECK(attr.span.in(source) == "a = 1");
    const hcl::Node& block = file.root.children[1];
    CHECK(block.kind == hcl::NodeKind::block);
    CHECK(block.text == "resource");
    CHECK(block.children[1].text == "x");
    CHECK(block.children[2].text == "y");
    CHECK(block.span.in(source) == "resource \"x\" \"y\" {\n  b = \"two\" # c\n}");
    const hcl::Node& inner = block.children.back().children.front();
    CHECK(inner.children[1].span.in(source) == "\"two\"");
    CHECK(inner.children[1].text == "two");
  }

  TEST_CASE("comments of every kind round-trip") {
    parse_ok("# hash\n// slashes\n/* block\n comment */ a = 1 /* trailing */\nb = 2 // end\n");
  }

  TEST_CASE("heredocs with interpolation and directives") {
    std::string source = "x = <<-EOT\n  echo ${var.a}\n  %{ if var.b ~}yes%{ else }no%{ endif }\n  "
                         "$${literal}\n  ${coder_agent.main.init_script}\n  EOT\ny = <<EOT\nplain\nEOT\n";
    hcl::File file = parse_ok(source);
    auto found = paths(file);
    CHECK(std::find(found.begin(), found.end(), "coder_agent.main.init_script") != found.end());
    CHECK(std::find(found.begin(), found.end(), "var.b") != found.end());
    CHECK(file.root.children[0].children[1].kind == hcl::NodeKind::heredoc);
  }

  TEST_CASE("template strings with quotes and escapes inside interpolations") {
    hcl::File file = parse_ok("a = \"${replace(x, \"'\", \"'\\\\''\")}\"\nb = \"q\\\"uote\\n\"\n");
    CHECK(file.root.children[1].children[1].text == "q\"uote\n");
  }

  TEST_CASE("object constructors with = and :, quoted and bare keys, optional commas") {
    std::string source = "m = {\n  \"A\" = 1\n  b : 2,\n  \"C\" : x.y, d = [1, 2]\n\n  # note\n  e = {}\n}\n";
    hcl::File file = parse_ok(source);
    const hcl::Node& object = file.root.children[0].children[1];
    REQUIRE(object.kind == hcl::NodeKind::object);
    CHECK(object.children.size() == 5);
    CHECK(object.children[1].text == ":");
    CHECK(object.children[2].children[1].span.in(source) == "x.y");
  }

  TEST_CASE("expressions: for, conditional, calls, index, splat, operators") {
    parse_ok("a = [for k, v in var.m : upper(v) if k != \"x\"]\n"
             "b = {for s in var.l : s => length(s)...}\n"
             "c = var.x == null ? 1 : -2 * (3 + 4) % 5\n"
             "d = var.list[0].name\n"
             "e = var.list[*].id\n"
             "f = aws_instance.x.*.id\n"
             "g = merge(local.a, {\n  k = 1\n}, var.rest...)\n"
             "h = !var.a && var.b || 1.5e3 >= 2\n"
             "i = provider::p::f(1)\n");
  }

  TEST_CASE("nested and dynamic blocks, one-line blocks") {
    parse_ok("resource \"k\" \"p\" {\n  spec {\n    dynamic \"env\" {\n      for_each = var.e\n      content {\n"
             "        name  = env.key\n        value = env.value\n      }\n    }\n  }\n  lifecycle { ignore_changes = "
             "all }\n}\n"
             "data \"coder_workspace\" \"me\" {}\n");
  }

  TEST_CASE("CRLF line endings round-trip") {
    hcl::File file = parse_ok("a = 1\r\nb = <<-EOT\r\n  x ${y}\r\n  EOT\r\nc {\r\n  d = \"e\"\r\n}\r\n");
    CHECK(file.root.children.size() == 3);
  }

  TEST_CASE("errors carry line and column") {
    SUBCASE("unbalanced braces") {
      auto file = hcl::parse("bad.tf", "a {\n  b = 1\n");
      REQUIRE_FALSE(file);
      CHECK(file.error().line == 3);
      CHECK(file.error().to_string() ==
            "bad.tf:3:1: expected '}' to close the block opened at line 1, found end of file");
    }
    SUBCASE("truncated heredoc") {
      auto file = hcl::parse("bad.tf", "x = 1\ny = <<-EOT\n  text\n");
      REQUIRE_FALSE(file);
      CHECK(file.error().line == 2);
      CHECK(file.error().column == 5);
      CHECK(file.error().message.find("unterminated heredoc") != std::string::npos);
    }
    SUBCASE("unterminated string") {
      auto file = hcl::parse("bad.tf", "x = \"abc\n");
      REQUIRE_FALSE(file);
      CHECK(file.error().to_string() == "bad.tf:1:5: unterminated string: no closing '\"' on the same line");
    }
    SUBCASE("two attributes on one line") {
      auto file = hcl::parse("bad.tf", "x = 1 y = 2\n");
      REQUIRE_FALSE(file);
      CHECK(file.error().column == 7);
    }
    SUBCASE("deep nesting is refused, not a crash") {
      auto file = hcl::parse("deep.tf", "x = " + std::string(5000, '[') + std::string(5000, ']') + "\n");
      REQUIRE_FALSE(file);
      CHECK(file.error().message == "nesting too deep");
    }
  }

  TEST_CASE("every .tf under tests/ round-trips byte for byte") {
    int count = 0;
    std::vector<std::filesystem::directory_entry> entries;
    for (const auto& root :
         {std::filesystem::path(CDD_TEST_DATA_DIR), std::filesystem::path(CDD_TEST_DATA_DIR) / ".." / "examples"})
      if (std::filesystem::exists(root))
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
          entries.push_back(entry);
    for (const auto& entry : entries) {
      if (entry.path().extension() != ".tf")
        continue;
      std::string source = read_file(entry.path());
      auto file = hcl::parse(entry.path().string(), source);
      // Bad-input fixtures may be invalid on purpose; whatever parses must still round-trip.
      const std::string where = entry.path().string();
      if (!file && (where.find("/bad/") != std::string::npos || where.find("/fuzz/corpus/") != std::string::npos))
        continue;
      INFO(entry.path().string());
      REQUIRE_MESSAGE(file, (file ? "" : file.error().to_string()));
      CHECK(hcl::check_spans(file->root, file->source.size()).has_value());
      CHECK(hcl::unparse(file->root, file->source) == source);
      ++count;
    }
    MESSAGE("round-tripped " << count << " .tf files");
  }

} // TEST_SUITE
