#include "cli/repl_line_editor.h"

#include <histedit.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"

#ifdef __SANITIZE_ADDRESS__
// libedit keeps a few wcsdup'ed strings (136 bytes) past el_end/history_end; the leak is
// libedit's, and we never call wcsdup ourselves.
extern "C" const char* __lsan_default_suppressions() { return "leak:wcsdup\n"; }
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#endif

namespace corral::cli {
namespace {

char* PromptOf(EditLine* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  // libedit wants a char*; it only reads the prompt.
  return const_cast<char*>(static_cast<LineEditor*>(data)->prompt());
}

// Ctrl+C, bound in place of the tty's interrupt: notes whether the line was empty and ends the
// read (the line itself is dropped).
unsigned char OnInterrupt(EditLine* el, int) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  const LineInfo* line = el_line(el);
  static_cast<LineEditor*>(data)->NoteInterrupt(line->lastchar == line->buffer);
  return CC_NEWLINE;
}

}  // namespace

struct LineEditor::Impl {
  EditLine* el = nullptr;
  History* history = nullptr;
  std::string old_locale;
  ~Impl() {
    if (el != nullptr) el_end(el);
    if (history != nullptr) history_end(history);
    // libedit decodes typed UTF-8 through the C locale; put back what the program had.
    if (!old_locale.empty()) std::setlocale(LC_CTYPE, old_locale.c_str());
  }
};

std::vector<std::string> ParseHistory(const std::string& text) {
  std::vector<std::string> entries;
  for (const std::string& line : Split(text, '\n')) {
    std::string_view trimmed = TrimSpace(line);
    if (!trimmed.empty()) entries.emplace_back(trimmed);
  }
  if (entries.size() > kHistoryLimit) {
    entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(kHistoryLimit));
  }
  return entries;
}

std::string FormatHistory(const std::vector<std::string>& entries) {
  std::string text;
  for (const std::string& e : entries) text += e + "\n";
  return text;
}

std::string DefaultHistoryPath() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  std::filesystem::path dir = std::filesystem::path(home) / ".ollama";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  return (dir / "history").string();
}

Result<std::unique_ptr<LineEditor>> LineEditor::Open(const std::string& history_path,
                                                     bool history_enabled) {
  std::unique_ptr<LineEditor> editor(new LineEditor());
  editor->impl_ = std::make_unique<Impl>();
  editor->history_path_ = history_path;
  editor->history_enabled_ = history_enabled;
  Impl& impl = *editor->impl_;
  if (const char* old = std::setlocale(LC_CTYPE, nullptr)) impl.old_locale = old;
  std::setlocale(LC_CTYPE, "");

  impl.el = el_init("corral", stdin, stdout, stderr);
  impl.history = history_init();
  if (impl.el == nullptr || impl.history == nullptr) {
    return InternalError("cannot start line editing on this terminal");
  }
  HistEvent event;
  history(impl.history, &event, H_SETSIZE, static_cast<int>(kHistoryLimit));
  history(impl.history, &event, H_SETUNIQUE, 0);
  if (!history_path.empty()) {
    std::ifstream in(history_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    editor->entries_ = ParseHistory(text.str());
    for (const std::string& e : editor->entries_) history(impl.history, &event, H_ENTER, e.c_str());
  }

  el_set(impl.el, EL_CLIENTDATA, editor.get());
  el_set(impl.el, EL_EDITOR, "emacs");
  el_set(impl.el, EL_SIGNAL, 1);  // restores the terminal around SIGTSTP/SIGWINCH
  el_set(impl.el, EL_PROMPT, &PromptOf);
  el_set(impl.el, EL_HIST, history, impl.history);
  // Ctrl+C reaches OnInterrupt as a key, not as SIGINT, while a line is being edited.
  el_set(impl.el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(impl.el, EL_ADDFN, "corral-interrupt", "Abandon the line", &OnInterrupt);
  el_set(impl.el, EL_BIND, "^C", "corral-interrupt", nullptr);
  // Ollama's Alt+b / Alt+f and Ctrl+w.
  el_set(impl.el, EL_BIND, "\033b", "ed-prev-word", nullptr);
  el_set(impl.el, EL_BIND, "\033f", "em-next-word", nullptr);
  el_set(impl.el, EL_BIND, "^W", "ed-delete-prev-word", nullptr);
  el_set(impl.el, EL_BIND, "^L", "ed-clear-screen", nullptr);
  return editor;
}

LineEditor::~LineEditor() = default;

LineInput LineEditor::Read(const std::string& prompt) {
  prompt_ = prompt;
  interrupted_ = false;
  int count = 0;
  const char* line = el_gets(impl_->el, &count);
  if (interrupted_) {
    return LineInput{LineInput::Kind::kInterrupt, "", interrupted_empty_};
  }
  if (line == nullptr || count <= 0) return LineInput{LineInput::Kind::kEof, "", false};
  std::string text(line, static_cast<size_t>(count));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return LineInput{LineInput::Kind::kLine, std::move(text), false};
}

void LineEditor::AddHistory(const std::string& line) {
  std::string_view trimmed = TrimSpace(line);
  if (trimmed.empty()) return;
  HistEvent event;
  history(impl_->history, &event, H_ENTER, std::string(trimmed).c_str());
  entries_.emplace_back(trimmed);
  if (entries_.size() > kHistoryLimit) entries_.erase(entries_.begin());
  if (history_enabled_) SaveHistory();
}

void LineEditor::SaveHistory() {
  if (history_path_.empty()) return;
  // Written aside and renamed, so a crash never leaves half a file (as Ollama does).
  const std::string tmp = history_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out << FormatHistory(entries_);
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::permissions(
      tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(tmp, history_path_, ec);
}

}  // namespace corral::cli
