// HCL2 lexer, normal mode. Templates (quoted strings, heredoc bodies) are scanned by the parser,
// because where they end depends on the expressions nested inside their interpolations.
#include <coder_dns_doctor/patch/hcl/lexer.hpp>

#include <array>

namespace coder_dns_doctor::patch::hcl {

bool is_identifier_start(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}

bool is_identifier_part(char c) {
  return is_identifier_start(c) || (c >= '0' && c <= '9') || c == '-';
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Multi-byte operators first, so the longest match wins.
constexpr std::array<std::string_view, 10> k_long_operators = {"...", "=>", "==", "!=", "<=",
                                                                ">=", "&&", "||", "::", "<<"};
constexpr std::string_view k_short_operators = "{}[]()=:,.?!+-*/%<>~";

} // namespace

std::size_t Lexer::skip_trivia(std::size_t pos) const {
  const std::size_t n = m_source.size();
  while (pos < n) {
    char c = m_source[pos];
    if (c == ' ' || c == '\t') {
      ++pos;
    } else if (c == '\r' && (pos + 1 >= n || m_source[pos + 1] != '\n')) {
      ++pos; // a lone CR is whitespace; CRLF is a newline token
    } else if (c == '#' || (c == '/' && pos + 1 < n && m_source[pos + 1] == '/')) {
      while (pos < n && m_source[pos] != '\n' &&
             !(m_source[pos] == '\r' && pos + 1 < n && m_source[pos + 1] == '\n'))
        ++pos;
    } else if (c == '/' && pos + 1 < n && m_source[pos + 1] == '*') {
      std::size_t close = m_source.find("*/", pos + 2);
      if (close == std::string_view::npos)
        return pos; // unterminated: scan() reports it as invalid
      pos = close + 2;
    } else {
      break;
    }
  }
  return pos;
}

Token Lexer::scan(std::size_t pos) const {
  const std::size_t n = m_source.size();
  pos = skip_trivia(pos);
  auto make = [&](TokenKind kind, std::size_t end) {
    return Token{kind, Span{pos, end}, m_source.substr(pos, end - pos)};
  };
  if (pos >= n)
    return make(TokenKind::end_of_input, n);
  char c = m_source[pos];
  if (c == '\n')
    return make(TokenKind::newline, pos + 1);
  if (c == '\r')
    return make(TokenKind::newline, pos + 2); // skip_trivia guarantees "\r\n"
  if (c == '"')
    return make(TokenKind::open_quote, pos + 1);
  if (c == '/' && pos + 1 < n && m_source[pos + 1] == '*')
    return make(TokenKind::invalid, pos + 2); // unterminated block comment
  if (is_identifier_start(c)) {
    std::size_t end = pos + 1;
    while (end < n && is_identifier_part(m_source[end]))
      ++end;
    return make(TokenKind::identifier, end);
  }
  if (is_digit(c)) {
    std::size_t end = pos;
    while (end < n && is_digit(m_source[end]))
      ++end;
    if (end + 1 < n && m_source[end] == '.' && is_digit(m_source[end + 1])) {
      ++end;
      while (end < n && is_digit(m_source[end]))
        ++end;
    }
    if (end < n && (m_source[end] == 'e' || m_source[end] == 'E')) {
      std::size_t exp = end + 1;
      if (exp < n && (m_source[exp] == '+' || m_source[exp] == '-'))
        ++exp;
      if (exp < n && is_digit(m_source[exp])) {
        end = exp;
        while (end < n && is_digit(m_source[end]))
          ++end;
      }
    }
    return make(TokenKind::number, end);
  }
  // Heredoc opener: << or <<- then an identifier then a line ending.
  if (m_source.substr(pos, 2) == "<<") {
    std::size_t p = pos + 2;
    if (p < n && m_source[p] == '-')
      ++p;
    if (p < n && is_identifier_start(m_source[p])) {
      while (p < n && is_identifier_part(m_source[p]))
        ++p;
      if (p < n && m_source[p] == '\n')
        return make(TokenKind::open_heredoc, p + 1);
      if (p + 1 < n && m_source[p] == '\r' && m_source[p + 1] == '\n')
        return make(TokenKind::open_heredoc, p + 2);
    }
  }
  for (std::string_view op : k_long_operators)
    if (m_source.substr(pos, op.size()) == op)
      return make(TokenKind::punctuation, pos + op.size());
  if (k_short_operators.find(c) != std::string_view::npos)
    return make(TokenKind::punctuation, pos + 1);
  return make(TokenKind::invalid, pos + 1);
}

} // namespace coder_dns_doctor::patch::hcl
