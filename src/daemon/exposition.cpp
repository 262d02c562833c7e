#include <coder_dns_doctor/daemon/exposition.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>

namespace coder_dns_doctor::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

void append_number(std::string& out, double value) {
  if (std::isnan(value))
    out += "Nan";
  else if (std::isinf(value))
    out += value < 0 ? "-Inf" : "+Inf";
  else
    fmt::format_to(std::back_inserter(out), "{:.16g}", value);
}

void append_count(std::string& out, std::uint64_t count) {
  fmt::format_to(std::back_inserter(out), "{}", count);
}

// A label value or HELP text: backslash and newline escaped, and in a label value the double quote.
void append_escaped(std::string& out, std::string_view text, bool in_label) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && in_label)
      out += "\\\"";
    else
      out += c;
  }
}

// One sample line up to its value: `name<suffix>{labels[,extra="..."]} `.
class SampleHead {
public:
  SampleHead(const MetricFamily& family, const ClientMetric& metric) : m_family(family), m_metric(metric) {}

  void write(std::string& out, std::string_view suffix, std::string_view extra_name = {},
             const double* extra_value = nullptr) const {
    out += m_family.name;
    out += suffix;
    if (!m_metric.label.empty() || !extra_name.empty()) {
      out += '{';
      const char* separator = "";
      for (const auto& label : m_metric.label) {
        out += separator;
        out += label.name;
        out += "=\"";
        append_escaped(out, label.value, true);
        out += '"';
        separator = ",";
      }
      if (!extra_name.empty()) {
        out += separator;
        out += extra_name;
        out += "=\"";
        append_number(out, *extra_value);
        out += '"';
      }
      out += '}';
    }
    out += ' ';
  }

  void tail(std::string& out) const {
    if (m_metric.timestamp_ms != 0)
      fmt::format_to(std::back_inserter(out), " {}", m_metric.timestamp_ms);
    out += '\n';
  }

private:
  const MetricFamily& m_family;
  const ClientMetric& m_metric;
};

void append_single(std::string& out, const SampleHead& head, double value) {
  head.write(out, "");
  append_number(out, value);
  head.tail(out);
}

// The `_count` and `_sum` lines a summary and a histogram both begin with.
void append_count_and_sum(std::string& out, const SampleHead& head, std::uint64_t count, double sum) {
  head.write(out, "_count");
  append_count(out, count);
  head.tail(out);
  head.write(out, "_sum");
  append_number(out, sum);
  head.tail(out);
}

void append_summary(std::string& out, const SampleHead& head, const ClientMetric::Summary& summary) {
  append_count_and_sum(out, head, summary.sample_count, summary.sample_sum);
  for (const auto& quantile : summary.quantile) {
    head.write(out, "", "quantile", &quantile.quantile);
    append_number(out, quantile.value);
    head.tail(out);
  }
}

void append_histogram(std::string& out, const SampleHead& head, const ClientMetric::Histogram& histogram) {
  append_count_and_sum(out, head, histogram.sample_count, histogram.sample_sum);
  const double infinity = std::numeric_limits<double>::infinity();
  double last = -infinity;
  for (const auto& bucket : histogram.bucket) {
    head.write(out, "_bucket", "le", &bucket.upper_bound);
    append_count(out, bucket.cumulative_count);
    head.tail(out);
    last = bucket.upper_bound;
  }
  if (last != infinity) { // the +Inf bucket, when the collected ones lack it
    head.write(out, "_bucket", "le", &infinity);
    append_count(out, histogram.sample_count);
    head.tail(out);
  }
}

std::string_view type_name(MetricType type) {
  switch (type) {
  case MetricType::Counter: return "counter";
  case MetricType::Gauge: return "gauge";
  case MetricType::Summary: return "summary";
  case MetricType::Histogram: return "histogram";
  case MetricType::Untyped: break;
  }
  return "untyped";
}

} // namespace

std::string exposition_text(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  out.reserve(families.size() * 256);
  for (const auto& family : families) {
    if (!family.help.empty()) {
      fmt::format_to(std::back_inserter(out), "# HELP {} ", family.name);
      append_escaped(out, family.help, false);
      out += '\n';
    }
    fmt::format_to(std::back_inserter(out), "# TYPE {} {}\n", family.name, type_name(family.type));
    for (const auto& metric : family.metric) {
      SampleHead head(family, metric);
      switch (family.type) {
      case MetricType::Counter: append_single(out, head, metric.counter.value); break;
      case MetricType::Gauge: append_single(out, head, metric.gauge.value); break;
      case MetricType::Summary: append_summary(out, head, metric.summary); break;
      case MetricType::Histogram: append_histogram(out, head, metric.histogram); break;
      case MetricType::Untyped: append_single(out, head, metric.untyped.value); break;
      }
    }
  }
  return out;
}

} // namespace coder_dns_doctor::daemon
