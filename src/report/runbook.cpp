#include <coder_dns_doctor/report/html.hpp>
#include <coder_dns_doctor/report/runbook.hpp>

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <set>
#include <utility>

// k_runbook_markdown: docs/runbook.md as bytes, generated at build time (cmake/EmbedText.cmake).
#include "cdd_runbook_md.hpp"

namespace coder_dns_doctor::report {
namespace {

// Which runbook section covers a finding code. Codes without an alert of their own point at the
// alert whose section explains them; a code missing here (DEPLOYMENT_MISMATCH,
// KUBERNETES_UNAVAILABLE: no section yet) is shown without a link.
constexpr std::array<std::pair<analysis::Code, std::string_view>, 20> k_sections{{
    {analysis::Code::external_dns_mismatch, "coderdnsmismatch"},
    {analysis::Code::internal_dns_mismatch, "coderdnsmismatch"},
    {analysis::Code::host_dns_mismatch, "coderdnsmismatch"},
    {analysis::Code::resolver_disagreement, "coderdnsmismatch"},
    {analysis::Code::search_shadowing, "coderdnsmismatch"},
    {analysis::Code::agent_url_external, "coderdnsmismatch"},
    {analysis::Code::dns_lookup_failed, "coderdnslookupfailing"},
    {analysis::Code::resolver_out_of_scope, "coderdnslookupfailing"}, // the section explains scopes
    {analysis::Code::healthz_fails_via_dns, "coderhealthzdownviadns"},
    {analysis::Code::healthz_down, "coderhealthzdown"},
    {analysis::Code::hosts_file_override, "coderhostsfileoverride"},
    {analysis::Code::ingress_unreachable_in_cluster, "coderingressunreachableincluster"},
    {analysis::Code::agent_transport_blocked, "coderagenttransportblocked"},
    {analysis::Code::derp_upgrade_blocked, "coderderpupgradeblocked"},
    {analysis::Code::transport_cut_by_proxy, "codertransportcutbyproxy"},
    {analysis::Code::not_coderd, "coderaddressnotcoderd"},
    {analysis::Code::agent_disconnected, "coderagentsdisconnectedbydns"},
    {analysis::Code::coder_api_unavailable, "coderagentsdisconnectedbydns"},
    {analysis::Code::coderd_reports_unhealthy, "coderagentsdisconnectedbydns"},
    {analysis::Code::workspace_rebuild_needed, "coderagentsdisconnectedbydns"},
}};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Inline Markdown: `code`, **bold**, [text](target). Anything else is text, escaped.
std::string inline_html(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '`') {
      auto end = text.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += "<code>" + html_escape(text.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    } else if (starts_with(text.substr(i), "**")) {
      auto end = text.find("**", i + 2);
      if (end != std::string_view::npos) {
        out += "<strong>" + inline_html(text.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    } else if (text[i] == '[') {
      auto middle = text.find("](", i + 1);
      auto end = middle == std::string_view::npos ? middle : text.find(')', middle + 2);
      if (end != std::string_view::npos) {
        std::string_view label = text.substr(i + 1, middle - i - 1);
        std::string_view target = text.substr(middle + 2, end - middle - 2);
        bool linkable = starts_with(target, "#") || starts_with(target, "https://") || starts_with(target, "http://");
        out += linkable ? fmt::format("<a href=\"{}\">{}</a>", html_escape(target), inline_html(label))
                        : inline_html(label);
        i = end + 1;
        continue;
      }
    }
    out += html_escape(text.substr(i, 1));
    ++i;
  }
  return out;
}

// A line-at-a-time renderer for the Markdown subset of markdown_page().
class Renderer {
public:
  std::string finish() {
    if (m_code)
      m_out += "</code></pre>";
    close_list();
    return std::move(m_out);
  }

  void line(std::string_view raw) {
    std::size_t indent = raw.find_first_not_of(' ');
    std::string_view text = indent == std::string_view::npos ? std::string_view{} : raw.substr(indent);
    if (m_code) {
      code_line(raw, text);
    } else if (starts_with(text, "```")) {
      open_code(indent);
    } else if (text.empty()) {
      flush_paragraph();
    } else if (indent == 0 && heading_level(text) > 0) {
      heading(text);
    } else if (auto rest = list_item(text, indent); rest) {
      item(text, *rest);
    } else {
      if (indent == 0 && m_paragraph.empty())
        close_list(); // a paragraph that starts at the margin ends the list
      m_paragraph += m_paragraph.empty() ? "" : " ";
      m_paragraph += text;
    }
  }

private:
  static std::size_t heading_level(std::string_view text) {
    std::size_t level = text.find_first_not_of('#');
    return level >= 1 && level <= 6 && level < text.size() && text[level] == ' ' ? level : 0;
  }

  // The text of a list item (`- x`, `* x`, `1. x`) near the margin; nullopt for any other line.
  static std::optional<std::string_view> list_item(std::string_view text, std::size_t indent) {
    if (indent > 1)
      return std::nullopt;
    if (starts_with(text, "- ") || starts_with(text, "* "))
      return text.substr(2);
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0)
      ++digits;
    if (digits > 0 && starts_with(text.substr(digits), ". "))
      return text.substr(digits + 2);
    return std::nullopt;
  }

  void code_line(std::string_view raw, std::string_view text) {
    if (starts_with(text, "```")) {
      m_out += "</code></pre>";
      m_code = false;
      return;
    }
    std::size_t strip = std::min(
        m_code_indent, raw.find_first_not_of(' ') == std::string_view::npos ? raw.size() : raw.find_first_not_of(' '));
    m_out += html_escape(raw.substr(strip)) + "\n";
  }

  void open_code(std::size_t indent) {
    flush_paragraph();
    if (indent == 0)
      close_list();
    m_out += "<pre><code>";
    m_code = true;
    m_code_indent = indent;
  }

  void heading(std::string_view text) {
    flush_paragraph();
    close_list();
    std::size_t level = heading_level(text);
    std::string_view title = text.substr(level + 1);
    std::string id = heading_anchor(title);
    for (int n = 1; !m_ids.insert(id).second; ++n) // GitHub numbers repeated headings
      id = fmt::format("{}-{}", heading_anchor(title), n);
    m_out += fmt::format("<h{} id=\"{}\">{}</h{}>", level, html_escape(id), inline_html(title), level);
  }

  void item(std::string_view text, std::string_view rest) {
    flush_paragraph();
    std::string_view tag = starts_with(text, "- ") || starts_with(text, "* ") ? "ul" : "ol";
    if (!m_list.empty() && m_list != tag)
      close_list();
    if (m_list.empty()) {
      m_out += fmt::format("<{}>", tag);
      m_list = tag;
    } else {
      m_out += "</li>";
    }
    m_out += "<li>";
    m_paragraph = rest;
  }

  void flush_paragraph() {
    if (m_paragraph.empty())
      return;
    m_out += "<p>" + inline_html(m_paragraph) + "</p>";
    m_paragraph.clear();
  }

  void close_list() {
    flush_paragraph();
    if (m_list.empty())
      return;
    m_out += fmt::format("</li></{}>", m_list);
    m_list = {};
  }

  std::string m_out;
  std::string m_paragraph; // the lines of the paragraph being read, joined by spaces
  std::string_view m_list; // "ul" or "ol" while a list is open
  bool m_code = false;
  std::size_t m_code_indent = 0; // a fence's indentation, taken off each of its lines
  std::set<std::string> m_ids;
};

} // namespace

std::string_view runbook_markdown() {
  return {k_runbook_markdown.data(), k_runbook_markdown.size()};
}

const std::string& runbook_html() {
  static const std::string page = markdown_page(runbook_markdown(), "coder-dns-doctor runbook");
  return page;
}

std::string markdown_page(std::string_view markdown, std::string_view title) {
  Renderer renderer;
  while (!markdown.empty()) {
    auto end = markdown.find('\n');
    std::string_view line = markdown.substr(0, end);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    renderer.line(line);
    markdown.remove_prefix(end == std::string_view::npos ? markdown.size() : end + 1);
  }
  return fmt::format("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>"
                     "<style>{}</style></head><body><p class=\"meta\"><a href=\"/\">status page</a></p>{}"
                     "</body></html>\n",
                     html_escape(title), page_style(), renderer.finish());
}

std::string heading_anchor(std::string_view heading) {
  std::string out;
  std::size_t first = heading.find_first_not_of(' ');
  std::size_t last = heading.find_last_not_of(' ');
  if (first == std::string_view::npos)
    return out;
  for (char c : heading.substr(first, last - first + 1)) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '_' || c == '-')
      out += static_cast<char>(std::tolower(byte));
    else if (c == ' ')
      out += '-';
  }
  return out;
}

std::optional<std::string_view> runbook_anchor(analysis::Code code) {
  for (const auto& [known, anchor] : k_sections)
    if (known == code)
      return anchor;
  return std::nullopt;
}

} // namespace coder_dns_doctor::report
