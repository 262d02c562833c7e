// daemon::exposition_text against the independent writer it replaces: prometheus-cpp's own
// TextSerializer, byte for byte, over families that exercise every path (each type, escapes,
// special and awkward numbers, timestamps, a histogram with and without its +Inf bucket).
#include <coder_dns_doctor/daemon/exposition.hpp>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace coder_dns_doctor;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

ClientMetric labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

std::vector<MetricFamily> awkward_families() {
  std::vector<MetricFamily> families;
  MetricFamily counter{
      .name = "cdd_things_total", .help = "Things, with \"quotes\".", .type = MetricType::Counter, .metric = {}};
  for (double value : {0.0, 1.0, 12.0, 1.0 / 3.0, 1e-7, 1733333333.125, 12345678901234567.0, -0.0}) {
    ClientMetric metric = labelled({{"path", "a \"quoted\" \\ back\nslash"}, {"via", "dns"}});
    metric.counter.value = value;
    counter.metric.push_back(metric);
  }
  families.push_back(counter);

  MetricFamily gauge{.name = "cdd_level", .help = "", .type = MetricType::Gauge, .metric = {}};
  for (double value : {std::nan(""), k_inf, -k_inf, 0.1, 2.5e300, 5e-324}) {
    ClientMetric metric;
    metric.gauge.value = value;
    gauge.metric.push_back(metric);
  }
  ClientMetric stamped = labelled({{"k", "v"}});
  stamped.gauge.value = 7;
  stamped.timestamp_ms = 1733333333123;
  gauge.metric.push_back(stamped);
  families.push_back(gauge);

  MetricFamily histogram{.name = "cdd_seconds", .help = "Durations.", .type = MetricType::Histogram, .metric = {}};
  ClientMetric with_inf = labelled({{"check", "dns"}});
  with_inf.histogram = {
      .sample_count = 9, .sample_sum = 0.123456789, .bucket = {{1, 0.005}, {4, 0.025}, {6, 0.1}, {8, 2.5}, {9, k_inf}}};
  ClientMetric without_inf = labelled({});
  without_inf.histogram = {.sample_count = 3, .sample_sum = 3.3, .bucket = {{1, 1.0 / 3.0}, {2, 10}}};
  histogram.metric = {with_inf, without_inf};
  families.push_back(histogram);

  MetricFamily summary{.name = "cdd_summary", .help = "A summary.", .type = MetricType::Summary, .metric = {}};
  ClientMetric quantiles = labelled({{"x", "y"}});
  quantiles.summary = {.sample_count = 5, .sample_sum = 10.5, .quantile = {{0.5, 2}, {0.99, std::nan("")}}};
  summary.metric = {quantiles};
  families.push_back(summary);

  MetricFamily untyped{.name = "cdd_untyped", .help = "Untyped.", .type = MetricType::Untyped, .metric = {}};
  ClientMetric plain;
  plain.untyped.value = 42;
  untyped.metric = {plain};
  families.push_back(untyped);
  return families;
}

} // namespace

TEST_CASE("the exposition text is what prometheus-cpp's TextSerializer writes, byte for byte") {
  auto families = awkward_families();
  std::string ours = daemon::exposition_text(families);
  std::string theirs = prometheus::TextSerializer().Serialize(families);
  CHECK(ours == theirs);
  CHECK(ours.find("le=\"+Inf\"") != std::string::npos);
  CHECK(daemon::exposition_text({}).empty());
}

TEST_CASE("a backslash or a newline in HELP text is escaped, as the format requires") {
  MetricFamily family{.name = "cdd_x", .help = "a \\ b\nc \"d\"", .type = MetricType::Gauge, .metric = {}};
  CHECK(daemon::exposition_text({family}) == "# HELP cdd_x a \\\\ b\\nc \"d\"\n# TYPE cdd_x gauge\n");
}

TEST_CASE("a registry's families, counters and default-bucket histograms, render as prometheus-cpp renders them") {
  prometheus::Registry registry;
  auto& counters = prometheus::BuildCounter().Name("cdd_total").Help("Counted.").Register(registry);
  counters.Add({{"a", "1"}}).Increment(3);
  counters.Add({{"a", "2"}});
  auto& histograms = prometheus::BuildHistogram().Name("cdd_duration_seconds").Help("Timed.").Register(registry);
  auto& timed =
      histograms.Add({{"check", "http"}}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                                  0.25, 0.5, 1, 2.5, 5, 10});
  for (double seconds : {0.0004, 0.003, 0.07, 0.3, 4.2, 11.0})
    timed.Observe(seconds);
  auto families = registry.Collect();
  CHECK(daemon::exposition_text(families) == prometheus::TextSerializer().Serialize(families));
}
