#include <coder_dns_doctor/util/table.hpp>

#include <algorithm>

namespace coder_dns_doctor::util {

void Table::add(std::vector<std::string> cells, std::vector<std::string> styles) {
  cells.resize(m_header.size());
  styles.resize(m_header.size());
  m_rows.push_back(std::move(cells));
  m_styles.push_back(std::move(styles));
}

std::string Table::render(const std::string& indent) const {
  std::vector<std::size_t> widths(m_header.size());
  for (std::size_t c = 0; c < m_header.size(); ++c) {
    widths[c] = m_header[c].size();
    for (const auto& row : m_rows)
      widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<std::string>* styles) {
    std::string out = indent;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      bool last = c + 1 == cells.size();
      std::string cell = last ? cells[c] : cells[c] + std::string(widths[c] - cells[c].size(), ' ');
      if (styles != nullptr && !(*styles)[c].empty())
        cell = (*styles)[c] + cell + "\033[0m";
      out += cell;
      if (!last)
        out += "  ";
    }
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    return out + "\n";
  };
  std::string out = line(m_header, nullptr);
  for (std::size_t r = 0; r < m_rows.size(); ++r)
    out += line(m_rows[r], &m_styles[r]);
  return out;
}

} // namespace coder_dns_doctor::util
