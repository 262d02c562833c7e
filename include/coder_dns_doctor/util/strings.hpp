// Layer 1 (util; below it only core; no DNS, Coder or library knowledge; see README "Layers").
// String helpers that know nothing of DNS or Coder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::util {

[[nodiscard]] std::string to_lower(std::string_view text);
[[nodiscard]] std::string_view trim(std::string_view text);
// Split `text` at every `separator`; empty pieces are kept so callers can reject them.
[[nodiscard]] std::vector<std::string> split(std::string_view text, char separator);
// Split at runs of spaces and tabs; no empty pieces.
[[nodiscard]] std::vector<std::string> split_whitespace(std::string_view text);
[[nodiscard]] std::string join(const std::vector<std::string>& pieces, std::string_view separator);

} // namespace coder_dns_doctor::util
