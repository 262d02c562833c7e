// The one exception type for bad configuration: caught once in cli::run, printed, exit 2.
#pragma once

#include <stdexcept>
#include <string>

namespace coder_dns_doctor::cli {

// Throw with a one-line message naming the bad input and what was expected.
class UsageError : public std::runtime_error {
public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace coder_dns_doctor::cli
