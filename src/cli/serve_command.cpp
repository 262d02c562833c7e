// `serve` and `sidecar`: the daemon's options, the config file layers behind them
// (flag > env > file > default), --show-config, and the reload that SIGHUP triggers.
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/config/layers.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/daemon/http_server.hpp>
#include <coder_dns_doctor/daemon/service.hpp>
#include <coder_dns_doctor/util/duration.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace coder_dns_doctor::cli {
namespace {

// What differs between `serve` and its `sidecar` preset.
struct Preset {
  std::string_view name;
  std::string_view description;
  std::string listen;
  std::string interval;
  std::string kube;
  bool sidecar = false;
};

const Preset k_serve{.name = "serve",
                     .description = "Run the checks every --interval, export Prometheus metrics and serve /metrics, "
                                    "/healthz, /readyz, /report, the status page / and /runbook",
                     .listen = "0.0.0.0:9816",
                     .interval = "30s",
                     .kube = "auto"};
const Preset k_sidecar{.name = "sidecar",
                       .description = "serve preset for a workspace pod: check the agent's URL (CODER_AGENT_URL) "
                                      "through the pod's own resolv.conf",
                       .listen = "127.0.0.1:9816",
                       .interval = "60s",
                       .kube = "off",
                       .sidecar = true};

// Options that only make sense on the command line, never in the config file.
const std::set<std::string> k_command_line_only{"config", "show-config", "test-stall-cycle"};

// The daemon's own options, as typed; build() validates them.
struct DaemonFlags {
  std::string listen;
  std::string interval;
  std::string jitter;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string agent_url; // sidecar only
  std::string hold_connections = "on";
  std::string hold_min = "75s";
  std::string runbook_url = "/runbook";
  std::string report = "on";
  // full for both presets: CONTRACTS.md promises serve's and sidecar's families; a workspace
  // template opts its sidecars into minimal (examples/terraform-sidecar does).
  std::string metrics = "full";
};

ProbeOptions probe_defaults(const Preset& preset) {
  ProbeOptions options;
  options.kube = preset.kube;
  return options;
}

DaemonFlags daemon_defaults(const Preset& preset) {
  DaemonFlags flags;
  flags.listen = preset.listen;
  flags.interval = preset.interval;
  return flags;
}

void add_daemon_options(CLI::App& command, DaemonFlags& flags, const Preset& preset) {
  command.add_option("--listen", flags.listen, "IP:PORT of the one HTTP listener (port 0: any free port)")
      ->capture_default_str();
  command.add_option("--interval", flags.interval, "Time between cycle starts: 500ms, 30s, 1m")->capture_default_str();
  command.add_option("--jitter", flags.jitter,
                     "Random extra wait per cycle, at most this; 0 for none (default: interval/10)");
  command.add_option("--log-format", flags.log_format, "Logs on stderr: text | json")->capture_default_str();
  command.add_option("--log-level", flags.log_level, "debug | info | warn | error")->capture_default_str();
  command
      .add_option("--hold-connections", flags.hold_connections,
                  "Keep one DERP WebSocket per path open and count its closes: on | off")
      ->capture_default_str();
  command
      .add_option("--hold-min", flags.hold_min,
                  "A held connection closed sooner is closed_early; repeated, TRANSPORT_CUT_BY_PROXY")
      ->capture_default_str();
  command
      .add_option("--runbook-url", flags.runbook_url,
                  "Base of the runbook the status page links each finding to (<base>#<anchor>): the daemon's own "
                  "/runbook, or an http(s) URL such as an internal wiki's copy of docs/runbook.md")
      ->capture_default_str();
  command
      .add_option("--report", flags.report,
                  "Serve the topology, /report and the status page at /: on | off (off: only /metrics, /healthz, "
                  "/readyz and /runbook carry data)")
      ->capture_default_str();
  command
      .add_option("--metrics", flags.metrics,
                  "What /metrics exposes: full (every family) | minimal (what the alerts read: verdict, findings, "
                  "each path's lookup, match and health; no histograms)")
      ->capture_default_str();
  if (preset.sidecar)
    command.add_option("--agent-url", flags.agent_url,
                       "The URL the workspace agent dials (default: $CODER_AGENT_URL); checked as the external URL");
}

// Check a --runbook-url: a path on this daemon (`/runbook`) or an absolute http(s) URL, printable
// ASCII without spaces and without a fragment (the page appends `#<anchor>`).
std::string runbook_url_option(const std::string& value) {
  auto fail = [&](std::string_view why) { return core::UsageError(fmt::format("--runbook-url '{}': {}", value, why)); };
  if (!std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < '\x7f'; }))
    throw fail("expected printable ASCII without spaces");
  if (value.find('#') != std::string::npos)
    throw fail("expected no '#': the page adds #<anchor> for each finding");
  bool local = value.starts_with('/') && !value.starts_with("//");
  bool absolute = value.starts_with("https://") || value.starts_with("http://");
  if (!local && !absolute)
    throw fail("expected a path on this daemon (/runbook) or an http:// or https:// URL");
  return value;
}

// True when Kubernetes can supply the external URL, so its absence is not an error yet.
bool kube_may_discover(const std::string& mode) {
  if (mode == "off")
    return false;
  if (mode == "auto")
    return std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  return true;
}

// Turn the merged option layers into a RunConfig: parse them with a fresh parser (the same option
// definitions, no environment), then validate. Throws core::UsageError naming the bad option.
daemon::RunConfig build(const Preset& preset, const config::Layer& merged, const config::Schema& schema) {
  CLI::App parser{"", std::string(preset.name)};
  ProbeOptions probe = probe_defaults(preset);
  DaemonFlags flags = daemon_defaults(preset);
  add_probe_options(parser, probe);
  add_daemon_options(parser, flags, preset);
  std::vector<std::string> arguments = config::to_arguments(merged, schema);
  std::reverse(arguments.begin(), arguments.end()); // CLI11 consumes a reversed vector
  try {
    parser.parse(arguments);
  } catch (const CLI::ParseError& error) {
    std::string message = error.what();
    throw core::UsageError(message.substr(0, message.find('\n')));
  }

  if (preset.sidecar) {
    if (flags.agent_url.empty())
      throw core::UsageError("--agent-url is required (or CODER_AGENT_URL, as the workspace agent has it)");
    if (!probe.external_url.empty() && probe.external_url != flags.agent_url)
      throw core::UsageError(
          fmt::format("--external-url '{}' and --agent-url '{}' differ: the sidecar checks the agent's "
                      "URL, give only --agent-url",
                      probe.external_url, flags.agent_url));
    probe.external_url = flags.agent_url;
  }
  if (probe.external_url.empty() && !kube_may_discover(probe.kube))
    throw core::UsageError(
        "--external-url is required (expected the Coder access URL, e.g. https://coder.example.com)");

  daemon::RunConfig config{.settings = make_settings(probe), .daemon = {}};
  daemon::DaemonOptions& d = config.daemon;
  d.listen = flags.listen;
  if (auto listen = daemon::parse_listen(flags.listen); !listen)
    throw core::UsageError(listen.error());
  d.interval = parse_duration_option("--interval", flags.interval);
  if (d.interval < std::chrono::milliseconds(100))
    throw core::UsageError(fmt::format("--interval '{}': expected at least 100ms", flags.interval));
  if (d.interval < config.settings.plan.timeout)
    throw core::UsageError(
        fmt::format("--interval '{}' is shorter than --timeout '{}': a cycle must fit in an interval", flags.interval,
                    util::format_duration(config.settings.plan.timeout)));
  if (flags.jitter.empty())
    d.jitter = d.interval / 10;
  else if (flags.jitter == "0" || flags.jitter == "0s" || flags.jitter == "0ms")
    d.jitter = std::chrono::milliseconds(0);
  else
    d.jitter = parse_duration_option("--jitter", flags.jitter);
  if (d.jitter > d.interval)
    throw core::UsageError(fmt::format("--jitter '{}': expected at most --interval", flags.jitter));
  auto level = daemon::parse_log_level(flags.log_level);
  if (!level)
    throw core::UsageError(fmt::format("--log-level '{}': expected debug, info, warn or error", flags.log_level));
  auto format = daemon::parse_log_format(flags.log_format);
  if (!format)
    throw core::UsageError(fmt::format("--log-format '{}': expected text or json", flags.log_format));
  if (flags.hold_connections != "on" && flags.hold_connections != "off")
    throw core::UsageError(fmt::format("--hold-connections '{}': expected on or off", flags.hold_connections));
  d.hold_connections = flags.hold_connections == "on";
  d.hold_min = parse_duration_option("--hold-min", flags.hold_min);
  if (d.hold_min < std::chrono::seconds(1))
    throw core::UsageError(fmt::format("--hold-min '{}': expected at least 1s", flags.hold_min));
  d.runbook_url = runbook_url_option(flags.runbook_url);
  if (flags.report != "on" && flags.report != "off")
    throw core::UsageError(fmt::format("--report '{}': expected on or off", flags.report));
  d.serve_report = flags.report == "on";
  auto metrics = daemon::parse_metric_set(flags.metrics);
  if (!metrics)
    throw core::UsageError(fmt::format("--metrics '{}': expected minimal or full", flags.metrics));
  d.metrics = *metrics;
  d.log_level = *level;
  d.log_format = *format;
  return config;
}

// One registered command (serve or sidecar): its parsed command line and how to load its config.
struct Command {
  Preset preset;
  CLI::App* app = nullptr;
  ProbeOptions probe;
  DaemonFlags flags;
  std::string config_path;
  bool show_config = false;
  int test_stall_cycle = 0;

  // Merge default < file < (env, flag) into one layer; the file is read again on every call.
  std::expected<config::Layer, std::string> merged_layers(const config::Schema& schema,
                                                          const config::Layer& command_line) const {
    config::Layer file;
    if (!config_path.empty()) {
      auto read = config::read_file(config_path, schema);
      if (!read)
        return std::unexpected(read.error());
      file = std::move(*read);
    }
    config::Layer merged = config::merge(std::move(file), command_line);
    const char* agent_url = std::getenv("CODER_AGENT_URL");
    if (preset.sidecar && !merged.contains("agent-url") && agent_url != nullptr && *agent_url != '\0')
      merged["agent-url"] = {.values = {agent_url}, .source = config::Source::env, .origin = "CODER_AGENT_URL"};
    return merged;
  }

  core::ExitStatus run() const {
    const config::Schema schema = config::schema_of(*app, k_command_line_only);
    const config::Layer command_line = config::command_line_layer(*app, k_command_line_only);
    auto load = [this, schema, command_line]() -> std::expected<daemon::RunConfig, std::string> {
      auto merged = merged_layers(schema, command_line);
      if (!merged)
        return std::unexpected(merged.error());
      try {
        daemon::RunConfig config = build(preset, *merged, schema);
        config.daemon.test_stall_cycle = test_stall_cycle;
        return config;
      } catch (const core::UsageError& error) {
        return std::unexpected(config::with_origins(error.what(), *merged));
      } catch (const std::exception& error) { // a reload must never take the daemon down
        return std::unexpected(fmt::format("cannot use this configuration: {}", error.what()));
      }
    };

    if (show_config) {
      auto merged = merged_layers(schema, command_line);
      if (!merged)
        throw core::UsageError(merged.error());
      fmt::print("{}", config::render(*merged, schema));
      auto loaded = load();
      if (!loaded)
        throw core::UsageError(loaded.error());
      return core::ExitStatus::ok;
    }
    auto initial = load();
    if (!initial)
      throw core::UsageError(initial.error());
    daemon::Logger logger;
    return daemon::serve(std::move(*initial), load, logger);
  }
};

Action register_daemon(CLI::App& parent, const Preset& preset) {
  CLI::App* app = parent.add_subcommand(std::string(preset.name), std::string(preset.description));
  auto command = std::make_shared<Command>();
  command->preset = preset;
  command->app = app;
  command->probe = probe_defaults(preset);
  command->flags = daemon_defaults(preset);
  add_probe_options(*app, command->probe);
  add_daemon_options(*app, command->flags, preset);
  app->add_option("--config", command->config_path,
                  "YAML file of options (keys are the long option names); flags and env win over it; SIGHUP "
                  "re-reads it");
  app->add_flag("--show-config", command->show_config, "Print every option's value and where it came from, then exit");
  app->add_option("--test-stall-cycle", command->test_stall_cycle,
                  "TEST ONLY: cycle N blocks until shutdown, so /healthz turns 503")
      ->group(""); // hidden from --help
  return [command] { return command->run(); };
}

} // namespace

Action register_serve(CLI::App& parent) {
  return register_daemon(parent, k_serve);
}

Action register_sidecar(CLI::App& parent) {
  return register_daemon(parent, k_sidecar);
}

} // namespace coder_dns_doctor::cli
