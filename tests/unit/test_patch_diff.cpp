// patch::unified_diff: the dry-run output of `patch`, which users feed to `git apply` / `patch -p1`.
// Exact text for small cases (GNU `diff -u` prints the same, up to `-1,1` for `-1`), and a strict
// applier below (context, deletions and end-of-file newlines must all match) as the property check:
// applying the diff to `before` gives `after`.
#include <coder_dns_doctor/patch/diff.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace patch = coder_dns_doctor::patch;

namespace {

struct Line {
  std::string text;
  bool newline = true;
  friend bool operator==(const Line&, const Line&) = default;
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      lines.push_back({std::string(text.substr(pos)), false});
      break;
    }
    lines.push_back({std::string(text.substr(pos, end - pos)), true});
    pos = end + 1;
  }
  return lines;
}

std::string text_of(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += line.text + (line.newline ? "\n" : "");
  return out;
}

// Apply unified diff `diff` of file `name` to `before` as `git apply` would, strictly: the headers
// must name a/<name> and b/<name>, every hunk's counts must match its body and its old lines must
// be `before`'s lines at that place, newline at end of file included. nullopt when it does not apply.
std::optional<std::string> apply(std::string_view name, std::string_view before, std::string_view diff) {
  std::vector<Line> old_lines = lines_of(before);
  std::vector<std::string> rows;
  for (const auto& line : lines_of(diff)) {
    if (!line.newline)
      return std::nullopt; // every diff line ends with a newline
    rows.push_back(line.text);
  }
  if (rows.size() < 3 || rows[0] != "--- a/" + std::string(name) || rows[1] != "+++ b/" + std::string(name))
    return std::nullopt; // also: headers without any hunk apply to nothing
  std::vector<Line> out;
  std::size_t copied = 0; // old lines consumed so far
  std::size_t i = 2;
  while (i < rows.size()) {
    long a = 0, b = 0, c = 0, d = 0;
    if (std::sscanf(rows[i].c_str(), "@@ -%ld,%ld +%ld,%ld @@", &a, &b, &c, &d) != 4)
      return std::nullopt;
    ++i;
    // An empty old range means "after line a" (GNU writes -0,0 for an empty file; git apply also
    // takes -1,0 there).
    std::size_t start = b != 0 ? static_cast<std::size_t>(a - 1) : old_lines.empty() ? 0 : static_cast<std::size_t>(a);
    if (start < copied || start > old_lines.size())
      return std::nullopt;
    out.insert(out.end(), old_lines.begin() + static_cast<long>(copied), old_lines.begin() + static_cast<long>(start));
    copied = start;
    long seen_old = 0, seen_new = 0;
    while (i < rows.size() && !rows[i].starts_with("@@")) {
      const std::string& row = rows[i++];
      if (row.empty())
        return std::nullopt;
      Line line{row.substr(1), true};
      if (i < rows.size() && rows[i] == "\\ No newline at end of file") {
        line.newline = false;
        ++i;
      }
      if (row[0] == ' ' || row[0] == '-') {
        if (copied >= old_lines.size() || !(old_lines[copied] == line))
          return std::nullopt;
        ++copied;
        ++seen_old;
      }
      if (row[0] == ' ' || row[0] == '+') {
        out.push_back(line);
        ++seen_new;
      }
      if (row[0] != ' ' && row[0] != '-' && row[0] != '+')
        return std::nullopt;
    }
    if (seen_old != b || seen_new != d)
      return std::nullopt;
  }
  out.insert(out.end(), old_lines.begin() + static_cast<long>(copied), old_lines.end());
  return text_of(out);
}

void check_applies(std::string_view before, std::string_view after) {
  std::string diff = patch::unified_diff("f", before, after);
  CAPTURE(before);
  CAPTURE(after);
  CAPTURE(diff);
  auto applied = apply("f", before, diff);
  REQUIRE_MESSAGE(applied, "the diff does not apply");
  CHECK(*applied == after);
}

// Random text of up to `max_lines` lines from a three-line alphabet (so that the diff has common
// lines to find), ending in a newline or not.
std::string random_text(std::mt19937& random, int max_lines, bool final_newline) {
  static const char* const k_alphabet[] = {"a", "b", "coder_url = local.coder_url"};
  int count = std::uniform_int_distribution<int>(0, max_lines)(random);
  std::string out;
  for (int n = 0; n < count; ++n)
    out += std::string(k_alphabet[std::uniform_int_distribution<int>(0, 2)(random)]) + "\n";
  if (!final_newline && !out.empty())
    out.pop_back();
  return out;
}

std::string numbered(int from, int to) {
  std::string out;
  for (int n = from; n <= to; ++n)
    out += std::to_string(n) + "\n";
  return out;
}

} // namespace

TEST_SUITE("patch::unified_diff") {
  TEST_CASE("equal texts give no diff at all, not even headers") {
    CHECK(patch::unified_diff("a.yaml", "", "") == "");
    CHECK(patch::unified_diff("a.yaml", "x\n", "x\n") == "");
    CHECK(patch::unified_diff("a.yaml", "x", "x") == "");
  }

  TEST_CASE("one changed line: git headers with the name, 3 lines of context") {
    CHECK(patch::unified_diff("apps/coder/configmap.yaml", "1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nFOUR\n5\n6\n7\n") ==
          "--- a/apps/coder/configmap.yaml\n+++ b/apps/coder/configmap.yaml\n"
          "@@ -1,7 +1,7 @@\n 1\n 2\n 3\n-4\n+FOUR\n 5\n 6\n 7\n");
    // Context stops at 3 lines: lines 1 and 9-12 are not shown. (With exactly 4 lines after the
    // change dtl shows all 4; that still applies, so it is not pinned here.)
    CHECK(patch::unified_diff("f", numbered(1, 12), "1\n2\n3\n4\nX\n" + numbered(6, 12)) ==
          "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n");
  }

  TEST_CASE("additions and deletions at the start and the end") {
    CHECK(patch::unified_diff("f", "a\nb\nc\n", "a\nc\n") == "--- a/f\n+++ b/f\n@@ -1,3 +1,2 @@\n a\n-b\n c\n");
    CHECK(patch::unified_diff("f", numbered(1, 10), numbered(1, 11)) ==
          "--- a/f\n+++ b/f\n@@ -8,3 +8,4 @@\n 8\n 9\n 10\n+11\n");
    CHECK(patch::unified_diff("f", numbered(1, 10), "0\n" + numbered(1, 10)) ==
          "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n");
  }

  TEST_CASE("changes more than 6 lines apart make two hunks, closer ones share context") {
    std::string before = numbered(1, 20);
    std::string after = "1\nX\n" + numbered(3, 18) + "Y\n20\n";
    CHECK(patch::unified_diff("f", before, after) == "--- a/f\n+++ b/f\n"
                                                     "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
                                                     "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+Y\n 20\n");
    std::string close = "1\nX\n3\n4\n5\n6\nY\n" + numbered(8, 20);
    CHECK(patch::unified_diff("f", before, close) ==
          "--- a/f\n+++ b/f\n@@ -1,10 +1,10 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n-7\n+Y\n 8\n 9\n 10\n");
  }

  TEST_CASE("a new file and an emptied file apply with git apply's rules") {
    std::string created = patch::unified_diff("f", "", "x\ny\n");
    CHECK(created.starts_with("--- a/f\n+++ b/f\n@@ -"));
    CHECK(created.ends_with(",0 +1,2 @@\n+x\n+y\n"));
    check_applies("", "x\ny\n");
    CHECK(patch::unified_diff("f", "x\ny\n", "").find("\n@@ -1,2 +") != std::string::npos);
    check_applies("x\ny\n", "");
  }

  TEST_CASE("a missing newline at end of file is marked on the side that lacks it") {
    CHECK(
        patch::unified_diff("f", "a\nb", "a\nc") ==
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n");
    CHECK(patch::unified_diff("f", "x", "y\n") ==
          "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+y\n");
    CHECK(patch::unified_diff("f", "x\n", "x\ny") ==
          "--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n x\n+y\n\\ No newline at end of file\n");
    // An unchanged last line without newline is context, marked once.
    CHECK(patch::unified_diff("f", "a\nb", "z\na\nb") ==
          "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n+z\n a\n b\n\\ No newline at end of file\n");
  }

  TEST_CASE("CR stays part of the line, so a CRLF to LF change shows") {
    CHECK(patch::unified_diff("f", "a\r\nb\r\n", "a\nb\r\n") == "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\r\n+a\n b\r\n");
  }

  TEST_CASE("every diff of texts ending in a newline applies and gives the new text") {
    std::mt19937 random(20261202);
    for (int round = 0; round < 400; ++round) {
      std::string before = random_text(random, 12, true);
      std::string after = random_text(random, 12, true);
      if (before == after)
        continue;
      check_applies(before, after);
    }
  }

  TEST_CASE("the field-report shapes apply: a line added to a ConfigMap, a Terraform value replaced") {
    check_applies("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n",
                  "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  # in-cluster URL\n  coder_url: "
                  "http://coder.coder.svc.cluster.local:80\n");
    check_applies(
        "locals {\n  x = 1\n}\n\nresource \"coder_agent\" \"dev\" {\n  os = \"linux\"\n}\n",
        "locals {\n  x         = 1\n  coder_url = data.kubernetes_config_map_v1.cfg.data[\"coder_url\"]\n}\n\n"
        "resource \"coder_agent\" \"dev\" {\n  os = \"linux\"\n}\n");
  }

  // Regressions: the end-of-file newline used to be compared away, so a change of only that newline
  // gave headers without a hunk, and a line added after (or removed from behind) a last line
  // without a newline left the context line with the wrong newline state.
  TEST_CASE("an added or removed newline at end of file makes a diff that applies") {
    check_applies("a\nb", "a\nb\n");
    check_applies("a\nb\n", "a\nb");
    check_applies("a\nb", "a\nb\nc");
    check_applies("a\nb\nc", "a\nb");
    check_applies("a\nb", "b\na");
  }

  TEST_CASE("random texts without a final newline: the diff applies") {
    std::mt19937 random(7);
    for (int round = 0; round < 200; ++round) {
      std::string before = random_text(random, 6, round % 2 == 0);
      std::string after = random_text(random, 6, round % 3 == 0);
      if (before == after)
        continue;
      check_applies(before, after);
    }
  }
}
