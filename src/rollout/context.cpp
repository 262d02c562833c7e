#include "context.hpp"

#include <coder_dns_doctor/k8s/json_access.hpp>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <ctime>
#include <thread>

namespace coder_dns_doctor::rollout::detail {
namespace {

constexpr int k_conflict_attempts = 5;                       // a 409 is retried this many times in all
constexpr std::chrono::milliseconds k_conflict_backoff{200}; // doubled after each conflict
constexpr std::chrono::milliseconds k_cancel_slice{50};      // how often a wait looks at `cancel`

// Sleep `duration` in slices, returning early (false) when `cancel` is set.
bool sleep_unless_cancelled(std::chrono::milliseconds duration, const std::atomic<bool>* cancel) {
  auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    if (cancel != nullptr && cancel->load())
      return false;
    std::this_thread::sleep_for(std::min(k_cancel_slice, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             until - std::chrono::steady_clock::now())));
  }
  return cancel == nullptr || !cancel->load();
}

} // namespace

std::string object_path(const Kind& kind, const ObjectRef& ref) {
  std::string prefix =
      kind.group.empty() ? fmt::format("/api/{}", kind.version) : fmt::format("/apis/{}/{}", kind.group, kind.version);
  return fmt::format("{}/namespaces/{}/{}/{}", prefix, ref.namespace_, kind.resource, ref.name);
}

k8s::Access access_for(const Kind& kind, const ObjectRef& ref, std::string_view verb) {
  return k8s::Access{.verb = std::string(verb),
                     .group = std::string(kind.group),
                     .resource = std::string(kind.resource),
                     .namespace_ = ref.namespace_,
                     .name = ref.name};
}

std::string describe(const Kind& kind, const ObjectRef& ref) {
  return fmt::format("{} {}/{}", kind.kind, ref.namespace_, ref.name);
}

std::string now_rfc3339_nanos() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count();
  std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", utc, nanos);
}

ApiCall call_of(const coderapi::Client::Write& write, bool sent, std::string_view shown) {
  return ApiCall{.method = write.method == http::Method::patch ? "PATCH" : "POST",
                 .path = write.path,
                 .content_type = write.content_type,
                 .body = shown.empty() ? write.body : std::string(shown),
                 .sent = sent};
}

void Context::fail_with(Step& step, std::string line) const {
  if (cancelled()) {
    step.status = StepStatus::interrupted;
    step.summary = "interrupted";
    return;
  }
  step.status = StepStatus::error;
  step.summary = std::move(line);
}

void Context::fail_from(Step& step, const k8s::ApiError& error) const {
  fail_with(step, error.describe());
}

void Context::fail_from(Step& step, const coderapi::ApiError& error) const {
  fail_with(step, error.describe());
}

std::optional<nlohmann::json> Context::coder_write(Step& step, const coderapi::Client::Write& write,
                                                   std::string_view shown) {
  ApiCall call = call_of(write, !options.dry_run, shown);
  step.calls.push_back(call);
  progress.line(step.name,
                fmt::format("{}{} {} {}", call.sent ? "" : "would send: ", call.method, call.path, call.body));
  if (!call.sent)
    return nlohmann::json::object();
  auto answer = coder->write(write);
  if (!answer) {
    fail_from(step, answer.error());
    return std::nullopt;
  }
  return std::move(*answer);
}

std::optional<nlohmann::json> Context::read(Step& step, const Kind& kind, const ObjectRef& ref) {
  auto object = kube.get(object_path(kind, ref), access_for(kind, ref, "get"));
  if (!object) {
    fail_from(step, object.error());
    return std::nullopt;
  }
  return std::move(*object);
}

std::optional<nlohmann::json> Context::merge_patch(Step& step, const Kind& kind, const ObjectRef& ref,
                                                   const nlohmann::json& patch, Write write) {
  std::string query = fmt::format("?fieldManager={}", k_field_manager);
  if (write == Write::server_dry_run)
    query += "&dryRun=All";
  ApiCall call{.method = "PATCH",
               .path = object_path(kind, ref) + query,
               .content_type = std::string(k_merge_patch),
               .body = patch.dump(),
               .sent = write != Write::record_only};
  step.calls.push_back(call);
  progress.line(step.name, fmt::format("{}PATCH {} {}", call.sent ? "" : "would send: ", call.path, call.body));
  if (!call.sent)
    return nlohmann::json::object();
  auto backoff = k_conflict_backoff;
  for (int attempt = 1;; ++attempt) {
    auto answer = kube.patch(call.path, call.content_type, call.body, access_for(kind, ref, "patch"));
    if (answer)
      return std::move(*answer);
    if (answer.error().kind != k8s::ErrorKind::conflict || attempt == k_conflict_attempts) {
      fail_from(step, answer.error());
      return std::nullopt;
    }
    step.notes.push_back(fmt::format("409 Conflict on {} (attempt {}): retried", describe(kind, ref), attempt));
    progress.line(step.name, step.notes.back());
    if (!sleep_unless_cancelled(backoff, cancel)) {
      step.status = StepStatus::interrupted;
      step.summary = "interrupted while retrying a conflict; nothing was changed by this step";
      return std::nullopt;
    }
    backoff *= 2;
  }
}

WaitEnd Context::wait_until(std::string_view step, std::string_view what, const std::function<bool()>& check) {
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + options.wait_timeout;
  for (;;) {
    if (cancelled())
      return WaitEnd::interrupted;
    if (check())
      return WaitEnd::done;
    if (cancelled())
      return WaitEnd::interrupted;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return WaitEnd::timed_out;
    progress.waiting(step, what, std::chrono::duration_cast<std::chrono::milliseconds>(now - started));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (!sleep_unless_cancelled(std::min(options.poll_interval, left), cancel))
      return WaitEnd::interrupted;
  }
}

std::optional<ObjectRef> flux_owner_of(const nlohmann::json& configmap) {
  const nlohmann::json& labels = k8s::child(k8s::child(configmap, "metadata"), "labels");
  std::string name = k8s::text_at(labels, k_kustomization_name_label);
  std::string namespace_ = k8s::text_at(labels, k_kustomization_namespace_label);
  if (name.empty() || namespace_.empty())
    return std::nullopt;
  return ObjectRef{namespace_, name};
}

} // namespace coder_dns_doctor::rollout::detail
