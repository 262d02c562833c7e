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
    if (labels.size() != 2 || std::find(k_configmap_data_types.begin(), k_configmap_data_types.end(),
                                        labels[0]->text) == k_configmap_data_types.end())
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

namespace {

// A template being fixed in ConfigMap mode: its text and tree, the ConfigMap data source it reads
// and what the steps have planned so far. Steps run in order and only append: the order of
// `edits` is part of the output (insertions at one offset are applied in it).
struct TemplateFix {
  const std::string& display;
  const std::string& source;
  const Node& root;
  std::string eol;
  DataSource configmap;
  std::string wanted_expr; // data.<type>.<name>.data["<key>"], the value of local.coder_url
  std::vector<Edit> edits;
  TemplateResult result;

  std::string where(std::size_t offset) const { return at(display, source, offset); }
  void report(std::string_view step, StepStatus status, std::string detail) {
    result.steps.push_back({std::string(step), status, std::move(detail)});
  }
};

// Insert `coder_url = <wanted_expr>` after the last attribute that reads the ConfigMap in the
// first `locals` block that does, or a new `locals` block after the data source when none does.
void insert_local(TemplateFix& fix) {
  const Node* reading_block = nullptr;
  const Node* last_reader = nullptr;
  for (const Node& item : fix.root.children) {
    if (item.kind != NodeKind::block || item.text != "locals" || reading_block)
      continue;
    for (const Node& attribute : body_of(item).children)
      if (attribute.kind == NodeKind::attribute && references(attribute.children[1], fix.configmap.path)) {
        reading_block = &item;
        last_reader = &attribute;
      }
  }
  if (last_reader) {
    std::string indent = indentation_at(fix.source, last_reader->span.begin);
    std::string comment = indent + "# " + std::string(k_local_comment) + fix.eol;
    std::size_t insert_at = after_line_end(fix.source, last_reader->span.end);
    fix.edits.push_back(
        {insert_at, insert_at, comment + indent + "coder_url = " + fix.wanted_expr + fix.eol, comment.size()});
    fix.report("template-local", StepStatus::done,
               fmt::format("{}: local.coder_url = {} (in the locals block that reads the ConfigMap)",
                           fix.where(insert_at), fix.wanted_expr));
    return;
  }
  std::size_t insert_at = fix.configmap.block->span.end;
  std::string text = fix.eol + fix.eol + "locals {" + fix.eol + "  # " + std::string(k_local_comment) + fix.eol +
                     "  coder_url = " + fix.wanted_expr + fix.eol + "}";
  fix.edits.push_back({insert_at, insert_at, text, text.find("coder_url")});
  fix.report("template-local", StepStatus::done,
             fmt::format("{}: new locals block with local.coder_url = {}", fix.where(insert_at), fix.wanted_expr));
}

// Step `template-local`: accept one existing local.coder_url that reads the ConfigMap (ignoring
// blanks), refuse a duplicate or a different value, else insert it.
std::expected<void, PatchError> plan_local(TemplateFix& fix) {
  auto existing = coder_url_locals(fix.root);
  if (existing.size() > 1)
    return failure(fmt::format("{}: local coder_url is defined more than once (also at line {}); expected exactly one",
                               fix.where(existing[1]->span.begin),
                               hcl::line_column(fix.source, existing[0]->span.begin).first));
  if (existing.empty()) {
    insert_local(fix);
    return {};
  }
  std::string_view current = existing[0]->children[1].span.in(fix.source);
  if (remove_blanks(current) != remove_blanks(fix.wanted_expr))
    return failure(fmt::format("{}: local coder_url is `{}`; expected `{}` (rename or remove it, then run again)",
                               fix.where(existing[0]->span.begin), current, fix.wanted_expr));
  fix.report("template-local", StepStatus::already_done,
             fmt::format("{}: local.coder_url reads {}", fix.where(existing[0]->span.begin), fix.configmap.path));
  return {};
}

// What the agent-env scan found. `first_offset` locates the first entry for the report.
struct AgentEnvScan {
  int done = 0;
  int already = 0;
  bool has_env_structure = false; // an extra_env/env attribute, env block or dynamic "env" exists
  std::size_t first_offset = 0;

  int entries() const { return done + already; }
};

bool is_env_structure(const Node& node) {
  if (node.kind == NodeKind::attribute && (node.text == "extra_env" || node.text == "env"))
    return true;
  if (node.kind == NodeKind::block && node.text == "env")
    return true;
  return node.kind == NodeKind::block && node.text == "dynamic" && !labels_of(node).empty() &&
         labels_of(node)[0]->text == "env";
}

// Point one CODER_AGENT_URL value at local.coder_url (counted as already done when it is).
void set_agent_url(TemplateFix& fix, AgentEnvScan& scan, const Node& value) {
  if (hcl::traversal_path(value) == "local.coder_url") {
    ++scan.already;
    return;
  }
  if (scan.entries() == 0)
    scan.first_offset = value.span.begin;
  fix.edits.push_back({value.span.begin, value.span.end, "local.coder_url", 0});
  ++scan.done;
}

// Visit every `"CODER_AGENT_URL" = ...` map entry and `env { name = "CODER_AGENT_URL" ... }` block.
AgentEnvScan scan_agent_env(TemplateFix& fix) {
  AgentEnvScan scan;
  walk(fix.root, [&](const Node& node, const std::vector<const Node*>&) {
    if (is_env_structure(node))
      scan.has_env_structure = true;
    if (node.kind == NodeKind::object_item && is_agent_url_key(node.children[0])) {
      if (scan.entries() == 0)
        scan.first_offset = node.span.begin;
      set_agent_url(fix, scan, node.children[1]);
    }
    if (node.kind == NodeKind::block && node.text == "env" && labels_of(node).empty()) {
      const Node* name = find_attribute(body_of(node), "name");
      const Node* value = find_attribute(body_of(node), "value");
      if (name && literal_string(name->children[1]) == "CODER_AGENT_URL") {
        if (scan.entries() == 0)
          scan.first_offset = node.span.begin;
        if (value)
          set_agent_url(fix, scan, value->children[1]);
      }
    }
  });
  return scan;
}

// Step `agent-env`: set every CODER_AGENT_URL entry to local.coder_url. Return the number of
// entries; fail when the template has no env structure at all, or none to edit with
// --agent-env-only.
std::expected<int, PatchError> plan_agent_env(TemplateFix& fix, Scope scope) {
  AgentEnvScan scan = scan_agent_env(fix);
  const int entries = scan.entries();
  if (entries == 0 && !scan.has_env_structure)
    return failure(fmt::format("{}: expected an extra_env map or env blocks on the agent's container (found "
                               "neither); cannot tell how the agent is started",
                               fix.display));
  if (entries == 0 && scope == Scope::agent_env_only)
    return failure(fmt::format("{}: expected a \"CODER_AGENT_URL\" entry in an extra_env/env map or an env block; "
                               "this template passes the URL only through the init script (run without "
                               "--agent-env-only)",
                               fix.display));
  if (scan.done > 0)
    fix.report("agent-env", StepStatus::done,
               fmt::format("{}: \"CODER_AGENT_URL\" = local.coder_url ({} of {} entries changed)",
                           fix.where(scan.first_offset), scan.done, entries));
  else if (entries > 0)
    fix.report(
        "agent-env", StepStatus::already_done,
        fmt::format("{}: \"CODER_AGENT_URL\" = local.coder_url ({} entries)", fix.where(scan.first_offset), entries));
  else
    fix.report(
        "agent-env", StepStatus::skipped,
        fmt::format("{}: no \"CODER_AGENT_URL\" entry; the agent takes its URL from the init script", fix.display));
  return entries;
}

// Whether `node` (an init_script reference) is already the first argument of
// replace(<node>, data.coder_workspace.<x>.access_url, local.coder_url).
bool already_wrapped(const Node& node, const std::vector<const Node*>& parents) {
  if (parents.empty())
    return false;
  const Node& parent = *parents.back();
  return parent.kind == NodeKind::function_call && parent.text == "replace" && parent.children.size() == 3 &&
         &parent.children[0] == &node && hcl::traversal_path(parent.children[1]).starts_with("data.coder_workspace.") &&
         hcl::traversal_path(parent.children[1]).ends_with(".access_url") &&
         hcl::traversal_path(parent.children[2]) == "local.coder_url";
}

struct InitScriptScan {
  int wrapped = 0;
  int already = 0;
  std::size_t first_offset = 0;
};

// Wrap every coder_agent.<x>.init_script reference not yet wrapped in replace(..., `access_url`, ...).
InitScriptScan wrap_init_scripts(TemplateFix& fix, const std::string& access_url) {
  InitScriptScan scan;
  walk(fix.root, [&](const Node& node, const std::vector<const Node*>& parents) {
    if (!is_init_script(node))
      return;
    if (scan.wrapped + scan.already == 0)
      scan.first_offset = node.span.begin;
    if (already_wrapped(node, parents)) {
      ++scan.already;
      return;
    }
    fix.edits.push_back({node.span.begin, node.span.end,
                         fmt::format("replace({}, {}, local.coder_url)", hcl::traversal_path(node), access_url), 0});
    ++scan.wrapped;
  });
  return scan;
}

// Step `init-script` (full scope only): wrap the init-script references, adding
// data "coder_workspace" "me" before the ConfigMap data source when a wrapper needs it. Fail when
// the template has neither an init-script reference nor any of `agent_env_entries`.
std::expected<void, PatchError> plan_init_script(TemplateFix& fix, int agent_env_entries) {
  std::optional<std::string> workspace = find_workspace_source(fix.root);
  std::string access_url = workspace.value_or("data.coder_workspace.me") + ".access_url";
  InitScriptScan scan = wrap_init_scripts(fix, access_url);
  if (scan.wrapped + scan.already == 0 && agent_env_entries == 0)
    return failure(fmt::format("{}: expected coder_agent.<name>.init_script in the agent's start command (a "
                               "container command, ENVBUILDER_INIT_SCRIPT or an env map); found none",
                               fix.display));
  std::string added;
  if (scan.wrapped > 0 && !workspace) {
    std::size_t insert_at = line_start(fix.source, fix.configmap.block->span.begin);
    fix.edits.push_back({insert_at, insert_at, "data \"coder_workspace\" \"me\" {}" + fix.eol + fix.eol, 0});
    added = "; added data \"coder_workspace\" \"me\" {}";
  }
  if (scan.wrapped > 0)
    fix.report("init-script", StepStatus::done,
               fmt::format("{}: {} coder_agent init_script reference{} wrapped in replace(..., {}, "
                           "local.coder_url){}",
                           fix.where(scan.first_offset), scan.wrapped, scan.wrapped == 1 ? "" : "s", access_url,
                           added));
  else if (scan.already > 0)
    fix.report("init-script", StepStatus::already_done,
               fmt::format("{}: {} init_script reference{} already rewritten to local.coder_url",
                           fix.where(scan.first_offset), scan.already, scan.already == 1 ? "" : "s"));
  else
    fix.report("init-script", StepStatus::skipped,
               fmt::format("{}: no coder_agent.<name>.init_script reference", fix.display));
  return {};
}

// Validate an edited template: it defines local.coder_url once, still has the ConfigMap data
// source, and every data.coder_workspace it references is defined (here or in `original`).
std::expected<void, PatchError> check_fixed(const std::string& display, const Node& edited, const Node& original,
                                            std::string_view configmap_name) {
  if (coder_url_locals(edited).size() != 1)
    return failure(fmt::format(
        "internal check failed, nothing written: {}: local.coder_url is not defined exactly once", display));
  if (!find_configmap_source(edited, configmap_name))
    return failure(
        fmt::format("internal check failed, nothing written: {}: the ConfigMap data source is gone", display));
  if (references(edited, "data.coder_workspace") && !find_workspace_source(edited) && !find_workspace_source(original))
    return failure(fmt::format("internal check failed, nothing written: {}: data.coder_workspace is referenced but "
                               "not defined",
                               display));
  return {};
}

// Run the template steps in order: template-local, agent-env, init-script.
std::expected<void, PatchError> plan_template_steps(TemplateFix& fix, Scope scope) {
  if (auto local = plan_local(fix); !local)
    return local;
  auto agent_env_entries = plan_agent_env(fix, scope);
  if (!agent_env_entries)
    return std::unexpected(agent_env_entries.error());
  if (scope == Scope::agent_env_only) {
    fix.report("init-script", StepStatus::skipped, "--agent-env-only");
    return {};
  }
  return plan_init_script(fix, *agent_env_entries);
}

} // namespace

std::expected<TemplateResult, PatchError> fix_template(const std::string& display, const std::string& source,
                                                       std::string_view configmap_name, Scope scope,
                                                       std::string_view configmap_key) {
  auto parsed = hcl::parse(display, source);
  if (!parsed)
    return failure(parsed.error().to_string());
  const Node& root = parsed->root;
  auto source_block = find_configmap_source(root, configmap_name);
  if (!source_block)
    return failure(fmt::format("{}: expected a data \"kubernetes_config_map_v1\" (or \"kubernetes_config_map\") "
                               "block whose metadata.name is \"{}\"",
                               display, configmap_name));
  TemplateFix fix{.display = display,
                  .source = source,
                  .root = root,
                  .eol = eol_of(source),
                  .configmap = *source_block,
                  .wanted_expr = fmt::format("{}.data[\"{}\"]", source_block->path, configmap_key),
                  .edits = {},
                  .result = {}};
  if (auto planned = plan_template_steps(fix, scope); !planned)
    return std::unexpected(planned.error());
  if (fix.edits.empty()) {
    fix.result.text = source;
    return std::move(fix.result);
  }
  auto edited = apply_and_reparse(display, source, fix.edits);
  if (!edited)
    return std::unexpected(edited.error());
  fix.result.text = std::move(edited->text);
  if (auto checked = check_fixed(display, edited->file.root, root, configmap_name); !checked)
    return std::unexpected(checked.error());
  return std::move(fix.result);
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

std::expected<fs::path, PatchError> resolve_given(const fs::path& repo, const fs::path& given,
                                                  std::string_view option) {
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

std::expected<void, PatchError> set_yaml(const YamlTarget& target, FileChange& file,
                                         const std::vector<std::string>& key, std::string_view value,
                                         std::string_view comment, StepReport& report, const std::string& what) {
  auto result = yaml::set_scalar(file.after, target.document, key, value, comment);
  if (!result)
    return failure(fmt::format("{}:{}: {}", file.display, result.error().line, result.error().message));
  if (auto verified = yaml::verify_edit(file.after, result->text, target.index, key, value); !verified)
    return failure(fmt::format("internal check failed, nothing written: {}: {}", file.display, verified.error()));
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
    return failure(fmt::format("ConfigMap {} is defined in {} and {}; pass --configmap to choose",
                               options.configmap_name, display_path((*found)[0].path, repo),
                               display_path((*found)[1].path, repo)));
  if (found->size() == 1)
    return std::move(found->front());
  if (options.mode == Mode::automatic && !any_template_reads_configmap(options, repo))
    return std::nullopt;
  return failure(fmt::format("{}: expected a ConfigMap named {} in a *.yaml/*.yml file (or pass --configmap)",
                             repo.string(), options.configmap_name));
}
// The plan being built: the repository, the steps so far and one FileChange per file read, so
// that steps editing the same file chain their edits.
struct PlanBuilder {
  fs::path repo;
  Plan result;
  std::map<fs::path, std::size_t> file_index;

  // Return the change of `path`, created with `text` as both its before and after on first use.
  // The reference is valid until the next call.
  FileChange& file_for(const fs::path& path, const std::string& text) {
    auto [it, inserted] = file_index.emplace(path, result.files.size());
    if (inserted)
      result.files.push_back({path, display_path(path, repo), text, text});
    return result.files[it->second];
  }
};

// Return --repo as an absolute, normalised directory without a trailing slash.
std::expected<fs::path, PatchError> repo_root(const Options& options) {
  std::error_code error;
  fs::path repo = fs::absolute(options.repo, error).lexically_normal();
  if (!repo.empty() && repo.filename().empty())
    repo = repo.parent_path();
  if (!fs::is_directory(repo, error))
    return failure(fmt::format("--repo {}: not a directory", options.repo.string()));
  return repo;
}

// Step 1 `configmap`: set data.<key> in `configmap`, or report template-only mode when there is none.
std::expected<void, PatchError> plan_configmap(PlanBuilder& builder, const Options& options,
                                               std::optional<YamlTarget>& configmap) {
  if (!configmap) {
    builder.result.steps.push_back(
        {"configmap", StepStatus::skipped,
         fmt::format("{}; {} mode: the internal URL is variable \"{}\" in the template",
                     options.mode == Mode::template_only  ? "chosen with --no-configmap (or --mode template)"
                     : options.mode == Mode::provider_url ? "--mode provider-url"
                                                          : "no ConfigMap " + options.configmap_name,
                     options.mode == Mode::provider_url ? "provider-url" : "template-only", k_internal_url_variable)});
    return {};
  }
  if (auto inside = check_inside(configmap->path, builder.repo); !inside)
    return inside;
  FileChange& file = builder.file_for(configmap->path, configmap->text);
  StepReport report{"configmap", StepStatus::skipped, {}};
  if (auto set = set_yaml(*configmap, file, {"data", options.configmap_key}, options.coder_url, k_configmap_comment,
                          report, "data." + options.configmap_key);
      !set)
    return set;
  builder.result.steps.push_back(std::move(report));
  return {};
}

// Steps 2-4: fix every template with the fix of the mode (provider URL, template-only or ConfigMap).
std::expected<void, PatchError> plan_templates(PlanBuilder& builder, const Options& options, bool template_only) {
  auto templates = find_templates(options, builder.repo, template_only);
  if (!templates)
    return std::unexpected(templates.error());
  for (const fs::path& path : *templates) {
    if (auto inside = check_inside(path, builder.repo); !inside)
      return inside;
    auto text = util::read_file(path);
    if (!text)
      return failure(text.error());
    FileChange& file = builder.file_for(path, *text);
    auto fixed = options.mode == Mode::provider_url ? fix_provider_url(file.display, file.after, options.coder_url)
                 : template_only ? fix_template_only(file.display, file.after, options.coder_url, options.scope)
                                 : fix_template(file.display, file.after, options.configmap_name, options.scope,
                                                options.configmap_key);
    if (!fixed)
      return std::unexpected(fixed.error());
    file.after = std::move(fixed->text);
    for (auto& step : fixed->steps)
      builder.result.steps.push_back(std::move(step));
  }
  return {};
}

// Return the one GitRepository manifest among `yaml_files`; of several, the one next to
// `configmap` when exactly one is.
std::expected<YamlTarget, PatchError> find_flux_source(const std::vector<fs::path>& yaml_files, const fs::path& repo,
                                                       const std::optional<YamlTarget>& configmap) {
  auto found = find_documents(yaml_files, repo, "GitRepository", "", false);
  if (!found)
    return std::unexpected(found.error());
  std::vector<YamlTarget> candidates = std::move(*found);
  if (candidates.size() > 1) {
    std::vector<YamlTarget> near;
    for (auto& candidate : candidates)
      if (configmap && candidate.path.parent_path() == configmap->path.parent_path())
        near.push_back(candidate);
    if (near.size() == 1)
      candidates = std::move(near);
  }
  if (candidates.empty())
    return failure(fmt::format("--flux-branch: expected a Flux GitRepository manifest under {}", repo.string()));
  if (candidates.size() > 1)
    return failure(fmt::format("--flux-branch: several GitRepository manifests ({}, {}); expected one",
                               display_path(candidates[0].path, repo), display_path(candidates[1].path, repo)));
  return std::move(candidates.front());
}

// Refuse a GitRepository whose spec.ref pins a tag, semver, commit or name: a branch would not apply.
std::expected<void, PatchError> check_branch_ref(const FileChange& file, const YamlTarget& flux) {
  for (std::string_view pin : {"tag", "semver", "commit", "name"}) {
    auto value = yaml::get_scalar(file.after, flux.document, {"spec", "ref", std::string(pin)});
    if (!value || !*value)
      continue;
    std::size_t line = flux.document.first_line;
    std::string needle = std::string(pin) + ":";
    std::size_t offset = file.after.find(needle, flux.document.begin);
    if (offset != std::string::npos && offset < flux.document.end)
      line = hcl::line_column(file.after, offset).first;
    return failure(fmt::format("{}:{}: GitRepository {} pins spec.ref.{} `{}`; expected a branch ref (not "
                               "overwritten: change it by hand)",
                               file.display, line, flux.document.name, pin, **value));
  }
  return {};
}

// Step 5 `flux-branch`: set spec.ref.branch of the GitRepository when --flux-branch is given.
std::expected<void, PatchError> plan_flux_branch(PlanBuilder& builder, const Options& options,
                                                 const std::vector<fs::path>& yaml_files,
                                                 const std::optional<YamlTarget>& configmap) {
  if (!options.flux_branch) {
    builder.result.steps.push_back({"flux-branch", StepStatus::skipped, "no --flux-branch"});
    return {};
  }
  auto flux = find_flux_source(yaml_files, builder.repo, configmap);
  if (!flux)
    return std::unexpected(flux.error());
  if (auto inside = check_inside(flux->path, builder.repo); !inside)
    return inside;
  FileChange& file = builder.file_for(flux->path, flux->text);
  if (auto unpinned = check_branch_ref(file, *flux); !unpinned)
    return unpinned;
  StepReport report{"flux-branch", StepStatus::skipped, {}};
  if (auto set = set_yaml(*flux, file, {"spec", "ref", "branch"}, *options.flux_branch, "", report, "spec.ref.branch");
      !set)
    return set;
  builder.result.steps.push_back(std::move(report));
  return {};
}
} // namespace

std::expected<Plan, PatchError> plan(const Options& options) {
  auto repo = repo_root(options);
  if (!repo)
    return std::unexpected(repo.error());
  PlanBuilder builder{.repo = std::move(*repo), .result = {}, .file_index = {}};
  std::vector<fs::path> yaml_files = find_files(builder.repo, {".yaml", ".yml"});

  // The ConfigMap (none in template-only mode) decides the mode of the template steps.
  auto configmap = find_configmap(options, builder.repo, yaml_files);
  if (!configmap)
    return std::unexpected(configmap.error());
  const bool template_only = !configmap->has_value();
  if (auto done = plan_configmap(builder, options, *configmap); !done)
    return std::unexpected(done.error());
  if (auto done = plan_templates(builder, options, template_only); !done)
    return std::unexpected(done.error());
  if (auto done = plan_flux_branch(builder, options, yaml_files, *configmap); !done)
    return std::unexpected(done.error());
  return std::move(builder.result);
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
