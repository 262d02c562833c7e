// The rollout's order of steps, and its result as JSON and as a table. The steps themselves live
// in flux.cpp, configmap.cpp, template_push.cpp and workspaces.cpp; the final check is a doctor
// checkup of the agents' path.
#include "context.hpp"

#include <coder_dns_doctor/k8s/json_access.hpp>
#include <coder_dns_doctor/probe/engine.hpp>
#include <coder_dns_doctor/util/table.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

namespace coder_dns_doctor::rollout {

using namespace detail;

std::string_view to_string(StepStatus status) {
  switch (status) {
  case StepStatus::verified: return "verified";
  case StepStatus::failed: return "failed";
  case StepStatus::timed_out: return "timed_out";
  case StepStatus::error: return "error";
  case StepStatus::interrupted: return "interrupted";
  case StepStatus::planned: return "planned";
  case StepStatus::manual: return "manual";
  case StepStatus::skipped: return "skipped";
  }
  return "error";
}

bool Result::could_not_run() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& step) {
    return step.status == StepStatus::error || step.status == StepStatus::interrupted;
  });
}

bool Result::succeeded() const {
  return std::none_of(steps.begin(), steps.end(), [](const Step& step) {
    return step.status == StepStatus::failed || step.status == StepStatus::timed_out ||
           step.status == StepStatus::error || step.status == StepStatus::interrupted;
  });
}

namespace {

// The first step: the live ConfigMap, and what delivers it. nullopt when the rollout must stop;
// else the ConfigMap (null when it does not exist yet but a Kustomization was named).
std::optional<nlohmann::json> locate(Context& context, std::vector<Step>& steps) {
  const Options& options = context.options;
  Step step{.name = "locate"};
  auto live =
      context.kube.get(object_path(k_configmap, options.configmap), access_for(k_configmap, options.configmap, "get"));
  const std::string what = describe(k_configmap, options.configmap);
  if (!live && live.error().kind == k8s::ErrorKind::not_found && options.flux_kustomization &&
      !options.apply_configmap) {
    step.status = StepStatus::verified;
    step.summary = fmt::format("{} does not exist yet; Flux Kustomization {}/{} is to create it", what,
                               options.flux_kustomization->namespace_, options.flux_kustomization->name);
    steps.push_back(std::move(step));
    return nlohmann::json();
  }
  if (!live) {
    context.fail_from(step, live.error());
    steps.push_back(std::move(step));
    return std::nullopt;
  }
  auto owner = options.flux_kustomization ? options.flux_kustomization : flux_owner_of(*live);
  std::string value = k8s::text_at(k8s::child(*live, "data"), options.key);
  step.status = StepStatus::verified;
  step.summary =
      fmt::format("{} has {} = {}; {}", what, options.key, value.empty() ? "(unset)" : value,
                  owner ? fmt::format("delivered by Flux Kustomization {}/{}", owner->namespace_, owner->name)
                        : std::string("no Flux Kustomization applies it"));
  context.progress.line(step.name, step.summary);
  steps.push_back(std::move(step));
  return std::move(*live);
}

void final_check_step(Context& context, std::vector<Step>& steps) {
  Step step{.name = "final-check"};
  auto started = std::chrono::steady_clock::now();
  if (!context.options.final_check) {
    step.status = StepStatus::skipped;
    step.summary = "not requested (--no-final-check)";
  } else if (context.options.dry_run) {
    step.status = StepStatus::planned;
    step.summary = "would check the agents' path (DNS, /healthz, WebSocket, DERP) to the new URL";
  } else {
    context.progress.line(step.name, "checking the agents' path to the new URL");
    report::Report report = doctor::run_checkup(*context.options.final_check, context.cancel);
    std::vector<std::string> errors;
    for (const auto& finding : report.findings)
      if (finding.severity == analysis::Severity::error)
        errors.push_back(std::string(analysis::to_string(finding.code)));
    if (context.cancelled()) {
      step.status = StepStatus::interrupted;
      step.summary = "interrupted during the final check; nothing was changed by it";
    } else if (report.verdict == analysis::Verdict::broken) {
      step.status = StepStatus::failed;
      step.summary = fmt::format("the agents' path is broken: {}", fmt::join(errors, ", "));
      for (const auto& finding : report.findings)
        if (finding.severity == analysis::Severity::error)
          step.notes.push_back(fmt::format("{}: {}", analysis::to_string(finding.code), finding.summary));
    } else {
      step.status = StepStatus::verified;
      step.summary = fmt::format("the agents' path is {} ({} finding{})", analysis::to_string(report.verdict),
                                 report.findings.size(), report.findings.size() == 1 ? "" : "s");
    }
  }
  step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  context.progress.line(step.name, step.summary);
  steps.push_back(std::move(step));
}

// Where to send the Coder token: the first address the agents' resolvers give coderd's host, as
// an agent would dial it; nullopt (curl resolves it) for an IP-literal URL, or when no resolver
// that asks servers answers.
std::optional<util::IpAddress> coder_address(const Options& options, Progress& progress,
                                             const std::atomic<bool>* cancel) {
  auto url = util::parse_url(options.coder->connection.base_url);
  if (!url || util::parse_ip(url->host))
    return std::nullopt;
  for (const auto& answer : probe::look_up_names(options.coder->resolvers, {url->host}, cancel))
    if (answer.status == dns::LookupStatus::ok && !answer.addresses.empty()) {
      progress.line("template", fmt::format("coderd's API at {} ({} from resolver {})", url->to_string(),
                                            answer.addresses.front().text, answer.resolver));
      return answer.addresses.front();
    }
  return std::nullopt;
}

// The steps not run after one that stopped the rollout, so the summary shows all of them.
void mark_not_run(std::vector<Step>& steps, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names)
    if (std::none_of(steps.begin(), steps.end(), [name](const Step& step) { return step.name == name; }))
      steps.push_back(Step{
          .name = std::string(name), .status = StepStatus::skipped, .summary = "not run: an earlier step stopped"});
}

} // namespace

Result run(const Options& options, k8s::Client& kube, Progress& progress, const std::atomic<bool>* cancel) {
  Context context{options, kube, progress, cancel};
  Result result{.steps = {}, .dry_run = options.dry_run};
  auto& steps = result.steps;
  auto live = locate(context, steps);
  bool go_on = live.has_value();
  if (go_on) {
    auto owner = options.flux_kustomization ? options.flux_kustomization : flux_owner_of(*live);
    if (options.apply_configmap)
      go_on = run_apply_configmap(context, *live, owner, steps);
    else if (owner)
      go_on = run_flux(context, *owner, steps);
    else
      steps.push_back(Step{.name = "configmap-apply",
                           .status = StepStatus::skipped,
                           .summary = "no Flux Kustomization applies the ConfigMap and --apply-configmap was not "
                                      "given: the live value is only checked"});
  }
  if (go_on)
    go_on = run_verify_configmap(context, steps);
  std::optional<coderapi::Client> coder;
  if (go_on && options.coder) {
    coderapi::Connection connection = options.coder->connection;
    connection.connect_to = coder_address(options, progress, cancel);
    coder.emplace(std::move(connection), cancel);
    context.coder = &*coder;
  }
  if (go_on)
    go_on = run_template(context, steps);
  if (go_on)
    go_on = run_workspaces(context, steps);
  if (go_on)
    final_check_step(context, steps);
  mark_not_run(steps, {"configmap-verify", "template", "workspaces", "final-check"});
  return result;
}

std::vector<k8s::Access> permissions(const Options& options, const std::string& flux_namespace) {
  std::vector<k8s::Access> wanted{access_for(k_configmap, options.configmap, "get")};
  if (options.coder)
    for (const auto& namespace_ : options.workspace_namespaces)
      wanted.push_back(access_for(k_pod, ObjectRef{namespace_, ""}, "list"));
  if (options.apply_configmap) {
    wanted.push_back(access_for(k_configmap, options.configmap, "patch"));
    return wanted;
  }
  for (const Kind* kind : {&k_git_repository, &k_kustomization})
    for (std::string_view verb : {"get", "patch"})
      wanted.push_back(access_for(*kind, ObjectRef{flux_namespace, ""}, verb));
  return wanted;
}

nlohmann::json to_json(const Result& result) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : result.steps) {
    nlohmann::json calls = nlohmann::json::array();
    for (const auto& call : step.calls)
      calls.push_back({{"method", call.method},
                       {"path", call.path},
                       {"content_type", call.content_type},
                       {"body", call.body},
                       {"sent", call.sent}});
    steps.push_back({{"name", step.name},
                     {"status", to_string(step.status)},
                     {"summary", step.summary},
                     {"notes", step.notes},
                     {"calls", calls},
                     {"seconds", step.seconds}});
  }
  std::string outcome = result.succeeded()       ? (result.dry_run ? "planned" : "verified")
                        : result.could_not_run() ? "error"
                                                 : "failed";
  return {{"rollout", {{"dry_run", result.dry_run}, {"result", outcome}, {"steps", steps}}}};
}

std::string summary_table(const Result& result) {
  util::Table table(std::vector<util::Column>{{"STEP", util::Fit::keep, 0},
                                              {"STATUS", util::Fit::keep, 0},
                                              {"TIME", util::Fit::keep, 1},
                                              {"RESULT", util::Fit::cut_end, 0}});
  for (const auto& step : result.steps)
    table.add({step.name, std::string(to_string(step.status)), fmt::format("{:.1f}s", step.seconds), step.summary});
  return table.render("  ");
}

} // namespace coder_dns_doctor::rollout
