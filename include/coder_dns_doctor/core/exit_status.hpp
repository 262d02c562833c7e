// Layer 0 (core): the vocabulary every module may use and that uses nothing of the program.
// This header: the process exit statuses shared by every subcommand (CONTRACTS.md).
#pragma once

namespace coder_dns_doctor::core {

enum class ExitStatus : int {
  ok = 0,         // healthy / done / nothing to do
  findings = 1,   // at least one error finding, or `patch --check` found changes
  usage = 2,      // usage or configuration error, or unexpected patch input
  cannot_run = 3, // the check itself could not run
};

[[nodiscard]] constexpr int to_int(ExitStatus status) {
  return static_cast<int>(status);
}

} // namespace coder_dns_doctor::core
