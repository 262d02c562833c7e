// The subcommands. Each registers its options on the parent app and returns the action to run
// once parsing succeeded; the action returns an exit status (cli::ExitStatus).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace coder_dns_doctor::cli {

using Action = std::function<int()>;

Action register_diagnose(CLI::App& parent);
Action register_patch(CLI::App& parent);
Action register_serve(CLI::App& parent);
Action register_sidecar(CLI::App& parent);
Action register_version(CLI::App& parent);

} // namespace coder_dns_doctor::cli
