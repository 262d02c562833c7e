// The Flux steps, as `flux reconcile kustomization --with-source` does them (CODERD-SURFACE.md
// § Flux): request a reconcile of the source, then of the Kustomization, each by setting the
// reconcile.fluxcd.io/requestedAt annotation, and wait until the controller has handled that very
// request and says Ready=True.
#include "context.hpp"

#include <coder_dns_doctor/k8s/json_access.hpp>

#include <fmt/core.h>

#include <chrono>

namespace coder_dns_doctor::rollout::detail {
namespace {

struct Readiness {
  std::string status; // True | False | Unknown | "" (no Ready condition yet)
  std::string reason;
  std::string message;
};

Readiness ready_condition(const nlohmann::json& object) {
  const nlohmann::json* conditions = k8s::path(object, {"status", "conditions"});
  if (conditions != nullptr && conditions->is_array())
    for (const auto& condition : *conditions)
      if (k8s::text_at(condition, "type") == "Ready")
        return {k8s::text_at(condition, "status"), k8s::text_at(condition, "reason"),
                k8s::text_at(condition, "message")};
  return {};
}

// The revision a source fetched / a Kustomization applied.
std::string fetched_revision(const nlohmann::json& source) {
  const nlohmann::json* revision = k8s::path(source, {"status", "artifact", "revision"});
  return revision != nullptr && revision->is_string() ? revision->get<std::string>() : std::string();
}

std::string applied_revision(const nlohmann::json& kustomization) {
  return k8s::text_at(k8s::child(kustomization, "status"), "lastAppliedRevision");
}

bool suspended(const nlohmann::json& object) {
  const nlohmann::json* suspend = k8s::path(object, {"spec", "suspend"});
  return suspend != nullptr && suspend->is_boolean() && suspend->get<bool>();
}

nlohmann::json reconcile_request(const std::string& requested_at) {
  return {{"metadata", {{"annotations", {{std::string(k_requested_at), requested_at}}}}}};
}

// Request a reconcile of `ref` and wait until it is handled. On success returns the object as
// last read; on any other end sets `step` and returns nullopt. Under --dry-run only records the
// request (the step is `planned`) and returns the object as it is now.
std::optional<nlohmann::json> reconcile(Context& context, Step& step, const Kind& kind, const ObjectRef& ref,
                                        const nlohmann::json& now) {
  const std::string what = describe(kind, ref);
  if (suspended(now)) {
    step.status = StepStatus::error;
    step.summary = fmt::format("{} is suspended (spec.suspend: true): Flux ignores reconcile requests; resume it "
                               "first (flux resume {} {} -n {})",
                               what, kind.kind == k_git_repository.kind ? "source git" : "kustomization", ref.name,
                               ref.namespace_);
    return std::nullopt;
  }
  std::string requested_at = now_rfc3339_nanos();
  if (context.options.dry_run) {
    (void)context.merge_patch(step, kind, ref, reconcile_request(requested_at), Write::record_only);
    step.status = StepStatus::planned;
    return now;
  }
  if (!context.merge_patch(step, kind, ref, reconcile_request(requested_at), Write::real))
    return std::nullopt;
  step.notes.push_back(fmt::format("reconcile requested at {}", requested_at));
  context.progress.line(step.name, step.notes.back());

  nlohmann::json last = now;
  std::optional<k8s::ApiError> read_error;
  bool not_ready = false;
  WaitEnd end = context.wait_until(step.name, fmt::format("{} to handle the request and be Ready", what), [&] {
    auto object = context.kube.get(object_path(kind, ref), access_for(kind, ref, "get"));
    if (!object) {
      read_error = object.error();
      return true;
    }
    last = std::move(*object);
    if (k8s::text_at(k8s::child(last, "status"), "lastHandledReconcileAt") != requested_at)
      return false;
    Readiness ready = ready_condition(last);
    if (ready.status == "False") {
      not_ready = true;
      return true;
    }
    return ready.status == "True";
  });
  if (read_error) {
    context.fail_from(step, *read_error);
    return std::nullopt;
  }
  switch (end) {
  case WaitEnd::interrupted:
    step.status = StepStatus::interrupted;
    step.summary = fmt::format("interrupted while waiting; the reconcile request on {} stands (Flux will still act "
                               "on it), nothing else was changed",
                               what);
    return std::nullopt;
  case WaitEnd::timed_out: {
    Readiness ready = ready_condition(last);
    step.status = StepStatus::timed_out;
    step.summary =
        fmt::format("{} did not handle the reconcile request within {} s (Ready: {}{})", what,
                    context.options.wait_timeout.count() / 1000, ready.status.empty() ? "none" : ready.status,
                    ready.message.empty() ? "" : ", " + ready.message);
    return std::nullopt;
  }
  case WaitEnd::done: break;
  }
  if (not_ready) {
    Readiness ready = ready_condition(last);
    step.status = StepStatus::failed;
    step.summary = fmt::format("{} is not Ready ({}): {}", what, ready.reason.empty() ? "no reason" : ready.reason,
                               ready.message.empty() ? "no message" : ready.message);
    return std::nullopt;
  }
  return last;
}

// The notes about the branch the GitRepository tracks compared with the fix's.
void branch_notes(const Options& options, const nlohmann::json& source, Step& step) {
  std::string branch = k8s::text_at(k8s::child(k8s::child(source, "spec"), "ref"), "branch");
  if (!options.flux_branch)
    return;
  if (branch != *options.flux_branch)
    step.notes.push_back(fmt::format("warning: the GitRepository tracks branch '{}', not '{}' where the fix is: Flux "
                                     "will apply '{}' (switch spec.ref.branch, e.g. patch --flux-branch {})",
                                     branch.empty() ? "(none)" : branch, *options.flux_branch,
                                     branch.empty() ? "its ref" : branch, *options.flux_branch));
  else
    step.notes.push_back(fmt::format("reminder: the GitRepository tracks the fix branch '{}'; switch spec.ref.branch "
                                     "back to the main branch once '{}' is merged",
                                     branch, branch));
}

} // namespace

bool run_flux(Context& context, const ObjectRef& kustomization_ref, std::vector<Step>& steps) {
  auto started = std::chrono::steady_clock::now();
  auto seconds_since = [](auto since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  };

  Step source_step{.name = "flux-source"};
  auto stop_at_source = [&] {
    steps.push_back(std::move(source_step));
    steps.push_back(Step{.name = "flux-kustomization",
                         .status = StepStatus::skipped,
                         .summary = "not run: the source step stopped the rollout"});
    return false;
  };
  auto kustomization = context.read(source_step, k_kustomization, kustomization_ref);
  if (!kustomization)
    return stop_at_source();
  const nlohmann::json& source_ref = k8s::child(k8s::child(*kustomization, "spec"), "sourceRef");
  std::string source_kind = k8s::text_at(source_ref, "kind");
  ObjectRef source{k8s::text_at(source_ref, "namespace"), k8s::text_at(source_ref, "name")};
  if (source.namespace_.empty())
    source.namespace_ = kustomization_ref.namespace_;
  if (source_kind != k_git_repository.kind || source.name.empty()) {
    source_step.status = StepStatus::error;
    source_step.summary = fmt::format(
        "{}: its source is {} '{}', rollout reconciles GitRepository sources only (flux reconcile source "
        "... reconciles the others)",
        describe(k_kustomization, kustomization_ref), source_kind.empty() ? "(no kind)" : source_kind, source.name);
    return stop_at_source();
  }
  auto repository = context.read(source_step, k_git_repository, source);
  if (!repository)
    return stop_at_source();
  branch_notes(context.options, *repository, source_step);
  for (const auto& note : source_step.notes)
    context.progress.line(source_step.name, note);
  auto fetched = reconcile(context, source_step, k_git_repository, source, *repository);
  source_step.seconds = seconds_since(started);
  if (!fetched)
    return stop_at_source();
  std::string revision = fetched_revision(*fetched);
  if (source_step.status == StepStatus::planned) {
    source_step.summary = fmt::format("would request a reconcile of {} (now at {})", describe(k_git_repository, source),
                                      revision.empty() ? "no revision" : revision);
  } else {
    source_step.status = StepStatus::verified;
    source_step.summary =
        fmt::format("{} fetched {}", describe(k_git_repository, source), revision.empty() ? "no revision" : revision);
  }
  steps.push_back(std::move(source_step));

  started = std::chrono::steady_clock::now();
  Step apply_step{.name = "flux-kustomization"};
  auto applied = reconcile(context, apply_step, k_kustomization, kustomization_ref, *kustomization);
  apply_step.seconds = seconds_since(started);
  if (!applied) {
    steps.push_back(std::move(apply_step));
    return false;
  }
  std::string applied_now = applied_revision(*applied);
  if (apply_step.status == StepStatus::planned) {
    apply_step.summary =
        fmt::format("would request a reconcile of {} (last applied {})", describe(k_kustomization, kustomization_ref),
                    applied_now.empty() ? "nothing" : applied_now);
  } else if (!revision.empty() && applied_now != revision) {
    apply_step.status = StepStatus::failed;
    apply_step.summary =
        fmt::format("{} is Ready but applied {}, not the fetched {}", describe(k_kustomization, kustomization_ref),
                    applied_now.empty() ? "nothing" : applied_now, revision);
  } else {
    apply_step.status = StepStatus::verified;
    apply_step.summary = fmt::format("{} applied {}", describe(k_kustomization, kustomization_ref),
                                     applied_now.empty() ? "(no revision)" : applied_now);
  }
  bool go_on = apply_step.status == StepStatus::verified || apply_step.status == StepStatus::planned;
  steps.push_back(std::move(apply_step));
  return go_on;
}

} // namespace coder_dns_doctor::rollout::detail
