// Durations as users type them: `500ms`, `2s`, `1m`, `1h`.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

// Parse `text` as a positive integer or decimal followed by `ms`, `s`, `m` or `h`.
// Return a message naming what was expected on failure.
[[nodiscard]] std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

// Format `duration` the way parse_duration reads it (`1500ms`, `2s`, `1m`).
[[nodiscard]] std::string format_duration(std::chrono::milliseconds duration);

} // namespace coder_dns_doctor::util
