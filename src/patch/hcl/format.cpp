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
  std::size_t lead_begin = 0;          // first non-blank byte
  std::optional<std::size_t> lead_end; // end of the name before `=` (trailing blanks removed)
  std::optional<std::size_t> equals;   // the `=` of an assignment
  std::optional<std::size_t> code_end; // end of code before a trailing comment
  std::optional<std::size_t> comment;  // start of a trailing comment
};

std::size_t columns(std::string_view text) {
  // Columns count characters, not bytes: skip UTF-8 continuation bytes.
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Where the code of a line ends, and what the scan saw on the way (see analyse()).
struct LineScan {
  std::size_t stop = 0;   // a trailing comment's start, a heredoc opener or the line's end
  bool heredoc = false;   // stopped at a heredoc opener
  bool in_string = false; // inside a quoted string (at the end: it is unterminated)
  int interpolation = 0;  // open ${ / %{ inside strings
  int brackets = 0;       // brackets opened since the first `=`
  bool counting = false;  // the first `=` was seen: count brackets
  std::size_t first_equals = std::string_view::npos;
};

// Consume byte `i` of a quoted string: skip an escaped byte, enter an interpolation or close the string.
void scan_string_byte(std::string_view line, std::size_t& i, LineScan& scan) {
  char c = line[i];
  if (c == '\\') {
    ++i;
  } else if ((c == '$' || c == '%') && i + 1 < line.size() && line[i + 1] == '{') {
    ++scan.interpolation;
    scan.in_string = false;
    ++i;
  } else if (c == '"') {
    scan.in_string = false;
  }
}

// Whether code at `i` starts a comment (`#`, `//`, `/*`).
bool starts_comment(std::string_view line, std::size_t i) {
  return line[i] == '#' || (line[i] == '/' && i + 1 < line.size() && (line[i + 1] == '/' || line[i + 1] == '*'));
}

// Whether the `=` at `i` is an assignment, not part of `==`, `=>`, `!=`, `<=` or `>=`.
bool is_assignment_equals(std::string_view line, std::size_t i) {
  return line[i] == '=' && (i + 1 >= line.size() || (line[i + 1] != '=' && line[i + 1] != '>')) &&
         (i == 0 || std::string_view("=!<>").find(line[i - 1]) == std::string_view::npos);
}

void count_bracket(char c, LineScan& scan) {
  if (c == '(' || c == '[' || c == '{')
    ++scan.brackets;
  else if (c == ')' || c == ']' || c == '}')
    --scan.brackets;
}

// Scan the code of `line` from `begin` (its first non-blank byte) to a comment, heredoc opener or
// the end, tracking strings, interpolations, the first assignment `=` and the brackets after it.
LineScan scan_code(std::string_view line, std::size_t begin) {
  LineScan scan;
  std::size_t i = begin;
  for (; i < line.size(); ++i) {
    char c = line[i];
    if (scan.in_string) {
      scan_string_byte(line, i, scan);
      continue;
    }
    if (c == '"') {
      scan.in_string = true;
      continue;
    }
    if (scan.interpolation > 0 && c == '}') {
      --scan.interpolation; // back in the string the interpolation opened in
      scan.in_string = true;
      continue;
    }
    if (starts_comment(line, i))
      break;
    if (c == '<' && line.substr(i, 2) == "<<") {
      scan.heredoc = true;
      break;
    }
    if (scan.first_equals == std::string_view::npos && i > begin && is_assignment_equals(line, i)) {
      scan.first_equals = i;
      scan.counting = true;
    }
    if (scan.counting)
      count_bracket(c, scan);
  }
  scan.stop = i;
  return scan;
}

// Return `end` moved back over the blanks before it, not before `floor`.
std::size_t trim_blanks_before(std::string_view line, std::size_t end, std::size_t floor) {
  while (end > floor && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    --end;
  return end;
}

// Return the alignment cells of `line`: an `=` only when the rest of the line closes every bracket
// and string it opens; a trailing comment only after code, outside strings and heredocs.
Cells analyse(std::string_view line) {
  Cells cells;
  cells.lead_begin = line.find_first_not_of(" \t");
  if (cells.lead_begin == std::string_view::npos)
    return cells;
  LineScan scan = scan_code(line, cells.lead_begin);
  if (scan.first_equals != std::string_view::npos && scan.brackets == 0 && !scan.in_string && scan.interpolation == 0) {
    cells.equals = scan.first_equals;
    cells.lead_end = trim_blanks_before(line, scan.first_equals, cells.lead_begin);
  }
  if (!scan.heredoc && scan.stop < line.size() && scan.stop > cells.lead_begin && !scan.in_string) {
    cells.comment = scan.stop;
    cells.code_end = trim_blanks_before(line, scan.stop, cells.lead_begin);
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

namespace {

// Which cells a pass aligns: `gap_begin` (end of the text before the gap) and `gap_end` (the
// cell that moves: the `=` or the comment).
struct AlignPass {
  std::optional<std::size_t> Cells::*gap_begin;
  std::optional<std::size_t> Cells::*gap_end;
};

// For each target line with a `pass.gap_end` cell, align the group of consecutive lines that all
// have one: one space after the widest text before the gap. `cells_of` analyses the current text.
template <typename CellsOf>
void align_groups(std::vector<std::string>& text, const std::vector<std::size_t>& targets, AlignPass pass,
                  CellsOf cells_of) {
  std::set<std::size_t> done;
  for (std::size_t target : targets) {
    if (target >= text.size() || done.contains(target) || !(cells_of(target).*pass.gap_end))
      continue;
    std::size_t first = target;
    while (first > 0 && cells_of(first - 1).*pass.gap_end)
      --first;
    std::size_t last = target + 1;
    while (last < text.size() && cells_of(last).*pass.gap_end)
      ++last;
    std::size_t widest = 0;
    for (std::size_t i = first; i < last; ++i)
      widest = std::max(widest, columns(std::string_view(text[i]).substr(0, *(cells_of(i).*pass.gap_begin))));
    for (std::size_t i = first; i < last; ++i) {
      Cells cells = cells_of(i);
      std::size_t begin = *(cells.*pass.gap_begin);
      std::size_t width = columns(std::string_view(text[i]).substr(0, begin));
      text[i] =
          text[i].substr(0, begin) + std::string(widest - width + 1, ' ') + text[i].substr(*(cells.*pass.gap_end));
      done.insert(i);
    }
  }
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
  // `=` first, then trailing comments, which see the `=`-aligned text.
  align_groups(text, targets, AlignPass{&Cells::lead_end, &Cells::equals}, line_cells);
  align_groups(text, targets, AlignPass{&Cells::code_end, &Cells::comment}, line_cells);

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
