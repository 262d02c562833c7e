// Structured log lines on stderr for the daemon: `text` (time level message key=value...) or
// `json` (one object per line). Safe to call from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::daemon {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { text, json };

[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text);
[[nodiscard]] std::optional<LogFormat> parse_log_format(std::string_view text);
[[nodiscard]] std::string_view to_string(LogLevel level);

class Logger {
public:
  explicit Logger(std::FILE* out = stderr) : m_out(out) {}

  // Change level and format (a config reload may).
  void configure(LogLevel level, LogFormat format);

  // Whether a line at `level` would be written: a caller skips building fields nobody reads.
  [[nodiscard]] bool enabled(LogLevel level) const { return level >= m_level.load(std::memory_order_relaxed); }

  // Write `message` with `fields` (a JSON object of scalars) when `level` is enabled.
  void log(LogLevel level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());
  void debug(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::debug, message, fields);
  }
  void info(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::info, message, fields);
  }
  void warn(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::warn, message, fields);
  }
  void error(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::error, message, fields);
  }

private:
  std::FILE* m_out;
  std::mutex m_mutex;
  std::atomic<LogLevel> m_level{LogLevel::info};
  std::atomic<LogFormat> m_format{LogFormat::text};
};

// Render one line (without newline) as `format` would write it; exposed for tests.
[[nodiscard]] std::string format_line(LogFormat format, std::string_view time, LogLevel level, std::string_view message,
                                      const nlohmann::json& fields);

} // namespace coder_dns_doctor::daemon
