// Byte-edit helpers shared by the template fixes (fix.cpp, template_only.cpp): spans, lines,
// edits and the small tree queries both modes need. Internal to src/patch/.
#pragma once

#include <coder_dns_doctor/patch/fix.hpp>
#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coder_dns_doctor::patch::detail {

using hcl::Node;
using hcl::NodeKind;

inline std::unexpected<PatchError> failure(std::string message) {
  return std::unexpected(PatchError{std::move(message)});
}

// A byte edit of one file: replace [begin, end) with `text`. `anchor` is the offset inside `text`
// whose line should be realigned afterwards.
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
  std::size_t anchor = 0;
};

inline std::string at(const std::string& display, std::string_view source, std::size_t offset) {
  return fmt::format("{}:{}", display, hcl::line_column(source, offset).first);
}

inline std::vector<const Node*> labels_of(const Node& block) {
  std::vector<const Node*> labels;
  for (const Node& child : block.children)
    if (child.kind == NodeKind::label)
      labels.push_back(&child);
  return labels;
}

inline const Node& body_of(const Node& block) {
  return block.children.back();
}

inline const Node* find_attribute(const Node& body, std::string_view name) {
  for (const Node& item : body.children)
    if (item.kind == NodeKind::attribute && item.text == name)
      return &item;
  return nullptr;
}

inline std::optional<std::string> literal_string(const Node& expr) {
  if (expr.kind != NodeKind::template_string)
    return std::nullopt;
  for (const Node& part : expr.children)
    if (part.kind != NodeKind::template_literal)
      return std::nullopt;
  return expr.text;
}

inline bool references(const Node& node, std::string_view prefix) {
  std::string path = hcl::traversal_path(node);
  if (!path.empty() &&
      (path == prefix || path.starts_with(std::string(prefix) + ".") || path.starts_with(std::string(prefix) + "[")))
    return true;
  return std::any_of(node.children.begin(), node.children.end(),
                     [&](const Node& child) { return references(child, prefix); });
}

template <typename Visitor> inline void walk(const Node& root, Visitor&& visit) {
  std::vector<const Node*> parents;
  hcl::walk(root, visit, parents);
}

inline std::string remove_blanks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      out += c;
  return out;
}

inline std::size_t line_start(std::string_view source, std::size_t offset) {
  std::size_t start = source.rfind('\n', offset == 0 ? 0 : offset - 1);
  return (start == std::string_view::npos || offset == 0) ? 0 : start + 1;
}

inline std::size_t after_line_end(std::string_view source, std::size_t offset) {
  std::size_t newline = source.find('\n', offset);
  return newline == std::string_view::npos ? source.size() : newline + 1;
}

inline std::string indentation_at(std::string_view source, std::size_t offset) {
  std::size_t start = line_start(source, offset);
  std::size_t end = start;
  while (end < source.size() && (source[end] == ' ' || source[end] == '\t'))
    ++end;
  return std::string(source.substr(start, end - start));
}

inline std::string eol_of(std::string_view source) {
  std::size_t newline = source.find('\n');
  return (newline != std::string_view::npos && newline > 0 && source[newline - 1] == '\r') ? "\r\n" : "\n";
}

// Apply `edits` (non-overlapping; insertions at one offset keep their order) and return the text
// plus the offsets of every edit's anchor in it.
inline std::pair<std::string, std::vector<std::size_t>> apply_edits(std::string_view source, std::vector<Edit> edits) {
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  std::vector<std::size_t> anchors;
  std::size_t pos = 0;
  for (const Edit& edit : edits) {
    if (edit.begin < pos)
      continue; // nested in an edit already applied
    out.append(source.substr(pos, edit.begin - pos));
    anchors.push_back(out.size() + edit.anchor);
    out += edit.text;
    pos = edit.end;
  }
  out.append(source.substr(pos));
  return {std::move(out), anchors};
}

inline std::size_t line_index(std::string_view text, std::size_t offset) {
  return static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Return the 0-based lines of heredoc bodies and closing markers: formatting never touches them.
inline std::vector<std::size_t> heredoc_lines(const hcl::File& file) {
  std::vector<std::size_t> lines;
  walk(file.root, [&](const Node& node, const std::vector<const Node*>&) {
    if (node.kind != NodeKind::heredoc)
      return;
    std::size_t first = line_index(file.source, node.span.begin) + 1;
    std::size_t last = line_index(file.source, node.span.end);
    for (std::size_t line = first; line <= last; ++line)
      lines.push_back(line);
  });
  return lines;
}

// Apply `edits` to `source`, re-parse, realign the edited lines as `terraform fmt` would and
// re-parse again: the realigned text and its tree, or the parse error (nothing is written then).
struct Edited {
  std::string text;
  hcl::File file;
};
inline std::expected<Edited, PatchError> apply_and_reparse(const std::string& display, const std::string& source,
                                                           const std::vector<Edit>& edits) {
  auto [edited, anchors] = apply_edits(source, edits);
  auto reparsed = hcl::parse(display, edited);
  if (!reparsed)
    return failure(fmt::format("internal check failed, nothing written: the edited template does not parse: {}",
                               reparsed.error().to_string()));
  std::vector<std::size_t> lines;
  for (std::size_t anchor : anchors)
    lines.push_back(line_index(edited, anchor));
  std::string text = hcl::realign(edited, lines, heredoc_lines(*reparsed));
  auto check = hcl::parse(display, text);
  if (!check)
    return failure(fmt::format("internal check failed, nothing written: the edited template does not parse: {}",
                               check.error().to_string()));
  return Edited{std::move(text), std::move(*check)};
}

inline std::optional<std::string> find_workspace_source(const Node& root) {
  for (const Node& item : root.children) {
    auto labels = labels_of(item);
    if (item.kind == NodeKind::block && item.text == "data" && labels.size() == 2 &&
        labels[0]->text == "coder_workspace")
      return fmt::format("data.coder_workspace.{}", labels[1]->text);
  }
  return std::nullopt;
}

inline bool is_agent_url_key(const Node& key) {
  if (literal_string(key) == "CODER_AGENT_URL")
    return true;
  return key.kind == NodeKind::variable && key.text == "CODER_AGENT_URL";
}

} // namespace coder_dns_doctor::patch::detail
