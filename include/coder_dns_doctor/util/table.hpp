// Plain-text tables with aligned columns, for terminal output, fitted to a width on request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::util {

// How a column gives way when its table is wider than the terminal. `keep` never shrinks (an
// address, a status, a code: a shortened one would mislead); `cut_middle` keeps both ends (a host
// or URL: its scheme and its port stay visible); `cut_end` keeps the start (a result, a reason).
enum class Fit { keep, cut_middle, cut_end };

struct Column {
  std::string header;
  Fit fit = Fit::keep;
  // Dropped whole before anything is cut, highest first (timings, TTLs); 0: never dropped.
  int drop_rank = 0;
};

class Table {
public:
  explicit Table(const std::vector<std::string>& headers);
  explicit Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}
  // Add a row; `styles` (optional, same length) wraps each cell in an ANSI code after padding.
  void add(std::vector<std::string> cells, std::vector<std::string> styles = {});
  // Return the table, each line starting with `indent`. With `max_width` (0: none), droppable
  // columns go first, then cut columns shrink (never below their header, with "…"); `keep`
  // columns stay whole even when the line then stays too long.
  [[nodiscard]] std::string render(const std::string& indent, std::size_t max_width = 0) const;
  // The width of the widest line render(indent) gives without a limit.
  [[nodiscard]] std::size_t natural_width(const std::string& indent) const;

private:
  struct Layout;
  [[nodiscard]] std::vector<std::size_t> natural_widths() const;
  [[nodiscard]] Layout fit(std::size_t indent, std::size_t max_width) const;
  [[nodiscard]] std::string render_line(const Layout& layout, const std::string& indent,
                                        const std::vector<std::string>& cells,
                                        const std::vector<std::string>* styles) const;
  std::vector<Column> m_columns;
  std::vector<std::vector<std::string>> m_rows;
  std::vector<std::vector<std::string>> m_styles;
};

// Columns a terminal shows for `text`: UTF-8 code points (no wide-glyph tables: the report's
// non-ASCII text is "…" and similar one-column symbols).
[[nodiscard]] std::size_t display_width(std::string_view text);
// `text` shortened to `width` columns with "…" where the cut is (at the end, or in the middle).
[[nodiscard]] std::string shorten(std::string_view text, std::size_t width, Fit fit);
// `text` broken into lines of at most `width` columns at spaces (a longer word is split), the
// first starting with `first`, the rest with `rest`; each line ends with '\n'. 0: no limit.
[[nodiscard]] std::string wrap(std::string_view text, const std::string& first, const std::string& rest,
                               std::size_t width);

} // namespace coder_dns_doctor::util
