#include <coder_dns_doctor/util/duration.hpp>

#include <fmt/core.h>

#include <charconv>
#include <cmath>

namespace coder_dns_doctor::util {

std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  auto fail = [&] {
    return std::unexpected(
        fmt::format("'{}' is not a duration (expected a number and a unit: 500ms, 2s, 1m, 1h)", text));
  };
  std::size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0 || unit_at == text.size())
    return fail();
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (error != std::errc{} || end != text.data() + unit_at || !std::isfinite(value))
    return fail();
  std::string_view unit = text.substr(unit_at);
  double scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else
    return fail();
  double millis = value * scale;
  if (millis <= 0 || millis > 7 * 24 * 3'600'000.0)
    return std::unexpected(fmt::format("'{}' is out of range (expected more than 0 and at most a week)", text));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(millis)));
}

std::string format_duration(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms % 3'600'000 == 0)
    return fmt::format("{}h", ms / 3'600'000);
  if (ms % 60'000 == 0)
    return fmt::format("{}m", ms / 60'000);
  if (ms % 1000 == 0)
    return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

} // namespace coder_dns_doctor::util
