#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "gguf/gguf_reader.h"

namespace corral::gguf {
namespace {

std::vector<uint8_t> Iota(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
  return v;
}

TEST(GgufWriterTest, RoundTripsEveryValueTypeAndTensorLayout) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("general.architecture", MetaValue::String("llama")).ok());
  ASSERT_TRUE(w.Set("u8", MetaValue::U8(200)).ok());
  ASSERT_TRUE(w.Set("i8", MetaValue::I8(-100)).ok());
  ASSERT_TRUE(w.Set("u16", MetaValue::U16(60000)).ok());
  ASSERT_TRUE(w.Set("i16", MetaValue::I16(-30000)).ok());
  ASSERT_TRUE(w.Set("u32", MetaValue::U32(4000000000u)).ok());
  ASSERT_TRUE(w.Set("i32", MetaValue::I32(-2000000000)).ok());
  ASSERT_TRUE(w.Set("u64", MetaValue::U64(18000000000000000000ull)).ok());
  ASSERT_TRUE(w.Set("i64", MetaValue::I64(-9000000000000000000ll)).ok());
  ASSERT_TRUE(w.Set("f32", MetaValue::F32(0.125f)).ok());
  ASSERT_TRUE(w.Set("f64", MetaValue::F64(-1e300)).ok());
  ASSERT_TRUE(w.Set("bool", MetaValue::Bool(true)).ok());
  ASSERT_TRUE(w.Set("tokens", MetaValue::StringArray({"<s>", "", "héllo"})).ok());
  ASSERT_TRUE(w.Set("scores", MetaValue::F32Array({-1.5f, 0.f, 2.25f})).ok());
  ASSERT_TRUE(w.Set("nested", MetaValue::Array(ValueType::kArray, {MetaValue::I32Array({1, 2}),
                                                                   MetaValue::I32Array({})}))
                  .ok());
  ASSERT_TRUE(w.Set("u8", MetaValue::U8(7)).ok());  // replaces, keeps its place

  std::vector<uint8_t> f32_data = Iota(4 * 8 * 3), q8_data = Iota(34 * 2 * 2),
                       f16_data = Iota(2 * 5);
  ASSERT_TRUE(w.AddTensor("a.f32", GgmlType::kF32, {8, 3}, f32_data).ok());
  ASSERT_TRUE(w.AddTensor("b.q8_0", GgmlType::kQ8_0, {64, 2}, q8_data).ok());
  ASSERT_TRUE(w.AddTensor("c.f16", GgmlType::kF16, {5}, f16_data).ok());

  auto bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto file = GgufFile::Parse(*bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;

  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  ASSERT_EQ(f.metadata().size(), 15u);
  EXPECT_EQ(f.metadata()[1].key, "u8");
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUint("u8"), 7u);
  EXPECT_EQ(*f.GetInt("i8"), -100);
  EXPECT_EQ(*f.GetUint("u16"), 60000u);
  EXPECT_EQ(*f.GetInt("i16"), -30000);
  EXPECT_EQ(*f.GetUint("u32"), 4000000000u);
  EXPECT_EQ(*f.GetInt("i32"), -2000000000);
  EXPECT_EQ(*f.GetUint("u64"), 18000000000000000000ull);
  EXPECT_FALSE(f.GetInt("u64").ok()) << "does not fit an int64";
  EXPECT_EQ(*f.GetInt("i64"), -9000000000000000000ll);
  EXPECT_EQ(*f.GetFloat("f32"), 0.125);
  EXPECT_EQ(*f.GetFloat("f64"), -1e300);
  EXPECT_EQ(*f.GetBool("bool"), true);

  auto tokens = f.GetArray("tokens", ValueType::kString);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->array_size(), 3u);
  EXPECT_EQ(*tokens->Element(2).AsString(), "héllo");
  EXPECT_EQ(*tokens->Element(1).AsString(), "");
  auto scores = f.GetArray("scores", ValueType::kFloat32);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(*scores->Element(2).AsFloat(), 2.25);
  const Value* nested = f.Find("nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->array_size(), 2u);
  EXPECT_EQ(*nested->Element(0).Element(1).AsInt(), 2);
  EXPECT_EQ(nested->Element(1).array_size(), 0u);

  ASSERT_EQ(f.tensors().size(), 3u);
  const TensorInfo* a = f.FindTensor("a.f32");
  const TensorInfo* b = f.FindTensor("b.q8_0");
  const TensorInfo* c = f.FindTensor("c.f16");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->ShapeString(), "[8, 3]");
  EXPECT_EQ(a->n_elements, 24u);
  EXPECT_EQ(a->n_bytes, 96u);
  EXPECT_EQ(b->type, GgmlType::kQ8_0);
  EXPECT_EQ(b->n_bytes, 136u);
  EXPECT_EQ(b->row_bytes(), 68u);
  EXPECT_EQ(c->n_bytes, 10u);
  // Dense, aligned, in order: 96 -> 96, then 136 -> 160.
  EXPECT_EQ(a->offset, 0u);
  EXPECT_EQ(b->offset, 96u);
  EXPECT_EQ(c->offset, 256u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(std::vector<uint8_t>(a->data, a->data + a->n_bytes), f32_data);
  EXPECT_EQ(std::vector<uint8_t>(b->data, b->data + b->n_bytes), q8_data);
  EXPECT_EQ(std::vector<uint8_t>(c->data, c->data + c->n_bytes), f16_data);
}

TEST(GgufWriterTest, CustomAlignmentIsWrittenAndHonoured) {
  GgufWriter w(64);
  std::vector<uint8_t> data = Iota(4);
  ASSERT_TRUE(w.AddTensor("x", GgmlType::kF32, {1}, data).ok());
  ASSERT_TRUE(w.AddTensor("y", GgmlType::kF32, {1}, data).ok());
  auto bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(*bytes);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ(*(*f)->GetUint("general.alignment"), 64u);
  EXPECT_EQ((*f)->FindTensor("y")->offset, 64u);
  EXPECT_EQ((*f)->data_offset() % 64, 0u);
}

TEST(GgufWriterTest, RefusesWhatLlamaCppWouldReject) {
  GgufWriter w;
  std::vector<uint8_t> data(34);
  EXPECT_FALSE(w.Set("", MetaValue::U8(1)).ok());
  EXPECT_FALSE(w.Set("general.alignment", MetaValue::U32(64)).ok());
  EXPECT_EQ(w.AddTensor("q", GgmlType::kQ8_0, {16}, data).message(),
            "tensor 'q': rows of 16 elements are not a multiple of the q8_0 block size 32");
  EXPECT_FALSE(w.AddTensor(std::string(64, 'n'), GgmlType::kF32, {1}, data).ok());
  EXPECT_FALSE(w.AddTensor("five", GgmlType::kF32, {1, 1, 1, 1, 1}, data).ok());
  ASSERT_TRUE(w.AddTensor("t", GgmlType::kQ8_0, {32}, data).ok());
  EXPECT_EQ(w.AddTensor("t", GgmlType::kQ8_0, {32}, data).message(), "duplicate tensor 't'");
}

TEST(GgufWriterTest, WriteIsAtomic) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("corral-gguf-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "model.gguf").string();

  GgufWriter good;
  std::vector<uint8_t> data = Iota(8);
  ASSERT_TRUE(good.AddTensor("ok", GgmlType::kF32, {2}, data).ok());
  ASSERT_TRUE(good.Write(path).ok());
  auto opened = GgufFile::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->tensors().size(), 1u);
  uintmax_t good_size = std::filesystem::file_size(path);

  // A tensor whose data cannot be produced: the old file stays, no temporary is left behind.
  GgufWriter bad;
  ASSERT_TRUE(bad.AddTensor("broken", GgmlType::kF32, {2},
                            [](std::span<uint8_t>) { return IoError("source vanished"); })
                  .ok());
  Status s = bad.Write(path);
  EXPECT_EQ(s.message(), "tensor 'broken': source vanished");
  EXPECT_EQ(std::filesystem::file_size(path), good_size);
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
  std::filesystem::remove_all(dir);
}

TEST(GgufWriterTest, CopiesValuesReadFromAnotherFile) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("s", MetaValue::String("x")).ok());
  ASSERT_TRUE(w.Set("f", MetaValue::F32(1.5f)).ok());
  ASSERT_TRUE(w.Set("i", MetaValue::I16(-3)).ok());
  ASSERT_TRUE(
      w.Set("n", MetaValue::Array(ValueType::kArray, {MetaValue::StringArray({"a", "b"})})).ok());
  auto first = w.WriteToBuffer();
  ASSERT_TRUE(first.ok());
  auto f = GgufFile::Parse(*first);
  ASSERT_TRUE(f.ok());
  GgufWriter copy;
  for (const KeyValue& kv : (*f)->metadata())
    ASSERT_TRUE(copy.Set(kv.key, MetaValue::From(kv.value)).ok());
  auto second = copy.WriteToBuffer();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

}  // namespace
}  // namespace corral::gguf
