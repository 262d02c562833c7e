// Inside the rollout module: what every step uses. The API paths of the objects it touches, the
// one way a write is made (or only recorded under --dry-run), and the one wait loop.
#pragma once

#include <coder_dns_doctor/rollout/rollout.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::rollout::detail {

inline constexpr std::string_view k_field_manager = "coder-dns-doctor";
inline constexpr std::string_view k_merge_patch = "application/merge-patch+json";
// The annotation `flux reconcile` sets, and the labels kustomize-controller puts on what it applies.
inline constexpr std::string_view k_requested_at = "reconcile.fluxcd.io/requestedAt";
inline constexpr std::string_view k_kustomization_name_label = "kustomize.toolkit.fluxcd.io/name";
inline constexpr std::string_view k_kustomization_namespace_label = "kustomize.toolkit.fluxcd.io/namespace";

// One kind of object the rollout reads or patches: its REST path and the RBAC rule it needs.
struct Kind {
  std::string_view group;    // "" for the core group
  std::string_view version;  // v1
  std::string_view resource; // plural
  std::string_view kind;     // as in sourceRef.kind
};

inline constexpr Kind k_configmap{"", "v1", "configmaps", "ConfigMap"};
inline constexpr Kind k_kustomization{"kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization"};
inline constexpr Kind k_git_repository{"source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository"};
inline constexpr Kind k_pod{"", "v1", "pods", "Pod"};

[[nodiscard]] std::string object_path(const Kind& kind, const ObjectRef& ref);
[[nodiscard]] k8s::Access access_for(const Kind& kind, const ObjectRef& ref, std::string_view verb);
[[nodiscard]] std::string describe(const Kind& kind, const ObjectRef& ref); // GitRepository flux-system/setup

// How a write is made: for real, as a server-side dry run (`dryRun=All`: validated and
// answered, nothing stored), or only recorded in the step (--dry-run of a write that has no
// server-side dry run worth sending).
enum class Write { real, server_dry_run, record_only };

// How a wait ended.
enum class WaitEnd { done, timed_out, interrupted };

struct Context {
  const Options& options;
  k8s::Client& kube;
  Progress& progress;
  const std::atomic<bool>* cancel;
  coderapi::Client* coder = nullptr; // set when options.coder is: the token's client, pinned

  [[nodiscard]] bool cancelled() const { return cancel != nullptr && cancel->load(); }

  // GET an object; on failure the step becomes `error` (or `interrupted`) with the reason.
  [[nodiscard]] std::optional<nlohmann::json> read(Step& step, const Kind& kind, const ObjectRef& ref);

  // Merge-patch `patch` into the object as `write` says (fieldManager=coder-dns-doctor), retrying
  // a 409 a few times, and return the answer (an empty object for `record_only`). The call is
  // recorded in the step and printed; on failure the step is set and nullopt returned.
  [[nodiscard]] std::optional<nlohmann::json> merge_patch(Step& step, const Kind& kind, const ObjectRef& ref,
                                                          const nlohmann::json& patch, Write write);

  // Call `check` now and then every poll interval until it returns true, the wait timeout passes
  // or `cancel` is set; `what` names what is awaited on the progress line.
  [[nodiscard]] WaitEnd wait_until(std::string_view step, std::string_view what, const std::function<bool()>& check);

  // Set `step` from an API failure: `interrupted` when cancelled, else `error` with its line.
  void fail_from(Step& step, const k8s::ApiError& error) const;
  void fail_from(Step& step, const coderapi::ApiError& error) const;
  // The same from the line an API error describes itself with.
  void fail_with(Step& step, std::string line) const;

  // Send one write to coderd (only record it under --dry-run: an empty object is returned), with
  // the call recorded in the step and printed; `shown` stands for a body not worth printing (a
  // tar). On failure the step is set and nullopt returned.
  [[nodiscard]] std::optional<nlohmann::json> coder_write(Step& step, const coderapi::Client::Write& write,
                                                          std::string_view shown = {});
};

// The record of a coderd write in a step (`shown` in place of a body not worth printing).
[[nodiscard]] ApiCall call_of(const coderapi::Client::Write& write, bool sent, std::string_view shown = {});

// Now as RFC 3339 with nanoseconds in UTC, as `flux reconcile` writes requestedAt.
[[nodiscard]] std::string now_rfc3339_nanos();

// The Flux steps: reconcile the Kustomization `kustomization` and its source, wait, report the
// revisions. Appends flux-source and flux-kustomization; false when the rollout must stop.
bool run_flux(Context& context, const ObjectRef& kustomization, std::vector<Step>& steps);

// The ConfigMap steps.
bool run_apply_configmap(Context& context, const nlohmann::json& live, std::optional<ObjectRef> flux_owner,
                         std::vector<Step>& steps);
bool run_verify_configmap(Context& context, std::vector<Step>& steps);

// The Coder steps: the template pushed (or its command printed) and the workspaces on an old
// build listed or rebuilt. Each appends its step; false when the rollout must stop.
bool run_template(Context& context, std::vector<Step>& steps);
bool run_workspaces(Context& context, std::vector<Step>& steps);

// The Kustomization that applied `configmap`, from its labels; nullopt when none.
[[nodiscard]] std::optional<ObjectRef> flux_owner_of(const nlohmann::json& configmap);

} // namespace coder_dns_doctor::rollout::detail
