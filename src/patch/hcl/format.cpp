// Alignment of `=` and trailing comments in line groups, following hclwrite's format rules:
// a line takes part in `=` alignment when its first `=` is not its first token and the rest of the
// line opens no bracket (counting stops at a heredoc opener); any other line ends the group.
#include <coder_dns_doctor/patch/hcl/format.hpp>

#include <algorithm>
#include <optional>
#include <set>

namespace coder_dns_doctor::patch::hcl {
namespace {

struct LineText {
  std::size_t begin = 0;
  std::size_t end = 0; // before "\r\n" / "\n"
};

// Cells of one line, as byte offsets relative to the line's start.
struct Cells {
  std::size_t lead_begin = 0;                  // first non-blank byte
  std::optional<std::size_t> lead_end;         // end of the name before `=` (trailing blanks removed)
  std::optional<std::size_t> equals;           // the `=` of an assignment
  std::optional<std::size_t> code_end;         // end of code before a trailing comment
  std::optional<std::size_t> comment;          // start of a trailing comment
};

std::size_t columns(std::string_view text) {
  // Columns count characters, not bytes: skip UTF-8 continuation bytes.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Cells analyse(std::string_view line) {
  Cells cells;
  cells.lead_begin = line.find_first_not_of(" \t");
  if (cells.lead_begin == std::string_view::npos)
    return cells;
  int brackets = 0;
  bool counting = false;
  bool in_string = false;
  int interpolation = 0;
  std::size_t first_equals = std::string_view::npos;
  bool heredoc = false;
  std::size_t i = cells.lead_begin;
  for (; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if ((c == '$' || c == '%') && i + 1 < line.size() && line[i + 1] == '{') {
        ++interpolation;
        in_string = false;
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (interpolation > 0 && c == '}') {
      --interpolation;
      in_string = true;
      continue;
    }
    if (c == '#' || (c == '/' && i + 1 < line.size() && (line[i + 1] == '/' || line[i + 1] == '*')))
      break;
    if (c == '<' && line.substr(i, 2) == "<<") {
      heredoc = true;
      break;
    }
    bool is_equals = c == '=' && (i + 1 >= line.size() || (line[i + 1] != '=' && line[i + 1] != '>')) &&
                     (i == 0 || std::string_view("=!<>").find(line[i - 1]) == std::string_view::npos);
    if (is_equals && first_equals == std::string_view::npos && i > cells.lead_begin) {
      first_equals = i;
      counting = true;
    }
    if (counting) {
      if (c == '(' || c == '[' || c == '{')
        ++brackets;
      else if (c == ')' || c == ']' || c == '}')
        --brackets;
    }
  }
  if (first_equals != std::string_view::npos && brackets == 0 && !in_string && interpolation == 0) {
    cells.equals = first_equals;
    std::size_t end = first_equals;
    while (end > cells.lead_begin && (line[end - 1] == ' ' || line[end - 1] == '\t'))
      --end;
    cells.lead_end = end;
  }
  if (!heredoc && i < line.size() && i > cells.lead_begin && !in_string) {
    cells.comment = i;
    std::size_t end = i;
    while (end > cells.lead_begin && (line[end - 1] == ' ' || line[end - 1] == '\t'))
      --end;
    cells.code_end = end;
  }
  return cells;
}

std::vector<LineText> split(std::string_view source) {
  std::vector<LineText> lines;
  std::size_t pos = 0;
  while (pos <= source.size()) {
    std::size_t newline = source.find('\n', pos);
    std::size_t end = newline == std::string_view::npos ? source.size() : newline;
    std::size_t content_end = (end > pos && source[end - 1] == '\r') ? end - 1 : end;
    lines.push_back({pos, content_end});
    if (newline == std::string_view::npos)
      break;
    pos = newline + 1;
  }
  return lines;
}

} // namespace

std::string realign(std::string_view source, const std::vector<std::size_t>& targets,
                    const std::vector<std::size_t>& protected_lines) {
  std::set<std::size_t> fixed(protected_lines.begin(), protected_lines.end());
  std::vector<LineText> lines = split(source);
  std::vector<std::string> text;
  for (const auto& line : lines)
    text.emplace_back(source.substr(line.begin, line.end - line.begin));

  auto line_cells = [&](std::size_t i) { return fixed.contains(i) ? Cells{} : analyse(text[i]); };

  // `=` alignment of the groups containing a target.
  std::set<std::size_t> done;
  for (std::size_t target : targets) {
    if (target >= text.size() || done.contains(target) || !line_cells(target).equals)
      continue;
    std::size_t first = target;
    while (first > 0 && line_cells(first - 1).equals)
      --first;
    std::size_t last = target + 1;
    while (last < text.size() && line_cells(last).equals)
      ++last;
    std::size_t widest = 0;
    for (std::size_t i = first; i < last; ++i) {
      Cells cells = line_cells(i);
      widest = std::max(widest, columns(std::string_view(text[i]).substr(0, *cells.lead_end)));
    }
    for (std::size_t i = first; i < last; ++i) {
      Cells cells = line_cells(i);
      std::size_t width = columns(std::string_view(text[i]).substr(0, *cells.lead_end));
      text[i] = text[i].substr(0, *cells.lead_end) + std::string(widest - width + 1, ' ') + text[i].substr(*cells.equals);
      done.insert(i);
    }
  }

  // Trailing-comment alignment of the groups containing a target.
  done.clear();
  for (std::size_t target : targets) {
    if (target >= text.size() || done.contains(target) || !line_cells(target).comment)
      continue;
    std::size_t first = target;
    while (first > 0 && line_cells(first - 1).comment)
      --first;
    std::size_t last = target + 1;
    while (last < text.size() && line_cells(last).comment)
      ++last;
    std::size_t widest = 0;
    for (std::size_t i = first; i < last; ++i) {
      Cells cells = line_cells(i);
      widest = std::max(widest, columns(std::string_view(text[i]).substr(0, *cells.code_end)));
    }
    for (std::size_t i = first; i < last; ++i) {
      Cells cells = line_cells(i);
      std::size_t width = columns(std::string_view(text[i]).substr(0, *cells.code_end));
      text[i] = text[i].substr(0, *cells.code_end) + std::string(widest - width + 1, ' ') + text[i].substr(*cells.comment);
      done.insert(i);
    }
  }

  std::string out;
  out.reserve(source.size() + 64);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += text[i];
    std::size_t next = i + 1 < lines.size() ? lines[i + 1].begin : source.size();
    out += source.substr(lines[i].end, next - lines[i].end);
  }
  return out;
}

} // namespace coder_dns_doctor::patch::hcl
