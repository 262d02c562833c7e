// Layer 0 (core). The one exception type of the program, for bad configuration only: thrown while
// settings are built, caught once in cli::run, printed as one line, exit status `usage` (2).
// Failures of the world are never exceptions (README "Error conventions").
#pragma once

#include <stdexcept>
#include <string>

namespace coder_dns_doctor::core {

// Throw with a one-line message naming the bad input and what was expected.
class UsageError : public std::runtime_error {
public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace coder_dns_doctor::core
