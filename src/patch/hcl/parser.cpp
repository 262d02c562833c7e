// Recursive-descent parser for HCL2 native syntax that records byte spans (see syntax.hpp).
#include <coder_dns_doctor/patch/hcl/lexer.hpp>
#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace coder_dns_doctor::patch::hcl {

std::string ParseError::to_string() const {
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::pair<std::size_t, std::size_t> line_column(std::string_view source, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

namespace {

// Deep nesting is legal but never found in templates; the limit keeps fuzzed input from
// exhausting the stack.
constexpr int k_max_depth = 200;

// Thrown inside this file only and turned into std::unexpected by parse(): it unwinds the
// recursive descent from any depth without threading a result through every function.
struct Failure {
  std::size_t offset;
  std::string message;
};

Node leaf(NodeKind kind, Span span, std::string text = {}) {
  return Node{.kind = kind, .span = span, .text = std::move(text), .children = {}};
}

class Parser {
public:
  explicit Parser(std::string_view source) : m_source(source), m_lexer(source) {}

  Node parse_file() {
    Node body = parse_body(/*inside_block=*/false);
    body.span = Span{0, m_source.size()};
    return body;
  }

private:
  std::string_view m_source;
  Lexer m_lexer;
  std::size_t m_pos = 0;
  bool m_newlines_matter = true;
  int m_depth = 0;

  // Scope that sets whether newline tokens are significant, restoring the previous mode.
  class NewlineMode {
  public:
    NewlineMode(Parser& parser, bool matter) : m_parser(parser), m_saved(parser.m_newlines_matter) {
      parser.m_newlines_matter = matter;
    }
    ~NewlineMode() { m_parser.m_newlines_matter = m_saved; }
    NewlineMode(const NewlineMode&) = delete;
    NewlineMode& operator=(const NewlineMode&) = delete;

  private:
    Parser& m_parser;
    bool m_saved;
  };

  class DepthGuard {
  public:
    explicit DepthGuard(Parser& parser) : m_parser(parser) {
      if (++parser.m_depth > k_max_depth)
        throw Failure{parser.m_pos, "nesting too deep"};
    }
    ~DepthGuard() { --m_parser.m_depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

  private:
    Parser& m_parser;
  };

  [[noreturn]] void fail(std::size_t offset, std::string message) const { throw Failure{offset, std::move(message)}; }

  // Return the next token, skipping newlines when they do not matter here.
  Token peek() const {
    Token token = m_lexer.scan(m_pos);
    while (!m_newlines_matter && token.kind == TokenKind::newline)
      token = m_lexer.scan(token.span.end);
    return token;
  }

  Token next() {
    Token token = peek();
    m_pos = token.span.end;
    return token;
  }

  bool peek_punct(std::string_view op) const {
    Token token = peek();
    return token.kind == TokenKind::punctuation && token.text == op;
  }

  Token expect_punct(std::string_view op, std::string_view what) {
    Token token = peek();
    if (token.kind != TokenKind::punctuation || token.text != op)
      fail(token.span.begin, fmt::format("expected '{}' {}, found {}", op, what, describe(token)));
    return next();
  }

  static std::string describe(const Token& token) {
    switch (token.kind) {
    case TokenKind::end_of_input: return "end of file";
    case TokenKind::newline: return "end of line";
    case TokenKind::open_quote: return "a string";
    case TokenKind::open_heredoc: return "a heredoc";
    case TokenKind::invalid:
      if (token.text.starts_with("/*"))
        return "an unterminated /* comment";
      return fmt::format("unexpected character '{}'", token.text);
    default: return fmt::format("'{}'", token.text);
    }
  }

  // body := { newline | attribute | block }
  // `opener` is the offset of the block's first token (for the unclosed-block message).
  Node parse_body(bool inside_block, std::size_t opener = 0) {
    DepthGuard guard(*this);
    NewlineMode mode(*this, true);
    Node body = leaf(NodeKind::body, Span{m_pos, m_pos});
    for (;;) {
      Token token = peek();
      if (token.kind == TokenKind::newline) {
        next();
        continue;
      }
      if (token.kind == TokenKind::end_of_input) {
        if (inside_block)
          fail(token.span.begin, fmt::format("expected '}}' to close the block opened at line {}, found end of file",
                                             line_column(m_source, opener).first));
        break;
      }
      if (inside_block && token.kind == TokenKind::punctuation && token.text == "}")
        break;
      if (token.kind != TokenKind::identifier)
        fail(token.span.begin, fmt::format("expected an attribute or block name, found {}", describe(token)));
      body.children.push_back(parse_body_item());
      // An item ends at a line ending, the end of the file, or a block's closing brace.
      Token after = peek();
      bool closes = inside_block && after.kind == TokenKind::punctuation && after.text == "}";
      if (after.kind != TokenKind::newline && after.kind != TokenKind::end_of_input && !closes)
        fail(after.span.begin, fmt::format("expected a line ending after the item, found {}", describe(after)));
    }
    body.span.end = m_pos;
    if (!body.children.empty())
      body.span.begin = std::min(body.span.begin, body.children.front().span.begin);
    return body;
  }

  Node parse_body_item() {
    Token name = next();
    Node name_node = leaf(NodeKind::identifier, name.span, std::string(name.text));
    if (peek_punct("=")) {
      next();
      Node value = parse_expression();
      Node attribute = leaf(NodeKind::attribute, Span{name.span.begin, value.span.end}, name_node.text);
      attribute.children.push_back(std::move(name_node));
      attribute.children.push_back(std::move(value));
      return attribute;
    }
    Node block = leaf(NodeKind::block, name.span, name_node.text);
    block.children.push_back(std::move(name_node));
    for (;;) {
      Token token = peek();
      if (token.kind == TokenKind::identifier) {
        next();
        block.children.push_back(leaf(NodeKind::label, token.span, std::string(token.text)));
      } else if (token.kind == TokenKind::open_quote) {
        next();
        Node label = parse_quoted(token.span.begin);
        if (label.children.size() > 1 ||
            (label.children.size() == 1 && label.children.front().kind != NodeKind::template_literal))
          fail(token.span.begin, "a block label must be a literal string");
        label.kind = NodeKind::label;
        label.children.clear();
        block.children.push_back(std::move(label));
      } else if (token.kind == TokenKind::punctuation && token.text == "{") {
        break;
      } else {
        fail(token.span.begin,
             fmt::format("expected '=' or a block label or '{{' after '{}', found {}", name.text, describe(token)));
      }
    }
    next(); // '{'
    Node body = parse_body(/*inside_block=*/true, name.span.begin);
    Token close = expect_punct("}", "to close the block");
    block.children.push_back(std::move(body));
    block.span.end = close.span.end;
    return block;
  }

  // expression := binary [ '?' expression ':' expression ]
  Node parse_expression() {
    DepthGuard guard(*this);
    Node condition = parse_binary(0);
    if (!peek_punct("?"))
      return condition;
    next();
    Node when_true = parse_expression();
    expect_punct(":", "in a conditional expression");
    Node when_false = parse_expression();
    Node node = leaf(NodeKind::conditional, Span{condition.span.begin, when_false.span.end});
    node.children.push_back(std::move(condition));
    node.children.push_back(std::move(when_true));
    node.children.push_back(std::move(when_false));
    return node;
  }

  static int precedence(std::string_view op) {
    if (op == "||")
      return 1;
    if (op == "&&")
      return 2;
    if (op == "==" || op == "!=")
      return 3;
    if (op == "<" || op == ">" || op == "<=" || op == ">=")
      return 4;
    if (op == "+" || op == "-")
      return 5;
    if (op == "*" || op == "/" || op == "%")
      return 6;
    return 0;
  }

  Node parse_binary(int min_precedence) {
    DepthGuard guard(*this);
    Node left = parse_unary();
    for (;;) {
      Token token = peek();
      if (token.kind != TokenKind::punctuation)
        return left;
      int prec = precedence(token.text);
      if (prec == 0 || prec <= min_precedence)
        return left;
      next();
      Node right = parse_binary(prec);
      Node node = leaf(NodeKind::binary, Span{left.span.begin, right.span.end}, std::string(token.text));
      node.children.push_back(std::move(left));
      node.children.push_back(std::move(right));
      left = std::move(node);
    }
  }

  Node parse_unary() {
    Token token = peek();
    if (token.kind == TokenKind::punctuation && (token.text == "!" || token.text == "-")) {
      DepthGuard guard(*this);
      next();
      Node operand = parse_unary();
      Node node = leaf(NodeKind::unary, Span{token.span.begin, operand.span.end}, std::string(token.text));
      node.children.push_back(std::move(operand));
      return node;
    }
    return parse_postfix(parse_primary());
  }

  // Attribute access, index and splat after a primary expression.
  Node parse_postfix(Node base) {
    for (;;) {
      Token token = peek();
      if (token.kind != TokenKind::punctuation)
        return base;
      if (token.text == ".") {
        next();
        Token name = next();
        Node node;
        if (name.kind == TokenKind::identifier || name.kind == TokenKind::number) {
          node = leaf(NodeKind::get_attr, Span{base.span.begin, name.span.end}, std::string(name.text));
        } else if (name.kind == TokenKind::punctuation && name.text == "*") {
          node = leaf(NodeKind::splat, Span{base.span.begin, name.span.end}, ".*");
        } else {
          fail(name.span.begin, fmt::format("expected an attribute name after '.', found {}", describe(name)));
        }
        node.children.insert(node.children.begin(), std::move(base));
        base = std::move(node);
      } else if (token.text == "[") {
        next();
        NewlineMode mode(*this, false);
        if (peek_punct("*")) {
          next();
          Token close = expect_punct("]", "after '[*'");
          Node node = leaf(NodeKind::splat, Span{base.span.begin, close.span.end}, "[*]");
          node.children.push_back(std::move(base));
          base = std::move(node);
          continue;
        }
        Node key = parse_expression();
        Token close = expect_punct("]", "to close the index");
        Node node = leaf(NodeKind::index, Span{base.span.begin, close.span.end});
        node.children.push_back(std::move(base));
        node.children.push_back(std::move(key));
        base = std::move(node);
      } else {
        return base;
      }
    }
  }

  Node parse_primary() {
    DepthGuard guard(*this);
    Token token = next();
    switch (token.kind) {
    case TokenKind::number: return leaf(NodeKind::literal, token.span, std::string(token.text));
    case TokenKind::open_quote: return parse_quoted(token.span.begin);
    case TokenKind::open_heredoc: return parse_heredoc(token);
    case TokenKind::identifier: {
      if (token.text == "true" || token.text == "false" || token.text == "null")
        return leaf(NodeKind::literal, token.span, std::string(token.text));
      std::string name(token.text);
      // Provider-defined functions: provider::name::function(...)
      while (peek_punct("::")) {
        next();
        Token part = next();
        if (part.kind != TokenKind::identifier)
          fail(part.span.begin, "expected a name after '::'");
        name = std::string(m_source.substr(token.span.begin, part.span.end - token.span.begin));
      }
      if (peek_punct("("))
        return parse_call(token.span.begin, std::move(name));
      if (name.find("::") != std::string::npos)
        fail(token.span.begin, "expected '(' after a provider function name");
      return leaf(NodeKind::variable, token.span, std::move(name));
    }
    case TokenKind::punctuation:
      if (token.text == "(") {
        NewlineMode mode(*this, false);
        Node inner = parse_expression();
        Token close = expect_punct(")", "to close the parenthesis");
        Node node = leaf(NodeKind::parens, Span{token.span.begin, close.span.end});
        node.children.push_back(std::move(inner));
        return node;
      }
      if (token.text == "[")
        return parse_tuple(token.span.begin);
      if (token.text == "{")
        return parse_object(token.span.begin);
      break;
    default: break;
    }
    fail(token.span.begin, fmt::format("expected an expression, found {}", describe(token)));
  }

  Node parse_call(std::size_t begin, std::string name) {
    next(); // '('
    NewlineMode mode(*this, false);
    Node call = leaf(NodeKind::function_call, Span{begin, begin}, std::move(name));
    while (!peek_punct(")")) {
      call.children.push_back(parse_expression());
      if (peek_punct("...")) {
        next();
        if (!peek_punct(")"))
          fail(peek().span.begin, "expected ')' after '...'");
        break;
      }
      if (peek_punct(","))
        next();
      else if (!peek_punct(")"))
        fail(peek().span.begin,
             fmt::format("expected ',' or ')' in the arguments of {}(), found {}", call.text, describe(peek())));
    }
    call.span.end = next().span.end;
    return call;
  }

  bool peek_for_keyword() const {
    Token token = peek();
    if (token.kind != TokenKind::identifier || token.text != "for")
      return false;
    // `for` followed by an identifier starts a for-expression; otherwise it is a variable named for.
    Token after = m_lexer.scan(token.span.end);
    return after.kind == TokenKind::identifier;
  }

  // [for k, v in coll : expr if cond] or {for k, v in coll : key => value... if cond}
  Node parse_for(std::size_t begin, std::string_view close) {
    Node node = leaf(NodeKind::for_expr, Span{begin, begin}, "for");
    next(); // for
    for (;;) {
      Token name = next();
      if (name.kind != TokenKind::identifier)
        fail(name.span.begin, "expected an iterator name in a for expression");
      node.children.push_back(leaf(NodeKind::identifier, name.span, std::string(name.text)));
      if (peek_punct(",")) {
        next();
        continue;
      }
      break;
    }
    Token in = next();
    if (in.kind != TokenKind::identifier || in.text != "in")
      fail(in.span.begin, fmt::format("expected 'in' in a for expression, found {}", describe(in)));
    node.children.push_back(parse_expression());
    expect_punct(":", "in a for expression");
    node.children.push_back(parse_expression());
    if (close == "}") {
      expect_punct("=>", "in an object for expression");
      node.children.push_back(parse_expression());
      if (peek_punct("..."))
        next();
    }
    if (peek().kind == TokenKind::identifier && peek().text == "if") {
      next();
      node.children.push_back(parse_expression());
    }
    node.span.end = expect_punct(close, "to close the for expression").span.end;
    return node;
  }

  Node parse_tuple(std::size_t begin) {
    NewlineMode mode(*this, false);
    if (peek_for_keyword())
      return parse_for(begin, "]");
    Node tuple = leaf(NodeKind::tuple, Span{begin, begin});
    while (!peek_punct("]")) {
      tuple.children.push_back(parse_expression());
      if (peek_punct(","))
        next();
      else if (!peek_punct("]"))
        fail(peek().span.begin, fmt::format("expected ',' or ']' in a list, found {}", describe(peek())));
    }
    tuple.span.end = next().span.end;
    return tuple;
  }

  Node parse_object(std::size_t begin) {
    {
      NewlineMode probe(*this, false);
      if (peek_for_keyword())
        return parse_for(begin, "}");
    }
    NewlineMode mode(*this, true);
    Node object = leaf(NodeKind::object, Span{begin, begin});
    for (;;) {
      while (peek().kind == TokenKind::newline)
        next();
      if (peek_punct("}"))
        break;
      Node key;
      {
        NewlineMode key_mode(*this, false);
        key = parse_expression();
      }
      Token separator = next();
      if (separator.kind != TokenKind::punctuation || (separator.text != "=" && separator.text != ":"))
        fail(separator.span.begin,
             fmt::format("expected '=' or ':' after an object key, found {}", describe(separator)));
      Node value = parse_expression();
      Node item = leaf(NodeKind::object_item, Span{key.span.begin, value.span.end}, std::string(separator.text));
      item.children.push_back(std::move(key));
      item.children.push_back(std::move(value));
      object.children.push_back(std::move(item));
      Token after = peek();
      if (after.kind == TokenKind::punctuation && after.text == ",") {
        next();
      } else if (after.kind != TokenKind::newline && !(after.kind == TokenKind::punctuation && after.text == "}")) {
        fail(after.span.begin,
             fmt::format("expected ',', a line ending or '}}' after an object item, found {}", describe(after)));
      }
    }
    object.span.end = next().span.end;
    return object;
  }

  // Decode one escape sequence of a quoted string at `pos` (a backslash); return its length.
  std::size_t decode_escape(std::size_t pos, std::string& out) const {
    if (pos + 1 >= m_source.size())
      fail(pos, "unterminated string: a backslash at the end of the file");
    char c = m_source[pos + 1];
    switch (c) {
    case 'n': out += '\n'; return 2;
    case 'r': out += '\r'; return 2;
    case 't': out += '\t'; return 2;
    case '"': out += '"'; return 2;
    case '\\': out += '\\'; return 2;
    case 'u':
    case 'U': {
      std::size_t digits = c == 'u' ? 4 : 8;
      std::size_t length = 2;
      while (length < 2 + digits && pos + length < m_source.size() &&
             std::isxdigit(static_cast<unsigned char>(m_source[pos + length])))
        ++length;
      out.append(m_source.substr(pos, length)); // kept raw: only ASCII keys are ever compared
      return length;
    }
    default: fail(pos, fmt::format("invalid escape sequence '\\{}' in a string", c));
    }
  }

  // ${ expr } or %{ directive }, starting at `pos`; return the node and move past '}'.
  Node parse_template_sequence(std::size_t pos) {
    DepthGuard guard(*this);
    bool directive = m_source[pos] == '%';
    m_pos = pos + 2;
    NewlineMode mode(*this, false);
    if (peek_punct("~"))
      next();
    Node node = leaf(directive ? NodeKind::directive : NodeKind::interpolation, Span{pos, pos});
    if (!directive) {
      node.children.push_back(parse_expression());
    } else {
      Token keyword = next();
      if (keyword.kind != TokenKind::identifier)
        fail(keyword.span.begin, "expected if, for, else, endif or endfor after '%{'");
      node.text = std::string(keyword.text);
      if (node.text == "if") {
        node.children.push_back(parse_expression());
      } else if (node.text == "for") {
        for (;;) {
          Token name = next();
          if (name.kind != TokenKind::identifier)
            fail(name.span.begin, "expected an iterator name after '%{for'");
          node.children.push_back(leaf(NodeKind::identifier, name.span, std::string(name.text)));
          if (!peek_punct(","))
            break;
          next();
        }
        Token in = next();
        if (in.kind != TokenKind::identifier || in.text != "in")
          fail(in.span.begin, "expected 'in' in a template for directive");
        node.children.push_back(parse_expression());
      } else if (node.text != "else" && node.text != "endif" && node.text != "endfor") {
        fail(keyword.span.begin, fmt::format("unknown template directive '{}'", node.text));
      }
    }
    if (peek_punct("~"))
      next();
    Token close = expect_punct("}", directive ? "to close the template directive" : "to close the interpolation");
    node.span.end = close.span.end;
    return node;
  }

  // A quoted template; `begin` is the opening quote, m_pos is just after it.
  Node parse_quoted(std::size_t begin) {
    Node node = leaf(NodeKind::template_string, Span{begin, begin});
    std::string value;
    std::size_t literal_begin = m_pos;
    std::size_t pos = m_pos;
    auto flush_literal = [&](std::size_t end) {
      if (end > literal_begin)
        node.children.push_back(leaf(NodeKind::template_literal, Span{literal_begin, end}));
    };
    for (;;) {
      if (pos >= m_source.size())
        fail(begin, "unterminated string: no closing '\"' before the end of the file");
      char c = m_source[pos];
      if (c == '"') {
        flush_literal(pos);
        node.span.end = pos + 1;
        m_pos = pos + 1;
        break;
      }
      if (c == '\n' || c == '\r')
        fail(begin, "unterminated string: no closing '\"' on the same line");
      if (c == '\\') {
        pos += decode_escape(pos, value);
      } else if ((c == '$' || c == '%') && m_source.substr(pos + 1, 2) == std::string(1, c) + "{") {
        value += c;
        value += '{';
        pos += 3; // $${ and %%{ are literal
      } else if ((c == '$' || c == '%') && pos + 1 < m_source.size() && m_source[pos + 1] == '{') {
        flush_literal(pos);
        node.children.push_back(parse_template_sequence(pos));
        pos = m_pos;
        literal_begin = pos;
      } else {
        value += c;
        ++pos;
      }
    }
    bool literal_only = true;
    for (const Node& child : node.children)
      literal_only = literal_only && child.kind == NodeKind::template_literal;
    if (literal_only)
      node.text = std::move(value);
    return node;
  }

  // Return the end of the closing marker when the line at `pos` closes the heredoc, else npos.
  std::size_t closing_marker_end(std::size_t pos, std::string_view marker) const {
    while (pos < m_source.size() && (m_source[pos] == ' ' || m_source[pos] == '\t'))
      ++pos;
    if (m_source.substr(pos, marker.size()) != marker)
      return std::string_view::npos;
    std::size_t end = pos + marker.size();
    std::size_t after = end;
    while (after < m_source.size() && (m_source[after] == ' ' || m_source[after] == '\t'))
      ++after;
    if (after == m_source.size() || m_source[after] == '\n' ||
        (m_source[after] == '\r' && after + 1 < m_source.size() && m_source[after + 1] == '\n'))
      return end;
    return std::string_view::npos;
  }

  Node parse_heredoc(const Token& opener) {
    std::string_view header = opener.text.substr(2);
    if (header.starts_with('-'))
      header.remove_prefix(1);
    std::size_t marker_length = 0;
    while (marker_length < header.size() && is_identifier_part(header[marker_length]))
      ++marker_length;
    std::string_view marker = header.substr(0, marker_length);
    Node node = leaf(NodeKind::heredoc, Span{opener.span.begin, opener.span.begin}, std::string(marker));
    std::size_t pos = opener.span.end;
    std::size_t literal_begin = pos;
    bool at_line_start = true;
    for (;;) {
      if (at_line_start) {
        std::size_t end = closing_marker_end(pos, marker);
        if (end != std::string_view::npos) {
          if (pos > literal_begin)
            node.children.push_back(leaf(NodeKind::template_literal, Span{literal_begin, pos}));
          node.span.end = end;
          m_pos = end;
          return node;
        }
      }
      if (pos >= m_source.size())
        fail(opener.span.begin,
             fmt::format("unterminated heredoc: no line '{}' closes it before the end of the file", marker));
      char c = m_source[pos];
      at_line_start = false;
      if ((c == '$' || c == '%') && m_source.substr(pos + 1, 2) == std::string(1, c) + "{") {
        pos += 3;
      } else if ((c == '$' || c == '%') && pos + 1 < m_source.size() && m_source[pos + 1] == '{') {
        if (pos > literal_begin)
          node.children.push_back(leaf(NodeKind::template_literal, Span{literal_begin, pos}));
        node.children.push_back(parse_template_sequence(pos));
        pos = m_pos;
        literal_begin = pos;
      } else {
        if (c == '\n')
          at_line_start = true;
        ++pos;
      }
    }
  }

  friend class NewlineMode;
  friend class DepthGuard;
};

void unparse_into(const Node& node, std::string_view source, std::string& out) {
  std::size_t pos = node.span.begin;
  for (const Node& child : node.children) {
    out.append(source.substr(pos, child.span.begin - pos));
    unparse_into(child, source, out);
    pos = child.span.end;
  }
  out.append(source.substr(pos, node.span.end - pos));
}

std::expected<void, std::string> check_spans_from(const Node& node, std::size_t limit_begin, std::size_t limit_end) {
  if (node.span.begin > node.span.end || node.span.begin < limit_begin || node.span.end > limit_end)
    return std::unexpected(
        fmt::format("node [{}, {}) outside [{}, {})", node.span.begin, node.span.end, limit_begin, limit_end));
  std::size_t pos = node.span.begin;
  for (const Node& child : node.children) {
    if (child.span.begin < pos)
      return std::unexpected(
          fmt::format("child [{}, {}) overlaps its sibling ending at {}", child.span.begin, child.span.end, pos));
    if (auto inside = check_spans_from(child, node.span.begin, node.span.end); !inside)
      return inside;
    pos = child.span.end;
  }
  return {};
}

} // namespace

std::expected<File, ParseError> parse(std::string name, std::string source) {
  File file{.name = std::move(name), .source = std::move(source), .root = {}};
  try {
    Parser parser(file.source);
    file.root = parser.parse_file();
  } catch (const Failure& failure) {
    auto [line, column] = line_column(file.source, failure.offset);
    return std::unexpected(ParseError{.file = file.name, .line = line, .column = column, .message = failure.message});
  }
  return file;
}

std::string unparse(const Node& node, std::string_view source) {
  std::string out;
  out.reserve(node.span.size());
  unparse_into(node, source, out);
  return out;
}

std::expected<void, std::string> check_spans(const Node& root, std::size_t source_size) {
  return check_spans_from(root, 0, source_size);
}

std::string traversal_path(const Node& expr) {
  switch (expr.kind) {
  case NodeKind::variable: return expr.text;
  case NodeKind::get_attr: {
    std::string base = traversal_path(expr.children.front());
    return base.empty() ? base : base + "." + expr.text;
  }
  case NodeKind::splat: {
    std::string base = traversal_path(expr.children.front());
    return base.empty() ? base : base + expr.text;
  }
  case NodeKind::index: {
    std::string base = traversal_path(expr.children.front());
    const Node& key = expr.children.back();
    if (base.empty())
      return base;
    if (key.kind == NodeKind::literal)
      return base + "[" + key.text + "]";
    if (key.kind == NodeKind::template_string && key.children.size() <= 1 &&
        (key.children.empty() || key.children.front().kind == NodeKind::template_literal))
      return base + "[\"" + key.text + "\"]";
    return {};
  }
  default: return {};
  }
}

} // namespace coder_dns_doctor::patch::hcl
