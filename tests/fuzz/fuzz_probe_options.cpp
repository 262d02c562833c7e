// libFuzzer target: the parsers behind the probe options (--resolver, --expect, durations, URLs,
// endpoints) must reject anything with core::UsageError or an error value, never another exception
// or a crash; and what they accept must print back to text that parses to the same value.
#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/duration.hpp>
#include <coder_dns_doctor/util/strings.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace cli = coder_dns_doctor::cli;
namespace util = coder_dns_doctor::util;
namespace core = coder_dns_doctor::core;

namespace {

std::string g_resolv_conf; // a fixed resolv.conf for LABEL=system, made once per process

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant broken: %s: '%.*s'\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool same(const util::Url& a, const util::Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.port_explicit == b.port_explicit &&
         a.path == b.path;
}

void check_url(const std::string& text) {
  auto url = util::parse_url(text);
  if (!url)
    return;
  auto again = util::parse_url(url->to_string());
  if (!again)
    fail("to_string() of a parsed URL does not parse", url->to_string());
  if (!same(*url, *again))
    fail("to_string() of a parsed URL parses to another value", url->to_string());
}

void check_endpoint(const std::string& text) {
  auto endpoint = util::parse_endpoint(text, 53);
  if (!endpoint)
    return;
  auto again = util::parse_endpoint(endpoint->to_string(), 53);
  if (!again || again->address != endpoint->address || again->port != endpoint->port)
    fail("to_string() of a parsed endpoint does not give it back", endpoint->to_string());
}

void check_duration(const std::string& text) {
  auto duration = util::parse_duration(text);
  if (!duration)
    return;
  if (duration->count() < 0)
    fail("a negative duration", text);
  auto again = util::parse_duration(util::format_duration(*duration));
  if (duration->count() > 0 && (!again || *again != *duration))
    fail("format_duration() does not give the duration back", util::format_duration(*duration));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char path[] = "/tmp/cdd-fuzz-resolv-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    std::abort();
  close(fd);
  std::ofstream(path) << "nameserver 127.0.0.10\nsearch coder.svc.cluster.local svc.cluster.local\noptions ndots:5\n";
  g_resolv_conf = path;
  std::atexit([] { unlink(g_resolv_conf.c_str()); });
  return 0;
}

// Input: one selector byte, then the text. Selector % 6: resolver, expectations (lines), duration,
// URL, endpoint, or all of them on the same text.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  int which = data[0] % 6;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (which == 0 || which == 5)
      (void)cli::parse_resolver(text, g_resolv_conf);
  } catch (const core::UsageError&) {
  }
  try {
    if (which == 1 || which == 5)
      (void)cli::parse_expectations(util::split(text, '\n'));
  } catch (const core::UsageError&) {
  }
  if (which == 2 || which == 5)
    check_duration(text);
  if (which == 3 || which == 5)
    check_url(text);
  if (which == 4 || which == 5)
    check_endpoint(text);
  return 0;
}
