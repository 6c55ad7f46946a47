#include "cli/source_text.hpp"

namespace ignite::cli {

namespace {

std::string joined(const nlohmann::json& array, const char* separator) {
  std::string text;
  if (!array.is_array()) return text;
  for (const auto& item : array) {
    if (!text.empty()) text += separator;
    text += cell_text(item);
  }
  return text;
}

}  // namespace

const nlohmann::json& value_at(const nlohmann::json& object, const char* key) {
  static const nlohmann::json k_null;
  if (!object.is_object()) return k_null;
  auto it = object.find(key);
  return it != object.end() ? *it : k_null;
}

std::string string_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string cell_text(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) return value.empty() ? "-" : joined(value, ",");
  return value.dump();
}

std::string source_text(const nlohmann::json& source) {
  if (!source.is_object()) return "none";
  if (source.contains("image_ref")) {
    std::string text = "image " + string_at(source, "image_ref");
    std::string notes;
    if (auto digest = string_at(source, "image_digest"); !digest.empty()) notes = digest;
    if (auto secret = string_at(source, "registry_secret_ref"); !secret.empty())
      notes += (notes.empty() ? "" : ", ") + std::string("registry secret ") + secret;
    return notes.empty() ? text : text + " (" + notes + ")";
  }
  if (source.contains("command")) return "command " + joined(source["command"], " ");
  if (source.contains("endpoints")) return "endpoints " + joined(source["endpoints"], ", ");
  return source.dump();
}

}  // namespace ignite::cli
