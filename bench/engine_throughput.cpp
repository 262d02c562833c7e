// Benchmark driver: one probe cycle over N hosts against one DNS server, through the real engine.
// Prints one JSON line: lookups, wall seconds, CPU seconds, lookups per second, statuses, RSS.
//   cdd_bench_engine --server IP[:PORT] --hosts N [--suffix bench.test] [--family 4|both]
//                    [--resolvers R] [--timeout 2s] [--cycles K]
#include <coder_dns_doctor/probe/engine.hpp>
#include <coder_dns_doctor/probe/libraries.hpp>
#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/duration.hpp>

#include <fmt/core.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

using namespace coder_dns_doctor;

namespace {

long status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  return -1;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr,
             "cdd_bench_engine: {}\nusage: cdd_bench_engine --server IP[:PORT] --hosts N [--suffix S] "
             "[--family 4|both] [--resolvers R] [--timeout DUR] [--cycles K]\n",
             why);
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{
      {"--suffix", "bench.test"}, {"--family", "4"}, {"--resolvers", "1"}, {"--timeout", "2s"}, {"--cycles", "1"}};
  for (int i = 1; i + 1 < argc; i += 2)
    args[argv[i]] = argv[i + 1];
  if (!args.contains("--server") || !args.contains("--hosts"))
    usage("--server and --hosts are required");
  auto server = util::parse_endpoint(args["--server"], 53);
  auto timeout = util::parse_duration(args["--timeout"]);
  if (!server || !timeout)
    usage("bad --server or --timeout");
  int hosts = std::atoi(args["--hosts"].c_str());
  int resolvers = std::atoi(args["--resolvers"].c_str());
  int cycles = std::atoi(args["--cycles"].c_str());
  if (hosts <= 0 || resolvers <= 0 || cycles <= 0)
    usage("--hosts, --resolvers and --cycles must be positive");

  auto libraries = probe::Libraries::start();
  if (!libraries)
    usage(libraries.error());
  probe::Plan plan;
  plan.timeout = *timeout;
  plan.checks = {.dns = true, .http = false, .kube = false};
  plan.families =
      args["--family"] == "both" ? std::vector{probe::Family::a, probe::Family::aaaa} : std::vector{probe::Family::a};
  for (int r = 0; r < resolvers; ++r)
    plan.resolvers.push_back({.label = fmt::format("r{}", r), .spec = args["--server"], .servers = {*server}});
  for (int h = 0; h < hosts; ++h)
    plan.hosts.push_back({fmt::format("h{}.{}", h, args["--suffix"]), probe::HostRole::extra});

  long rss_before = status_kb("VmRSS");
  std::map<std::string, int> statuses;
  std::size_t lookups = 0;
  double cpu_start = cpu_seconds();
  auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < cycles; ++c) {
    probe::Observations observations = probe::run_cycle(plan, truth::Truth{});
    lookups += observations.dns.size();
    for (const auto& o : observations.dns)
      ++statuses[std::string(probe::to_string(o.status))];
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double cpu = cpu_seconds() - cpu_start;
  std::string status_json;
  for (const auto& [status, count] : statuses)
    status_json += fmt::format("{}\"{}\":{}", status_json.empty() ? "" : ",", status, count);
  fmt::print("{{\"hosts\":{},\"resolvers\":{},\"cycles\":{},\"lookups\":{},\"wall_seconds\":{:.4f},"
             "\"cpu_seconds\":{:.4f},\"lookups_per_second\":{:.1f},\"statuses\":{{{}}},"
             "\"rss_before_kb\":{},\"rss_kb\":{},\"hwm_kb\":{}}}\n",
             hosts, resolvers, cycles, lookups, wall, cpu, static_cast<double>(lookups) / wall, status_json, rss_before,
             status_kb("VmRSS"), status_kb("VmHWM"));
  return 0;
}
