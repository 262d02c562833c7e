#include <coder_dns_doctor/config/layers.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>
#include <coder_dns_doctor/util/strings.hpp>
#include <coder_dns_doctor/util/table.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>

namespace coder_dns_doctor::config {
namespace {

// Edit distance, for "did you mean" on an unknown key.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& key, const Schema& schema) {
  const OptionShape* best = nullptr;
  std::size_t best_distance = 3; // farther than this is no suggestion
  for (const OptionShape& shape : schema) {
    std::size_t d = distance(key, shape.name);
    if (d < best_distance) {
      best = &shape;
      best_distance = d;
    }
  }
  return best == nullptr ? std::string(" (see --help for the options)")
                         : fmt::format(" (did you mean '{}'?)", best->name);
}

int line_of(const YAML::Node& node) {
  return node.Mark().is_null() ? 0 : node.Mark().line + 1;
}

std::string at(const std::string& origin, const YAML::Node& node) {
  return fmt::format("{}:{}", origin, line_of(node));
}

bool is_truthy(std::string_view text) {
  return text == "true" || text == "yes" || text == "on" || text == "1";
}
bool is_falsy(std::string_view text) {
  return text == "false" || text == "no" || text == "off" || text == "0";
}

// Return the values of a list option from `node`; an error names the line.
std::expected<std::vector<std::string>, std::string> list_values(const YAML::Node& node, const std::string& origin,
                                                                 const std::string& key) {
  std::vector<std::string> values;
  if (node.IsScalar()) {
    values.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar())
        return std::unexpected(fmt::format("{}: '{}' entries must be plain values", at(origin, item), key));
      values.push_back(item.Scalar());
    }
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar())
        return std::unexpected(fmt::format("{}: '{}' keys must be plain values", at(origin, entry.first), key));
      std::vector<std::string> pieces;
      if (entry.second.IsScalar()) {
        pieces.push_back(entry.second.Scalar());
      } else if (entry.second.IsSequence() && entry.second.size() > 0) {
        for (const YAML::Node& item : entry.second) {
          if (!item.IsScalar())
            return std::unexpected(fmt::format("{}: '{}' values must be plain values", at(origin, item), key));
          pieces.push_back(item.Scalar());
        }
      } else {
        return std::unexpected(
            fmt::format("{}: '{}' entry '{}' needs a value", at(origin, entry.first), key, entry.first.Scalar()));
      }
      values.push_back(entry.first.Scalar() + "=" + util::join(pieces, ","));
    }
  }
  if (values.empty())
    return std::unexpected(fmt::format("{}: '{}' needs at least one value", at(origin, node), key));
  return values;
}

} // namespace

std::string_view to_string(Source source) {
  switch (source) {
  case Source::default_value: return "default";
  case Source::file: return "file";
  case Source::env: return "env";
  case Source::flag: return "flag";
  }
  return "default";
}

Schema schema_of(const CLI::App& command, const std::set<std::string>& excluded) {
  Schema schema;
  for (const CLI::Option* option : command.get_options()) {
    const auto& names = option->get_lnames();
    if (names.empty() || names.front() == "help" || excluded.contains(names.front()))
      continue;
    OptionShape shape{.name = names.front(), .default_text = option->get_default_str(), .env = option->get_envname()};
    if (option->get_expected_max() == 0) // flags expect no value
      shape.arity = Arity::flag;
    else if (option->get_expected_max() > 1 || option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll)
      shape.arity = Arity::list;
    schema.push_back(std::move(shape));
  }
  return schema;
}

std::expected<Layer, std::string> parse_file_text(std::string_view text, const std::string& origin,
                                                  const Schema& schema) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return std::unexpected(fmt::format("{}:{}: {}", origin, error.mark.line + 1, error.msg));
  }
  Layer layer;
  if (root.IsNull())
    return layer; // an empty file sets nothing
  if (!root.IsMap())
    return std::unexpected(
        fmt::format("{}: expected a mapping of option names to values (e.g. 'interval: 30s')", at(origin, root)));
  std::map<std::string, int> seen_at;
  for (const auto& entry : root) {
    const YAML::Node& key_node = entry.first;
    const YAML::Node& value = entry.second;
    if (!key_node.IsScalar())
      return std::unexpected(fmt::format("{}: expected an option name", at(origin, key_node)));
    std::string key = key_node.Scalar();
    std::replace(key.begin(), key.end(), '_', '-');
    auto shape = std::find_if(schema.begin(), schema.end(), [&](const OptionShape& s) { return s.name == key; });
    if (shape == schema.end())
      return std::unexpected(
          fmt::format("{}: unknown option '{}'{}", at(origin, key_node), key_node.Scalar(), suggestion(key, schema)));
    if (auto [previous, inserted] = seen_at.emplace(key, line_of(key_node)); !inserted)
      return std::unexpected(fmt::format("{}: option '{}' is given twice (first at line {})", at(origin, key_node), key,
                                         previous->second));
    if (value.IsNull())
      return std::unexpected(fmt::format("{}: option '{}' needs a value", at(origin, key_node), key));

    Setting setting{.values = {}, .source = Source::file, .origin = at(origin, key_node)};
    switch (shape->arity) {
    case Arity::list: {
      auto values = list_values(value, origin, key);
      if (!values)
        return std::unexpected(values.error());
      setting.values = std::move(*values);
      break;
    }
    case Arity::flag:
      if (!value.IsScalar() || !(is_truthy(value.Scalar()) || is_falsy(value.Scalar())))
        return std::unexpected(fmt::format("{}: option '{}' expects true or false", at(origin, value), key));
      setting.values = {is_truthy(value.Scalar()) ? "true" : "false"};
      break;
    case Arity::single:
      if (!value.IsScalar())
        return std::unexpected(fmt::format("{}: option '{}' expects one value, not a {}", at(origin, value), key,
                                           value.IsSequence() ? "list" : "mapping"));
      setting.values = {value.Scalar()};
      break;
    }
    layer[key] = std::move(setting);
  }
  return layer;
}

std::expected<Layer, std::string> read_file(const std::string& path, const Schema& schema) {
  auto text = util::read_bounded(path, util::k_config_file_limit);
  if (!text)
    return std::unexpected(fmt::format("cannot read the config file: {}", text.error().message));
  return parse_file_text(*text, path, schema);
}

Layer command_line_layer(const CLI::App& command, const std::set<std::string>& excluded) {
  Layer layer;
  for (const CLI::Option* option : command.get_options()) {
    const auto& names = option->get_lnames();
    if (names.empty() || names.front() == "help" || excluded.contains(names.front()) || option->count() == 0)
      continue;
    Setting setting{.values = option->results(), .source = Source::flag, .origin = "--" + names.front()};
    // CLI11 reads the environment only for options absent from the command line, so results equal
    // to the variable's value came from it (or the flag repeated the same value: same outcome).
    const std::string& env = option->get_envname();
    const char* env_value = env.empty() ? nullptr : std::getenv(env.c_str());
    if (env_value != nullptr && *env_value != '\0' && setting.values == std::vector<std::string>{env_value}) {
      setting.source = Source::env;
      setting.origin = env;
    }
    layer[names.front()] = std::move(setting);
  }
  return layer;
}

Layer merge(Layer lower, const Layer& upper) {
  for (const auto& [name, setting] : upper)
    lower[name] = setting;
  return lower;
}

std::vector<std::string> to_arguments(const Layer& layer, const Schema& schema) {
  std::vector<std::string> arguments;
  for (const auto& [name, setting] : layer) {
    if (setting.source == Source::default_value)
      continue;
    auto shape = std::find_if(schema.begin(), schema.end(), [&](const OptionShape& s) { return s.name == name; });
    if (shape != schema.end() && shape->arity == Arity::flag) {
      if (!setting.values.empty() && is_truthy(util::to_lower(setting.values.back())))
        arguments.push_back("--" + name);
      continue;
    }
    for (const std::string& value : setting.values) {
      if (value.empty()) {
        // CLI11 reads "--name=" as a missing value; an explicit empty argument is a value ('' turns
        // some list options off, e.g. --workspace-namespace '').
        arguments.push_back("--" + name);
        arguments.emplace_back();
      } else {
        arguments.push_back(fmt::format("--{}={}", name, value));
      }
    }
  }
  return arguments;
}

std::string render(const Layer& merged, const Schema& schema) {
  util::Table table({"OPTION", "VALUE", "SOURCE"});
  for (const OptionShape& shape : schema) {
    auto found = merged.find(shape.name);
    if (found == merged.end() || found->second.source == Source::default_value) {
      std::string text = shape.default_text;
      if (shape.arity == Arity::list && text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2); // CLI11 shows a vector default as [a,b]
      if (text.empty())
        text = shape.arity == Arity::flag ? "false" : "(none)";
      table.add({shape.name, text, "default"});
      continue;
    }
    const Setting& setting = found->second;
    std::string source = fmt::format("{} {}", to_string(setting.source), setting.origin);
    for (std::size_t i = 0; i < setting.values.size(); ++i)
      table.add({i == 0 ? shape.name : "", setting.values[i], i == 0 ? source : ""});
  }
  return table.render("");
}

std::string with_origins(std::string message, const Layer& merged) {
  std::vector<std::string> origins;
  for (const auto& [name, setting] : merged) {
    if (setting.source == Source::default_value || setting.source == Source::flag)
      continue;
    std::string flag = "--" + name;
    for (std::size_t at_pos = message.find(flag); at_pos != std::string::npos;
         at_pos = message.find(flag, at_pos + 1)) {
      std::size_t after = at_pos + flag.size();
      bool whole = after == message.size() ||
                   !(std::isalnum(static_cast<unsigned char>(message[after])) || message[after] == '-');
      if (whole) {
        origins.push_back(fmt::format("{} from {}", flag, setting.origin));
        break;
      }
    }
  }
  if (!origins.empty())
    message += fmt::format(" ({})", util::join(origins, "; "));
  return message;
}

} // namespace coder_dns_doctor::config
