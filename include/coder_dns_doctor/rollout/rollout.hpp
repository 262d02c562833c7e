// Layer 8 (rollout; beside daemon: uses doctor, k8s and below, never daemon or cli). See README
// "Layers" and docs/rollout.md.
// `rollout`: from a patched, pushed checkout to a live cluster that carries the fix, one verified
// step at a time: Flux reconciles (or a direct ConfigMap patch), the live ConfigMap, the template
// pushed through coderd's API (or the command printed), the workspaces still on an old build
// (listed, or rebuilt), the agents' own path checked at the end. Every write is one API request,
// so stopping between two of them leaves nothing half-applied.
#pragma once

#include <coder_dns_doctor/coderapi/client.hpp>
#include <coder_dns_doctor/doctor/checkup.hpp>
#include <coder_dns_doctor/k8s/client.hpp>
#include <coder_dns_doctor/k8s/objects.hpp>
#include <coder_dns_doctor/probe/plan.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::rollout {

// What became of one step. Only `failed`, `timed_out`, `error` and `interrupted` make the
// rollout fail; `planned` (dry run), `manual` (a command printed for the person to run) and
// `skipped` (not asked for, or an earlier step stopped the rollout) do not.
enum class StepStatus {
  verified,    // done, and the cluster was seen in the state the step wanted
  failed,      // the cluster answered, and not with the state wanted (Ready=False, a wrong value)
  timed_out,   // --wait-timeout passed first
  error,       // the step could not run: the API server unreachable, a 401/403, a missing object
  interrupted, // SIGINT/SIGTERM
  planned,     // --dry-run: what the step would do, nothing changed
  manual,      // the step is a command printed for the person to run
  skipped,     // not requested, not applicable, or after a step that stopped the rollout
};

[[nodiscard]] std::string_view to_string(StepStatus status);

// One write the rollout made, or would make under --dry-run (`sent` false).
struct ApiCall {
  std::string method; // PATCH
  std::string path;   // with its query
  std::string content_type;
  std::string body;
  bool sent = false;
};

struct Step {
  std::string name; // locate, flux-source, flux-kustomization, configmap-apply, configmap-verify, template,
                    // workspaces, final-check
  StepStatus status = StepStatus::skipped;
  std::string summary;            // one line: what was seen or why not
  std::vector<std::string> notes; // revisions, warnings, commands to run
  std::vector<ApiCall> calls;
  double seconds = 0;
};

using k8s::ObjectRef;

// The Coder side (--coder-token-file): the template pushed and workspaces rebuilt through
// coderd's API, as `coder templates push` and `coder update` do it.
struct CoderOptions {
  coderapi::Connection connection; // base URL (the internal URL), token file, CA; connect_to is found
  probe::Plan resolvers;           // the agents' resolvers: coderd's address is looked up as they would
  std::string organization;        // name or ID; empty: the token user's only organization
  bool push_template = true;       // false (--no-template-push): the push command is printed
  std::string message = "coder-dns-doctor rollout: workspace agents dial the internal URL";
  bool restart_workspaces = false; // rebuild the running workspaces on an old version
  std::size_t restart_concurrency = 2;
};

struct Options {
  ObjectRef configmap{"coder", "coder-workspace-config"};
  std::string key = "coder_url";
  std::string coder_url;                       // the value the live ConfigMap must carry
  std::optional<ObjectRef> flux_kustomization; // default: from the ConfigMap's kustomize.toolkit.fluxcd.io labels
  std::optional<std::string> flux_branch;      // the branch the GitRepository should track (the patch's)
  bool apply_configmap = false;                // no Flux: merge-patch the ConfigMap directly
  bool force = false;                          // apply even when Flux manages the ConfigMap
  bool dry_run = false;
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  std::string template_name;                   // for the printed `coder templates push`; empty: a placeholder
  std::string template_dir;                    // the patched checkout's template directory; empty: a placeholder
  std::optional<doctor::Settings> final_check; // nullopt: --no-final-check
  std::optional<CoderOptions> coder;           // nullopt: no token; the template push is printed
  // Where the workspace pods run (--workspace-namespace): with a token, the workspaces step reads
  // which URL each pod's agent dials. Empty: pods are not read.
  std::vector<std::string> workspace_namespaces{"coder-workspace"};
};

// Where the steps say what they do while they run. `line` is one finished line; `waiting` is
// called about every poll interval during a wait (a terminal redraws one progress line with it).
class Progress {
public:
  virtual ~Progress() = default;
  virtual void line(std::string_view step, std::string_view text) = 0;
  virtual void waiting(std::string_view step, std::string_view what, std::chrono::milliseconds elapsed) = 0;
};

struct Result {
  std::vector<Step> steps;
  bool dry_run = false;

  [[nodiscard]] bool succeeded() const;     // no step failed, timed out, errored or was interrupted
  [[nodiscard]] bool could_not_run() const; // a step errored or was interrupted (exit status 3)
};

// Run the rollout against the API server `kube` talks to. `cancel` (set from a signal handler)
// ends any wait within a poll slice and any request in flight.
[[nodiscard]] Result run(const Options& options, k8s::Client& kube, Progress& progress,
                         const std::atomic<bool>* cancel = nullptr);

// Every request `run(options, ...)` may make, as RBAC rules (docs/rbac.yaml `rollout`): the
// ConfigMap get (and patch with apply_configmap), get and patch of the Flux objects in
// `flux_namespace` (where the Kustomization and its GitRepository live) when Flux is used, and a
// list of the pods in the workspace namespaces with a Coder token.
[[nodiscard]] std::vector<k8s::Access> permissions(const Options& options, const std::string& flux_namespace);

// The JSON document of `--output json` (docs/rollout.md).
[[nodiscard]] nlohmann::json to_json(const Result& result);

// The summary table printed after the steps: one row per step.
[[nodiscard]] std::string summary_table(const Result& result);

} // namespace coder_dns_doctor::rollout
