// Unified diff via dtl (Debian libdtl-dev): dtl computes the edit script and the hunks; this file
// prints them with headers and the "\ No newline at end of file" marker that dtl omits.
#include <coder_dns_doctor/patch/diff.hpp>

#include <dtl/dtl.hpp>
#include <fmt/core.h>

#include <vector>

namespace coder_dns_doctor::patch {
namespace {

// Split into lines without their "\n" (a "\r" stays, so CRLF changes show); remember whether the
// last line had a line ending.
std::vector<std::string> lines_of(std::string_view text, bool& ends_with_newline) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) {
      lines.emplace_back(text.substr(pos));
      break;
    }
    lines.emplace_back(text.substr(pos, newline - pos));
    pos = newline + 1;
  }
  ends_with_newline = text.empty() || text.back() == '\n';
  return lines;
}

} // namespace

std::string unified_diff(std::string_view name, std::string_view before, std::string_view after) {
  if (before == after)
    return {};
  bool before_newline = true;
  bool after_newline = true;
  std::vector<std::string> a = lines_of(before, before_newline);
  std::vector<std::string> b = lines_of(after, after_newline);
  dtl::Diff<std::string> diff(a, b);
  diff.compose();
  diff.composeUnifiedHunks();
  std::string out = fmt::format("--- a/{}\n+++ b/{}\n", name, name);
  for (const auto& hunk : diff.getUniHunks()) {
    out += fmt::format("@@ -{},{} +{},{} @@\n", hunk.a, hunk.b, hunk.c, hunk.d);
    auto print = [&](const auto& elements) {
      for (const auto& [line, info] : elements) {
        char mark = info.type == dtl::SES_ADD ? '+' : info.type == dtl::SES_DELETE ? '-' : ' ';
        out += mark;
        out += line;
        out += '\n';
        bool last_of_a = info.type != dtl::SES_ADD && info.beforeIdx == static_cast<long long>(a.size());
        bool last_of_b = info.type != dtl::SES_DELETE && info.afterIdx == static_cast<long long>(b.size());
        if ((last_of_a && !before_newline && info.type == dtl::SES_DELETE) ||
            (last_of_b && !after_newline && info.type == dtl::SES_ADD) ||
            (info.type == dtl::SES_COMMON && last_of_a && !before_newline))
          out += "\\ No newline at end of file\n";
      }
    };
    print(hunk.common[0]);
    print(hunk.change);
    print(hunk.common[1]);
  }
  return out;
}

} // namespace coder_dns_doctor::patch
