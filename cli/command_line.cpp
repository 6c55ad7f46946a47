#include "cli/command_line.hpp"

#include <algorithm>
#include <functional>
#include <istream>
#include <map>
#include <optional>
#include <ostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "common/version.hpp"

namespace ignite::cli {

namespace {

using action = std::function<int()>;

// `draft save ID --command prog --flag …`: everything after --command is the program's
// argv, whatever it looks like, so it is taken out before CLI11 could read `--flag` as
// an option; a flag named --command is left in its place. `--command -- prog` works too.
std::optional<std::vector<std::string>> take_command_argv(std::vector<std::string>& args) {
  auto draft = std::find(args.begin(), args.end(), "draft");
  auto save = std::find(draft, args.end(), "save");
  if (save == args.end()) return std::nullopt;
  auto at = std::find_if(save, args.end(),
                         [](const std::string& a) { return a == "--command" || a.starts_with("--command="); });
  if (at == args.end()) return std::nullopt;

  std::vector<std::string> argv;
  if (at->starts_with("--command=")) argv.push_back(at->substr(10));
  auto rest = at + 1;
  if (argv.empty() && rest != args.end() && *rest == "--") ++rest;
  argv.insert(argv.end(), rest, args.end());
  args.erase(at, args.end());
  args.push_back("--command");
  return argv;
}

// An option that may be left out: `target` holds a value only if it was given.
template <class T>
CLI::Option* add_optional(CLI::App* cmd, const std::string& name, std::optional<T>& target,
                          const std::string& description) {
  return cmd->add_option_function<T>(
      name, [&target](const T& value) { target = value; }, description);
}

// Flags that a prebuilt image cannot take: accepted by the parser, hidden from --help,
// and recorded so the command can refuse them with the reason (exit 2).
void add_refused(CLI::App* cmd, std::vector<std::string>& given, std::initializer_list<const char*> flags) {
  for (const char* flag : flags) {
    cmd->add_option_function<std::vector<std::string>>(
           flag, [&given, flag](const std::vector<std::string>&) { given.push_back(flag); })
        ->expected(0, 1)
        ->take_all()  // repeated (`--build-arg A=1 --build-arg B=2`): still the explanation
        ->allow_extra_args(false)
        ->group("");
  }
}

// Every argument the commands take, alive while the parsed actions run.
struct arguments {
  std::string output = "text";
  std::string config_key, config_value;
  app_create_args app_create;
  std::string id;  // the ORG:NAME of app get/delete, draft, version, scaling, invoke
  draft_save_args draft_save;
  bool command_flag = false;
  std::int64_t rollback_version = 0;
  scaling_set_args scaling;
  secret_create_args secret_create;
  std::string secret_name;
  invoke_args invoke;
  std::string org, token_id;
};

class grammar {
 public:
  grammar(CLI::App& app, session& s, arguments& a, std::optional<std::vector<std::string>>& command_argv)
      : s_(s), a_(a) {
    app.add_option("-o,--output", a.output,
                   "output format: text (for people, the default) or json (the API's answer as is)")
        ->check(CLI::IsMember({"text", "json"}));
    add_config(app);
    add_app(app);
    add_draft(app, command_argv);
    add_version(app);
    add_scaling(app);
    add_secret(app);
    add_invoke(app);
    add_token(app);
  }

  // The action of the deepest subcommand parsed; null if it has none (a group alone).
  action find(const CLI::App& app) const {
    const CLI::App* at = &app;
    while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
    auto it = actions_.find(at);
    return it == actions_.end() ? action() : it->second;
  }

 private:
  CLI::App* group(CLI::App& app, const std::string& name, const std::string& description) {
    auto* cmd = app.add_subcommand(name, description);
    cmd->require_subcommand(1);
    return cmd;
  }
  CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description, action run) {
    auto* cmd = parent->add_subcommand(name, description);
    actions_[cmd] = std::move(run);
    return cmd;
  }
  void add_id(CLI::App* cmd) { cmd->add_option("id", a_.id, "the app, as ORG:NAME (acme-corp:greeter)")->required(); }

  void add_config(CLI::App& app) {
    auto* config = group(app, "config", "the CLI's settings (~/.config/ignite/config.json, mode 0600)");
    auto* set = command(config, "set", "save a setting (IGNITE_TOKEN / IGNITE_API_ENDPOINT override it)",
                        [this] { return config_set(s_, a_.config_key, a_.config_value); });
    set->add_option("key", a_.config_key, "token or api_endpoint")
        ->required()
        ->check(CLI::IsMember({"token", "api_endpoint"}));
    set->add_option("value", a_.config_value, "the token, or the endpoint as http://host:port")->required();
    command(config, "get", "show the settings in effect and where each comes from (the token masked)",
            [this] { return config_get(s_); });
  }

  void add_app(CLI::App& app) {
    auto* apps = group(app, "app", "create, inspect and delete apps");
    auto* create =
        command(apps, "create", "create an app (its id is ORG:NAME)", [this] { return app_create(s_, a_.app_create); });
    create->add_option("name", a_.app_create.name, "lowercase letters, digits and '-', starting with a letter")
        ->required();
    add_optional(create, "--org", a_.app_create.org, "the org (an org token implies its own)");
    create->add_option("--description", a_.app_create.description, "free text");
    add_refused(create, a_.app_create.build_flags, {"--runtime"});

    add_id(command(apps, "get", "show an app: versions, public URLs, scaling", [this] { return app_get(s_, a_.id); }));
    command(apps, "list", "list the apps you can see", [this] { return app_list(s_); });
    add_id(command(apps, "delete", "delete an app and stop its pods", [this] { return app_delete(s_, a_.id); }));
  }

  void add_draft(CLI::App& app, std::optional<std::vector<std::string>>& command_argv) {
    auto* draft = group(app, "draft", "save an app's next source, and publish it as a version");
    auto& d = a_.draft_save;
    auto* save =
        command(draft, "save", "set the source of the app's next version (exactly one source)", [this, &command_argv] {
          auto args = a_.draft_save;
          args.id = a_.id;
          if (a_.command_flag) args.command = command_argv.value_or(std::vector<std::string>{});
          return draft_save(s_, args);
        });
    add_id(save);
    add_optional(save, "--image-ref", d.image_ref, "a prebuilt image: registry/repo:tag or repo@sha256:...");
    add_optional(save, "--registry-secret-ref", d.registry_secret_ref,
                 "the registry secret to pull a private --image-ref with (ignite secret create)");
    save->add_flag("--command", a_.command_flag,
                   "ARG... run a local process with PORT set; takes the rest of the command line "
                   "(--command -- prog --flag works too)");
    save->add_option("--endpoint", d.endpoints, "HOST:PORT of a pod that runs elsewhere (repeatable)")
        ->allow_extra_args(false);
    add_refused(save, d.build_flags, {"--build-arg", "--dockerfile-path", "--code", "--git-url", "--runtime"});

    add_id(command(draft, "publish", "cut an immutable version from the draft and make it active",
                   [this] { return draft_publish(s_, a_.id); }));
  }

  void add_version(CLI::App& app) {
    auto* version = group(app, "version", "an app's versions");
    add_id(command(version, "list", "list the versions, marking the active one",
                   [this] { return version_list(s_, a_.id); }));
    auto* rollback = command(version, "rollback", "make an earlier version active again",
                             [this] { return version_rollback(s_, a_.id, a_.rollback_version); });
    add_id(rollback);
    rollback->add_option("version", a_.rollback_version, "the version number")->required()->check(CLI::PositiveNumber);
  }

  void add_scaling(CLI::App& app) {
    auto* scaling = group(app, "scaling", "how an app's pods scale");
    auto& sc = a_.scaling;
    auto* set = command(scaling, "set", "change the given settings; the others keep their values", [this] {
      auto args = a_.scaling;
      args.id = a_.id;
      return scaling_set(s_, args);
    });
    add_id(set);
    add_optional(set, "--reserved-capacity", sc.reserved_capacity, "pods kept warm (0: scale to zero)")
        ->check(CLI::NonNegativeNumber);
    add_optional(set, "--max-replicas", sc.max_replicas, "at most this many pods")->check(CLI::NonNegativeNumber);
    add_optional(set, "--container-concurrency", sc.container_concurrency,
                 "requests one pod takes at once (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    add_optional(set, "--idle-timeout-ms", sc.idle_timeout_ms, "an idle pod stops after this long")
        ->check(CLI::NonNegativeNumber);
  }

  void add_secret(CLI::App& app) {
    auto* secret = group(app, "secret", "registry credentials for private images");
    auto& c = a_.secret_create;
    auto* create = command(secret, "create", "store a registry secret (the password is never shown again)",
                           [this] { return secret_create(s_, a_.secret_create); });
    create->add_option("name", c.name, "the secret's name, referenced by --registry-secret-ref")->required();
    create->add_option("--type", c.type, "the kind of secret: registry")->required();
    create->add_option("--server", c.server, "the registry host, like ghcr.io")->required();
    create->add_option("--username", c.username, "the registry user")->required();
    auto* stdin_flag =
        create->add_flag("--password-stdin", c.password_stdin, "read the password from stdin (recommended)");
    add_optional(create, "--password", c.password, "the password (visible in the process list and shell history)")
        ->excludes(stdin_flag);
    add_optional(create, "--org", c.org, "the org (an org token implies its own)");

    command(secret, "list", "list secrets (never their passwords)", [this] { return secret_list(s_); });
    auto* del = command(secret, "delete", "delete a secret (refused while a version uses it)",
                        [this] { return secret_delete(s_, a_.secret_name); });
    del->add_option("name", a_.secret_name, "NAME, or ORG:NAME")->required();
  }

  void add_invoke(CLI::App& app) {
    auto& i = a_.invoke;
    auto* invoke_cmd = command(&app, "invoke", "call an app: POST the payload, print its answer", [this] {
      auto args = a_.invoke;
      args.id = a_.id;
      return invoke(s_, args);
    });
    add_id(invoke_cmd);
    auto* payload = add_optional(invoke_cmd, "-p,--payload", i.payload, "the payload (JSON)");
    add_optional(invoke_cmd, "-f,--file", i.file, "read the payload from FILE ('-': stdin)")->excludes(payload);
    invoke_cmd->footer("With neither -p nor -f the payload is read from stdin.");
  }

  void add_token(CLI::App& app) {
    auto* token = group(app, "token", "org tokens (needs the operator token)");
    auto* create = command(token, "create", "create a token for an org; it is printed once",
                           [this] { return token_create(s_, a_.org); });
    create->add_option("org", a_.org, "the org")->required();
    auto* list = command(token, "list", "list an org's tokens (ids only)", [this] { return token_list(s_, a_.org); });
    list->add_option("org", a_.org, "the org")->required();
    auto* revoke = command(token, "revoke", "revoke a token", [this] { return token_revoke(s_, a_.org, a_.token_id); });
    revoke->add_option("org", a_.org, "the org")->required();
    revoke->add_option("id", a_.token_id, "the token's id")->required();
  }

  session& s_;
  arguments& a_;
  std::map<const CLI::App*, action> actions_;
};

}  // namespace

int run(std::vector<std::string> args, std::istream& in, std::ostream& out, std::ostream& err, const environment& env) {
  session s(in, out, err, env);
  try {
    auto command_argv = take_command_argv(args);
    CLI::App app("ignite: manage and invoke apps on the Ignite ingress (the seed's `dodil ignite`)", "ignite");
    app.fallthrough();  // -o json is accepted after the subcommand too; set before adding them
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("ignite ") + common::k_version);
    app.footer(
        "Settings: ~/.config/ignite/config.json ($XDG_CONFIG_HOME/ignite/config.json); IGNITE_TOKEN and\n"
        "IGNITE_API_ENDPOINT override it. Exit codes: 0 ok, 1 the API refused or could not be reached, 2 usage.");
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
      return "ignite: " + std::string(e.what()) + "\nRun with --help for more information.\n";
    });
    arguments a;
    grammar g(app, s, a, command_argv);

    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      return app.exit(e, out, err) == 0 ? k_exit_ok : k_exit_usage;
    }
    s.format = a.output == "json" ? output_format::json : output_format::text;
    const action chosen = g.find(app);
    if (!chosen) {
      err << app.help();
      return k_exit_usage;
    }
    return chosen();
  } catch (const failure& f) {
    err << "ignite: " << s.scrub(f.what()) << '\n';
    return f.exit_code();
  } catch (const std::exception& e) {
    err << "ignite: " << s.scrub(e.what()) << '\n';
    return k_exit_failed;
  }
}

}  // namespace ignite::cli
