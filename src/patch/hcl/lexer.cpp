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

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Multi-byte operators first, so the longest match wins.
constexpr std::array<std::string_view, 10> k_long_operators = {
    "...", "=>", "==", "!=", "<=", ">=", "&&", "||", "::", "<<"};
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
      while (pos < n && m_source[pos] != '\n' && !(m_source[pos] == '\r' && pos + 1 < n && m_source[pos + 1] == '\n'))
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

namespace {

// Return the end of the digits starting at `pos` in `source`.
std::size_t digits_end(std::string_view source, std::size_t pos) {
  while (pos < source.size() && is_digit(source[pos]))
    ++pos;
  return pos;
}

// Return the end of the number literal starting at `pos` (a digit): digits, an optional fraction
// (only when a digit follows the '.') and an optional exponent (only when it has digits).
std::size_t number_end(std::string_view source, std::size_t pos) {
  const std::size_t n = source.size();
  std::size_t end = digits_end(source, pos);
  if (end + 1 < n && source[end] == '.' && is_digit(source[end + 1]))
    end = digits_end(source, end + 1);
  if (end < n && (source[end] == 'e' || source[end] == 'E')) {
    std::size_t exp = end + 1;
    if (exp < n && (source[exp] == '+' || source[exp] == '-'))
      ++exp;
    if (exp < n && is_digit(source[exp]))
      end = digits_end(source, exp);
  }
  return end;
}

// Return the end of a heredoc opener at `pos` (`<<` or `<<-`, an identifier, then "\n" or
// "\r\n", which the token includes), or npos when there is none.
std::size_t heredoc_opener_end(std::string_view source, std::size_t pos) {
  const std::size_t n = source.size();
  if (source.substr(pos, 2) != "<<")
    return std::string_view::npos;
  std::size_t p = pos + 2;
  if (p < n && source[p] == '-')
    ++p;
  if (p >= n || !is_identifier_start(source[p]))
    return std::string_view::npos;
  while (p < n && is_identifier_part(source[p]))
    ++p;
  if (p < n && source[p] == '\n')
    return p + 1;
  if (p + 1 < n && source[p] == '\r' && source[p + 1] == '\n')
    return p + 2;
  return std::string_view::npos;
}

// Return the end of the operator at `pos`, longest match first, or npos when there is none.
std::size_t operator_end(std::string_view source, std::size_t pos) {
  for (std::string_view op : k_long_operators)
    if (source.substr(pos, op.size()) == op)
      return pos + op.size();
  if (k_short_operators.find(source[pos]) != std::string_view::npos)
    return pos + 1;
  return std::string_view::npos;
}

} // namespace

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
  if (is_digit(c))
    return make(TokenKind::number, number_end(m_source, pos));
  if (std::size_t end = heredoc_opener_end(m_source, pos); end != std::string_view::npos)
    return make(TokenKind::open_heredoc, end);
  if (std::size_t end = operator_end(m_source, pos); end != std::string_view::npos)
    return make(TokenKind::punctuation, end);
  return make(TokenKind::invalid, pos + 1);
}

} // namespace coder_dns_doctor::patch::hcl
