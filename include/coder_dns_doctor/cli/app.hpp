// Command-line entry: parse argv, dispatch to a subcommand, map failures to exit statuses.
#pragma once

namespace coder_dns_doctor::cli {

// Exit statuses shared by every subcommand (CONTRACTS.md).
enum ExitStatus : int {
  k_exit_ok = 0,          // healthy / done / nothing to do
  k_exit_findings = 1,    // at least one error finding, or `patch --check` found changes
  k_exit_usage = 2,       // usage or configuration error, or unexpected patch input
  k_exit_cannot_run = 3,  // the check itself could not run
};

// Run the program for `argv`; return the process exit status.
int run(int argc, char** argv);

} // namespace coder_dns_doctor::cli
