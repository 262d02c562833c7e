// `rollout`: options → rollout::Options → rollout::run, with the progress printed as it goes and
// the summary (or one JSON document) at the end. The steps live in src/rollout/.
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/rollout/rollout.hpp>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ctime>
#include <memory>
#include <unistd.h>

namespace coder_dns_doctor::cli {
namespace {

struct RolloutSettings {
  std::string configmap = "coder/coder-workspace-config";
  std::string configmap_key = "coder_url";
  std::string flux_kustomization;
  std::string flux_branch;
  bool apply_configmap = false;
  bool force = false;
  bool dry_run = false;
  std::string wait_timeout = "5m";
  std::string poll_interval = "1s";
  std::string output = "text";
  std::string template_name;
  std::string template_dir;
  std::string coder_organization;
  bool no_template_push = false;
  bool restart_workspaces = false;
  std::size_t restart_concurrency = 2;
  bool no_final_check = false;
};

// Set by SIGINT/SIGTERM; every wait and request of the rollout looks at it.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int /*signal*/) {
  g_stop.store(true);
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM})
    sigaction(signal, &action, nullptr);
}

// Progress lines: timestamped lines, and on a terminal one redrawn "waiting" line; elsewhere a
// waiting line every k_plain_wait_every so a log shows the rollout is alive without flooding.
class PrintedProgress final : public rollout::Progress {
public:
  PrintedProgress(std::FILE* out, bool terminal) : m_out(out), m_terminal(terminal) {}
  ~PrintedProgress() override { clear(); }
  PrintedProgress(const PrintedProgress&) = delete;
  PrintedProgress& operator=(const PrintedProgress&) = delete;

  void line(std::string_view step, std::string_view text) override {
    clear();
    fmt::print(m_out, "{} {}: {}\n", clock(), step, text);
    std::fflush(m_out);
  }

  void waiting(std::string_view step, std::string_view what, std::chrono::milliseconds elapsed) override {
    auto seconds = elapsed.count() / 1000;
    if (m_terminal) {
      fmt::print(m_out, "\r\033[K{} {}: waiting for {} ({}s)", clock(), step, what, seconds);
      m_drawn = true;
    } else if (what != m_plain_what || elapsed < m_last_plain || elapsed - m_last_plain >= k_plain_wait_every) {
      fmt::print(m_out, "{} {}: waiting for {} ({}s)\n", clock(), step, what, seconds);
      m_plain_what = what;
      m_last_plain = elapsed;
    }
    std::fflush(m_out);
  }

private:
  static constexpr std::chrono::milliseconds k_plain_wait_every{10000};

  void clear() {
    if (m_drawn)
      fmt::print(m_out, "\r\033[K");
    m_drawn = false;
  }

  static std::string clock() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    return fmt::format("{:%H:%M:%S}", local);
  }

  std::FILE* m_out;
  bool m_terminal;
  bool m_drawn = false;
  std::string m_plain_what; // the wait the last plain waiting line was about
  std::chrono::milliseconds m_last_plain{0};
};

std::chrono::milliseconds positive_duration(const std::string& option, const std::string& text) {
  auto duration = parse_duration_option(option, text);
  if (duration.count() <= 0)
    throw core::UsageError(fmt::format("{} '{}': expected a positive duration such as 30s or 5m", option, text));
  return duration;
}

// The final check looks at the agents' path: the internal URL is the one they now dial, so it
// takes the external URL's place; no Kubernetes reads (the rollout already did its own).
doctor::Settings final_check_settings(ProbeOptions options) {
  options.external_url = options.internal_url;
  options.kube = "off";
  options.coder_token_file.clear(); // coderd's view of the agents is the workspaces step's
  options.coder_url.clear();
  if (options.checks.empty())
    options.checks = "dns,http,transport";
  return make_settings(options);
}

// The Coder side, when a token is given: coderd at --coder-url, else the internal URL (where the
// agents now go), with the probe's CA; a longer per-request bound than a probe's, for the upload.
std::optional<rollout::CoderOptions> coder_options(const ProbeOptions& probe_options, const RolloutSettings& settings,
                                                   const doctor::Settings& checked, const probe::Plan& agents_view) {
  if (settings.restart_concurrency == 0)
    throw core::UsageError("--restart-concurrency '0': expected a positive number of builds at once");
  if (checked.coder.token_file.empty()) {
    if (settings.restart_workspaces)
      throw core::UsageError("--restart-workspaces needs --coder-token-file (expected the file of a Coder session "
                             "token that may start the workspaces' builds)");
    return std::nullopt;
  }
  std::string base = checked.coder.url ? checked.coder.url->to_string() : probe_options.internal_url;
  return rollout::CoderOptions{
      .connection = {.base_url = base,
                     .connect_to = std::nullopt,
                     .token_file = checked.coder.token_file,
                     .ca_file = checked.plan.ca_file,
                     .verify = http::Verify::yes,
                     .timeout = std::max(checked.plan.timeout, std::chrono::milliseconds(10000)),
                     .max_body = 16 * 1024 * 1024},
      .resolvers = agents_view,
      .organization = settings.coder_organization,
      .push_template = !settings.no_template_push,
      .restart_workspaces = settings.restart_workspaces,
      .restart_concurrency = settings.restart_concurrency,
  };
}

core::ExitStatus run_rollout(const ProbeOptions& probe_options, const RolloutSettings& settings) {
  if (settings.output != "text" && settings.output != "json")
    throw core::UsageError(fmt::format("--output '{}': expected text or json", settings.output));
  rollout::Options options{
      .configmap = *parse_ref_option("--configmap", settings.configmap.empty() ? "-" : settings.configmap),
      .key = settings.configmap_key,
      .coder_url = probe_options.internal_url,
      .flux_kustomization = parse_ref_option("--flux-kustomization", settings.flux_kustomization),
      .flux_branch = settings.flux_branch.empty() ? std::nullopt : std::optional(settings.flux_branch),
      .apply_configmap = settings.apply_configmap,
      .force = settings.force,
      .dry_run = settings.dry_run,
      .wait_timeout = positive_duration("--wait-timeout", settings.wait_timeout),
      .poll_interval = positive_duration("--poll-interval", settings.poll_interval),
      .template_name = settings.template_name,
      .template_dir = settings.template_dir,
      .final_check = std::nullopt,
  };
  if (settings.configmap_key.empty())
    throw core::UsageError("--configmap-key '': expected a ConfigMap data key");
  if (settings.force && !settings.apply_configmap)
    throw core::UsageError("--force: only with --apply-configmap (it overrides the refusal to patch a Flux-managed "
                           "ConfigMap)");
  doctor::Settings checked = make_settings(probe_options);
  doctor::Settings agents_view = final_check_settings(probe_options); // read once: it reads the resolver files
  options.coder = coder_options(probe_options, settings, checked, agents_view.plan);
  options.workspace_namespaces = checked.kube.targets.workspace_namespaces;
  if (!settings.no_final_check)
    options.final_check = std::move(agents_view);

  k8s::Choice choice = k8s::choose_connection(doctor::kube_connection_settings(checked));
  if (!choice.connection)
    throw core::UsageError(fmt::format("rollout needs the Kubernetes API (--kube in-cluster or --kube URL with "
                                       "--kube-token-file); it is off: {}",
                                       choice.problem.value_or(choice.reason)));

  install_stop_handlers();
  bool json = settings.output == "json";
  std::FILE* progress_out = json ? stderr : stdout;
  rollout::Result result;
  {
    PrintedProgress progress(progress_out, isatty(fileno(progress_out)) != 0);
    progress.line("rollout",
                  fmt::format("{}Kubernetes: {}", settings.dry_run ? "dry run, nothing changes; " : "", choice.reason));
    k8s::Client kube(*choice.connection, &g_stop);
    result = rollout::run(options, kube, progress, &g_stop);
  }
  if (json) {
    fmt::print("{}\n", rollout::to_json(result).dump(2));
  } else {
    fmt::print("\n{}", rollout::summary_table(result));
    for (const auto& step : result.steps)
      for (const auto& note : step.notes)
        fmt::print("  {}: {}\n", step.name, note);
  }
  if (g_stop.load())
    fmt::print(stderr, "coder-dns-doctor rollout: interrupted; the summary above says what was done\n");
  if (result.could_not_run())
    return core::ExitStatus::cannot_run;
  return result.succeeded() ? core::ExitStatus::ok : core::ExitStatus::findings;
}

} // namespace

Action register_rollout(CLI::App& parent) {
  CLI::App* command = parent.add_subcommand(
      "rollout", "After the patched checkout is pushed: reconcile Flux (or patch the ConfigMap), verify the live "
                 "ConfigMap, push the template, rebuild old workspaces, check the agents' path");
  auto probe_options = std::make_shared<ProbeOptions>();
  auto settings = std::make_shared<RolloutSettings>();
  add_probe_options(*command, *probe_options);
  command->add_option("--configmap", settings->configmap, "NS/NAME of the ConfigMap that carries the agents' URL")
      ->capture_default_str();
  command->add_option("--configmap-key", settings->configmap_key, "Its data key for the URL (--internal-url's value)")
      ->capture_default_str();
  command->add_option("--flux-kustomization", settings->flux_kustomization,
                      "NS/NAME of the Flux Kustomization that applies it (default: from its "
                      "kustomize.toolkit.fluxcd.io labels)");
  command->add_option("--flux-branch", settings->flux_branch,
                      "The branch the fix is on: warn when the GitRepository tracks another");
  command->add_flag("--apply-configmap", settings->apply_configmap,
                    "No Flux: set the ConfigMap's key with a merge patch (server-side dry run first)");
  command->add_flag("--force", settings->force, "With --apply-configmap: patch even a Flux-managed ConfigMap");
  command->add_flag("--dry-run", settings->dry_run, "Print every write it would make; change nothing");
  command->add_option("--wait-timeout", settings->wait_timeout, "Bound of every wait (reconciles)")
      ->capture_default_str();
  command->add_option("--poll-interval", settings->poll_interval, "How often a wait reads the object")
      ->capture_default_str();
  command->add_option("--output", settings->output, "text | json (one document on stdout; progress on stderr)")
      ->capture_default_str();
  command->add_option("--template", settings->template_name,
                      "Coder template to push a new version of (with --coder-token-file); else named in the printed "
                      "push command");
  command->add_option("--template-dir", settings->template_dir, "The patched checkout's template directory");
  command->add_option("--coder-organization", settings->coder_organization,
                      "Organization (name or ID) of the template; default: the token user's only one");
  command->add_flag("--no-template-push", settings->no_template_push,
                    "With a token: print the coder templates push command instead of pushing");
  command->add_flag("--restart-workspaces", settings->restart_workspaces,
                    "Rebuild the running workspaces on an old version and wait for their agents to connect");
  command->add_option("--restart-concurrency", settings->restart_concurrency, "Rebuilds in flight at once")
      ->capture_default_str();
  command->add_flag("--no-final-check", settings->no_final_check, "Do not check the agents' path at the end");
  return [probe_options, settings] { return run_rollout(*probe_options, *settings); };
}

} // namespace coder_dns_doctor::cli
