// Line-preserving edits of Kubernetes YAML manifests: set one scalar, keep every other byte.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::patch::yaml {

// What went wrong and where (1-based line in the whole file; 0 when no line applies).
struct EditError {
  std::size_t line = 0;
  std::string message;
};

// One document of a (possibly multi-document) stream: its byte range and identity.
struct Document {
  std::size_t begin = 0; // first byte of the document's first content line (after any `---`)
  std::size_t end = 0;   // one past its last byte (the next `---`/`...` line or the end)
  std::size_t first_line = 1;
  std::string kind;
  std::string name;
};

// Split `text` into documents and read each one's `kind` and `metadata.name` (empty when absent).
// A document that does not parse is an error naming its line.
std::expected<std::vector<Document>, EditError> documents(std::string_view text);

// Return the scalar at `path` (e.g. {"spec", "ref", "branch"}) in `document`, or nullopt.
std::expected<std::optional<std::string>, EditError> get_scalar(std::string_view text, const Document& document,
                                                                const std::vector<std::string>& path);

// Return the keys of the mapping at `path` in `document` (empty when absent or not a mapping).
std::vector<std::string> mapping_keys(std::string_view text, const Document& document,
                                      const std::vector<std::string>& path);

enum class Change { none, updated, inserted };

struct SetResult {
  std::string text; // the whole file after the edit
  Change change = Change::none;
  std::size_t line = 0; // 1-based line of the key in the result
  std::string previous; // the previous value when `change` is updated
};

// Set the scalar at `path` in `document` to `value`. An existing key keeps its line and trailing
// comment (only the value's bytes change); a missing key is inserted after its last sibling with
// the siblings' indentation (preceded by `# comment` when `comment` is not empty), creating missing
// parent mappings. Only block mappings are edited: a flow mapping (`data: {}`), a sequence or a
// multi-line scalar on the path is an error naming its line. Line endings follow the file's.
std::expected<SetResult, EditError> set_scalar(std::string_view text, const Document& document,
                                               const std::vector<std::string>& path, std::string_view value,
                                               std::string_view comment);

// Check that `after` is `before` with exactly the scalar at `path` of the document at
// `document_index` set to `value`: both parse (yaml-cpp), other documents are byte-identical and
// the edited document equals the original plus the change. Fail with a message saying what differs.
std::expected<void, std::string> verify_edit(std::string_view before, std::string_view after,
                                             std::size_t document_index, const std::vector<std::string>& path,
                                             std::string_view value);

// Return `value` as a YAML scalar: plain when that reads back as the same string, else
// double-quoted. `prefer_quotes` asks for double quotes (to match the siblings' style).
std::string format_scalar(std::string_view value, bool prefer_quotes);

} // namespace coder_dns_doctor::patch::yaml
