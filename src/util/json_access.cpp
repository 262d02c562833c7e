#include <coder_dns_doctor/util/json_access.hpp>

namespace coder_dns_doctor::util {

using nlohmann::json;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object())
    return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::string text_at(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

const json& child(const json& object, std::string_view key) {
  static const json empty = json::object();
  const json* value = member(object, key);
  return value != nullptr ? *value : empty;
}

const json* path(const json& object, std::initializer_list<std::string_view> keys) {
  const json* here = &object;
  for (std::string_view key : keys) {
    here = member(*here, key);
    if (here == nullptr)
      return nullptr;
  }
  return here;
}

} // namespace coder_dns_doctor::util
