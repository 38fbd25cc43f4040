// qix: the libqix command-line tool (docs/cli.md). Argument parsing and dispatch.
#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

using namespace qixcli;

namespace {

// Options every command accepts, before or after the command name.
void add_connection_options(CLI::App& app, Config& cfg) {
  const char* g = "Connection";
  app.add_option("--url", cfg.url, "Engine URL, e.g. wss://host/app/ID (default: the bundled simulator)")
      ->group(g);
  app.add_option("--host", cfg.host, "Engine host (builds the URL from the parts)")->group(g);
  app.add_option("--port", cfg.port, "Engine port (with --host)")->group(g)->check(CLI::Range(0, 65535));
  app.add_flag("--secure", cfg.secure, "Use wss:// (with --host)")->group(g);
  app.add_option("--prefix", cfg.prefix, "Virtual proxy prefix (with --host)")->group(g);
  app.add_option("--app", cfg.app, "App id to open (the simulator's default: demo)")->group(g);
  app.add_option("--identity", cfg.identity, "Session identity (with --host)")->group(g);
  app.add_option("--ttl", cfg.ttl, "Session time to live in seconds (with --host)")
      ->group(g)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--header", cfg.headers, "Extra HTTP header 'Name: value' (repeatable)")
      ->group(g)
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--bearer", cfg.bearer, "Bearer token (API key or JWT); also from QIX_BEARER")
      ->group(g)
      ->envname("QIX_BEARER");
  app.add_option("--certs", cfg.certs,
                 "Folder with client.pem, client_key.pem and root.pem (Qlik Sense export)")
      ->group(g);
  app.add_flag("--insecure", cfg.insecure, "Do not verify the server's TLS certificate")->group(g);
  app.add_option("--timeout", cfg.timeout_s, "Seconds for connecting and for each call (0 = none)")
      ->group(g)
      ->capture_default_str();
  app.add_option("--traffic", cfg.traffic, "Write every frame to FILE as JSON lines (no credentials)")
      ->group(g);
  app.add_flag("--no-delta", cfg.no_delta, "Do not use the delta protocol")->group(g);
  app.add_option("--reconnect", cfg.reconnect, "After a dropped connection: none (end), attach or resume")
      ->group(g)
      ->check(CLI::IsMember({"none", "attach", "resume"}))
      ->capture_default_str();
  app.add_flag("--json", cfg.json, "Machine-readable JSON output; errors as one JSON object on stderr")
      ->group("Output");
}

// Edit distance of two short words (for "did you mean").
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The failure for a command line without a known command: "unknown command 'x'" (with the nearest
// command) or "a command is required", then the list of commands.
Failure no_command(CLI::App& app) {
  std::string word, option;
  for (const auto& r : app.remaining()) {
    if (!r.empty() && r[0] != '-' && word.empty()) word = r;
    if (!r.empty() && r[0] == '-' && option.empty()) option = r;
  }
  auto commands = app.get_subcommands([](const CLI::App*) { return true; });
  std::string message = word.empty() ? "a command is required" : "unknown command '" + word + "'";
  if (word.empty() && !option.empty()) message += " (and '" + option + "' is no option of qix)";
  std::string nearest;
  std::size_t best = 3;  // at most two edits away
  for (const auto* c : commands) {
    std::size_t d = distance(word, c->get_name());
    if (!word.empty() && d < best) {
      best = d;
      nearest = c->get_name();
    }
  }
  if (!nearest.empty()) message += " (did you mean '" + nearest + "'?)";
  std::string text = "qix: " + message + "\nCommands:\n";
  json::array names;
  for (const auto* c : commands) {
    text += "  " + c->get_name() + std::string(10 - std::min<std::size_t>(c->get_name().size(), 9), ' ') +
            c->get_description() + "\n";
    names.push_back(json::value(c->get_name()));
  }
  text += "Run 'qix COMMAND --help' for a command's options, 'qix --help' for the connection options.";
  Failure f(kExitUsage, text);
  f.json_message = message;
  f.details["commands"] = std::move(names);
  if (!word.empty()) f.details["command"] = word;
  return f;
}

// --json before the first "--": errors of the command line itself are JSON too.
bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "--json") return true;
  }
  return false;
}

int run_cli(int argc, char** argv) {
  const bool json_errors = json_requested(argc, argv);
  CLI::App app{
      "qix: command-line client for the Qlik QIX Engine (libqix " + qix::version() +
      ").\nWith no --url/--host, commands run against the bundled engine simulator, started in-process.\n"
      "Exit codes: 0 ok, 1 engine error (or another failure), 2 usage, 3 connection,\n"
      "130 extract interrupted (Ctrl-C)."};
  app.set_version_flag("--version", qix::version());
  app.require_subcommand(1);
  app.fallthrough();
  Config cfg;
  add_connection_options(app, cfg);

  int rc = kExitOk;
  std::function<int()> run;

  auto* demo =
      app.add_subcommand("demo", "Start the simulator, build a table and a list, select, show the changes");
  demo->callback([&] { run = [&] { return cmd_demo(cfg); }; });

  CallArgs call;
  auto* c = app.add_subcommand("call", "Call any Engine API method and print the result as JSON");
  c->footer(
      "Without --object/--handle the call goes to Global or to the app (Doc), whichever has the method;\n"
      "an app method with no --app opens the bundled simulator's app demo.");
  c->add_option("METHOD", call.method, "Method name, e.g. EngineVersion, GetTablesAndKeys")->required();
  c->add_option("PARAMS", call.params, "Params as a JSON array or object (default [])");
  c->add_option("--object", call.object, "Call on this object id (GetObject) of the app");
  auto* handle_opt = c->add_option("--handle", call.handle, "Call on this engine handle (-1 = Global)");
  c->add_flag("--raw", call.raw, "Print the whole result, out parameters not unwrapped");
  c->callback([&] {
    call.has_handle = handle_opt->count() > 0;
    run = [&] { return cmd_call(cfg, call); };
  });

  app.add_subcommand("apps", "List the apps (GetDocList)")->callback([&] {
    run = [&] { return cmd_apps(cfg); };
  });

  std::string expr;
  auto* e = app.add_subcommand("eval", "Evaluate an expression in the app");
  e->add_option("EXPR", expr, "Expression, e.g. 'Sum(Sales)'")->required();
  e->callback([&] { run = [&] { return cmd_eval(cfg, expr); }; });

  app.add_subcommand("objects", "List the app's objects (GetAllInfos)")->callback([&] {
    run = [&] { return cmd_objects(cfg); };
  });

  std::string object_id;
  auto* l = app.add_subcommand("layout", "Print an object's layout");
  l->add_option("ID", object_id, "Object id")->required();
  l->callback([&] { run = [&] { return cmd_layout(cfg, object_id); }; });

  app.add_subcommand("fields", "List the app's fields (GetTablesAndKeys)")->callback([&] {
    run = [&] { return cmd_fields(cfg); };
  });

  std::string field;
  std::vector<std::string> values;
  auto* s = app.add_subcommand("select", "Select values in a field and print the current selections");
  s->add_option("FIELD", field, "Field name")->required();
  s->add_option("VALUES", values, "Values (as shown, e.g. Bikes 2024)")->required();
  s->callback([&] { run = [&] { return cmd_select(cfg, field, values); }; });

  auto* cl = app.add_subcommand("clear", "Clear the selections of a field, or all selections");
  cl->add_option("FIELD", field, "Field name (default: all fields)");
  cl->callback([&] { run = [&] { return cmd_clear(cfg, field); }; });

  WatchArgs watch;
  auto* w = app.add_subcommand("watch", "Keep an object's layout fresh and print each new version");
  w->add_option("ID", watch.id, "Object id (the simulator's demo app has sales-by-region)")->required();
  w->add_option("--count", watch.count, "Stop after N versions (default: until interrupted)");
  w->add_option("--interval", watch.interval_ms, "At most one fetch per this many ms (default 250)");
  w->callback([&] { run = [&] { return cmd_watch(cfg, watch); }; });

  ExtractArgs ex;
  auto* x = app.add_subcommand("extract", "Stream every row of a hypercube as CSV or JSON lines (pipelined)");
  x->add_option("--dim", ex.dims, "Dimension field (repeatable)")->allow_extra_args(false);
  x->add_option("--measure", ex.measures, "Measure expression, e.g. 'Sum(Sales)' (repeatable)")
      ->allow_extra_args(false);
  x->add_option("--format", ex.format, "csv (default) or jsonl");
  x->add_option("-o,--output", ex.output, "Output file, written in full or not at all (default: stdout)");
  x->add_option("--window", ex.window, "Pages in flight at once (default 4)");
  x->add_option("--page-height", ex.page_height, "Rows per page (default: as many as fit in 10,000 cells)");
  x->add_option("--progress", ex.progress,
                "Progress bar on stderr: auto (when a terminal, not with --json), always, never");
  x->callback([&] { run = [&] { return cmd_extract(cfg, ex); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForAllHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForVersion& h) {
    return app.exit(h);
  } catch (const CLI::ParseError& err) {
    if (dynamic_cast<const CLI::RequiredError*>(&err) && app.get_subcommands().empty()) {
      // No command was recognised: CLI11 would only say "A subcommand is required".
      print_failure(json_errors, no_command(app));
    } else if (json_errors) {
      Failure f(kExitUsage, err.what());
      print_failure(true, f);
    } else {
      app.exit(err);
    }
    return kExitUsage;
  }
  try {
    rc = run ? run() : kExitUsage;
  } catch (const Failure& f) {
    print_failure(cfg.json, f);
    rc = f.code;
  } catch (const std::exception& err) {  // qix::Error included: commands turn the expected ones into Failure
    print_failure(cfg.json, Failure(kExitEngine, std::string("qix: ") + err.what()));
    rc = kExitEngine;
  }
  std::fflush(stdout);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // What run_cli does not turn into a Failure: the command line's own setup or the error report failing
  // (out of memory ...). Exit 1 with a message rather than std::terminate.
  try {
    return run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qix: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "qix: an unexpected error\n");
  }
  return kExitEngine;
}
