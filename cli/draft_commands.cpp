// draft save | publish

#include <ostream>

#include "cli/commands.hpp"
#include "cli/source_text.hpp"
#include "common/host_port.hpp"

namespace ignite::cli {

namespace {

nlohmann::json source_of(const draft_save_args& args) {
  const int sources = (args.image_ref ? 1 : 0) + (args.command ? 1 : 0) + (args.endpoints.empty() ? 0 : 1);
  if (sources != 1)
    throw usage_error(std::string(sources == 0 ? "draft save needs a source" : "the source flags are exclusive") +
                      ": give exactly one of --image-ref IMAGE, --command ARG... or --endpoint HOST:PORT");
  if (args.registry_secret_ref && !args.image_ref)
    throw usage_error("--registry-secret-ref goes with --image-ref (it is how a private image is pulled)");

  if (args.image_ref) {
    if (args.image_ref->empty()) throw usage_error("--image-ref is empty");
    nlohmann::json source = {{"image_ref", *args.image_ref}};
    if (args.registry_secret_ref) source["registry_secret_ref"] = *args.registry_secret_ref;
    return source;
  }
  if (args.command) {
    if (args.command->empty() || args.command->front().empty())
      throw usage_error("--command needs the program to run, like --command ./server --port 0");
    return {{"command", *args.command}};
  }
  for (const auto& e : args.endpoints) {
    std::string why;
    if (!common::parse_host_port(e, false, why)) throw usage_error("--endpoint \"" + e + "\": " + why);
  }
  return {{"endpoints", args.endpoints}};
}

}  // namespace

// The seed ("Run a prebuilt image"): BYOI has no build step, so build inputs are refused
// with the fix, before anything is sent.
std::string prebuilt_only_refusal(const std::string& flag) {
  if (flag == "--build-arg" || flag == "--dockerfile-path")
    return "--build-arg/--dockerfile-path: a prebuilt image (--image-ref) has no build step; bake them into the "
           "image before you push it, or use the build-from-code path";
  return flag +
         ": this proxy runs prebuilt images only; build and push the image yourself, then "
         "`ignite draft save ORG:NAME --image-ref <image>`";
}

int draft_save(session& s, const draft_save_args& args) {
  if (!args.build_flags.empty()) throw usage_error(prebuilt_only_refusal(args.build_flags.front()));
  const auto body = source_of(args);
  const auto answer = s.call(http_method::put, app_path(args.id, "/draft"), body);
  s.print(answer, [&](std::ostream& out) {
    const auto& draft = value_at(answer.json, "draft");
    out << "saved the draft of " << args.id << ": " << source_text(draft.is_object() ? draft : body) << '\n'
        << "next: ignite draft publish " << args.id << '\n';
  });
  return k_exit_ok;
}

int draft_publish(session& s, const std::string& id) {
  const auto answer = s.call(http_method::post, app_path(id, "/draft/publish"), nullptr, k_long_timeout);
  s.print(answer, [&](std::ostream& out) {
    const auto app = string_at(answer.json, "app");
    out << "published " << (app.empty() ? id : app) << " version " << cell_text(value_at(answer.json, "version"))
        << '\n';
    if (const auto& source = value_at(answer.json, "source"); source.is_object())
      out << "source: " << source_text(source) << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
