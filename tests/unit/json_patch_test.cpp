// Unit tests of core/json/json_patch: every RFC 6902 operation, the RFC's Appendix A examples, error
// reporting, the QIX Engine's "/" = whole document convention, randomized diff round trips and the delta size
// of a one-cell change in a hypercube page.
#include "json/json_patch.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "json/json.hpp"

namespace {

namespace jp = qix::core::json_patch;
namespace json = qix::core::json;

json::value J(std::string_view text) {
  return json::parse(text);
}

// Applies the patch given as JSON text; returns the error message ("" on success).
std::string Apply(json::value& doc, std::string_view patch_text) {
  std::string error;
  const bool ok = jp::apply(doc, J(patch_text), &error);
  EXPECT_EQ(ok, error.empty()) << error;
  return ok ? std::string() : (error.empty() ? std::string("(failed without message)") : error);
}

// Applies `patch_text` to `doc_text` and expects success with the result `expected_text`.
void ExpectPatched(std::string_view doc_text, std::string_view patch_text, std::string_view expected_text) {
  json::value doc = J(doc_text);
  const std::string error = Apply(doc, patch_text);
  EXPECT_EQ(error, "") << "patch " << patch_text;
  EXPECT_EQ(doc, J(expected_text)) << "got " << json::serialize(doc);
}

// Applies `patch_text` to `doc_text`, expects failure and returns the message.
std::string ExpectFailure(std::string_view doc_text, std::string_view patch_text) {
  json::value doc = J(doc_text);
  std::string error;
  EXPECT_FALSE(jp::apply(doc, J(patch_text), &error)) << "patch " << patch_text;
  EXPECT_FALSE(error.empty());
  return error;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A memory resource that counts allocations, to check that values are moved and not copied.
class CountingResource final : public json::memory_resource {
 public:
  std::size_t allocations = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    ++allocations;
    return ::operator new(bytes, std::align_val_t(alignment));
  }
  void do_deallocate(void* p, std::size_t, std::size_t alignment) override {
    ::operator delete(p, std::align_val_t(alignment));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override { return this == &other; }
};

// ---------------------------------------------------------------------------------------------------------
// Operations

TEST(JsonPatch, AddObjectMember) {
  ExpectPatched(R"({"a":1})", R"([{"op":"add","path":"/b","value":{"c":[1,2]}}])",
                R"({"a":1,"b":{"c":[1,2]}})");
}

TEST(JsonPatch, AddReplacesExistingMember) {
  ExpectPatched(R"({"a":1,"b":2})", R"([{"op":"add","path":"/a","value":"x"}])", R"({"a":"x","b":2})");
}

TEST(JsonPatch, AddIntoArray) {
  ExpectPatched(R"([1,2,3])", R"([{"op":"add","path":"/0","value":0}])", R"([0,1,2,3])");
  ExpectPatched(R"([1,2,3])", R"([{"op":"add","path":"/3","value":4}])", R"([1,2,3,4])");
  ExpectPatched(R"([1,2,3])", R"([{"op":"add","path":"/-","value":4}])", R"([1,2,3,4])");
  ExpectPatched(R"({"a":[]})", R"([{"op":"add","path":"/a/-","value":{"x":1}}])", R"({"a":[{"x":1}]})");
  ExpectPatched(R"({"a":[[1]]})", R"([{"op":"add","path":"/a/0/1","value":2}])", R"({"a":[[1,2]]})");
}

TEST(JsonPatch, AddEmptyKeyBelowRoot) {
  ExpectPatched(R"({"a":{}})", R"([{"op":"add","path":"/a/","value":1}])", R"({"a":{"":1}})");
}

TEST(JsonPatch, AddWithEscapedTokens) {
  ExpectPatched(R"({})", R"([{"op":"add","path":"/a~1b","value":1},{"op":"add","path":"/m~0n","value":2}])",
                R"({"a/b":1,"m~n":2})");
}

TEST(JsonPatch, RemoveObjectMemberKeepsOrder) {
  json::value doc = J(R"({"a":1,"b":2,"c":3,"d":4})");
  ASSERT_EQ(Apply(doc, R"([{"op":"remove","path":"/b"}])"), "");
  EXPECT_EQ(json::serialize(doc), R"({"a":1,"c":3,"d":4})");
}

TEST(JsonPatch, RemoveArrayElement) {
  ExpectPatched(R"([1,2,3])", R"([{"op":"remove","path":"/1"}])", R"([1,3])");
  ExpectPatched(R"({"a":[1,2,3]})", R"([{"op":"remove","path":"/a/2"}])", R"({"a":[1,2]})");
}

TEST(JsonPatch, RemoveMissingFails) {
  EXPECT_TRUE(Contains(ExpectFailure(R"({"a":1})", R"([{"op":"remove","path":"/b"}])"), "not found"));
  EXPECT_TRUE(Contains(ExpectFailure(R"([1])", R"([{"op":"remove","path":"/1"}])"), "out of range"));
  EXPECT_TRUE(Contains(ExpectFailure(R"([1])", R"([{"op":"remove","path":"/-"}])"), "names no element"));
}

TEST(JsonPatch, Replace) {
  ExpectPatched(R"({"a":1,"b":2})", R"([{"op":"replace","path":"/b","value":[3]}])", R"({"a":1,"b":[3]})");
  ExpectPatched(R"([1,2,3])", R"([{"op":"replace","path":"/2","value":null}])", R"([1,2,null])");
  ExpectPatched(R"({"a":{"b":{"c":1}}})", R"([{"op":"replace","path":"/a/b/c","value":2}])",
                R"({"a":{"b":{"c":2}}})");
}

TEST(JsonPatch, ReplaceMissingFails) {
  EXPECT_TRUE(
      Contains(ExpectFailure(R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])"), "not found"));
  EXPECT_TRUE(
      Contains(ExpectFailure(R"([1])", R"([{"op":"replace","path":"/1","value":1}])"), "out of range"));
  ExpectFailure(R"([1])", R"([{"op":"replace","path":"/-","value":1}])");
}

TEST(JsonPatch, MoveMember) {
  ExpectPatched(R"({"a":{"x":1},"b":{}})", R"([{"op":"move","from":"/a/x","path":"/b/y"}])",
                R"({"a":{},"b":{"y":1}})");
  ExpectPatched(R"({"a":[1,2],"b":[]})", R"([{"op":"move","from":"/a/0","path":"/b/-"}])",
                R"({"a":[2],"b":[1]})");
  ExpectPatched(R"({"a":{"x":1}})", R"([{"op":"move","from":"/a","path":"/b"}])", R"({"b":{"x":1}})");
}

TEST(JsonPatch, MoveToItselfIsANoOp) {
  ExpectPatched(R"({"a":{"x":1}})", R"([{"op":"move","from":"/a","path":"/a"}])", R"({"a":{"x":1}})");
  ExpectFailure(R"({"a":1})", R"([{"op":"move","from":"/b","path":"/b"}])");
}

TEST(JsonPatch, MoveIntoOwnChildFails) {
  const std::string error =
      ExpectFailure(R"({"a":{"b":{}}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])");
  EXPECT_TRUE(Contains(error, "own children")) << error;
  ExpectFailure(R"({"a":[]})", R"([{"op":"move","from":"/a","path":"/a/-"}])");
  ExpectFailure(R"({"a":{}})", R"([{"op":"move","from":"/","path":"/a"}])");
  // A sibling whose name merely starts with the source's is fine.
  ExpectPatched(R"({"a":1,"ab":{}})", R"([{"op":"move","from":"/a","path":"/ab/x"}])", R"({"ab":{"x":1}})");
}

TEST(JsonPatch, MoveMovesInsteadOfCopying) {
  CountingResource resource;
  json::storage_ptr sp(&resource);
  json::value doc(sp);
  json::array big(sp);
  for (int i = 0; i < 500; ++i) big.emplace_back(json::array({i, i + 1}, sp));
  doc = json::object({{"from", json::object({{"big", std::move(big)}}, sp)}, {"to", json::object(sp)}}, sp);
  const json::value patch = J(R"([{"op":"move","from":"/from/big","path":"/to/big"}])");
  const std::size_t before = resource.allocations;
  ASSERT_TRUE(jp::apply(doc, patch));
  EXPECT_LE(resource.allocations - before, 4u) << "the moved subtree was copied";
  EXPECT_EQ(doc.at("to").at("big").as_array().size(), 500u);
  EXPECT_TRUE(doc.at("from").as_object().empty());
}

TEST(JsonPatch, RvaluePatchMovesItsValues) {
  CountingResource resource;
  json::storage_ptr sp(&resource);
  json::value patch =
      json::parse(R"([{"op":"add","path":"/","value":{"a":[[1],[2],[3],[4]],"b":{"c":[5]}}}])", sp);
  json::value doc(sp);
  const std::size_t before = resource.allocations;
  ASSERT_TRUE(jp::apply(doc, std::move(patch)));
  EXPECT_EQ(resource.allocations, before) << "the value was copied out of the patch";
  EXPECT_EQ(doc, J(R"({"a":[[1],[2],[3],[4]],"b":{"c":[5]}})"));

  // The const overload copies into the target's resource and leaves the patch intact.
  const json::value const_patch = J(R"([{"op":"add","path":"/","value":{"x":[1,2]}}])");
  ASSERT_TRUE(jp::apply(doc, const_patch));
  EXPECT_EQ(*doc.storage(), *sp);
  EXPECT_EQ(const_patch, J(R"([{"op":"add","path":"/","value":{"x":[1,2]}}])"));
  json::array rvalue_array = J(R"([{"op":"replace","path":"/x/0","value":"y"}])").as_array();
  ASSERT_TRUE(jp::apply(doc, std::move(rvalue_array)));
  EXPECT_EQ(doc, J(R"({"x":["y",2]})"));
}

TEST(JsonPatch, Copy) {
  ExpectPatched(R"({"a":{"x":[1]}})", R"([{"op":"copy","from":"/a","path":"/b"}])",
                R"({"a":{"x":[1]},"b":{"x":[1]}})");
  ExpectPatched(R"({"a":[1,2]})", R"([{"op":"copy","from":"/a/1","path":"/a/0"}])", R"({"a":[2,1,2]})");
  // Copying into one's own child is allowed (the copy is taken first).
  ExpectPatched(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/a/c"}])",
                R"({"a":{"b":1,"c":{"b":1}}})");
  ExpectFailure(R"({"a":1})", R"([{"op":"copy","from":"/b","path":"/c"}])");
}

TEST(JsonPatch, TestOperation) {
  ExpectPatched(R"({"a":{"x":1,"y":[true,null,"s"]}})",
                R"([{"op":"test","path":"/a","value":{"y":[true,null,"s"],"x":1}}])",
                R"({"a":{"x":1,"y":[true,null,"s"]}})");
  const std::string error = ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/a","value":2}])");
  EXPECT_TRUE(Contains(error, "test failed")) << error;
  ExpectFailure(R"({"a":[1,2]})", R"([{"op":"test","path":"/a","value":[2,1]}])");
  ExpectFailure(R"({"a":{"x":1}})", R"([{"op":"test","path":"/a","value":{"x":1,"y":2}}])");
  ExpectFailure(R"({"a":null})", R"([{"op":"test","path":"/a","value":false}])");
  ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/b","value":1}])");
}

TEST(JsonPatch, TestComparesNumbersByValue) {
  json::value doc = json::object{{"i", std::int64_t{1}}, {"u", std::uint64_t{1}}, {"d", 1.0}};
  for (const char* path : {"/i", "/u", "/d"}) {
    for (const json::value& expected :
         {json::value(std::int64_t{1}), json::value(std::uint64_t{1}), json::value(1.0)}) {
      json::array patch{json::object{{"op", "test"}, {"path", path}, {"value", expected}}};
      std::string error;
      EXPECT_TRUE(jp::apply(doc, patch, &error))
          << path << " vs " << json::serialize(expected) << ": " << error;
    }
  }
  ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/a","value":1.5}])");
  ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/a","value":"1"}])");
  ExpectFailure(R"({"a":-1})", R"([{"op":"test","path":"/a","value":18446744073709551615}])");
}

TEST(JsonPatch, ValuesEqual) {
  EXPECT_TRUE(jp::values_equal(json::value(std::int64_t{-3}), json::value(-3.0)));
  EXPECT_TRUE(jp::values_equal(json::value(std::uint64_t{1} << 63), json::value(9223372036854775808.0)));
  EXPECT_FALSE(
      jp::values_equal(json::value(std::int64_t{9007199254740993}), json::value(9007199254740992.0)));
  EXPECT_FALSE(
      jp::values_equal(json::value(std::int64_t{-1}), json::value(std::uint64_t{18446744073709551615u})));
  EXPECT_FALSE(jp::values_equal(json::value(std::int64_t{1}), json::value(true)));
  EXPECT_TRUE(jp::values_equal(J(R"({"a":[1,{"b":2.0}],"c":null})"), J(R"({"c":null,"a":[1.0,{"b":2}]})")));
  EXPECT_FALSE(jp::values_equal(J(R"({"a":1})"), J(R"({"b":1})")));
  EXPECT_FALSE(jp::values_equal(J(R"([])"), J(R"({})")));
}

TEST(JsonPatch, OperationsApplyInOrder) {
  ExpectPatched(R"({})",
                R"([{"op":"add","path":"/a","value":[]},{"op":"add","path":"/a/-","value":1},
                    {"op":"copy","from":"/a/0","path":"/a/-"},{"op":"replace","path":"/a/1","value":2},
                    {"op":"move","from":"/a","path":"/b"},{"op":"test","path":"/b","value":[1,2]}])",
                R"({"b":[1,2]})");
}

// ---------------------------------------------------------------------------------------------------------
// Errors

TEST(JsonPatch, ErrorsNameOperationIndexAndPath) {
  const std::string error = ExpectFailure(
      R"({"a":[1,2,3]})", R"([{"op":"test","path":"/a/0","value":1},{"op":"remove","path":"/a/7"}])");
  EXPECT_TRUE(Contains(error, "operation 1")) << error;
  EXPECT_TRUE(Contains(error, "\"remove\"")) << error;
  EXPECT_TRUE(Contains(error, "\"/a/7\"")) << error;
  EXPECT_TRUE(Contains(error, "out of range (size 3)")) << error;

  const std::string move_error = ExpectFailure(R"({"a":1})", R"([{"op":"move","from":"/x/y","path":"/b"}])");
  EXPECT_TRUE(Contains(move_error, "operation 0 (\"move\" from \"/x/y\" to \"/b\")")) << move_error;
}

TEST(JsonPatch, BadOperations) {
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"op":"frobnicate","path":"/a"}])"), "unknown op"));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"path":"/a","value":1}])"), "missing \"op\""));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"op":1,"path":"/a"}])"), "\"op\" is not a string"));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"op":"add","value":1}])"), "missing \"path\""));
  EXPECT_TRUE(
      Contains(ExpectFailure("{}", R"([{"op":"add","path":3,"value":1}])"), "\"path\" is not a string"));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"op":"add","path":"/a"}])"), "missing \"value\""));
  EXPECT_TRUE(Contains(ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/a"}])"), "missing \"value\""));
  EXPECT_TRUE(Contains(ExpectFailure(R"({"a":1})", R"([{"op":"move","path":"/b"}])"), "missing \"from\""));
  EXPECT_TRUE(
      Contains(ExpectFailure(R"({"a":1})", R"([{"op":"copy","path":"/b","from":[]}])"), "not a string"));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([42])"), "operation 0: not an object"));
  EXPECT_TRUE(Contains(ExpectFailure("{}", R"([{"op":"add","path":"a","value":1}])"), "start with '/'"));
}

TEST(JsonPatch, NonArrayPatchFails) {
  json::value doc = J(R"({"a":1})");
  std::string error;
  EXPECT_FALSE(jp::apply(doc, J(R"({"op":"remove","path":"/a"})"), &error));
  EXPECT_TRUE(Contains(error, "not an array")) << error;
  EXPECT_EQ(doc, J(R"({"a":1})"));
  EXPECT_FALSE(jp::apply(doc, json::value(nullptr)));  // a null error pointer is allowed
  EXPECT_FALSE(jp::apply(doc, json::value("x")));
}

TEST(JsonPatch, EmptyPatchIsANoOp) {
  ExpectPatched(R"({"a":1})", "[]", R"({"a":1})");
}

TEST(JsonPatch, BadArrayIndices) {
  EXPECT_TRUE(Contains(ExpectFailure("[1,2]", R"([{"op":"add","path":"/01","value":0}])"), "leading zero"));
  EXPECT_TRUE(
      Contains(ExpectFailure("[1,2]", R"([{"op":"replace","path":"/00","value":0}])"), "leading zero"));
  EXPECT_TRUE(
      Contains(ExpectFailure("[1,2]", R"([{"op":"add","path":"/x","value":0}])"), "not an array index"));
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/-1","value":0}])");
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/+1","value":0}])");
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/1.0","value":0}])");
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/ 1","value":0}])");
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/","value":0},{"op":"add","path":"/a","value":0}])");
  EXPECT_TRUE(Contains(ExpectFailure("[1,2]", R"([{"op":"add","path":"/3","value":0}])"), "out of range"));
  ExpectFailure("[1,2]", R"([{"op":"add","path":"/99999999999999999999999","value":0}])");
  ExpectFailure("[[1]]", R"([{"op":"add","path":"/-/0","value":0}])");
  ExpectFailure("[[1]]", R"([{"op":"add","path":"/01/0","value":0}])");
  ExpectPatched("[[1]]", R"([{"op":"add","path":"/0/0","value":0}])", "[[0,1]]");
}

TEST(JsonPatch, BadPointers) {
  EXPECT_TRUE(
      Contains(ExpectFailure(R"({"a":1})", R"([{"op":"add","path":"/a~2","value":0}])"), "bad escape"));
  ExpectFailure(R"({"a":1})", R"([{"op":"add","path":"/a~","value":0}])");
  // Descending into a scalar, or through a missing member.
  EXPECT_TRUE(Contains(ExpectFailure(R"({"a":1})", R"([{"op":"add","path":"/a/b","value":0}])"), "number"));
  ExpectFailure(R"({"a":"s"})", R"([{"op":"add","path":"/a/b/c","value":0}])");
  ExpectFailure(R"({"a":{}})", R"([{"op":"add","path":"/a/b/c","value":0}])");
}

// ---------------------------------------------------------------------------------------------------------
// The engine's "/" = whole document

TEST(JsonPatch, WholeDocumentAddOnNullBase) {
  json::value doc;  // no base yet
  ASSERT_EQ(Apply(doc, R"([{"op":"add","path":"/","value":{"qInfo":{"qId":"x"},"qSize":3}}])"), "");
  EXPECT_EQ(doc, J(R"({"qInfo":{"qId":"x"},"qSize":3})"));
  // Then ordinary deltas on top of it.
  ASSERT_EQ(Apply(doc, R"([{"op":"replace","path":"/qSize","value":4}])"), "");
  EXPECT_EQ(doc, J(R"({"qInfo":{"qId":"x"},"qSize":4})"));
}

TEST(JsonPatch, WholeDocumentReplaceAddRemove) {
  ExpectPatched(R"({"a":1})", R"([{"op":"add","path":"/","value":[1,2]}])", "[1,2]");
  ExpectPatched(R"({"a":1})", R"([{"op":"replace","path":"/","value":"s"}])", R"("s")");
  ExpectPatched(R"({"a":1})", R"([{"op":"add","path":"","value":{"b":2}}])", R"({"b":2})");
  ExpectPatched(R"({"a":1})", R"([{"op":"replace","path":"","value":null}])", "null");
  ExpectPatched(R"({"a":1})", R"([{"op":"remove","path":"/"}])", "null");
  ExpectPatched(R"([1])", R"([{"op":"remove","path":""}])", "null");
  ExpectPatched("null", R"([{"op":"replace","path":"/","value":7}])", "7");
  // "/" is not the member with the empty key at the root.
  ExpectPatched(R"({"":1,"a":2})", R"([{"op":"replace","path":"/","value":{"b":3}}])", R"({"b":3})");
}

TEST(JsonPatch, WholeDocumentTestCopyMove) {
  ExpectPatched(R"({"a":1})", R"([{"op":"test","path":"/","value":{"a":1.0}}])", R"({"a":1})");
  ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/","value":{}}])");
  ExpectPatched(R"({"a":1})", R"([{"op":"copy","from":"/","path":"/b"}])", R"({"a":1,"b":{"a":1}})");
  ExpectPatched(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/"}])", R"({"b":1})");
  ExpectPatched(R"({"a":1})", R"([{"op":"move","from":"/","path":""}])", R"({"a":1})");
  ExpectFailure("null", R"([{"op":"add","path":"/a","value":1}])");
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6902 Appendix A (A.13, a duplicate "op" member, is a parser matter: Boost.JSON keeps one of them)

TEST(JsonPatch, RfcA1AddingAnObjectMember) {
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
                R"({"baz":"qux","foo":"bar"})");
}

TEST(JsonPatch, RfcA2AddingAnArrayElement) {
  ExpectPatched(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])",
                R"({"foo":["bar","qux","baz"]})");
}

TEST(JsonPatch, RfcA3RemovingAnObjectMember) {
  ExpectPatched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})");
}

TEST(JsonPatch, RfcA4RemovingAnArrayElement) {
  ExpectPatched(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])",
                R"({"foo":["bar","baz"]})");
}

TEST(JsonPatch, RfcA5ReplacingAValue) {
  ExpectPatched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])",
                R"({"baz":"boo","foo":"bar"})");
}

TEST(JsonPatch, RfcA6MovingAValue) {
  ExpectPatched(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
                R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})");
}

TEST(JsonPatch, RfcA7MovingAnArrayElement) {
  ExpectPatched(R"({"foo":["all","grass","cows","eaten"]})",
                R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
                R"({"foo":["all","cows","eaten","grass"]})");
}

TEST(JsonPatch, RfcA8TestingAValueSuccess) {
  ExpectPatched(R"({"baz":"qux","foo":["a",2,"c"]})",
                R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
                R"({"baz":"qux","foo":["a",2,"c"]})");
}

TEST(JsonPatch, RfcA9TestingAValueError) {
  ExpectFailure(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
}

TEST(JsonPatch, RfcA10AddingANestedMemberObject) {
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
                R"({"foo":"bar","child":{"grandchild":{}}})");
}

TEST(JsonPatch, RfcA11IgnoringUnrecognizedElements) {
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
                R"({"foo":"bar","baz":"qux"})");
}

TEST(JsonPatch, RfcA12AddingToANonexistentTarget) {
  ExpectFailure(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])");
}

TEST(JsonPatch, RfcA14EscapeOrdering) {
  ExpectPatched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])", R"({"/":9,"~1":10})");
  ExpectPatched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~1","value":9}])", R"({"/":9,"~1":10})");
}

TEST(JsonPatch, RfcA15ComparingStringsAndNumbers) {
  ExpectFailure(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])");
}

TEST(JsonPatch, RfcA16AddingAnArrayValue) {
  ExpectPatched(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
                R"({"foo":["bar",["abc","def"]]})");
}

// ---------------------------------------------------------------------------------------------------------
// Pointer tokens

TEST(JsonPatch, EscapeAndUnescapeTokens) {
  EXPECT_EQ(jp::escape_token("plain"), "plain");
  EXPECT_EQ(jp::escape_token("a/b"), "a~1b");
  EXPECT_EQ(jp::escape_token("m~n"), "m~0n");
  EXPECT_EQ(jp::escape_token("~1"), "~01");
  EXPECT_EQ(jp::escape_token("/~/"), "~1~0~1");
  EXPECT_EQ(jp::escape_token(""), "");
  std::string out;
  ASSERT_TRUE(jp::unescape_token("~01", &out));
  EXPECT_EQ(out, "~1");
  ASSERT_TRUE(jp::unescape_token("~1~0~1x", &out));
  EXPECT_EQ(out, "/~/x");
  EXPECT_FALSE(jp::unescape_token("~", &out));
  EXPECT_FALSE(jp::unescape_token("a~2", &out));
  for (std::string_view token : {"", "a", "~", "/", "~0~1", "x/y~z//~~"}) {
    ASSERT_TRUE(jp::unescape_token(jp::escape_token(token), &out));
    EXPECT_EQ(out, token);
  }
}

// ---------------------------------------------------------------------------------------------------------
// diff

// Expects diff(from, to) to equal `expected_text` and to turn `from` into `to`.
void ExpectDiff(std::string_view from_text, std::string_view to_text, std::string_view expected_text) {
  const json::value from = J(from_text);
  const json::value to = J(to_text);
  const json::array patch = jp::diff(from, to);
  EXPECT_EQ(json::value(patch), J(expected_text)) << "got " << json::serialize(patch);
  json::value patched = from;
  std::string error;
  EXPECT_TRUE(jp::apply(patched, patch, &error)) << error;
  EXPECT_EQ(patched, to);
}

TEST(JsonPatch, DiffOfEqualValuesIsEmpty) {
  ExpectDiff(R"({"a":[1,{"b":null}],"c":"s"})", R"({"c":"s","a":[1,{"b":null}]})", "[]");
  ExpectDiff("null", "null", "[]");
  ExpectDiff("[]", "[]", "[]");
  ExpectDiff("5", "5", "[]");
}

TEST(JsonPatch, DiffOfRootsReplacesWholeDocument) {
  ExpectDiff("1", "2", R"([{"op":"replace","path":"/","value":2}])");
  ExpectDiff("null", R"({"a":1})", R"([{"op":"replace","path":"/","value":{"a":1}}])");
  ExpectDiff(R"({"a":1})", "[1]", R"([{"op":"replace","path":"/","value":[1]}])");
  ExpectDiff(R"("x")", "null", R"([{"op":"replace","path":"/","value":null}])");
  // A root member with the empty key cannot be addressed ("/" is the whole document).
  ExpectDiff(R"({"":1,"a":1})", R"({"":2,"a":1})", R"([{"op":"replace","path":"/","value":{"":2,"a":1}}])");
  ExpectDiff(R"({"a":1})", R"({"":2,"a":1})", R"([{"op":"replace","path":"/","value":{"":2,"a":1}}])");
  ExpectDiff(R"({"":[1],"a":1})", R"({"":[1],"a":2})", R"([{"op":"replace","path":"/a","value":2}])");
}

TEST(JsonPatch, DiffOfObjects) {
  ExpectDiff(R"({"a":1,"b":2,"c":{"d":3}})", R"({"a":1,"c":{"d":4,"e":5},"f":6})",
             R"([{"op":"remove","path":"/b"},{"op":"replace","path":"/c/d","value":4},
                 {"op":"add","path":"/c/e","value":5},{"op":"add","path":"/f","value":6}])");
  ExpectDiff(R"({"a":{"x":1}})", R"({"a":[1]})", R"([{"op":"replace","path":"/a","value":[1]}])");
  ExpectDiff(R"({"a/b":{"m~n":1},"x":{"":1}})", R"({"a/b":{"m~n":2},"x":{"":2}})",
             R"([{"op":"replace","path":"/a~1b/m~0n","value":2},{"op":"replace","path":"/x/","value":2}])");
}

TEST(JsonPatch, DiffOfArrays) {
  ExpectDiff("[1,2,3]", "[1,5,3,4,6]",
             R"([{"op":"replace","path":"/1","value":5},{"op":"add","path":"/3","value":4},
                 {"op":"add","path":"/4","value":6}])");
  ExpectDiff("[1,2,3,4]", "[1,2]", R"([{"op":"remove","path":"/3"},{"op":"remove","path":"/2"}])");
  ExpectDiff(R"({"m":[[1,2],[3]]})", R"({"m":[[1,9],[3,4]]})",
             R"([{"op":"replace","path":"/m/0/1","value":9},{"op":"add","path":"/m/1/1","value":4}])");
}

TEST(JsonPatch, DiffReportsNumberKindChanges) {
  ExpectDiff("[1]", "[1.0]", R"([{"op":"replace","path":"/0","value":1.0}])");
  ExpectDiff("[1]", "[1]", "[]");
}

// Random documents for the round-trip test.
class RandomJson {
 public:
  explicit RandomJson(std::uint32_t seed) : rng_(seed) {}

  json::value Value(int depth) {
    const int kinds = depth > 0 ? 8 : 6;
    switch (Pick(kinds)) {
      case 0:
        return nullptr;
      case 1:
        return Pick(2) == 0;
      case 2:
        return static_cast<std::int64_t>(Pick(2001)) - 1000;
      case 3:
        return Pick(2) == 0 ? json::value(static_cast<double>(Pick(1000)) / 8.0)
                            : json::value(std::uint64_t{18446744073709551615u} - Pick(3));
      case 4:
      case 5:
        return json::value(Key() + std::to_string(Pick(5)));
      case 6: {
        json::array a;
        const int n = Pick(6);
        for (int i = 0; i < n; ++i) a.push_back(Value(depth - 1));
        return a;
      }
      default: {
        json::object o;
        const int n = Pick(6);
        for (int i = 0; i < n; ++i) o[Key()] = Value(depth - 1);
        return o;
      }
    }
  }

  // Returns a variant of `v` with a few random edits at random depths.
  json::value Mutate(const json::value& v, int depth) {
    if (Pick(8) == 0) return Value(depth);  // replace this subtree
    if (const json::object* o = v.if_object()) {
      json::object out;
      for (const auto& member : *o) {
        const int action = Pick(10);
        if (action == 0) continue;  // drop the member
        out[member.key()] = action <= 3 ? Mutate(member.value(), depth - 1) : member.value();
      }
      if (Pick(3) == 0) out[Key()] = Value(depth - 1);
      return out;
    }
    if (const json::array* a = v.if_array()) {
      json::array out;
      for (const auto& element : *a) out.push_back(Pick(3) == 0 ? Mutate(element, depth - 1) : element);
      const int resize = Pick(4);
      if (resize == 0 && !out.empty())
        out.resize(static_cast<std::size_t>(Pick(static_cast<int>(out.size()))));
      if (resize == 1) {
        for (int i = Pick(3); i >= 0; --i) out.push_back(Value(depth - 1));
      }
      return out;
    }
    return Pick(2) == 0 ? v : Value(depth);
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Key() {
    static constexpr const char* kKeys[] = {"a", "b", "qText", "qNum", "", "x/y", "m~n", "~1", "0", "-"};
    return kKeys[Pick(static_cast<int>(std::size(kKeys)))];
  }

  std::mt19937 rng_;
};

TEST(JsonPatch, DiffRoundTripsOnRandomDocuments) {
  RandomJson random(20240607u);
  int nonempty = 0;
  for (int i = 0; i < 400; ++i) {
    const json::value from = random.Value(4);
    const json::value to = (i % 10 == 0) ? random.Value(4) : random.Mutate(from, 4);
    const json::array patch = jp::diff(from, to);
    if (!patch.empty()) ++nonempty;
    // Through text, as the patch would travel.
    const json::value wire = J(json::serialize(patch));
    json::value patched = from;
    std::string error;
    ASSERT_TRUE(jp::apply(patched, wire, &error))
        << "case " << i << ": " << error << "\nfrom " << json::serialize(from) << "\npatch "
        << json::serialize(patch);
    ASSERT_EQ(patched, to) << "case " << i << "\nfrom " << json::serialize(from) << "\nto "
                           << json::serialize(to) << "\npatch " << json::serialize(patch);
    EXPECT_TRUE(jp::diff(to, patched).empty()) << "case " << i;
  }
  EXPECT_GT(nonempty, 200);
}

// A hypercube layout with one data page of `rows` x `cols` cells.
json::value HypercubeLayout(int rows, int cols) {
  json::array matrix;
  matrix.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    json::array row;
    row.reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      const double num = r * 10.5 + c;
      row.push_back(json::object{{"qText", "Value " + std::to_string(r) + "/" + std::to_string(c)},
                                 {"qNum", num},
                                 {"qElemNumber", r},
                                 {"qState", "O"}});
    }
    matrix.push_back(std::move(row));
  }
  json::object page{{"qArea", json::object{{"qLeft", 0}, {"qTop", 0}, {"qWidth", cols}, {"qHeight", rows}}},
                    {"qMatrix", std::move(matrix)},
                    {"qTails", json::array{}}};
  json::object cube{{"qSize", json::object{{"qcx", cols}, {"qcy", rows}}},
                    {"qDimensionInfo", json::array{}},
                    {"qMeasureInfo", json::array{}},
                    {"qDataPages", json::array{std::move(page)}}};
  return json::object{{"qInfo", json::object{{"qId", "abc"}, {"qType", "table"}}},
                      {"qHyperCube", std::move(cube)}};
}

TEST(JsonPatch, OneCellChangeInHypercubePageGivesASmallPatch) {
  const json::value from = HypercubeLayout(1000, 10);
  json::value to = from;
  json::object& cell = to.at("qHyperCube").at("qDataPages").at(0).at("qMatrix").at(517).at(6).as_object();
  cell["qText"] = "Changed";
  cell["qNum"] = 42.0;
  const json::array patch = jp::diff(from, to);
  const std::string text = json::serialize(patch);
  EXPECT_LT(text.size(), 1024u) << text;
  EXPECT_EQ(patch.size(), 2u) << text;
  json::value patched = from;
  ASSERT_TRUE(jp::apply(patched, patch));
  EXPECT_EQ(patched, to);
}

}  // namespace
