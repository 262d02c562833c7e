// Layer 1 (util). Reading JSON API objects of any shape (Kubernetes, coderd): lookups that never throw, whatever the
// JSON holds.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

// Return `object[key]` when `object` is an object holding a non-null `key`, else nullptr.
[[nodiscard]] const nlohmann::json* member(const nlohmann::json& object, std::string_view key);
// Return `object[key]` when it is a string, else "".
[[nodiscard]] std::string text_at(const nlohmann::json& object, std::string_view key);
// Return `object[key]`, or an empty object when it is missing.
[[nodiscard]] const nlohmann::json& child(const nlohmann::json& object, std::string_view key);
// Walk `keys` from `object`; nullptr when any step is missing.
[[nodiscard]] const nlohmann::json* path(const nlohmann::json& object, std::initializer_list<std::string_view> keys);

} // namespace coder_dns_doctor::util
