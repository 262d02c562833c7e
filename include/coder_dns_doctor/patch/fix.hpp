// Layer 2 (patch: edits files only; uses util; see README "Layers").
// The `patch` fix: plan the ConfigMap, Terraform template and Flux edits for a GitOps checkout.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::patch {

// The ConfigMap that carries in-cluster URLs for workspaces (field report).
inline constexpr std::string_view k_configmap_name = "coder-workspace-config";
inline constexpr std::string_view k_default_coder_url = "http://coder.coder.svc.cluster.local:80";

enum class Scope {
  full,           // CODER_AGENT_URL entries and the init-script rewrite
  agent_env_only, // only the CODER_AGENT_URL entries (the field report's literal fix)
};

// Where the internal URL lives. `automatic`: the ConfigMap when one is found (or given), else the
// template alone (a `coder_agent_internal_url` variable).
enum class Mode {
  automatic,
  configmap,
  template_only,
  provider_url, // template-only, with `provider "coder" { url = var.coder_agent_internal_url }`
};

// The template variable that carries the internal URL in template-only mode.
inline constexpr std::string_view k_internal_url_variable = "coder_agent_internal_url";

struct Options {
  std::filesystem::path repo = ".";
  std::string coder_url = std::string(k_default_coder_url);
  std::optional<std::filesystem::path> configmap; // relative to `repo`
  std::optional<std::filesystem::path> template_file;
  std::optional<std::string> flux_branch;
  Scope scope = Scope::full;
  Mode mode = Mode::automatic;
  std::string configmap_name = std::string(k_configmap_name); // --configmap-name
  std::string configmap_key = "coder_url";                    // --configmap-key: the data key read and written
};

enum class StepStatus { done, already_done, skipped };

// One line of the summary: what a step did to which file.
struct StepReport {
  std::string step; // configmap, template-local, agent-env, init-script, flux-branch
  StepStatus status = StepStatus::skipped;
  std::string detail;
};

// One file the plan reads, with its bytes before and after.
struct FileChange {
  std::filesystem::path path; // absolute
  std::string display;        // relative to the repo, for diffs and messages
  std::string before;
  std::string after;

  bool changed() const { return before != after; }
};

struct Plan {
  std::vector<StepReport> steps;
  std::vector<FileChange> files;

  bool changes() const;
};

// The input is not what the fix expects: `message` names file:line and what was expected.
struct PatchError {
  std::string message;
};

// Compute every edit without touching the disk; validate the results (they re-parse, define
// `local.coder_url` once, reference only data sources that exist).
std::expected<Plan, PatchError> plan(const Options& options);

// Write every changed file of `plan` atomically; check all of them first so that an error
// (read-only file, path outside the repo) leaves every file untouched.
std::expected<void, PatchError> apply(const Plan& plan, const std::filesystem::path& repo);

// Return "done", "already done" or "skipped".
std::string_view to_string(StepStatus status);

// Edit a template's text (exposed for unit tests and fuzzers): `configmap_name` selects the data
// source, `configmap_key` the data key the local reads. Returns the new text and the template steps.
struct TemplateResult {
  std::string text;
  std::vector<StepReport> steps;
};
std::expected<TemplateResult, PatchError> fix_template(const std::string& display, const std::string& source,
                                                       std::string_view configmap_name, Scope scope,
                                                       std::string_view configmap_key = "coder_url");

// Template-only mode: add `variable "coder_agent_internal_url"` (default `coder_url`), wrap every
// init-script reference in replace(<expr>, data.coder_workspace.<me>.access_url,
// var.coder_agent_internal_url) and set every CODER_AGENT_URL to the variable.
std::expected<TemplateResult, PatchError> fix_template_only(const std::string& display, const std::string& source,
                                                            std::string_view coder_url, Scope scope);

// Provider-URL mode: the variable, and `url = var.coder_agent_internal_url` in provider "coder"
// (this changes access_url for everything in the template; the step's detail says so).
std::expected<TemplateResult, PatchError> fix_provider_url(const std::string& display, const std::string& source,
                                                           std::string_view coder_url);

} // namespace coder_dns_doctor::patch
