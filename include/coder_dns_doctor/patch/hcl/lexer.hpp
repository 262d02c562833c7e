// HCL2 native-syntax lexer for the normal (non-template) mode: tokens with byte spans.
#pragma once

#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include <string_view>

namespace coder_dns_doctor::patch::hcl {

enum class TokenKind {
  identifier,
  number,
  punctuation,  // operators and brackets; `text` is the operator
  newline,      // "\n" or "\r\n": significant in bodies and object constructors
  open_quote,   // `"`: the parser continues in quoted-template mode
  open_heredoc, // `<<EOT` or `<<-EOT` plus its line ending; the parser continues in heredoc mode
  end_of_input,
  invalid, // a byte that starts no token
};

struct Token {
  TokenKind kind = TokenKind::invalid;
  Span span;
  std::string_view text;
};

// Stateless scanner: the parser owns the position, so looking ahead is just scanning again.
class Lexer {
public:
  explicit Lexer(std::string_view source) : m_source(source) {}

  // Return the first position at or after `pos` that is not a space, tab or comment.
  // A line comment stops before its line ending, which stays a newline token.
  std::size_t skip_trivia(std::size_t pos) const;

  // Return the token that starts at the first non-trivia position at or after `pos`.
  Token scan(std::size_t pos) const;

  std::string_view source() const { return m_source; }

private:
  std::string_view m_source;
};

// Return whether `c` may start / continue an HCL identifier (UTF-8 bytes are accepted as letters).
bool is_identifier_start(char c);
bool is_identifier_part(char c);

} // namespace coder_dns_doctor::patch::hcl
