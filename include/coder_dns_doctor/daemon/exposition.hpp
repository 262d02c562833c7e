// The Prometheus text exposition format (version 0.0.4) of collected metric families.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace coder_dns_doctor::daemon {

// `families` as text, byte for byte what prometheus-cpp's TextSerializer writes (numbers as
// printf's %.16g, so a bucket's `le` label and every value keep the text scrapers have seen),
// except that a backslash or newline in HELP text is escaped as the format requires (prometheus-cpp
// 1.0 writes them raw; no help text of ours has one), in
// one pass into one string: the ostream formatting of TextSerializer cost about twice a DNS-only
// probe cycle per scrape (callgrind), and serve is scraped once a cycle or more.
[[nodiscard]] std::string exposition_text(const std::vector<prometheus::MetricFamily>& families);

} // namespace coder_dns_doctor::daemon
