// The template step: the patched template directory pushed as a new version of the named
// template and promoted, the way `coder templates push` does it (coder/coder cli/templatepush.go):
// the organization (GET /users/me/organizations, or --coder-organization), the template and its
// active version's provisioner tags, POST /files (a tar), POST .../templateversions, the job
// awaited with its logs, PATCH /templates/{id}/versions, and the template read back. Without a
// token, or with --no-template-push, the command is printed instead.
#include "context.hpp"

#include <coder_dns_doctor/rollout/template_archive.hpp>
#include <coder_dns_doctor/util/json_access.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

namespace coder_dns_doctor::rollout::detail {
namespace {

using util::child;
using util::text_at;

constexpr std::size_t k_log_lines_kept = 20; // the job's last log lines kept in a failed step's notes

std::string push_command(const Options& options) {
  std::string name = options.template_name.empty() ? std::string("<template>") : options.template_name;
  std::string dir = options.template_dir.empty() ? std::string("<patched template directory>") : options.template_dir;
  return fmt::format("coder templates push {} --directory {} --yes", name, dir);
}

// The step as a printed command, with why it is not run here.
void manual_template_step(Context& context, Step& step, std::string reason) {
  step.status = StepStatus::manual;
  step.summary = std::move(reason);
  step.notes.insert(step.notes.begin(), push_command(context.options));
  context.progress.line(step.name, fmt::format("run: {}", step.notes.front()));
}

struct Target {
  std::string organization_id;
  std::string template_id;
  std::string active_version_id;
  std::string active_file_id;                     // the archive the active version was built from
  nlohmann::json tags = nlohmann::json::object(); // the active version's job tags, kept for the new one
};

class Push {
public:
  Push(Context& context, Step& step) : m_context(context), m_step(step), m_api(*context.coder) {}

  // Run the push; the step's status says how it ended.
  void run(const TemplateArchive& archive) {
    auto target = locate();
    if (!target)
      return;
    auto file = upload(archive);
    if (!file)
      return;
    // coderd keeps one file per content and uploader: the same archive answers the same ID, so
    // a rollout run again does not push (and outdate every workspace) a second time.
    if (!m_context.options.dry_run && *file == target->active_file_id) {
      m_step.status = StepStatus::verified;
      m_step.summary = fmt::format("the active version {} of {} was built from this very archive: not pushed again",
                                   target->active_version_id, m_context.options.template_name);
      return;
    }
    auto version = create_version(*target, *file);
    if (!version)
      return;
    if (m_context.options.dry_run) {
      (void)promote(*target, "<new version>");
      m_step.status = StepStatus::planned;
      m_step.summary =
          fmt::format("would push {} ({} files) as a new version of {} and promote it", m_context.options.template_dir,
                      archive.files.size(), m_context.options.template_name);
      return;
    }
    if (!await_job(*version))
      return;
    if (!promote(*target, *version))
      return;
    verify(*target, *version);
  }

private:
  // The organization and the template in it (with its active version's tags).
  std::optional<Target> locate() {
    Target target;
    auto organization = organization_id();
    if (!organization)
      return std::nullopt;
    target.organization_id = *organization;
    const std::string& name = m_context.options.template_name;
    auto found = m_api.get(fmt::format("/api/v2/organizations/{}/templates/{}", target.organization_id, name));
    if (!found) {
      m_context.fail_from(m_step, found.error());
      if (found.error().failure.kind == http::ApiErrorKind::not_found && m_step.status == StepStatus::error)
        m_step.summary = fmt::format("template '{}' does not exist in the organization; create it once with coder "
                                     "templates push (rollout pushes new versions of an existing template)",
                                     name);
      return std::nullopt;
    }
    target.template_id = text_at(*found, "id");
    target.active_version_id = text_at(*found, "active_version_id");
    if (target.template_id.empty()) {
      m_step.status = StepStatus::error;
      m_step.summary = fmt::format("coderd's answer for template '{}' has no id", name);
      return std::nullopt;
    }
    if (!target.active_version_id.empty()) {
      auto active = m_api.get(fmt::format("/api/v2/templateversions/{}", target.active_version_id));
      if (!active) {
        m_context.fail_from(m_step, active.error());
        return std::nullopt;
      }
      if (const nlohmann::json* tags = util::path(*active, {"job", "tags"}); tags != nullptr && tags->is_object())
        target.tags = *tags;
      target.active_file_id = text_at(child(*active, "job"), "file_id");
    }
    m_context.progress.line(m_step.name, fmt::format("template {} ({}), active version {}", name, target.template_id,
                                                     target.active_version_id));
    return target;
  }

  // --coder-organization by name or ID, else the token user's only organization.
  std::optional<std::string> organization_id() {
    auto listed = m_api.get_array("/api/v2/users/me/organizations");
    if (!listed) {
      m_context.fail_from(m_step, listed.error());
      return std::nullopt;
    }
    const std::string& wanted = m_context.options.coder->organization;
    std::vector<std::string> names;
    for (const auto& organization : *listed) {
      std::string id = text_at(organization, "id");
      std::string name = text_at(organization, "name");
      if (!wanted.empty() && (wanted == id || wanted == name))
        return id;
      names.push_back(name);
    }
    if (wanted.empty() && listed->size() == 1 && !text_at(listed->front(), "id").empty())
      return text_at(listed->front(), "id");
    m_step.status = StepStatus::error;
    m_step.summary = wanted.empty()
                         ? fmt::format("the token's user is in {} organizations ({}): choose one with "
                                       "--coder-organization",
                                       listed->size(), fmt::join(names, ", "))
                         : fmt::format("--coder-organization '{}': the token's user is not in it (it is in: {})",
                                       wanted, fmt::join(names, ", "));
    return std::nullopt;
  }

  std::optional<std::string> upload(const TemplateArchive& archive) {
    auto answer = m_context.coder_write(
        m_step,
        {.method = http::Method::post,
         .path = "/api/v2/files",
         .content_type = "application/x-tar",
         .body = archive.bytes},
        fmt::format("<ustar archive: {} files, {} bytes>", archive.files.size(), archive.bytes.size()));
    return created(answer, "hash", "<uploaded file>", "POST /api/v2/files");
  }

  // The `field` of what a write created (an ID), `planned` under --dry-run; nullopt (the step an
  // error) when the write failed or its answer lacks the field.
  std::optional<std::string> created(const std::optional<nlohmann::json>& answer, std::string_view field,
                                     std::string_view planned, std::string_view request) {
    if (!answer)
      return std::nullopt;
    if (m_context.options.dry_run)
      return std::string(planned);
    std::string value = text_at(*answer, field);
    if (value.empty()) {
      m_step.status = StepStatus::error;
      m_step.summary = fmt::format("{}: the answer has no {}", request, field);
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::string> create_version(const Target& target, const std::string& file) {
    nlohmann::json body{
        {"template_id", target.template_id}, {"storage_method", "file"}, {"file_id", file},
        {"provisioner", "terraform"},        {"tags", target.tags},      {"message", m_context.options.coder->message}};
    auto answer = m_context.coder_write(
        m_step, {.method = http::Method::post,
                 .path = fmt::format("/api/v2/organizations/{}/templateversions", target.organization_id),
                 .content_type = "application/json",
                 .body = body.dump()});
    auto id = created(answer, "id", "<new version>", "POST templateversions");
    if (id && !m_context.options.dry_run)
      m_step.notes.push_back(fmt::format("new version {} ({})", text_at(*answer, "name"), *id));
    return id;
  }

  // Wait for the version's provisioner job, printing its logs as they come; true on `succeeded`.
  bool await_job(const std::string& version) {
    std::string status;
    std::string error;
    std::optional<coderapi::ApiError> failure;
    std::int64_t after = 0;
    std::vector<std::string> recent;
    auto check = [&] {
      auto logs = m_api.get_array(fmt::format("/api/v2/templateversions/{}/logs?after={}", version, after));
      if (logs)
        for (const auto& log : *logs) {
          if (const nlohmann::json* id = util::member(log, "id"); id != nullptr && id->is_number_integer())
            after = std::max(after, id->get<std::int64_t>());
          std::string output = text_at(log, "output");
          std::string line = fmt::format("| {}", output.empty() ? text_at(log, "stage") : output);
          m_context.progress.line(m_step.name, line);
          recent.push_back(std::move(line));
          if (recent.size() > k_log_lines_kept)
            recent.erase(recent.begin());
        }
      auto job = m_api.get(fmt::format("/api/v2/templateversions/{}", version));
      if (!job) {
        failure = job.error();
        return true;
      }
      status = text_at(child(*job, "job"), "status");
      error = text_at(child(*job, "job"), "error");
      return status == "succeeded" || status == "failed" || status == "canceled";
    };
    WaitEnd end = m_context.wait_until(m_step.name, "the template version's build (terraform plan)", check);
    if (end != WaitEnd::done) {
      cancel_job(version, end);
      return false;
    }
    if (failure) {
      m_context.fail_from(m_step, *failure);
      return false;
    }
    if (status == "succeeded")
      return true;
    m_step.status = StepStatus::failed;
    m_step.summary = fmt::format("the new version's build {}{}; the active version is unchanged", status,
                                 error.empty() ? std::string() : ": " + error);
    m_step.notes.insert(m_step.notes.end(), recent.begin(), recent.end());
    return false;
  }

  // A wait that ended early leaves the version unpromoted (nothing live changed); its job is
  // cancelled as `coder templates push` does on Ctrl-C, by a client of its own since ours is
  // cancelled too.
  void cancel_job(const std::string& version, WaitEnd end) {
    coderapi::Client cleanup(m_api.connection());
    coderapi::Client::Write cancel{.method = http::Method::patch,
                                   .path = fmt::format("/api/v2/templateversions/{}/cancel", version),
                                   .content_type = "application/json",
                                   .body = "{}"};
    auto cancelled = cleanup.write(cancel);
    m_step.calls.push_back(call_of(cancel, true));
    m_step.status = end == WaitEnd::timed_out ? StepStatus::timed_out : StepStatus::interrupted;
    m_step.summary = fmt::format("{} before the new version's build finished: version {} was {}and not promoted; "
                                 "the active version is unchanged",
                                 end == WaitEnd::timed_out ? "--wait-timeout passed" : "interrupted", version,
                                 cancelled ? "cancelled " : "left (its cancel failed) ");
  }

  bool promote(const Target& target, const std::string& version) {
    return m_context
        .coder_write(m_step, {.method = http::Method::patch,
                              .path = fmt::format("/api/v2/templates/{}/versions", target.template_id),
                              .content_type = "application/json",
                              .body = nlohmann::json{{"id", version}}.dump()})
        .has_value();
  }

  void verify(const Target& target, const std::string& version) {
    auto read = m_api.get(fmt::format("/api/v2/templates/{}", target.template_id));
    if (!read) {
      m_context.fail_from(m_step, read.error());
      return;
    }
    std::string active = text_at(*read, "active_version_id");
    if (active != version) {
      m_step.status = StepStatus::failed;
      m_step.summary = fmt::format("promoted version {}, but the template's active version is {}", version, active);
      return;
    }
    m_step.status = StepStatus::verified;
    m_step.summary = fmt::format("pushed and promoted: template {} runs version {} (was {})",
                                 m_context.options.template_name, version, target.active_version_id);
  }

  Context& m_context;
  Step& m_step;
  coderapi::Client& m_api;
};

} // namespace

bool run_template(Context& context, std::vector<Step>& steps) {
  const Options& options = context.options;
  Step step{.name = "template"};
  auto started = std::chrono::steady_clock::now();
  auto finish = [&] {
    step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (step.status != StepStatus::manual)
      context.progress.line(step.name, step.summary);
    bool go_on = step.status == StepStatus::verified || step.status == StepStatus::planned ||
                 step.status == StepStatus::manual || step.status == StepStatus::skipped;
    steps.push_back(std::move(step));
    return go_on;
  };
  if (!options.coder || context.coder == nullptr) {
    manual_template_step(context, step,
                         "push the patched template so new builds carry the fix (no "
                         "--coder-token-file: not pushed here)");
    return finish();
  }
  if (!options.coder->push_template) {
    manual_template_step(context, step, "push the patched template so new builds carry the fix (--no-template-push)");
    return finish();
  }
  if (options.template_name.empty() || options.template_dir.empty()) {
    manual_template_step(context, step,
                         "push the patched template so new builds carry the fix (give --template and "
                         "--template-dir to push it here)");
    return finish();
  }
  auto archive = make_template_archive(options.template_dir);
  if (!archive) {
    step.status = StepStatus::error;
    step.summary = archive.error();
    return finish();
  }
  if (!archive->variable_files.empty()) {
    manual_template_step(context, step,
                         fmt::format("the template has variable files ({}): coder templates push sends their values; "
                                     "run it",
                                     fmt::join(archive->variable_files, ", ")));
    return finish();
  }
  step.notes.push_back(fmt::format("archive of {}: {} file{}, {} bytes", options.template_dir, archive->files.size(),
                                   archive->files.size() == 1 ? "" : "s", archive->bytes.size()));
  for (const auto& skipped : archive->skipped)
    step.notes.push_back(fmt::format("left out: {}", skipped));
  context.progress.line(step.name, step.notes.front());
  Push(context, step).run(*archive);
  return finish();
}

} // namespace coder_dns_doctor::rollout::detail
