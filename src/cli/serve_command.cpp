// `serve` and `sidecar`: placeholders until the daemon lands (see src/daemon/).
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace coder_dns_doctor::cli {

Action register_serve(CLI::App& parent) {
  parent.add_subcommand("serve", "Run the checks every --interval and export Prometheus metrics");
  return [] {
    fmt::print(stderr, "coder-dns-doctor: serve is not built yet\n");
    return static_cast<int>(k_exit_cannot_run);
  };
}

Action register_sidecar(CLI::App& parent) {
  parent.add_subcommand("sidecar", "serve preset for a workspace pod: checks the agent's own URL");
  return [] {
    fmt::print(stderr, "coder-dns-doctor: sidecar is not built yet\n");
    return static_cast<int>(k_exit_cannot_run);
  };
}

} // namespace coder_dns_doctor::cli
