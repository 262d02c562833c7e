// The patch fix (see fix.hpp): each step finds its spans, plans byte edits, and is idempotent.
#include <coder_dns_doctor/patch/fix.hpp>
#include <coder_dns_doctor/patch/hcl/format.hpp>
#include <coder_dns_doctor/patch/hcl/syntax.hpp>
#include <coder_dns_doctor/patch/locate.hpp>
#include <coder_dns_doctor/patch/yaml/editor.hpp>
#include <coder_dns_doctor/util/atomic_file.hpp>

#include "edit_support.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <map>

namespace coder_dns_doctor::patch {
namespace {

using namespace detail;
namespace fs = std::filesystem;
using hcl::Node;
using hcl::NodeKind;

constexpr std::array<std::string_view, 2> k_configmap_data_types = {"kubernetes_config_map_v1",
                                                                    "kubernetes_config_map"};
constexpr std::string_view k_local_comment =
    "In-cluster Coder URL for agents: the external name may resolve to a stale address in the cluster";
constexpr std::string_view k_configmap_comment =
    "Internal Coder URL for workspace agents (in-cluster Service, avoids split-horizon DNS)";

struct DataSource {
  const Node* block = nullptr;
  std::string path; // data.<type>.<name>
};

std::optional<DataSource> find_configmap_source(const Node& root, std::string_view configmap_name) {
  for (const Node& item : root.children) {
    if (item.kind != NodeKind::block || item.text != "data")
      continue;
    auto labels = labels_of(item);
    if (labels.size() != 2 ||
        std::find(k_configmap_data_types.begin(), k_configmap_data_types.end(), labels[0]->text) ==
            k_configmap_data_types.end())
      continue;
    for (const Node& inner : body_of(item).children) {
      if (inner.kind != NodeKind::block || inner.text != "metadata")
        continue;
      const Node* name = find_attribute(body_of(inner), "name");
      if (name && literal_string(name->children[1]) == configmap_name)
        return DataSource{&item, fmt::format("data.{}.{}", labels[0]->text, labels[1]->text)};
    }
  }
  return std::nullopt;
}

bool is_init_script(const Node& node) {
  if (node.kind != NodeKind::get_attr || node.text != "init_script")
    return false;
  const Node& agent = node.children.front();
  return agent.kind == NodeKind::get_attr && agent.children.front().kind == NodeKind::variable &&
         agent.children.front().text == "coder_agent";
}

std::vector<const Node*> coder_url_locals(const Node& root) {
  std::vector<const Node*> found;
  for (const Node& item : root.children)
    if (item.kind == NodeKind::block && item.text == "locals")
      if (const Node* attribute = find_attribute(body_of(item), "coder_url"))
        found.push_back(attribute);
  return found;
}

} // namespace

bool Plan::changes() const {
  return std::any_of(files.begin(), files.end(), [](const FileChange& file) { return file.changed(); });
}

std::string_view to_string(StepStatus status) {
  switch (status) {
  case StepStatus::done: return "done";
  case StepStatus::already_done: return "already done";
  case StepStatus::skipped: return "skipped";
  }
  return "?";
}

std::expected<TemplateResult, PatchError> fix_template(const std::string& display, const std::string& source,
                                                       std::string_view configmap_name, Scope scope,
                                                       std::string_view configmap_key) {
  auto parsed = hcl::parse(display, source);
  if (!parsed)
    return failure(parsed.error().to_string());
  const Node& root = parsed->root;
  const std::string eol = eol_of(source);
  TemplateResult result;
  std::vector<Edit> edits;

  auto source_block = find_configmap_source(root, configmap_name);
  if (!source_block)
    return failure(fmt::format("{}: expected a data \"kubernetes_config_map_v1\" (or \"kubernetes_config_map\") "
                               "block whose metadata.name is \"{}\"",
                               display, configmap_name));
  const std::string wanted_expr = fmt::format("{}.data[\"{}\"]", source_block->path, configmap_key);

  // Step: the local that reads coder_url from the ConfigMap.
  auto existing = coder_url_locals(root);
  if (existing.size() > 1)
    return failure(fmt::format("{}: local coder_url is defined more than once (also at line {}); expected exactly one",
                               at(display, source, existing[1]->span.begin),
                               hcl::line_column(source, existing[0]->span.begin).first));
  if (existing.size() == 1) {
    std::string_view current = existing[0]->children[1].span.in(source);
    if (remove_blanks(current) != remove_blanks(wanted_expr))
      return failure(fmt::format("{}: local coder_url is `{}`; expected `{}` (rename or remove it, then run again)",
                                 at(display, source, existing[0]->span.begin), current, wanted_expr));
    result.steps.push_back({"template-local", StepStatus::already_done,
                            fmt::format("{}: local.coder_url reads {}", at(display, source, existing[0]->span.begin),
                                        source_block->path)});
  } else {
    const Node* reading_block = nullptr;
    const Node* last_reader = nullptr;
    for (const Node& item : root.children) {
      if (item.kind != NodeKind::block || item.text != "locals" || reading_block)
        continue;
      for (const Node& attribute : body_of(item).children)
        if (attribute.kind == NodeKind::attribute && references(attribute.children[1], source_block->path)) {
          reading_block = &item;
          last_reader = &attribute;
        }
    }
    if (last_reader) {
      std::string indent = indentation_at(source, last_reader->span.begin);
      std::string comment = indent + "# " + std::string(k_local_comment) + eol;
      std::size_t insert_at = after_line_end(source, last_reader->span.end);
      edits.push_back({insert_at, insert_at, comment + indent + "coder_url = " + wanted_expr + eol, comment.size()});
      result.steps.push_back({"template-local", StepStatus::done,
                              fmt::format("{}: local.coder_url = {} (in the locals block that reads the ConfigMap)",
                                          at(display, source, insert_at), wanted_expr)});
    } else {
      std::size_t insert_at = source_block->block->span.end;
      std::string text = eol + eol + "locals {" + eol + "  # " + std::string(k_local_comment) + eol +
                         "  coder_url = " + wanted_expr + eol + "}";
      edits.push_back({insert_at, insert_at, text, text.find("coder_url")});
      result.steps.push_back({"template-local", StepStatus::done,
                              fmt::format("{}: new locals block with local.coder_url = {}",
                                          at(display, source, insert_at), wanted_expr)});
    }
  }

  // Step: every CODER_AGENT_URL entry and env block.
  int agent_env_done = 0;
  int agent_env_already = 0;
  bool has_env_structure = false;
  std::size_t first_env_offset = 0;
  auto set_agent_url = [&](const Node& value) {
    if (hcl::traversal_path(value) == "local.coder_url") {
      ++agent_env_already;
      return;
    }
    if (agent_env_done + agent_env_already == 0)
      first_env_offset = value.span.begin;
    edits.push_back({value.span.begin, value.span.end, "local.coder_url", 0});
    ++agent_env_done;
  };
  walk(root, [&](const Node& node, const std::vector<const Node*>&) {
    if (node.kind == NodeKind::attribute && (node.text == "extra_env" || node.text == "env"))
      has_env_structure = true;
    if (node.kind == NodeKind::block && node.text == "env")
      has_env_structure = true;
    if (node.kind == NodeKind::block && node.text == "dynamic" && !labels_of(node).empty() &&
        labels_of(node)[0]->text == "env")
      has_env_structure = true;
    if (node.kind == NodeKind::object_item && is_agent_url_key(node.children[0])) {
      if (agent_env_done + agent_env_already == 0)
        first_env_offset = node.span.begin;
      set_agent_url(node.children[1]);
    }
    if (node.kind == NodeKind::block && node.text == "env" && labels_of(node).empty()) {
      const Node* name = find_attribute(body_of(node), "name");
      const Node* value = find_attribute(body_of(node), "value");
      if (name && literal_string(name->children[1]) == "CODER_AGENT_URL") {
        if (agent_env_done + agent_env_already == 0)
          first_env_offset = node.span.begin;
        if (value)
          set_agent_url(value->children[1]);
        else
          has_env_structure = has_env_structure && true;
      }
    }
  });
  int agent_env_entries = agent_env_done + agent_env_already;
  if (agent_env_entries == 0 && !has_env_structure)
    return failure(fmt::format("{}: expected an extra_env map or env blocks on the agent's container (found "
                               "neither); cannot tell how the agent is started",
                               display));
  if (agent_env_entries == 0 && scope == Scope::agent_env_only)
    return failure(fmt::format("{}: expected a \"CODER_AGENT_URL\" entry in an extra_env/env map or an env block; "
                               "this template passes the URL only through the init script (run without "
                               "--agent-env-only)",
                               display));
  if (agent_env_done > 0)
    result.steps.push_back({"agent-env", StepStatus::done,
                            fmt::format("{}: \"CODER_AGENT_URL\" = local.coder_url ({} of {} entries changed)",
                                        at(display, source, first_env_offset), agent_env_done, agent_env_entries)});
  else if (agent_env_entries > 0)
    result.steps.push_back({"agent-env", StepStatus::already_done,
                            fmt::format("{}: \"CODER_AGENT_URL\" = local.coder_url ({} entries)",
                                        at(display, source, first_env_offset), agent_env_entries)});
  else
    result.steps.push_back({"agent-env", StepStatus::skipped,
                            fmt::format("{}: no \"CODER_AGENT_URL\" entry; the agent takes its URL from the init script",
                                        display)});

  // Step: wrap every coder_agent.<x>.init_script reference.
  if (scope == Scope::agent_env_only) {
    result.steps.push_back({"init-script", StepStatus::skipped, "--agent-env-only"});
  } else {
    std::optional<std::string> workspace = find_workspace_source(root);
    std::string access_url = workspace.value_or("data.coder_workspace.me") + ".access_url";
    int wrapped = 0;
    int already = 0;
    std::size_t first_offset = 0;
    walk(root, [&](const Node& node, const std::vector<const Node*>& parents) {
      if (!is_init_script(node))
        return;
      if (wrapped + already == 0)
        first_offset = node.span.begin;
      if (!parents.empty()) {
        const Node& parent = *parents.back();
        if (parent.kind == NodeKind::function_call && parent.text == "replace" && parent.children.size() == 3 &&
            &parent.children[0] == &node && hcl::traversal_path(parent.children[1]).starts_with("data.coder_workspace.") &&
            hcl::traversal_path(parent.children[1]).ends_with(".access_url") &&
            hcl::traversal_path(parent.children[2]) == "local.coder_url") {
          ++already;
          return;
        }
      }
      edits.push_back({node.span.begin, node.span.end,
                       fmt::format("replace({}, {}, local.coder_url)", hcl::traversal_path(node), access_url), 0});
      ++wrapped;
    });
    if (wrapped + already == 0 && agent_env_entries == 0)
      return failure(fmt::format("{}: expected coder_agent.<name>.init_script in the agent's start command (a "
                                 "container command, ENVBUILDER_INIT_SCRIPT or an env map); found none",
                                 display));
    std::string added;
    if (wrapped > 0 && !workspace) {
      std::size_t insert_at = line_start(source, source_block->block->span.begin);
      edits.push_back({insert_at, insert_at, "data \"coder_workspace\" \"me\" {}" + eol + eol, 0});
      added = "; added data \"coder_workspace\" \"me\" {}";
    }
    if (wrapped > 0)
      result.steps.push_back({"init-script", StepStatus::done,
                              fmt::format("{}: {} coder_agent init_script reference{} wrapped in replace(..., {}, "
                                          "local.coder_url){}",
                                          at(display, source, first_offset), wrapped, wrapped == 1 ? "" : "s",
                                          access_url, added)});
    else if (already > 0)
      result.steps.push_back({"init-script", StepStatus::already_done,
                              fmt::format("{}: {} init_script reference{} already rewritten to local.coder_url",
                                          at(display, source, first_offset), already, already == 1 ? "" : "s")});
    else
      result.steps.push_back({"init-script", StepStatus::skipped,
                              fmt::format("{}: no coder_agent.<name>.init_script reference", display)});
  }

  if (edits.empty()) {
    result.text = source;
    return result;
  }
  auto edited = apply_and_reparse(display, source, edits);
  if (!edited)
    return std::unexpected(edited.error());
  result.text = std::move(edited->text);

  // Validate the result: it parses (above), defines local.coder_url once, and its data sources exist.
  const auto* check = &edited->file;
  if (coder_url_locals(check->root).size() != 1)
    return failure(fmt::format("internal check failed, nothing written: {}: local.coder_url is not defined exactly once",
                               display));
  if (!find_configmap_source(check->root, configmap_name))
    return failure(fmt::format("internal check failed, nothing written: {}: the ConfigMap data source is gone", display));
  if (references(check->root, "data.coder_workspace") && !find_workspace_source(check->root) &&
      !find_workspace_source(root))
    return failure(fmt::format("internal check failed, nothing written: {}: data.coder_workspace is referenced but "
                               "not defined",
                               display));
  return result;
}

namespace {

struct YamlTarget {
  fs::path path;
  std::string text;
  std::size_t index = 0;
  yaml::Document document;
};

// Return the documents of kind `kind` (and name `name` when not empty) across `files`.
std::expected<std::vector<YamlTarget>, PatchError> find_documents(const std::vector<fs::path>& files,
                                                                  const fs::path& repo, std::string_view kind,
                                                                  std::string_view name, bool strict) {
  std::vector<YamlTarget> found;
  for (const fs::path& path : files) {
    auto text = util::read_file(path);
    if (!text)
      return failure(text.error());
    auto docs = yaml::documents(*text);
    if (!docs) {
      if (strict || text->find(name.empty() ? kind : name) != std::string::npos)
        return failure(fmt::format("{}:{}: not valid YAML: {}", display_path(path, repo), docs.error().line,
                                   docs.error().message));
      continue;
    }
    for (std::size_t i = 0; i < docs->size(); ++i)
      if ((*docs)[i].kind == kind && (name.empty() || (*docs)[i].name == name))
        found.push_back({path, *text, i, (*docs)[i]});
  }
  return found;
}

std::expected<fs::path, PatchError> resolve_given(const fs::path& repo, const fs::path& given, std::string_view option) {
  fs::path path = given.is_absolute() ? given : repo / given;
  std::error_code error;
  if (!fs::exists(path, error))
    return failure(fmt::format("{} {}: no such file in {}", option, given.string(), repo.string()));
  return path;
}

std::expected<void, PatchError> check_inside(const fs::path& path, const fs::path& repo) {
  if (!util::resolves_inside(path, repo))
    return failure(fmt::format("{}: resolves to {}, outside the repository {}; refusing to edit it",
                               display_path(path, repo), fs::weakly_canonical(path).string(), repo.string()));
  return {};
}

std::expected<void, PatchError> set_yaml(YamlTarget& target, FileChange& file, const std::vector<std::string>& key,
                                         std::string_view value, std::string_view comment, StepReport& report,
                                         const std::string& what) {
  auto result = yaml::set_scalar(file.after, target.document, key, value, comment);
  if (!result)
    return failure(fmt::format("{}:{}: {}", file.display, result.error().line, result.error().message));
  if (std::string problem = yaml::verify_edit(file.after, result->text, target.index, key, value); !problem.empty())
    return failure(fmt::format("internal check failed, nothing written: {}: {}", file.display, problem));
  std::string location = fmt::format("{}:{}", file.display, result->line);
  switch (result->change) {
  case yaml::Change::none:
    report = {report.step, StepStatus::already_done, fmt::format("{}: {} is {}", location, what, value)};
    break;
  case yaml::Change::inserted:
    report = {report.step, StepStatus::done, fmt::format("{}: {} = {}", location, what, value)};
    break;
  case yaml::Change::updated:
    report = {report.step, StepStatus::done,
              fmt::format("{}: {} = {} (was {})", location, what, value, result->previous)};
    break;
  }
  file.after = std::move(result->text);
  return {};
}


bool defines_agent(const Node& root) {
  return std::any_of(root.children.begin(), root.children.end(), [](const Node& item) {
    auto labels = labels_of(item);
    return item.kind == NodeKind::block && item.text == "resource" && !labels.empty() &&
           labels[0]->text == "coder_agent";
  });
}

std::vector<fs::path> template_candidates(const Options& options, const fs::path& repo) {
  if (options.template_file)
    return {options.template_file->is_absolute() ? *options.template_file : repo / *options.template_file};
  return find_files(repo, {".tf"});
}

// Whether --template (or any *.tf) reads ConfigMap coder-workspace-config through a data source.
bool any_template_reads_configmap(const Options& options, const fs::path& repo) {
  for (const fs::path& path : template_candidates(options, repo)) {
    auto text = util::read_file(path);
    if (!text)
      continue;
    auto parsed = hcl::parse(display_path(path, repo), *text);
    if (parsed && find_configmap_source(parsed->root, options.configmap_name))
      return true;
  }
  return false;
}

// Return --template, or every *.tf that defines a coder_agent (and, in ConfigMap mode, reads it).
std::expected<std::vector<fs::path>, PatchError> find_templates(const Options& options, const fs::path& repo,
                                                                bool template_only) {
  if (options.template_file) {
    auto path = resolve_given(repo, *options.template_file, "--template");
    if (!path)
      return std::unexpected(path.error());
    return std::vector<fs::path>{*path};
  }
  std::vector<fs::path> templates;
  for (const fs::path& path : find_files(repo, {".tf"})) {
    auto text = util::read_file(path);
    if (!text)
      return failure(text.error());
    auto parsed = hcl::parse(display_path(path, repo), *text);
    if (!parsed) {
      if (text->find(options.configmap_name) != std::string::npos || text->find("coder_agent") != std::string::npos)
        return failure(parsed.error().to_string());
      continue;
    }
    if (defines_agent(parsed->root) && (template_only || find_configmap_source(parsed->root, options.configmap_name)))
      templates.push_back(path);
  }
  if (templates.empty() && template_only)
    return failure(fmt::format("{}: expected a *.tf file that defines a resource \"coder_agent\" (or pass --template)",
                               repo.string()));
  if (templates.empty())
    return failure(fmt::format("{}: expected a *.tf file that defines a coder_agent and reads ConfigMap {} through "
                               "data \"kubernetes_config_map_v1\" (or pass --template)",
                               repo.string(), options.configmap_name));
  return templates;
}

// Return the ConfigMap to edit, or nothing for template-only mode: --no-configmap, or (automatic)
// no ConfigMap found and no template reading one.
std::expected<std::optional<YamlTarget>, PatchError> find_configmap(const Options& options, const fs::path& repo,
                                                                    const std::vector<fs::path>& yaml_files) {
  if (options.mode == Mode::template_only || options.mode == Mode::provider_url)
    return std::nullopt;
  if (options.configmap) {
    auto path = resolve_given(repo, *options.configmap, "--configmap");
    if (!path)
      return std::unexpected(path.error());
    auto found = find_documents({*path}, repo, "ConfigMap", options.configmap_name, true);
    if (!found)
      return std::unexpected(found.error());
    if (found->empty())
      return failure(fmt::format("{}: expected a ConfigMap named {} in this file", display_path(*path, repo),
                                 options.configmap_name));
    return std::move(found->front());
  }
  auto found = find_documents(yaml_files, repo, "ConfigMap", options.configmap_name, false);
  if (!found)
    return std::unexpected(found.error());
  if (found->size() > 1)
    return failure(fmt::format("ConfigMap {} is defined in {} and {}; pass --configmap to choose", options.configmap_name,
                               display_path((*found)[0].path, repo), display_path((*found)[1].path, repo)));
  if (found->size() == 1)
    return std::move(found->front());
  if (options.mode == Mode::automatic && !any_template_reads_configmap(options, repo))
    return std::nullopt;
  return failure(fmt::format("{}: expected a ConfigMap named {} in a *.yaml/*.yml file (or pass --configmap)",
                             repo.string(), options.configmap_name));
}
} // namespace

std::expected<Plan, PatchError> plan(const Options& options) {
  std::error_code error;
  fs::path repo = fs::absolute(options.repo, error).lexically_normal();
  if (!repo.empty() && repo.filename().empty())
    repo = repo.parent_path();
  if (!fs::is_directory(repo, error))
    return failure(fmt::format("--repo {}: not a directory", options.repo.string()));
  Plan result;
  std::map<fs::path, std::size_t> file_index;
  auto file_for = [&](const fs::path& path, const std::string& text) -> FileChange& {
    auto [it, inserted] = file_index.emplace(path, result.files.size());
    if (inserted)
      result.files.push_back({path, display_path(path, repo), text, text});
    return result.files[it->second];
  };

  std::vector<fs::path> yaml_files = find_files(repo, {".yaml", ".yml"});

  // 1. The ConfigMap (none in template-only mode).
  auto configmap = find_configmap(options, repo, yaml_files);
  if (!configmap)
    return std::unexpected(configmap.error());
  const bool template_only = !configmap->has_value();
  if (template_only) {
    result.steps.push_back({"configmap", StepStatus::skipped,
                            fmt::format("{}; {} mode: the internal URL is variable \"{}\" in the template",
                                        options.mode == Mode::template_only  ? "chosen with --no-configmap (or --mode template)"
                                        : options.mode == Mode::provider_url ? "--mode provider-url"
                                                                             : "no ConfigMap " + options.configmap_name,
                                        options.mode == Mode::provider_url ? "provider-url" : "template-only",
                                        k_internal_url_variable)});
  } else {
    if (auto inside = check_inside((*configmap)->path, repo); !inside)
      return std::unexpected(inside.error());
    FileChange& file = file_for((*configmap)->path, (*configmap)->text);
    StepReport report{"configmap", StepStatus::skipped, {}};
    if (auto set = set_yaml(**configmap, file, {"data", options.configmap_key}, options.coder_url, k_configmap_comment,
                            report, "data." + options.configmap_key);
        !set)
      return std::unexpected(set.error());
    result.steps.push_back(std::move(report));
  }

  // 2-4. The template(s).
  auto templates = find_templates(options, repo, template_only);
  if (!templates)
    return std::unexpected(templates.error());
  for (const fs::path& path : *templates) {
    if (auto inside = check_inside(path, repo); !inside)
      return std::unexpected(inside.error());
    auto text = util::read_file(path);
    if (!text)
      return failure(text.error());
    FileChange& file = file_for(path, *text);
    auto fixed = options.mode == Mode::provider_url ? fix_provider_url(file.display, file.after, options.coder_url)
                 : template_only ? fix_template_only(file.display, file.after, options.coder_url, options.scope)
                               : fix_template(file.display, file.after, options.configmap_name, options.scope,
                                              options.configmap_key);
    if (!fixed)
      return std::unexpected(fixed.error());
    file.after = std::move(fixed->text);
    for (auto& step : fixed->steps)
      result.steps.push_back(std::move(step));
  }

  // 5. Flux GitRepository branch.
  if (!options.flux_branch) {
    result.steps.push_back({"flux-branch", StepStatus::skipped, "no --flux-branch"});
  } else {
    auto found = find_documents(yaml_files, repo, "GitRepository", "", false);
    if (!found)
      return std::unexpected(found.error());
    std::vector<YamlTarget> candidates = std::move(*found);
    if (candidates.size() > 1) {
      std::vector<YamlTarget> near;
      for (auto& candidate : candidates)
        if (!template_only && candidate.path.parent_path() == (*configmap)->path.parent_path())
          near.push_back(candidate);
      if (near.size() == 1)
        candidates = std::move(near);
    }
    if (candidates.empty())
      return failure(fmt::format("--flux-branch: expected a Flux GitRepository manifest under {}", repo.string()));
    if (candidates.size() > 1)
      return failure(fmt::format("--flux-branch: several GitRepository manifests ({}, {}); expected one",
                                 display_path(candidates[0].path, repo), display_path(candidates[1].path, repo)));
    YamlTarget& flux = candidates.front();
    if (auto inside = check_inside(flux.path, repo); !inside)
      return std::unexpected(inside.error());
    FileChange& file = file_for(flux.path, flux.text);
    for (std::string_view pin : {"tag", "semver", "commit", "name"}) {
      auto value = yaml::get_scalar(file.after, flux.document, {"spec", "ref", std::string(pin)});
      if (value && *value) {
        std::size_t line = flux.document.first_line;
        std::string needle = std::string(pin) + ":";
        std::size_t offset = file.after.find(needle, flux.document.begin);
        if (offset != std::string::npos && offset < flux.document.end)
          line = hcl::line_column(file.after, offset).first;
        return failure(fmt::format("{}:{}: GitRepository {} pins spec.ref.{} `{}`; expected a branch ref (not "
                                   "overwritten: change it by hand)",
                                   file.display, line, flux.document.name, pin, **value));
      }
    }
    StepReport report{"flux-branch", StepStatus::skipped, {}};
    if (auto set = set_yaml(flux, file, {"spec", "ref", "branch"}, *options.flux_branch, "", report, "spec.ref.branch");
        !set)
      return std::unexpected(set.error());
    result.steps.push_back(std::move(report));
  }
  return result;
}

std::expected<void, PatchError> apply(const Plan& plan, const fs::path& repo) {
  std::error_code error;
  fs::path root = fs::absolute(repo, error);
  for (const FileChange& file : plan.files) {
    if (!file.changed())
      continue;
    if (auto inside = check_inside(file.path, root); !inside)
      return std::unexpected(inside.error());
    if (auto replaceable = util::check_replaceable(file.path); !replaceable)
      return failure(fmt::format("cannot write {}", replaceable.error()));
    auto current = util::read_file(file.path);
    if (!current || *current != file.before)
      return failure(fmt::format("{}: changed on disk while patch ran; run it again", file.display));
  }
  for (const FileChange& file : plan.files) {
    if (!file.changed())
      continue;
    if (auto written = util::write_file_atomically(fs::weakly_canonical(file.path), file.after); !written)
      return failure(written.error());
  }
  return {};
}

} // namespace coder_dns_doctor::patch
