#include <coder_dns_doctor/util/bounded_read.hpp>
#include <coder_dns_doctor/util/secret.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::util {
namespace {
constexpr std::size_t k_max_token_bytes = 64 * 1024;
} // namespace

void wipe(std::string& secret) {
  // volatile: the stores must not be dropped as dead before the release
  volatile char* bytes = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i)
    bytes[i] = '\0';
  secret.clear();
}

std::expected<std::string, std::string> read_token_file(const std::string& path, std::string_view what) {
  auto read = read_bounded(path, k_max_token_bytes);
  if (!read) {
    if (read.error().problem == FileProblem::too_large)
      return std::unexpected(fmt::format("the {} {} is larger than {} bytes", what, path, k_max_token_bytes));
    return std::unexpected(fmt::format("cannot read the {}: {}", what, read.error().message));
  }
  std::string token = std::move(*read);
  std::string_view trimmed = trim(token);
  std::string problem;
  if (trimmed.empty())
    problem = fmt::format("the {} {} is empty", what, path);
  else if (std::any_of(trimmed.begin(), trimmed.end(),
                       [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; }))
    problem = fmt::format("the {} {} holds control characters", what, path);
  std::string result = problem.empty() ? std::string(trimmed) : std::string();
  wipe(token);
  if (!problem.empty())
    return std::unexpected(problem);
  return result;
}

std::string one_line(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text)
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > limit)
    out = out.substr(0, limit) + "...";
  return out;
}

} // namespace coder_dns_doctor::util
