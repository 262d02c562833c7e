// `patch`: placeholder until the patch pipeline lands (see src/patch/).
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace coder_dns_doctor::cli {

Action register_patch(CLI::App& parent) {
  parent.add_subcommand("patch", "Apply the ConfigMap + Terraform template fix to a GitOps checkout");
  return [] {
    fmt::print(stderr, "coder-dns-doctor: patch is not built yet\n");
    return static_cast<int>(k_exit_cannot_run);
  };
}

} // namespace coder_dns_doctor::cli
