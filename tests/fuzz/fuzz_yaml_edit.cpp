// libFuzzer target: the line-preserving YAML editor must never crash; an edit that claims no
// change must return the input unchanged; an edit that it accepts must pass its own verification
// or be refused by it (the CLI refuses such results with exit 2), never corrupt other documents.
#include <coder_dns_doctor/patch/yaml/editor.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace yaml = coder_dns_doctor::patch::yaml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // yaml-cpp recurses per nesting level; very deep flow nesting is not what this target explores.
  if (size > 8192 || std::count_if(text.begin(), text.end(), [](char c) { return c == '[' || c == '{'; }) > 64)
    return 0;
  auto docs = yaml::documents(text);
  if (!docs)
    return 0;
  const std::vector<std::vector<std::string>> paths = {{"data", "coder_url"}, {"spec", "ref", "branch"}};
  for (std::size_t i = 0; i < docs->size() && i < 4; ++i) {
    for (const auto& path : paths) {
      auto result = yaml::set_scalar(text, (*docs)[i], path, "http://coder.coder.svc.cluster.local:80", "comment");
      if (!result)
        continue;
      if (result->change == yaml::Change::none && result->text != text) {
        std::fprintf(stderr, "no change reported but the text changed\n");
        std::abort();
      }
      if (result->change != yaml::Change::none) {
        // Must not throw or crash; a non-empty answer is a refusal the CLI turns into exit 2.
        (void)yaml::verify_edit(text, result->text, i, path, "http://coder.coder.svc.cluster.local:80");
        if (result->text.substr(0, (*docs)[i].begin) != text.substr(0, (*docs)[i].begin)) {
          std::fprintf(stderr, "bytes before the edited document changed\n");
          std::abort();
        }
      }
    }
  }
  return 0;
}
