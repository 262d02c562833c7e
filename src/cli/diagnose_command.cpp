// `diagnose`: one cycle, a report on stdout, the verdict as the exit status.
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/doctor/checkup.hpp>
#include <coder_dns_doctor/report/report.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <sys/ioctl.h>
#include <unistd.h>

namespace coder_dns_doctor::cli {
namespace {

constexpr std::size_t k_default_width = 100;

struct TextFlags {
  bool wide = false;  // --wide: full cells
  bool quiet = false; // --quiet: verdict and findings only
};

enum class OutputFormat { text, json };

OutputFormat choose_format(const std::string& output) {
  if (output == "json")
    return OutputFormat::json;
  if (output == "text")
    return OutputFormat::text;
  if (output == "auto")
    return isatty(STDOUT_FILENO) != 0 ? OutputFormat::text : OutputFormat::json;
  throw core::UsageError(fmt::format("--output '{}': expected text or json", output));
}

// True when DNS checks ran and not one server answered anything: the check itself could not run.
bool no_resolver_reachable(const probe::Plan& plan, const probe::Observations& observations) {
  if (!plan.checks.dns || observations.dns.empty())
    return false;
  return std::none_of(observations.dns.begin(), observations.dns.end(),
                      [](const probe::DnsObservation& o) { return o.responded; });
}

// The width text is fitted to: COLUMNS when set (what shells export), else the terminal's, else
// 100 (piped output: a log or a pager).
std::size_t output_width() {
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    char* end = nullptr;
    long value = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && value >= 20 && value <= 1000)
      return static_cast<std::size_t>(value);
  }
  winsize size{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
    return size.ws_col;
  return k_default_width;
}

core::ExitStatus run_diagnose(const ProbeOptions& options, const std::string& output, const TextFlags& text) {
  OutputFormat format = choose_format(output);
  doctor::Settings settings = make_settings(options);
  report::Report report = doctor::run_checkup(settings);

  if (format == OutputFormat::json) {
    fmt::print("{}\n", report::to_json(report).dump(2));
  } else {
    bool colour = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
    report::TextOptions fitted{.colour = colour ? report::Colour::yes : report::Colour::no,
                               .width = text.wide ? 0 : output_width(),
                               .quiet = text.quiet};
    fmt::print("{}", report::to_text(report, fitted));
  }
  if (no_resolver_reachable(settings.plan, report.observations)) {
    fmt::print(stderr, "coder-dns-doctor: no resolver answered any lookup; the check could not run\n");
    return core::ExitStatus::cannot_run;
  }
  return report.verdict == analysis::Verdict::broken ? core::ExitStatus::findings : core::ExitStatus::ok;
}

} // namespace

Action register_diagnose(CLI::App& parent) {
  CLI::App* command = parent.add_subcommand(
      "diagnose", "Resolve the Coder URLs through every resolver, compare with the truth, check /healthz, report");
  auto options = std::make_shared<ProbeOptions>();
  auto output = std::make_shared<std::string>("auto");
  auto text = std::make_shared<TextFlags>();
  add_probe_options(*command, *options);
  command->add_option("--output", *output, "text | json (default: text on a terminal, json otherwise)");
  command->add_flag("--wide", text->wide,
                    "Text: print every cell in full instead of fitting the terminal width (COLUMNS, else the "
                    "terminal's, else 100)");
  command->add_flag("--quiet", text->quiet, "Text: print only the verdict and the findings");
  command->add_option("--hold", options->hold,
                      "Keep one DERP WebSocket per path open this long (e.g. 90s), reading keepalives, and report "
                      "paths that close it early (default: off)");
  return [options, output, text] { return run_diagnose(*options, *output, *text); };
}

} // namespace coder_dns_doctor::cli
