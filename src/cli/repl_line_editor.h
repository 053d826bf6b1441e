// Line editing for the interactive session on a terminal, through libedit (BSD licensed):
// emacs keys, history browsing with the arrow keys, Ctrl+C that abandons the line, Ctrl+D that
// ends the session on an empty line. History is kept as Ollama keeps it: ~/.ollama/history,
// one plain line per entry, the last 100, rewritten after each line while history is enabled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace corral::cli {

struct LineInput {
  enum class Kind { kLine, kEof, kInterrupt };
  Kind kind = Kind::kLine;
  std::string text;                // kLine: the line without its line break
  bool interrupted_empty = false;  // kInterrupt: the line was empty when Ctrl+C came
};

// The history file's entries and how they are written (pure, for the tests).
inline constexpr size_t kHistoryLimit = 100;
std::vector<std::string> ParseHistory(const std::string& text);
std::string FormatHistory(const std::vector<std::string>& entries);

class LineEditor {
 public:
  // `history_path` "" keeps history in memory only.
  static Result<std::unique_ptr<LineEditor>> Open(const std::string& history_path,
                                                  bool history_enabled);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  LineInput Read(const std::string& prompt);
  // Adds a line to the in-memory history, and to the file while history is enabled.
  void AddHistory(const std::string& line);
  void SetHistoryEnabled(bool enabled) { history_enabled_ = enabled; }

  // Used by libedit's callbacks.
  const char* prompt() const { return prompt_.c_str(); }
  void NoteInterrupt(bool empty) {
    interrupted_ = true;
    interrupted_empty_ = empty;
  }

 private:
  LineEditor() = default;
  void SaveHistory();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string prompt_;
  std::string history_path_;
  bool history_enabled_ = true;
  std::vector<std::string> entries_;
  bool interrupted_ = false;
  bool interrupted_empty_ = false;
};

// $HOME/.ollama/history ("" when HOME is unset), creating the folder.
std::string DefaultHistoryPath();

}  // namespace corral::cli
