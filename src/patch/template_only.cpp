// Template-only mode of the patch fix (see fix.hpp): no ConfigMap; the internal URL is a template
// variable, every init-script reference is wrapped in replace() and every CODER_AGENT_URL is set
// to the variable (composed with an existing wrapper). Each step is idempotent.
#include <coder_dns_doctor/patch/fix.hpp>
#include <coder_dns_doctor/patch/hcl/format.hpp>
#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include "edit_support.hpp"

#include <fmt/core.h>

namespace coder_dns_doctor::patch {
namespace {

using namespace detail;

constexpr std::string_view k_var_ref = "var.coder_agent_internal_url";
constexpr std::string_view k_variable_description =
    "In-cluster Coder URL the workspace agents dial (coder-dns-doctor patch): the external access URL may "
    "resolve to a stale address inside the cluster";

struct TemplatePlan {
  std::vector<Edit> edits;
  std::vector<StepReport> steps;
};

bool is_block(const Node& node, std::string_view type, std::string_view first_label) {
  if (node.kind != NodeKind::block || node.text != type)
    return false;
  auto labels = labels_of(node);
  return first_label.empty() || (!labels.empty() && labels[0]->text == first_label);
}

const Node* find_top_block(const Node& root, std::string_view type, std::string_view first_label) {
  for (const Node& item : root.children)
    if (is_block(item, type, first_label))
      return &item;
  return nullptr;
}

const Node* find_variable(const Node& root) {
  for (const Node& item : root.children)
    if (is_block(item, "variable", k_internal_url_variable) && labels_of(item).size() == 1)
      return &item;
  return nullptr;
}

bool is_access_url(const Node& node) {
  std::string path = hcl::traversal_path(node);
  return path.starts_with("data.coder_workspace.") && path.ends_with(".access_url") &&
         std::count(path.begin(), path.end(), '.') == 3;
}

bool uses_internal_url(const Node& node) {
  return references(node, k_var_ref) || references(node, "local.coder_url");
}

// `<...>.init_script` whose base is coder_agent.<name>, optionally indexed (`coder_agent.main[0]`).
bool agent_rooted(const Node& init_script) {
  const Node* base = &init_script.children.front();
  while (base->kind == NodeKind::index)
    base = &base->children.front();
  return base->kind == NodeKind::get_attr && base->children.front().kind == NodeKind::variable &&
         base->children.front().text == "coder_agent";
}

bool mentions_agent(const Node& node) {
  if (node.kind == NodeKind::variable && node.text == "coder_agent")
    return true;
  return std::any_of(node.children.begin(), node.children.end(), [](const Node& c) { return mentions_agent(c); });
}

std::string variable_block(std::string_view coder_url, const std::string& eol) {
  return fmt::format("variable \"{}\" {{{}  description = \"{}\"{}  type        = string{}  default     = \"{}\"{}}}",
                     k_internal_url_variable, eol, k_variable_description, eol, eol, coder_url, eol);
}

// Step `template-variable`: the variable exists, or is added after the last variable block (before
// the first block when there is none).
void plan_variable(const std::string& display, const std::string& source, const Node& root, std::string_view coder_url,
                   TemplatePlan& out) {
  const std::string eol = eol_of(source);
  if (const Node* existing = find_variable(root)) {
    out.steps.push_back({"template-variable", StepStatus::already_done,
                         fmt::format("{}: variable \"{}\" is defined", at(display, source, existing->span.begin),
                                     k_internal_url_variable)});
    return;
  }
  const Node* last_variable = nullptr;
  for (const Node& item : root.children)
    if (is_block(item, "variable", ""))
      last_variable = &item;
  std::string block = variable_block(coder_url, eol);
  std::size_t insert_at = 0;
  if (last_variable) {
    insert_at = last_variable->span.end;
    out.edits.push_back({insert_at, insert_at, eol + eol + block, 0});
  } else {
    const Node* first = nullptr;
    for (const Node& item : root.children)
      if (!first && item.kind == NodeKind::block && item.text != "terraform" && item.text != "provider")
        first = &item;
    insert_at = first ? line_start(source, first->span.begin) : source.size();
    out.edits.push_back({insert_at, insert_at, block + eol + eol, 0});
  }
  out.steps.push_back({"template-variable", StepStatus::done,
                       fmt::format("{}: variable \"{}\" (default \"{}\")", at(display, source, insert_at),
                                   k_internal_url_variable, coder_url)});
}

struct InitScan {
  int wrapped = 0;
  int already = 0;
  std::size_t first_offset = 0;
  std::optional<PatchError> error;
};

// The expression to wrap: the init-script reference, or the replace() calls already around it.
const Node& wrap_target(const Node& node, const std::vector<const Node*>& parents, bool& already) {
  const Node* target = &node;
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
    const Node& parent = **it;
    if (parent.kind != NodeKind::function_call || parent.text != "replace" || parent.children.empty() ||
        &parent.children[0] != target)
      break;
    if (parent.children.size() == 3 && is_access_url(parent.children[1]) && uses_internal_url(parent.children[2]))
      already = true;
    target = &parent;
  }
  return *target;
}

std::optional<PatchError> unrewritable(const std::string& display, const std::string& source, const Node& node,
                                       const std::vector<const Node*>& parents) {
  bool in_dynamic = std::any_of(parents.begin(), parents.end(),
                                [](const Node* p) { return p->kind == NodeKind::block && p->text == "dynamic"; });
  if (agent_rooted(node) || (!in_dynamic && !mentions_agent(node)))
    return std::nullopt;
  return PatchError{fmt::format("{}: expected coder_agent.<name>.init_script; found `{}`{}, which patch cannot "
                                "rewrite (wrap it by hand in replace(<expr>, data.coder_workspace.me.access_url, {}))",
                                at(display, source, node.span.begin), node.span.in(source),
                                in_dynamic ? " in a dynamic block" : "", k_var_ref)};
}

// Step `init-script`: wrap every init-script reference.
InitScan plan_init_scripts(const std::string& display, const std::string& source, const Node& root,
                           const std::string& access_url, std::vector<Edit>& edits) {
  InitScan scan;
  walk(root, [&](const Node& node, const std::vector<const Node*>& parents) {
    if (scan.error || node.kind != NodeKind::get_attr || node.text != "init_script")
      return;
    if (auto error = unrewritable(display, source, node, parents)) {
      scan.error = error;
      return;
    }
    if (!agent_rooted(node))
      return;
    if (scan.wrapped + scan.already == 0)
      scan.first_offset = node.span.begin;
    bool already = false;
    const Node& target = wrap_target(node, parents, already);
    if (already) {
      ++scan.already;
      return;
    }
    edits.push_back({target.span.begin, target.span.end,
                     fmt::format("replace({}, {}, {})", target.span.in(source), access_url, k_var_ref), 0});
    ++scan.wrapped;
  });
  return scan;
}

struct EnvScan {
  int changed = 0;
  int already = 0;
  std::size_t first_offset = 0;
  std::vector<std::string> composed;
};

// Set one CODER_AGENT_URL value to the variable, keeping a wrapper around the access URL.
void set_agent_url(const std::string& source, const Node& value, EnvScan& scan, std::vector<Edit>& edits) {
  if (scan.changed + scan.already == 0)
    scan.first_offset = value.span.begin;
  if (uses_internal_url(value)) {
    ++scan.already;
    return;
  }
  ++scan.changed;
  if (is_access_url(value) || !references(value, "data.coder_workspace")) {
    edits.push_back({value.span.begin, value.span.end, std::string(k_var_ref), 0});
    return;
  }
  walk(value, [&](const Node& node, const std::vector<const Node*>&) {
    if (is_access_url(node))
      edits.push_back({node.span.begin, node.span.end, std::string(k_var_ref), 0});
  });
  scan.composed.push_back(std::string(value.span.in(source)));
}

EnvScan plan_agent_env(const std::string& source, const Node& root, std::vector<Edit>& edits) {
  EnvScan scan;
  walk(root, [&](const Node& node, const std::vector<const Node*>&) {
    if (node.kind == NodeKind::object_item && is_agent_url_key(node.children[0]))
      set_agent_url(source, node.children[1], scan, edits);
    if (node.kind == NodeKind::block && node.text == "env" && labels_of(node).empty()) {
      const Node* name = find_attribute(body_of(node), "name");
      const Node* value = find_attribute(body_of(node), "value");
      if (name && value && literal_string(name->children[1]) == "CODER_AGENT_URL")
        set_agent_url(source, value->children[1], scan, edits);
    }
  });
  return scan;
}

StepReport env_report(const std::string& display, const std::string& source, const EnvScan& scan) {
  int total = scan.changed + scan.already;
  if (total == 0)
    return {"agent-env", StepStatus::skipped,
            fmt::format("{}: no \"CODER_AGENT_URL\" entry; the agent takes its URL from the init script", display)};
  std::string where = at(display, source, scan.first_offset);
  if (scan.changed == 0)
    return {"agent-env", StepStatus::already_done,
            fmt::format("{}: \"CODER_AGENT_URL\" = {} ({} entries)", where, k_var_ref, total)};
  std::string composed;
  for (const std::string& wrapper : scan.composed)
    composed += fmt::format("; composed with the existing `{}` (access_url replaced by {})", wrapper, k_var_ref);
  return {"agent-env", StepStatus::done,
          fmt::format("{}: \"CODER_AGENT_URL\" = {} ({} of {} entries changed){}", where, k_var_ref, scan.changed,
                      total, composed)};
}

StepReport init_report(const std::string& display, const std::string& source, const InitScan& scan,
                       const std::string& access_url, bool added_workspace) {
  std::string where = at(display, source, scan.first_offset);
  if (scan.wrapped > 0)
    return {"init-script", StepStatus::done,
            fmt::format("{}: {} coder_agent init_script reference{} wrapped in replace(..., {}, {}){}", where,
                        scan.wrapped, scan.wrapped == 1 ? "" : "s", access_url, k_var_ref,
                        added_workspace ? "; added data \"coder_workspace\" \"me\" {}" : "")};
  return {"init-script", StepStatus::already_done,
          fmt::format("{}: {} init_script reference{} already dial the internal URL", where, scan.already,
                      scan.already == 1 ? "" : "s")};
}

// Steps `init-script` and `agent-env`.
std::optional<PatchError> plan_agent_url(const std::string& display, const std::string& source, const Node& root,
                                         Scope scope, TemplatePlan& out) {
  const std::string eol = eol_of(source);
  const Node* agent = find_top_block(root, "resource", "coder_agent");
  std::optional<std::string> workspace = find_workspace_source(root);
  std::string access_url = workspace.value_or("data.coder_workspace.me") + ".access_url";
  std::vector<Edit> init_edits;
  InitScan init = plan_init_scripts(display, source, root, access_url, init_edits);
  if (init.error)
    return init.error;
  EnvScan env = plan_agent_env(source, root, out.edits);
  if (init.wrapped + init.already == 0 && (scope == Scope::full || env.changed + env.already == 0))
    return PatchError{fmt::format("{}: expected coder_agent.<name>.init_script in the agent's start command (a "
                                  "container command, an env block or map, a local); found none",
                                  at(display, source, agent->span.begin))};
  if (scope == Scope::agent_env_only) {
    out.steps.push_back(env_report(display, source, env));
    out.steps.push_back({"init-script", StepStatus::skipped, "--agent-env-only"});
    return std::nullopt;
  }
  bool add_workspace = init.wrapped > 0 && !workspace;
  if (add_workspace) {
    std::size_t insert_at = line_start(source, agent->span.begin);
    out.edits.push_back({insert_at, insert_at, "data \"coder_workspace\" \"me\" {}" + eol + eol, 0});
  }
  out.edits.insert(out.edits.end(), init_edits.begin(), init_edits.end());
  out.steps.push_back(env_report(display, source, env));
  out.steps.push_back(init_report(display, source, init, access_url, add_workspace));
  return std::nullopt;
}

// Step `provider-url`: `url = var.coder_agent_internal_url` in provider "coder" (added when missing).
void plan_provider_url(const std::string& display, const std::string& source, const Node& root, TemplatePlan& out) {
  const std::string eol = eol_of(source);
  std::string assignment = fmt::format("url = {}", k_var_ref);
  const Node* provider = find_top_block(root, "provider", "coder");
  const Node* url = provider ? find_attribute(body_of(*provider), "url") : nullptr;
  std::string caveat = "; caveat: this changes data.coder_workspace.*.access_url for everything in the template "
                       "(apps, links, modules), not only the agents";
  if (url && references(url->children[1], k_var_ref)) {
    out.steps.push_back(
        {"provider-url", StepStatus::already_done,
         fmt::format("{}: provider \"coder\" {}{}", at(display, source, url->span.begin), assignment, caveat)});
    return;
  }
  std::size_t offset = 0;
  if (url) {
    offset = url->children[1].span.begin;
    out.edits.push_back({offset, url->children[1].span.end, std::string(k_var_ref), 0});
  } else if (provider && line_index(source, provider->span.begin) != line_index(source, provider->span.end)) {
    offset = after_line_end(source, provider->span.begin);
    std::string indent = indentation_at(source, provider->span.begin) + "  ";
    out.edits.push_back({offset, offset, indent + assignment + eol, 0});
  } else if (provider) {
    offset = provider->span.begin;
    out.edits.push_back({offset, provider->span.end, "provider \"coder\" {" + eol + "  " + assignment + eol + "}", 0});
  } else {
    const Node* agent = find_top_block(root, "resource", "coder_agent");
    offset = line_start(source, agent->span.begin);
    out.edits.push_back({offset, offset, "provider \"coder\" {" + eol + "  " + assignment + eol + "}" + eol + eol, 0});
  }
  out.steps.push_back({"provider-url", StepStatus::done,
                       fmt::format("{}: provider \"coder\" {}{}", at(display, source, offset), assignment, caveat)});
}

std::expected<std::string, PatchError> apply_and_check(const std::string& display, const std::string& source,
                                                       const std::vector<Edit>& edits) {
  auto edited = apply_and_reparse(display, source, edits);
  if (!edited)
    return std::unexpected(edited.error());
  const auto* check = &edited->file;
  if (!find_variable(check->root))
    return failure(fmt::format("internal check failed, nothing written: {}: variable \"{}\" is not defined", display,
                               k_internal_url_variable));
  if (references(check->root, "data.coder_workspace") && !find_workspace_source(check->root))
    return failure(fmt::format("internal check failed, nothing written: {}: data.coder_workspace is referenced but "
                               "not defined",
                               display));
  return std::move(edited->text);
}

std::expected<TemplateResult, PatchError> finish(const std::string& display, const std::string& source,
                                                 TemplatePlan plan) {
  TemplateResult result{source, std::move(plan.steps)};
  if (plan.edits.empty())
    return result;
  auto text = apply_and_check(display, source, plan.edits);
  if (!text)
    return std::unexpected(text.error());
  result.text = std::move(*text);
  return result;
}

} // namespace

std::expected<TemplateResult, PatchError> fix_provider_url(const std::string& display, const std::string& source,
                                                           std::string_view coder_url) {
  auto parsed = hcl::parse(display, source);
  if (!parsed)
    return failure(parsed.error().to_string());
  if (!find_top_block(parsed->root, "resource", "coder_agent"))
    return failure(fmt::format("{}:1: expected a resource \"coder_agent\" block (found none); is this a Coder "
                               "template?",
                               display));
  TemplatePlan plan;
  plan_variable(display, source, parsed->root, coder_url, plan);
  plan_provider_url(display, source, parsed->root, plan);
  return finish(display, source, std::move(plan));
}

std::expected<TemplateResult, PatchError> fix_template_only(const std::string& display, const std::string& source,
                                                            std::string_view coder_url, Scope scope) {
  auto parsed = hcl::parse(display, source);
  if (!parsed)
    return failure(parsed.error().to_string());
  const Node& root = parsed->root;
  if (!find_top_block(root, "resource", "coder_agent"))
    return failure(fmt::format("{}:1: expected a resource \"coder_agent\" block (found none); is this a Coder "
                               "template?",
                               display));
  TemplatePlan plan;
  plan_variable(display, source, root, coder_url, plan);
  if (auto error = plan_agent_url(display, source, root, scope, plan))
    return std::unexpected(*error);
  return finish(display, source, std::move(plan));
}

} // namespace coder_dns_doctor::patch
