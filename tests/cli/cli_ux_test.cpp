// Tests of the `qix` command-line tool's first-run experience (issue 15): `call` of an app method with no
// --app, unknown commands, errors that name the bad field, JSON errors, Ctrl-C during extract, the progress
// bar's first ETA, `watch` on the simulator's sample chart, and a manual page that documents every option.
// Like cli_test.cpp, every test runs the real `qix` against an engine simulator over real sockets.
#include "cli_support.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace {

using namespace qix_cli_test;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// The one JSON object `--json` prints on stderr for a failure.
json::object error_of(const std::string& err) {
  auto lines = split_lines(err);
  EXPECT_EQ(lines.size(), 1u) << "one line on stderr: " << err;
  if (lines.empty()) return {};
  auto v = parse(lines.back());
  EXPECT_TRUE(v.is_object() && v.as_object().contains("error")) << err;
  return v.is_object() && v.as_object().contains("error") ? v.at("error").as_object() : json::object{};
}

using CliUx = Cli;

// ------------------------------------------------------------------------------------------------ call

TEST(CliUxBundled, ReadmeCallOfAnAppMethodOpensTheDefaultApp) {
  // The README's line, as printed: no --url, no --app.
  auto r = run_qix({"call", "GetTablesAndKeys", R"([{"qcx":0,"qcy":0},{"qcx":0,"qcy":0},0,false,false])"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = parse(r.out);
  std::set<std::string> tables;
  for (const auto& t : v.at("qtr").as_array()) tables.insert(std::string(t.at("qName").as_string()));
  EXPECT_EQ(tables, (std::set<std::string>{"Customers", "Orders", "Products", "Regions"})) << r.out;
  // A Global method still needs no app, and goes to Global even when an app is open.
  auto g = run_qix({"call", "EngineVersion"});
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(parse(g.out).at("qComponentVersion"), "12.2528.0");
  auto ga = run_qix({"--app", "demo", "call", "EngineVersion"});
  ASSERT_EQ(ga.code, 0) << ga.err;
  EXPECT_EQ(parse(ga.out).at("qComponentVersion"), "12.2528.0");
}

TEST_F(CliUx, CallOfAnAppMethodWithoutAnAppOnAGivenEngineSaysWhatToGive) {
  auto r = run_qix(global({"call", "GetTablesAndKeys"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(
      r.err,
      "qix: GetTablesAndKeys is a method of the app (class Doc): give --app ID (or a --url with /app/ID)\n");
  EXPECT_EQ(sim_->stats()["GetTablesAndKeys"].received, 0u) << "nothing is sent";
  auto obj = run_qix(with_app({"call", "GetLayout"}));
  EXPECT_EQ(obj.code, 2);
  EXPECT_TRUE(contains(obj.err, "qix: GetLayout is a method of ")) << obj.err;
  EXPECT_TRUE(contains(obj.err, "GenericObject")) << obj.err;
  EXPECT_TRUE(contains(obj.err, "give --object ID")) << obj.err;
  // With the app given, the same call works; a Global method still goes to Global.
  auto ok = run_qix(
      with_app({"call", "GetTablesAndKeys", R"([{"qcx":0,"qcy":0},{"qcx":0,"qcy":0},0,false,false])"}));
  EXPECT_EQ(ok.code, 0) << ok.err;
  auto g = run_qix(with_app({"call", "EngineVersion"}));
  EXPECT_EQ(g.code, 0) << g.err;
}

// --------------------------------------------------------------------------------------- unknown commands

TEST(CliUxUsage, UnknownCommandIsNamedAndTheCommandsListed) {
  const std::vector<std::string> commands{"demo",   "call",   "apps",  "eval",  "objects", "layout",
                                          "fields", "select", "clear", "watch", "extract"};
  auto r = run_qix({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("qix: unknown command 'frobnicate'\nCommands:\n", 0), 0u) << r.err;
  EXPECT_FALSE(contains(r.err, "subcommand")) << r.err;
  for (const auto& c : commands) EXPECT_TRUE(contains(r.err, "\n  " + c + " ")) << c << "\n" << r.err;
  EXPECT_EQ(r.out, "");
  auto typo = run_qix({"--app", "demo", "fiedls"});
  EXPECT_EQ(typo.code, 2);
  EXPECT_EQ(typo.err.rfind("qix: unknown command 'fiedls' (did you mean 'fields'?)\n", 0), 0u) << typo.err;
  auto none = run_qix({});
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err.rfind("qix: a command is required\nCommands:\n", 0), 0u) << none.err;
  auto j = run_qix({"--json", "frobnicate"});
  EXPECT_EQ(j.code, 2);
  auto e = error_of(j.err);
  EXPECT_EQ(e["kind"], "usage");
  EXPECT_EQ(e["exitCode"], 2);
  EXPECT_EQ(e["message"], "unknown command 'frobnicate'");
  EXPECT_EQ(e["command"], "frobnicate");
  ASSERT_TRUE(e["commands"].is_array());
  EXPECT_EQ(e["commands"].as_array().size(), commands.size());
}

// ------------------------------------------------------------------------------- errors name the culprit

TEST_F(CliUx, ExtractNamesTheFieldOrMeasureTheEngineCannotUse) {
  auto r = run_qix(with_app({"extract", "--dim", "Nope", "--measure", "Sum(Sales)"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "qix: no field named 'Nope' in app demo (--dim Nope); `qix fields` lists the fields\n");
  EXPECT_EQ(r.out, "");
  auto two = run_qix(with_app({"extract", "--dim", "Region", "--dim", "Nope", "--dim", "Nada"}));
  EXPECT_EQ(two.code, 1);
  EXPECT_TRUE(contains(two.err, "no fields named 'Nope', 'Nada' in app demo (--dim)")) << two.err;
  auto m = run_qix(with_app({"extract", "--dim", "Region", "--measure", "Sum(Nope)"}));
  EXPECT_EQ(m.code, 1);
  EXPECT_EQ(m.err.rfind("qix: --measure 'Sum(Nope)': error 7000 LOCERR_CALC_INVALID_DEF: ", 0), 0u) << m.err;
  EXPECT_TRUE(contains(m.err, "Nope")) << m.err;
  auto j = run_qix(with_app({"--json", "extract", "--dim", "Nope"}));
  EXPECT_EQ(j.code, 1);
  auto e = error_of(j.err);
  EXPECT_EQ(e["fields"], (json::array{"Nope"}));
  EXPECT_TRUE(contains(std::string(e["message"].as_string()), "'Nope'"));
}

// ----------------------------------------------------------------------------------------- JSON errors

TEST_F(CliUx, JsonErrorsAreOneObjectOnStderr) {
  auto engine = run_qix(with_app({"--json", "eval", "1"}, "no-such-app"));
  EXPECT_EQ(engine.code, 1);
  EXPECT_EQ(engine.out, "");
  auto e = error_of(engine.err);
  EXPECT_EQ(e, (json::object{{"kind", "engine"},
                             {"exitCode", 1},
                             {"message", "App not found"},
                             {"code", 1003},
                             {"name", "LOCERR_APP_NOT_FOUND"},
                             {"parameter", "no-such-app"}}));
  // --json after the command, a usage error found by the parser, one found by the command, a failure.
  auto parse_err = run_qix({"extract", "--window", "many", "--json"});
  EXPECT_EQ(parse_err.code, 2);
  EXPECT_EQ(error_of(parse_err.err)["kind"], "usage");
  auto usage = run_qix({"extract", "--json"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_EQ(error_of(usage.err)["message"], "extract needs at least one --dim or --measure");
  auto missing = run_qix(with_app({"layout", "nope", "--json"}));
  EXPECT_EQ(missing.code, 1);
  auto me = error_of(missing.err);
  EXPECT_EQ(me["kind"], "failure");
  EXPECT_EQ(me["message"], "no object with id 'nope' in app demo");
  auto refused = run_qix({"--json", "--url", "ws://127.0.0.1:1/app/demo", "--timeout", "5", "eval", "1"});
  EXPECT_EQ(refused.code, 3);
  auto re = error_of(refused.err);
  EXPECT_EQ(re["kind"], "connection");
  EXPECT_EQ(re["exitCode"], 3);
}

TEST_F(CliUx, WatchWithJsonEndsWithAJsonError) {
  Child watch(with_app({"--json", "watch", "sales-by-region"}));
  ASSERT_TRUE(watch.wait_lines(1, 60s)) << watch.err;
  sim_->close_all(4003);
  EXPECT_EQ(watch.finish(), 3);
  auto e = error_of(watch.err);
  EXPECT_EQ(e["kind"], "connection");
  EXPECT_TRUE(contains(std::string(e["message"].as_string()), "4003")) << watch.err;
}

// ------------------------------------------------------------------------------- a server that is not QIX

class CliNotQix : public Cli, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    qix::sim::Options o;
    o.not_qix = GetParam();
    start(o);
  }
};

TEST_P(CliNotQix, ExitsThreeNamingTheProblemWhateverTheCallTimeout) {
  std::string url = sim_->url() + "/app/demo";
  auto text = run_qix({"--url", url, "--timeout", "600", "eval", "1"});
  EXPECT_EQ(text.code, 3) << text.err;
  EXPECT_EQ(text.out, "");
  EXPECT_TRUE(contains(text.err, "qix: the server at " + url + " does not speak the QIX protocol: "))
      << text.err;
  EXPECT_FALSE(contains(text.err, "connection lost")) << text.err;
  EXPECT_EQ(split_lines(text.err).size(), 1u) << "one line, the verdict said once: " << text.err;
  // The verdict comes while the command is still connecting (OpenDoc): the session is ended there, its last
  // events run before what they use is freed (a crash about one run in 25 when it was not; a few runs here,
  // one for the silent server, whose verdict waits for the 5 s greeting bound).
  const int runs = std::string(GetParam()) == "silent" ? 1 : 8;
  for (int i = 0; i < runs; ++i) {
    auto js = run_qix({"--json", "--url", url, "eval", "1"});
    ASSERT_EQ(js.code, 3) << "run " << i << ": " << js.err;
    auto e = error_of(js.err);
    EXPECT_EQ(e["kind"], "connection");
    EXPECT_TRUE(contains(std::string(e["message"].as_string()), "does not speak the QIX protocol")) << js.err;
  }
}

class CliEchoServer : public Cli {
 protected:
  void SetUp() override {
    qix::sim::Options o;
    o.not_qix = "echo";
    start(o);
  }
};

TEST_F(CliEchoServer, TrafficLogIsCompleteWhenTheServerIsNotQix) {
  std::string log =
      (fs::temp_directory_path() / ("qix-cli-notqix-" + std::to_string(getpid()) + ".jsonl")).string();
  auto r = run_qix({"--url", sim_->url() + "/app/demo", "--traffic", log, "eval", "1"});
  EXPECT_EQ(r.code, 3) << r.err;
  std::ifstream in(log);
  std::vector<json::value> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  fs::remove(log);
  // Everything the session saw before the verdict: the OpenDoc sent, and the same frame received back.
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("dir"), "sent");
  EXPECT_EQ(lines[1].at("dir"), "received");
  EXPECT_EQ(lines[1].at("frame").at("method"), "OpenDoc");
}

INSTANTIATE_TEST_SUITE_P(Servers, CliNotQix, ::testing::Values("echo", "silent", "banner"));

// --------------------------------------------------------------------------------------------- watch

TEST(CliUxBundled, WatchTheDemoAppsSampleChartWithNoSetup) {
  auto r = run_qix({"watch", "sales-by-region", "--count", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# sales-by-region version 1 at ", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, R"("title": "Sales by region")")) << r.out;
  EXPECT_TRUE(contains(r.out, R"("qText": "Americas")")) << r.out;
}

// docs/cli.md's recipe: qix-engine-sim in its own process, `qix watch` in one terminal, an edit of the
// chart from another.
TEST(CliUxWatch, RecipeWithAStandaloneSimulator) {
  Child sim({"--port", "0"}, {}, QIX_SIM_EXE);
  ASSERT_TRUE(sim.wait_lines(1, 60s)) << sim.err;
  const std::string prefix = "listening on ";
  ASSERT_EQ(sim.out.rfind(prefix, 0), 0u) << sim.out;
  const std::string url = split_lines(sim.out)[0].substr(prefix.size()) + "/app/demo";
  Child watch({"--url", url, "watch", "sales-by-region", "--json"});
  ASSERT_TRUE(watch.wait_lines(1, 60s)) << watch.err;
  EXPECT_EQ(parse(split_lines(watch.out)[0]).at("title"), "Sales by region");
  auto edit = run_qix({"--url", url, "call", "ApplyPatches", "--object", "sales-by-region",
                       R"([[{"qOp":"replace","qPath":"/title","qValue":"\"Sales by region, edited\""}]])"});
  ASSERT_EQ(edit.code, 0) << edit.err;
  ASSERT_TRUE(watch.wait_lines(2, 60s)) << watch.err;
  EXPECT_EQ(parse(split_lines(watch.out)[1]).at("title"), "Sales by region, edited");
  watch.signal(SIGINT);
  EXPECT_EQ(watch.finish(), 0) << watch.err;
  sim.signal(SIGINT);
  EXPECT_EQ(sim.finish(), 0) << sim.err;
}

// ------------------------------------------------------------------------------------------- extract

class CliUxExtract : public Cli {
 protected:
  static constexpr int kRows = 5000;
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qix-cli-ux-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "data" / "rows");
    fs::create_directories(dir_ / "out");
    std::ofstream csv(dir_ / "data" / "rows" / "Facts.csv");
    csv << "Id,Value\n";
    for (int i = 1; i <= kRows; ++i) csv << i << "," << i * 3 << "\n";
    csv.close();
    qix::sim::Options o;
    o.data_dir = (dir_ / "data").string();
    o.latency_ms = 20;  // with one page of 10 rows in flight, 500 pages take seconds: Ctrl-C lands mid-way
    start(o);
  }
  void TearDown() override {
    Cli::TearDown();
    fs::remove_all(dir_);
  }
  std::vector<std::string> slow_extract(std::vector<std::string> extra) {
    std::vector<std::string> args{"extract", "--dim",         "Id", "--measure", "Sum(Value)", "--window",
                                  "1",       "--page-height", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    return with_app(args, "rows");
  }
  static std::string row(int i) { return std::to_string(i) + "," + std::to_string(i * 3); }
  // The names in the output folder (a temporary file left behind would show here).
  std::set<std::string> out_files() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "out")) names.insert(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

bool progress_shown(const Child& c) {
  return contains(c.err, " rows/s ");
}

TEST_F(CliUxExtract, CtrlCLeavesAnExistingFileAsItWas) {
  const auto out = dir_ / "out" / "rows.csv";
  std::ofstream(out) << "old content\n";
  Child x(slow_extract({"-o", out.string(), "--progress", "always"}));
  ASSERT_TRUE(x.wait_until(progress_shown, 60s)) << "no progress: " << x.err;  // rows are being written
  x.signal(SIGINT);
  EXPECT_EQ(x.finish(), 130) << x.err;
  EXPECT_TRUE(contains(x.err, "\nqix: interrupted after ")) << x.err;
  EXPECT_TRUE(contains(x.err, " of 5,000 rows; " + out.string() + " was left as it was\n")) << x.err;
  EXPECT_EQ(read_file(out), "old content\n");
  EXPECT_EQ(out_files(), (std::set<std::string>{"rows.csv"})) << "no temporary file left";
  EXPECT_LT(sim_->stats()["GetHyperCubeData"].received, static_cast<unsigned>(kRows / 10)) << "stopped early";
}

TEST_F(CliUxExtract, CtrlCCreatesNoFile) {
  const auto out = dir_ / "out" / "new.csv";
  Child x(slow_extract({"-o", out.string(), "--progress", "always"}));
  ASSERT_TRUE(x.wait_until(progress_shown, 60s)) << "no progress: " << x.err;
  x.signal(SIGINT);
  EXPECT_EQ(x.finish(), 130) << x.err;
  EXPECT_TRUE(contains(x.err, out.string() + " was not created\n")) << x.err;
  EXPECT_TRUE(out_files().empty()) << "neither the file nor a temporary file";
}

TEST_F(CliUxExtract, CtrlCOnStdoutEndsWithAWholeRow) {
  Child x(slow_extract({"--json"}));
  ASSERT_TRUE(x.wait_lines(3, 60s)) << x.err;  // the header and two rows
  x.signal(SIGINT);
  EXPECT_EQ(x.finish(), 130) << x.err;
  auto e = error_of(x.err);
  EXPECT_EQ(e["kind"], "interrupted");
  EXPECT_EQ(e["exitCode"], 130);
  EXPECT_TRUE(contains(std::string(e["message"].as_string()), "ends with a whole row")) << x.err;
  ASSERT_FALSE(x.out.empty());
  EXPECT_EQ(x.out.back(), '\n') << "the last row is whole";
  auto lines = split_lines(x.out);
  ASSERT_GE(lines.size(), 3u);
  ASSERT_LT(lines.size(), static_cast<std::size_t>(kRows + 1)) << "interrupted before the end";
  EXPECT_EQ(lines[0], "Id,Sum(Value)");
  for (std::size_t i = 1; i < lines.size(); ++i)
    ASSERT_EQ(lines[i], row(static_cast<int>(i))) << "line " << i;
  EXPECT_EQ(e["rows"].to_number<std::size_t>(), lines.size() - 1) << "the rows written, as reported";
}

TEST_F(CliUxExtract, NoEtaBeforeTheFirstRoundOfPagesIsIn) {
  // Window 2 x 100 rows: until 200 rows are in, the bar shows no rate and no ETA.
  const auto out = dir_ / "out" / "eta.csv";
  auto r = run_qix(with_app({"extract", "--dim", "Id", "--measure", "Sum(Value)", "--window", "2",
                             "--page-height", "100", "-o", out.string(), "--progress", "always"},
                            "rows"));
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> frames;
  std::string frame;
  for (char ch : r.err) {
    if (ch == '\r' || ch == '\n') {
      if (contains(frame, " rows/s ")) frames.push_back(frame);
      frame.clear();
    } else {
      frame += ch;
    }
  }
  ASSERT_GE(frames.size(), 2u) << r.err;
  EXPECT_TRUE(contains(frames.front(), "  -- rows/s  ETA --:--")) << frames.front();
  static const std::regex done_re(R"(  ([0-9,]+)/5,000 rows  )");
  for (const auto& f : frames) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(f, m, done_re)) << f;
    std::string digits;
    for (char ch : m[1].str()) {
      if (ch != ',') digits += ch;
    }
    const bool settled = std::stoi(digits) >= 200;
    EXPECT_EQ(contains(f, "ETA --:--"), !settled) << f;
    EXPECT_EQ(contains(f, " -- rows/s"), !settled) << f;
  }
  EXPECT_TRUE(contains(frames.back(), "5,000/5,000 rows")) << frames.back();
  EXPECT_TRUE(contains(frames.back(), "ETA 0:00")) << frames.back();
}

// ----------------------------------------------------------------------------------------- the manual

// Every option `qix --help` and `qix COMMAND --help` show.
std::set<std::string> options_in_help() {
  std::set<std::string> out;
  static const std::regex option_re(R"((^|[ ,])(--?[a-z][a-z-]*))");
  std::vector<std::vector<std::string>> helps{{"--help"}};
  for (const char* c : {"demo", "call", "apps", "eval", "objects", "layout", "fields", "select", "clear",
                        "watch", "extract"}) {
    helps.push_back({c, "--help"});
  }
  for (const auto& args : helps) {
    auto r = run_qix(args);
    EXPECT_EQ(r.code, 0) << r.err;
    for (const auto& line : split_lines(r.out)) {
      if (line.rfind("  -", 0) != 0) continue;  // option lines only (descriptions mention other options)
      std::string head = line.substr(0, line.find("  ", 2));
      for (std::sregex_iterator it(head.begin(), head.end(), option_re), end; it != end; ++it)
        out.insert((*it)[2]);
    }
  }
  return out;
}

TEST(CliUxDocs, ManPageAndManualDocumentEveryOption) {
  const auto man = read_file(fs::path(QIX_SOURCE_DIR) / "packaging" / "man" / "qix.1");
  const auto manual = read_file(fs::path(QIX_SOURCE_DIR) / "docs" / "cli.md");
  ASSERT_FALSE(man.empty());
  ASSERT_FALSE(manual.empty());
  auto options = options_in_help();
  ASSERT_GE(options.size(), 30u) << "the help output was not understood";
  for (const auto& o : options) {
    std::string roff;
    for (char ch : o) roff += ch == '-' ? std::string("\\-") : std::string(1, ch);
    EXPECT_TRUE(contains(man, roff)) << "packaging/man/qix.1 does not document " << o;
    EXPECT_TRUE(contains(manual, o)) << "docs/cli.md does not document " << o;
  }
  // The installed manual, the exit codes and the sample object.
  EXPECT_TRUE(contains(man, "/usr/share/doc/qix\\-tools/cli.md")) << man;
  EXPECT_TRUE(contains(man, "130")) << man;
  EXPECT_TRUE(contains(man, "sales\\-by\\-region")) << man;
}

}  // namespace
