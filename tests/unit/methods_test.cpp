// Tests of the method table generated from the Engine API specification (OpenRPC 12.2528.0, enigma.js schema
// 12.2027.0, enigma-go schema companion; all MIT, (c) QlikTech International AB).
#include "rpc/methods.hpp"
#include "rpc/named_params.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace qix::core {
namespace {

namespace json = boost::json;

std::vector<std::string> outs_of(const MethodInfo& m) {
  return {m.out.begin(), m.out.end()};
}

const MethodInfo& must_find(std::string_view cls, std::string_view name) {
  const MethodInfo* m = find_method(cls, name);
  EXPECT_NE(m, nullptr) << cls << "." << name;
  static const MethodInfo empty{};
  return m != nullptr ? *m : empty;
}

TEST(Methods, Counts) {
  EXPECT_EQ(engine_spec_version(), "12.2528.0");
  const auto all = all_methods();
  EXPECT_EQ(all.size(), 336u);
  std::map<std::string, int> per_class;
  for (const MethodInfo& m : all) ++per_class[std::string(m.cls)];
  const std::map<std::string, int> expected{
      {"Doc", 149},           {"GenericObject", 67},    {"Global", 50},
      {"Field", 17},          {"GenericDimension", 14}, {"GenericBookmark", 13},
      {"GenericMeasure", 11}, {"GenericVariable", 9},   {"Variable", 6}};
  EXPECT_EQ(per_class, expected);
}

TEST(Methods, EveryMethodIsFoundByClassAndName) {
  for (const MethodInfo& m : all_methods()) {
    EXPECT_EQ(find_method(m.cls, m.name), &m) << m.cls << "." << m.name;
    const MethodInfo* any = find_method_any_class(m.name);
    ASSERT_NE(any, nullptr) << m.name;
    EXPECT_EQ(any->name, m.name);
  }
}

TEST(Methods, TableIsConsistent) {
  std::set<std::string_view> classes;
  for (const MethodInfo& m : all_methods()) classes.insert(m.cls);
  for (const MethodInfo& m : all_methods()) {
    if (!m.returns_class.empty()) {
      EXPECT_TRUE(classes.count(m.returns_class)) << m.returns_class;
    }
    std::set<std::string_view> names;
    for (const ParamInfo& p : m.in) {
      EXPECT_TRUE(names.insert(p.name).second) << m.cls << "." << m.name << " " << p.name;
      if (p.required) {
        EXPECT_TRUE(p.default_json.empty()) << m.cls << "." << m.name << " " << p.name;
      } else {
        boost::system::error_code ec;
        json::parse(p.default_json, ec);
        EXPECT_FALSE(ec) << m.cls << "." << m.name << " " << p.name << " = " << p.default_json;
      }
    }
  }
}

TEST(Methods, GetLayout) {
  const MethodInfo& m = must_find("GenericObject", "GetLayout");
  EXPECT_TRUE(m.in.empty());
  EXPECT_EQ(outs_of(m), std::vector<std::string>{"qLayout"});
  EXPECT_TRUE(delta_eligible(m));
  EXPECT_EQ(m.returns_class, "");
}

TEST(Methods, OpenDoc) {
  const MethodInfo& m = must_find("Global", "OpenDoc");
  EXPECT_EQ(m.returns_class, "Doc");
  EXPECT_EQ(outs_of(m), std::vector<std::string>{"qReturn"});
  EXPECT_FALSE(delta_eligible(m));
  ASSERT_EQ(m.in.size(), 5u);
  EXPECT_EQ(m.in[0].name, "qDocName");
  EXPECT_TRUE(m.in[0].required);
  EXPECT_EQ(m.in[0].default_json, "");
  const char* optional[] = {"qUserName", "qPassword", "qSerial"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(m.in[i + 1].name, optional[i]);
    EXPECT_FALSE(m.in[i + 1].required);
    EXPECT_EQ(m.in[i + 1].default_json, "\"\"");
  }
  EXPECT_EQ(m.in[4].name, "qNoData");
  EXPECT_FALSE(m.in[4].required);
  EXPECT_EQ(m.in[4].default_json, "false");
}

TEST(Methods, ReturnedClasses) {
  EXPECT_EQ(must_find("Doc", "GetObject").returns_class, "GenericObject");
  EXPECT_EQ(must_find("Doc", "GetField").returns_class, "Field");
  EXPECT_EQ(must_find("Doc", "GetVariableByName").returns_class, "GenericVariable");
  EXPECT_EQ(must_find("Doc", "CreateBookmark").returns_class, "GenericBookmark");
  EXPECT_EQ(must_find("Global", "CreateSessionApp").returns_class, "Doc");
  EXPECT_EQ(must_find("Global", "GetActiveDoc").returns_class, "Doc");
  EXPECT_EQ(must_find("GenericObject", "GetChild").returns_class, "GenericObject");
  EXPECT_EQ(must_find("Doc", "Evaluate").returns_class, "");
}

TEST(Methods, DeltaRule) {
  EXPECT_TRUE(delta_eligible(must_find("GenericObject", "GetProperties")));
  EXPECT_TRUE(delta_eligible(must_find("GenericObject", "GetHyperCubeData")));
  EXPECT_EQ(outs_of(must_find("GenericObject", "GetHyperCubeData")), std::vector<std::string>{"qDataPages"});
  EXPECT_TRUE(delta_eligible(must_find("Doc", "GetAppLayout")));
  EXPECT_TRUE(delta_eligible(must_find("Doc", "GetScript")));
  EXPECT_FALSE(delta_eligible(must_find("Doc", "GetObject")));
  EXPECT_FALSE(delta_eligible(must_find("Doc", "Evaluate")));
  EXPECT_FALSE(delta_eligible(must_find("Doc", "SetScript")));                         // no out params
  EXPECT_FALSE(delta_eligible(must_find("Doc", "DestroyObject")));                     // qSuccess
  EXPECT_FALSE(delta_eligible(must_find("GenericObject", "SelectListObjectValues")));  // qSuccess
  // One out parameter besides qReturn: eligible, as in enigma.js.
  EXPECT_EQ(outs_of(must_find("Doc", "CreateObject")), (std::vector<std::string>{"qInfo", "qReturn"}));
  EXPECT_TRUE(delta_eligible(must_find("Doc", "CreateObject")));
  // Two out parameters: not eligible.
  EXPECT_EQ(outs_of(must_find("Doc", "GetTablesAndKeys")), (std::vector<std::string>{"qtr", "qk"}));
  EXPECT_FALSE(delta_eligible(must_find("Doc", "GetTablesAndKeys")));
  EXPECT_FALSE(delta_eligible(MethodInfo{}));
}

TEST(Methods, NotFound) {
  EXPECT_EQ(find_method("Doc", "NoSuchMethod"), nullptr);
  EXPECT_EQ(find_method("GenericDerivedFields", "GetLayout"), nullptr);
  EXPECT_EQ(find_method("", ""), nullptr);
  EXPECT_EQ(find_method("doc", "GetObject"), nullptr);  // case-sensitive
  EXPECT_EQ(find_method_any_class("NoSuchMethod"), nullptr);
  EXPECT_EQ(find_method_any_class(""), nullptr);
  EXPECT_EQ(find_method_any_class("ZZZ"), nullptr);
}

TEST(Methods, AnyClassPriority) {
  const MethodInfo* m = find_method_any_class("GetLayout");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cls, "GenericObject");
  m = find_method_any_class("GetProperties");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cls, "GenericObject");
  m = find_method_any_class("OpenDoc");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cls, "Global");
  m = find_method_any_class("SelectValues");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cls, "Field");
  m = find_method_any_class("GetInfo");  // GenericObject, dimension, measure, bookmark, variable
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cls, "GenericObject");
}

json::array positional(const MethodInfo& m, std::string_view named_json, std::string* error = nullptr) {
  json::array out;
  std::string err;
  const bool ok = named_to_positional(m, json::parse(named_json).as_object(), out, &err);
  if (error != nullptr) *error = err;
  EXPECT_TRUE(ok || error != nullptr) << err;
  return out;
}

TEST(Methods, NamedToPositional) {
  const MethodInfo& open = must_find("Global", "OpenDoc");
  EXPECT_EQ(positional(open, R"({"qDocName":"Sales.qvf"})"), json::parse(R"(["Sales.qvf"])"));
  EXPECT_EQ(positional(open, R"({"qNoData":true,"qDocName":"a"})"), json::parse(R"(["a","","","",true])"));
  EXPECT_EQ(positional(open, R"({"qDocName":"a","qUserName":"u"})"), json::parse(R"(["a","u"])"));
  EXPECT_EQ(positional(must_find("GenericObject", "GetLayout"), "{}"), json::array());
  EXPECT_EQ(positional(must_find("Doc", "GetObject"), R"({"qId":"abc"})"), json::parse(R"(["abc"])"));
  // Values are copied as they are, whatever their type.
  EXPECT_EQ(positional(must_find("Doc", "CreateSessionObject"), R"({"qProp":{"qInfo":{"qType":"x"}}})"),
            json::parse(R"([{"qInfo":{"qType":"x"}}])"));
  // enigma.js's sample default [0] is replaced by [] (clear all columns).
  EXPECT_EQ(positional(must_find("GenericObject", "ClearSelections"),
                       R"({"qPath":"/qListObjectDef","qColIndices":[]})"),
            json::parse(R"(["/qListObjectDef",[]])"));
  // A parameter with no default in any source gets its type's zero value when skipped.
  EXPECT_EQ(positional(must_find("GenericObject", "AddGroupMembers"),
                       R"({"qPath":"/p","qMembers":[],"qPosId":"x"})"),
            json::parse(R"(["/p",[],"","x"])"));
}

TEST(Methods, NamedToPositionalErrors) {
  const MethodInfo& open = must_find("Global", "OpenDoc");
  std::string err;
  json::array out = positional(open, R"({"qNoData":true})", &err);
  EXPECT_NE(err.find("missing required parameter 'qDocName'"), std::string::npos) << err;
  EXPECT_NE(err.find("Global.OpenDoc"), std::string::npos) << err;

  out = positional(open, R"({"qDocName":"a","qDocname":"b"})", &err);
  EXPECT_NE(err.find("unknown parameter 'qDocname'"), std::string::npos) << err;
  EXPECT_NE(err.find("qDocName, qUserName"), std::string::npos) << err;

  out = positional(must_find("GenericObject", "GetLayout"), R"({"x":1})", &err);
  EXPECT_NE(err.find("takes no parameters"), std::string::npos) << err;

  // A null error pointer is fine, and `out` is left unchanged on failure.
  json::array kept = json::parse("[1,2]").as_array();
  EXPECT_FALSE(named_to_positional(open, json::object{}, kept, nullptr));
  EXPECT_EQ(kept, json::parse("[1,2]"));
}

TEST(Methods, NamedToPositionalKeepsStorage) {
  json::monotonic_resource mr;
  json::array out(&mr);
  out.emplace_back(42);
  json::object named;
  named["qDocName"] = "a";
  named["qSerial"] = "s";
  ASSERT_TRUE(named_to_positional(must_find("Global", "OpenDoc"), named, out, nullptr));
  EXPECT_EQ(out, json::parse(R"(["a","","","s"])"));
  EXPECT_EQ(out.storage().get(), json::storage_ptr(&mr).get());
  for (const json::value& v : out) EXPECT_EQ(v.storage().get(), out.storage().get());
}

}  // namespace
}  // namespace qix::core
