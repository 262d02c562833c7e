// Unified diff via dtl (Debian libdtl-dev): dtl computes the edit script and the hunks; this file
// prints them with headers and the "\ No newline at end of file" marker that dtl omits.
#include <coder_dns_doctor/patch/diff.hpp>

#include <dtl/dtl.hpp>
#include <fmt/core.h>

#include <vector>

namespace coder_dns_doctor::patch {
namespace {

// A line never holds '\n' (it is what splits them), so a last line without a line ending carries
// one as its marker: "x" at end of file and "x\n" then differ, as GNU diff treats them.
constexpr char k_no_newline = '\n';

// Split into lines without their "\n" (a "\r" stays, so CRLF changes show); a last line without a
// line ending is marked with k_no_newline.
std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) {
      lines.emplace_back(text.substr(pos));
      lines.back() += k_no_newline;
      break;
    }
    lines.emplace_back(text.substr(pos, newline - pos));
    pos = newline + 1;
  }
  return lines;
}

// Append one diff line: its mark, its text, and for a marked last line the "\ No newline at end of
// file" line that dtl does not know about.
void append_line(std::string& out, char mark, const std::string& line) {
  out += mark;
  if (!line.empty() && line.back() == k_no_newline) {
    out.append(line, 0, line.size() - 1);
    out += "\n\\ No newline at end of file\n";
    return;
  }
  out += line;
  out += '\n';
}

} // namespace

std::string unified_diff(std::string_view name, std::string_view before, std::string_view after) {
  if (before == after)
    return {};
  std::vector<std::string> a = lines_of(before);
  std::vector<std::string> b = lines_of(after);
  dtl::Diff<std::string> diff(a, b);
  diff.compose();
  diff.composeUnifiedHunks();
  std::string out = fmt::format("--- a/{}\n+++ b/{}\n", name, name);
  for (const auto& hunk : diff.getUniHunks()) {
    out += fmt::format("@@ -{},{} +{},{} @@\n", hunk.a, hunk.b, hunk.c, hunk.d);
    auto print = [&](const auto& elements) {
      for (const auto& [line, info] : elements)
        append_line(out, info.type == dtl::SES_ADD ? '+' : info.type == dtl::SES_DELETE ? '-' : ' ', line);
    };
    print(hunk.common[0]);
    print(hunk.change);
    print(hunk.common[1]);
  }
  return out;
}

} // namespace coder_dns_doctor::patch
