#include <coder_dns_doctor/util/table.hpp>

#include <algorithm>
#include <numeric>

namespace coder_dns_doctor::util {
namespace {

constexpr std::string_view k_ellipsis = "…";
constexpr std::size_t k_gap = 2; // spaces between columns

// The byte offset where the first `columns` display columns of `text` end.
std::size_t bytes_for(std::string_view text, std::size_t columns) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool starts_code_point = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_code_point && seen++ == columns)
      return i;
  }
  return text.size();
}

// The byte offset where the last `columns` display columns of `text` begin.
std::size_t tail_start(std::string_view text, std::size_t columns) {
  std::size_t total = display_width(text);
  return columns >= total ? 0 : bytes_for(text, total - columns);
}

} // namespace

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string shorten(std::string_view text, std::size_t width, Fit fit) {
  if (fit == Fit::keep || display_width(text) <= width)
    return std::string(text);
  if (width == 0)
    return {};
  std::size_t room = width - 1; // one column for the ellipsis
  if (fit == Fit::cut_end)
    return std::string(text.substr(0, bytes_for(text, room))) + std::string(k_ellipsis);
  std::size_t head = (room + 1) / 2;
  std::size_t tail = room - head;
  return std::string(text.substr(0, bytes_for(text, head))) + std::string(k_ellipsis) +
         std::string(text.substr(tail_start(text, tail)));
}

std::string wrap(std::string_view text, const std::string& first, const std::string& rest, std::size_t width) {
  std::string out;
  std::string line = first;
  bool line_empty = true;
  auto flush = [&] {
    out += line + "\n";
    line = rest;
    line_empty = true;
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = std::min(text.find(' ', start), text.size());
    std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty())
      continue;
    while (width > 0) {
      std::size_t free = width > display_width(line) ? width - display_width(line) : 0;
      std::size_t need = display_width(word) + (line_empty ? 0 : 1);
      if (need <= free)
        break;
      if (!line_empty) {
        flush(); // the word goes on a line of its own
        continue;
      }
      if (free == 0)
        break;                                 // a prefix as wide as the limit: nothing fits, keep going unwrapped
      std::size_t cut = bytes_for(word, free); // a word longer than a whole line: split it
      line += word.substr(0, cut);
      word.remove_prefix(cut);
      flush();
    }
    if (!line_empty)
      line += ' ';
    line += word;
    line_empty = false;
  }
  if (!line_empty || out.empty())
    flush();
  return out;
}

Table::Table(const std::vector<std::string>& headers) {
  for (const auto& header : headers)
    m_columns.push_back({header, Fit::keep, 0});
}

void Table::add(std::vector<std::string> cells, std::vector<std::string> styles) {
  cells.resize(m_columns.size());
  styles.resize(m_columns.size());
  m_rows.push_back(std::move(cells));
  m_styles.push_back(std::move(styles));
}

std::vector<std::size_t> Table::natural_widths() const {
  std::vector<std::size_t> widths(m_columns.size());
  for (std::size_t c = 0; c < m_columns.size(); ++c) {
    widths[c] = display_width(m_columns[c].header);
    for (const auto& row : m_rows)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  return widths;
}

std::size_t Table::natural_width(const std::string& indent) const {
  auto widths = natural_widths();
  return display_width(indent) + std::accumulate(widths.begin(), widths.end(), std::size_t{0}) +
         k_gap * (widths.empty() ? 0 : widths.size() - 1);
}

// The column widths a render uses, and which columns it shows.
struct Table::Layout {
  std::vector<std::size_t> widths;
  std::vector<bool> shown;

  [[nodiscard]] std::size_t total(std::size_t indent) const {
    std::size_t sum = indent;
    std::size_t count = 0;
    for (std::size_t c = 0; c < widths.size(); ++c)
      if (shown[c]) {
        sum += widths[c];
        ++count;
      }
    return sum + k_gap * (count == 0 ? 0 : count - 1);
  }
};

Table::Layout Table::fit(std::size_t indent, std::size_t max_width) const {
  Layout layout{natural_widths(), std::vector<bool>(m_columns.size(), true)};
  if (max_width == 0)
    return layout;
  // Drop whole columns, highest rank first, while the table is too wide.
  int highest = 0;
  for (const auto& column : m_columns)
    highest = std::max(highest, column.drop_rank);
  for (int rank = highest; rank > 0 && layout.total(indent) > max_width; --rank)
    for (std::size_t c = 0; c < m_columns.size(); ++c)
      if (m_columns[c].drop_rank == rank)
        layout.shown[c] = false;
  // Then take a column from the widest cut column, one at a time, down to its header's width.
  while (layout.total(indent) > max_width) {
    std::size_t widest = layout.widths.size();
    for (std::size_t c = 0; c < layout.widths.size(); ++c) {
      bool can_give =
          layout.shown[c] && m_columns[c].fit != Fit::keep && layout.widths[c] > display_width(m_columns[c].header);
      if (can_give && (widest == layout.widths.size() || layout.widths[c] > layout.widths[widest]))
        widest = c;
    }
    if (widest == layout.widths.size())
      break; // only `keep` columns are left to give: the line stays long
    --layout.widths[widest];
  }
  return layout;
}

std::string Table::render_line(const Layout& layout, const std::string& indent, const std::vector<std::string>& cells,
                               const std::vector<std::string>* styles) const {
  std::string out = indent;
  bool first = true;
  for (std::size_t c = 0; c < cells.size(); ++c) {
    if (!layout.shown[c])
      continue;
    if (!first)
      out += std::string(k_gap, ' ');
    first = false;
    std::size_t width = layout.widths[c];
    std::string cell = shorten(cells[c], width, m_columns[c].fit);
    cell += std::string(width - std::min(width, display_width(cell)), ' ');
    if (styles != nullptr && !(*styles)[c].empty())
      cell = (*styles)[c] + cell + "\033[0m";
    out += cell;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out + "\n";
}

std::string Table::render(const std::string& indent, std::size_t max_width) const {
  Layout layout = fit(display_width(indent), max_width);
  std::vector<std::string> header;
  for (const auto& column : m_columns)
    header.push_back(column.header);
  std::string out = render_line(layout, indent, header, nullptr);
  for (std::size_t r = 0; r < m_rows.size(); ++r)
    out += render_line(layout, indent, m_rows[r], &m_styles[r]);
  return out;
}

} // namespace coder_dns_doctor::util
