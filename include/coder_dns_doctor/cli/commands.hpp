// The subcommands. Each registers its options on the parent app and returns the action to run
// once parsing succeeded; the action returns an exit status (core::ExitStatus).
#pragma once

#include <coder_dns_doctor/core/exit_status.hpp>

#include <functional>

namespace CLI {
class App;
}

namespace coder_dns_doctor::cli {

using Action = std::function<core::ExitStatus()>;

Action register_diagnose(CLI::App& parent);
Action register_patch(CLI::App& parent);
Action register_rollout(CLI::App& parent);
Action register_serve(CLI::App& parent);
Action register_sidecar(CLI::App& parent);
Action register_version(CLI::App& parent);

} // namespace coder_dns_doctor::cli
