// Layer 2 (config; uses util; see README "Layers").
// Option values in layers (default < file < env < flag), the YAML config file that forms one layer,
// and the CLI11 glue that reads the command line as a layer and turns a merged layer back into
// arguments. Knows nothing of DNS or Coder: the option set comes from the command it is given.
#pragma once

#include <expected>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace coder_dns_doctor::config {

// Where a value came from, weakest first (a stronger layer replaces a weaker one per option).
enum class Source { default_value, file, env, flag };
[[nodiscard]] std::string_view to_string(Source source);

// One option's value(s) and their origin: "serve.yaml:12", "CODER_DNS_DOCTOR_TIMEOUT", "--timeout".
struct Setting {
  std::vector<std::string> values;
  Source source = Source::default_value;
  std::string origin;
};

// Option name (the long flag without `--`) -> setting. Absent options keep their default.
using Layer = std::map<std::string, Setting>;

// How many values an option takes.
enum class Arity { single, list, flag };

struct OptionShape {
  std::string name; // long flag without `--`
  Arity arity = Arity::single;
  std::string default_text; // for --show-config; empty when there is none
  std::string env;          // environment variable bound to it, if any
};
using Schema = std::vector<OptionShape>;

// Return the shape of every long option of `command` except those in `excluded`.
[[nodiscard]] Schema schema_of(const CLI::App& command, const std::set<std::string>& excluded);

// Parse YAML `text` (a mapping of option names to values) against `schema`. `origin` names the
// input in messages, which read "ORIGIN:LINE: what is wrong". Keys may use `-` or `_`. A list
// option takes a scalar, a sequence of scalars, or a mapping whose entries become `KEY=VALUE`
// (a sequence value joined with `,`), so `expect: {host: [a, b]}` means `--expect host=a,b`.
[[nodiscard]] std::expected<Layer, std::string> parse_file_text(std::string_view text, const std::string& origin,
                                                                const Schema& schema);
// Read the config file at `path` (util::read_bounded, at most util::k_config_file_limit bytes: a
// FIFO, a device, a directory or a larger file is refused with one line naming it) and parse it
// (see parse_file_text).
[[nodiscard]] std::expected<Layer, std::string> read_file(const std::string& path, const Schema& schema);

// Return the options of `command` given on its command line or through their environment
// variables, excluding `excluded`.
[[nodiscard]] Layer command_line_layer(const CLI::App& command, const std::set<std::string>& excluded);

// Return `lower` with every option of `upper` replacing its entry (lists are replaced, not appended).
[[nodiscard]] Layer merge(Layer lower, const Layer& upper);

// Return the arguments that give `layer` to a parser: `--name=value` per value (`--name` for a
// true flag), in option name order.
[[nodiscard]] std::vector<std::string> to_arguments(const Layer& layer, const Schema& schema);

// Return the --show-config table: every option of `schema`, its value and where it came from.
[[nodiscard]] std::string render(const Layer& merged, const Schema& schema);

// Append " (from ORIGIN)" to `message` for every non-default option of `merged` whose `--name`
// the message mentions, so an error about a file value names the file and line.
[[nodiscard]] std::string with_origins(std::string message, const Layer& merged);

} // namespace coder_dns_doctor::config
