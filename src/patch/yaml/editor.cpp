// Line-preserving YAML editor (see editor.hpp). The edit is computed on lines of text; yaml-cpp
// only reads documents and checks the result, because re-emitting YAML would lose comments,
// quoting and layout.
#include <coder_dns_doctor/patch/yaml/editor.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace coder_dns_doctor::patch::yaml {
namespace {

struct Line {
  std::size_t begin = 0; // first byte
  std::size_t end = 0;   // end of content (before "\r\n" / "\n")
  std::size_t next = 0;  // first byte of the next line
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    Line line{pos, newline == std::string_view::npos ? text.size() : newline,
              newline == std::string_view::npos ? text.size() : newline + 1};
    if (line.end > line.begin && text[line.end - 1] == '\r' && newline != std::string_view::npos)
      --line.end;
    lines.push_back(line);
    pos = line.next;
  }
  return lines;
}

std::string_view content(std::string_view text, const Line& line) {
  return text.substr(line.begin, line.end - line.begin);
}

std::size_t indent_of(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ')
    ++n;
  return n;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

bool is_comment(std::string_view line) {
  std::size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

bool is_content(std::string_view line) {
  return !is_blank(line) && !is_comment(line);
}

bool is_document_marker(std::string_view line) {
  if (!line.starts_with("---") && !line.starts_with("..."))
    return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t';
}

// A `key: value # comment` line of a block mapping, as offsets into its line.
struct KeyLine {
  std::size_t indent = 0;
  std::string key;
  std::size_t value_begin = 0; // where the value starts (== value_end when empty)
  std::size_t value_end = 0;
};

// Read the key that starts at `pos` (quoted, or plain up to the first `: `/`:` at the end) into
// `key`; return the offset of its ':', or nullopt when the line is no `key:` line.
std::optional<std::size_t> read_key(std::string_view line, std::size_t pos, std::string& key) {
  if (line[pos] == '"' || line[pos] == '\'') {
    std::size_t close = line.find(line[pos], pos + 1);
    if (close == std::string_view::npos)
      return std::nullopt;
    key = std::string(line.substr(pos + 1, close - pos - 1));
    if (close + 1 >= line.size() || line[close + 1] != ':')
      return std::nullopt;
    return close + 1;
  }
  std::size_t colon = pos;
  for (;;) {
    colon = line.find(':', colon);
    if (colon == std::string_view::npos)
      return std::nullopt;
    if (colon + 1 == line.size() || line[colon + 1] == ' ' || line[colon + 1] == '\t')
      break;
    ++colon;
  }
  std::string_view plain = line.substr(pos, colon - pos);
  while (!plain.empty() && plain.back() == ' ')
    plain.remove_suffix(1);
  key = std::string(plain);
  return colon;
}

// Return the end of the value that starts at `pos`: past a quoted scalar's closing quote, then
// before a ` #`/`\t#` comment and trailing blanks.
std::size_t value_end(std::string_view line, std::size_t pos) {
  std::size_t end = pos;
  if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
    char quote = line[pos];
    end = pos + 1;
    while (end < line.size() && line[end] != quote)
      end += (quote == '"' && line[end] == '\\') ? 2 : 1;
    end = std::min(end + 1, line.size());
  }
  std::size_t comment = line.find(" #", end);
  std::size_t tab_comment = line.find("\t#", end);
  end = std::min({comment, tab_comment, line.size()});
  while (end > pos && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    --end;
  return end;
}

std::optional<KeyLine> parse_key_line(std::string_view line) {
  KeyLine result;
  result.indent = indent_of(line);
  std::size_t pos = result.indent;
  if (pos >= line.size() || line[pos] == '#' || line[pos] == '-' || line[pos] == '[' || line[pos] == '{')
    return std::nullopt;
  std::optional<std::size_t> colon = read_key(line, pos, result.key);
  if (!colon)
    return std::nullopt;
  pos = *colon + 1;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
    ++pos;
  result.value_begin = pos;
  result.value_end = (pos < line.size() && line[pos] == '#') ? pos : value_end(line, pos);
  return result;
}

// The lines [first, last) of one block mapping whose keys sit at `indent`.
struct Mapping {
  std::size_t first = 0;
  std::size_t last = 0;
  std::size_t indent = 0;
};

struct Editor {
  std::string_view text;
  std::vector<Line> lines;
  std::size_t doc_first = 0; // line index range of the document
  std::size_t doc_last = 0;

  std::string_view at(std::size_t i) const { return content(text, lines[i]); }

  EditError error(std::size_t i, std::string message) const { return EditError{i + 1, std::move(message)}; }

  // Return the line index of `key` directly in `mapping`, if present.
  std::optional<std::size_t> find_key(const Mapping& mapping, std::string_view key) const {
    for (std::size_t i = mapping.first; i < mapping.last; ++i) {
      if (!is_content(at(i)) || indent_of(at(i)) != mapping.indent)
        continue;
      auto parsed = parse_key_line(at(i));
      if (parsed && parsed->key == key)
        return i;
    }
    return std::nullopt;
  }

  // Return the lines nested under the key at line `key_line` (its value's lines).
  Mapping children(std::size_t key_line, std::size_t limit) const {
    std::size_t parent_indent = indent_of(at(key_line));
    Mapping child{key_line + 1, key_line + 1, 0};
    std::size_t end = key_line + 1;
    while (end < limit && !(is_content(at(end)) && indent_of(at(end)) <= parent_indent))
      ++end;
    child.last = end;
    child.indent = parent_indent; // no children yet: caller decides
    for (std::size_t i = child.first; i < child.last; ++i)
      if (is_content(at(i))) {
        child.indent = indent_of(at(i));
        break;
      }
    return child;
  }

  // The smallest indentation step used in the document (2 when it has no nesting).
  std::size_t indent_step() const {
    std::size_t step = 0;
    for (std::size_t i = doc_first; i < doc_last; ++i) {
      std::size_t indent = indent_of(at(i));
      if (is_content(at(i)) && indent > 0 && (step == 0 || indent < step))
        step = indent;
    }
    return step == 0 ? 2 : step;
  }

  // Return the last line that belongs to `mapping` (content or comments indented as its keys).
  std::optional<std::size_t> last_line(const Mapping& mapping) const {
    std::optional<std::size_t> last;
    for (std::size_t i = mapping.first; i < mapping.last; ++i)
      if (!is_blank(at(i)) && indent_of(at(i)) >= mapping.indent &&
          (is_content(at(i)) || indent_of(at(i)) > 0 || mapping.indent == 0))
        last = i;
    return last;
  }

  std::string eol() const {
    for (const Line& line : lines)
      if (line.next > line.end)
        return std::string(text.substr(line.end, line.next - line.end));
    return "\n";
  }
};

std::string json_path(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& key : path)
    out += (out.empty() ? "" : ".") + key;
  return out;
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined: return nullptr;
  case YAML::NodeType::Scalar: return node.Scalar();
  case YAML::NodeType::Sequence: {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& item : node)
      array.push_back(to_json(item));
    return array;
  }
  case YAML::NodeType::Map: {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& item : node)
      // A complex key (`? [a, b]`) becomes its flow text: only equality matters here.
      object[item.first.IsScalar() ? item.first.Scalar() : YAML::Dump(item.first)] = to_json(item.second);
    return object;
  }
  }
  return nullptr;
}

// Load the one document in `text`. (Never YAML::LoadAll: yaml-cpp 0.7 can loop forever on it.)
std::expected<YAML::Node, EditError> load_one(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return std::unexpected(EditError{static_cast<std::size_t>(error.mark.line + 1), error.msg});
  }
}

} // namespace

namespace {

// Fill `doc.kind` and `doc.name` from a parsed document (left empty when absent or not scalars).
void read_identity(const YAML::Node& node, Document& doc) {
  if (!node.IsMap())
    return;
  if (node["kind"] && node["kind"].IsScalar())
    doc.kind = node["kind"].Scalar();
  if (node["metadata"] && node["metadata"].IsMap() && node["metadata"]["name"] && node["metadata"]["name"].IsScalar())
    doc.name = node["metadata"]["name"].Scalar();
}

// Append the document of lines [start, end_line) to `result` when it has content; return the
// parse error (its line in the whole file) when it does not parse.
std::optional<EditError> add_document(std::string_view text, const std::vector<Line>& lines, std::size_t start,
                                      std::size_t end_line, std::vector<Document>& result) {
  bool has_content = false;
  for (std::size_t i = start; i < end_line; ++i)
    has_content = has_content || is_content(content(text, lines[i]));
  if (!has_content)
    return std::nullopt;
  Document doc;
  doc.begin = lines[start].begin;
  doc.end = end_line < lines.size() ? lines[end_line].begin : text.size();
  doc.first_line = start + 1;
  try {
    read_identity(YAML::Load(std::string(text.substr(doc.begin, doc.end - doc.begin))), doc);
  } catch (const YAML::Exception& error) {
    return EditError{start + static_cast<std::size_t>(error.mark.line) + 1, error.msg};
  }
  result.push_back(std::move(doc));
  return std::nullopt;
}

} // namespace

std::expected<std::vector<Document>, EditError> documents(std::string_view text) {
  if (std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    return std::unexpected(EditError{
        static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n')) + 1,
        "a NUL byte: expected a text file"});
  std::vector<Line> lines = split_lines(text);
  std::vector<Document> result;
  std::size_t start = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_document_marker(content(text, lines[i]))) {
      if (auto failure = add_document(text, lines, start, i, result))
        return std::unexpected(*failure);
      start = i + 1;
    }
  }
  if (auto failure = add_document(text, lines, start, lines.size(), result))
    return std::unexpected(*failure);
  return result;
}

std::expected<std::optional<std::string>, EditError> get_scalar(std::string_view text, const Document& document,
                                                                const std::vector<std::string>& path) {
  try {
    YAML::Node node = YAML::Load(std::string(text.substr(document.begin, document.end - document.begin)));
    for (const auto& key : path) {
      if (!node.IsMap() || !node[key])
        return std::nullopt;
      node = node[key];
    }
    if (!node.IsScalar())
      return std::nullopt;
    return node.Scalar();
  } catch (const YAML::Exception& error) {
    return std::unexpected(EditError{document.first_line + static_cast<std::size_t>(error.mark.line), error.msg});
  }
}

std::vector<std::string> mapping_keys(std::string_view text, const Document& document,
                                      const std::vector<std::string>& path) {
  std::vector<std::string> keys;
  try {
    YAML::Node node = YAML::Load(std::string(text.substr(document.begin, document.end - document.begin)));
    for (const auto& key : path) {
      if (!node.IsMap() || !node[key])
        return keys;
      node = node[key];
    }
    if (node.IsMap())
      for (const auto& item : node)
        if (item.first.IsScalar())
          keys.push_back(item.first.Scalar());
  } catch (const YAML::Exception&) {
  }
  return keys;
}

std::string format_scalar(std::string_view value, bool prefer_quotes) {
  bool plain = !prefer_quotes && !value.empty() && value.front() != ' ' && value.back() != ' ' &&
               std::string_view("-?:,[]{}#&*!|>'\"%@`").find(value.front()) == std::string_view::npos &&
               value.find(": ") == std::string_view::npos && value.find(" #") == std::string_view::npos &&
               !value.ends_with(':');
  for (char c : value)
    plain = plain && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  if (plain) {
    // A plain scalar that YAML would read as something else (true, 1.5, null) needs quotes.
    static constexpr std::string_view k_reserved[] = {"true", "false", "null", "~", "yes", "no", "on", "off"};
    std::string lower;
    for (char c : value)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto word : k_reserved)
      plain = plain && lower != word;
    plain = plain && value.find_first_not_of("0123456789.+-eE") != std::string_view::npos;
  }
  if (plain)
    return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      quoted += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

namespace {

// One set_scalar call: the document and the key path to set to `value`.
struct SetRequest {
  std::string_view text;
  const Document& document;
  const std::vector<std::string>& path;
  std::string_view value;
  std::string_view comment; // written as `# comment` above an inserted key
};

// Return an editor over `text` whose document range is the lines of `document`.
Editor open_document(std::string_view text, const Document& document) {
  Editor editor{text, split_lines(text), 0, 0};
  while (editor.doc_first < editor.lines.size() && editor.lines[editor.doc_first].begin < document.begin)
    ++editor.doc_first;
  editor.doc_last = editor.doc_first;
  while (editor.doc_last < editor.lines.size() && editor.lines[editor.doc_last].begin < document.end)
    ++editor.doc_last;
  return editor;
}

// The document's top-level mapping: its lines, keyed at the indentation of its first content line.
Mapping top_mapping(const Editor& editor) {
  Mapping mapping{editor.doc_first, editor.doc_last, 0};
  for (std::size_t i = mapping.first; i < mapping.last; ++i)
    if (is_content(editor.at(i))) {
      mapping.indent = indent_of(editor.at(i));
      break;
    }
  return mapping;
}

// The value bytes of the key line `key` (parsed as `parsed`), without its trailing comment.
std::string_view raw_value(const Editor& editor, std::size_t key, const KeyLine& parsed) {
  return editor.at(key).substr(parsed.value_begin, parsed.value_end - parsed.value_begin);
}

// Replace the one-line scalar of the last key of the path, found at line `key`, keeping the
// quoting style, the rest of the line and every other byte. Unchanged when it already holds the value.
std::expected<SetResult, EditError> replace_value(const Editor& editor, const SetRequest& request, std::size_t key) {
  auto parsed = parse_key_line(editor.at(key));
  std::string_view raw = raw_value(editor, key, *parsed);
  if (raw.starts_with('|') || raw.starts_with('>') || raw.empty())
    return std::unexpected(
        editor.error(key, fmt::format("expected `{}` to be a one-line scalar, found a multi-line or empty value",
                                      json_path(request.path))));
  auto current = get_scalar(request.text, request.document, request.path);
  if (!current)
    return std::unexpected(current.error());
  if (*current && **current == request.value)
    return SetResult{std::string(request.text), Change::none, key + 1, std::string(request.value)};
  bool quoted = raw.starts_with('"') || raw.starts_with('\'');
  std::string out(request.text.substr(0, editor.lines[key].begin + parsed->value_begin));
  out += format_scalar(request.value, quoted);
  out += request.text.substr(editor.lines[key].begin + parsed->value_end);
  return SetResult{std::move(out), Change::updated, key + 1, current->value_or(std::string(raw))};
}

// Return the block mapping under the intermediate key `name` at line `key` of `mapping`. An empty
// one (`key:` alone) gets the parent's indentation plus the document's step; a flow value, a
// scalar or a sequence is an error.
std::expected<Mapping, EditError> descend(const Editor& editor, const Mapping& mapping, std::size_t key,
                                          const std::string& name) {
  auto parsed = parse_key_line(editor.at(key));
  if (std::string_view raw = raw_value(editor, key, *parsed); !raw.empty())
    return std::unexpected(editor.error(
        key, fmt::format("expected a block mapping under `{}:`, found `{}` (flow style and scalars are not "
                         "edited; write it as an indented block)",
                         name, raw)));
  Mapping child = editor.children(key, mapping.last);
  if (child.indent <= indent_of(editor.at(key))) {
    child.indent = indent_of(editor.at(key)) + editor.indent_step();
    return child;
  }
  for (std::size_t i = child.first; i < child.last; ++i)
    if (is_content(editor.at(i)) && indent_of(editor.at(i)) == child.indent &&
        editor.at(i).substr(child.indent).starts_with("- "))
      return std::unexpected(
          editor.error(i, fmt::format("expected a block mapping under `{}:`, found a sequence", name)));
  return child;
}

// Whether the nearest key of `mapping` at or above line `after` has a double-quoted value.
bool sibling_quoted(const Editor& editor, const Mapping& mapping, std::size_t after) {
  for (std::size_t i = after + 1; i-- > mapping.first;) {
    if (is_content(editor.at(i)) && indent_of(editor.at(i)) == mapping.indent) {
      auto sibling = parse_key_line(editor.at(i));
      return sibling && sibling->value_begin < editor.at(i).size() && editor.at(i)[sibling->value_begin] == '"';
    }
  }
  return false;
}

// The lines for the keys `path[depth..]` nested from `indent` down, the last one holding the value.
std::string nested_keys(const Editor& editor, const SetRequest& request, std::size_t depth, std::size_t indent,
                        bool quoted) {
  const std::string eol = editor.eol();
  std::string insertion;
  for (std::size_t rest = depth; rest < request.path.size(); ++rest) {
    std::string pad(indent, ' ');
    if (rest + 1 == request.path.size()) {
      if (!request.comment.empty())
        insertion += pad + "# " + std::string(request.comment) + eol;
      insertion += pad + format_scalar(request.path[rest], false) + ": " + format_scalar(request.value, quoted) + eol;
    } else {
      insertion += pad + format_scalar(request.path[rest], false) + ":" + eol;
    }
    indent += editor.indent_step();
  }
  return insertion;
}

// Insert the missing keys `path[depth..]` after the last line of `mapping` (after `parent_line`,
// the key whose value it is, when it has none), matching the quoting of the sibling above.
SetResult insert_keys(const Editor& editor, const SetRequest& request, const Mapping& mapping,
                      std::optional<std::size_t> parent_line, std::size_t depth) {
  std::optional<std::size_t> last = editor.last_line(mapping);
  std::size_t after = last ? *last : parent_line ? *parent_line : (mapping.last == 0 ? 0 : mapping.last - 1);
  bool quoted = last && sibling_quoted(editor, mapping, after);
  std::string insertion = nested_keys(editor, request, depth, mapping.indent, quoted);
  const Line& anchor = editor.lines.empty() ? Line{} : editor.lines[after];
  std::string out(request.text.substr(0, anchor.next));
  if (anchor.next == anchor.end && !editor.lines.empty())
    out += editor.eol(); // the anchor is the last line and has no line ending
  std::size_t key_line = after + 2 + static_cast<std::size_t>(std::count(insertion.begin(), insertion.end(), '\n')) - 1;
  out += insertion;
  out += request.text.substr(anchor.next);
  return SetResult{std::move(out), Change::inserted, key_line, {}};
}

} // namespace

std::expected<SetResult, EditError> set_scalar(std::string_view text, const Document& document,
                                               const std::vector<std::string>& path, std::string_view value,
                                               std::string_view comment) {
  const SetRequest request{text, document, path, value, comment};
  const Editor editor = open_document(text, document);
  Mapping mapping = top_mapping(editor);
  std::optional<std::size_t> parent_line; // the key line whose value `mapping` is
  // Walk down the path while its keys exist; replace the value at the end or insert the rest.
  for (std::size_t depth = 0; depth < path.size(); ++depth) {
    std::optional<std::size_t> found = editor.find_key(mapping, path[depth]);
    if (!found)
      return insert_keys(editor, request, mapping, parent_line, depth);
    if (depth + 1 == path.size())
      return replace_value(editor, request, *found);
    auto child = descend(editor, mapping, *found, path[depth]);
    if (!child)
      return std::unexpected(child.error());
    parent_line = *found;
    mapping = *child;
  }
  return std::unexpected(EditError{document.first_line, "empty key path"});
}

std::expected<void, std::string> verify_edit(std::string_view before, std::string_view after,
                                             std::size_t document_index, const std::vector<std::string>& path,
                                             std::string_view value) {
  auto old_docs = documents(before);
  auto new_docs = documents(after);
  if (!old_docs || !new_docs)
    return std::unexpected(fmt::format("the result does not parse as YAML: line {}: {}",
                                       new_docs ? old_docs.error().line : new_docs.error().line,
                                       new_docs ? old_docs.error().message : new_docs.error().message));
  if (old_docs->size() != new_docs->size() || document_index >= old_docs->size())
    return std::unexpected("the result has a different number of documents");
  const Document& old_doc = (*old_docs)[document_index];
  const Document& new_doc = (*new_docs)[document_index];
  if (before.substr(0, old_doc.begin) != after.substr(0, new_doc.begin) ||
      before.substr(old_doc.end) != after.substr(new_doc.end))
    return std::unexpected("bytes outside the edited document changed");
  auto old_node = load_one(before.substr(old_doc.begin, old_doc.end - old_doc.begin));
  auto new_node = load_one(after.substr(new_doc.begin, new_doc.end - new_doc.begin));
  if (!old_node || !new_node)
    return std::unexpected("the edited document does not parse as one YAML document");
  nlohmann::json expected = to_json(*old_node);
  nlohmann::json* cursor = &expected;
  for (const auto& key : path) {
    if (!cursor->is_object())
      *cursor = nlohmann::json::object();
    cursor = &(*cursor)[key];
  }
  *cursor = std::string(value);
  nlohmann::json actual = to_json(*new_node);
  if (actual != expected)
    return std::unexpected(fmt::format("the edited document is not the original plus `{}`: expected {}, got {}",
                                       json_path(path),
                                       expected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                       actual.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return {};
}

} // namespace coder_dns_doctor::patch::yaml
