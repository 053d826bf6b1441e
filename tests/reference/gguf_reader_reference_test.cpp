// Our GGUF reader against node-llama-cpp's own GGUF parser on every real file in the shared
// test data: the same keys with the same values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "gguf/gguf_reader.h"
#include "testing/reference.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

// node-llama-cpp nests keys by their dots ({"llama": {"block_count": 5}}); flatten it back.
void Flatten(const nlohmann::json& node, const std::string& prefix,
             std::map<std::string, nlohmann::json>* out) {
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) Flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    (*out)[prefix] = node;
  }
}

// True when our value equals the JSON one (floats within f32 precision).
bool SameValue(const gguf::Value& ours, const nlohmann::json& theirs, std::string* why) {
  using gguf::ValueType;
  switch (ours.type()) {
    case ValueType::kString:
      return theirs.is_string() && theirs.get<std::string>() == *ours.AsString();
    case ValueType::kBool:
      return theirs.is_boolean() && theirs.get<bool>() == *ours.AsBool();
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      if (!theirs.is_number()) return false;
      double a = *ours.AsFloat(), b = theirs.get<double>();
      return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(a));
    }
    case ValueType::kArray: {
      if (!theirs.is_array() || theirs.size() != ours.array_size()) {
        *why = "array length " + std::to_string(ours.array_size()) + " vs " +
               std::to_string(theirs.is_array() ? theirs.size() : 0);
        return false;
      }
      for (uint64_t i = 0; i < ours.array_size(); ++i) {
        if (!SameValue(ours.Element(i), theirs[i], why)) {
          *why = "element " + std::to_string(i) + " differs " + *why;
          return false;
        }
      }
      return true;
    }
    case ValueType::kUint64:
      return theirs.is_number_integer() && theirs.get<uint64_t>() == *ours.AsUint();
    default:
      return theirs.is_number_integer() && theirs.get<int64_t>() == *ours.AsInt();
  }
}

TEST(GgufReaderReferenceTest, MetadataMatchesLlamaCppOnEveryRealFile) {
  std::optional<std::string> dir = SharedTestdataDir();
  if (!dir) GTEST_SKIP() << "shared test data is absent";
  std::vector<std::string> files;
  for (const char* sub : {"models", "vocab"}) {
    for (const auto& entry : std::filesystem::directory_iterator(*dir + "/" + sub)) {
      if (entry.path().extension() == ".gguf") files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u);
  std::vector<nlohmann::json> requests;
  for (const std::string& f : files) requests.push_back({{"op", "info"}, {"model", f}});
  auto infos = reference::CallMany(requests);
  ASSERT_TRUE(infos.ok()) << infos.status().ToString();

  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    auto ours = gguf::GgufFile::Open(files[i]);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    std::map<std::string, nlohmann::json> theirs;
    Flatten((*infos)[i]["metadata"], "", &theirs);
    EXPECT_EQ(theirs.size(), (*ours)->metadata().size());
    for (const gguf::KeyValue& kv : (*ours)->metadata()) {
      auto it = theirs.find(std::string(kv.key));
      ASSERT_NE(it, theirs.end()) << "llama.cpp does not see key " << kv.key;
      std::string why;
      EXPECT_TRUE(SameValue(kv.value, it->second, &why)) << kv.key << ": " << why;
    }
  }
}

}  // namespace
}  // namespace corral::testing
