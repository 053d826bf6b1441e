// Command template_goldens renders chat conversations through Go's own text/template the way
// Ollama's server builds prompts (server/prompt.go chatPrompt, template/template.go Execute and
// collate), once with Ollama's template text and once with ours from src/template/library,
// checks that both give the same bytes, and writes the golden files the C++ tests compare with.
// See README.md for how to run it. It is a local tool, not part of the build.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// ---- The API types Ollama hands its templates (api/types.go), with the same String and
// MarshalJSON methods, since templates print them directly ({{ .Tools }}, {{ .Function }}).

type ImageData []byte

type Message struct {
	Role       string      `json:"role"`
	Content    string      `json:"content"`
	Thinking   string      `json:"thinking,omitempty"`
	Images     []ImageData `json:"images,omitempty"`
	ToolCalls  []ToolCall  `json:"tool_calls,omitempty"`
	ToolName   string      `json:"tool_name,omitempty"`
	ToolCallID string      `json:"tool_call_id,omitempty"`
}

type ToolCall struct {
	ID       string           `json:"id,omitempty"`
	Function ToolCallFunction `json:"function"`
}

type ToolCallFunction struct {
	Index     int                       `json:"index"`
	Name      string                    `json:"name"`
	Arguments ToolCallFunctionArguments `json:"arguments"`
}

// A map, as in Ollama before ordered arguments: keys marshal sorted.
type ToolCallFunctionArguments map[string]any

func (t *ToolCallFunctionArguments) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type Tools []Tool

func (t Tools) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type Tool struct {
	Type     string       `json:"type"`
	Items    any          `json:"items,omitempty"`
	Function ToolFunction `json:"function"`
}

func (t Tool) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type ToolFunction struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description,omitempty"`
	Parameters  ToolFunctionParameters `json:"parameters"`
}

func (t *ToolFunction) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type ToolFunctionParameters struct {
	Type       string                  `json:"type"`
	Defs       any                     `json:"$defs,omitempty"`
	Items      any                     `json:"items,omitempty"`
	Required   []string                `json:"required,omitempty"`
	Properties map[string]ToolProperty `json:"properties"`
}

func (t *ToolFunctionParameters) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type ToolProperty struct {
	AnyOf       []ToolProperty `json:"anyOf,omitempty"`
	Type        PropertyType   `json:"type,omitempty"`
	Items       any            `json:"items,omitempty"`
	Description string         `json:"description,omitempty"`
	Enum        []any          `json:"enum,omitempty"`
}

type PropertyType []string

func (pt PropertyType) MarshalJSON() ([]byte, error) {
	if len(pt) == 1 {
		return json.Marshal(pt[0])
	}
	return json.Marshal([]string(pt))
}

func (pt *PropertyType) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*pt = []string{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(data, &a); err != nil {
		return err
	}
	*pt = a
	return nil
}

func (pt PropertyType) String() string {
	if len(pt) == 0 {
		return ""
	}
	if len(pt) == 1 {
		return pt[0]
	}
	return fmt.Sprintf("%v", []string(pt))
}

// ThinkValue: true/false or a level ("high", "medium", "low").
type ThinkValue struct{ Value any }

func (t *ThinkValue) UnmarshalJSON(data []byte) error {
	var b bool
	if err := json.Unmarshal(data, &b); err == nil {
		t.Value = b
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	t.Value = s
	return nil
}

func (t *ThinkValue) Bool() bool {
	switch v := t.Value.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return false
}

func (t *ThinkValue) String() string {
	if s, ok := t.Value.(string); ok {
		return s
	}
	return ""
}

type ChatRequest struct {
	// Set for /api/generate shapes: the prompt is built as GenerateHandler does.
	Prompt   *string     `json:"prompt,omitempty"`
	System   string      `json:"system,omitempty"`
	Images   []ImageData `json:"images,omitempty"`
	Messages []Message   `json:"messages"`
	Tools    Tools       `json:"tools,omitempty"`
	Think    *ThinkValue `json:"think,omitempty"`
}

// ---- template/template.go, re-typed: Parse, Vars, Execute (messages vs legacy), collate.

var funcs = template.FuncMap{
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"currentDate":   func(args ...string) string { return time.Now().Format("2006-01-02") },
	"yesterdayDate": func(args ...string) string { return time.Now().AddDate(0, 0, -1).Format("2006-01-02") },
}

type Template struct{ *template.Template }

func Parse(s string) (*Template, error) {
	tmpl, err := template.New("").Option("missingkey=zero").Funcs(funcs).Parse(s)
	if err != nil {
		return nil, err
	}
	t := &Template{tmpl}
	if vars := t.Vars(); !contains(vars, "messages") && !contains(vars, "response") {
		tmpl.Tree.Root.Nodes = append(tmpl.Tree.Root.Nodes, &parse.ActionNode{
			NodeType: parse.NodeAction,
			Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Cmds: []*parse.CommandNode{{
				NodeType: parse.NodeCommand,
				Args:     []parse.Node{&parse.FieldNode{NodeType: parse.NodeField, Ident: []string{"Response"}}},
			}}},
		})
	}
	return t, nil
}

func (t *Template) Vars() []string {
	set := map[string]bool{}
	for _, tt := range t.Templates() {
		for _, n := range tt.Root.Nodes {
			for _, id := range identifiers(n) {
				set[strings.ToLower(id)] = true
			}
		}
	}
	var vars []string
	for k := range set {
		vars = append(vars, k)
	}
	sort.Strings(vars)
	return vars
}

func identifiers(n parse.Node) []string {
	switch n := n.(type) {
	case *parse.ListNode:
		var names []string
		for _, c := range n.Nodes {
			names = append(names, identifiers(c)...)
		}
		return names
	case *parse.TemplateNode:
		return identifiers(n.Pipe)
	case *parse.ActionNode:
		return identifiers(n.Pipe)
	case *parse.BranchNode:
		names := identifiers(n.Pipe)
		for _, l := range []*parse.ListNode{n.List, n.ElseList} {
			if l != nil {
				names = append(names, identifiers(l)...)
			}
		}
		return names
	case *parse.IfNode:
		return identifiers(&n.BranchNode)
	case *parse.RangeNode:
		return identifiers(&n.BranchNode)
	case *parse.WithNode:
		return identifiers(&n.BranchNode)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		var names []string
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				names = append(names, identifiers(a)...)
			}
		}
		return names
	case *parse.FieldNode:
		return n.Ident
	case *parse.VariableNode:
		return n.Ident
	}
	return nil
}

type Values struct {
	Messages   []Message
	Tools      Tools
	Think      bool
	ThinkLevel string
	IsThinkSet bool
}

func (t *Template) Execute(v Values) (string, error) {
	var b bytes.Buffer
	system, messages := collate(v.Messages)
	if contains(t.Vars(), "messages") {
		err := t.Template.Execute(&b, map[string]any{
			"System": system, "Messages": messages, "Tools": v.Tools, "Response": "",
			"Think": v.Think, "ThinkLevel": v.ThinkLevel, "IsThinkSet": v.IsThinkSet,
		})
		return b.String(), err
	}

	system = ""
	var prompt, response string
	for _, m := range messages {
		execute := func() error {
			if err := t.Template.Execute(&b, map[string]any{
				"System": system, "Prompt": prompt, "Response": response,
				"Think": v.Think, "ThinkLevel": v.ThinkLevel, "IsThinkSet": v.IsThinkSet,
			}); err != nil {
				return err
			}
			system, prompt, response = "", "", ""
			return nil
		}
		switch m.Role {
		case "system":
			if prompt != "" || response != "" {
				if err := execute(); err != nil {
					return "", err
				}
			}
			system = m.Content
		case "user":
			if response != "" {
				if err := execute(); err != nil {
					return "", err
				}
			}
			prompt = m.Content
		case "assistant":
			response = m.Content
		}
	}

	var cut bool
	nodes := deleteNode(t.Template.Root.Copy(), func(n parse.Node) bool {
		if field, ok := n.(*parse.FieldNode); ok && contains(field.Ident, "Response") {
			cut = true
			return false
		}
		return cut
	})
	tree := parse.Tree{Root: nodes.(*parse.ListNode)}
	if err := template.Must(template.New("").AddParseTree("", &tree)).Execute(&b, map[string]any{
		"System": system, "Prompt": prompt, "Response": response,
		"Think": v.Think, "ThinkLevel": v.ThinkLevel, "IsThinkSet": v.IsThinkSet,
	}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Consecutive messages of one role merge with "\n\n" (tool messages never); system texts join.
func collate(msgs []Message) (string, []*Message) {
	var system []string
	var collated []*Message
	for i := range msgs {
		if msgs[i].Role == "system" {
			system = append(system, msgs[i].Content)
		}
		if len(collated) > 0 && collated[len(collated)-1].Role == msgs[i].Role && msgs[i].Role != "tool" {
			collated[len(collated)-1].Content += "\n\n" + msgs[i].Content
		} else {
			collated = append(collated, &msgs[i])
		}
	}
	return strings.Join(system, "\n\n"), collated
}

func deleteNode(n parse.Node, fn func(parse.Node) bool) parse.Node {
	var walk func(n parse.Node) parse.Node
	walk = func(n parse.Node) parse.Node {
		if fn(n) {
			return nil
		}
		switch t := n.(type) {
		case *parse.ListNode:
			var nodes []parse.Node
			for _, c := range t.Nodes {
				if n := walk(c); n != nil {
					nodes = append(nodes, n)
				}
			}
			t.Nodes = nodes
			return t
		case *parse.IfNode:
			t.BranchNode = *(walk(&t.BranchNode).(*parse.BranchNode))
		case *parse.WithNode:
			t.BranchNode = *(walk(&t.BranchNode).(*parse.BranchNode))
		case *parse.RangeNode:
			t.BranchNode = *(walk(&t.BranchNode).(*parse.BranchNode))
		case *parse.BranchNode:
			t.List = walk(t.List).(*parse.ListNode)
			if t.ElseList != nil {
				t.ElseList = walk(t.ElseList).(*parse.ListNode)
			}
		case *parse.ActionNode:
			n := walk(t.Pipe)
			if n == nil {
				return nil
			}
			t.Pipe = n.(*parse.PipeNode)
		case *parse.PipeNode:
			var commands []*parse.CommandNode
			for _, c := range t.Cmds {
				var args []parse.Node
				for _, a := range c.Args {
					if n := walk(a); n != nil {
						args = append(args, n)
					}
				}
				if len(args) == 0 {
					return nil
				}
				c.Args = args
				commands = append(commands, c)
			}
			if len(commands) == 0 {
				return nil
			}
			t.Cmds = commands
		}
		return n
	}
	return walk(n)
}

// server/prompt.go chatPrompt without truncation and without a renderer: images become
// "[img-N]" tags (numbered across the conversation) replacing "[img]" or prefixed.
func chatPrompt(t *Template, req ChatRequest) (string, error) {
	msgs := append([]Message(nil), req.Messages...)
	images := 0
	for i := range msgs {
		var prefix string
		prompt := msgs[i].Content
		for range msgs[i].Images {
			tag := fmt.Sprintf("[img-%d]", images)
			images++
			if !strings.Contains(prompt, "[img]") {
				prefix += tag
			} else {
				prompt = strings.Replace(prompt, "[img]", tag, 1)
			}
		}
		msgs[i].Content = prefix + prompt
	}
	v := Values{Messages: msgs, Tools: req.Tools}
	if req.Think != nil {
		v.Think, v.ThinkLevel, v.IsThinkSet = req.Think.Bool(), req.Think.String(), true
	}
	return t.Execute(v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// server/routes.go GenerateHandler without raw, suffix, context or Modelfile defaults: the
// system message, one "[img-N]" user turn per image, then the prompt.
func generatePrompt(t *Template, req ChatRequest) (string, error) {
	var msgs []Message
	if req.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: req.System})
	}
	for i := range req.Images {
		msgs = append(msgs, Message{Role: "user", Content: fmt.Sprintf("[img-%d]", i)})
	}
	msgs = append(msgs, Message{Role: "user", Content: *req.Prompt})
	v := Values{Messages: msgs}
	if req.Think != nil {
		v.Think, v.ThinkLevel, v.IsThinkSet = req.Think.Bool(), req.Think.String(), true
	}
	return t.Execute(v)
}

func render(t *Template, req ChatRequest) (string, error) {
	if req.Prompt != nil {
		return generatePrompt(t, req)
	}
	return chatPrompt(t, req)
}

// ---- What is rendered.

// Each library template, the Ollama file it must match (empty: none in Ollama's repository;
// the golden then records our template's own Go rendering) and which shapes apply.
type entry struct {
	name   string
	ollama string // file name under -ollama, described in its sources.json
	tools  bool
	think  bool
}

var entries = []entry{
	{"alfred", "alfred", false, false},
	{"alpaca", "alpaca", false, false},
	{"chatml", "chatml", false, false},
	{"chatqa", "chatqa", false, false},
	{"codellama-70b-instruct", "codellama-70b-instruct", false, false},
	{"command-r", "command-r", true, false},
	{"deepseek-r1", "deepseek", true, true},
	{"falcon-instruct", "falcon-instruct", false, false},
	{"gemma-instruct", "gemma-instruct", false, false},
	{"gemma3-instruct", "gemma3-instruct", false, false},
	{"granite-instruct", "granite-instruct", false, false},
	{"llama2-chat", "llama2-chat", false, false},
	{"llama3-instruct", "llama3-instruct", false, false},
	{"llama3.2", "llama3.2", true, false},
	{"magicoder", "magicoder", false, false},
	{"mistral", "mistral-tools", true, false},
	{"mistral-instruct", "mistral-instruct", false, false},
	{"openchat", "openchat", false, false},
	{"phi-3", "phi-3", false, false},
	{"qwen2.5", "qwen3", true, false},
	{"qwen3", "qwen3-library", true, true},
	{"solar-instruct", "solar-instruct", false, false},
	{"starcoder2-instruct", "starcoder2-instruct", false, false},
	{"vicuna", "vicuna", false, false},
	{"zephyr", "zephyr", false, false},
}

const toolsJSON = `[{"type": "function", "function": {"name": "get_current_weather",
  "description": "Get the current weather & temperature",
  "parameters": {"type": "object", "required": ["location", "format"], "properties": {
    "format": {"type": "string", "description": "The unit to use", "enum": ["celsius", "fahrenheit"]},
    "location": {"type": "string", "description": "The city and country, e.g. Paris, France"}}}}}]`

const toolCall = `{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_current_weather",
  "arguments": {"format": "celsius", "location": "Paris, France"}}}]}`

// Conversation shapes: name -> request body (Ollama /api/chat fields, or /api/generate fields
// when it has "prompt"). kind: "" for every
// template, "tools" or "think" for templates that support them.
var shapes = []struct{ name, kind, request string }{
	{"user", "", `{"messages": [{"role": "user", "content": "Why is the sky blue?"}]}`},
	{"system-user", "", `{"messages": [{"role": "system", "content": "You are a concise assistant."},
	  {"role": "user", "content": "Why is the sky blue?"}]}`},
	{"multi-turn", "", `{"messages": [{"role": "user", "content": "Hi!"},
	  {"role": "assistant", "content": "Hello! How can I help?"},
	  {"role": "user", "content": "Tell me a joke."}]}`},
	{"system-multi-turn", "", `{"messages": [{"role": "system", "content": "You are a pirate."},
	  {"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Ahoy!"},
	  {"role": "user", "content": "Where is the treasure?"}]}`},
	{"merged-roles", "", `{"messages": [{"role": "system", "content": "Rule one."},
	  {"role": "system", "content": "Rule two."}, {"role": "user", "content": "First part."},
	  {"role": "user", "content": "Second part."}]}`},
	{"images", "", `{"messages": [{"role": "user", "content": "Compare [img] with the next one.", "images": ["aW1hZ2Ux"]},
	  {"role": "assistant", "content": "A cat."},
	  {"role": "user", "content": "And these?", "images": ["aW1hZ2Uy", "aW1hZ2Uz"]}]}`},
	{"assistant-last", "", `{"messages": [{"role": "user", "content": "Write a haiku."},
	  {"role": "assistant", "content": "Autumn moonlight"}]}`},
	{"generate", "", `{"system": "You are a poet.", "prompt": "Describe this picture.", "images": ["aW1hZ2Ux"]}`},
	{"tools", "tools", `{"tools": ` + toolsJSON + `, "messages": [{"role": "system", "content": "Use tools when needed."},
	  {"role": "user", "content": "What is the weather in Paris?"}]}`},
	{"tool-call-result", "tools", `{"tools": ` + toolsJSON + `, "messages": [
	  {"role": "user", "content": "What is the weather in Paris?"}, ` + toolCall + `,
	  {"role": "tool", "content": "22", "tool_name": "get_current_weather"}]}`},
	{"tool-result-continue", "tools", `{"tools": ` + toolsJSON + `, "messages": [
	  {"role": "system", "content": "Use tools when needed."},
	  {"role": "user", "content": "What is the weather in Paris?"}, ` + toolCall + `,
	  {"role": "tool", "content": "22", "tool_name": "get_current_weather"},
	  {"role": "assistant", "content": "It is 22 degrees Celsius in Paris."},
	  {"role": "user", "content": "And in Berlin?"}]}`},
	{"think-on", "think", `{"think": true, "messages": [{"role": "user", "content": "What is 2+2?"},
	  {"role": "assistant", "thinking": "Two plus two is four.", "content": "4"},
	  {"role": "user", "content": "And 3+3?"}]}`},
	{"think-off", "think", `{"think": false, "messages": [{"role": "user", "content": "What is 2+2?"}]}`},
	{"think-last-assistant", "think", `{"think": true, "messages": [{"role": "user", "content": "What is 2+2?"},
	  {"role": "assistant", "thinking": "Simple sum.", "content": "4"}]}`},
}

// Our library files end with one newline that is not part of the template (the C++ embedding
// drops it the same way).
func readLibrary(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".gotmpl"))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

type source struct {
	Commit string `json:"commit"`
	Path   string `json:"path"`
}

func main() {
	library := flag.String("library", "src/template/library", "our template files")
	ollamaDir := flag.String("ollama", "/tmp/ollama-ref", "Ollama's template texts and sources.json")
	out := flag.String("out", "src/template/testdata/goldens", "where the goldens go")
	flag.Parse()

	var sources map[string]source
	b, err := os.ReadFile(filepath.Join(*ollamaDir, "sources.json"))
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, &sources); err != nil {
		log.Fatal(err)
	}

	failures := 0
	for _, e := range entries {
		oursText, err := readLibrary(*library, e.name)
		if err != nil {
			log.Fatal(err)
		}
		ours, err := Parse(oursText)
		if err != nil {
			log.Fatalf("%s: %v", e.name, err)
		}
		var theirs *Template
		derivation := ""
		if e.ollama != "" {
			text, err := os.ReadFile(filepath.Join(*ollamaDir, e.ollama+".gotmpl"))
			if err != nil {
				log.Fatal(err)
			}
			// Ollama normalizes line endings when it loads its templates.
			if theirs, err = Parse(strings.ReplaceAll(string(text), "\r\n", "\n")); err != nil {
				log.Fatalf("%s (ollama): %v", e.name, err)
			}
			src := sources[e.ollama]
			derivation = fmt.Sprintf("Rendered by tools/template_goldens (Go %s text/template, Ollama's "+
				"chatPrompt/Execute/collate re-typed) from ollama/ollama %s at commit %s; our "+
				"src/template/library/%s.gotmpl renders the same bytes.", runtime.Version(), src.Path, src.Commit, e.name)
		} else {
			derivation = fmt.Sprintf("Rendered by tools/template_goldens (Go %s text/template, Ollama's "+
				"chatPrompt/Execute/collate re-typed) from our src/template/library/%s.gotmpl only: "+
				"Ollama's repository has no text for this library template to compare with.", runtime.Version(), e.name)
		}

		for _, s := range shapes {
			if (s.kind == "tools" && !e.tools) || (s.kind == "think" && !e.think) {
				continue
			}
			var req ChatRequest
			if err := json.Unmarshal([]byte(s.request), &req); err != nil {
				log.Fatalf("shape %s: %v", s.name, err)
			}
			got, err := render(ours, req)
			if err != nil {
				log.Fatalf("%s/%s: %v", e.name, s.name, err)
			}
			if theirs != nil {
				var req2 ChatRequest
				_ = json.Unmarshal([]byte(s.request), &req2)
				want, err := render(theirs, req2)
				if err != nil {
					log.Fatalf("%s/%s (ollama): %v", e.name, s.name, err)
				}
				if got != want {
					failures++
					fmt.Printf("MISMATCH %s/%s\n--- ollama\n%q\n--- ours\n%q\n", e.name, s.name, want, got)
					continue
				}
			}
			var request any
			_ = json.Unmarshal([]byte(s.request), &request)
			golden := map[string]any{
				"template":   e.name,
				"shape":      s.name,
				"derivation": derivation,
				"request":    request,
				"prompt":     got,
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(golden); err != nil {
				log.Fatal(err)
			}
			dir := filepath.Join(*out, e.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.name+".json"), buf.Bytes(), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
	if failures > 0 {
		log.Fatalf("%d renderings differ from Ollama's", failures)
	}
}
