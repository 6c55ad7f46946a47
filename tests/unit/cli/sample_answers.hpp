#pragma once
// Answers of the control API as DESIGN.md ("Control API") shapes them, for the fake API.

namespace ignite::test {

inline constexpr const char* k_app_json =
    R"({"id":"acme-corp:greeter","org":"acme-corp","name":"greeter","description":"Prebuilt greeter image",)"
    R"("active_version":2,"versions":[1,2],)"
    R"("draft":{"image_ref":"ghcr.io/acme-corp/greeter:1.0.1","registry_secret_ref":"greeter-registry"},)"
    R"("scaling":{"reserved_capacity":0,"max_replicas":4,"container_concurrency":0,"idle_timeout_ms":300000},)"
    R"("public_urls":["http://greeter-acme-corp.ignite.dodil.cloud:8080"],"managed_by":"api",)"
    R"("created_at":"2026-01-02T03:04:05Z"})";

inline constexpr const char* k_new_app_json =
    R"({"id":"acme-corp:greeter","org":"acme-corp","name":"greeter","description":"Prebuilt greeter image",)"
    R"("active_version":null,"versions":[],"draft":null,)"
    R"("scaling":{"reserved_capacity":0,"max_replicas":4,"container_concurrency":0,"idle_timeout_ms":300000},)"
    R"("public_urls":[],"managed_by":"api","created_at":"2026-01-02T03:04:05Z"})";

inline constexpr const char* k_not_found_json =
    R"({"error":{"code":"not_found","message":"app acme-corp:nope does not exist"}})";

}  // namespace ignite::test
