// libFuzzer target: the HCL span parser must never crash, its spans must nest, unparse must give
// back the input byte for byte, and the template fix (ConfigMap and template-only modes) must either
// refuse or produce text that parses; template-only output is a fixed point of a second run.
#include <coder_dns_doctor/patch/fix.hpp>
#include <coder_dns_doctor/patch/hcl/syntax.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace hcl = coder_dns_doctor::patch::hcl;
namespace patch = coder_dns_doctor::patch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string source(reinterpret_cast<const char*>(data), size);
  auto file = hcl::parse("fuzz.tf", source);
  if (!file)
    return 0;
  if (auto spans = hcl::check_spans(file->root, file->source.size()); !spans) {
    std::fprintf(stderr, "span check failed: %s\n", spans.error().c_str());
    std::abort();
  }
  if (hcl::unparse(file->root, file->source) != source) {
    std::fprintf(stderr, "round-trip mismatch\n");
    std::abort();
  }
  for (auto scope : {patch::Scope::full, patch::Scope::agent_env_only}) {
    auto fixed = patch::fix_template("fuzz.tf", source, patch::k_configmap_name, scope);
    if (fixed && !hcl::parse("fixed.tf", fixed->text)) {
      std::fprintf(stderr, "the fix produced text that does not parse\n");
      std::abort();
    }
    // Template-only mode: refuses, or produces text that parses and is a fixed point.
    auto only = patch::fix_template_only("fuzz.tf", source, patch::k_default_coder_url, scope);
    if (!only)
      continue;
    if (!hcl::parse("fixed.tf", only->text)) {
      std::fprintf(stderr, "template-only mode produced text that does not parse\n");
      std::abort();
    }
    auto again = patch::fix_template_only("fuzz.tf", only->text, patch::k_default_coder_url, scope);
    if (!again || again->text != only->text) {
      std::fprintf(stderr, "template-only mode is not idempotent\n");
      std::abort();
    }
  }
  return 0;
}
