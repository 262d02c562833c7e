// Layer 9 (cli; the top: everything else is below it; see README "Layers").
// Command-line entry: parse argv, dispatch to a subcommand, map failures to exit statuses.
#pragma once

#include <coder_dns_doctor/core/exit_status.hpp>

namespace coder_dns_doctor::cli {

// Run the program for `argv`; return the process exit status (core::ExitStatus as an int).
int run(int argc, char** argv);

} // namespace coder_dns_doctor::cli
