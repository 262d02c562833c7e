#include <coder_dns_doctor/daemon/log.hpp>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>

namespace coder_dns_doctor::daemon {
namespace {

// A value quoted only when a reader could misparse it (spaces, quotes, `=`, empty).
std::string text_value(const nlohmann::json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  bool plain = !text.empty() && text.find_first_of(" \t\"=\n") == std::string::npos;
  return plain ? text : nlohmann::json(text).dump();
}

std::string now_rfc3339() {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

} // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug")
    return LogLevel::debug;
  if (text == "info")
    return LogLevel::info;
  if (text == "warn" || text == "warning")
    return LogLevel::warn;
  if (text == "error")
    return LogLevel::error;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text")
    return LogFormat::text;
  if (text == "json")
    return LogFormat::json;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
  case LogLevel::debug: return "debug";
  case LogLevel::info: return "info";
  case LogLevel::warn: return "warn";
  case LogLevel::error: return "error";
  }
  return "info";
}

std::string format_line(LogFormat format, std::string_view time, LogLevel level, std::string_view message,
                        const nlohmann::json& fields) {
  if (format == LogFormat::json) {
    nlohmann::json line{{"time", time}, {"level", to_string(level)}, {"msg", message}};
    for (const auto& [key, value] : fields.items())
      line[key] = value;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = fmt::format("{} {:<5} {}", time, to_string(level), message);
  for (const auto& [key, value] : fields.items())
    line += fmt::format(" {}={}", key, text_value(value));
  return line;
}

void Logger::configure(LogLevel level, LogFormat format) {
  m_level = level;
  m_format = format;
}

void Logger::log(LogLevel level, std::string_view message, const nlohmann::json& fields) {
  if (!enabled(level))
    return;
  std::string line = format_line(m_format.load(), now_rfc3339(), level, message, fields);
  std::lock_guard lock(m_mutex);
  std::fputs(line.c_str(), m_out);
  std::fputc('\n', m_out);
  std::fflush(m_out);
}

} // namespace coder_dns_doctor::daemon
