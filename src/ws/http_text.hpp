// Private to src/ws: the bits of HTTP/1.1 syntax both the request builder and the response
// parser need, so both sides agree on what a header name is.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace coder_dns_doctor::ws::detail {

// An HTTP token (RFC 9110 5.6.2: one or more tchar), as a field name must be.
inline bool is_token(std::string_view text) {
  constexpr std::string_view k_extra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x80 && std::isalnum(u)) || k_extra.find(c) != std::string_view::npos;
  });
}

} // namespace coder_dns_doctor::ws::detail
