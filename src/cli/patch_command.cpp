// `patch`: options → patch::plan → diff / --check / --write. The logic lives in src/patch/.
#include <coder_dns_doctor/cli/app.hpp>
#include <coder_dns_doctor/cli/commands.hpp>
#include <coder_dns_doctor/patch/diff.hpp>
#include <coder_dns_doctor/patch/fix.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>

namespace coder_dns_doctor::cli {
namespace {

struct PatchSettings {
  std::string repo = ".";
  std::string coder_url = std::string(patch::k_default_coder_url);
  std::string configmap;
  std::string template_file;
  std::string flux_branch;
  bool agent_env_only = false;
  bool no_configmap = false;
  std::string mode = "auto";
  std::string configmap_name = std::string(patch::k_configmap_name);
  std::string configmap_key = "coder_url";
  bool write = false;
  bool check = false;
};

// What comes after --write: the doctor never commits or pushes, so it says how, then `rollout`.
void print_next_steps(const patch::Plan& plan, const PatchSettings& settings) {
  std::string files;
  for (const auto& file : plan.files)
    if (file.changed())
      files += " '" + file.display + "'";
  fmt::print(stderr,
             "next: commit and push the fix{}, then roll it out:\n"
             "  git -C '{}' add{}\n"
             "  git -C '{}' commit -m 'fix(coder): workspace agents dial the internal URL {}'\n"
             "  git -C '{}' push\n"
             "  coder-dns-doctor rollout --internal-url '{}'{} (docs/rollout.md)\n",
             settings.flux_branch.empty() ? "" : " to branch " + settings.flux_branch, settings.repo, files,
             settings.repo, settings.coder_url, settings.repo, settings.coder_url,
             settings.flux_branch.empty() ? "" : " --flux-branch '" + settings.flux_branch + "'");
}

void print_summary(const patch::Plan& plan) {
  for (const auto& step : plan.steps)
    fmt::print(stderr, "{}: {}: {}\n", step.step, patch::to_string(step.status), step.detail);
}

core::ExitStatus run_patch(const PatchSettings& settings) {
  patch::Options options{
      .repo = settings.repo,
      .coder_url = settings.coder_url,
      .configmap = settings.configmap.empty() ? std::nullopt : std::optional<std::filesystem::path>(settings.configmap),
      .template_file =
          settings.template_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(settings.template_file),
      .flux_branch = settings.flux_branch.empty() ? std::nullopt : std::optional<std::string>(settings.flux_branch),
      .scope = settings.agent_env_only ? patch::Scope::agent_env_only : patch::Scope::full,
      .mode = settings.no_configmap             ? patch::Mode::template_only
              : settings.mode == "template"     ? patch::Mode::template_only
              : settings.mode == "provider-url" ? patch::Mode::provider_url
              : settings.mode == "configmap"    ? patch::Mode::configmap
                                                : patch::Mode::automatic,
      .configmap_name = settings.configmap_name,
      .configmap_key = settings.configmap_key,
  };
  auto plan = patch::plan(options);
  if (!plan) {
    fmt::print(stderr, "coder-dns-doctor patch: {}\n", plan.error().message);
    return core::ExitStatus::usage;
  }
  if (settings.write) {
    if (auto applied = patch::apply(*plan, settings.repo); !applied) {
      fmt::print(stderr, "coder-dns-doctor patch: {}\n", applied.error().message);
      return core::ExitStatus::usage;
    }
    print_summary(*plan);
    for (const auto& file : plan->files)
      if (file.changed())
        fmt::print(stderr, "wrote {}\n", file.display);
    if (!plan->changes())
      fmt::print(stderr, "nothing to do\n");
    else
      print_next_steps(*plan, settings);
    return core::ExitStatus::ok;
  }
  for (const auto& file : plan->files)
    fmt::print("{}", patch::unified_diff(file.display, file.before, file.after));
  print_summary(*plan);
  if (!plan->changes()) {
    fmt::print(stderr, "nothing to do\n");
    return core::ExitStatus::ok;
  }
  if (settings.check) {
    fmt::print(stderr, "changes needed (run with --write to apply them)\n");
    return core::ExitStatus::findings;
  }
  fmt::print(stderr, "dry run: nothing written (run with --write to apply)\n");
  return core::ExitStatus::ok;
}

} // namespace

Action register_patch(CLI::App& parent) {
  auto settings = std::make_shared<PatchSettings>();
  CLI::App* command = parent.add_subcommand(
      "patch", "Apply the ConfigMap + Terraform template fix to a GitOps checkout (dry-run diff by default)");
  command->add_option("--repo", settings->repo, "The GitOps checkout")->capture_default_str();
  command->add_option("--coder-url", settings->coder_url, "The internal URL written to the ConfigMap")
      ->capture_default_str();
  command->add_option("--configmap", settings->configmap,
                      "ConfigMap manifest, relative to the repo (default: found by scanning *.yaml/*.yml)");
  command->add_option("--template", settings->template_file,
                      "Terraform file (default: the *.tf that reads the ConfigMap and defines a coder_agent)");
  command->add_option("--flux-branch", settings->flux_branch,
                      "Also set spec.ref.branch of the Flux GitRepository manifest");
  command->add_flag("--agent-env-only", settings->agent_env_only,
                    "Only set CODER_AGENT_URL; do not rewrite the init script");
  command->add_option("--configmap-name", settings->configmap_name, "Name of the ConfigMap that carries the URL")
      ->capture_default_str();
  command->add_option("--configmap-key", settings->configmap_key, "ConfigMap data key for the internal URL")
      ->capture_default_str();
  CLI::Option* no_configmap = command->add_flag(
      "--no-configmap", settings->no_configmap,
      "Template-only mode: keep the internal URL in the template (variable coder_agent_internal_url), no ConfigMap "
      "(the default when no ConfigMap is found)");
  no_configmap->excludes("--configmap");
  command
      ->add_option("--mode", settings->mode,
                   "Where the internal URL lives: auto (ConfigMap when found, else template), configmap, template, "
                   "provider-url (provider \"coder\" url: changes access_url for everything in the template)")
      ->check(CLI::IsMember({"auto", "configmap", "template", "provider-url"}))
      ->excludes(no_configmap)
      ->capture_default_str();
  CLI::Option* write = command->add_flag("--write", settings->write, "Write the files (atomically)");
  CLI::Option* check = command->add_flag("--check", settings->check, "Exit 1 if anything would change (for CI)");
  write->excludes(check);
  return [settings] { return run_patch(*settings); };
}

} // namespace coder_dns_doctor::cli
