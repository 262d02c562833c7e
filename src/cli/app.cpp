// Subcommand table, environment-variable binding and the single place exceptions become statuses.
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/probe/libraries.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <string>
#include <string_view>

namespace coder_dns_doctor::cli {
namespace {

constexpr const char* k_env_prefix = "CODER_DNS_DOCTOR_";

// Bind every long option of `app` (and its subcommands) to CODER_DNS_DOCTOR_<OPTION>, so
// flags beat the environment, which beats defaults (CLI11 reads env only when the flag is absent).
void bind_environment(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const auto& names = option->get_lnames();
    if (names.empty() || names.front() == "help" || names.front() == "version")
      continue;
    std::string env = k_env_prefix;
    for (char c : names.front())
      env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    option->envname(env);
  }
  for (CLI::App* sub : app.get_subcommands({}))
    bind_environment(*sub);
}

// Every subcommand, by the name it registers (checked when it is added).
struct Command {
  std::string_view name;
  Action (*add)(CLI::App& parent);
};
constexpr std::array k_commands{
    Command{"diagnose", register_diagnose}, Command{"serve", register_serve},     Command{"sidecar", register_sidecar},
    Command{"patch", register_patch},       Command{"rollout", register_rollout}, Command{"version", register_version},
};

// Return the first line of a CLI11 message: usage errors are one line (CONTRACTS.md).
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

} // namespace

int run(int argc, char** argv) {
  auto libraries = probe::Libraries::start(); // global c-ares/libcurl state, before any handle exists
  if (!libraries) {
    fmt::print(stderr, "coder-dns-doctor: {}\n", libraries.error());
    return core::to_int(core::ExitStatus::cannot_run);
  }
  CLI::App app{"coder-dns-doctor: find and fix split-horizon DNS that disconnects Coder agents", "coder-dns-doctor"};
  app.require_subcommand(1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print version, revision and library versions");

  // Only the command named first is built when one is: building every command's options and
  // their environment bindings is a measurable share of start-up and of the daemon's heap (README
  // "Performance"). Anything else (`--help`, `--version`, a typo) builds all, for help and errors.
  const bool one_named =
      argc >= 2 && std::ranges::any_of(k_commands, [&](const Command& c) { return c.name == argv[1]; });
  std::map<const CLI::App*, Action> actions;
  for (const Command& command : k_commands) {
    if (one_named && command.name != argv[1])
      continue;
    auto count_before = app.get_subcommands({}).size();
    Action action = command.add(app);
    CLI::App* added = app.get_subcommands({}).at(count_before);
    if (added->get_name() != command.name) { // a bug in the table above, never the user's input
      fmt::print(stderr, "coder-dns-doctor: internal error: the command table names {}, which registers {}\n",
                 command.name, added->get_name());
      return core::to_int(core::ExitStatus::cannot_run);
    }
    actions[added] = std::move(action);
  }
  bind_environment(app);

  try {
    // `--version` alone is allowed without a subcommand.
    if (argc == 2 && std::string(argv[1]) == "--version")
      return core::to_int(actions.at(app.get_subcommand("version"))());
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    fmt::print("{}", app.help());
    return core::to_int(core::ExitStatus::ok);
  } catch (const CLI::CallForAllHelp&) {
    fmt::print("{}", app.help("", CLI::AppFormatMode::All));
    return core::to_int(core::ExitStatus::ok);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {
      app.exit(error);
      return core::to_int(core::ExitStatus::ok);
    }
    fmt::print(stderr, "coder-dns-doctor: {}\n", first_line(error.what()));
    return core::to_int(core::ExitStatus::usage);
  } catch (const core::UsageError& error) {
    fmt::print(stderr, "coder-dns-doctor: {}\n", error.what());
    return core::to_int(core::ExitStatus::usage);
  }

  try {
    for (const auto& [sub, action] : actions)
      if (sub->parsed())
        return core::to_int(action());
  } catch (const core::UsageError& error) {
    fmt::print(stderr, "coder-dns-doctor: {}\n", error.what());
    return core::to_int(core::ExitStatus::usage);
  } catch (const std::exception& error) {
    fmt::print(stderr, "coder-dns-doctor: internal error: {}\n", error.what());
    return core::to_int(core::ExitStatus::cannot_run);
  }
  return core::to_int(core::ExitStatus::usage);
}

} // namespace coder_dns_doctor::cli
