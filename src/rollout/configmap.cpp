// The ConfigMap steps: set data.<key> directly when no Flux delivers it (a JSON merge patch,
// server-side dry run first), and read the live object back, as `kubectl get configmap` would.
#include "context.hpp"

#include <coder_dns_doctor/k8s/json_access.hpp>

#include <fmt/core.h>

namespace coder_dns_doctor::rollout::detail {
namespace {

std::string value_of(const nlohmann::json& configmap, const std::string& key) {
  return k8s::text_at(k8s::child(configmap, "data"), key);
}

std::string shown(const std::string& value) {
  return value.empty() ? std::string("(unset)") : value;
}

} // namespace

bool run_apply_configmap(Context& context, const nlohmann::json& live, std::optional<ObjectRef> flux_owner,
                         std::vector<Step>& steps) {
  const Options& options = context.options;
  const std::string what = describe(k_configmap, options.configmap);
  Step step{.name = "configmap-apply"};
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](bool go_on) {
    step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    steps.push_back(std::move(step));
    return go_on;
  };
  std::string before = value_of(live, options.key);
  if (flux_owner && !options.force) {
    step.status = StepStatus::error;
    step.summary = fmt::format("refused: {} is applied by Flux Kustomization {}/{}, which would revert a direct "
                               "change on its next reconcile; commit the fix and run rollout without "
                               "--apply-configmap, or pass --force",
                               what, flux_owner->namespace_, flux_owner->name);
    return finish(false);
  }
  if (flux_owner)
    step.notes.push_back(fmt::format("warning: --force: Flux Kustomization {}/{} will set {} back to what git holds on "
                                     "its next reconcile",
                                     flux_owner->namespace_, flux_owner->name, options.key));
  if (before == options.coder_url) {
    step.status = StepStatus::verified;
    step.summary = fmt::format("{} already has {} = {}: nothing to change", what, options.key, options.coder_url);
    return finish(true);
  }
  nlohmann::json patch = {{"data", {{options.key, options.coder_url}}}};
  // Send the patch as `write`; true when the answer carries the value (else the step has failed).
  auto patched = [&](Write write, std::string_view answered) {
    auto answer = context.merge_patch(step, k_configmap, options.configmap, patch, write);
    if (!answer)
      return false;
    if (value_of(*answer, options.key) == options.coder_url)
      return true;
    step.status = StepStatus::failed;
    step.summary = fmt::format("{} {} = {}, not {}", answered, options.key, shown(value_of(*answer, options.key)),
                               options.coder_url);
    return false;
  };
  if (!patched(Write::server_dry_run, "the server-side dry run of the patch answered"))
    return finish(false);
  if (options.dry_run) {
    step.status = StepStatus::planned;
    step.summary = fmt::format("server-side dry run accepted: {} {} would change from {} to {}", what, options.key,
                               shown(before), options.coder_url);
    return finish(true);
  }
  if (!patched(Write::real, "the API server stored"))
    return finish(false);
  step.status = StepStatus::verified;
  step.summary = fmt::format("{} {} changed from {} to {}", what, options.key, shown(before), options.coder_url);
  return finish(true);
}

bool run_verify_configmap(Context& context, std::vector<Step>& steps) {
  const Options& options = context.options;
  const std::string what = describe(k_configmap, options.configmap);
  Step step{.name = "configmap-verify"};
  auto live = context.read(step, k_configmap, options.configmap);
  if (!live) {
    steps.push_back(std::move(step));
    return false;
  }
  std::string value = value_of(*live, options.key);
  if (options.dry_run) {
    step.status = StepStatus::planned;
    step.summary =
        fmt::format("would check that {} has {} = {} (now {})", what, options.key, options.coder_url, shown(value));
  } else if (value == options.coder_url) {
    step.status = StepStatus::verified;
    step.summary = fmt::format("{} has {} = {}", what, options.key, value);
  } else {
    step.status = StepStatus::failed;
    step.summary = fmt::format("{} has {} = {}, not {}", what, options.key, shown(value), options.coder_url);
    if (flux_owner_of(*live))
      step.notes.push_back("the revision Flux applied does not carry the fix: is the patch committed and pushed to "
                           "the branch the GitRepository tracks?");
  }
  context.progress.line(step.name, step.summary);
  bool go_on = step.status != StepStatus::failed;
  steps.push_back(std::move(step));
  return go_on;
}

} // namespace coder_dns_doctor::rollout::detail
