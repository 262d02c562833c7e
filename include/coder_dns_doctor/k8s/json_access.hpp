// Reading Kubernetes API objects of any shape: the util lookups that never throw.
#pragma once

#include <coder_dns_doctor/util/json_access.hpp>

namespace coder_dns_doctor::k8s {
using util::child;
using util::member;
using util::path;
using util::text_at;
} // namespace coder_dns_doctor::k8s
