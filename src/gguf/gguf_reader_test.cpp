// The reader on real files that llama.cpp made (../shared/testdata, see its PROVENANCE.md).
#include "gguf/gguf_reader.h"

#include <gtest/gtest.h>

#include "testing/testdata.h"

namespace corral::gguf {
namespace {

TEST(GgufReaderTest, Stories260K) {
  REQUIRE_SHARED_TESTDATA(path, "models/stories260K.gguf");
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;
  // PROVENANCE.md: GGUF v3, arch llama, 19 metadata keys, 48 tensors all F32, n_embd 64,
  // 5 blocks, 8 heads / 4 KV heads, feed-forward 172, SPM vocab of 512.
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.tensors().size(), 48u);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUint("llama.embedding_length"), 64u);
  EXPECT_EQ(*f.GetUint("llama.block_count"), 5u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(*f.GetUint("llama.feed_forward_length"), 172u);
  EXPECT_EQ(*f.GetString("tokenizer.ggml.model"), "llama");
  auto tokens = f.GetArray("tokenizer.ggml.tokens", ValueType::kString);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(tokens->array_size(), 512u);
  EXPECT_EQ(*tokens->Element(1).AsString(), "<s>");
  for (const TensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.type, GgmlType::kF32) << t.name;
    EXPECT_EQ(t.offset % f.alignment(), 0u) << t.name;
  }
  const TensorInfo* embd = f.FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->ShapeString(), "[64, 512]");
  EXPECT_EQ(embd->n_bytes, 64u * 512 * 4);
  const TensorInfo* ffn = f.FindTensor("blk.4.ffn_down.weight");
  ASSERT_NE(ffn, nullptr);
  EXPECT_EQ(ffn->ShapeString(), "[172, 64]");
  // The last tensor ends inside the file, and tensor data is not copied: pointers are into it.
  EXPECT_LE(f.data_offset() + f.tensors().back().offset + f.tensors().back().n_bytes,
            f.file_size());
  EXPECT_EQ(f.GetUint("no.such.key").status().message(), "metadata key 'no.such.key' is missing");
  EXPECT_EQ(f.GetUint("general.architecture").status().message(),
            "metadata key 'general.architecture' should be a non-negative integer, found string "
            "\"llama\"");
}

TEST(GgufReaderTest, LlamaTinyRandomHasF16Tensors) {
  REQUIRE_SHARED_TESTDATA(path, "models/llama-2-tiny-random.gguf");
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;
  // PROVENANCE.md: 18 metadata keys, 12 tensors (9 F16, 3 F32), vocab of 32000.
  EXPECT_EQ(f.metadata().size(), 18u);
  ASSERT_EQ(f.tensors().size(), 12u);
  int f16 = 0, f32 = 0;
  for (const TensorInfo& t : f.tensors()) {
    f16 += t.type == GgmlType::kF16;
    f32 += t.type == GgmlType::kF32;
  }
  EXPECT_EQ(f16, 9);
  EXPECT_EQ(f32, 3);
  EXPECT_EQ(f.GetArray("tokenizer.ggml.tokens", ValueType::kString)->array_size(), 32000u);
}

TEST(GgufReaderTest, VocabOnlyFilesHaveNoTensors) {
  REQUIRE_SHARED_TESTDATA(path, "vocab/ggml-vocab-gpt-2.gguf");
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE((*file)->tensors().empty());
  EXPECT_EQ(*(*file)->GetString("tokenizer.ggml.model"), "gpt2");
  auto merges = (*file)->GetArray("tokenizer.ggml.merges", ValueType::kString);
  ASSERT_TRUE(merges.ok());
  EXPECT_GT(merges->array_size(), 40000u);
}

TEST(GgufReaderTest, MissingFileIsNotFound) {
  auto file = GgufFile::Open("/nonexistent/model.gguf");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(), "open /nonexistent/model.gguf: no such file");
}

}  // namespace
}  // namespace corral::gguf
