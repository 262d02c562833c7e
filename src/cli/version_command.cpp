// `version` / `--version`: what was built, from which revision, against which libraries.
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/core/version.hpp>
#include <coder_dns_doctor/probe/libraries.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace coder_dns_doctor::cli {

std::string_view version() {
  return CDD_VERSION;
}
std::string_view revision() {
  return CDD_GIT_REVISION;
}

Action register_version(CLI::App& parent) {
  parent.add_subcommand("version", "Print version, git revision and library versions");
  return [] {
    fmt::print("coder-dns-doctor {} (revision {})\n{}\n", version(), revision(), probe::library_versions());
    return core::ExitStatus::ok;
  };
}

} // namespace coder_dns_doctor::cli
