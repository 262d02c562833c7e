// HCL2 native-syntax tree with byte spans: every node knows the exact bytes it came from.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::patch::hcl {

// A half-open byte range [begin, end) into the parsed source.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;

  std::size_t size() const { return end - begin; }
  std::string_view in(std::string_view source) const { return source.substr(begin, end - begin); }
};

enum class NodeKind {
  // Structure.
  body,       // children: attributes and blocks, in source order
  attribute,  // children: [name (identifier), value expression]
  block,      // children: [type (identifier), labels..., body]; `text` is the type
  label,      // a block label: quoted string or identifier; `text` is its value
  identifier, // a bare name; `text` is the name
  // Expressions.
  literal,          // number, true, false, null; `text` is the token
  template_string,  // "..."; children: template parts; `text` is the value when no interpolation
  heredoc,          // <<EOT / <<-EOT; children: template parts; `text` is the marker
  template_literal, // a literal piece of a template
  interpolation,    // ${ expr }; children: [expr]
  directive,        // %{ if/for/else/endif/endfor ... }; `text` is the keyword; children: exprs
  variable,         // a root name: `text`
  get_attr,         // children: [base]; `text` is the attribute name
  index,            // children: [base, key]
  splat,            // children: [base]; `text` is ".*" or "[*]"
  function_call,    // `text` is the function name; children: arguments
  tuple,            // children: elements
  object,           // children: object_item nodes
  object_item,      // children: [key, value]; `text` is "=" or ":"
  for_expr,         // children: iterator identifiers, collection, value exprs, condition
  conditional,      // children: [condition, true, false]
  binary,           // `text` is the operator; children: [left, right]
  unary,            // `text` is the operator; children: [operand]
  parens,           // children: [inner]
};

// One node of the tree. Children are ordered and lie inside the parent's span; the bytes between
// children (punctuation, whitespace, comments) are the source's own and are never re-synthesised.
struct Node {
  NodeKind kind = NodeKind::body;
  Span span;
  std::string text;
  std::vector<Node> children;
};

// A parsed file: the source it came from (owned) and its root body.
struct File {
  std::string name;
  std::string source;
  Node root;
};

// A syntax error with a 1-based position.
struct ParseError {
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;

  // Return "file:line:col: message".
  std::string to_string() const;
};

// Parse `source` (named `name` in errors). Never throws on bad input.
std::expected<File, ParseError> parse(std::string name, std::string source);

// Rebuild the text of `node` from the tree: children recursively, gaps from `source`.
// For an untouched tree `unparse(file.root, file.source) == file.source`.
std::string unparse(const Node& node, std::string_view source);

// Check that children are ordered, non-overlapping and inside their parent; fail with the first
// offending node's description. Used by tests and fuzzers.
std::expected<void, std::string> check_spans(const Node& root, std::size_t source_size);

// Return the dotted path of a static traversal such as `data.x.y.data["k"]` (formatted exactly
// like that), or an empty string when `expr` is not a traversal of a variable.
std::string traversal_path(const Node& expr);

// Return the 1-based line and column of byte `offset` in `source`.
std::pair<std::size_t, std::size_t> line_column(std::string_view source, std::size_t offset);

// Call `visit(node, parent_chain)` for every node under `root`, depth first, in source order.
template <typename Visitor> void walk(const Node& root, Visitor&& visit, std::vector<const Node*>& parents) {
  visit(root, parents);
  parents.push_back(&root);
  for (const Node& child : root.children)
    walk(child, visit, parents);
  parents.pop_back();
}

} // namespace coder_dns_doctor::patch::hcl
