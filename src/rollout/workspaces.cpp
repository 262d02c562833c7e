// The workspaces step: a build keeps the agent URL and token it started with, so the running
// workspaces of the template whose build is not on its active version (coderd's `outdated`), or
// whose pod's agent still dials another URL than the internal one (the audit's reading of the
// pods in the workspace namespaces), are on the old path. They are listed with the command that
// rebuilds each; --restart-workspaces starts those builds (at most --restart-concurrency at
// once) and waits until each runs the active version with every agent `connected` and its pods
// dialing the internal URL.
#include "context.hpp"

#include <coder_dns_doctor/coderapi/read.hpp>
#include <coder_dns_doctor/k8s/workspace.hpp>
#include <coder_dns_doctor/util/json_access.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace coder_dns_doctor::rollout::detail {
namespace {

using util::child;
using util::text_at;

// What the step needs of a codersdk.Workspace.
struct Workspace {
  std::string id;
  std::string path; // owner/name
  std::string template_name;
  std::string active_version; // template_active_version_id
  std::string transition;     // of the latest build: start | stop | delete
  std::string build_status;   // pending, starting, running, stopping, stopped, failed, canceled, ...
  bool outdated = false;
  std::size_t agents = 0;
  std::size_t connected = 0;
  std::vector<std::string> old_path_pods; // "namespace/pod dials HOST": pods not on the internal URL

  [[nodiscard]] bool running() const { return transition == "start" && build_status == "running"; }
  [[nodiscard]] bool build_ended_badly() const {
    return build_status == "failed" || build_status == "canceled" || build_status == "canceling";
  }
  [[nodiscard]] bool settled_on_active() const {
    return running() && !outdated && agents > 0 && connected == agents && old_path_pods.empty();
  }
};

// Which agent host the pods of each workspace dial (by com.coder.workspace.id), from the workspace
// namespaces. nullopt when they are not read: no namespace given, or the list failed (the reason
// in `why`, which the step notes: coderd's view alone decides then).
using PodsByWorkspace = std::map<std::string, std::vector<std::string>>;

std::optional<PodsByWorkspace> read_old_path_pods(Context& context, std::string& why) {
  const Options& options = context.options;
  auto url = util::parse_url(options.coder_url);
  if (options.workspace_namespaces.empty() || !url)
    return std::nullopt;
  PodsByWorkspace out;
  for (const auto& namespace_ : options.workspace_namespaces) {
    ObjectRef ref{namespace_, ""};
    auto list = context.kube.get(fmt::format("/api/v1/namespaces/{}/pods", namespace_), access_for(k_pod, ref, "list"));
    if (!list) {
      why = fmt::format("the workspace pods were not read ({}): coderd's view alone decides", list.error().describe());
      return std::nullopt;
    }
    auto pods = k8s::agent_pods(*list);
    if (!pods) {
      why = fmt::format("the pod list of {} is not what the API server sends: {}", namespace_, pods.error());
      return std::nullopt;
    }
    for (const auto& pod : *pods)
      if (k8s::classify_agent_host(pod.host, "", url->host, {}) != k8s::AgentTarget::internal)
        out[pod.labels.workspace_id].push_back(fmt::format("{} dials {}", pod.pod, pod.host));
  }
  return out;
}

void attach_pods(std::vector<Workspace>& workspaces, const PodsByWorkspace& pods) {
  for (auto& w : workspaces) {
    auto found = pods.find(w.id);
    w.old_path_pods = found == pods.end() ? std::vector<std::string>() : found->second;
  }
}

Workspace workspace_of(const nlohmann::json& row) {
  const nlohmann::json& build = child(row, "latest_build");
  Workspace w{.id = text_at(row, "id"),
              .path = fmt::format("{}/{}", text_at(row, "owner_name"), text_at(row, "name")),
              .template_name = text_at(row, "template_name"),
              .active_version = text_at(row, "template_active_version_id"),
              .transition = text_at(build, "transition"),
              .build_status = text_at(build, "status"),
              .outdated = false};
  if (const nlohmann::json* outdated = util::member(row, "outdated"); outdated != nullptr && outdated->is_boolean())
    w.outdated = outdated->get<bool>();
  if (const nlohmann::json* resources = util::member(build, "resources"); resources != nullptr && resources->is_array())
    for (const auto& resource : *resources)
      if (const nlohmann::json* agents = util::member(resource, "agents"); agents != nullptr && agents->is_array())
        for (const auto& agent : *agents) {
          ++w.agents;
          if (text_at(agent, "status") == "connected")
            ++w.connected;
        }
  return w;
}

std::string update_command(const Workspace& w) {
  return fmt::format("coder update {}", w.path);
}

// Every workspace the token may see, of `template_name` when it is given (paged, bounded as the
// check's reading is).
std::expected<std::vector<Workspace>, coderapi::CoderProblem> list_workspaces(coderapi::Client& api,
                                                                              const std::string& template_name) {
  std::vector<Workspace> out;
  auto paged = coderapi::page_workspaces(api, {}, [&](const nlohmann::json& answer) {
    auto read = coderapi::read_workspace_page(answer);
    if (read)
      for (const auto& row : *util::member(answer, "workspaces"))
        if (Workspace w = workspace_of(row); template_name.empty() || w.template_name == template_name)
          out.push_back(std::move(w));
    return read;
  });
  if (!paged)
    return std::unexpected(std::move(paged.error()));
  return out;
}

// The rebuilds: queued ones are started while fewer than the bound are in flight; each in flight
// is read back every poll until it runs the active version with its agents connected.
class Rebuilds {
public:
  Rebuilds(Context& context, Step& step, std::vector<Workspace> stale, bool read_pods)
      : m_context(context), m_step(step), m_api(*context.coder), m_read_pods(read_pods) {
    for (auto& w : stale)
      m_all.push_back({std::move(w), Phase::queued, {}});
  }

  void run() {
    WaitEnd end = m_context.wait_until(m_step.name, "rebuilt workspaces' agents to connect", [this] { return tick(); });
    std::vector<std::string> done;
    std::vector<std::string> failed;
    std::vector<std::string> pending;
    for (const auto& r : m_all) {
      if (r.phase == Phase::done)
        done.push_back(r.workspace.path);
      else if (r.phase == Phase::failed)
        failed.push_back(fmt::format("{} ({})", r.workspace.path, r.why));
      else
        pending.push_back(r.workspace.path);
    }
    std::string tally = fmt::format("{} of {} rebuilt on the active version with agents connected{}", done.size(),
                                    m_all.size(), m_read_pods ? " and pods on the internal URL" : "");
    if (end != WaitEnd::done) {
      m_step.status = end == WaitEnd::timed_out ? StepStatus::timed_out : StepStatus::interrupted;
      m_step.summary = fmt::format("{}: {}; not settled: {} (builds already started go on in coderd)",
                                   end == WaitEnd::timed_out ? "--wait-timeout passed" : "interrupted", tally,
                                   pending.empty() ? std::string("none") : fmt::format("{}", fmt::join(pending, ", ")));
    } else if (!failed.empty()) {
      m_step.status = StepStatus::failed;
      m_step.summary = fmt::format("{}; failed: {}", tally, fmt::join(failed, ", "));
    } else {
      m_step.status = StepStatus::verified;
      m_step.summary = tally;
    }
  }

private:
  enum class Phase { queued, building, done, failed };
  struct Rebuild {
    Workspace workspace;
    Phase phase;
    std::string why; // when failed
  };

  // One poll: read back those in flight, start queued ones up to the bound; true when none is
  // left queued or in flight.
  bool tick() {
    std::size_t in_flight = 0;
    if (m_read_pods) {
      std::string why;
      m_pods = read_old_path_pods(m_context, why);
    }
    for (auto& r : m_all)
      if (r.phase == Phase::building) {
        follow(r);
        in_flight += r.phase == Phase::building ? 1 : 0;
      }
    for (auto& r : m_all)
      if (r.phase == Phase::queued && in_flight < m_context.options.coder->restart_concurrency &&
          !m_context.cancelled()) {
        start(r);
        in_flight += r.phase == Phase::building ? 1 : 0;
      }
    return std::none_of(m_all.begin(), m_all.end(),
                        [](const Rebuild& r) { return r.phase == Phase::queued || r.phase == Phase::building; });
  }

  // A start build on the template's active version, as `coder update` sends it: one request, so
  // a stop never leaves a workspace down (a template that ignore_changes its pod needs coder restart).
  void start(Rebuild& r) {
    nlohmann::json body{{"transition", "start"}, {"template_version_id", r.workspace.active_version}};
    Step scratch{.name = m_step.name};
    auto answer = m_context.coder_write(scratch, {.method = http::Method::post,
                                                  .path = fmt::format("/api/v2/workspaces/{}/builds", r.workspace.id),
                                                  .content_type = "application/json",
                                                  .body = body.dump()});
    m_step.calls.insert(m_step.calls.end(), scratch.calls.begin(), scratch.calls.end());
    if (!answer) {
      r.phase = Phase::failed;
      r.why = scratch.summary;
      return;
    }
    r.phase = Phase::building;
    m_context.progress.line(m_step.name,
                            fmt::format("{}: build #{} started", r.workspace.path, answer->value("build_number", 0)));
  }

  void follow(Rebuild& r) {
    auto answer = m_api.get(fmt::format("/api/v2/workspaces/{}", r.workspace.id));
    if (!answer) {
      r.phase = Phase::failed;
      r.why = answer.error().describe();
      return;
    }
    Workspace now = workspace_of(*answer);
    if (m_pods) {
      auto found = m_pods->find(now.id);
      if (found != m_pods->end())
        now.old_path_pods = found->second;
    }
    if (now.build_ended_badly()) {
      r.phase = Phase::failed;
      r.why = fmt::format("build {}", now.build_status);
    } else if (now.settled_on_active()) {
      r.phase = Phase::done;
      m_context.progress.line(m_step.name, fmt::format("{}: running the active version, {} agent{} connected", now.path,
                                                       now.agents, now.agents == 1 ? "" : "s"));
    }
  }

  Context& m_context;
  Step& m_step;
  coderapi::Client& m_api;
  bool m_read_pods;                      // the pods were readable at the start: follow them too
  std::optional<PodsByWorkspace> m_pods; // this tick's reading
  std::vector<Rebuild> m_all;
};

void list_stale(Context& context, Step& step, const std::vector<Workspace>& workspaces, std::vector<Workspace>& stale) {
  for (const auto& w : workspaces) {
    if ((!w.outdated && w.old_path_pods.empty()) || w.transition != "start")
      continue;
    if (w.running())
      stale.push_back(w);
    else
      step.notes.push_back(
          fmt::format("{}: build {} on an old version; when it runs: {}", w.path, w.build_status, update_command(w)));
  }
  for (const auto& w : stale) {
    std::string why = w.outdated ? std::string("runs an old version") : std::string("is on the active version");
    if (!w.old_path_pods.empty())
      why += fmt::format(", its pod {}", fmt::join(w.old_path_pods, ", its pod "));
    step.notes.push_back(
        fmt::format("{}: {} ({} of {} agents connected): {}", w.path, why, w.connected, w.agents, update_command(w)));
    context.progress.line(step.name, step.notes.back());
  }
}

} // namespace

bool run_workspaces(Context& context, std::vector<Step>& steps) {
  const Options& options = context.options;
  Step step{.name = "workspaces"};
  auto started = std::chrono::steady_clock::now();
  if (!options.coder || context.coder == nullptr) {
    step.status = StepStatus::manual;
    step.summary = "rebuild each running workspace so its agent gets the new URL (coder update OWNER/WORKSPACE); "
                   "give --coder-token-file to list them";
  } else if (auto listed = list_workspaces(*context.coder, options.template_name); !listed) {
    context.fail_with(step, listed.error().text);
  } else {
    std::string pods_unread;
    auto pods = read_old_path_pods(context, pods_unread);
    if (pods)
      attach_pods(*listed, *pods);
    else if (!pods_unread.empty())
      step.notes.push_back(pods_unread);
    std::vector<Workspace> stale;
    list_stale(context, step, *listed, stale);
    std::string scope =
        options.template_name.empty() ? std::string("any template") : fmt::format("template {}", options.template_name);
    if (stale.empty()) {
      step.status = StepStatus::verified;
      step.summary = fmt::format("no running workspace of {} is on an old version{} ({} read)", scope,
                                 pods ? " or has a pod dialing another URL" : "", listed->size());
    } else if (!options.coder->restart_workspaces) {
      step.status = StepStatus::manual;
      step.summary = fmt::format("{} running workspace{} of {} on an old version: rebuild each (or "
                                 "--restart-workspaces)",
                                 stale.size(), stale.size() == 1 ? "" : "s", scope);
    } else if (options.dry_run) {
      for (const auto& w : stale)
        (void)context.coder_write(
            step, {.method = http::Method::post,
                   .path = fmt::format("/api/v2/workspaces/{}/builds", w.id),
                   .content_type = "application/json",
                   .body = nlohmann::json{{"transition", "start"}, {"template_version_id", w.active_version}}.dump()});
      step.status = StepStatus::planned;
      step.summary =
          fmt::format("would rebuild {} workspace{} on the active version", stale.size(), stale.size() == 1 ? "" : "s");
    } else {
      Rebuilds(context, step, std::move(stale), pods.has_value()).run();
    }
  }
  step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  context.progress.line(step.name, step.summary);
  bool go_on = step.status != StepStatus::error && step.status != StepStatus::interrupted;
  steps.push_back(std::move(step));
  return go_on;
}

} // namespace coder_dns_doctor::rollout::detail
