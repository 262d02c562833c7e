// Plain-text tables with aligned columns, for terminal output.
#pragma once

#include <string>
#include <vector>

namespace coder_dns_doctor::util {

class Table {
public:
  explicit Table(std::vector<std::string> header) : m_header(std::move(header)) {}
  // Add a row; `styles` (optional, same length) wraps each cell in an ANSI code after padding.
  void add(std::vector<std::string> cells, std::vector<std::string> styles = {});
  // Return the table, each line starting with `indent`.
  [[nodiscard]] std::string render(const std::string& indent) const;

private:
  std::vector<std::string> m_header;
  std::vector<std::vector<std::string>> m_rows;
  std::vector<std::vector<std::string>> m_styles;
};

} // namespace coder_dns_doctor::util
